"""Who needs to act: each person's work queue, computed from the state of the campaign year.

Every entry says what waits, since when (days waiting) or by when (due, overdue), and links to the exact
page where the person acts. Each list is oldest first and read in one query; nothing is stored, so the
queue always follows the state. Entries only ever name records the person may act on (their own, their
branch's, or the district's for the leading group and the organisation section), so a queue never
reveals another branch's data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Integer, and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from ..collation import people_order
from ..extensions import db
from ..links import path_for, path_pattern
from ..models import (
    Assessment,
    AssessmentStatus,
    Branch,
    CampaignYear,
    FollowUp,
    FollowUpStatus,
    Inspection,
    Nomination,
    NominationStatus,
    Notification,
    Phase,
    PhaseKind,
    Pledge,
    PledgeStatus,
    Post,
    PostStatus,
    RequestKind,
    ReviewWaiting,
    Role,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    User,
)
from ..models.base import utcnow

DUE_SOON_DAYS = 3  # a submission whose deadline is this close (or passed) is on the secretary's queue
# At most this many entries per section are listed (the oldest); a longer section links to its full list.
SHOWN = 25


@dataclass(frozen=True)
class Entry:
    """One thing waiting for the person. `since` (UTC) is when it started waiting; `due` (UTC) is a deadline;
    `detail` carries a reason or a note written by someone else (escaped when shown)."""

    kind: str
    title: str
    url: str
    since: datetime | None = None
    due: datetime | date | None = None
    detail: str = ""
    object_id: int | None = None

    def days_waiting(self, now: datetime | None = None) -> int:
        """Whole days since `since` (0 on the first day)."""
        if self.since is None:
            return 0
        return max(0, ((now or utcnow()) - self.since).days)

    def overdue(self, now: datetime | None = None) -> bool:
        if self.due is None:
            return False
        if isinstance(self.due, datetime):
            return self.due < (now or utcnow())
        return self.due < (now or utcnow()).date()


@dataclass
class WorkQueue:
    """The person's queue, in sections; a section the role has not is an empty list."""

    reviews: list[Entry] = field(default_factory=list)  # leader: self-assessments and plans waiting for review
    reviews_total: int = 0
    nominations: list[Entry] = field(default_factory=list)  # leader: nominations to decide
    returned: list[Entry] = field(default_factory=list)  # secretary, member: returned work with the reason
    members_owing: list[Entry] = field(default_factory=list)  # secretary: members yet to submit
    submissions_due: list[Entry] = field(default_factory=list)  # secretary: due in 3 days or overdue
    follow_ups: list[Entry] = field(default_factory=list)  # secretary: inspection follow-ups to answer
    own: list[Entry] = field(default_factory=list)  # member, secretary: own self-assessment and pledge to do
    posts: list[Entry] = field(default_factory=list)  # editor: posts waiting; author: posts returned
    # admin: submissions and pledges to decide; secretary: members' self-assessments to review, pledges to approve
    approvals: list[Entry] = field(default_factory=list)
    overdue_requests: list[Entry] = field(default_factory=list)  # admin: requests branches have not met
    calendar: list[Entry] = field(default_factory=list)  # admin: phase dates to set
    shown: int = SHOWN  # entries listed per section; a section with more says so and links to its full list

    @property
    def total(self) -> int:
        return sum(len(v) for v in vars(self).values() if isinstance(v, list))


def _checklist_url(assessment: Assessment, year: CampaignYear) -> str:
    if assessment.member_id is not None:
        return path_for("checklist.member", owner_id=assessment.member_id, year=year.year)
    return path_for("checklist.branch", owner_id=assessment.branch_id, year=year.year)


# --- leader ---------------------------------------------------------------------------------------------

