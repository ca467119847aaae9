"""Who needs to act: each person's work queue, computed from the state of the campaign year.

Every entry says what waits, since when (days waiting) or by when (due, overdue), and links to the exact
page where the person acts. Each list is oldest first; nothing is stored here, so the queue always follows the
state. A secretary's sections are read in a few statements that each serve several (their own and their branch's
checklists; their pledges; their branch's people; their branch's submissions), split in Python. Entries only ever
name records the person may act on (their own, their branch's, or the district's for the leading group and the
organisation section), so a queue never reveals another branch's data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Integer, and_, bindparam, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from ..collation import people_order
from ..extensions import db
from ..links import path_for, path_pattern
from ..models import (
    Assessment,
    AssessmentStatus,
    AssessmentTally,
    Branch,
    CampaignYear,
    FollowUp,
    FollowUpStatus,
    Inspection,
    Nomination,
    NominationStatus,
    Notification,
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
from . import progress

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
    # secretary, read with the sections above for the home page: the branch's active members and secretary, those of
    # them whose own self-assessment is submitted or reviewed, and the submissions the branch owes this year
    # (pending or returned: submissions.due_count)
    members_total: int = 0
    members_done: int = 0
    submissions_owed: int = 0

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
    member_url = path_pattern("checklist.member", "owner_id", year=year.year)
    branch_url = path_pattern("checklist.branch", "owner_id", year=year.year)
    out = [Entry("assessment.branch" if member_name is None else "assessment.secretary",
                 f"{branch_name} · {member_name}" if member_name else branch_name,
                 member_url(member_id) if member_id is not None else branch_url(branch_id), since=submitted,
                 object_id=aid)
           for aid, branch_id, member_id, submitted, branch_name, member_name, _total in rows]
    return out, int(rows[0][6]) if rows else 0  # no row (`limit` is at least 1): nothing waits


@cache
def _review_queue_statement(limit: int | None):
    """`review_queue_and_total`'s statement for `limit`, built once (the year a parameter): it is the leaders'
    home page's largest, and building it and its cache key cost more than running it. Columns, not assessments:
    the 26 rows make no ORM objects."""
    year_id = bindparam("year_id", type_=Integer)
    oldest = (select(ReviewWaiting.assessment_id).where(ReviewWaiting.year_id == year_id)
              .order_by(ReviewWaiting.submitted_at, ReviewWaiting.assessment_id).limit(limit).subquery())
    member = aliased(User)
    return (select(Assessment.id, Assessment.branch_id, Assessment.member_id, Assessment.submitted_at, Branch.name,
                   member.display_name, _waiting_count(year_id).scalar_subquery())
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


def _plans_waiting(year_id):
    """SELECT count of the plans handed in and waiting for a decision in the year `year_id`: counted per plan request
    of the year in ix_submission_request_state (request_id, status) alone (`IN`: joined, SQLite walked every submitted
    submission of every request through ix_submission_status_submitted, 0.18 ms at 2,000 branches; this, 0.02 ms)."""
    plan_requests = select(SubmissionRequest.id).where(SubmissionRequest.year_id == year_id,
                                                       SubmissionRequest.kind == RequestKind.PLAN)
    return (select(func.count()).select_from(Submission)
            .where(Submission.status == SubmissionStatus.SUBMITTED, Submission.request_id.in_(plan_requests)))


def next_review_url(year: CampaignYear, after_assessment_id: int) -> str | None:
    """The review page of the oldest other self-assessment on the leading group's queue ("保存并打开下一个"),
    or None when the queue is empty."""
    entries = [e for e in review_queue(year, limit=2) if e.object_id != after_assessment_id]
    return entries[0].url if entries else None


def _nominations_to_decide(year: CampaignYear, now: datetime) -> list[Entry]:
    nomination = path_pattern("commendation.nomination", "nomination_id")
    # A member's nomination names the member and the branch; a branch's (先进基层党组织) names the branch.
    return [Entry(f"nomination.{status.value}", f"{member_name} · {branch_name}" if member_name else branch_name,
                  nomination(nid), since=created)
            for nid, status, created, branch_name, member_name in db.session.execute(
                _nominations_statement(), {"year_id": year.id, "now": now})]


@cache
def _nominations_statement():
    """`_nominations_to_decide`'s statement (year_id and now bound by name), built once."""
    waiting = or_(Nomination.status.in_([NominationStatus.SUBMITTED, NominationStatus.SHORTLISTED]),
                  and_(Nomination.status == NominationStatus.NOTICE, Nomination.notice_ends_at < bindparam("now")))
    return (select(Nomination.id, Nomination.status, Nomination.created_at, Branch.name, User.display_name)
            .join(Branch, Branch.id == Nomination.branch_id).outerjoin(User, User.id == Nomination.member_id)
            .where(Nomination.year_id == id_param("year_id"), waiting).order_by(Nomination.created_at, Nomination.id)
            .limit(SHOWN + 1))


