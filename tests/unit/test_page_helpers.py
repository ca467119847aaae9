"""Helpers that let a long page do its per-row work once (issue #14): they give exactly what the per-row
calls gave."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for

from portal.i18n import day_writer, when
from portal.links import page_pattern, path_for, path_pattern, text_pattern, url_parts, url_pattern


def test_url_pattern_is_url_for(app):
    with app.test_request_context("/"):
        branch = url_pattern("dashboard.branch", "branch_id", year=2012)
        member = url_pattern("checklist.member", "owner_id", year=2011)
        for n in (1, 7, 42, 2000, 123456):
            assert branch(n) == url_for("dashboard.branch", branch_id=n, year=2012)
            assert member(n) == url_for("checklist.member", owner_id=n, year=2011)
        # A query argument too (written first, as url_for writes its arguments in the order given).
        assert url_pattern("dashboard.overview", "page", year=2012)(3) == url_for("dashboard.overview", page=3,
                                                                                  year=2012)


def test_path_pattern_is_path_for(app):
    """Outside a request (the demo's notifications): the same paths as path_for, the id in the path or the query."""
    branch = path_pattern("checklist.branch", "owner_id", year=2012)
    submission = path_pattern("campaign.submission", "submission_id")
    for n in (1, 7, 42, 2000, 123456):
        assert branch(n) == path_for("checklist.branch", owner_id=n, year=2012)
        assert submission(n) == path_for("campaign.submission", submission_id=n)
    assert path_pattern("dashboard.overview", "page", year=2012)(3) == path_for("dashboard.overview", page=3, year=2012)


def test_url_pattern_under_a_prefix(app):
    with app.test_request_context("/", base_url="http://portal.invalid/sub/"):
        assert url_pattern("dashboard.branch", "branch_id")(5) == url_for("dashboard.branch", branch_id=5)


@pytest.mark.parametrize("args", [{}, {"year": "2012"}, {"year": "2012", "kind": "primary", "q": "明德 路&1",
                                                           "sort": "-score", "per_page": "20"}])
def test_page_pattern_is_url_for(app, args):
    with app.test_request_context("/"):
        page = page_pattern(url_for("dashboard.overview", **args))
        assert page(1) == url_for("dashboard.overview", **args)
        for n in (2, 3, 40):
            assert page(n) == url_for("dashboard.overview", **args, page=n)


@pytest.mark.parametrize("args", [{}, {"year": "2012"}, {"year": "2012", "kind": "primary", "q": '明德 路&1 "<b>" 50%+',
                                                           "sort": "-score", "per_page": "20"}])
def test_text_pattern_is_url_for(app, args):
    """The sort links of the overview's headers: the text in the place of `sort` among the arguments (first when it
    is not one of them, as url_pattern writes its key), encoded as url_for encodes it."""
    with app.test_request_context("/"):
        sort = text_pattern("dashboard.overview", "sort", **args)
        for text in ("name", "-name", "c1", "-c5", "-score", "a b&c=d/é?+#"):
            ordered = {**args, "sort": text} if "sort" in args else {"sort": text, **args}
            assert sort(text) == url_for("dashboard.overview", **ordered)


def test_url_parts_are_url_for(app):
    with app.test_request_context("/", base_url="http://portal.invalid/sub/"):
        before, after = url_parts("dashboard.branch", "branch_id", year=2012)
        assert f"{before}42{after}" == url_for("dashboard.branch", branch_id=42, year=2012)
        before, after = url_parts("dashboard.overview", "page", year=2012, q="a&b")
        assert f"{before}3{after}" == url_for("dashboard.overview", page=3, year=2012, q="a&b")


def test_day_writer_is_when(app):
    with app.test_request_context("/"):
        write = day_writer()
        start = datetime(2012, 3, 10, 15, 0)
        for minutes in range(0, 24 * 60, 17):  # around the portal's midnight (16:00 UTC in Beijing)
            moment = start + timedelta(minutes=minutes)
            assert write(moment) == when(moment, date_only=True)
            aware = moment.replace(tzinfo=UTC)
            assert write(aware) == when(aware, date_only=True)
        assert write(None) == when(None) == "—"


@pytest.mark.parametrize("who", ["admin", "leader", "editor", "secretary", "member"])
def test_menu_is_what_the_template_computed(app, request, who):
    """The header's menu: the entries the role may use, linked as url_for links them, the page's own marked;
    the paths kept per script root (an app behind a prefix gets its own)."""
    from flask_login import login_user

    from portal.navigation import NAV_ITEMS, menu
    from portal.permissions import can

    user = request.getfixturevalue(who)
    for base in ("http://portal.invalid/", "http://portal.invalid/sub/"):
        with app.test_request_context("/dashboard", base_url=base):
            app.preprocess_request()
            login_user(user)
            expected = [(url_for(endpoint) if can(user, action) else None, label, endpoint == "dashboard.overview")
                        for endpoint, label, action in NAV_ITEMS if endpoint in app.view_functions]
            assert menu(user) == tuple(expected)  # a tuple: the kept menu is looked up by it
            assert any(href for href, _label, _here in expected)


def test_page_numbers_link_a_window_of_pages_whatever_their_number():
    from portal.services.paging import page_numbers

    assert page_numbers(1, 1) == [1]
    assert page_numbers(2, 4) == [1, 2, 3, 4]
    assert page_numbers(1, 40) == [1, 2, 3, None, 40]
    assert page_numbers(7, 40) == [1, None, 5, 6, 7, 8, 9, None, 40]
    assert page_numbers(4, 40) == [1, 2, 3, 4, 5, 6, None, 40]  # a gap of one page shows the page
    assert page_numbers(40, 40) == [1, None, 38, 39, 40]
    for pages in (1, 5, 40, 2000):
        for page in range(1, pages + 1, 7):
            numbers = page_numbers(page, pages)
            assert len(numbers) <= 9 and numbers[0] == 1 and numbers[-1] == pages and page in numbers
            shown = [n for n in numbers if n]
            assert shown == sorted(set(shown))


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC", "Etc/GMT-8"])
def test_when_writes_what_babel_wrote(app, zone):
    """`when` writes the text Flask-Babel's pattern formatting gave, in any portal time zone (summer time too)."""
    from flask_babel import format_date, format_datetime, refresh

    app.config["BABEL_DEFAULT_TIMEZONE"] = zone
    with app.test_request_context("/"):
        refresh()
        start = datetime(2012, 3, 10, 15, 0)
        for minutes in range(0, 240 * 24 * 60, 997):  # eight months: midnights and both summer-time changes
            moment = start + timedelta(minutes=minutes)
            assert when(moment) == format_datetime(moment, "yyyy-MM-dd HH:mm")
            assert when(moment, date_only=True) == format_date(moment, "yyyy-MM-dd")
            assert when(moment.replace(tzinfo=UTC)) == format_datetime(moment, "yyyy-MM-dd HH:mm")
            assert when(moment.isoformat()) == format_datetime(moment, "yyyy-MM-dd HH:mm")
            assert when(moment.date()) == format_date(moment.date(), "yyyy-MM-dd")
        assert when(datetime(987, 6, 5, 4, 3)) == format_datetime(datetime(987, 6, 5, 4, 3), "yyyy-MM-dd HH:mm")
        assert when(None) == when("") == "—" and when("not a time") == "not a time"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC",
                                  "Etc/GMT-8"])