def review_queue_and_total(year: CampaignYear, limit: int | None = SHOWN + 1) -> tuple[list[Entry], int]:
    """Self-assessments waiting for the leading group's 点评, oldest submission first (at most `limit`, at least
    1): every branch's 五个好 and the branch secretaries' own 五带头 (rule "assessment.review" in
    portal/permissions.py); and how many wait in all. One statement over the kept list `review_waiting` (migration
    h14w_01, `figures.reviews_waiting`): the oldest read off its index and stopped at `limit`, the total counted in
    the year's range of that index, and only those chosen read whole with their branch and member names."""
    rows = db.session.execute(_review_queue_statement(limit), {"year_id": year.id}).all()
    out = []
    for assessment, branch_name, member_name, _total in rows:
        title = f"{branch_name} · {member_name}" if member_name else branch_name
        out.append(Entry("assessment.branch" if member_name is None else "assessment.secretary", title,
                         _checklist_url(assessment, year), since=assessment.submitted_at,
                         object_id=assessment.id))
    return out, int(rows[0][3]) if rows else 0  # no row (`limit` is at least 1): nothing waits


@cache
def _review_queue_statement(limit: int | None):
    """`review_queue_and_total`'s statement for `limit`, built once (the year a parameter): it is the leaders'
    home page's largest, and building it and its cache key cost more than running it."""
    year_id = bindparam("year_id", type_=Integer)
    oldest = (select(ReviewWaiting.assessment_id).where(ReviewWaiting.year_id == year_id)
              .order_by(ReviewWaiting.submitted_at, ReviewWaiting.assessment_id).limit(limit).subquery())
    member = aliased(User)
    return (select(Assessment, Branch.name, member.display_name, _waiting_count(year_id).scalar_subquery())
            .join(oldest, oldest.c.assessment_id == Assessment.id)
            .join(Branch, Branch.id == Assessment.branch_id)
            .outerjoin(member, member.id == Assessment.member_id)
            .order_by(Assessment.submitted_at, Assessment.id))


def _waiting_count(year_id):
    """How many reviews wait for the leading group in the year `year_id` (an id or a bound parameter)."""
    return select(func.count()).select_from(ReviewWaiting).where(ReviewWaiting.year_id == year_id)


def review_queue(year: CampaignYear, limit: int | None = SHOWN + 1) -> list[Entry]:
    """The first `limit` entries of review_queue_and_total (oldest submission first)."""
    return review_queue_and_total(year, limit)[0]


def review_count(year: CampaignYear) -> int:
    """How many self-assessments wait for the leading group's 点评 (the entries of review_queue, unlimited)."""
    return int(db.session.scalar(_waiting_count(year.id)) or 0)


def plan_count(year: CampaignYear) -> int:
    """Implementation plans handed in and waiting for the leading group's decision."""
    return int(db.session.scalar(
        select(func.count(Submission.id)).join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
        .where(SubmissionRequest.year_id == year.id, SubmissionRequest.kind == RequestKind.PLAN,
               Submission.status == SubmissionStatus.SUBMITTED)) or 0)


def next_review_url(year: CampaignYear, after_assessment_id: int) -> str | None:
    """The review page of the oldest other self-assessment on the leading group's queue ("保存并打开下一个"),
    or None when the queue is empty."""
    entries = [e for e in review_queue(year, limit=2) if e.object_id != after_assessment_id]
    return entries[0].url if entries else None


def _nominations_to_decide(year: CampaignYear, now: datetime) -> list[Entry]:
    waiting = or_(Nomination.status.in_([NominationStatus.SUBMITTED, NominationStatus.SHORTLISTED]),
                  and_(Nomination.status == NominationStatus.NOTICE, Nomination.notice_ends_at < now))
    stmt = (select(Nomination.id, Nomination.status, Nomination.created_at, Branch.name, User.display_name)
            .join(Branch, Branch.id == Nomination.branch_id).outerjoin(User, User.id == Nomination.member_id)
            .where(Nomination.year_id == year.id, waiting).order_by(Nomination.created_at, Nomination.id)
            .limit(SHOWN + 1))
    # A member's nomination names the member and the branch; a branch's (先进基层党组织) names the branch.
    return [Entry(f"nomination.{status.value}", f"{member_name} · {branch_name}" if member_name else branch_name,
                  path_for("commendation.nomination", nomination_id=nid), since=created)
            for nid, status, created, branch_name, member_name in db.session.execute(stmt)]


