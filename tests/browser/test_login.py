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
    assert page.locator("progress").count() >= 0
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
