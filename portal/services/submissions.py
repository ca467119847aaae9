"""报送: the organisation section asks branches for documents by a deadline; branches submit;
the organisation section accepts or returns each submission with a reason."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Integer, and_, bindparam, case, func, insert, literal, select
from werkzeug.datastructures import FileStorage

from ..collation import branch_order
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..input_guard import parse_ids
from ..links import path_for
from ..models import (
    Branch,
    CampaignYear,
    GroupRole,
    LeadingGroupMember,
    RequestKind,
    Role,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    User,
    utcnow,
)
from . import audit, branch_choice, notifications, paging, uploads
from .campaign import ensure_writable, parse_datetime
from .versions import check_version

UPLOAD_KIND = "submissions"
# What the grid shows per branch; "overdue" is a pending submission past the deadline, "late" a
# submission handed in after it (accepted, but marked).
GRID_STATES = ("pending", "overdue", "submitted", "late", "returned", "accepted")


@dataclass(frozen=True)
class GridRow:
    submission_id: int
    branch_id: int
    branch_name: str
    state: str
    submitted_at: datetime | None
    return_reason: str
    version: int  # the submission's version, carried by the accept and return forms of its row


def get_request(request_id: int) -> SubmissionRequest:
    request = db.session.get(SubmissionRequest, request_id)
    if request is None:
        raise NotFound()
    return request


def get_submission(submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        raise NotFound()
    return submission


def submission_for(request: SubmissionRequest, branch_id: int | None) -> Submission:
    submission = db.session.scalar(select(Submission).where(
        Submission.request_id == request.id, Submission.branch_id == branch_id))
    if submission is None:
        raise NotFound(str(_l("This request was not sent to your branch.")))
    return submission


def create_request(actor, year: CampaignYear, *, kind: str, title: str, description: str, deadline: str,
                   branch_ids: list[str] | None) -> SubmissionRequest:
    ensure_writable(year.id)
    errors: dict = {}
    title = (title or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _l("Enter a title of at most 200 characters.")
    try:
        kind_value = RequestKind(kind)
    except ValueError:
        errors["kind"] = _l("Choose what kind of request this is.")
        kind_value = RequestKind.GENERAL
    due = parse_datetime(deadline, "deadline", errors)
    active = select(Branch.id).where(Branch.active.is_(True))
    if branch_ids:
        wanted = parse_ids(branch_ids) or set()
        chosen = set(db.session.scalars(active.where(Branch.id.in_(wanted)))) if wanted else set()
        if not wanted or chosen != wanted:
            errors["branches"] = _l("Choose branches from the list.")
    else:
        chosen = set(db.session.scalars(active))
        if not chosen:
            errors["branches"] = _l("There are no active branches to ask.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    request = SubmissionRequest(year_id=year.id, kind=kind_value, title=title,
                                description=(description or "").strip(), deadline=due, created_by_id=actor.id)
    db.session.add(request)
    db.session.flush()
    db.session.execute(insert(Submission), [
        {"request_id": request.id, "branch_id": b, "status": SubmissionStatus.PENDING, "note": "",
         "document_name": "", "document_stored": "", "is_late": False, "return_reason": ""}
        for b in sorted(chosen)])
    event = audit.record(actor, "submission_request.create", request,
                         after={"title": title, "kind": kind_value.value, "deadline": str(due),
                                "branches": len(chosen)})
    # Each branch's secretaries, about their branch's submission (resolved once it is handed in).
    for sub_id, secretary_id in db.session.execute(
            select(Submission.id, User.id).join(User, User.branch_id == Submission.branch_id)
            .where(Submission.request_id == request.id, User.role == Role.SECRETARY, User.active.is_(True))):
        notifications.notify_event(event, [secretary_id], "submission.requested",
                                   path_for("campaign.request_page", request_id=request.id),
                                   about=f"submission:{sub_id}", what=title, due=local_text(due))
    db.session.commit()
    return request


def local_text(moment: datetime) -> str:
    """A stored naive-UTC time as the portal writes times everywhere (i18n.when), for notification texts."""
    from ..i18n import when

    return when(moment)


def _state_expr(deadline, now: datetime):
    return case(
        (and_(Submission.status == SubmissionStatus.PENDING, deadline < now), literal("overdue")),
        (Submission.status == SubmissionStatus.PENDING, literal("pending")),
        (and_(Submission.status == SubmissionStatus.SUBMITTED, Submission.is_late.is_(True)), literal("late")),
        (Submission.status == SubmissionStatus.SUBMITTED, literal("submitted")),
        (Submission.status == SubmissionStatus.RETURNED, literal("returned")),
        else_=literal("accepted"),
    )


GRID_PER_PAGE = 50  # branches a page of a request's grid lists (the dashboard's page size)
# The grid's state filter: one of GRID_STATES, or "to_decide" (handed in, on time or late: the organisation
# section's work).
TO_DECIDE = ("submitted", "late")
GRID_FILTERS = ("to_decide", *GRID_STATES)


@dataclass(frozen=True)
class GridFilters(branch_choice.BranchFiltered):
    """A request's grid: `state` (one of GRID_FILTERS or ""), the branch filter (`branch`: one branch from the menu of
    a small district, or part of a branch's name from the field of a big one: branch_choice.BranchFilter), and the
    page."""

    state: str = ""
    branch: branch_choice.BranchFilter = branch_choice.BranchFilter()
    page: int = 1

    @classmethod
    def parse(cls, args) -> GridFilters:
        """From a query string; unknown or malformed values are ignored rather than refused (a link can age); a
        page that is not a number from 1 is the first, a page past the end the last (paging.window)."""
        state = args.get("state", "")
        return cls(state=state if state in GRID_FILTERS else "", branch=branch_choice.BranchFilter.parse(args),
                   page=paging.requested_page(args.get("page")))

    def query_args(self, page: int | None = None) -> dict:
        """The filters as query arguments (empty ones left out), with `page` when it is past the first."""
        return {k: v for k, v in {"state": self.state, **self.branch.query_args(),
                                  "page": page if page and page > 1 else None}.items() if v}

    @property
    def narrowed(self) -> bool:
        return bool(self.state or self.branch.query_args())

    @property
    def states(self) -> tuple[str, ...]:
        """The grid states the filter shows (every one when there is no state filter)."""
        return TO_DECIDE if self.state == "to_decide" else (self.state,) if self.state else GRID_STATES


@dataclass
class GridPage(paging.Paged):
    """A page of a request's grid, and the `counts` of every branch asked by grid state, whatever the filters."""

    rows: list[GridRow]
    window: paging.Window
    filters: GridFilters
    counts: dict[str, int]

    @property
    def first(self) -> int:
        """The 1-based position of the page's first row in the filtered list."""
        return self.window.offset + 1


