"""The checklist as people use it, in Chromium."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AssessmentStatus, ItemResult, Result, Subject

from ..checklist_helpers import items, make_assessment
from ..factories import PASSWORD, UserFactory
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def overall_value(page) -> float:
    return float(page.locator("#overall-meter progress").get_attribute("value"))


def test_secretary_ticks_and_progress_moves_without_reload(page, live_server, secretary, branch):
    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/checklist/branch/{branch.id}")
    page.evaluate("window.__marker = 'same-page'")
    assert overall_value(page) == 0
    item = items(Subject.BRANCH)[0]
    row = page.locator(f"#item-{item.id}")
    row.get_by_role("button", name="达标", exact=True).click()
    page.locator(f"#item-{item.id} button[value=met][aria-pressed=true]").wait_for()
    page.wait_for_function("document.querySelector('#overall-meter progress').value > 0")
    assert page.evaluate("window.__marker") == "same-page"  # no navigation happened
    criterion_bar = page.locator(f"#criterion-{item.criterion_id}-meter progress")
    assert float(criterion_bar.get_attribute("value")) > 0
    assert page.locator(f"#item-{item.id} .warning").is_visible()  # met without note or evidence
    # A note removes the warning, inline.
    page.locator(f"#item-{item.id} summary").click()
    page.fill(f"#note-{item.id}", "已召开专题学习会，见会议记录。")
    page.locator(f"#item-{item.id} .item__note button").click()
    page.locator(f"#item-{item.id} .warning").wait_for(state="detached")
    screenshot(page, "checklist-secretary")
    db.session.commit()  # end the test's read snapshot to see the server's writes
    saved = db.session.scalar(select(ItemResult).where(ItemResult.item_id == item.id))
    assert saved.result == Result.MET and saved.note.startswith("已召开")


def test_two_secretaries_tick_different_items_at_once(browser, live_server, secretary, branch):
    second = UserFactory(username="sec-a2", role=secretary.role, branch=branch)
    first_item, second_item = items(Subject.BRANCH)[:2]
    pages = []
    for user in (secretary, second):
        context = browser.new_context(locale="zh-CN")
        p = context.new_page()
        login(p, live_server, user.username, PASSWORD)
        p.goto(f"{live_server}/checklist/branch/{branch.id}")
        pages.append(p)
    # Both click as close together as the browser allows.
    pages[0].evaluate(f"document.querySelector('#item-{first_item.id} button[value=met]').click()")
    pages[1].evaluate(f"document.querySelector('#item-{second_item.id} button[value=partly]').click()")
    pages[0].locator(f"#item-{first_item.id} button[value=met][aria-pressed=true]").wait_for()
    pages[1].locator(f"#item-{second_item.id} button[value=partly][aria-pressed=true]").wait_for()
    db.session.commit()  # end the test's read snapshot to see the server's writes
    saved = dict(db.session.execute(select(ItemResult.item_id, ItemResult.result)).all())
    assert saved == {first_item.id: Result.MET, second_item.id: Result.PARTLY}
    for p in pages:
        p.context.close()


def test_member_completes_five_leads_and_submits(page, live_server, member):
    login(page, live_server, member.username, PASSWORD)
    page.get_by_role("link", name="自评", exact=True).click()
    page.wait_for_url(f"**/checklist/member/{member.id}")
    for item in items(Subject.MEMBER):
        page.locator(f"#item-{item.id} button[value=met]").click()
        page.locator(f"#item-{item.id} button[value=met][aria-pressed=true]").wait_for()
    page.wait_for_function("document.querySelector('#overall-meter progress').value == 100")
    page.get_by_role("button", name="提交给支部书记").click()
    page.wait_for_load_state()
    assert "已提交" in page.locator(".summary").inner_text()
    assert page.locator(f"#item-{items(Subject.MEMBER)[0].id} button[value=met]").is_disabled()
    screenshot(page, "checklist-member-submitted")


def test_leader_returns_with_reason_and_secretary_sees_it(page, live_server, leader, secretary, branch):
    make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    login(page, live_server, leader.username, PASSWORD)
    page.goto(f"{live_server}/checklist/branch/{branch.id}")
    page.fill("#return-reason", "请补充“工作机制好”的制度汇编材料。")
    page.get_by_role("button", name="退回", exact=True).click()
    page.wait_for_load_state()
    assert "已退回" in page.locator(".summary").inner_text()
    page.get_by_role("button", name="退出").click()
    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/checklist/branch/{branch.id}")
    alert = page.locator(".flash--warning[role=alert]")
    assert "制度汇编材料" in alert.inner_text()
    assert page.locator(f"#item-{items(Subject.BRANCH)[0].id} button[value=met]").is_enabled()
    screenshot(page, "checklist-returned")


def test_submitted_checklist_answers_409_in_place(page, live_server, secretary, branch):
    make_assessment(branch, answer_all=Result.MET)
    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/checklist/branch/{branch.id}")
    # Someone submits in another tab; this page still shows the buttons enabled.
    other = page.context.new_page()
    other.goto(f"{live_server}/checklist/branch/{branch.id}")
    other.get_by_role("button", name="提交给领导小组").click()
    other.wait_for_load_state()
    item = items(Subject.BRANCH)[0]
    page.locator(f"#item-{item.id} button[value=partly]").click()
    page.locator(f"#item-{item.id}-error").wait_for()
    assert "已提交" in page.locator(f"#item-{item.id}-error").inner_text()


