"""The sink escapers: hostile text is refused or read back by HAProxy as exactly itself."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingress_ctl.haproxy.escaping import (
    Escaped,
    UnsafeValue,
    _plain_map_lines,
    bare_text,
    config_word,
    config_words,
    crt_list_line,
    log_format_literal,
    map_lines,
    map_word,
    sample_argument,
    socket_payload,
    socket_word,
)
from tests.conftest import free_port

PRINTABLE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1)
ANY_TEXT = st.text(min_size=1)
CONTROL = st.sampled_from(["\n", "\r", "\x00", "\t", "\x1b", "\x7f", "é", "\u2028"])
NEAR_BARE = st.text(alphabet="a1.:[]_-/@+ '$#\\\n\r\x00é")
"""Mostly bare words (empty too), some with a newline between bare parts: what a check of
words joined by newlines could mistake for several bare ones."""


@given(ANY_TEXT)
def test_config_word_is_one_line_or_refused(value: str) -> None:
    try:
        word = config_word(value)
    except UnsafeValue:
        assert any(not 0x20 <= ord(c) <= 0x7E for c in value)
        return
    assert "\n" not in word and "\r" not in word
    assert word == value or (word.startswith("'") and word.endswith("'"))


@given(PRINTABLE, CONTROL, PRINTABLE)
def test_control_characters_are_refused_by_every_sink(head: str, bad: str, tail: str) -> None:
    value = head + bad + tail
    for sink in (config_word, map_word, socket_word):
        with pytest.raises(UnsafeValue):
            sink(value)


@given(st.lists(st.one_of(NEAR_BARE, ANY_TEXT)))
@example(["a\nb"])
@example(["a", "b\nc"])
def test_config_words_are_config_word_of_each_value(values: list[str]) -> None:
    try:
        expected = [config_word(value) for value in values]
    except UnsafeValue:
        with pytest.raises(UnsafeValue):
            config_words(values)
        return
    assert list(config_words(values)) == expected


@given(st.one_of(NEAR_BARE, ANY_TEXT))
@example("")
def test_bare_text_is_text_config_word_prints_as_it_is(text: str) -> None:
    """So a word joined from bare texts (an address and `:port`) needs no quoting."""
    try:
        kept = config_word(text) == text
    except UnsafeValue:
        kept = False
    assert bare_text(text) == (kept or text == "")


def test_config_words_check_each_word_whole() -> None:
    assert config_words(["10.0.0.1:80", "[::1]:80"]) == ["10.0.0.1:80", "[::1]:80"]
    assert config_words(["a b", "c"]) == ["'a b'", "c"]
    assert config_words([""]) == ["''"]
    assert config_words([]) == []
    with pytest.raises(UnsafeValue):
        config_words(["a", "b\nc"])


def test_config_word_leaves_harmless_words_bare_and_quotes_the_rest() -> None:
    assert config_word("be_demo_web_80") == "be_demo_web_80"
    assert config_word(8080) == "8080"
    assert config_word("a b") == "'a b'"
    assert config_word("it's") == "'it'\\''s'"
    assert config_word("$HOME") == "'$HOME'"
    assert config_word("#x") == "'#x'"
    with pytest.raises(UnsafeValue):
        config_word(True)
    with pytest.raises(UnsafeValue):
        config_word(None)
    assert config_word(-3) == "-3"


class Text(str):
    """A str subclass that is not Escaped: no way around the escaper."""


def test_only_rendered_blocks_pass_config_word_as_they_are() -> None:
    block = "    balance roundrobin\n    timeout server 5s\n"
    assert config_word(Escaped(block)) == block
    for imitation in (block, Text(block)):
        with pytest.raises(UnsafeValue):
            config_word(imitation)


@pytest.mark.parametrize("value", ["a b", "x\ty", "", "#comment", "back\\slash", "é"])
def test_map_word_refuses_what_a_map_line_cannot_hold(value: str) -> None:
    with pytest.raises(UnsafeValue):
        map_word(value)


MAP_WORDS = st.one_of(
    st.lists(st.sampled_from(["a", "b.c", "#", " ", "\n", "\\", "é"]), max_size=5).map("".join),
    ANY_TEXT,
)
"""Words and fragments of words: a word holding a space or a newline between plain parts, as
a check of whole lines could mistake for two entries."""


@given(st.lists(st.tuples(MAP_WORDS, MAP_WORDS)))
@example([("a", "b\nc d")])
@example([("a b\nc", "d")])
def test_map_lines_are_map_word_of_each_word(entries: list[tuple[str, str]]) -> None:
    try:
        expected = "".join(f"{map_word(key)} {map_word(value)}\n" for key, value in entries)
    except UnsafeValue:
        with pytest.raises(UnsafeValue):
            map_lines(entries)
        return
    assert map_lines(entries) == expected


MAP_FRAGMENTS = st.lists(
    st.sampled_from(["a", "#", " ", "\n", "\\", "\t", "é", "\ud800"]), max_size=3
)


@given(st.lists(st.tuples(MAP_FRAGMENTS.map("".join), MAP_FRAGMENTS.map("".join)), max_size=4))
@example([("a", "b"), ("", "c")])
@example([("a", "b"), ("#c", "d")])
@example([("#a", "b")])
@example([("", "b")])
@example([("a", "")])
@example([("a", "#b")])
def test_map_lines_are_checked_at_once_as_map_word_keeps_each_word(
    entries: list[tuple[str, str]],
) -> None:
    """The check of a whole map's text accepts it when, and only when, `map_word` keeps each
    word as it is (an empty word, a space, a newline or a `#` anywhere in any line)."""
    text = "".join(f"{key} {value}\n" for key, value in entries)
    assert _plain_map_lines(text, len(entries)) == all(
        _kept(key) and _kept(value) for key, value in entries
    )


def _kept(word: str) -> bool:
    try:
        return map_word(word) == word
    except UnsafeValue:
        return False


def test_map_lines_check_each_word_whole() -> None:
    assert map_lines([("a.example/", "be_a"), ("b?", "be_b")]) == "a.example/ be_a\nb? be_b\n"
    assert map_lines([]) == ""
    for entries in ([("a b", "c")], [("a", "b\nc d")], [("a", "")], [("a", "#b")]):
        with pytest.raises(UnsafeValue):
            map_lines(entries)


def test_map_word_keeps_plain_words() -> None:
    assert map_word("shop.example.com/api/") == "shop.example.com/api/"
    assert map_word("*.example.com") == "*.example.com"
    assert map_word(42) == "42"


def test_socket_word_escapes_separators() -> None:
    assert socket_word("a;b") == "a\\;b"
    assert socket_word("a\\b") == "a\\\\b"
    with pytest.raises(UnsafeValue):
        socket_word("a b")


def _serve_words(haproxy_bin: str, directory: Path, words: list[str]) -> list[str]:
    """Start HAProxy answering word i at /i, fetch every word back."""
    answer = "http-request return status 200 content-type text/plain string"
    return _serve_configured(
        haproxy_bin, directory, [[f"{answer} {config_word(word)}"] for word in words]
    )


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise AssertionError(f"nothing listens on {port}")


@pytest.mark.haproxy
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(PRINTABLE, min_size=1, max_size=40))
def test_haproxy_reads_every_quoted_word_back_exactly(
    haproxy_bin: str, tmp_path: Path, words: list[str]
) -> None:
    hostile = ["'", "\\", '"', "$HOME", "${HOME}", "#", "a b", "%[src]", "';lua-load /x'", "\\'"]
    assert _serve_words(haproxy_bin, tmp_path, hostile + words) == hostile + words


def test_crt_list_lines_are_files_and_sni_filters() -> None:
    assert crt_list_line(("certs/ab12.pem", "!*")) == "certs/ab12.pem !*"
    assert crt_list_line(("certs/a.pem", "a.example.com", "*.b.example.com")) == (
        "certs/a.pem a.example.com *.b.example.com"
    )


@pytest.mark.parametrize(
    "words",
    [
        (),
        "certs/a.pem a.example.com",
        ("certs/a.pem", "[alpn h2]"),
        ("certs/a.pem", "[alpn"),
        ("#certs/a.pem",),
        ("certs/a.pem", "a b"),
        ("certs/a.pem", "a\nb"),
        ("certs/a.pem", ""),
        ("certs/a.pem", "a\\b"),
        ("certs/a.pem", "ä.example.com"),
        ("certs/a.pem", 1),
    ],
)
def test_crt_list_lines_refuse_anything_else(words: object) -> None:
    with pytest.raises(UnsafeValue):
        crt_list_line(words)


@given(st.lists(ANY_TEXT, min_size=1, max_size=4))
def test_a_crt_list_line_is_one_line_of_plain_words_or_refused(words: list[str]) -> None:
    try:
        line = crt_list_line(tuple(words))
    except UnsafeValue:
        return
    assert line.split(" ") == words
    assert all(word[:1] not in ("#", "[", "") and "\n" not in word for word in words)


def test_socket_payloads_are_lines_with_no_empty_one() -> None:
    assert socket_payload("a\nb\n") == "a\nb"
    for payload in ("", "a\n\nb", "a\r\nb", "a\x00", "\nb", "é"):
        with pytest.raises(UnsafeValue) as refused:
            socket_payload(payload)
        assert payload.strip() == "" or payload.strip() not in str(refused.value)


def _serve_configured(haproxy_bin: str, directory: Path, answers: list[list[str]]) -> list[str]:
    """Start HAProxy with the lines of answer i applying to /i, fetch every answer back."""
    port = free_port()
    lines = ["defaults", "    mode http", "    timeout connect 1s", "    timeout client 5s"]
    lines += ["    timeout server 5s", "frontend words", f"    bind 127.0.0.1:{port}"]
    for i, answer in enumerate(answers):
        lines.extend(f"    {line} if {{ path /{i} }}" for line in answer)
    config = directory / "answers.cfg"
    config.write_text("\n".join(lines) + "\n")
    check = subprocess.run([haproxy_bin, "-c", "-f", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    process = subprocess.Popen([haproxy_bin, "-db", "-f", str(config)], stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        return [
            urllib.request.urlopen(f"http://127.0.0.1:{port}/{i}", timeout=5).read().decode()
            for i in range(len(answers))
        ]
    finally:
        process.terminate()
        process.wait(timeout=5)


@pytest.mark.haproxy
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(PRINTABLE, min_size=1, max_size=30))
def test_haproxy_reads_sample_arguments_and_log_format_literals_back_exactly(
    haproxy_bin: str, tmp_path: Path, words: list[str]
) -> None:
    """`str(<argument>)` yields the argument, `lf-string <literal>` prints the literal: the
    argument parser and the log-format parser read the escaped text as exactly itself."""
    hostile = ["'", "\\", '"', "a,b", "a)b", "(", "$HOME", "#", "a b", "%[src]", '\\"', "-x"]
    values = hostile + words
    answers = [
        [
            f"http-request set-var(txn.w) {config_word('str(' + sample_argument(value) + ')')}",
            "http-request return status 200 content-type text/plain lf-string "
            + config_word(log_format_literal(value) + "|%[var(txn.w)]"),
        ]
        for value in values
    ]
    assert _serve_configured(haproxy_bin, tmp_path, answers) == [f"{v}|{v}" for v in values]


def test_sample_arguments_refuse_what_no_argument_can_hold() -> None:
    for value in ("", "a\nb", "\x00", "é"):
        with pytest.raises(UnsafeValue):
            sample_argument(value)
    assert log_format_literal("100%") == "100%%"


def test_map_lines_print_integer_words_as_map_word_does() -> None:
    """Lines are joined as strings; a word that is none takes the word-by-word form."""
    assert map_lines([("a", 5), ("b", "c")]) == "a 5\nb c\n"  # type: ignore[list-item]
    with pytest.raises(UnsafeValue):
        map_lines([("a", True)])  # type: ignore[list-item]