# --- secretary and member ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checklists:
    """A person's own 五带头 self-assessment of the year (in whatever branch) and their branch's 五个好 one, each with
    its whole checklist's Tally (`progress.overall` of its kept tallies; an empty Tally when none is kept)."""

    branch: Assessment | None = None
    branch_tally: progress.Tally | None = None
    own: Assessment | None = None
    own_tally: progress.Tally | None = None


def checklists(user: User, year: CampaignYear) -> Checklists:
    """`user`'s own and their branch's checklists of `year` with their tallies, in one statement (the home page's two
    cards and the queue's own and returned parts read them all)."""
    from . import tallies as kept

    kept.apply_pending()  # as progress.overall_tallies: the transaction's own changes first
    found = {}
    rows = db.session.execute(_checklists_statement(),
                              {"year_id": year.id, "user_id": user.id, "branch_id": user.branch_id})
    for assessment, *sums in rows:
        tally = progress.Tally() if sums[0] is None else progress.tally_of(sums)
        found["branch" if assessment.member_id is None else "own"] = (assessment, tally)
    branch, branch_tally = found.get("branch", (None, None))
    own, own_tally = found.get("own", (None, None))
    return Checklists(branch, branch_tally, own, own_tally)


@cache
def _checklists_statement():
    """`checklists`' statement (year_id, user_id, branch_id bound by name), built once: the two assessments by their
    unique indexes, their kept tallies summed."""
    year_id, user_id, branch_id = id_param("year_id"), id_param("user_id"), id_param("branch_id")
    ids = union_all(select(Assessment.id).where(Assessment.year_id == year_id, Assessment.member_id == user_id),
                    select(Assessment.id).where(Assessment.year_id == year_id, Assessment.branch_id == branch_id,
                                                Assessment.member_id.is_(None))).subquery()
    return (select(Assessment, *(func.sum(column) for column in progress.tally_columns()))
            .join(ids, ids.c.id == Assessment.id)
            .outerjoin(AssessmentTally, AssessmentTally.assessment_id == Assessment.id)
            .group_by(Assessment.id))


