"""Interface language: 简体中文 by default, English on request; `?lang=` switches it for the session, and a
person's stored preference (their account page) applies when they log in."""
from __future__ import annotations

from bisect import bisect_right
from functools import cache, cached_property, wraps

from babel import Locale
from flask import flash, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

LANGUAGES = {"zh": "简体中文", "en": "English"}
DEFAULT = "zh"


class CatalogueDomain(Domain):
    """Flask-Babel's default message domain, its catalogue found by the locale object itself: the catalogue
    `Domain.get_translations` loads and caches (by the locale's identifier, which it writes out anew on every
    call: a long page looks up about two hundred strings). `force_locale` still applies: the locale is asked
    for each time. Outside a request (no locale) the domain's own answer, not kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._by_locale: dict = {}

    def get_translations(self):
        locale = get_locale()
        try:
            return self._by_locale[locale]
        except KeyError:
            found = super().get_translations()
            if locale is not None:
                self._by_locale[locale] = found
            return found


class PortalBabel(Babel):
    """Flask-Babel with `CatalogueDomain` as its default domain (templates' and code's gettext alike)."""

    @cached_property
    def domain_instance(self) -> Domain:
        return CatalogueDomain(domain=self.domain)


def fill(template, **values) -> str:
    """A translated message with values filled in that a person may have typed (a file name, a query
    parameter), safe to render: a plain `str`, which Jinja escapes whole, value included.

    `template` is the message marked for translation but *without* its values, e.g.
    `fill(_l("Unknown language “%(code)s”"), code=lang)`, so that pybabel still extracts it. Never write
    `_l("… %(code)s", code=lang)` with input instead: a lazy string counts as safe markup in Jinja (it has
    `__html__`), so the value would be rendered as HTML. Never wrap the result in Markup either. (Not
    Markup with escaped values: the form layer turns messages into `str`, which would escape them twice.)"""
    return str(template) % values


def select_locale() -> Locale:
    """Flask-Babel's locale selector: the session's language, else the person's stored one, else DEFAULT. As the
    Locale itself, parsed once per process (Flask-Babel parses a code on every request: a look at the disk each)."""
    if not has_request_context():  # commands and services called outside a request
        return _locale(DEFAULT)
    lang = session.get("lang")
    if lang in LANGUAGES:
        return _locale(lang)
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return _locale(current_user.locale)
    return _locale(DEFAULT)


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def apply_lang_parameter() -> None:
    """before_request: honour `?lang=xx`; an unknown code is ignored with a visible note."""
    lang = request.args.get("lang")
    if lang is None:
        return
    if lang not in LANGUAGES:
        flash(fill(_l("Unknown language “%(code)s”; the interface stays as it was."), code=lang[:16]), "warning")
        return
    # Only this session: a GET changes nothing stored. The person's own preference is a POST from
    # their account page (auth.account_language).
    session["lang"] = lang


def per_language(build):
    """`build` (no arguments: the fixed texts of a page in the request's language, or `force_locale`'s) made once
    per catalogue instead of a look-up per text per row: the decorated function returns what `build()` returned for
    the current catalogue (Flask-Babel keeps one per language for the app's life; a catalogue no longer used lets
    its texts go). The one way the rows written in Python (the dashboard, the checklist, /grades, the grid) keep
    their translated texts."""
    from weakref import WeakKeyDictionary

    made: WeakKeyDictionary = WeakKeyDictionary()

    @wraps(build)
    def texts():
        catalogue = get_translations()
        found = made.get(catalogue)
        if found is None:
            found = made[catalogue] = build()
        return found

    return texts

def listed(values) -> str:
    """Items written as one list in the request's language (Babel's CLDR list patterns): "2010, 2011, and 2012"
    in English, "2010、2011和2012" in Chinese. The one way a list is joined for display (also the `listed`
    filter of templates); "" for no items."""
    from babel.lists import format_list
    from flask_babel import get_locale

    items = [str(v) for v in values]
    if not items:
        return ""
    return format_list(items, locale=(get_locale() if has_request_context() else None) or DEFAULT)


def when(value, date_only: bool = False, empty: str = "—") -> str:
    """The portal's one way to write a moment, on pages and in e-mail alike: a stored time (naive UTC, an aware
    time, or an ISO text of one) as "2012-11-27 17:00" in the portal's time zone (PORTAL_TIMEZONE), a date (or with
    `date_only`, a time's local day) as "2012-11-27"; None or "" as `empty`. The text of Flask-Babel's
    `format_datetime(value, "yyyy-MM-dd HH:mm")` and `format_date(value, "yyyy-MM-dd")` (tests/unit/
    test_page_helpers.py compares them), written directly: a page of a hundred times spent a tenth of its work in
    Babel's pattern formatting."""
    from datetime import date, datetime

    from flask_babel import get_timezone

    if value is None or value == "":
        return empty
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        local = _local(value, get_timezone())
        day = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
        return day if date_only else f"{day} {local.hour:02d}:{local.minute:02d}"
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return str(value)


