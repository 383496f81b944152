"""Headless Chromium (Debian's `chromium`) as a person's browser: the DOM after scripts ran,
and screenshots. Installed by `make system`; `chromium_bin` installs it when missing."""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ROOT

ARTEFACTS = Path(os.environ.get("INGRESS_CTL_ARTEFACTS", ROOT / "test-artefacts"))
"""Where screenshots are saved (kept after the run, ignored by git)."""
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
NO_SCRIPT = "--blink-settings=scriptEnabled=false"
DEVTOOLS = ("--remote-debugging-port=0",)
"""A free port, written to DevToolsActivePort in the profile."""
TIMEOUT_S = 90
SIZE = {"width": 1400, "height": 1000}


@pytest.fixture(scope="session")
def chromium_bin() -> str:
    """Debian's chromium, installed with apt-get if missing (as `make system` does)."""
    found = shutil.which("chromium")
    if found is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("chromium")
    assert found is not None, "chromium is not installed (make system)"
    return found


def _run(binary: str, *args: str) -> str:
    """Run chromium with a fresh profile; its stdout."""
    with tempfile.TemporaryDirectory(prefix="chromium") as profile:
        result = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def dump_dom(binary: str, url: str, *, script: bool = True, wait_ms: int = 0) -> str:
    """The DOM of `url` after load (and `wait_ms` of virtual time, timers included).

    Without scripts, `--dump-dom` prints nothing (it serializes the DOM with a script), so
    the DOM is read over the DevTools protocol (DOM.getOuterHTML) instead."""
    if not script:
        return asyncio.run(_without_script(binary, url))
    flags = [f"--virtual-time-budget={wait_ms}"] if wait_ms else []
    return _run(binary, *flags, "--dump-dom", url)


async def _without_script(binary: str, url: str, shot: Path | None = None) -> str:
    """The DOM of `url` loaded with scripts off (and its screenshot saved as `shot`)."""
    with tempfile.TemporaryDirectory(prefix="chromium") as profile:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", NO_SCRIPT, *DEVTOOLS, "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            async with asyncio.timeout(TIMEOUT_S):
                port = await _devtools_port(Path(profile) / "DevToolsActivePort")
                return await _page_html(port, url, shot)
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # its renderers and zygotes too
            process.wait()


async def _devtools_port(file: Path) -> int:
    while not file.exists() or not file.read_text().strip():
        await asyncio.sleep(0.05)
    return int(file.read_text().split()[0])


async def _page_html(port: int, url: str, shot: Path | None) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = await answer.json()
        [page] = [target for target in targets if target["type"] == "page"]
        async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as socket:
            calls = itertools.count(1)

            async def call(method: str, **params: Any) -> dict[str, Any]:
                number = next(calls)
                await socket.send_json({"id": number, "method": method, "params": params})
                while True:
                    message = await socket.receive_json()
                    if message.get("id") == number:
                        assert "error" not in message, message
                        return dict(message["result"])

            await call("Page.enable")
            await call("Page.navigate", url=url)
            while (await socket.receive_json()).get("method") != "Page.loadEventFired":
                pass
            root = await call("DOM.getDocument", depth=-1)
            found = await call("DOM.getOuterHTML", nodeId=root["root"]["nodeId"])
            if shot is not None:
                await call(
                    "Emulation.setDeviceMetricsOverride", **SIZE, deviceScaleFactor=1, mobile=False
                )
                image = await call("Page.captureScreenshot", format="png")
                shot.write_bytes(base64.b64decode(image["data"]))
            return str(found["outerHTML"])


def screenshot(binary: str, url: str, name: str, *, script: bool = True) -> Path:
    """A 1400x1000 PNG of `url`, saved as ARTEFACTS/`name`.png."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTEFACTS / f"{name}.png"
    if script:
        _run(
            binary, f"--window-size={SIZE['width']},{SIZE['height']}", f"--screenshot={target}", url
        )
    else:  # as for dump_dom: `--screenshot` needs scripts
        asyncio.run(_without_script(binary, url, target))
    assert target.stat().st_size > 1000, f"empty screenshot {target}"
    return target


class Page(HTMLParser):
    """What a person sees in a DOM: its title, visible text and table rows (cell texts)."""

    def __init__(self, dom: str) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self.scripts: list[str] = []
        self.attributes: dict[str, str] = {}
        self._hidden: list[str] = []
        self._cell: list[str] | None = None
        self.feed(dom)
        self.close()

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())

    def row(self, *words: str) -> list[str]:
        """The first table row holding every word (in any of its cells)."""
        for row in self.rows:
            joined = " ".join(row)
            if all(word in joined for word in words):
                return row
        raise AssertionError(f"no row holds {words}: {self.rows}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.attributes = {name: value or "" for name, value in attrs}
        if tag in {"script", "style", "title", "noscript"}:
            self._hidden.append(tag)
            if tag == "script":
                self.scripts.append("")
        elif tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and tag == self._hidden[-1]:
            self._hidden.pop()
        elif tag in {"td", "th"} and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._hidden:
            if self._hidden[-1] == "title":
                self.title += data
            elif self._hidden[-1] == "script":
                self.scripts[-1] += data
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
