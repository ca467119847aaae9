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
from . import campaign, firstrun, progress, workqueue
from .campaign import current_year
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


@cache
def _district_counts():
    """The leaders' and the organisation section's two counts in one statement: active branches (read off
    ix_branch_active_order, migration h14o_01) and the year's (year_id bound by name) branch checklists submitted or
    reviewed (off ix_assessment_year_subject_status, migration h14h_01), each counted in its index alone, without
    reading the rows."""
    return select(
        select(func.count(Branch.id)).where(Branch.active.is_(True)).scalar_subquery(),
        select(func.count(Assessment.id)).where(
            Assessment.year_id == id_param("year_id"), Assessment.subject == Subject.BRANCH,
            Assessment.status.in_([AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED])).scalar_subquery())


def for_user(user: User) -> Home:
    """What `user`'s home page shows in the current year (an empty page's figures when there is none): the latest
    news, the first-run steps (admin), the phase's tasks, the work queue, and the role's cards."""
    year = current_year()
    home = Home(year=year)
    home.latest_posts = news_latest(5)  # live posts (published, or scheduled and due), pinned first
    if user.role == Role.ADMIN:
        home.setup_steps = firstrun.pending_steps()  # the first-run checklist until every step is done
    if year is None:
        return home
    home.phase_tasks = campaign.phase_tasks(user, campaign.current_phase(year))
    in_branch = bool(user.branch_id) and user.role in (Role.SECRETARY, Role.MEMBER)
    # The person's own and branch's checklists, read once for the cards and the queue (workqueue.checklists).
    mine = workqueue.checklists(user, year) if in_branch or user.role == Role.EDITOR else None
    home.queue = workqueue.for_user(user, year, mine=mine)
    if in_branch:
        home.branch_assessment, home.branch_tally = mine.branch, mine.branch_tally
        if mine.own is not None and mine.own.branch_id == user.branch_id:  # the own checklist kept in this branch
            home.own_assessment, home.own_tally = mine.own, mine.own_tally
        if user.role == Role.SECRETARY:
            home.members_total, home.members_done = home.queue.members_total, home.queue.members_done
            home.due_submissions = home.queue.submissions_owed  # submissions.due_count, read with the queue
    if user.role in (Role.LEADER, Role.ADMIN):
        home.branches_total, home.branches_submitted = db.session.execute(_district_counts(),
                                                                          {"year_id": year.id}).one()
    if user.role == Role.EDITOR:
        home.pending_posts = db.session.scalar(_pending_posts_statement())
    return home


@cache
def _pending_posts_statement():
    return select(func.count(Post.id)).where(Post.status == PostStatus.PENDING)