# --- secretary and member ------------------------------------------------------------------------------------

def _returned_work(user: User, year: CampaignYear) -> list[Entry]:
    """The user's returned self-assessments and pledges (and, for a secretary, the branch's), with the
    reason and the page to put them right."""
    out = []
    secretary = user.role == Role.SECRETARY
    values = {"year_id": year.id, "user_id": user.id, "branch_id": user.branch_id}
    assessments, pledges, submissions, posts = _returned_statements(secretary)
    for assessment in db.session.scalars(assessments, values):
        kind = "returned.branch_assessment" if assessment.member_id is None else "returned.own_assessment"
        out.append(Entry(kind, "", _checklist_url(assessment, year), since=assessment.updated_at,
                         detail=assessment.return_reason, object_id=assessment.id))
    for pledge in db.session.scalars(pledges, values):
        kind = "returned.branch_pledge" if pledge.member_id is None else "returned.own_pledge"
        out.append(Entry(kind, pledge.text[:80], path_for("campaign.pledge", pledge_id=pledge.id),
                         since=pledge.updated_at, detail=pledge.return_reason, object_id=pledge.id))
    if secretary:
        for sub_id, title, reason, decided in db.session.execute(submissions, values):
            out.append(Entry("returned.submission", title, path_for("campaign.submission", submission_id=sub_id),
                             since=decided, detail=reason, object_id=sub_id))
    for post_id, title, reason, updated in db.session.execute(posts, values):
        out.append(Entry("returned.post", title, path_for("news.edit", post_id=post_id), since=updated,
                         detail=reason, object_id=post_id))
    out.sort(key=lambda e: e.since or datetime.min)
    return out


def id_param(name: str):
    """A bound integer parameter `name` (an id, a year's id) of a statement built once and run with its values."""
    return bindparam(name, type_=Integer)


@cache
def _returned_statements(secretary: bool) -> tuple:
    """`_returned_work`'s four statements (returned assessments, pledges, submissions, posts), built once per kind
    of person (a secretary's take in the branch's own), their values bound by name (year_id, user_id,
    branch_id): building a statement and its cache key costs more than running these small ones."""
    year_id, user_id, branch_id = id_param("year_id"), id_param("user_id"), id_param("branch_id")
    assessment_cond = Assessment.member_id == user_id
    pledge_cond = Pledge.member_id == user_id
    if secretary:
        assessment_cond = or_(assessment_cond, and_(Assessment.branch_id == branch_id, Assessment.member_id.is_(None)))
        pledge_cond = or_(pledge_cond, and_(Pledge.branch_id == branch_id, Pledge.member_id.is_(None)))
    assessments = (select(Assessment).where(Assessment.year_id == year_id,
                                            Assessment.status == AssessmentStatus.RETURNED, assessment_cond)
                   .order_by(Assessment.updated_at))
    pledges = (select(Pledge).where(Pledge.year_id == year_id, Pledge.status == PledgeStatus.RETURNED, pledge_cond)
               .order_by(Pledge.updated_at))
    submissions = (select(Submission.id, SubmissionRequest.title, Submission.return_reason, Submission.decided_at)
                   .join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
                   .where(SubmissionRequest.year_id == year_id, Submission.branch_id == branch_id,
                          Submission.status == SubmissionStatus.RETURNED).order_by(Submission.decided_at))
    posts = (select(Post.id, Post.title, Post.return_reason, Post.updated_at)
             .where(Post.author_id == user_id, Post.status == PostStatus.RETURNED).order_by(Post.updated_at))
    return assessments, pledges, submissions, posts


def members_owing(year: CampaignYear, branch_id: int, exclude_user_id: int | None = None) -> list[Entry]:
    """Active members of the branch whose own 五带头 self-assessment is not submitted (or reviewed) yet,
    the ones who have not started first ("no member left out")."""
    rows = db.session.execute(_owing_statement(exclude_user_id is not None),
                              {"year_id": year.id, "branch_id": branch_id, "exclude_id": exclude_user_id}).all()
    reminded = _reminded_today([uid for uid, *_rest in rows])
    checklist = path_pattern("checklist.member", "owner_id", year=year.year)  # one URL built, not one per member
    return [Entry(f"owing.{status.value if status else 'not_started'}", name, checklist(uid), since=updated,
                  object_id=uid, detail="reminded" if uid in reminded else "")
            for uid, name, status, updated in rows]