def _grid_state():
    return _state_expr(bindparam("deadline", type_=DateTime), bindparam("now", type_=DateTime))


@cache
def _grid_statement(by_state: bool, by_branch: bool, by_name: bool, by_submission: bool, paged: bool,
                    counting: bool = False):
    """The rows of a request's grid in the branches' pinyin order (`counting`: how many), built once per shape.
    Parameters: `request_id`, `deadline`, `now`, and `states` (a list), BranchFilter.values' parameters,
    `submission_id`, `limit` and `offset` where the shape has them.

    A page (`paged`) is cut from the branches in their order (`ix_branch_sort_key`), each looked up among the
    request's submissions (its unique key), so that it reads about its own rows, not the request's 2,000 sorted
    (without statistics SQLite would start from the request's submissions and sort them all); the page's
    submissions are then joined to it."""
    state = _grid_state()
    asked = Submission.request_id == bindparam("request_id", type_=Integer)
    conditions = [asked]
    if by_state:
        conditions.append(state.in_(bindparam("states", expanding=True)))
    if by_submission:
        conditions.append(Submission.id == bindparam("submission_id", type_=Integer))
    branches = branch_choice.BranchFilter.conditions(Branch.id, by_branch, by_name)
    columns = (Submission.id, Branch.id, Branch.name, state, Submission.submitted_at, Submission.return_reason,
               Submission.version)
    if paged:
        page = (select(Branch.id, Branch.sort_key, Branch.name)
                .where(select(Submission.id).where(Submission.branch_id == Branch.id, *conditions).exists(),
                       *branches)
                .order_by(*branch_order()).limit(bindparam("limit", type_=Integer))
                .offset(bindparam("offset", type_=Integer)).subquery("page"))
        return (select(Submission.id, page.c.id, page.c.name, *columns[3:])
                .join(page, page.c.id == Submission.branch_id).where(asked)
                .order_by(page.c.sort_key, page.c.name, page.c.id))
    stmt = select(*columns).join(Branch, Branch.id == Submission.branch_id).where(*conditions, *branches)
    if counting:
        return select(func.count()).select_from(stmt.subquery())
    return stmt.order_by(*branch_order())