def _returned_work(user: User, year: CampaignYear, mine: Checklists, pledges: list, tasks: list) -> list[Entry]:
    """The user's returned self-assessments, pledges and posts (and, for a secretary, the branch's), with the
    reason and the page to put them right: from the rows read for the queue (`checklists`, `_pledge_rows`, `_tasks`)."""
    out = []
    secretary = user.role == Role.SECRETARY
    assessments = [a for a in (mine.branch if secretary else None, mine.own)
                   if a is not None and a.status == AssessmentStatus.RETURNED]
    for assessment in sorted(assessments, key=lambda a: (a.updated_at, a.id)):
        kind = "returned.branch_assessment" if assessment.member_id is None else "returned.own_assessment"
        out.append(Entry(kind, "", _checklist_url(assessment, year), since=assessment.updated_at,
                         detail=assessment.return_reason, object_id=assessment.id))
    returned = [p for p in pledges if p.part in (_OWN, _BRANCH_RETURNED) and p.status == PledgeStatus.RETURNED]
    for pledge in sorted(returned, key=lambda p: (p.updated_at, p.id)):
        kind = "returned.branch_pledge" if pledge.member_id is None else "returned.own_pledge"
        out.append(Entry(kind, pledge.text[:80], path_for("campaign.pledge", pledge_id=pledge.id),
                         since=pledge.updated_at, detail=pledge.return_reason, object_id=pledge.id))
    returned = [row for row in tasks if row.part == _SUBMISSION and row.status == SubmissionStatus.RETURNED]
    for row in sorted(returned, key=lambda r: (r.at is not None, r.at or datetime.min, r.id)):
        out.append(Entry("returned.submission", row.title, path_for("campaign.submission", submission_id=row.id),
                         since=row.at, detail=row.reason, object_id=row.id))
    for row in sorted((r for r in tasks if r.part == _RETURNED_POST), key=lambda r: (r.at, r.id)):
        out.append(Entry("returned.post", row.title, path_for("news.edit", post_id=row.id), since=row.at,
                         detail=row.reason, object_id=row.id))
    out.sort(key=lambda e: e.since or datetime.min)
    return out


def id_param(name: str):
    """A bound integer parameter `name` (an id, a year's id) of a statement built once and run with its values."""
    return bindparam(name, type_=Integer)


# The parts of `_pledge_rows`: the person's own pledges of the year (any status), the branch's returned pledges, and
# the branch's members' pledges waiting for the secretary's approval.
_OWN, _BRANCH_RETURNED, _TO_APPROVE = 0, 1, 2


def _pledge_rows(user: User, year: CampaignYear, secretary: bool) -> list:
    """(part, id, member_id, branch_id, text, status, return_reason, updated_at, member name, branch name) of the
    person's pledges of the year and, for a `secretary`, the branch's returned pledges and the SHOWN + 1 of its
    members' pledges waiting longest for approval (`pledges.oldest_awaiting_ids`): one statement."""
    return db.session.execute(_pledges_statement(secretary),
                              {"year_id": year.id, "user_id": user.id, "branch_id": user.branch_id,
                               "own_branch": user.branch_id, "me": user.id}).all()


@cache
def _pledges_statement(secretary: bool):
    """`_pledge_rows`' statement, built once per kind of person: each part read by its own index (ix_pledge_member_year,
    ix_pledge_branch_year), UNION ALL, the names joined to the few rows found."""
    from .pledges import oldest_awaiting_ids

    year_id = id_param("year_id")

    def part(number: int):
        return select(literal(number, Integer).label("part"), Pledge.id, Pledge.member_id, Pledge.branch_id,
                      Pledge.text, Pledge.status, Pledge.return_reason, Pledge.updated_at)

    parts = [part(_OWN).where(Pledge.year_id == year_id, Pledge.member_id == id_param("user_id"))]
    if secretary:
        ids = oldest_awaiting_ids("branch", SHOWN + 1)
        parts += [part(_BRANCH_RETURNED).where(Pledge.branch_id == id_param("branch_id"), Pledge.year_id == year_id,
                                               Pledge.status == PledgeStatus.RETURNED, Pledge.member_id.is_(None)),
                  part(_TO_APPROVE).join(ids, ids.c.id == Pledge.id)]
    rows = union_all(*parts).subquery()
    return (select(rows, User.display_name, Branch.name).join(Branch, Branch.id == rows.c.branch_id)
            .outerjoin(User, User.id == rows.c.member_id))


# The parts of `_tasks`: the branch's submissions it still owes, its open inspection follow-ups, the person's posts
# returned by the editor.
_SUBMISSION, _FOLLOW_UP, _RETURNED_POST = 0, 1, 2


