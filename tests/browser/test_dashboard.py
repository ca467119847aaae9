"""A leader filters, sorts and drills into a branch in Chromium; with and without JavaScript; print view."""
import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from ..dashboard_helpers import build_district
from ..factories import PASSWORD
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def _row_names(page) -> list[str]:
    return page.locator("#dashboard-table tbody th a").all_inner_texts()


def test_leader_filters_sorts_and_opens_a_branch(page, live_server, leader):
    built = build_district(8)
    login(page, live_server, leader.username, PASSWORD)
    page.click("nav.main-nav >> text=进展看板")
    page.wait_for_url(f"{live_server}/dashboard")
    assert page.locator("#dashboard-table tbody tr").count() == 8
    screenshot(page, "dashboard-overview")

    # Filter through htmx: the table swaps in place and the address bar follows.
    page.select_option("#filter-kind", "middle")
    page.wait_for_url(re.compile(r".*kind=middle.*"))
    page.wait_for_function("document.querySelectorAll('#dashboard-table tbody tr').length === 3")
    names = _row_names(page)
    assert sorted(names) == sorted(b.name for i, b in enumerate(built.branches) if i % 3 == 1)

    # Sort by score, highest first; the filter is kept.
    page.click("#sort-score")
    page.wait_for_url(re.compile(r".*sort=-score.*"))
    assert "kind=middle" in page.url
    page.wait_for_selector('th[aria-sort="descending"] #sort-score')
    scores = page.locator("#dashboard-table tbody td.num strong").all_inner_texts()
    values = [float(s) for s in scores if s != "—"]
    assert values == sorted(values, reverse=True)
    sorted_names = _row_names(page)
    assert sorted(sorted_names) == sorted(names)

    # A bookmark of this address shows the same view, with the form showing the filter.
    page.goto(page.url)
    assert _row_names(page) == sorted_names
    assert page.locator("#filter-kind").input_value() == "middle"

    # Drill down into the first branch.
    first = sorted_names[0]
    page.click(f"text={first}")
    page.wait_for_url(re.compile(r".*/branches/\d+.*"))
    assert page.locator("h1").inner_text() == first
    assert page.locator("#branch-checklist progress").count() >= 2
    screenshot(page, "dashboard-branch")


def test_quick_filter_changes_end_on_the_last_choice(page, live_server, leader):
    """Three filters changed while the first answer is still on its way (a slow network: the page's first
    request held back): the table and the address end on all three choices, not on an earlier request's answer,
    nor on a queued one that dropped the last change (htmx's default queueing kept only the first waiting
    request)."""
    build_district(9)
    login(page, live_server, leader.username, PASSWORD)
    page.goto(f"{live_server}/dashboard")
    page.evaluate("""() => {
        const fetch = window.fetch; let n = 0;
        window.fetch = (...args) => {
            const wait = n++ === 0 ? 800 : 0;
            return new Promise(resolve => setTimeout(resolve, wait)).then(() => fetch(...args));
        };
    }""")
    page.select_option("#filter-kind", "middle")  # held back
    page.select_option("#filter-status", "reviewed")
    page.select_option("#filter-kind", "primary")  # the last choice
    page.wait_for_url(re.compile(r".*kind=primary.*status=reviewed.*"))
    page.wait_for_timeout(1200)  # past the held-back first answer: nothing may swap an older view in after
    assert "kind=primary" in page.url and "status=reviewed" in page.url
    assert page.locator("#filter-kind").input_value() == "primary"
    assert page.locator("#filter-status").input_value() == "reviewed"
    expected = page.locator("#dashboard-table tbody tr").count()
    page.goto(page.url)  # the same address loaded afresh shows the same rows
    assert page.locator("#dashboard-table tbody tr").count() == expected


