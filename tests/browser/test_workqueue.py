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
    assert "目前没有等待点评的自评" in page.locator("#review-queue").inner_text()
    assert "点评已保存" in page.locator(".flashes").inner_text()
    screenshot(page, "leader-review-queue-done")
    db.session.commit()  # end the test's read snapshot to see the server's writes
    assert db.session.scalar(select(func.count(Review.id))) == 3
    assert set(db.session.scalars(select(Assessment.status))) == {AssessmentStatus.REVIEWED}