@cache
def _grid_counts_statement():
    """How many of a request's submissions there are by status and lateness (`request_id`), built once: the raw
    columns, read from ix_submission_request_state alone; `grid_counts` names their grid states."""
    return (select(Submission.status, Submission.is_late, func.count())
            .where(Submission.request_id == bindparam("request_id", type_=Integer))
            .group_by(Submission.status, Submission.is_late))


def grid_state(status: SubmissionStatus, is_late: bool, overdue: bool) -> str:
    """A submission's grid state from its status and lateness, `overdue` when its request's deadline has passed:
    `_state_expr` in Python (tests/web/test_branch_lists_paging.py compares the summary with the grid's states)."""
    if status == SubmissionStatus.PENDING:
        return "overdue" if overdue else "pending"
    if status == SubmissionStatus.SUBMITTED:
        return "late" if is_late else "submitted"
    return "returned" if status == SubmissionStatus.RETURNED else "accepted"


def _grid_values(request: SubmissionRequest, now: datetime | None) -> dict:
    return {"request_id": request.id, "deadline": request.deadline, "now": now or utcnow()}


def grid(request: SubmissionRequest, now: datetime | None = None) -> list[GridRow]:
    """Every branch asked, with its state, in one query (the whole grid: tests and small lists; the page reads
    `grid_page`)."""
    stmt = _grid_statement(False, False, False, False, paged=False)
    return [GridRow(*row) for row in db.session.execute(stmt, _grid_values(request, now))]


def grid_counts(request: SubmissionRequest, now: datetime | None = None) -> dict[str, int]:
    """{grid state: how many branches asked are in it}, every state of GRID_STATES (0 when none): one GROUP BY."""
    counts = dict.fromkeys(GRID_STATES, 0)
    overdue = request.deadline < (now or utcnow())
    for status, is_late, n in db.session.execute(_grid_counts_statement(), {"request_id": request.id}):
        counts[grid_state(SubmissionStatus(status), bool(is_late), overdue)] += n
    return counts


def grid_page(request: SubmissionRequest, filters: GridFilters | None = None, now: datetime | None = None,
              per_page: int = GRID_PER_PAGE) -> GridPage:
    """A page of the branches asked, with their states, in the branches' pinyin order, filtered by `filters`; a
    page past the end is the last one. Two statements (the counts, the page), three with a branch filter (its
    COUNT), whatever the size of the district: the page costs the same at 2,000 branches as at 20 (issue #14)."""
    filters = filters or GridFilters()
    values = _grid_values(request, now)
    counts = grid_counts(request, values["now"])
    shape = (bool(filters.state), *filters.branch.shape, False)
    values.update(states=list(filters.states), **filters.branch.values())
    if filters.branch.query_args():
        total = db.session.scalar(_grid_statement(*shape, paged=False, counting=True), values) or 0
    else:  # the counts are the filter's total
        total = sum(counts[state] for state in filters.states)
    shown = paging.window(total, filters.page, per_page)
    rows = [GridRow(*row) for row in db.session.execute(
        _grid_statement(*shape, paged=True), {**values, "limit": per_page, "offset": shown.offset})]
    return GridPage(rows=rows, window=shown, filters=filters, counts=counts)


def grid_row(submission: Submission, now: datetime | None = None) -> GridRow:
    """The submission's row of its request's grid (one query)."""
    request = db.session.get(SubmissionRequest, submission.request_id)
    row = db.session.execute(_grid_statement(False, False, False, True, paged=False),
                             {**_grid_values(request, now), "submission_id": submission.id}).one()
    return GridRow(*row)


def count_states(rows: list[GridRow]) -> dict[str, int]:
    counts = dict.fromkeys(GRID_STATES, 0)
    for row in rows:
        counts[row.state] += 1
    return counts