@contextmanager
def _without_script(browser, live_server, user):
    """A page of a browser with JavaScript off, logged in as `user`; closed afterwards."""
    context = browser.new_context(locale="zh-CN", java_script_enabled=False, viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        login(page, live_server, user.username, PASSWORD)
        yield page
    finally:
        context.close()


def test_filters_work_without_javascript(browser, live_server, leader):
    build_district(4)
    with _without_script(browser, live_server, leader) as page:
        page.goto(f"{live_server}/dashboard")
        page.select_option("#filter-status", "reviewed")
        page.click("form.filters button[type=submit]")
        page.wait_for_url(re.compile(r".*status=reviewed.*"))
        assert page.locator("#dashboard-table tbody tr").count() == 1
        page.click("#sort-progress")
        page.wait_for_url(re.compile(r".*sort=-progress.*"))
        assert "status=reviewed" in page.url


def test_print_view_is_a_clean_report(page, live_server, leader):
    build_district(12)
    login(page, live_server, leader.username, PASSWORD)
    page.goto(f"{live_server}/dashboard")
    page.emulate_media(media="print")
    assert page.locator(".dashboard__print-title").is_visible()
    assert not page.locator("form.filters").is_visible()
    assert not page.locator(".main-nav").is_visible()
    assert page.locator("#dashboard-table").is_visible()
    screenshot(page, "dashboard-print")
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf[:4] == b"%PDF"


def test_leader_pages_through_the_branches(page, live_server, leader):
    build_district(55)
    login(page, live_server, leader.username, PASSWORD)
    page.goto(f"{live_server}/dashboard?sort=-score")
    first = _row_names(page)
    assert len(first) == 50
    page.locator("nav.dashboard__pager a", has_text="下一页").click()
    page.wait_for_url(re.compile(r".*sort=-score&page=2$"))
    page.wait_for_function("document.querySelectorAll('#dashboard-table tbody tr').length === 5")
    assert not set(_row_names(page)) & set(first)
    # The table's top is brought into view, not left below the fold where the pager was.
    top = page.evaluate("document.getElementById('dashboard-table').getBoundingClientRect().top")
    assert -5 < top < 200
    page.go_back()  # the browser's Back button returns to page 1
    expect(page.locator("#dashboard-table tbody tr")).to_have_count(50)
    assert _row_names(page) == first


def test_secretary_sees_our_branch(page, live_server):
    built = build_district(3)
    login(page, live_server, built.secretaries[0].username, PASSWORD)
    page.click("nav.main-nav >> text=本支部")
    page.wait_for_url(f"{live_server}/our-branch")
    assert page.locator("h1").inner_text() == built.branches[0].name
    assert page.locator("#branch-members tbody tr").count() == 2
    screenshot(page, "dashboard-our-branch-secretary")


@pytest.mark.parametrize("width", [1366, 1024])
def test_the_dashboard_and_grades_fit_the_screen_without_a_sideways_scroll(browser, live_server, leader, width):
    """Every column of the overview (the appraisal and grade columns last) is within the table's box at the
    widths of the district's office PCs; the grades page neither scrolls sideways (nor on a phone)."""
    from portal.services import grading

    from ..appraisal_helpers import current_year

    build_district(6)
    grading.propose(leader, current_year())
    for viewport in ({"width": width, "height": 900}, {"width": 375, "height": 800}):
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        login(page, live_server, leader.username, PASSWORD)
        if viewport["width"] == width:
            page.goto(f"{live_server}/dashboard")
            box = page.evaluate("(() => { const t = document.querySelector('.table-scroll');"
                                " return [t.scrollWidth, t.clientWidth]; })()")
            assert box[0] <= box[1], f"the overview scrolls sideways at {width} px: {box}"
            grade = page.locator("#dashboard-table thead th").last
            assert grade.inner_text().strip() == "等次" and grade.is_visible()
        page.goto(f"{live_server}/grades")
        assert page.locator("#grade-table tbody tr").count() == 6
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"grades-{viewport['width']}")
        context.close()