@cache
def _owing_statement(exclude: bool):
    """`members_owing`'s statement (year_id, branch_id and, with `exclude`, exclude_id bound by name), built once."""
    done = [AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED]
    stmt = (select(User.id, User.display_name, Assessment.status, Assessment.updated_at)
            .outerjoin(Assessment, and_(Assessment.member_id == User.id, Assessment.year_id == id_param("year_id")))
            .where(User.branch_id == id_param("branch_id"), User.active.is_(True),
                   User.role.in_([Role.MEMBER, Role.SECRETARY]),
                   or_(Assessment.id.is_(None), Assessment.status.not_in(done)))
            # Those who have not started first, each group in pinyin order of the name.
            .order_by(Assessment.id.is_not(None), *people_order()))
    return stmt.where(User.id != id_param("exclude_id")) if exclude else stmt


def _reminded_today(user_ids: list[int]) -> set[int]:
    """Which of these people were reminded of their self-assessment today (the portal's local day); always one
    query, so that the home page's query count never varies with the queue."""
    from flask_babel import to_user_timezone, to_utc

    today = to_user_timezone(utcnow()).date()
    start = to_utc(datetime.combine(today, time.min)).replace(tzinfo=None)
    return set(db.session.scalars(_reminded_statement(), {"start": start, "ids": user_ids}))


@cache
def _reminded_statement():
    return select(Notification.recipient_id).where(
        Notification.kind == "reminder.self_assessment", Notification.created_at >= bindparam("start"),
        Notification.recipient_id.in_(bindparam("ids", expanding=True)))


def _submissions_due(year: CampaignYear, branch_id: int, now: datetime) -> list[Entry]:
    values = {"year_id": year.id, "branch_id": branch_id, "soon": now + timedelta(days=DUE_SOON_DAYS)}
    return [Entry("submission.due", title, path_for("campaign.submission", submission_id=sid), due=deadline,
                  object_id=sid) for sid, title, deadline in db.session.execute(_due_statement(), values)]


@cache
def _due_statement():
    return (select(Submission.id, SubmissionRequest.title, SubmissionRequest.deadline)
            .join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
            .where(SubmissionRequest.year_id == id_param("year_id"), Submission.branch_id == id_param("branch_id"),
                   Submission.status == SubmissionStatus.PENDING, SubmissionRequest.deadline < bindparam("soon"))
            .order_by(SubmissionRequest.deadline))


def _follow_ups(year: CampaignYear, branch_id: int) -> list[Entry]:
    """Open follow-ups of inspections assigned to the branch, soonest due first (the branch's own part
    only: the inspection's findings about other branches are not shown)."""
    return [Entry("follow_up", action[:120], path_for("campaign.follow_up", follow_up_id=fid), due=due_on,
                  object_id=fid)
            for fid, action, due_on, _held in db.session.execute(_follow_ups_statement(),
                                                                  {"year_id": year.id, "branch_id": branch_id})]


@cache
def _follow_ups_statement():
    return (select(FollowUp.id, FollowUp.action, FollowUp.due_on, Inspection.held_on)
            .join(Inspection, Inspection.id == FollowUp.inspection_id)
            .where(Inspection.year_id == id_param("year_id"), FollowUp.branch_id == id_param("branch_id"),
                   FollowUp.status == FollowUpStatus.OPEN)
            .order_by(FollowUp.due_on, FollowUp.id))