def requests_overview(year: CampaignYear, now: datetime | None = None) -> list[tuple]:
    """[(request, asked, handed in, accepted, overdue)] for the year, in one GROUP BY query."""
    now = now or utcnow()
    handed = func.sum(case((Submission.status != SubmissionStatus.PENDING, 1), else_=0))
    accepted = func.sum(case((Submission.status == SubmissionStatus.ACCEPTED, 1), else_=0))
    overdue = func.sum(case((and_(Submission.status == SubmissionStatus.PENDING,
                                  SubmissionRequest.deadline < now), 1), else_=0))
    stmt = (select(SubmissionRequest, func.count(Submission.id), handed, accepted, overdue)
            .outerjoin(Submission, Submission.request_id == SubmissionRequest.id)
            .where(SubmissionRequest.year_id == year.id)
            .group_by(SubmissionRequest.id).order_by(SubmissionRequest.deadline.desc()))
    return [(r, int(n), int(h or 0), int(a or 0), int(o or 0)) for r, n, h, a, o in db.session.execute(stmt)]


def due_for_branch(year: CampaignYear, branch_id: int, now: datetime | None = None) -> list[tuple]:
    """[(request, submission, grid state)] a branch has been asked for this year, soonest deadline first."""
    stmt = (select(SubmissionRequest, Submission, _state_expr(SubmissionRequest.deadline, now or utcnow()))
            .join(Submission, Submission.request_id == SubmissionRequest.id)
            .where(SubmissionRequest.year_id == year.id, Submission.branch_id == branch_id)
            .order_by(SubmissionRequest.deadline))
    return [tuple(row) for row in db.session.execute(stmt)]


def leading_group(submission: Submission) -> list[LeadingGroupMember]:
    return list(db.session.scalars(select(LeadingGroupMember).where(
        LeadingGroupMember.submission_id == submission.id).order_by(LeadingGroupMember.position)))


def parse_group(roles: list[str], names: list[str], posts: list[str]) -> tuple[list[tuple], dict]:
    """The leading group from parallel form lists; blank lines are ignored. One 组长 exactly."""
    people, errors = [], {}
    for index, (role, name, post) in enumerate(zip(roles, names, posts, strict=False)):
        name, post = (name or "").strip(), (post or "").strip()
        if not name and not post:
            continue
        try:
            group_role = GroupRole(role)
        except ValueError:
            errors[f"group-{index}"] = _l("Choose the person's role in the group.")
            continue
        if not name or len(name) > 64 or len(post) > 64:
            errors[f"group-{index}"] = _l("Enter a name and a post of at most 64 characters each.")
            continue
        people.append((group_role, name, post))
    leaders = sum(1 for role, _, _ in people if role == GroupRole.LEADER)
    if not errors and leaders != 1:
        errors["group"] = _l("The leading group needs exactly one group leader (组长).")
    return people, errors


