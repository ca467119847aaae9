"""The main navigation: (endpoint, label, permission). Each role sees the entries it may use;
an entry whose endpoint does not exist (yet) is not shown. And the layout's fixed parts (`kept`)."""
from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from jinja2 import pass_eval_context

from .i18n import template_translations

NAV_ITEMS = [
    ("main.home", _l("Home"), "home.view"),
    ("checklist.index", _l("Self-assessment"), "checklist.own"),
    # --- checklist entries ---
    # --- dashboard entries ---
    ("dashboard.overview", _l("Progress dashboard"), "dashboard.view"),
    ("dashboard.own_branch", _l("Our branch"), "dashboard.own_branch"),
    # --- news board and commendation entries ---
    ("news.board", _l("News board"), "home.view"),
    ("news.queue", _l("Review queue"), "post.moderate"),
    ("commendation.index", _l("Commendation"), "home.view"),
    ("commendation.honours", _l("Honour roll"), "honours.view"),
    ("appraisal.hub", _l("Appraisal"), "appraisal.hub"),
    ("appraisal.grades", _l("Grades"), "grading.propose"),
    # --- campaign and administration entries ---
    ("campaign.submissions", _l("Submissions"), "submission.list"),
    ("campaign.pledges", _l("Pledges"), "pledge.list"),
    ("campaign.brands", _l("Brands and projects"), "brand.view"),
    ("campaign.inspections", _l("Supervision"), "inspection.view"),
    ("bulletins.index", _l("Bulletins"), "bulletin.view"),
    ("admin.users", _l("Administration"), "admin.manage"),
]


def menu(user) -> tuple[tuple[str | None, object, bool], ...]:
    """The header's menu for `user` in this request: one (path, label, is this page) per entry of NAV_ITEMS whose
    endpoint exists, the path None where the user may not go (permissions.can). The label is the entry's text in the
    request's language, safe markup as the lazy string it translates is to Jinja (equal to it). The paths are built
    once per process and script root, and the labels once per process and language, not on every page."""
    from flask_babel import get_locale
    from markupsafe import Markup

    from .permissions import can

    kept = current_app.extensions.setdefault("portal.nav_paths", {})
    paths = kept.get(request.script_root)
    if paths is None:
        paths = kept[request.script_root] = {endpoint: url_for(endpoint) for endpoint, _label, _action
                                             in NAV_ITEMS if endpoint in current_app.view_functions}
    locale = get_locale()
    labels = kept.get(locale)  # a Locale, never equal to a script root (a str)
    if labels is None:
        # Markup, as the lazy string is (its __html__ is the translation as it stands): the catalogue's own text.
        labels = kept[locale] = [Markup(str(label)) for _endpoint, label, _action in NAV_ITEMS]  # noqa: S704  # nosec B704
    here = request.endpoint
    return tuple((paths[endpoint] if can(user, action) else None, label, endpoint == here)
                 for (endpoint, _lazy, action), label in zip(NAV_ITEMS, labels, strict=True) if endpoint in paths)


def keeper():
    """A Flask app's `kept` for its templates (the parts it keeps are its own: its script roots, its catalogues).

    base.html's `{% call kept("name") %}…{% endcall %}`: the block's body rendered once per process, language
    (the catalogue the template's texts come from) and script root, and the same markup on every page after it,
    instead of its translations and url_for calls (about 0.2 ms a page). Only for what depends on nothing else:
    fixed texts, and url_for of static files (their versions are kept per process: static_files.py) and of
    endpoints without values; never the person, the page, its query, the time or any record. Or on `values`
    besides, the whole of what else the body shows (hashable, few: the header's menu, `menu`), kept per value.
    (A key holds its catalogue, which Flask-Babel keeps for the app's life anyway: i18n.CatalogueDomain.)"""
    parts: dict = {}

    @pass_eval_context
    def kept(eval_ctx, name: str, *values, caller):
        key = (template_translations(eval_ctx), name, request.script_root, *values)
        found = parts.get(key)
        if found is None:
            found = parts[key] = caller()
        return found

    return kept
