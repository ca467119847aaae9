"""Typed text made safe to store: one normalisation for forms (portal/forms/fields.py) and services."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

EARLIEST = date(2000, 1, 1)  # the campaign's plausible dates: anything outside is a typing mistake
LATEST = date(2100, 12, 31)
MAX_ID = 2**31 - 1  # the database's integer

# Characters that show nothing: a text made only of these (and spaces) is empty.
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls except \t \n \r
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029\x85]")
USERNAME = re.compile(r"[a-z0-9._-]{2,40}")


def clean_text(value: str | None, multiline: bool = False) -> tuple[str, bool]:
    """Normalise typed text. Returns (text, refused): `refused` is true when it holds a control character
    (NUL and friends; line breaks and tabs too unless `multiline`). Line endings become `\\n`, the ends are
    stripped of whitespace and invisible characters; text with nothing visible becomes ""."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    refused = bool(_CONTROL.search(text)) or (not multiline and bool(_LINE_BREAKS.search(text.strip())))
    text = text.strip(INVISIBLE + " \t\n\u3000\u00a0")
    if not text.translate({ord(c): None for c in INVISIBLE}).strip():
        text = ""
    return text, refused


def canonical_username(value: str | None) -> str:
    """The one spelling of a username: NFKC (full-width → half-width), case-folded, invisible characters
    and surrounding space removed. Used by the form, the services (uniqueness) and the log-in."""
    text = unicodedata.normalize("NFKC", value or "")
    text = text.translate({ord(c): None for c in INVISIBLE})
    return text.strip().casefold()