def test_local_time_is_pytz_at_every_transition(zone):
    """`_local` moves a naive UTC time by the offset pytz's own conversion applies, at and around each of the zone's
    transitions (the first microsecond of each, and the last before it) and far before and after them."""
    import pytz

    from portal.i18n import _local

    tz = pytz.timezone(zone)
    moments = [datetime(1, 1, 2), datetime(1900, 1, 1), datetime(2026, 12, 2, 16, 30), datetime(9999, 12, 30)]
    for at in getattr(tz, "_utc_transition_times", [])[1:]:
        moments += [at, at - timedelta(microseconds=1), at + timedelta(minutes=30)]
    for moment in moments:
        expected = tz.normalize(moment.replace(tzinfo=UTC).astimezone(tz))
        assert _local(moment, tz).timetuple()[:6] == expected.timetuple()[:6], moment
        assert _local(moment.replace(tzinfo=UTC), tz) == expected


@pytest.mark.parametrize(("value", "page"), [(None, 1), ("", 1), ("abc", 1), ("-1", 1), ("0", 1), ("2.5", 1),
                                             ("２", 1), (" 3 ", 3), ("99", 99), ("9" * 6, 99_999),
                                             ("9" * 20, 99_999), ("9" * 5000, 99_999)])
def test_requested_page(value, page):
    """The one reading of a list's `page` parameter: a number past the end, however long, is a big page (the
    window then shows the last), as 99 is; anything not a page number is the first."""
    from portal.services.paging import requested_page

    assert requested_page(value) == page


