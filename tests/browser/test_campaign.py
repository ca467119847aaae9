"""The organisation section issues a plan request; a secretary submits the leading group; the grid changes."""
from datetime import timedelta

import pytest

from portal.models import utcnow

from ..factories import PASSWORD
from .conftest import login, screenshot

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_request_submit_and_grid(browser, live_server, admin, leader, secretary, branch, other_branch, tmp_path):
    admin_page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    login(admin_page, live_server, admin.username, PASSWORD)
    admin_page.click("nav.main-nav >> text=报送")
    admin_page.fill("#title", "报送创先争优活动领导小组名单和实施方案")
    admin_page.select_option("#kind", "plan")
    admin_page.fill("#deadline", (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    admin_page.click("text=下发通知")
    admin_page.wait_for_url("**/submissions/*")
    grid_url = admin_page.url
    row = admin_page.locator("tr", has_text=branch.name)
    assert row.locator("[data-state]").get_attribute("data-state") == "pending"
    screenshot(admin_page, "campaign-grid-before")

    secretary_page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    login(secretary_page, live_server, secretary.username, PASSWORD)
    secretary_page.click("nav.main-nav >> text=报送")
    secretary_page.click("a:has-text('报送') >> nth=-1")
    secretary_page.wait_for_url("**/submission/*")
    names = secretary_page.locator("input[name=group_name]")
    posts = secretary_page.locator("input[name=group_post]")
    for index, (name, post) in enumerate([("林一", "支部书记"), ("周二", "校长"), ("吴三", "教导主任")]):
        names.nth(index).fill(name)
        posts.nth(index).fill(post)
    document = tmp_path / "实施方案.pdf"
    document.write_bytes(PDF)
    secretary_page.set_input_files("#document", str(document))
    screenshot(secretary_page, "campaign-secretary-form")
    secretary_page.click("button:has-text('报送') >> nth=-1")
    assert "已报送" in secretary_page.locator(".flash").first.inner_text()
    assert "林一" in secretary_page.locator("#leading-group").inner_text()
    screenshot(secretary_page, "campaign-secretary-submitted")

    admin_page.reload()
    row = admin_page.locator("tr", has_text=branch.name)
    assert row.locator("[data-state]").get_attribute("data-state") == "submitted"
    assert admin_page.locator("tr", has_text=other_branch.name).locator("[data-state]").get_attribute(
        "data-state") == "pending"
    assert row.locator("button:has-text('通过')").count() == 0  # a plan is the leading group's to decide
    # The leading group accepts inline (htmx swaps the row).
    admin_page.context.close()
    admin_page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    login(admin_page, live_server, leader.username, PASSWORD)
    admin_page.goto(grid_url)
    row = admin_page.locator("tr", has_text=branch.name)
    row.locator("button:has-text('通过')").click()
    admin_page.locator(f"tr:has-text('{branch.name}') [data-state=accepted]").wait_for()
    accepted = admin_page.locator("#grid-summary [data-state=accepted]").locator("xpath=..")
    assert accepted.inner_text().strip().endswith("1")  # the counts follow, out of band
    assert "(0)" in admin_page.locator("#state-filter option[value=to_decide]").inner_text()  # the filter's too
    screenshot(admin_page, "campaign-grid-after")


def test_disabling_a_user_ends_their_session_in_the_browser(browser, live_server, admin, member):
    member_page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    login(member_page, live_server, member.username, PASSWORD)
    admin_page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    login(admin_page, live_server, admin.username, PASSWORD)
    admin_page.goto(f"{live_server}/admin/users/{member.id}")
    screenshot(admin_page, "admin-user")
    admin_page.click("button:has-text('停用账号')")
    assert "已停用" in admin_page.locator(".flash").first.inner_text()
    member_page.goto(f"{live_server}/pledges")
    assert "/login" in member_page.url


def test_roster_preview_reports_bad_rows(page, live_server, admin, branch, tmp_path):
    login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/admin/roster")
    roster = tmp_path / "名册.csv"
    roster.write_text(f"用户名,姓名,角色,支部\nok01,好人,党员,{branch.name}\nok01,重复,党员,{branch.name}\n"
                      "bad02,某人,校长,\n", encoding="utf-8")
    page.set_input_files("#file", str(roster))
    page.click("button:has-text('检查文件')")
    assert "不会导入任何数据" in page.locator("#roster-preview [role=alert]").inner_text()
    assert page.locator("tr.row--bad").count() == 2
    assert page.locator("text=导入 3 个账号").count() == 0
    screenshot(page, "admin-roster-preview")


def test_a_decision_on_a_filtered_grid_moves_the_next_row_up(browser, live_server, admin):
    """On 待审核, accepting a row inline removes it and brings up the row that now ends the page; the range and the
    pager follow, and page 2 starts where it should (h14lists3)."""
    from portal.services import submissions

    from ..web.test_branch_lists_paging import PER_PAGE, _request_with_states

    request = _request_with_states(admin, 140)  # 56 waiting for a decision: two pages
    waiting = [r.submission_id for r in submissions.grid(request) if r.state in submissions.TO_DECIDE]
    page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/submissions/{request.id}?state=to_decide")
    page.locator(f"#submission-{waiting[2]} button:has-text('通过')").click()
    page.locator(f"#submission-{waiting[2]}").wait_for(state="detached")
    page.locator(f"#submission-{waiting[PER_PAGE]}").wait_for()
    shown = page.locator("#grid-body tr").evaluate_all("rows => rows.map(r => r.id)")
    assert shown == [f"submission-{i}" for i in waiting[:PER_PAGE + 1] if i != waiting[2]]
    assert "共 55 个" in page.locator("#grid-range").inner_text()
    assert "(55)" in page.locator("#state-filter option[value=to_decide]").inner_text()
    page.locator("#grid-pager a[rel=next]").click()
    page.wait_for_url("**page=2**")
    assert page.locator("#grid-body tr").first.get_attribute("id") == f"submission-{waiting[PER_PAGE + 1]}"


def test_the_grid_on_a_phone_double_clicks_and_its_emptied_last_page(browser, live_server, admin):
    """At 375 px the grid scrolls in its box, not the page; a double click on 通过 makes one decision (the row shows
    已通过, no refusal); deciding the last row of the last page of 待审核 leads to the list's last page, whole,
    not a page swapped into the table (204 + HX-Redirect, which the browser's fetch does not follow)."""
    from portal.services import submissions

    from ..web.test_branch_lists_paging import PER_PAGE, _request_with_states

    request = _request_with_states(admin, 130)  # 52 waiting: page 2 of 待审核 holds two
    waiting = [r.submission_id for r in submissions.grid(request) if r.state in submissions.TO_DECIDE]
    page = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 800}).new_page()
    login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/submissions/{request.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    row = page.locator(f"#submission-{waiting[0]}")
    row.locator("button:has-text('通过')").dblclick()
    row.locator("[data-state=accepted]").wait_for()
    page.wait_for_load_state("networkidle")
    assert row.locator(".field__error").count() == 0
    page.goto(f"{live_server}/submissions/{request.id}?state=to_decide&page=2")
    assert page.locator("#grid-body tr").count() == 1  # 51 waiting now: the single row of page 2
    page.locator(f"#submission-{waiting[PER_PAGE + 1]} button:has-text('通过')").click()
    page.wait_for_url(lambda url: "page=2" not in url)
    page.locator("#grid-body tr").first.wait_for()
    assert page.locator("main").count() == 1
    shown = page.locator("#grid-body tr").evaluate_all("rows => rows.map(r => r.id)")
    assert shown == [f"submission-{i}" for i in waiting[1:PER_PAGE + 1]]


def test_a_decision_from_an_older_tab_shows_the_row_as_it_is_now(browser, live_server, admin):
    """The row was accepted elsewhere after the grid was loaded: 退回 from it shows the row as 已通过 now, with the
    refusal beside it, not the old 已报送 row."""
    from portal.extensions import db
    from portal.models import Submission
    from portal.services import submissions

    from ..web.test_branch_lists_paging import _request_with_states

    request = _request_with_states(admin, 5)
    waiting = [r.submission_id for r in submissions.grid(request) if r.state in submissions.TO_DECIDE]
    page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/submissions/{request.id}")
    submissions.accept(admin, db.session.get(Submission, waiting[0]))  # another tab
    row = page.locator(f"#submission-{waiting[0]}")
    row.locator("input[name=reason]").fill("请补充职务")
    row.locator("button:has-text('退回')").click()
    row.locator("[data-state=accepted]").wait_for()
    assert "只有已报送的材料才能通过或退回" in row.inner_text()
