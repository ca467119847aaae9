"""Templates' gettext answers in the language of the request that renders them, also in macros of a template
imported without context, which Jinja keeps (with its evaluation context) from one request to the next: the pager,
the branch picker and the branch filter showed the first request's language to everyone after (found by a
browser check on /brands and /pledges), and inside `force_locale` within a request."""
from __future__ import annotations

from flask_babel import force_locale
from jinja2 import DictLoader


def _page(app):
    env = app.jinja_env.overlay(loader=DictLoader({
        "macros.html": '{% macro nav() %}{{ _("Next") }} · {{ ngettext("%(num)s branch", "%(num)s branches", 2) }}'
                       "{% endmacro %}",
        "page.html": '{% from "macros.html" import nav %}{{ nav() }} | {{ _("Previous") }}',
    }))
    return env.get_template("page.html")


def test_imported_macros_answer_each_request_in_its_language(app):
    page = _page(app)
    seen = []
    for lang in ("zh", "en", "zh", "en"):
        with app.test_request_context("/"), force_locale(lang):
            seen.append(page.render())
    chinese, english = seen[0], seen[1]
    assert "下一页" in chinese and "上一页" in chinese and "Next" not in chinese
    assert english == "Next · 2 branches | Previous"
    assert seen[2] == chinese and seen[3] == english


def test_force_locale_within_a_request(app):
    page = _page(app)
    with app.test_request_context("/"), force_locale("en"):
        before = page.render()
        with force_locale("zh"):
            inside = page.render()
        after = page.render()
    assert before == after == "Next · 2 branches | Previous"
    assert "下一页" in inside and "Next" not in inside