def _tasks(user: User, year: CampaignYear, secretary: bool) -> list:
    """(part, id, title, status, reason, at, deadline, due_on) rows: for a `secretary`, the branch's submissions of the
    year it still owes (pending or returned: their status, return reason, decided_at as `at`, the request's title and
    deadline) and the open follow-ups of the year's inspections assigned to it (action as title, due_on); for anyone,
    their posts returned by the editor (title, reason, updated_at as `at`). One statement, UNION ALL of the three
    (each read by its own index), for the returned, due and follow-up sections and the count of submissions owed."""
    return db.session.execute(_tasks_statement(secretary),
                              {"year_id": year.id, "branch_id": user.branch_id, "user_id": user.id}).all()


@cache
def _tasks_statement(secretary: bool):
    from sqlalchemy import Date, DateTime, String, cast, null

    year_id, branch_id = id_param("year_id"), id_param("branch_id")
    no_time, no_day, no_text = cast(null(), DateTime), cast(null(), Date), cast(null(), String)
    posts = (select(literal(_RETURNED_POST, Integer).label("part"), Post.id, Post.title.label("title"),
                    no_text.label("status"), Post.return_reason.label("reason"), Post.updated_at.label("at"),
                    no_time.label("deadline"), no_day.label("due_on"))
             .where(Post.author_id == id_param("user_id"), Post.status == PostStatus.RETURNED))
    if not secretary:
        return posts
    submissions = (select(literal(_SUBMISSION, Integer), Submission.id, SubmissionRequest.title, Submission.status,
                          Submission.return_reason, Submission.decided_at, SubmissionRequest.deadline, no_day)
                   .join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
                   .where(SubmissionRequest.year_id == year_id, Submission.branch_id == branch_id,
                          Submission.status.in_([SubmissionStatus.PENDING, SubmissionStatus.RETURNED])))
    follow_ups = (select(literal(_FOLLOW_UP, Integer), FollowUp.id, FollowUp.action, no_text, literal(""), no_time,
                         no_time, FollowUp.due_on)
                  .join(Inspection, Inspection.id == FollowUp.inspection_id)
                  .where(Inspection.year_id == year_id, FollowUp.branch_id == branch_id,
                         FollowUp.status == FollowUpStatus.OPEN))
    return union_all(posts, submissions, follow_ups)


_DONE = (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED)
_PEOPLE_ROLES = (Role.MEMBER, Role.SECRETARY)


def _branch_people(year: CampaignYear, branch_id: int) -> list:
    """Everyone whose branch is `branch_id` with their own assessment of the year: (id, name, active, role,
    assessment id, status, updated_at, submitted_at, reminded today), those who have not started first, then in pinyin
    order. "Reminded today" (the portal's local day) is asked only of those who owe their self-assessment. One
    statement for the members owing, the members' self-assessments to review and the branch's coverage."""
    from flask_babel import to_user_timezone, to_utc

    today = to_user_timezone(utcnow()).date()
    start = to_utc(datetime.combine(today, time.min)).replace(tzinfo=None)
    return db.session.execute(_people_statement(), {"year_id": year.id, "branch_id": branch_id, "start": start}).all()


@cache
def _people_statement():
    owing = and_(User.active.is_(True), User.role.in_(_PEOPLE_ROLES),
                 or_(Assessment.id.is_(None), Assessment.status.not_in(_DONE)))
    reminded = exists().where(Notification.recipient_id == User.id, Notification.kind == "reminder.self_assessment",
                              Notification.created_at >= bindparam("start"))
    return (select(User.id, User.display_name, User.active, User.role, Assessment.id, Assessment.status,
                   Assessment.updated_at, Assessment.submitted_at, case((owing, reminded), else_=False))
            .outerjoin(Assessment, and_(Assessment.member_id == User.id, Assessment.year_id == id_param("year_id")))
            .where(User.branch_id == id_param("branch_id"))
            # Those who have not started first, each group in pinyin order of the name.
            .order_by(Assessment.id.is_not(None), *people_order()))