def _local(value, zone):
    """`value` (naive UTC, or aware) in `zone` (a pytz zone, as Flask-Babel's `get_timezone` gives): a datetime
    whose year … minute are the local time's. A naive value is moved by the zone's offset at that moment, found as
    pytz's own `fromutc` finds it (the transition in force, by bisection of the zone's UTC transition times; a fixed
    zone's one offset), without making and normalising an aware time: pytz's way cost a long table's rows about
    5 µs each (issue #14). The same fields as pytz's (tests/unit/test_page_helpers.py)."""
    from datetime import UTC

    if value.tzinfo is None:
        transitions = getattr(zone, "_utc_transition_times", None)
        if transitions is not None:
            return value + zone._transition_info[max(0, bisect_right(transitions, value) - 1)][0]
        offset = getattr(zone, "_utcoffset", None)
        if offset is not None:
            return value + offset
    return zone.normalize((value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone))


def day_writer():
    """`when(value, date_only=True)` for a long table: a function writing a stored time (naive UTC, or aware)
    as its day in the portal's time zone ("2012-11-27"; `None` as "—"), the time zone looked up once per page
    instead of once per row. The same text as `when` (tests/unit/test_page_helpers.py)."""
    from flask_babel import get_timezone

    zone = get_timezone()

    def write(value) -> str:
        if value is None:
            return "—"
        local = _local(value, zone)
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d}"

    return write


def template_translations(eval_ctx):
    """The catalogue a template's texts come from: the request's (or `force_locale`'s) language, looked up once per
    template rendered (its evaluation context), not once per string: each look-up walks Flask-Babel's context locals
    (about six), a fifth of a checklist row's render. Kept with the request's own Flask-Babel context and the locale
    it holds, and found again when either differs: a template imported without context (`{% from "_pager.html"
    import pager %}`) is kept by Jinja, evaluation context and all, from one request to the next, and
    `force_locale` changes the locale within a request."""
    space = getattr(g._get_current_object(), "_flask_babel", None) if has_app_context() else None
    locale = getattr(space, "babel_locale", None)
    if locale is None:  # no language chosen yet in this context (or none at all): ask, keep nothing
        return get_translations()
    found = getattr(eval_ctx, "portal_translations", None)
    if found is None or found[0] is not space or found[1] is not locale:
        found = eval_ctx.portal_translations = (space, locale, get_translations())
    return found[2]


def install_template_gettext(app) -> None:
    """Templates' `_`, `gettext` and `ngettext` as plain functions of the evaluation context, instead of the
    i18n extension's, which take the whole template context: Jinja then copies that context (its loop and
    block variables merged in) on every call inside a loop or block, a few hundred times per long page. Same
    results: the translation of the request's (or `force_locale`'s) language (`template_translations`), Markup
    when autoescaping, and always %-formatted, as the extension's "newstyle" gettext does."""
    from jinja2 import pass_eval_context
    from markupsafe import Markup

    translations = template_translations

    @pass_eval_context
    def gettext(eval_ctx, string: str, **variables) -> str:
        text = translations(eval_ctx).ugettext(string)
        text = Markup(text) if eval_ctx.autoescape else text  # noqa: S704  # nosec B704 - the catalogue's
        # A text without values and without "%" is its own %-formatting: the layout's two dozen fixed texts skip it.
        return text % variables if variables or "%" in text else text

    @pass_eval_context
    def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = translations(eval_ctx).ungettext(singular, plural, num)
        text = Markup(text) if eval_ctx.autoescape else text  # noqa: S704  # nosec B704 - the catalogue's
        return text % variables

    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
