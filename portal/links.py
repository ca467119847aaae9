"""Absolute links (feeds, e-mails, QR codes) built on the configured PORTAL_BASE_URL, never on the
request's Host header, which any client can forge."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote_plus

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """`PORTAL_BASE_URL` + the path of `endpoint` (e.g. "http://portal.school.local/news/12"), inside a request
    or outside one (a command, the task queue)."""
    path = url_for(endpoint, **values) if has_request_context() else path_for(endpoint, **values)
    return external_path(path)


def external_path(path: str) -> str:
    """`PORTAL_BASE_URL` + a path inside the portal that was stored earlier (a notification's link)."""
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def path_for(endpoint: str, **values) -> str:
    """The path of `endpoint` inside the portal (e.g. "/checklist/branch/3?year=2012"), inside a request or
    outside one (a command, the task queue): notifications store it, e-mails prefix PORTAL_BASE_URL."""
    return current_app.url_map.bind("portal.invalid").build(endpoint, values)


# An id no table reaches, in place of the varying argument while the pattern is built.
_MARKER = 9_876_543_210_123


def url_pattern(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """A long list's links to `endpoint` that differ only in the int argument `key` (a branch id per row, in the
    path or the query): one `url_for` for the list, then `pattern(42)` is `url_for(endpoint, key=42, **values)`.
    Raises ValueError if the URL does not carry `key`."""
    return _pattern(url_for, endpoint, key, values)


def path_pattern(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """`url_pattern` for `path_for` (outside a request too): `pattern(42)` is `path_for(endpoint, key=42,
    **values)`, e.g. the links of tens of thousands of notifications. Raises ValueError as `url_pattern`."""
    return _pattern(path_for, endpoint, key, values)


def _pattern(build: Callable[..., str], endpoint: str, key: str, values: dict) -> Callable[[int], str]:
    prefix, suffix = _parts(build, endpoint, key, values, _MARKER)
    return lambda value: f"{prefix}{int(value)}{suffix}"


def _parts(build: Callable[..., str], endpoint: str, key: str, values: dict, marker: object) -> tuple[str, str]:
    """The URL of `endpoint` with `values` before and after the value of `key` (built as `marker`: in the place of
    `key` among `values` if it is one of them, else first)."""
    arguments = {**values, key: marker} if key in values else {key: marker, **values}
    prefix, found, suffix = build(endpoint, **arguments).partition(str(marker))
    if not found:
        raise ValueError(f"{endpoint}: the URL does not carry {key}")
    return prefix, suffix


def url_parts(endpoint: str, key: str, **values) -> tuple[str, str]:
    """(before, after): `url_pattern`'s URL around the int argument `key`, so that a caller writing HTML escapes
    them once for a whole list (`before + str(n) + after` is `url_for(endpoint, key=n, **values)`). Raises
    ValueError as `url_pattern`."""
    return _parts(url_for, endpoint, key, values, _MARKER)


# A query value that URL encoding leaves as it is, in place of the varying text while a text pattern is built.
_TEXT_MARKER = "portal-marker-9876543210"
# The characters that werkzeug's query encoding (`urllib.parse.urlencode`, with `quote_plus`) leaves as they are.
_QUERY_SAFE = "!$'()*,/:;?@"


def text_pattern(endpoint: str, key: str, **values) -> Callable[[str], str]:
    """`url_pattern` for a text argument `key` in the query: one `url_for` for a list of links that differ only in
    it (e.g. the sort column of a table's headers), then `pattern("-score")` is `url_for(endpoint, **values)` with
    `key` set to "-score" (in its place among `values` when it is one of them, as a dict update keeps it), the
    text encoded as url_for encodes a query value. Raises ValueError as `url_pattern`."""
    prefix, suffix = _parts(url_for, endpoint, key, values, _TEXT_MARKER)
    return lambda text: f"{prefix}{quote_plus(str(text), safe=_QUERY_SAFE)}{suffix}"


def page_pattern(url: str, key: str = "page") -> Callable[[int], str]:
    """Links to the pages of a list at `url` (its other query arguments in place): page 1 is `url` itself, page
    n adds `key=n` at the end, as `url_for(..., **args, page=n)` writes it when `page` comes last."""
    joiner = "&" if "?" in url else "?"
    return lambda number: url if number == 1 else f"{url}{joiner}{key}={int(number)}"