def _owing(year: CampaignYear, people: list, exclude_user_id: int | None) -> list[Entry]:
    checklist = path_pattern("checklist.member", "owner_id", year=year.year)  # one URL built, not one per member
    return [Entry(f"owing.{status.value if status else 'not_started'}", name, checklist(uid), since=updated,
                  object_id=uid, detail="reminded" if reminded else "")
            for uid, name, active, role, aid, status, updated, _submitted, reminded in people
            if active and role in _PEOPLE_ROLES and status not in _DONE and uid != exclude_user_id]


def members_owing(year: CampaignYear, branch_id: int, exclude_user_id: int | None = None) -> list[Entry]:
    """Active members of the branch whose own 五带头 self-assessment is not submitted (or reviewed) yet,
    the ones who have not started first ("no member left out")."""
    return _owing(year, _branch_people(year, branch_id), exclude_user_id)


def _coverage(people: list) -> tuple[int, int]:
    """(the branch's active members and secretary, those of them whose own assessment is submitted or reviewed)."""
    counted = [status for _uid, _name, active, role, _aid, status, *_rest in people
               if active and role in _PEOPLE_ROLES]
    return len(counted), sum(1 for status in counted if status in _DONE)


def _member_reviews(year: CampaignYear, people: list, exclude_user_id: int | None) -> list[Entry]:
    """The branch's members' 五带头 self-assessments submitted and waiting for the secretary's review, oldest
    first (a secretary's own goes to the leading group: rule "assessment.review")."""
    checklist = path_pattern("checklist.member", "owner_id", year=year.year)
    waiting = sorted(((submitted is not None, submitted or datetime.min, aid), uid, name)
                     for uid, name, _active, role, aid, status, _updated, submitted, _reminded in people
                     if status == AssessmentStatus.SUBMITTED and role != Role.SECRETARY and uid != exclude_user_id)
    return [Entry("review.member_assessment", name, checklist(uid), since=key[1] if key[0] else None,
                  object_id=key[2]) for key, uid, name in waiting[:SHOWN + 1]]


def _submissions_due(tasks: list, now: datetime) -> list[Entry]:
    """The branch's pending submissions due within DUE_SOON_DAYS or overdue, the nearest deadline first."""
    soon = now + timedelta(days=DUE_SOON_DAYS)
    due = sorted((row for row in tasks if row.part == _SUBMISSION and row.status == SubmissionStatus.PENDING
                  and row.deadline < soon), key=lambda r: (r.deadline, r.id))
    return [Entry("submission.due", row.title, path_for("campaign.submission", submission_id=row.id),
                  due=row.deadline, object_id=row.id) for row in due]


def _follow_ups(tasks: list) -> list[Entry]:
    """Open follow-ups of inspections assigned to the branch, soonest due first (the branch's own part
    only: the inspection's findings about other branches are not shown)."""
    return [Entry("follow_up", row.title[:120], path_for("campaign.follow_up", follow_up_id=row.id), due=row.due_on,
                  object_id=row.id)
            for row in sorted((r for r in tasks if r.part == _FOLLOW_UP), key=lambda r: (r.due_on, r.id))]


def _own_work(user: User, year: CampaignYear, own: Assessment | None, pledges: list) -> list[Entry]:
    """The person's own 五带头 self-assessment until it is submitted, and their pledge until it is sent."""
    out = []
    if own is None or own.status == AssessmentStatus.DRAFT:
        out.append(Entry("own.assessment", "", path_for("checklist.member", owner_id=user.id, year=year.year),
                         since=own.created_at if own else None))
    pledge_states = {p.status for p in pledges if p.part == _OWN}
    if not pledge_states:
        out.append(Entry("own.pledge_missing", "", path_for("campaign.pledges")))
    elif pledge_states == {PledgeStatus.DRAFT}:
        out.append(Entry("own.pledge_draft", "", path_for("campaign.pledges")))
    return out


