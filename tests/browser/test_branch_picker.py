"""The branch picker without a mouse, in a district above MENU_MAX branches: a 报送 request's branches are found by
typing, chosen with the arrow keys and Enter (chips), one removed again with its button, and the request goes to
exactly those; the combobox says what it does (label, aria-expanded, aria-activedescendant)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Submission, utcnow
from portal.services import branch_choice

from ..factories import PASSWORD, add_branches
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_a_request_s_branches_are_chosen_with_the_keyboard(page, live_server, admin):
    branches = add_branches(branch_choice.MENU_MAX + 40)
    login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/submissions")
    field = page.get_by_role("combobox", name="添加支部")
    assert field.get_attribute("aria-expanded") == "false"
    page.fill("#title", "报送实施方案")
    page.fill("#deadline", (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    field.focus()
    page.keyboard.type("测试区第4")  # 第4, 第40…第49: eleven suggestions
    listbox = page.locator("#request-branches-list")
    listbox.locator("[role=option]").first.wait_for()
    assert field.get_attribute("aria-expanded") == "true"
    assert listbox.locator("[role=option]").count() == 11
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the second: 第40 (natural order: 第4, 第40, 第41…)
    active = field.get_attribute("aria-activedescendant")
    assert active == f"request-branches-list-{branches[40].id}"
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")  # chooses; does not send the form
    chips = page.locator("#request-branches-chosen .chip")
    assert chips.count() == 1 and "测试区第40学校党支部" in chips.first.inner_text()
    assert field.input_value() == "" and field.get_attribute("aria-expanded") == "false"
    assert page.locator("#request-branches-status").inner_text().startswith("已添加")
    page.keyboard.type("测试区第7")  # 第7, 第70…第79
    listbox.locator("[role=option]").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.type("测试区第9")
    listbox.locator("[role=option]").first.wait_for()
    page.keyboard.press("Escape")  # closes the list, keeps the text
    assert field.get_attribute("aria-expanded") == "false" and field.input_value() == "测试区第9"
    page.keyboard.press("ArrowUp")  # opens it again at the last suggestion
    assert field.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Enter")
    assert chips.count() == 3
    # Remove the second chip with its button, from the keyboard.
    remove = chips.nth(1).get_by_role("button")
    assert remove.get_attribute("aria-label") == "移除 测试区第7学校党支部"
    remove.focus()
    page.keyboard.press("Enter")
    assert chips.count() == 2
    assert page.evaluate("document.activeElement.id") == "request-branches"  # back to the field
    screenshot(page, "branch-picker-chips")
    page.get_by_role("button", name="下发通知").click()
    page.wait_for_url(f"{live_server}/submissions/*")
    db.session.commit()  # a new transaction: see what the server saved
    asked = set(db.session.scalars(select(Submission.branch_id)))
    assert asked == {branches[40].id, branches[99].id}


def test_one_branch_is_chosen_with_the_keyboard_and_the_open_list_passes_axe(browser, live_server, admin):
    from pathlib import Path

    from portal.models import Role, User

    from ..factories import UserFactory

    branches = add_branches(branch_choice.MENU_MAX + 10)
    person = UserFactory(username="moving.member", role=Role.MEMBER, branch=branches[0])
    axe = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
    context = browser.new_context(locale="zh-CN", bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/admin/users/{person.id}")
    field = page.get_by_role("combobox", name="党组织")
    assert field.input_value() == "测试区第0学校党支部"
    field.fill("")
    field.focus()
    page.keyboard.type("测试区第6")  # 第6, 第60…第69
    page.locator("#branch-list [role=option]").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.add_script_tag(path=str(axe))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.help)")
    assert violations == []
    page.keyboard.press("Enter")
    assert field.input_value() == "测试区第6学校党支部"
    assert page.locator("input[type=hidden][name=branch]").input_value() == str(branches[6].id)
    page.keyboard.press("Enter")  # the list is closed: Enter sends the form
    page.wait_for_load_state()
    page.get_by_text("账号已保存").wait_for()
    db.session.commit()
    assert db.session.get(User, person.id).branch_id == branches[6].id
    context.close()
