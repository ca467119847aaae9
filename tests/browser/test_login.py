"""A person logs in through the real form in Chromium."""
import pytest

from ..factories import PASSWORD
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_secretary_logs_in_through_the_form(page, live_server, secretary):
    page.goto(live_server + "/")
    assert "/login" in page.url
    assert page.locator("h1").inner_text() == "登录"
    login(page, live_server, secretary.username, PASSWORD)
    assert secretary.display_name in page.locator("h1").inner_text()
    # A secretary's home shows the branch's and their own checklist progress, both untouched: 0 %.
    bars = page.locator("progress")
    assert bars.count() == 2
    assert [bars.nth(i).get_attribute("value") for i in range(2)] == ["0", "0"]
    path = screenshot(page, "home-secretary")
    assert path.stat().st_size > 10_000


def test_wrong_password_shows_message_and_stays(page, live_server, secretary):
    page.goto(live_server + "/login")
    page.fill("#username", secretary.username)
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.locator("[role=alert]").inner_text()
    assert "/login" in page.url


def test_language_switch_in_the_header(page, live_server, member):
    login(page, live_server, member.username, PASSWORD)
    page.click("text=English")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Welcome" in page.locator("h1").inner_text()
    page.reload()
    assert "Welcome" in page.locator("h1").inner_text()


def test_logout_ends_the_session(page, live_server, member):
    login(page, live_server, member.username, PASSWORD)
    page.click("text=退出")
    page.wait_for_url("**/login")
    page.goto(live_server + "/")
    assert "/login" in page.url


def test_htmx_click_after_the_session_ended_goes_to_login(page, live_server, secretary, branch):
    from portal.extensions import db
    from portal.models import Subject

    from ..checklist_helpers import items

    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/checklist/branch/{branch.id}")
    db.session.rollback()  # a fresh transaction: the server has written since our last read
    secretary.session_version += 1  # e.g. logged out elsewhere
    db.session.commit()
    item = items(Subject.BRANCH)[0]
    page.locator(f"#item-{item.id} button[value=met]").click()
    page.wait_for_url(lambda url: "/login?next=" in url)
    assert page.locator("h1").inner_text() == "登录"
    assert page.url.endswith(f"next=/checklist/branch/{branch.id}")  # back to the page, not to the POST
    page.fill("#username", secretary.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/checklist/branch/{branch.id}")