def _own_work(user: User, year: CampaignYear) -> list[Entry]:
    """The person's own 五带头 self-assessment until it is submitted, and their pledge until it is sent."""
    out = []
    values = {"year_id": year.id, "user_id": user.id}
    own_assessment, own_pledges = _own_statements()
    assessment = db.session.scalar(own_assessment, values)
    if assessment is None or assessment.status == AssessmentStatus.DRAFT:
        out.append(Entry("own.assessment", "", path_for("checklist.member", owner_id=user.id, year=year.year),
                         since=assessment.created_at if assessment else None))
    pledge_states = set(db.session.scalars(own_pledges, values))
    if not pledge_states:
        out.append(Entry("own.pledge_missing", "", path_for("campaign.pledges")))
    elif pledge_states == {PledgeStatus.DRAFT}:
        out.append(Entry("own.pledge_draft", "", path_for("campaign.pledges")))
    return out


@cache
def _own_statements() -> tuple:
    """`_own_work`'s two statements (year_id and user_id bound by name), built once."""
    year_id, user_id = id_param("year_id"), id_param("user_id")
    return (select(Assessment).where(Assessment.year_id == year_id, Assessment.member_id == user_id),
            select(Pledge.status).where(Pledge.year_id == year_id, Pledge.member_id == user_id))


def _member_pledges_to_approve(user: User, year: CampaignYear) -> list[Entry]:
    from .pledges import awaiting

    return [Entry("approve.pledge", _("%(field)s: %(value)s", field=member_name or branch_name, value=pledge.text[:60]),
                  path_for("campaign.pledge", pledge_id=pledge.id), since=pledge.updated_at, object_id=pledge.id)
            for pledge, branch_name, member_name in awaiting(user, year, oldest=SHOWN + 1)]


# --- editor and admin ----------------------------------------------------------------------------------------

def _posts_waiting() -> list[Entry]:
    stmt = (select(Post.id, Post.title, Post.submitted_at).where(Post.status == PostStatus.PENDING)
            .order_by(Post.submitted_at, Post.id).limit(SHOWN + 1))
    return [Entry("post.pending", title, path_for("news.post", post_id=pid), since=submitted, object_id=pid)
            for pid, title, submitted in db.session.execute(stmt)]


def _submissions_to_decide(year: CampaignYear, plans: bool) -> list[Entry]:
    """Handed-in submissions waiting for a decision, oldest first: the implementation plans (the leading
    group's, `plans`) or every other kind (the organisation section's): rule "submission.decide"."""
    return [Entry("approve.plan" if plans else "approve.submission", f"{branch_name} · {title}",
                  path_for("campaign.submission", submission_id=sid), since=submitted, object_id=sid)
            for sid, title, branch_name, submitted in db.session.execute(_to_decide(year.id, plans))]


def _to_decide(year_id: int, plans: bool):
    """`_submissions_to_decide`'s statement: (id, request title, branch name, submitted_at) of the first SHOWN + 1
    waiting, read in order from ix_submission_status_submitted (status, submitted_at, id) and stopped there, not
    every submission of every year sorted (migration h14q_01)."""
    kind_cond = SubmissionRequest.kind == RequestKind.PLAN if plans else SubmissionRequest.kind != RequestKind.PLAN
    return (select(Submission.id, SubmissionRequest.title, Branch.name, Submission.submitted_at)
            .join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
            .join(Branch, Branch.id == Submission.branch_id)
            .where(SubmissionRequest.year_id == year_id, Submission.status == SubmissionStatus.SUBMITTED, kind_cond)
            .order_by(Submission.submitted_at, Submission.id).limit(SHOWN + 1))


def _member_reviews(year: CampaignYear, branch_id: int, exclude_user_id: int | None) -> list[Entry]:
    """The branch's members' 五带头 self-assessments submitted and waiting for the secretary's review, oldest
    first (a secretary's own goes to the leading group: rule "assessment.review")."""
    values = {"year_id": year.id, "branch_id": branch_id, "exclude_id": exclude_user_id}
    checklist = path_pattern("checklist.member", "owner_id", year=year.year)
    return [Entry("review.member_assessment", name, checklist(member_id), since=submitted, object_id=aid)
            for aid, member_id, submitted, name in db.session.execute(
                _member_reviews_statement(exclude_user_id is not None), values)]


