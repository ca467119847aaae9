"""What each role's home page shows: where they stand and what to do next."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Assessment,
    AssessmentStatus,
    Branch,
    CampaignYear,
    Post,
    PostStatus,
    Role,
    Subject,
    User,
)
from . import firstrun, progress, workqueue
from .campaign import current_year
from .campaign import tasks_for as campaign_tasks
from .news import latest as news_latest
from .workqueue import id_param


@dataclass
class Home:
    year: CampaignYear | None
    branch_tally: progress.Tally | None = None
    branch_assessment: Assessment | None = None
    own_tally: progress.Tally | None = None
    own_assessment: Assessment | None = None
    members_total: int = 0
    members_done: int = 0
    branches_total: int = 0
    branches_submitted: int = 0
    pending_posts: int = 0
    latest_posts: list[Post] = field(default_factory=list)
    phase_tasks: list[tuple[str, str | None]] = field(default_factory=list)  # campaign: what to do now
    due_submissions: int = 0
    queue: workqueue.WorkQueue = field(default_factory=workqueue.WorkQueue)  # what waits for the person
    setup_steps: list = field(default_factory=list)  # the admin's first-run checklist, until every step is done


def _assessment(year: CampaignYear, branch_id: int, member_id: int | None) -> Assessment | None:
    values = {"year_id": year.id, "branch_id": branch_id, "member_id": member_id}
    return db.session.scalar(_assessment_statement(bool(member_id)), values)


@cache
def _assessment_statement(own: bool):
    """The branch's (`own` false) or a member's own assessment of a year (year_id, branch_id, member_id bound by
    name), built once: building a statement costs more than running it."""
    stmt = select(Assessment).where(Assessment.year_id == id_param("year_id"),
                                    Assessment.branch_id == id_param("branch_id"))
    return stmt.where(Assessment.member_id == id_param("member_id") if own else Assessment.member_id.is_(None))


def _tally_of(assessment: Assessment | None) -> progress.Tally | None:
    if assessment is None:
        return None
    return progress.overall_tallies([assessment.id])[assessment.id]


def member_coverage(year: CampaignYear, branch_id: int) -> tuple[int, int]:
    """(members of the branch, members whose own assessment is submitted or reviewed)."""
    total, done = db.session.execute(_coverage_statement(), {"year_id": year.id, "branch_id": branch_id}).one()
    return int(total), int(done)


@cache
def _coverage_statement():
    done_status = [AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED]
    return (
        select(func.count(User.id), func.count(Assessment.id))
        .select_from(User)
        .outerjoin(Assessment, (Assessment.member_id == User.id) & (Assessment.year_id == id_param("year_id"))
                   & Assessment.status.in_(done_status))
        .where(User.branch_id == id_param("branch_id"), User.active.is_(True),
               User.role.in_([Role.MEMBER, Role.SECRETARY]))
    )


@cache
def _district_counts() -> tuple:
    """The leaders' and the organisation section's two counts: active branches (read off ix_branch_active) and the
    year's (year_id bound by name) branch checklists submitted or reviewed (off ix_assessment_year_subject_status),
    each counted in its index alone, without reading the rows (migration h14h_01)."""
    return (select(func.count(Branch.id)).where(Branch.active.is_(True)),
            select(func.count(Assessment.id)).where(
                Assessment.year_id == id_param("year_id"), Assessment.subject == Subject.BRANCH,
                Assessment.status.in_([AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED])))


def for_user(user: User) -> Home:
    year = current_year()
    home = Home(year=year)
    home.latest_posts = news_latest(5)  # live posts (published, or scheduled and due), pinned first
    if user.role == Role.ADMIN:
        found = firstrun.steps()
        home.setup_steps = [] if firstrun.is_done(found) else found
    if year is None:
        return home
    home.phase_tasks, home.due_submissions = campaign_tasks(user, year)
    home.queue = workqueue.for_user(user, year)
    if user.branch_id and user.role in (Role.SECRETARY, Role.MEMBER):
        home.branch_assessment = _assessment(year, user.branch_id, None)
        home.branch_tally = _tally_of(home.branch_assessment)
        home.own_assessment = _assessment(year, user.branch_id, user.id)
        home.own_tally = _tally_of(home.own_assessment)
        if user.role == Role.SECRETARY:
            home.members_total, home.members_done = member_coverage(year, user.branch_id)
    if user.role in (Role.LEADER, Role.ADMIN):
        branches_total, branches_submitted = _district_counts()
        home.branches_total = db.session.scalar(branches_total)
        home.branches_submitted = db.session.scalar(branches_submitted, {"year_id": year.id})
    if user.role == Role.EDITOR:
        home.pending_posts = db.session.scalar(
            select(func.count(Post.id)).where(Post.status == PostStatus.PENDING)
        )
    return home
