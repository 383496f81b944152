"""Path rewrite annotations: what path the pods see.

`rewrite-target` replaces the part of the path that the route's own path
matched: with Prefix `/api` and target `/`, `/api/x` reaches the pods as
`/x`; with target `/v2`, as `/v2/x`. With an Exact path the whole path
becomes the target. `path-rewrite` is `<regex> <replacement>`: the regex is
of the safe subset (annotations/values.regex), the replacement a URL path
that may use `\\1`..`\\9`, at most as many as the regex has groups. Both
become one `http-request replace-path`; the query string is kept.
"""

from __future__ import annotations

import re

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import groups, path, regex
from ingress_ctl.model.policies import PathRewrite

_REFERENCE = re.compile(r"\\([0-9])")
_REPLACEMENT = re.compile(r"^/(?:[A-Za-z0-9\-._~!$&()*+,;=:@/]|\\[0-9])*$")


def rule(text: str) -> PathRewrite:
    """`<regex> <replacement>`: a regex of the safe subset and a path with `\\1`.. references."""
    words = text.split()
    if len(words) != 2:
        raise ValueError(f"{text[:80]!r} is not `<regex> <replacement>`")
    pattern, replacement = regex(words[0]), words[1]
    if len(replacement) > 1024 or not _REPLACEMENT.fullmatch(replacement):
        raise ValueError(
            f"{replacement[:80]!r} is not a path of URL characters (no %) with \\1..\\9 references"
        )
    wanted = max((int(found) for found in _REFERENCE.findall(replacement)), default=0)
    if wanted > groups(pattern):
        raise ValueError(
            f"{replacement!r} uses \\{wanted}; {pattern!r} has {groups(pattern)} groups"
        )
    return PathRewrite(regex=pattern, replacement=replacement)


TARGET = register(
    "rewrite-target",
    path,
    Scope.ROUTE,
    default="no rewrite",
)
REWRITE = register(
    "path-rewrite",
    rule,
    Scope.ROUTE,
    default="no rewrite",
)


def target(reader: Reader) -> str | None:
    """The rewrite target, unless path-rewrite (which wins) is set too."""
    found = reader.get(TARGET)
    if found is not None and reader.given(REWRITE):
        reader.complain(TARGET, "ignored: path-rewrite is set too", "warning")
        return None
    return found


def regex_rewrite(reader: Reader) -> PathRewrite | None:
    return reader.get(REWRITE)


def prefix_rewrite(route_path: str, *, exact: bool, to: str) -> PathRewrite:
    """The rewrite of a route's path into `to`, as rewrite-target means it."""
    if exact:
        return PathRewrite(regex=f"^{re.escape(route_path)}$", replacement=to)
    base = re.escape(route_path.rstrip("/"))
    if to.endswith("/"):
        return PathRewrite(regex=f"^{base}(?:/(.*))?$", replacement=to + "\\1")
    return PathRewrite(regex=f"^{base}(/.*)?$", replacement=to + "\\1")
