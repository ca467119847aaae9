"""Shared field types: every form's input is normalised and bounded here, once.

- `Text` / `LongText`: stripped; NUL and other control characters refused (a long text keeps newlines and
  tabs), and so are invisible format characters that reorder or hide text (bidi overrides and isolates);
  zero-width-only or whitespace-only input is empty, so `required=True` refuses `\\u200b\\u200b`;
  at most `max_length` characters (the model column's length). The rule is text.check_text, which the
  roster import applies to every cell too.
- `Identifier`: a username, NFKC-normalised and case-folded; see its docstring for the alphabet.
- `Password`: never stripped or normalised; bounded, and control characters refused with their own message.
- `Day` / `Moment`: a date / local date-time between 2000-01-01 and 2100-12-31; `within` binds it to the
  event it belongs to (a due date never before the event it follows, and within the campaign's horizon),
  `not_before` to another field of the form.
- `Id` / `IdList`: whole numbers from 1 to 2**31 - 1 (the database's integer); `WholeNumber` from 0 on. Digits
  are read after NFKC folding (full-width "１２" is 12). A number out of its field's own range is refused with a
  message naming the range; an id outside the database's range, as not one of the list's entries.
- `Choice`: one of the values offered, nothing else.
- `BranchPick` / `BranchPickList`: branches from the branch picker (templates/_branch_picker.html): ids, or in a
  big district the names typed in its search field, resolved by services/branch_choice.py.
- `Upload` / `UploadList`: the file(s) chosen, empty file inputs left out (a second file sent to a one-file
  field is refused, never dropped); what a file may be is services/uploads.py's one rule.
- `HiddenId`: the version an edit was loaded with; missing is "form outdated" (400), never "no check".

Every message is translated and never carries what the person typed (GOTCHAS: lazy strings are "safe").
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from wtforms import Field, PasswordField, StringField, TextAreaField
from wtforms.utils import unset_value
from wtforms.validators import ValidationError
from wtforms.widgets import HiddenInput

from ..clock import local_now, local_today
from ..services import branch_choice
from ..services.intents import TOKEN, FormOutdated
from ..text import (
    EARLIEST,
    LATEST,
    MAX_ID,
    canonical_username,
    check_text,
    clean_text,
    password_text_error,
    refusal_message,
    username_error,
)

# How far ahead of the event it follows a date may plausibly lie: the campaign runs three years.
HORIZON = timedelta(days=3 * 366)


def errors_of(form) -> dict[str, str]:
    """The first error of each invalid field, as {field name: message}, for the templates' `error` macro."""
    return {name: str(messages[0]) for name, messages in form.errors.items() if messages}


def apply_errors(form, field_errors: dict) -> dict[str, str]:
    """Put a service's `Invalid(field_errors)` beside the form's fields (unknown names stay in the dict for
    the template); returns the combined {field: message}."""
    for name, message in field_errors.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*list(field.errors or []), message]
    return {**errors_of(form), **{k: str(v) for k, v in field_errors.items()}}


class Shown:
    """What a form page shows again in its fields: `get(name, default)` / `getlist(name)`, as templates
    read a posted form. Built from the WTForms form that refused (or, for a page shown afresh, from
    nothing: every `get` is its default), so what comes back is what the form read: text cleaned as it
    would be saved, a value that could not be read (a date, an id) as it was typed, and nothing the form
    does not declare."""

    def __init__(self, form=None):
        self._form = form

    def _field(self, name: str):
        return self._form._fields.get(name) if self._form is not None else None

    def getlist(self, name: str) -> list[str]:
        field = self._field(name)
        if isinstance(field, _Picked):  # what the picker came to: ids sent and names resolved
            data = field.data if isinstance(field.data, list) else [field.data]
            return [str(v) for v in data if v is not None]
        if field is None or not field.raw_data:
            return []
        if isinstance(field, (_Normalised, TextList)):
            data = field.data
            return [str(v) for v in (data if isinstance(data, list) else [data])]
        return [str(v) for v in field.raw_data if isinstance(v, str)]

    def get(self, name: str, default=None):
        values = self.getlist(name)
        return values[0] if values else default

    def typed(self, name: str) -> str | None:
        """What was typed in the branch picker of field `name` and is shown again (None: nothing was sent)."""
        field = self._field(name)
        return getattr(field, "typed", None) if isinstance(field, _Picked) else None

    def __contains__(self, name: str) -> bool:
        field = self._field(name)
        return bool(field is not None and field.raw_data)


def shown(form=None) -> Shown:
    """`Shown(form)`: the typed values a refused `form` shows again; `shown()` for a fresh page."""
    return Shown(form)


