"""The last line against input no view or form was written for: ids in URLs that no column can hold,
NUL and control characters in query strings and form values, over-long URLs. Form fields give their own
messages first; this refuses what slips past them before it reaches the database (PostgreSQL rejects a
NUL in text with an error, i.e. a 500)."""
from __future__ import annotations

import re

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from .errors import DomainError

# The largest value of a 32-bit signed INTEGER column (PostgreSQL's `integer`, every id here).
MAX_ID = 2**31 - 1
# Longer URLs are refused with the portal's own 414 page; gunicorn (gunicorn.conf.py, limit_request_line = 0:
# up to 1 MB) lets them through to here instead of answering with its own English page. A search of ~7,000
# Chinese characters (9 bytes each, percent-encoded) fits, reaches the search and is cut there with a note;
# tests/web/test_hostile_input.py checks the two limits agree.
MAX_URL = 64 * 1024
# C0 controls other than tab, line feed and carriage return, DEL and the C1 controls: never typed.
_QUERY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_FORM_CONTROL = re.compile("[\x00]")


class IdConverter(IntegerConverter):
    """`<int:...>` bounded to what an id column holds: 0 ≤ value ≤ 2**31-1, otherwise the route does not
    match (404) instead of the database failing on an out-of-range number."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max if max is not None else MAX_ID,
                         signed=signed)


def install_converters(app: Flask) -> None:
    """Replace the `int` converter app-wide (before any blueprint adds its rules), so every route that
    takes an id is bounded without naming a new converter."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["id"] = IdConverter


def has_control(value: str, pattern: re.Pattern = _QUERY_CONTROL) -> bool:
    return bool(pattern.search(value))


def refuse_hostile_input() -> None:
    """before_request: 414 for an over-long URL, 400 for control characters in the query string or a NUL
    in any form value or file name. Both pages are translated (the error handlers render them)."""
    if len(request.full_path) > MAX_URL:
        abort(414)
    if has_control(request.path):
        abort(404)
    for key, value in request.args.items(multi=True):
        if has_control(key) or has_control(value):
            _refuse()
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        try:
            request.form  # noqa: B018 (parses the body once; the views read it from the cache)
        except RequestEntityTooLarge:
            return  # the view answers an over-long body itself (413 in its own fragment)
        for key, value in request.form.items(multi=True):
            if has_control(key, _FORM_CONTROL) or has_control(value, _FORM_CONTROL):
                _refuse()
        for key, upload in request.files.items(multi=True):
            if has_control(key, _FORM_CONTROL) or has_control(upload.filename or "", _QUERY_CONTROL):
                _refuse()


def _refuse():
    raise DomainError(_("What was sent contains control characters (such as a NUL byte) that cannot be "
                        "stored. Please remove them and try again."))


_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_int(value, low: int = 0, high: int = MAX_ID) -> int | None:
    """A whole number typed or sent as text ("42", " 42 "), or None when it is not one or lies outside
    low..high. Only ASCII digits count: `str.isdigit` also accepts "²" and "①", which `int` refuses, and a
    number over 2**31-1 would fail in the database rather than in the form."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value or "").strip()
        if not _DIGITS.fullmatch(text):
            return None
        number = int(text)
    return number if low <= number <= high else None


def parse_ids(values) -> set[int] | None:
    """Ids from a multi-valued field: the set of them, or None when any value is not an id."""
    ids = {parse_int(v, low=1) for v in values}
    return None if None in ids else ids