@cache
def _member_reviews_statement(exclude: bool):
    """`_member_reviews`' statement (year_id, branch_id and, with `exclude`, exclude_id bound by name), built once."""
    stmt = (select(Assessment.id, Assessment.member_id, Assessment.submitted_at, User.display_name)
            .join(User, User.id == Assessment.member_id)
            .where(Assessment.year_id == id_param("year_id"), Assessment.status == AssessmentStatus.SUBMITTED,
                   User.branch_id == id_param("branch_id"), User.role != Role.SECRETARY)
            .order_by(Assessment.submitted_at, Assessment.id).limit(SHOWN + 1))
    return stmt.where(User.id != id_param("exclude_id")) if exclude else stmt


def oldest_first(*sections: list[Entry]) -> list[Entry]:
    """Entries of several kinds as one list, the longest waiting first (an entry without a date last)."""
    merged = [entry for section in sections for entry in section]
    return sorted(merged, key=lambda e: (e.since is None, e.since or datetime.min))


def _overdue_requests(year: CampaignYear, now: datetime) -> list[Entry]:
    """Submission requests past their deadline that some branches have not met, with how many."""
    stmt = (select(SubmissionRequest.id, SubmissionRequest.title, SubmissionRequest.deadline,
                   func.count(Submission.id))
            .join(Submission, Submission.request_id == SubmissionRequest.id)
            .where(SubmissionRequest.year_id == year.id, SubmissionRequest.deadline < now,
                   Submission.status == SubmissionStatus.PENDING)
            .group_by(SubmissionRequest.id, SubmissionRequest.title, SubmissionRequest.deadline)
            .order_by(SubmissionRequest.deadline))
    return [Entry("request.overdue", title, path_for("campaign.request_page", request_id=rid), due=deadline,
                  detail=str(count), object_id=rid) for rid, title, deadline, count in db.session.execute(stmt)]


def _calendar(year: CampaignYear, today: date) -> list[Entry]:
    """Phases of the current year that have no dates yet, and a calendar that leaves today outside every
    phase before the year's last phase has ended."""
    phases = list(db.session.scalars(select(Phase).where(Phase.year_id == year.id)))
    present = {p.kind for p in phases}
    out = [Entry(f"phase.missing.{kind.value}", "", path_for("campaign.years")) for kind in PhaseKind
           if kind not in present]
    if phases and not any(p.starts_on <= today <= p.ends_on for p in phases) \
            and today < max(p.ends_on for p in phases):
        out.append(Entry("phase.gap", "", path_for("campaign.years")))
    return out


def for_user(user: User, year: CampaignYear | None, now: datetime | None = None) -> WorkQueue:
    """The user's work queue in `year` (the current campaign year; None gives an empty queue).
    `now` is naive UTC (defaults to the present)."""
    queue = WorkQueue()
    if year is None:
        return queue
    now = now or utcnow()
    if user.role == Role.LEADER:
        plans = _submissions_to_decide(year, plans=True)
        reviews, reviews_total = review_queue_and_total(year)
        queue.reviews = oldest_first(reviews, plans)
        queue.reviews_total = reviews_total + plan_count(year)  # always asked: the query count never varies
        queue.nominations = _nominations_to_decide(year, now)
    if user.role in (Role.SECRETARY, Role.MEMBER) and user.branch_id:
        queue.returned = _returned_work(user, year)
        queue.own = _own_work(user, year)
    elif user.role in (Role.EDITOR,):
        queue.returned = _returned_work(user, year)
    if user.role == Role.SECRETARY and user.branch_id:
        queue.members_owing = members_owing(year, user.branch_id, exclude_user_id=user.id)
        queue.submissions_due = _submissions_due(year, user.branch_id, now)
        queue.follow_ups = _follow_ups(year, user.branch_id)
        queue.approvals = oldest_first(_member_reviews(year, user.branch_id, user.id),
                                       _member_pledges_to_approve(user, year))
    if user.role == Role.EDITOR:
        queue.posts = _posts_waiting()
    if user.role == Role.ADMIN:
        queue.approvals = oldest_first(_submissions_to_decide(year, plans=False),
                                       _member_pledges_to_approve(user, year))
        queue.overdue_requests = _overdue_requests(year, now)
        queue.calendar = _calendar(year, now.date())
    return queue