class _Normalised:
    """Text normalisation shared by one-line and multi-line fields."""

    multiline = False

    def __init__(self, label=None, validators=None, *, max_length: int = 200, required: bool | str = False,
                 **kwargs):
        """`required` may be the message to show when the field is empty."""
        super().__init__(label, validators, **kwargs)
        self.max_length = max_length
        self.required = required
        self._message = None

    def process_formdata(self, valuelist):
        if valuelist:
            self.data, self._message = check_text(valuelist[0], max_length=self.max_length,
                                                  required=self.required, multiline=self.multiline)

    def _value(self):
        return self.data or ""

    def pre_validate(self, form):
        if self._message is not None:
            raise ValidationError(self._message)
        if self.required and not self.data:  # not sent at all
            raise ValidationError(_l("This field is required.") if self.required is True else self.required)


class Text(_Normalised, StringField):
    """One line of text; `data` is always a str."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("default", "")
        super().__init__(label, validators, **kwargs)


class LongText(_Normalised, TextAreaField):
    """Several lines of text (newlines and tabs kept); `data` is always a str."""

    multiline = True

    def __init__(self, label=None, validators=None, *, max_length: int = 20000, **kwargs):
        kwargs.setdefault("default", "")
        super().__init__(label, validators, max_length=max_length, **kwargs)


class Identifier(StringField):
    """A username, in its canonical spelling (`canonical_username`: NFKC, so full-width is half-width;
    case-folded; invisible characters removed), then held to the rule `text.USERNAME`:

    - 2 to 40 characters, only letters a–z, digits, and the separators `.`, `-`, `_`;
    - it starts and ends with a letter or digit, and a separator stands alone between two of them
      (`zhang.san`, `li-ming2`, `sec01` are names; `..`, `--`, `-x`, `x.`, `a..b` are not);
    - separators do not make a new name: `sec.01`, `sec-01` and `sec_01` are look-alikes of `sec01`, so
      only one of them may exist (accounts.username_exists compares `text.username_skeleton`).

    The log-in looks a name up by the same canonical spelling (accounts.authenticate), after the name as
    typed, so accounts made before this rule keep logging in."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("default", "")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = canonical_username(valuelist[0])

    def pre_validate(self, form):
        if message := username_error(self.data):
            raise ValidationError(message)


class Password(PasswordField):
    """A password: never stripped or normalised (it is what the person chose), at most 200 characters so a
    megabyte "password" is not hashed; control characters (NUL, tab, escape…) are refused with their own
    message, as no keyboard types them. Whether it is good enough is accounts.password_error's rule."""

    def pre_validate(self, form):
        if message := password_text_error(self.data):
            raise ValidationError(message)