def _pledge_approvals(rows) -> list[Entry]:
    """Entries of (pledge id, text, updated_at, branch name, member name) rows waiting for the person's approval."""
    pledge = path_pattern("campaign.pledge", "pledge_id")
    return [Entry("approve.pledge", _("%(field)s: %(value)s", field=member_name or branch_name, value=text[:60]),
                  pledge(pid), since=updated, object_id=pid)
            for pid, text, updated, branch_name, member_name in rows]


# --- editor and admin ----------------------------------------------------------------------------------------

def _posts_waiting() -> list[Entry]:
    post = path_pattern("news.post", "post_id")
    return [Entry("post.pending", title, post(pid), since=submitted, object_id=pid)
            for pid, title, submitted in db.session.execute(_posts_waiting_statement())]


@cache
def _posts_waiting_statement():
    return (select(Post.id, Post.title, Post.submitted_at).where(Post.status == PostStatus.PENDING)
            .order_by(Post.submitted_at, Post.id).limit(SHOWN + 1))


def _submissions_to_decide(year: CampaignYear, plans: bool) -> tuple[list[Entry], int]:
    """Handed-in submissions waiting for a decision, oldest first: the implementation plans (the leading
    group's, `plans`) or every other kind (the organisation section's): rule "submission.decide"; and, for the
    plans, how many wait in all (`_plans_waiting`, in the same statement; 0 for the others, not counted)."""
    rows = db.session.execute(_to_decide_statement(plans), {"year_id": year.id}).all()
    submission = path_pattern("campaign.submission", "submission_id")
    entries = [Entry("approve.plan" if plans else "approve.submission", f"{row[2]} · {row[1]}", submission(row[0]),
                     since=row[3], object_id=row[0]) for row in rows]
    return entries, int(rows[0][4]) if rows and plans else 0  # no row: nothing waits


def _to_decide(year_id: int, plans: bool):
    """`_submissions_to_decide`'s statement with the year `year_id` (for tests of its plan)."""
    return _to_decide_statement(plans).params(year_id=year_id)


@cache
def _to_decide_statement(plans: bool):
    """`_submissions_to_decide`'s statement (year_id bound by name), built once: (id, request title, branch name,
    submitted_at[, plans waiting in all]) of the first SHOWN + 1 waiting, read in order from
    ix_submission_status_submitted (status, submitted_at, id) and stopped there, not every submission of every year
    sorted (migration h14q_01)."""
    year_id = id_param("year_id")
    kind_cond = SubmissionRequest.kind == RequestKind.PLAN if plans else SubmissionRequest.kind != RequestKind.PLAN
    columns = [Submission.id, SubmissionRequest.title, Branch.name, Submission.submitted_at]
    if plans:
        columns.append(_plans_waiting(year_id).scalar_subquery())
    return (select(*columns)
            .join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
            .join(Branch, Branch.id == Submission.branch_id)
            .where(SubmissionRequest.year_id == year_id, Submission.status == SubmissionStatus.SUBMITTED, kind_cond)
            .order_by(Submission.submitted_at, Submission.id).limit(SHOWN + 1))


def oldest_first(*sections: list[Entry]) -> list[Entry]:
    """Entries of several kinds as one list, the longest waiting first (an entry without a date last)."""
    merged = [entry for section in sections for entry in section]
    return sorted(merged, key=lambda e: (e.since is None, e.since or datetime.min))


def _overdue_requests(year: CampaignYear, now: datetime) -> list[Entry]:
    """Submission requests past their deadline that some branches have not met, with how many."""
    request = path_pattern("campaign.request_page", "request_id")
    return [Entry("request.overdue", title, request(rid), due=deadline, detail=str(count), object_id=rid)
            for rid, title, deadline, count in db.session.execute(_overdue_statement(),
                                                                  {"year_id": year.id, "now": now}) if count]


