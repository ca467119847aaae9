"""Test data for the dashboard: a district of N branches with answers, reviews, plans, pledges, posts."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, select

from portal.extensions import db
from portal.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    AuditEvent,
    CampaignYear,
    Criterion,
    Framework,
    Item,
    ItemResult,
    Pledge,
    PledgeStatus,
    Post,
    PostCategory,
    PostStatus,
    RequestKind,
    Result,
    Review,
    ReviewRating,
    Role,
    Subject,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    UnitKind,
    utcnow,
)
from portal.services.items import in_checklist

from .factories import BranchFactory, UnitFactory, UserFactory

KINDS = [UnitKind.PRIMARY, UnitKind.MIDDLE, UnitKind.KINDERGARTEN]
STATUSES = [AssessmentStatus.DRAFT, AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED,
            AssessmentStatus.RETURNED]
RESULTS = [Result.MET, Result.PARTLY, Result.NOT_MET, Result.NOT_APPLICABLE, Result.MET]


def year(number: int | None = None) -> CampaignYear:
    stmt = select(CampaignYear)
    stmt = stmt.where(CampaignYear.year == number) if number else stmt.where(CampaignYear.is_current.is_(True))
    return db.session.scalar(stmt)


def branch_items(year_obj: CampaignYear) -> list[Item]:
    return list(db.session.scalars(
        select(Item).join(Criterion).join(Framework)
        .where(Framework.subject == Subject.BRANCH, in_checklist(year_obj.id, year_obj.year))
        .order_by(Criterion.position, Item.position)))


@dataclass
class Built:
    branches: list
    secretaries: list
    members: list


def build_district(n: int, *, start: int = 0, year_obj: CampaignYear | None = None, plan: bool = True) -> Built:
    """n branches (kinds and statuses cycling): branch i answers i+3 items, gets a review when reviewed,
    a published pledge and an exemplar post on odd i, a member who has submitted on even i, and an
    audit event. With `plan`, a plan request past its deadline that only even branches handed in."""
    year_obj = year_obj or year()
    items = [(item.id, item.text) for item in branch_items(year_obj)]  # plain values: no reload after a flush
    framework_id = db.session.scalar(select(Framework.id).where(Framework.subject == Subject.BRANCH))
    member_framework_id = db.session.scalar(select(Framework.id).where(Framework.subject == Subject.MEMBER))
    now = utcnow()
    request = None
    if plan:
        request = db.session.scalar(select(SubmissionRequest).where(
            SubmissionRequest.year_id == year_obj.id, SubmissionRequest.kind == RequestKind.PLAN))
        if request is None:
            request = SubmissionRequest(year_id=year_obj.id, kind=RequestKind.PLAN, title="实施方案",
                                        deadline=now - timedelta(days=3))
            db.session.add(request)
            db.session.flush()
    # Everything is added to the session and flushed a few times, in one transaction: the kept tallies and
    # branch summaries follow the answers through the ORM's flush events as they do in the portal, once per
    # flush instead of once per row (a commit or autoflush per row cost about 20 s of CPU at 55 branches).
    built = Built([], [], [])
    for i in range(start, start + n):
        unit = UnitFactory.build(name=f"测试{i:03d}路学校", kind=KINDS[i % len(KINDS)])
        branch = BranchFactory.build(unit=unit, name=f"测试{i:03d}路学校党支部", brand_name=f"品牌{i:03d}")
        built.branches.append(branch)
        built.secretaries.append(UserFactory.build(username=f"dsec{i}", role=Role.SECRETARY, branch=branch))
        built.members.append(UserFactory.build(username=f"dmem{i}", role=Role.MEMBER, branch=branch))
        db.session.add_all([unit, branch, built.secretaries[-1], built.members[-1]])
    db.session.flush()
    assessments = []
    for i, branch in enumerate(built.branches, start):
        assessment = Assessment(year_id=year_obj.id, framework_id=framework_id, subject=Subject.BRANCH,
                                branch_id=branch.id, status=STATUSES[i % len(STATUSES)],
                                updated_at=now - timedelta(days=i))
        assessments.append(assessment)
        db.session.add(assessment)
    db.session.flush()
    for i, branch, secretary, member, assessment in zip(range(start, start + n), built.branches,
                                                        built.secretaries, built.members, assessments,
                                                        strict=True):
        status = assessment.status
        for k, (item_id, item_text) in enumerate(items[:i + 3]):
            db.session.add(ItemResult(assessment_id=assessment.id, item_id=item_id,
                                      result=RESULTS[(i + k) % len(RESULTS)], item_text=item_text,
                                      updated_at=now - timedelta(days=i)))
        if status != AssessmentStatus.DRAFT:
            db.session.add(AssessmentEvent(assessment_id=assessment.id, actor_id=secretary.id, action="submit",
                                           from_status="draft", to_status="submitted", at=now))
        if status == AssessmentStatus.REVIEWED:
            db.session.add(Review(assessment_id=assessment.id, year_id=year_obj.id, branch_id=branch.id,
                                  rating=ReviewRating.GOOD, comment="扎实有序"))
        if i % 2 == 0:
            db.session.add(Assessment(year_id=year_obj.id, framework_id=member_framework_id,
                                      subject=Subject.MEMBER, branch_id=branch.id, member_id=member.id,
                                      status=AssessmentStatus.SUBMITTED, updated_at=now - timedelta(days=i)))
        else:
            db.session.add(Pledge(year_id=year_obj.id, branch_id=branch.id, text=f"承诺{i}",
                                  status=PledgeStatus.APPROVED, approved_at=now))
            db.session.add(Post(category=PostCategory.BRANCH_EXEMPLAR, title=f"风采{i}", year_id=year_obj.id,
                                branch_id=branch.id, status=PostStatus.PUBLISHED, published_at=now))
        if request is not None and i % 2 == 0:
            db.session.add(Submission(request_id=request.id, branch_id=branch.id,
                                      status=SubmissionStatus.SUBMITTED, submitted_at=now))
        db.session.add(AuditEvent(actor_name=secretary.username, action="checklist.tick", branch_id=branch.id,
                                  object_type="itemresult", object_id=1, at=now - timedelta(days=i)))
    db.session.commit()
    return built


def at(days_ago: int) -> datetime:
    return utcnow() - timedelta(days=days_ago)


def count_statements(client, url: str, *, htmx: bool = False, method: str = "GET", data: dict | None = None) -> int:
    """SQL statements that one request of `url` runs (a POST as an htmx request with the CSRF token)."""
    found = []

    def count(*args):
        found.append(args[2])

    headers = {"HX-Request": "true"} if htmx or method == "POST" else {}
    if method == "POST":
        headers["X-CSRFToken"] = client.csrf_token()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.open(url, method=method, data=data, headers=headers).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    if os.environ.get("SHOW_STATEMENTS"):  # (debugging)
        print(url, *(" ".join(s.split())[:160] for s in found), sep="\n  ")
    return len(found)
