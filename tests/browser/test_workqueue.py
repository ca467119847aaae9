"""The leader's work queue in Chromium: three branches reviewed in a row with "保存并打开下一个"."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assessment, AssessmentStatus, Result, Review, utcnow

from ..checklist_helpers import make_assessment
from ..factories import PASSWORD, BranchFactory
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_leader_reviews_three_branches_in_a_row(page, live_server, leader):
    branches = [BranchFactory() for _ in range(3)]
    for days, branch in zip((6, 4, 2), branches, strict=True):  # the oldest first on the queue
        assessment = make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
        assessment.submitted_at = utcnow() - timedelta(days=days)
    db.session.commit()
    login(page, live_server, leader.username, PASSWORD)
    queue = page.locator("#review-queue")
    assert queue.locator("li").count() == 3
    assert "等待 6 天" in queue.locator("li").first.inner_text()
    screenshot(page, "leader-review-queue")
    queue.get_by_role("link", name=branches[0].name).click()
    for index, branch in enumerate(branches):
        page.wait_for_url(f"**/checklist/branch/{branch.id}?**")
        assert branch.name in page.locator("h1").inner_text()
        page.get_by_label("较好").check()
        page.fill("#review-comment", f"第{index + 1}个支部：工作扎实。")
        page.get_by_role("button", name="保存并打开下一个").click()
    page.wait_for_url(f"{live_server}/#review-queue")
    assert "没有等待点评的自评或实施方案" in page.locator("#review-queue").inner_text()
    assert "点评已保存" in page.locator(".flashes").inner_text()
    screenshot(page, "leader-review-queue-done")
    db.session.commit()  # end the test's read snapshot to see the server's writes
    assert db.session.scalar(select(func.count(Review.id))) == 3
    assert set(db.session.scalars(select(Assessment.status))) == {AssessmentStatus.REVIEWED}


def test_long_text_without_spaces_never_widens_the_page(page, live_server, leader, secretary, member, branch):
    """A title, a name or a reason typed without spaces wraps inside its card, queue, list or table (it made the
    page 5,831 px wide at 1024 px); the queue's secondary buttons look like buttons."""
    from portal.services import notifications

    long_word = "长" * 40 + "x" * 400
    other = BranchFactory(name=("支部" + long_word)[:120])  # the longest name a branch may have
    assessment = make_assessment(other, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    assessment.submitted_at = utcnow() - timedelta(days=1)
    notifications.notify([leader, secretary], "post.waiting", "long", "/news", what=long_word)
    member.display_name = "党员" + long_word[:60]
    db.session.commit()
    page.set_viewport_size({"width": 1024, "height": 800})
    for user in (leader, secretary):
        page.context.clear_cookies()
        login(page, live_server, user.username, PASSWORD)
        for path in ("/", "/notifications"):
            page.goto(live_server + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1024, f"{user.username} {path}: {width}px wide"
        page.goto(live_server + "/")
        if user is secretary:
            remind = page.locator("#members-queue button", has_text="提醒").first
            border = remind.evaluate("b => getComputedStyle(b).borderTopColor")
            assert border not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)") and "0.6" not in border
            screenshot(page, "long-text-secretary-home")