class _Bounded(Field):
    """A date or date-time within EARLIEST … LATEST; blank is None (refused when `required`)."""

    formats: tuple[str, ...] = ()

    def __init__(self, label=None, validators=None, *, required: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required = required
        self._unreadable = False

    def _parse(self, text: str):
        raise NotImplementedError

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        self.data, self._unreadable = None, False
        if not text:
            return
        try:
            self.data = self._parse(text)
        except ValueError:
            self._unreadable = True

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat()[:16] if self.data else ""

    def pre_validate(self, form):
        if self._unreadable:
            raise ValidationError(_l("Enter a valid date."))
        if self.data is None:
            if self.required:
                raise ValidationError(_l("This field is required."))
            return
        day = self.data.date() if isinstance(self.data, datetime) else self.data
        if not EARLIEST <= day <= LATEST:
            raise ValidationError(_l("Enter a date between 2000-01-01 and 2100-12-31."))


class Day(_Bounded):
    """A calendar date (`<input type="date">`, YYYY-MM-DD); `data` is a `date` or None."""

    def _parse(self, text):
        return date.fromisoformat(text[:10]) if len(text) == 10 else _raise()


class Moment(_Bounded):
    """A local date and time (`<input type="datetime-local">`); `data` is a naive `datetime` or None."""

    def _parse(self, text):
        if len(text) > 19:
            _raise()
        return datetime.fromisoformat(text)


def _raise():
    raise ValueError


def not_before(other: str, message=None):
    """Validator: this date is not before the date in field `other` (a follow-up is due on or after its
    visit). Silent when either is empty; the other field's own checks speak for it."""

    def check(form, field):
        earlier = form[other].data
        if field.data and earlier and _as_date(field.data) < _as_date(earlier):
            raise ValidationError(message or _l("This date cannot be before the date it follows."))

    return check


def not_before_day(earliest: date, message=None):
    """Validator: this date is on or after `earliest` (e.g. the visit a follow-up belongs to)."""

    return within(earliest, None, too_early=message)


def within(earliest=None, latest=None, *, too_early=None, too_late=None):
    """Validator binding a date to the event it belongs to: on or after `earliest` and on or before `latest`
    (dates, or callables of the form giving them when it is checked, e.g. today; None is no bound). The messages
    name the bound: `too_early` / `too_late` may be lazy strings with a `%(day)s` placeholder (filled with
    the bound, never with what was typed)."""

    def check(form, field):
        if not field.data:
            return
        day = _as_date(field.data)
        low = earliest(form) if callable(earliest) else earliest
        high = latest(form) if callable(latest) else latest
        if low and day < low:
            raise ValidationError(_bound(too_early or _l("Enter a date on or after %(day)s."), low))
        if high and day > high:
            raise ValidationError(_bound(too_late or _l("Enter a date on or before %(day)s."), high))

    return check


def _bound(message, day: date) -> str:
    return str(message) % {"day": day.isoformat()} if "%(day)s" in str(message) else str(message)


def in_future(message=None):
    """Validator for a `Moment`: later than now in the portal's time zone (a deadline an hour ago today would
    be overdue the moment it is set). The message may name the current time with `%(now)s`."""

    def check(form, field):
        if isinstance(field.data, datetime) and field.data <= local_now():
            text = str(message or _l("Choose a time in the future (after %(now)s)."))
            raise ValidationError(text % {"now": local_now().strftime("%Y-%m-%d %H:%M")}
                                  if "%(now)s" in text else text)

    return check


def horizon(_form=None) -> date:
    """The last plausible day for something planned from today: the campaign's three years ahead."""
    return local_today() + HORIZON


def recent(days: int = 366, message=None):
    """Validator: not in the distant past (a deadline more than `days` ago is a typing mistake)."""

    def check(form, field):
        if field.data and _as_date(field.data) < local_today() - timedelta(days=days):
            raise ValidationError(message or _l("This date is too far in the past."))

    return check


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


class Id(Field):
    """A record id (1 … 2**31 - 1), or any whole number from `minimum` to `maximum`; blank is None
    (refused when `required`)."""

    def __init__(self, label=None, validators=None, *, required: bool = False, minimum: int = 1,
                 maximum: int = MAX_ID, message=None, **kwargs):
        """`message` replaces "Choose an entry from the list." for a value out of range."""
        super().__init__(label, validators, **kwargs)
        self.required = required
        self.minimum, self.maximum = minimum, maximum
        self.message = message
        self._bad = False

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        self.data, self._bad = None, False
        if text:
            number = _to_id(text)
            self.data = number if number is not None and self.minimum <= number <= self.maximum else None
            self._bad = self.data is None

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))

    def pre_validate(self, form):
        if self._bad:
            raise ValidationError(self.message or self._range_message())
        if self.required and self.data is None:
            raise ValidationError(_l("This field is required."))

    def _range_message(self):
        """A record id picked from a list is "not in the list"; a number typed in a box names its range."""
        if (self.minimum, self.maximum) == (1, MAX_ID):
            return _l("Choose an entry from the list.")
        return _l("Enter a whole number from %(low)s to %(high)s.", low=self.minimum, high=self.maximum)