@cache
def _overdue_statement():
    """`_overdue_requests`' statement (year_id, now bound by name), built once: the year's requests past their deadline
    (a handful), each one's pending submissions counted in ix_submission_request_state (request_id, status) alone;
    not every pending submission of the year walked and grouped."""
    pending = (select(func.count()).select_from(Submission)
               .where(Submission.request_id == SubmissionRequest.id, Submission.status == SubmissionStatus.PENDING)
               .scalar_subquery())
    return (select(SubmissionRequest.id, SubmissionRequest.title, SubmissionRequest.deadline, pending)
            .where(SubmissionRequest.year_id == id_param("year_id"), SubmissionRequest.deadline < bindparam("now"))
            .order_by(SubmissionRequest.deadline, SubmissionRequest.id))


def _calendar(year: CampaignYear, today: date) -> list[Entry]:
    """Phases of the current year that have no dates yet, and a calendar that leaves today outside every
    phase before the year's last phase has ended."""
    phases = year.phases  # loaded with the year (CampaignYear.phases, selectin; current_year reads them with it)
    present = {p.kind for p in phases}
    out = [Entry(f"phase.missing.{kind.value}", "", path_for("campaign.years")) for kind in PhaseKind
           if kind not in present]
    if phases and not any(p.starts_on <= today <= p.ends_on for p in phases) \
            and today < max(p.ends_on for p in phases):
        out.append(Entry("phase.gap", "", path_for("campaign.years")))
    return out


def for_user(user: User, year: CampaignYear | None, now: datetime | None = None,
             mine: Checklists | None = None) -> WorkQueue:
    """The user's work queue in `year` (the current campaign year; None gives an empty queue).
    `now` is naive UTC (defaults to the present). `mine`: the user's `checklists` if the caller read them already."""
    queue = WorkQueue()
    if year is None:
        return queue
    now = now or utcnow()
    if user.role == Role.LEADER:
        plans, plans_total = _submissions_to_decide(year, plans=True)
        reviews, reviews_total = review_queue_and_total(year)
        queue.reviews = oldest_first(reviews, plans)
        queue.reviews_total = reviews_total + plans_total
        queue.nominations = _nominations_to_decide(year, now)
    in_branch = user.role in (Role.SECRETARY, Role.MEMBER) and bool(user.branch_id)
    if in_branch or user.role == Role.EDITOR:
        secretary = user.role == Role.SECRETARY and in_branch
        mine = mine if mine is not None else checklists(user, year)
        pledge_rows = _pledge_rows(user, year, secretary)
        tasks = _tasks(user, year, secretary)
        queue.returned = _returned_work(user, year, mine, pledge_rows, tasks)
        if in_branch:
            queue.own = _own_work(user, year, mine.own, pledge_rows)
        if secretary:
            people = _branch_people(year, user.branch_id)
            queue.members_owing = _owing(year, people, user.id)
            queue.members_total, queue.members_done = _coverage(people)
            queue.submissions_due = _submissions_due(tasks, now)
            queue.submissions_owed = sum(1 for row in tasks if row.part == _SUBMISSION)
            queue.follow_ups = _follow_ups(tasks)
            to_approve = [(row.id, row.text, row.updated_at, row.name, row.display_name)
                          for row in sorted((r for r in pledge_rows if r.part == _TO_APPROVE),
                                            key=lambda r: (r.updated_at, r.id))]
            queue.approvals = oldest_first(_member_reviews(year, people, user.id), _pledge_approvals(to_approve))
    if user.role == Role.EDITOR:
        queue.posts = _posts_waiting()
    if user.role == Role.ADMIN:
        from .pledges import oldest_awaiting

        queue.approvals = oldest_first(_submissions_to_decide(year, plans=False)[0],
                                       _pledge_approvals(oldest_awaiting(user, year, SHOWN + 1)))
        queue.overdue_requests = _overdue_requests(year, now)
        queue.calendar = _calendar(year, now.date())
    return queue