def test_every_list_reads_its_page_the_same_way(client, app, admin):
    """The news board, the pledges, and the admin's lists read a huge page number as they read a page just past
    the end (before, some read it as the first): the same answer, the form tokens aside."""
    import re

    from tests.news_helpers import make_post

    for n in range(25):  # more than a page of the board
        make_post(admin, title=f"事迹{n}")
    client.login(admin)
    for path in ("/news", "/pledges", "/admin/users", "/admin/branches", "/admin/audit"):
        past, huge = client.get(f"{path}?page=99"), client.get(f"{path}?page=" + "9" * 30)
        assert past.status_code == huge.status_code == 200, path
        token = re.compile(r'((?:content|value)=")[A-Za-z0-9_.-]{20,}')  # CSRF and one-time form tokens
        huge_text = huge.get_data(as_text=True).replace("9" * 30, "99")  # its own address (the language links)
        assert token.sub(r"\1", past.get_data(as_text=True)) == token.sub(r"\1", huge_text), path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_translated_labels_render_as_the_lazy_ones(app, lang):
    """labels.Translated: each label the lazy string's text in the request's language, markup as the lazy string is
    to Jinja (not escaped again), translated once and kept; a key the mapping lacks raises KeyError as it does."""
    from flask_babel import force_locale
    from markupsafe import Markup

    from portal import labels

    with app.test_request_context("/"), force_locale(lang):
        kept = labels.Translated(labels.QUEUE_ENTRY)
        for key, lazy in labels.QUEUE_ENTRY.items():
            assert kept[key] == str(lazy) and isinstance(kept[key], Markup)
            assert kept[key] is kept[key]
        template = app.jinja_env.from_string("{{ a }}|{{ b }}")
        key = next(iter(labels.QUEUE_ENTRY))
        assert template.render(a=labels.QUEUE_ENTRY[key], b=kept[key]) == f"{kept[key]}|{kept[key]}"
        with pytest.raises(KeyError):
            kept["no.such.kind"]  # noqa: B018


def test_template_gettext_of_fixed_texts_and_percent_signs(app):
    """Templates' `_` gives a text without values as the catalogue has it, and still %-formats one with values or
    a literal "%%" (as Flask-Babel's newstyle gettext does)."""
    from flask_babel import force_locale, gettext

    render = app.jinja_env.from_string('{{ _("Log out") }}|{{ _("100%% sure") }}|{{ _("%(n)s%%", n=5) }}').render
    with app.test_request_context("/"), force_locale("en"):
        assert render() == "Log out|100% sure|5%"
    with app.test_request_context("/"), force_locale("zh"):
        assert render() == f"{gettext('Log out')}|100% sure|5%" and gettext("Log out") != "Log out"