def test_a_name_search_shows_its_rows_then_its_figures(page, live_server, leader):
    """Issue 14: under a name search the rows come first and the cards and charts follow by a second request
    (`/dashboard/figures`), in place, without a reload; an answer of that request held back until the search changed
    fills nothing of the newer page (its figures are those of the last search)."""
    build_district(9)
    login(page, live_server, leader.username, PASSWORD)
    page.goto(f"{live_server}/dashboard")
    page.fill("#filter-q", "测试00")  # branches 0–9: all nine
    page.press("#filter-q", "Enter")
    page.wait_for_url(re.compile(r".*q=.*"))
    expect(page.locator(".stat-cards .stat-card")).to_have_count(6)
    expect(page.locator(".chart-grid figure")).to_have_count(3)
    expect(page.locator("[aria-busy]")).to_have_count(0)
    expect(page.locator(".stat-card").first).to_contain_text("/ 9")

    page.evaluate("""() => {
        const fetch = window.fetch; let held = false;
        window.fetch = (url, ...rest) => {
            const first = String(url).includes('/dashboard/figures') && !held;
            if (first) held = true;
            return new Promise(resolve => setTimeout(resolve, first ? 1000 : 0)).then(() => fetch(url, ...rest));
        };
    }""")
    page.fill("#filter-q", "测试001")  # one branch; its figures' answer held back
    page.press("#filter-q", "Enter")
    expect(page.locator("#dashboard-table tbody tr")).to_have_count(1)
    page.fill("#filter-q", "测试00")  # all nine again before that answer arrives
    page.press("#filter-q", "Enter")
    expect(page.locator("#dashboard-table tbody tr")).to_have_count(9)
    page.wait_for_timeout(1500)  # past the held-back answer
    expect(page.locator(".stat-cards .stat-card").first).to_contain_text("/ 9")
    expect(page.locator(".chart-grid")).to_have_count(1)
    screenshot(page, "dashboard-name-search")


def test_a_name_search_shows_its_figures_without_javascript(browser, live_server, leader):
    build_district(4)
    with _without_script(browser, live_server, leader) as page:
        page.goto(f"{live_server}/dashboard?q=%E6%B5%8B%E8%AF%95")
        assert page.locator("#dashboard-table tbody tr").count() == 4
        link = page.locator(".stat-cards--later a[href^='/dashboard/figures?']")  # (in <noscript>: no text= there)
        assert link.inner_text() == "显示统计数据"
        link.click()
        page.wait_for_url(re.compile(r".*/dashboard/figures\?.*q=.*"))
        assert page.locator(".stat-cards .stat-card").count() == 6
        assert page.locator("#dashboard-table tbody tr").count() == 4


def test_a_filter_refused_after_the_session_ended_leaves_the_page_and_its_address(page, live_server, leader):
    """The session ends, then the leader picks a grade: the answer (a log-in prompt) is not shown over the table,
    and the address bar keeps the view the page shows (it showed the new filter above the old table)."""
    from portal.extensions import db

    build_district(4)
    login(page, live_server, leader.username, PASSWORD)
    page.goto(f"{live_server}/dashboard")
    before = page.url
    rows = page.locator("#dashboard-table tbody tr").count()
    db.session.commit()
    leader.session_version += 1  # the session ends (as after its idle time, or a logout elsewhere)
    db.session.commit()
    page.select_option("#filter-grade", "ordinary")
    page.locator("#page-alert a[href*='/login?next=']").wait_for()
    assert page.url == before
    assert page.locator("#dashboard-table tbody tr").count() == rows


def test_back_while_a_filter_is_on_its_way_keeps_the_page_and_its_address_together(page, live_server, leader):
    """A filter chosen on a slow network, then Back before its answer: the page goes back, and the late answer
    neither swaps its view in nor pushes its address (the address said grade=ordinary over the earlier table)."""
    build_district(6)
    login(page, live_server, leader.username, PASSWORD)
    page.goto(f"{live_server}/dashboard?kind=primary")
    page.select_option("#filter-status", "reviewed")
    page.wait_for_url(re.compile(r".*status=reviewed.*"))
    expect(page.locator("#dashboard-table tbody tr")).to_have_count(0)
    page.evaluate("""() => {
        const fetch = window.fetch;
        window.fetch = (...args) => new Promise(resolve => setTimeout(resolve, 800)).then(() => fetch(...args));
    }""")
    page.select_option("#filter-grade", "ordinary")  # held back 800 ms
    page.go_back()
    page.wait_for_timeout(2500)  # past the held-back answer (and the history restore, held back too)
    assert "grade=" not in page.url and "status=" not in page.url and "kind=primary" in page.url
    assert page.locator("#filter-status").input_value() == ""
    expect(page.locator("#dashboard-table tbody tr")).to_have_count(2)  # branches 0 and 3: primary schools
