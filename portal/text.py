"""Typed text made safe to store: one normalisation for forms (portal/forms/fields.py), services and the
roster import (every imported cell goes through `check_text` / `username_error`, as a form field would)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l

EARLIEST = date(2000, 1, 1)  # the campaign's plausible dates: anything outside is a typing mistake
LATEST = date(2100, 12, 31)
MAX_ID = 2**31 - 1  # the database's integer

# Characters that show nothing: a text made only of these (and spaces) is empty.
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f"
# Characters that are not invisible formatting but still print as nothing (fillers, a blank braille cell,
# variation selectors, vowels with no shape): with spaces and INVISIBLE, text made only of them is blank.
BLANK_LOOKING = ("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u1cbb\u1cbc\u2800"
                 + "".join(chr(c) for c in range(0xFE00, 0xFE10)))
_BLANK = frozenset(INVISIBLE + BLANK_LOOKING)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls except \t \n \r
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029\x85]")
# A username: 2 to 40 characters; letters a-z and digits, with single dots, hyphens or underscores between
# them (never first, last or two together: `..`, `--`, `a..b` and `-x` are refused).
USERNAME_MAX = 40
USERNAME = re.compile(rf"(?=.{{2,{USERNAME_MAX}}}\Z)[a-z0-9]+(?:[._-][a-z0-9]+)*")
_SEPARATORS = str.maketrans("", "", "._-")
# Invisible format characters (Unicode category Cf) that may stay inside text: the joiners emoji and some
# scripts need, and tag characters (flag emoji). Every other one is refused, above all the bidirectional
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) that make text read in another order
# than it is stored ("Trojan Source"). The INVISIBLE ones are tolerated as before (stripped at the ends).
_FORMAT_KEPT = set(INVISIBLE) | {"\u200c", "\u200d"} | {chr(c) for c in range(0xE0020, 0xE0080)}

# Characters with no shape and no job inside one line of plain text (a name, a title): dropped wherever they are,
# so that 张\u200b三 is 张三 (a look-alike otherwise). The joiners (U+200C, U+200D) and direction marks stay.
_NO_JOB_INSIDE = str.maketrans("", "", "\u200b\u2060\ufeff\u00ad\u180e\u034f\u2061\u2062\u2063\u2064")

CONTROL, FORMAT = "control", "format"  # why clean_text refused a text


def clean_text(value: str | None, multiline: bool = False) -> tuple[str, str]:
    """Normalise typed text. Returns (text, refused): `refused` is CONTROL when it holds a control character
    (NUL and friends; line breaks and tabs too unless `multiline`), FORMAT when it holds an invisible format
    character that reorders or hides text (bidi overrides and isolates, see _FORMAT_KEPT), else "".
    Line endings become `\\n`, the ends are stripped of whitespace and invisible characters; one line
    of text (not `multiline`) loses its shapeless characters inside too (zero-width space, word joiner…: a
    look-alike name otherwise); text with nothing visible becomes ""."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    refused = ""
    if _CONTROL.search(text) or (not multiline and _LINE_BREAKS.search(text.strip())):
        refused = CONTROL
    elif any(unicodedata.category(c) == "Cf" and c not in _FORMAT_KEPT for c in text):
        refused = FORMAT
    text = text.strip(INVISIBLE + " \t\n\u3000\u00a0")
    if not multiline:
        text = text.translate(_NO_JOB_INSIDE)
    if looks_blank(text):
        text = ""
    return text, refused


def search_query(value: str | None) -> str:
    """What a search box's text looks for: cleaned like a typed name (clean_text: zero-width and invisible
    characters dropped, so a pasted 第\u200b1 finds 第1) and NFKC-folded (full-width finds half-width). A query
    clean_text would refuse (control characters) keeps its cleaned text: a search stores nothing. Match it
    with `column.icontains(q, autoescape=True)` so that `%` and `_` are the characters, not wildcards."""
    text, _refused = clean_text(unicodedata.normalize("NFKC", value or ""))
    return text


def search_fold(value: str | None) -> str | None:
    """The form in which the dashboard's name search compares a branch's name and brand with the words typed, on
    SQLite (its `portal_fold` function, portal/database.py): NFKC (full-width letters and digits are their
    half-width forms) and case folded (every script's capitals, not only A–Z). None stays None (SQL's NULL).
    PostgreSQL folds the same way in SQL: `lower(normalize(…, NFKC))` (services/figures.py `search_fold`)."""
    return None if value is None else unicodedata.normalize("NFKC", value).casefold()


