"""Notifications as people meet them in Chromium: the secretary reminds a member from the home page; the
member sees the unread count in the header, opens the notification and lands where to act."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Notification

from ..factories import PASSWORD
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_a_reminder_reaches_the_member(page, context, live_server, secretary, member):
    login(page, live_server, secretary.username, PASSWORD)
    owing = page.locator(f"#owing-{member.id}")
    owing.get_by_role("button", name="提醒").click()
    page.wait_for_url(f"{live_server}/#members-queue")
    assert f"已提醒{member.display_name}" in page.locator(".flashes").inner_text()
    screenshot(page, "secretary-work-queue")

    other = context.browser.new_context(locale="zh-CN")
    member_page = other.new_page()
    try:
        login(member_page, live_server, member.username, PASSWORD)
        badge = member_page.locator("[data-unread]")
        assert badge.get_attribute("data-unread") == "1"
        badge.click()
        member_page.wait_for_url(f"{live_server}/notifications")
        item = member_page.locator(".notification-list li").first
        assert f"{secretary.display_name}提醒您完成并提交" in item.inner_text()
        screenshot(member_page, "member-notifications")
        item.get_by_role("button", name="查看").click()
        member_page.wait_for_url(f"**/checklist/member/{member.id}?**")
        assert member_page.locator("[data-unread]").get_attribute("data-unread") == "0"
    finally:
        other.close()
    db.session.commit()  # end the test's read snapshot to see the server's writes
    assert db.session.scalar(select(Notification.read_at)) is not None