class WholeNumber(Id):
    """A whole number from `minimum` (which may be 0) to `maximum`, e.g. a weight or a threshold in %; blank is
    None (refused when `required`)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        self.data, self._bad = None, False
        if text:
            text = unicodedata.normalize("NFKC", text).strip()  # full-width digits typed with a Chinese IME
            number = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None
            self.data = number if number is not None and self.minimum <= number <= self.maximum else None
            self._bad = self.data is None


class Decimal(Id):
    """A number with at most two decimals from `minimum` to `maximum` (e.g. an item's weight); blank is None
    (refused when `required`). Full-width digits and a full-width point are read too; `data` is a float."""

    def __init__(self, label=None, validators=None, *, minimum: float = 0, maximum: float = 100, **kwargs):
        super().__init__(label, validators, minimum=minimum, maximum=maximum, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = unicodedata.normalize("NFKC", (valuelist[0] or "")).strip()
        self.data, self._bad = None, False
        if text:
            whole, _point, fraction = text.partition(".")
            ok = (len(text) <= 12 and whole.isascii() and whole.isdigit() and fraction.isascii()
                  and (fraction.isdigit() or not _point) and len(fraction) <= 2)
            number = float(text) if ok else None
            self.data = number if number is not None and self.minimum <= number <= self.maximum else None
            self._bad = self.data is None

    def _range_message(self):
        return _l("Enter a number from %(low)s to %(high)s, with at most two decimals.", low=self.minimum,
                  high=self.maximum)


class HiddenId(Id):
    """The version an edit was loaded with, carried in a hidden input. A mangled value is 0, i.e. a version
    no record has, so the save is answered as a conflict (409) with both texts rather than with an error on
    a field the person cannot see. A missing or blank one is never "no check": the form did not come from a
    page the portal drew (or from one older than the version field), so nothing is saved and the person is
    told to reload (FormOutdated, 400). `required_with`: the version belongs to that other field only (a
    note's version), and is asked for only when that field was sent."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, *, required_with: str | None = None, **kwargs):
        if label is None:
            # WTForms would translate the field's name as its label: the first translated string of a request
            # loads WTForms' catalog from disk (Flask-WTF keeps it per request), on every post of a form whose
            # only unlabelled field this is (a checklist tick). A hidden input's label is never shown.
            label = kwargs.get("name", "").replace("_", " ").title()
        super().__init__(label, validators, minimum=0, **kwargs)
        self.required_with = required_with

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self._bad:
            self.data, self._bad = 0, False

    def pre_validate(self, form):
        if self.data is not None:
            return
        if self.required_with is not None and not form[self.required_with].raw_data:
            return
        raise FormOutdated(str(_l("This form is out of date, so nothing was saved. Reload the page and make "
                                  "your change again.")))


class IdList(Field):
    """Several ids from checkboxes or a multiple select; `data` is a list of distinct ints in order."""

    def __init__(self, label=None, validators=None, *, max_count: int = 1000, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_count = max_count
        self._bad = False

    def process_formdata(self, valuelist):
        values = [_to_id((v or "").strip()) for v in valuelist if (v or "").strip()]
        self._bad = any(v is None for v in values) or len(values) > self.max_count
        self.data = list(dict.fromkeys(v for v in values if v is not None))

    def process_data(self, value):
        self.data = list(value or [])

    def pre_validate(self, form):
        if self._bad:
            raise ValidationError(_l("Choose entries from the list."))


class _Picked:
    """What the branch picker (templates/_branch_picker.html) sends beside its field: when the picker is a
    search field (a district above branch_choice.MENU_MAX branches) the text typed is `<name>_q`; `typed` is it,
    or None when it was not sent (the picker was a menu, or the form was posted by a script)."""

    typed: str | None = None

    def __init__(self, label=None, validators=None, *, scope: str = "active", **kwargs):
        """`scope`: the branches that may be chosen ("active" or "all", services/branch_choice.py)."""
        super().__init__(label, validators, **kwargs)
        self.scope = scope

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        key = f"{self.name}_q"
        self.typed = (formdata.get(key) or "") if formdata is not None and key in formdata else None


class BranchPick(_Picked, Id):
    """One branch from the branch picker: the id sent under the field's name, or, when the search field was
    sent, the branch its text resolves to (services.branch_choice.resolve; the id counts only while the text is
    still that branch's name: typed over, the text decides). Empty text: no branch. `scope`: "active" or "all"."""

    def pre_validate(self, form):
        if self.typed is not None and (self.data is None or self._bad
                                       or not branch_choice.names_it(self.data, self.typed)):
            found = branch_choice.resolve(self.typed, self.scope)
            if found.problem:
                raise ValidationError(found.problem)
            self.data, self._bad = (found.choice.id if found.choice else None), False
        super().pre_validate(form)


class BranchPickList(_Picked, IdList):
    """Several branches from the branch picker: the ids sent (chips, or the checkboxes of a small district), and
    the names typed in its search field (one per line, or separated by commas or 、), each resolved as
    `BranchPick` resolves one. Names that found none or several stay in `typed` with the first problem."""

    def pre_validate(self, form):
        super().pre_validate(form)
        if self.typed:
            found, self.typed, problem = branch_choice.resolve_many(self.typed, self.scope)
            self.data = list(dict.fromkeys([*self.data, *(choice.id for choice in found)]))
            if problem:
                raise ValidationError(problem)


class TextList(Field):
    """Several one-line texts under one name (rows of a small table, e.g. a leading group); each is
    normalised like `Text`, empty ones kept in place so rows stay aligned."""

    def __init__(self, label=None, validators=None, *, max_length: int = 200, max_count: int = 200, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_length, self.max_count = max_length, max_count
        self._refused = False

    def process_formdata(self, valuelist):
        cleaned = [clean_text(value) for value in valuelist]
        self.data = [text for text, _refused in cleaned]
        self._refused = next((refused for _text, refused in cleaned if refused), "")

    def process_data(self, value):
        self.data = list(value or [])

    def pre_validate(self, form):
        if self._refused:
            raise ValidationError(refusal_message(self._refused))
        if len(self.data) > self.max_count or any(len(text) > self.max_length for text in self.data):
            raise ValidationError(_l("At most %(n)s characters.", n=self.max_length))


class LocalPath(Field):
    """A page of this site to go back to after a post (`<input type="hidden" name="back">`): a path that
    starts with one "/" and `prefix`, printable ASCII, at most 300 characters; anything else is None, so
    that the view falls back to its own page (never a redirect to another site)."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, *, prefix: str = "/", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.prefix = prefix

    def process_formdata(self, valuelist):
        value = (valuelist[0] or "") if valuelist else ""
        safe = (len(value) <= 300 and value.isascii() and value.isprintable() and value.startswith(self.prefix)
                and value.startswith("/") and not value.startswith("//") and "\\" not in value)
        self.data = value if safe else None

    def _value(self):
        return self.data or ""


class FormToken(Field):
    """The one-time token of a create form (services/intents.py). A malformed token reads as None, which
    intents.run_once refuses (400): a create without its token could not be told from its own replay."""

    widget = HiddenInput()

    def process_formdata(self, valuelist):
        value = (valuelist[0] or "").strip() if valuelist else ""
        self.data = value if TOKEN.fullmatch(value) else None

    def _value(self):
        return self.data or ""


def _to_id(text: str) -> int | None:
    text = unicodedata.normalize("NFKC", text).strip()  # "１２" typed with a Chinese IME is 12
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


class Choice(Field):
    """One value from `choices` (an iterable of str, or an Enum class); blank is "" (refused when
    `required`). Unknown values are refused, never passed on."""

    def __init__(self, label=None, validators=None, *, choices=(), required: bool = False, message=None,
                 **kwargs):
        """`message` replaces "Choose an entry from the list." (for a blank required value too)."""
        kwargs.setdefault("default", "")
        super().__init__(label, validators, **kwargs)
        self.choices = [getattr(c, "value", c) for c in choices]
        self.required = required
        self.message = message

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = (valuelist[0] or "").strip()

    def _value(self):
        return self.data or ""

    def pre_validate(self, form):
        if not self.data:
            if self.required:
                raise ValidationError(self.message or _l("Choose an entry from the list."))
            return
        if self.data not in self.choices:
            raise ValidationError(self.message or _l("Choose an entry from the list."))


class Upload(Field):
    """One uploaded file (`<input type="file">`); `data` is the FileStorage, or None when no file was
    chosen. What a file may be (type, size, name) is decided where it is stored (services/uploads.py),
    so that every upload of the portal is judged by one rule. Two or more files under the name are
    refused (the field takes one), never cut silently to the first."""

    def process_formdata(self, valuelist):
        files = [v for v in valuelist if isinstance(v, FileStorage) and v.filename]
        self.data = files[0] if files else None
        self._count = len(files)

    def pre_validate(self, form):
        if getattr(self, "_count", 0) > 1:
            raise ValidationError(_l("Attach one file at a time: %(n)s were sent, and none of them was saved.",
                                     n=self._count))


class UploadList(Field):
    """Several files under one name (`<input type="file" multiple>`); `data` is a list of FileStorage,
    the empty file inputs left out. At most `max_count`."""

    def __init__(self, label=None, validators=None, *, max_count: int = 10, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_count = max_count

    def process_formdata(self, valuelist):
        self.data = [v for v in valuelist if isinstance(v, FileStorage) and v.filename]

    def process_data(self, value):
        self.data = list(value or [])

    def pre_validate(self, form):
        if len(self.data) > self.max_count:
            raise ValidationError(_l("Attach at most %(n)s files.", n=self.max_count))


class Flag(Choice):
    """A value the page sets, not one a person types or picks from a visible list: a checkbox, a button's
    value, a hidden input (`remove_cover`, a pledge's `for`). An unknown value has no place beside a field
    to be shown in, so it is answered for the whole form (run_form: 422 with a message naming the field's
    `label`); give every Flag a label that says what it is."""


def unseen_error(form) -> str | None:
    """The message for the first invalid field a person cannot see (a Flag, or a hidden input), or None:
    run_form / validated answer those for the whole form, so that no 422 comes without its message."""
    for field in form:
        if field.errors and (isinstance(field, Flag) or isinstance(field.widget, HiddenInput)):
            return str(_l("The form sent something the page does not offer for “%(field)s”: %(message)s "
                          "Reload the page and try again.", field=str(field.label.text), message=str(field.errors[0])))
    return None