def looks_blank(text: str) -> bool:
    """True when `text` prints as nothing: only whitespace (any script's), invisible and blank-looking
    characters (Hangul fillers, the blank braille cell…)."""
    return all(c.isspace() or c in _BLANK for c in text)


def canonical_username(value: str | None) -> str:
    """The one spelling of a username: NFKC (full-width → half-width), case-folded, invisible characters
    and surrounding space removed. Used by the form, the services (uniqueness) and the log-in."""
    text = unicodedata.normalize("NFKC", value or "")
    text = text.translate({ord(c): None for c in INVISIBLE})
    return text.strip().casefold()


# Full-width letters and digits (Ａ–Ｚ, ａ–ｚ, ０–９) → ASCII; every other full-width character stays.
_FULL_WIDTH_ALNUM = {code: code - 0xFEE0 for first, last in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                     for code in range(first, last + 1)}


def half_width_alnum(value: str) -> str:
    """A name as stored: letters and digits a Chinese input method typed full-width (`ＡＢＣ中学`, `第３小学`) in
    their ASCII forms, so that searches (which fold the query: `search_query`) and SQL comparisons find them; the
    full-width punctuation Chinese names are written with (（筹）、·) is kept as typed."""
    return value.translate(_FULL_WIDTH_ALNUM)


def folded(value: str | None) -> str:
    """The one form in which typed names and numbers are matched (never stored): NFKC, so that what a Chinese
    input method types full-width is its half-width form (`第３` is `第3`, `１２０` is `120`, the ideographic space
    a space); whitespace runs collapsed to one space and trimmed; case folded. A branch or unit named in a file,
    a framework's wording, a count typed to confirm: each is compared in this form on both sides."""
    return " ".join(unicodedata.normalize("NFKC", value or "").split()).casefold()


def refusal_message(refused: str, multiline: bool = False):
    """What to tell the person about a text clean_text refused (translated, without their text)."""
    if refused == FORMAT:
        return _l("Remove the invisible formatting characters (such as text-direction controls) from this text.")
    return (_l("Remove the control characters (invisible codes) from this text.") if multiline else
            _l("Use one line of plain text, without control characters."))


def check_text(value: str | None, *, max_length: int, required=False, multiline: bool = False):
    """One text field's whole rule, for a form field and an imported cell alike. Returns (cleaned text,
    message or None); `required` may be the message for an empty text."""
    text, refused = clean_text(value, multiline)
    if refused:
        return text, refusal_message(refused, multiline)
    if required and not text:
        return text, (_l("This field is required.") if required is True else required)
    if len(text) > max_length:
        return text, _l("At most %(n)s characters.", n=max_length)
    return text, None


def username_skeleton(name: str) -> str:
    """`name` without its dots, hyphens and underscores: two usernames with one skeleton (`sec01`, `sec.01`,
    `sec_01`) are look-alikes, and only the first may exist."""
    return canonical_username(name).translate(_SEPARATORS)


def username_error(name: str):
    """Why a canonical username (see `canonical_username`) may not be used, or None: the USERNAME rule."""
    if not name:
        return _l("This field is required.")
    if not USERNAME.fullmatch(name):
        return _l("Use 2 to 40 letters a–z or digits; a dot, hyphen or underscore only between two of them.")
    return None


def password_text_error(password: str | None):
    """What is wrong with a password as text, or None: never stripped or normalised (it is what the person
    chose), at most 200 characters (a megabyte is not hashed), and no control characters (NUL, tab,
    escape…), which no keyboard types into a password field. Whether it is a good password is
    accounts.password_error's rule, which asks this first."""
    value = password or ""
    if len(value) > 200:
        return _l("At most %(n)s characters.", n=200)
    if _CONTROL.search(value) or _LINE_BREAKS.search(value):
        return _l("A password cannot contain control characters (such as tab, line break, escape or other invisible "
                  "codes). Use letters, digits, spaces and punctuation.")
    return None


def quoted(title) -> str:
    """A title in quotation marks, by one rule: “…”, or 「…」 when the title has Chinese double quotation marks
    of its own (left alone inside), so that quotes never nest as ““三会一课”进课堂” or end up unmatched."""
    text = "" if title is None else str(title)
    if not text:
        return text
    if "“" in text or "”" in text:
        return f"「{text}」"
    return f"“{text}”"