def submit(actor, submission: Submission, *, note: str, document: FileStorage | None,
           group: tuple[list[str], list[str], list[str]] | None = None, now: datetime | None = None,
           version: int | None = None) -> None:
    """Hand in (or hand in again after a return). After the deadline it is accepted but marked late."""
    request = db.session.get(SubmissionRequest, submission.request_id)
    ensure_writable(request.year_id)
    if submission.status not in (SubmissionStatus.PENDING, SubmissionStatus.RETURNED):
        raise Conflict(str(_l("This submission has already been handed in.")))
    errors: dict = {}
    people: list[tuple] = []
    if request.kind == RequestKind.PLAN:
        people, errors = parse_group(*(group or ([], [], [])))
    has_file = document is not None and bool(document.filename)
    if not has_file and not submission.document_stored:
        errors["document"] = _l("Choose a file to upload.")
    if len(note or "") > 2000:
        errors["note"] = _l("The note may have at most 2000 characters.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    check_version(submission, version, shown=("note",))
    old_stored = submission.document_stored
    if has_file:
        stored = uploads.store(document, UPLOAD_KIND, uploads.DOCUMENT_TYPES, field="document")
        submission.document_name, submission.document_stored = stored.original_name, stored.stored_name
    now = now or utcnow()
    before = {"status": submission.status.value}
    submission.note = (note or "").strip()
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_by_id = actor.id
    submission.submitted_at = now
    submission.is_late = now > request.deadline
    submission.return_reason = ""
    if request.kind == RequestKind.PLAN:
        db.session.execute(LeadingGroupMember.__table__.delete().where(
            LeadingGroupMember.submission_id == submission.id))
        db.session.add_all(LeadingGroupMember(submission_id=submission.id, group_role=role, name=name,
                                              post_title=post, position=i) for i, (role, name, post) in
                           enumerate(people))
    event = audit.record(actor, "submission.submit", submission, before=before,
                         after={"status": "submitted", "late": submission.is_late,
                                "document": submission.document_name, "group": len(people)})
    # Whoever decides it (portal/permissions.py): the leading group a plan, the organisation section the rest.
    deciders = notifications.leaders() if request.kind == RequestKind.PLAN else notifications.admins()
    branch = db.session.get(Branch, submission.branch_id)
    notifications.notify_event(event, deciders, "submission.waiting",
                               path_for("campaign.submission", submission_id=submission.id),
                               what=f"{branch.name} · {request.title}")
    db.session.commit()
    if has_file and old_stored and old_stored != submission.document_stored:
        uploads.remove(UPLOAD_KIND, old_stored)


def _decide(actor, submission: Submission, status: SubmissionStatus, reason: str = "",
            version: int | None = None) -> None:
    """Accept or return what was handed in, as the organisation section saw it (`version`: the version its
    page or grid row was loaded with; None skips the comparison). Raises Conflict when it is not handed in
    (any more), and a Conflict carrying the saved note and document name when the branch handed it in again
    (or another decision was made) meanwhile, so that nobody accepts a document they have not seen."""
    request = db.session.get(SubmissionRequest, submission.request_id)
    ensure_writable(request.year_id)
    if submission.status != SubmissionStatus.SUBMITTED:
        raise Conflict(str(_l("Only a submission that has been handed in can be accepted or returned.")))
    check_version(submission, version, shown=("note", "document_name"))
    before = {"status": submission.status.value}
    submission.status = status
    submission.return_reason = reason
    submission.decided_at = utcnow()
    event = audit.record(actor, f"submission.{'accept' if status == SubmissionStatus.ACCEPTED else 'return'}",
                         submission, before=before, after={"status": status.value, "reason": reason})
    kind = "submission.accepted" if status == SubmissionStatus.ACCEPTED else "submission.returned"
    notifications.notify_event(event, notifications.secretaries_of(submission.branch_id), kind,
                               path_for("campaign.submission", submission_id=submission.id), what=request.title,
                               reason=reason)
    db.session.commit()


def accept(actor, submission: Submission, version: int | None = None) -> None:
    """Accept a handed-in submission (see `_decide` for `version` and the conflicts raised)."""
    _decide(actor, submission, SubmissionStatus.ACCEPTED, version=version)


def return_for_revision(actor, submission: Submission, reason: str, version: int | None = None) -> None:
    """Return a handed-in submission with `reason` (1 to 1000 characters, else Invalid); see `_decide`."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 1000:
        message = _l("Say what the branch must change (at most 1000 characters).")
        raise Invalid(str(message), {"reason": message})
    _decide(actor, submission, SubmissionStatus.RETURNED, reason, version=version)


def serve_document(submission: Submission):
    if not submission.document_stored:
        raise NotFound()
    ext = submission.document_stored.rsplit(".", 1)[-1]
    content_type = next((m for m, e in uploads.DOCUMENT_TYPES.items() if e == ext), "application/octet-stream")
    return uploads.serve(UPLOAD_KIND, submission.document_stored, submission.document_name, content_type)


def overdue_submissions(year: CampaignYear, branch_id: int | None = None, now: datetime | None = None) -> list:
    """Rows (request id, title, deadline, branch id, branch name) not handed in by their deadline."""
    stmt = (select(SubmissionRequest.id, SubmissionRequest.title, SubmissionRequest.deadline, Branch.id, Branch.name)
            .join(Submission, Submission.request_id == SubmissionRequest.id)
            .join(Branch, Branch.id == Submission.branch_id)
            .where(SubmissionRequest.year_id == year.id, Submission.status == SubmissionStatus.PENDING,
                   SubmissionRequest.deadline < (now or utcnow())))
    if branch_id is not None:
        stmt = stmt.where(Submission.branch_id == branch_id)
    return list(db.session.execute(stmt.order_by(SubmissionRequest.deadline, *branch_order())))


def due_count(year: CampaignYear, branch_id: int) -> int:
    """How many submissions of the year a branch still owes (not handed in, or returned)."""
    return int(db.session.scalar(
        select(func.count(Submission.id)).join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
        .where(SubmissionRequest.year_id == year.id, Submission.branch_id == branch_id,
               Submission.status.in_([SubmissionStatus.PENDING, SubmissionStatus.RETURNED]))) or 0)
