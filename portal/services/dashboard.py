"""The leadership progress dashboard: every branch against the 五个好 criteria, for one campaign year.

Everything is aggregated in SQL, grouped by branch (and criterion), so that a page costs the same
number of queries for 3 branches as for 300. Progress and score follow `progress.Tally`:
progress = assessed / applicable items, score = weighted results (met 1, partly 0.5, not met 0),
n/a left out of both.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from .. import collation
from ..extensions import db
from ..input_guard import parse_int
from ..models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    AssessmentTally,
    AuditEvent,
    Branch,
    BranchLevel,
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
    ProgressSnapshot,
    RequestKind,
    Result,
    Review,
    ReviewRating,
    Role,
    Subject,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    Unit,
    UnitKind,
    User,
    utcnow,
)
from . import audit, progress
from .progress import Tally

INACTIVE_DAYS = 14  # a branch with no recorded activity for this long is flagged
EXEMPLAR_CATEGORIES = (PostCategory.BRANCH_EXEMPLAR, PostCategory.MEMBER_EXEMPLAR)
DONE_STATUSES = (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED)
NOT_STARTED = "none"  # status filter value: the branch has no assessment for the year yet
SEARCH_MAX = 60

# Heat-map bands of a score (0..100): heat-0 (weakest) … heat-4 (strongest); no score: heat-none.
BAND_LIMITS = (50.0, 65.0, 80.0, 90.0)
BAND_LABELS = (
    _l("below 50"), _l("50 to 64"), _l("65 to 79"), _l("80 to 89"), _l("90 and above"),
)

# Sortable columns: key → label. Criterion columns are "c<position>" and added per framework.
SORT_COLUMNS = {
    "name": _l("Branch"),
    "progress": _l("Progress"),
    "score": _l("Score"),
    "status": _l("Assessment status"),
    "rating": _l("Review rating"),
    "plan": _l("Plan submission"),
    "pledges": _l("Published pledges"),
    "posts": _l("Exemplar posts"),
    "coverage": _l("Members' self-assessment"),
    "activity": _l("Last activity"),
}
DEFAULT_SORT = "name"

# The table shows a page of branches; "all" (None) lists every branch, e.g. to print the report.
PAGE_SIZES = (50, 100)
DEFAULT_PAGE_SIZE = PAGE_SIZES[0]
ALL = "all"
MAX_PAGE = 10_000


def band(score: float | None) -> str:
    """CSS class of a heat-map cell for a score."""
    if score is None:
        return "heat-none"
    for index, limit in enumerate(BAND_LIMITS):
        if score < limit:
            return f"heat-{index}"
    return f"heat-{len(BAND_LIMITS)}"


# --- filters ---------------------------------------------------------------------------------------

@dataclass
class Filters:
    year: CampaignYear | None
    kind: UnitKind | None = None
    status: str | None = None  # an AssessmentStatus value or NOT_STARTED
    q: str = ""
    grade: str = ""  # a BranchLevel value: the grade in force (分类定级, services/grading.py)
    appraisal: str = ""  # "few" (below the minimum of ballots) or "low" (satisfaction below the threshold)
    sort: str = DEFAULT_SORT
    descending: bool = False
    page: int = 1
    per_page: int | None = DEFAULT_PAGE_SIZE  # None: every branch on one page
    notes: list[str] = field(default_factory=list)  # what was ignored, shown to the reader

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort

    @property
    def per_page_param(self) -> str:
        """The `per_page` query value, or "" for the default size."""
        if self.per_page == DEFAULT_PAGE_SIZE:
            return ""
        return ALL if self.per_page is None else str(self.per_page)

    def args(self, **overrides) -> dict[str, str]:
        """Query-string arguments of the filtered, sorted view (the export's, and the base of every
        link), with overrides. The page is not among them: another view starts on page 1."""
        args = {
            "year": str(self.year.year) if self.year else "",
            "kind": self.kind.value if self.kind else "",
            "status": self.status or "",
            "q": self.q,
            "grade": self.grade,
            "appraisal": self.appraisal,
            "sort": self.sort_param if self.sort_param != DEFAULT_SORT else "",
            "per_page": self.per_page_param,
        }
        args.update({k: str(v) for k, v in overrides.items()})
        return {k: v for k, v in args.items() if v}

    def page_args(self, page: int) -> dict[str, str]:
        return self.args(page=page if page > 1 else "")

    def sort_args(self, column: str) -> dict[str, str]:
        """Arguments for a column header link: sort by it, or reverse it if it is already the sort."""
        descending = not self.descending if column == self.sort else column != "name"
        return self.args(sort=("-" if descending else "") + column)

    @property
    def is_filtered(self) -> bool:
        return bool(self.kind or self.status or self.q or self.grade or self.appraisal)


def years() -> list[CampaignYear]:
    return list(db.session.scalars(select(CampaignYear).order_by(CampaignYear.year.desc())))


def branch_criteria() -> list[Criterion]:
    """The 五个好 criteria in their order."""
    return list(db.session.scalars(
        select(Criterion).join(Framework).where(Framework.subject == Subject.BRANCH)
        .order_by(Criterion.position)))


def parse_filters(args, all_years: list[CampaignYear], criteria: list[Criterion]) -> Filters:
    """Read year/kind/status/q/sort from the query string; unknown values are dropped with a note."""
    from flask_babel import gettext as _

    current = next((y for y in all_years if y.is_current), all_years[0] if all_years else None)
    filters = Filters(year=current)
    raw_year = (args.get("year") or "").strip()
    if raw_year:
        chosen = next((y for y in all_years if str(y.year) == raw_year), None)
        if chosen is None:
            filters.notes.append(_("There is no campaign year “%(value)s”; showing %(year)s instead.",
                                   value=raw_year[:16], year=current.year if current else "—"))
        else:
            filters.year = chosen
    raw_kind = (args.get("kind") or "").strip()
    if raw_kind:
        if raw_kind in {k.value for k in UnitKind}:
            filters.kind = UnitKind(raw_kind)
        else:
            filters.notes.append(_("Unknown unit type “%(value)s” was ignored.", value=raw_kind[:16]))
    raw_status = (args.get("status") or "").strip()
    if raw_status:
        if raw_status in {s.value for s in AssessmentStatus} | {NOT_STARTED}:
            filters.status = raw_status
        else:
            filters.notes.append(_("Unknown status “%(value)s” was ignored.", value=raw_status[:16]))
    filters.q = (args.get("q") or "").strip()[:SEARCH_MAX]
    raw_grade = (args.get("grade") or "").strip()
    if raw_grade:
        if raw_grade in {level.value for level in BranchLevel}:
            filters.grade = raw_grade
        else:
            filters.notes.append(_("Unknown grade “%(value)s” was ignored.", value=raw_grade[:16]))
    raw_appraisal = (args.get("appraisal") or "").strip()
    if raw_appraisal:
        if raw_appraisal in ("few", "low"):
            filters.appraisal = raw_appraisal
        else:
            filters.notes.append(_("Unknown appraisal filter “%(value)s” was ignored.", value=raw_appraisal[:16]))
    raw_sort = (args.get("sort") or "").strip()
    if raw_sort:
        column = raw_sort.lstrip("-")
        if column in sort_columns(criteria):
            filters.sort, filters.descending = column, raw_sort.startswith("-")
        else:
            filters.notes.append(_("Unknown sort column “%(value)s”; sorted by branch name.",
                                   value=raw_sort[:16]))
    raw_size = (args.get("per_page") or "").strip()
    if raw_size:
        if raw_size == ALL:
            filters.per_page = None
        elif raw_size in {str(size) for size in PAGE_SIZES}:
            filters.per_page = int(raw_size)
        else:
            filters.notes.append(_("Unknown page size “%(value)s”; showing %(size)s branches per page.",
                                   value=raw_size[:16], size=DEFAULT_PAGE_SIZE))
    raw_page = (args.get("page") or "").strip()
    if raw_page:
        if parse_int(raw_page, low=1, high=MAX_PAGE) is not None:
            filters.page = parse_int(raw_page)
        else:
            filters.notes.append(_("Unknown page “%(value)s”; showing the first page.", value=raw_page[:16]))
    return filters


def sort_columns(criteria: Iterable[Criterion]) -> dict[str, object]:
    columns = dict(SORT_COLUMNS)
    for criterion in criteria:
        columns[f"c{criterion.position}"] = criterion.title
    return columns


# --- the overview ----------------------------------------------------------------------------------

@dataclass
class Row:
    branch_id: int
    name: str
    unit_name: str
    unit_kind: UnitKind
    brand_name: str
    cells: dict[int, Tally] = field(default_factory=dict)  # criterion id → tally
    status: AssessmentStatus | None = None
    rating: ReviewRating | None = None
    plan_status: SubmissionStatus | None = None  # None: no plan was asked for
    overdue: int = 0
    pledges: int = 0
    posts: int = 0
    members_total: int = 0
    members_done: int = 0
    last_activity: datetime | None = None

    @cached_property
    def total(self) -> Tally:
        return progress.overall(self.cells)

    @property
    def coverage(self) -> float:
        return round(100.0 * self.members_done / self.members_total, 1) if self.members_total else 0.0

    def inactive(self, now: datetime) -> bool:
        return self.last_activity is None or self.last_activity < now - timedelta(days=INACTIVE_DAYS)


@dataclass
class Summary:
    branches: int = 0
    submitted: int = 0
    average_progress: float = 0.0
    average_score: float | None = None
    items_not_met: int = 0
    inactive: int = 0
    overdue: int = 0  # overdue submissions (branch × request not handed in after the deadline)
    overdue_follow_ups: int = 0


@dataclass
class Overview:
    filters: Filters
    years: list[CampaignYear]
    criteria: list[Criterion]
    rows: list[Row]
    all_branches: int  # before filtering
    summary: Summary
    criterion_averages: list[tuple[Criterion, float | None, float]]  # (criterion, avg score, avg progress)
    timeline: list[tuple[date, float, float | None]]  # (day, avg progress, avg score)
    now: datetime

    @property
    def pages(self) -> int:
        return page_count(len(self.rows), self.filters.per_page)

    @property
    def first_index(self) -> int:
        """Index into `rows` of the first row on the page."""
        size = self.filters.per_page
        return (self.filters.page - 1) * size if size else 0

    @property
    def page_rows(self) -> list[Row]:
        """The rows of the table on this page (summary and charts cover every row that matches)."""
        size = self.filters.per_page
        return self.rows[self.first_index:self.first_index + size] if size else self.rows

    @property
    def progress_values(self) -> list[float]:
        return [row.total.progress for row in self.rows]

    @property
    def criterion_scores(self) -> list[tuple[str, float | None]]:
        return [(criterion.title, score) for criterion, score, _progress in self.criterion_averages]

    @property
    def criterion_progress(self) -> list[float]:
        return [avg_progress for _criterion, _score, avg_progress in self.criterion_averages]


def branch_tallies(year: CampaignYear, only: frozenset[int] | None = None,
                   ) -> tuple[dict[int, dict[int, Tally]], dict[int, datetime]]:
    """({branch_id: {criterion_id: Tally}}, {branch_id: last item answer}) for every branch
    assessment of the year (or those of the branches `only`), read from the kept tallies in one query."""
    from . import tallies as kept

    kept.apply_pending()
    stmt = (select(Assessment.branch_id, AssessmentTally.criterion_id, *progress.tally_columns(),
                   AssessmentTally.last_answer_at)
            .join(AssessmentTally, AssessmentTally.assessment_id == Assessment.id)
            .where(Assessment.year_id == year.id, Assessment.member_id.is_(None)))
    if only is not None:
        stmt = stmt.where(Assessment.branch_id.in_(only))
    tallies: dict[int, dict[int, Tally]] = defaultdict(dict)
    answered: dict[int, datetime] = {}
    for row in db.session.execute(stmt):
        branch_id, cid, last = row[0], row[1], row[9]
        tallies[branch_id][cid] = progress.tally_of(row[2:9])
        if last is not None and (branch_id not in answered or last > answered[branch_id]):
            answered[branch_id] = last
    return tallies, answered


def _branches(only: frozenset[int] | None = None) -> list[tuple[int, str, str, UnitKind, str]]:
    stmt = (select(Branch.id, Branch.name, Unit.name, Unit.kind, Branch.brand_name)
            .join(Unit, Unit.id == Branch.unit_id).where(Branch.active.is_(True)).order_by(Branch.name))
    if only is not None:
        stmt = stmt.where(Branch.id.in_(only))
    return list(db.session.execute(stmt))


def _latest_per_branch(rows: Iterable[tuple]) -> dict[int, object]:
    """Rows (branch_id, value) ordered oldest first → {branch_id: newest value}."""
    return dict(tuple(row) for row in rows)  # later rows win


def build_rows(year: CampaignYear, now: datetime | None = None, only: frozenset[int] | None = None) -> list[Row]:
    """One row per active branch for the year (or per active branch among `only`, the ids of some
    branches), in a constant number of grouped queries."""
    now = now or utcnow()
    rows = {bid: Row(bid, name, unit_name, kind, brand) for bid, name, unit_name, kind, brand in _branches(only)}
    if not rows:
        return []

    def among(column):
        """No condition for the whole district; `column IN only` for some branches."""
        return column.in_(only) if only is not None else and_(True)

    tallies, answered = branch_tallies(year, only)
    for branch_id, cells in tallies.items():
        if branch_id in rows:
            rows[branch_id].cells = cells

    statuses = dict(db.session.execute(
        select(Assessment.branch_id, Assessment.status)
        .where(Assessment.year_id == year.id, Assessment.member_id.is_(None), among(Assessment.branch_id))).all())

    # Last activity: the newest answer, change of any assessment (branch or member's) or audited change.
    activity: dict[int, datetime] = dict(answered)
    changes = db.session.execute(
        select(Assessment.branch_id, func.max(Assessment.updated_at))
        .where(Assessment.year_id == year.id, among(Assessment.branch_id)).group_by(Assessment.branch_id))
    audited = db.session.execute(
        select(AuditEvent.branch_id, func.max(AuditEvent.at))
        .where(AuditEvent.branch_id.isnot(None), audit.changes_work(), among(AuditEvent.branch_id))
        .group_by(AuditEvent.branch_id))
    for branch_id, last in (*changes, *audited):
        if last and (branch_id not in activity or last > activity[branch_id]):
            activity[branch_id] = last

    # The newest leader review of each branch for the year.
    ratings = _latest_per_branch(db.session.execute(
        select(Review.branch_id, Review.rating)
        .where(Review.year_id == year.id, Review.member_id.is_(None), among(Review.branch_id))
        .order_by(Review.created_at, Review.id)))

    # Plan submission: the status for the newest plan request of the year (no row yet = pending).
    plan_request = (select(SubmissionRequest.id).where(
        SubmissionRequest.year_id == year.id, SubmissionRequest.kind == RequestKind.PLAN)
        .order_by(SubmissionRequest.deadline.desc(), SubmissionRequest.id.desc()).limit(1).scalar_subquery())
    plans = dict(db.session.execute(
        select(Submission.branch_id, Submission.status)
        .where(Submission.request_id == plan_request, among(Submission.branch_id))).all())
    has_plan_request = db.session.scalar(select(func.count()).select_from(SubmissionRequest).where(
        SubmissionRequest.year_id == year.id, SubmissionRequest.kind == RequestKind.PLAN)) > 0

    # Overdue submissions: every request of the year past its deadline that a branch has not handed in.
    overdue = dict(db.session.execute(
        select(Branch.id, func.count(SubmissionRequest.id))
        .select_from(Branch)
        .join(SubmissionRequest, and_(SubmissionRequest.year_id == year.id, SubmissionRequest.deadline < now))
        .outerjoin(Submission, and_(Submission.request_id == SubmissionRequest.id,
                                    Submission.branch_id == Branch.id))
        .where(Branch.active.is_(True), among(Branch.id), (Submission.id.is_(None)) | Submission.status.in_(
            [SubmissionStatus.PENDING, SubmissionStatus.RETURNED]))
        .group_by(Branch.id)).all())

    pledges = dict(db.session.execute(
        select(Pledge.branch_id, func.count(Pledge.id))
        .where(Pledge.year_id == year.id, Pledge.status == PledgeStatus.APPROVED, among(Pledge.branch_id))
        .group_by(Pledge.branch_id)).all())
    posts = dict(db.session.execute(
        select(Post.branch_id, func.count(Post.id))
        .where(Post.year_id == year.id, Post.status == PostStatus.PUBLISHED,
               Post.category.in_(EXEMPLAR_CATEGORIES), Post.branch_id.isnot(None), among(Post.branch_id))
        .group_by(Post.branch_id)).all())
    coverage = {branch_id: (int(total), int(done)) for branch_id, total, done in db.session.execute(
        select(User.branch_id, func.count(User.id), func.count(Assessment.id))
        .select_from(User)
        .outerjoin(Assessment, and_(Assessment.member_id == User.id, Assessment.year_id == year.id,
                                    Assessment.status.in_(DONE_STATUSES)))
        .where(User.branch_id.isnot(None), User.active.is_(True),
               User.role.in_([Role.MEMBER, Role.SECRETARY]), among(User.branch_id))
        .group_by(User.branch_id))}

    for branch_id, row in rows.items():
        row.status = statuses.get(branch_id)
        row.rating = ratings.get(branch_id)
        row.plan_status = plans.get(branch_id, SubmissionStatus.PENDING) if has_plan_request else None
        row.overdue = int(overdue.get(branch_id, 0))
        row.pledges = int(pledges.get(branch_id, 0))
        row.posts = int(posts.get(branch_id, 0))
        row.members_total, row.members_done = coverage.get(branch_id, (0, 0))
        row.last_activity = activity.get(branch_id)
    return list(rows.values())


def data_version() -> tuple:
    """(id, time) of the newest audited change to the work (see audit.changes_work). Every change goes through
    a service that audits it in the same transaction, so this moves whenever the figures may have."""
    newest = db.session.execute(
        select(AuditEvent.id, AuditEvent.at).where(audit.changes_work())
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    return tuple(newest) if newest else ()


_CACHE_KEY = "portal.dashboard_figures"
_CACHE_ENTRIES = 16
# Audited actions whose effect on the overview stays within the branch the event names: after them only
# that branch's row is aggregated again. Any other change (a person moved between branches, a branch
# renamed or disabled, a new submission request, a year made current, …) recomputes the whole district.
BRANCH_LOCAL_ACTIONS = frozenset({"checklist", "pledge", "submission", "post", "brand", "nomination",
                                  "inspection", "follow_up", "milestone", "project", "objection"})
BRANCH_WIDE_EXCEPTIONS = frozenset({"post.edit"})  # an edit may move a post to another branch
# Audited actions that change nothing the overview shows (grades and appraisal are read by their own queries).
OVERVIEW_UNCHANGED = ("grading.", "appraisal.", "bulletin.", "notification.", "user.set_locale",
                      "user.email_preference", "user.reset_password", "upload.clean")
MAX_BRANCH_REFRESH = 200  # more changed branches than this since the last look: recompute the district


@dataclass
class _Kept:
    """A year's rows as aggregated at `clock` (monotonic seconds) and brought up to `version`."""

    clock: float
    version: tuple
    rows: list[Row]
    derived: dict = field(default_factory=dict)  # name → value computed from `rows` (e.g. district averages)


def _changed_branches(since: tuple) -> frozenset[int] | None:
    """The branches that audited changes after the event `since` (id, time) touched, when each change is
    confined to the branch it names (see BRANCH_LOCAL_ACTIONS); None when the whole district must be
    aggregated again. One query over the events since, by primary key."""
    if not since:
        return None
    events = db.session.execute(
        select(AuditEvent.action, AuditEvent.branch_id).where(AuditEvent.id > since[0], audit.changes_work())
        .order_by(AuditEvent.id).limit(MAX_BRANCH_REFRESH + 1)).all()
    if len(events) > MAX_BRANCH_REFRESH:
        return None
    changed = set()
    for action, branch_id in events:
        if action.startswith(OVERVIEW_UNCHANGED):
            continue
        if (branch_id is None or action in BRANCH_WIDE_EXCEPTIONS
                or action.split(".", 1)[0] not in BRANCH_LOCAL_ACTIONS):
            return None
        changed.add(branch_id)
    return frozenset(changed)


def _kept_rows(year: CampaignYear, now: datetime | None) -> _Kept:
    """The year's rows, kept in this worker (see `district_rows`)."""
    seconds = current_app.config.get("DASHBOARD_CACHE_SECONDS", 0)
    clock = time.monotonic()
    if seconds <= 0:
        return _Kept(clock, (), build_rows(year, now))
    version = data_version()
    cache: dict = current_app.extensions.setdefault(_CACHE_KEY, {})
    kept = cache.get(year.id)
    if kept is not None and clock - kept.clock < seconds:
        if kept.version == version:
            return kept
        changed = _changed_branches(kept.version)
        if changed is not None:
            fresh = {row.branch_id: row for row in build_rows(year, now, only=changed)}
            known = {row.branch_id for row in kept.rows}
            if fresh.keys() <= known:  # a branch that appeared needs its place among the others
                rows = [fresh.get(row.branch_id, row) for row in kept.rows
                        if row.branch_id not in changed or row.branch_id in fresh]
                kept = cache[year.id] = _Kept(kept.clock, version, rows)  # expires with the full computation
                return kept
    if len(cache) >= _CACHE_ENTRIES:
        cache.clear()
    kept = cache[year.id] = _Kept(clock, version, build_rows(year, now))
    return kept


def district_rows(year: CampaignYear, now: datetime | None = None) -> list[Row]:
    """`build_rows` of the year, kept in this worker for DASHBOARD_CACHE_SECONDS after it was computed in full
    (0: computed on every call): filtering, sorting and paging the dashboard, and opening branch pages, do not
    aggregate the whole district again. After an audited change confined to some branches (a tick, a
    submission, a pledge, …) only those branches' rows are aggregated again, so the figures include every
    change at once and a change costs what its branch costs; any other change recomputes the district.
    What is kept is shared between requests: read it, never change it. (Kept as objects: a pickle round
    trip of 300 rows costs about as much as a whole page.)"""
    return _kept_rows(year, now).rows


@dataclass(frozen=True)
class DistrictAverages:
    criteria: list[tuple[Criterion, float | None, float]]  # (criterion, avg score, avg progress)
    progress: float
    score: float | None


def district_averages(year: CampaignYear, criteria: list[Criterion]) -> DistrictAverages:
    """The averages over every active branch that a branch page compares its branch with: from the kept rows
    (see `district_rows`), computed once per version of them."""
    if current_app.config.get("DASHBOARD_CACHE_SECONDS", 0) <= 0:
        tallies, _answered = branch_tallies(year)
        active_ids = db.session.scalars(select(Branch.id).where(Branch.active.is_(True)).order_by(Branch.id))
        return _averages([tallies.get(bid, {}) for bid in active_ids], criteria)
    kept = _kept_rows(year, None)
    key = ("averages", tuple(c.id for c in criteria))
    if key not in kept.derived:
        cells = [row.cells for row in sorted(kept.rows, key=lambda row: row.branch_id)]
        kept.derived[key] = _averages(cells, criteria)
    return kept.derived[key]


def _averages(cells: list[dict[int, Tally]], criteria: list[Criterion]) -> DistrictAverages:
    average_progress, average_score = progress.averages([progress.overall(c) for c in cells])
    return DistrictAverages(criteria=criterion_averages(cells, criteria), progress=average_progress,
                            score=average_score)


def matches(row: Row, filters: Filters) -> bool:
    if filters.kind and row.unit_kind != filters.kind:
        return False
    if filters.status:
        status = row.status.value if row.status else NOT_STARTED
        if status != filters.status:
            return False
    if filters.q:
        needle = filters.q.casefold()
        if needle not in row.name.casefold() and needle not in (row.brand_name or "").casefold():
            return False
    return True


_STATUS_ORDER = {None: 0, AssessmentStatus.DRAFT: 1, AssessmentStatus.RETURNED: 2,
                 AssessmentStatus.SUBMITTED: 3, AssessmentStatus.REVIEWED: 4}
_RATING_ORDER = {None: 0, ReviewRating.POOR: 1, ReviewRating.AVERAGE: 2, ReviewRating.FAIRLY_GOOD: 3,
                 ReviewRating.GOOD: 4}
_PLAN_ORDER = {None: 0, SubmissionStatus.PENDING: 1, SubmissionStatus.RETURNED: 2,
               SubmissionStatus.SUBMITTED: 3, SubmissionStatus.ACCEPTED: 4}


def _sort_key(column: str, criteria: list[Criterion]):
    """Key function; rows without a value sort as the lowest, ties by name."""
    by_position = {f"c{c.position}": c.id for c in criteria}

    def number(value):
        return (value is not None, value if value is not None else 0.0)

    keys = {
        "progress": lambda r: r.total.progress,
        "score": lambda r: number(r.total.score),
        "status": lambda r: _STATUS_ORDER[r.status],
        "rating": lambda r: _RATING_ORDER[r.rating],
        "plan": lambda r: _PLAN_ORDER[r.plan_status],
        "pledges": lambda r: r.pledges,
        "posts": lambda r: r.posts,
        "coverage": lambda r: (r.coverage, r.members_total),
        "activity": lambda r: (r.last_activity is not None, r.last_activity or datetime.min),
    }
    if column in by_position:
        cid = by_position[column]
        return lambda r: number(r.cells[cid].score if cid in r.cells else None)
    return keys.get(column)


def sort_rows(rows: list[Row], filters: Filters, criteria: list[Criterion]) -> list[Row]:
    rows = sorted(rows, key=lambda r: collation.sort_key(r.name))  # by pinyin
    key = _sort_key(filters.sort, criteria)
    if key is None:  # by name
        return list(reversed(rows)) if filters.descending else rows
    return sorted(rows, key=key, reverse=filters.descending)  # stable: ties stay by name


def summarise(rows: list[Row], now: datetime, overdue_follow_ups: int = 0) -> Summary:
    summary = Summary(branches=len(rows), overdue_follow_ups=overdue_follow_ups)
    if not rows:
        return summary
    totals = [row.total for row in rows]
    summary.submitted = sum(1 for row in rows if row.status in DONE_STATUSES)
    summary.average_progress, summary.average_score = progress.averages(totals)
    summary.items_not_met = sum(t.not_met for t in totals)
    summary.inactive = sum(1 for row in rows if row.inactive(now))
    summary.overdue = sum(row.overdue for row in rows)
    return summary


def criterion_averages(cells: list[dict[int, Tally]],
                       criteria: list[Criterion]) -> list[tuple[Criterion, float | None, float]]:
    """Per criterion, over the branches' cells ({criterion id: Tally} each): the average score over
    branches that have one, and the average progress."""
    out = []
    for criterion in criteria:
        avg_progress, avg_score = progress.averages([c.get(criterion.id, Tally()) for c in cells])
        out.append((criterion, avg_score, avg_progress))
    return out


def _overdue_follow_ups(today: date) -> int:
    from ..models import FollowUp, FollowUpStatus

    return int(db.session.scalar(select(func.count(FollowUp.id)).where(
        FollowUp.status == FollowUpStatus.OPEN, FollowUp.due_on < today)) or 0)


def timeline(year: CampaignYear, branch_id: int | None = None) -> list[tuple[date, float, float | None]]:
    """Daily (day, average progress, average score) from the snapshots, district-wide or one branch."""
    stmt = (select(ProgressSnapshot.day, func.avg(ProgressSnapshot.progress), func.avg(ProgressSnapshot.score))
            .where(ProgressSnapshot.year_id == year.id).group_by(ProgressSnapshot.day)
            .order_by(ProgressSnapshot.day))
    if branch_id is not None:
        stmt = stmt.where(ProgressSnapshot.branch_id == branch_id)
    return [(day, round(float(p), 1), round(float(s), 1) if s is not None else None)
            for day, p, s in db.session.execute(stmt)]


def page_count(count: int, per_page: int | None) -> int:
    """Pages of `per_page` rows that `count` rows fill (at least one; one when every row is on it)."""
    return max(1, -(-count // per_page)) if per_page else 1


def clamp_page(filters: Filters, count: int) -> None:
    """A page past the end (the list got shorter since the link was made) shows the last one, with a note."""
    from flask_babel import gettext as _

    pages = page_count(count, filters.per_page)
    if filters.page > pages:
        filters.notes.append(_("There is no page %(page)s; showing page %(last)s, the last.",
                               page=filters.page, last=pages))
        filters.page = pages


MAX_VIEWS = 64  # filtered and sorted views kept per version of the rows


@dataclass(frozen=True)
class _View:
    """What a filter and sort make of the kept rows: the same whatever page is shown."""

    rows: list[Row]
    criterion_averages: list[tuple[Criterion, float | None, float]]
    summary: Summary  # without the overdue follow-ups, counted per request


def _view(kept: _Kept, filters: Filters, criteria: list[Criterion], now: datetime) -> _View:
    """The filtered, sorted rows with their summary, computed once per version of the kept rows and view
    (paging through the result, or opening it again, reuses it). The inactivity flag is judged at the time
    of that computation, which the version's DASHBOARD_CACHE_SECONDS bound."""
    key = ("view", filters.kind, filters.status, filters.q, filters.sort, filters.descending,
           tuple(c.id for c in criteria))
    view = kept.derived.get(key)
    if view is None:
        rows = sort_rows([r for r in kept.rows if matches(r, filters)], filters, criteria)
        view = _View(rows=rows, criterion_averages=criterion_averages([r.cells for r in rows], criteria),
                     summary=summarise(rows, now))
        if sum(1 for k in kept.derived if k[0] == "view") >= MAX_VIEWS:
            for old in [k for k in kept.derived if k[0] == "view"]:
                del kept.derived[old]
        kept.derived[key] = view
    return view


def _timeline_kept(kept: _Kept, year: CampaignYear, today: date) -> list[tuple[date, float, float | None]]:
    """The district's daily averages, once per version of the kept rows and day (a snapshot taken by this
    worker drops them at once; one taken by the cron command shows within DASHBOARD_CACHE_SECONDS)."""
    key = ("timeline", today)
    if key not in kept.derived:
        kept.derived[key] = timeline(year)
    return kept.derived[key]


def overview(args, today: date | None = None) -> Overview:
    """The whole overview page for the query-string `args`; unknown values become notes."""
    today = today or date.today()
    now = utcnow()
    all_years = years()
    criteria = branch_criteria()
    filters = parse_filters(args, all_years, criteria)
    view = _View(rows=[], criterion_averages=criterion_averages([], criteria), summary=summarise([], now))
    all_rows: list[Row] = []
    line: list = []
    if filters.year is not None:
        kept = _kept_rows(filters.year, now)
        all_rows = kept.rows
        view = _view(kept, filters, criteria, now)
        if filters.grade or filters.appraisal:  # 分类定级 and 群众评议 filters: one query each
            from .grading import branch_ids_by_appraisal, branch_ids_graded

            rows = view.rows
            if filters.grade:
                graded = branch_ids_graded(filters.year, filters.grade)
                rows = [r for r in rows if r.branch_id in graded]
            if filters.appraisal:
                appraised = branch_ids_by_appraisal(filters.year, filters.appraisal)
                rows = [r for r in rows if r.branch_id in appraised]
            view = _View(rows=rows, criterion_averages=criterion_averages([r.cells for r in rows], criteria),
                         summary=summarise(rows, now))
        clamp_page(filters, len(view.rows))
        line = _timeline_kept(kept, filters.year, today)
        if all_rows and filters.year.is_current:
            line = with_live_today(line, today, all_rows)
    return Overview(
        filters=filters, years=all_years, criteria=criteria, rows=view.rows, all_branches=len(all_rows),
        summary=replace(view.summary, overdue_follow_ups=_overdue_follow_ups(today)),
        criterion_averages=view.criterion_averages, timeline=line, now=now,
    )


# --- daily snapshots -------------------------------------------------------------------------------

def _upsert(table, rows: list[dict], keys: list[str], update: list[str]) -> None:
    """INSERT … ON CONFLICT DO UPDATE, in one statement, on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(rows)
    stmt = stmt.on_conflict_do_update(index_elements=keys,
                                      set_={name: getattr(stmt.excluded, name) for name in update})
    db.session.execute(stmt)


def snapshot_rows(year: CampaignYear, day: date, rows: list[Row]) -> list[dict]:
    return [{"year_id": year.id, "branch_id": row.branch_id, "day": day,
             "progress": row.total.progress, "score": row.total.score} for row in rows]


def take_snapshot(year: CampaignYear, day: date | None = None, rows: list[Row] | None = None) -> int:
    """Upsert the day's progress and score of every active branch in one statement; commits.

    Snapshots are derived figures (recomputable from the answers), not anybody's change, so they
    are not audited."""
    day = day or date.today()
    rows = rows if rows is not None else build_rows(year)
    if not rows:
        return 0
    _upsert(ProgressSnapshot.__table__, snapshot_rows(year, day, rows),
            ["year_id", "branch_id", "day"], ["progress", "score"])
    db.session.commit()
    return len(rows)


def with_live_today(line: list[tuple[date, float, float | None]], today: date,
                    rows: list[Row]) -> list[tuple[date, float, float | None]]:
    """The stored daily points before `today`, then today's from the live figures `rows` (averaged as
    `timeline` averages the snapshots). A page never writes a snapshot: the task queue's periodic task does
    (portal/tasks.py), so the chart moves with or without the worker."""
    scores = [row.total.score for row in rows if row.total.score is not None]
    point = (today, round(sum(row.total.progress for row in rows) / len(rows), 1),
             round(sum(scores) / len(scores), 1) if scores else None)
    return [p for p in line if p[0] < today] + [point]


# --- the item-level results of all branches (for the export) ---------------------------------------

@dataclass
class ItemGrid:
    criteria: list[tuple[Criterion, list[Item]]]
    results: dict[tuple[int, int], Result]  # (branch_id, item_id) → result


def item_grid(year: CampaignYear) -> ItemGrid:
    """Every applicable 五个好 item of the year in framework order, and every branch's answer."""
    items = list(db.session.execute(
        select(Item, Criterion).join(Criterion).join(Framework)
        .where(Framework.subject == Subject.BRANCH,
               (Item.year_id.is_(None)) | (Item.year_id == year.id))
        .order_by(Criterion.position, Item.position, Item.id)))
    answers = {(branch_id, item_id): result for branch_id, item_id, result in db.session.execute(
        select(Assessment.branch_id, ItemResult.item_id, ItemResult.result)
        .join(Assessment, Assessment.id == ItemResult.assessment_id)
        .where(Assessment.year_id == year.id, Assessment.member_id.is_(None)))}
    answered_items = {item_id for _, item_id in answers}
    grouped: dict[int, tuple[Criterion, list[Item]]] = {}
    for item, criterion in items:
        if not item.active and item.id not in answered_items:
            continue  # retired and never answered this year
        grouped.setdefault(criterion.id, (criterion, []))[1].append(item)
    return ItemGrid(criteria=list(grouped.values()), results=answers)


# --- the branch page -------------------------------------------------------------------------------

@dataclass
class MemberLine:
    user_id: int
    name: str
    role: Role
    post_title: str
    status: AssessmentStatus | None
    tally: Tally


@dataclass
class BranchPage:
    branch: Branch
    year: CampaignYear
    years: list[CampaignYear]
    notes: list[str]
    criteria: list[Criterion]
    assessment: Assessment | None
    cells: dict[int, Tally]
    district: list[tuple[Criterion, float | None, float]]  # district averages per criterion
    district_progress: float
    district_score: float | None
    events: list[tuple[AssessmentEvent, str]]  # (event, actor's name)
    reviews: list[tuple[Review, str]]
    pledges: list[Pledge]
    posts: list[Post]
    members: list[MemberLine]
    audit: list[AuditEvent]
    timeline: list[tuple[date, float, float | None]]
    own: MemberLine | None = None  # the viewing member's own 五带头 progress

    @property
    def total(self) -> Tally:
        return progress.overall(self.cells)

    @property
    def criterion_scores(self) -> list[tuple[str, float | None]]:
        return [(c.title, self.cells[c.id].score if c.id in self.cells else None) for c, _s, _p in self.district]

    @property
    def district_scores(self) -> list[float | None]:
        return [score for _c, score, _p in self.district]

    @property
    def members_done(self) -> int:
        return sum(1 for m in self.members if m.status in DONE_STATUSES)


AUDIT_LIMIT = 20


def get_branch(branch_id: int) -> Branch:
    from flask_babel import gettext as _

    from ..errors import NotFound

    branch = db.session.scalar(select(Branch).where(Branch.id == branch_id))
    if branch is None:
        raise NotFound(_("There is no such branch."))
    return branch


def branch_page(branch: Branch, args, viewer: User, *, with_members: bool, with_audit: bool) -> BranchPage | None:
    """Everything the branch page shows; None if no campaign year exists. Constant number of queries."""
    all_years = years()
    filters = parse_filters({"year": args.get("year", "")}, all_years, [])
    if filters.year is None:
        return None
    year = filters.year
    criteria = branch_criteria()

    district = district_averages(year, criteria)
    assessment = db.session.scalar(select(Assessment).where(
        Assessment.year_id == year.id, Assessment.branch_id == branch.id, Assessment.member_id.is_(None)))
    cells = progress.tallies([assessment.id])[assessment.id] if assessment is not None else {}
    events = []
    if assessment is not None:
        events = list(db.session.execute(
            select(AssessmentEvent, func.coalesce(User.display_name, ""))
            .outerjoin(User, User.id == AssessmentEvent.actor_id)
            .where(AssessmentEvent.assessment_id == assessment.id)
            .order_by(AssessmentEvent.at.desc(), AssessmentEvent.id.desc())).tuples())
    reviews = list(db.session.execute(
        select(Review, func.coalesce(User.display_name, ""))
        .outerjoin(User, User.id == Review.reviewer_id)
        .where(Review.branch_id == branch.id, Review.year_id == year.id, Review.member_id.is_(None))
        .order_by(Review.created_at.desc(), Review.id.desc())).tuples())
    pledges = list(db.session.scalars(
        select(Pledge).where(Pledge.branch_id == branch.id, Pledge.year_id == year.id,
                             Pledge.member_id.is_(None), Pledge.status == PledgeStatus.APPROVED)
        .order_by(Pledge.approved_at.desc(), Pledge.id.desc())))
    posts = list(db.session.scalars(
        select(Post).where(Post.branch_id == branch.id, Post.status == PostStatus.PUBLISHED)
        .order_by(Post.published_at.desc(), Post.id.desc()).limit(10)))

    members: list[MemberLine] = []
    own: MemberLine | None = None
    if with_members or viewer.branch_id == branch.id:
        members, own = _member_lines(branch.id, year, viewer, with_members)
    trail = []
    if with_audit:
        trail = list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.branch_id == branch.id, audit.changes_work())
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(AUDIT_LIMIT)))
    return BranchPage(
        branch=branch, year=year, years=all_years, notes=filters.notes, criteria=criteria,
        assessment=assessment, cells=cells, district=district.criteria,
        district_progress=district.progress, district_score=district.score,
        events=events, reviews=reviews, pledges=pledges, posts=posts, members=members, audit=trail,
        timeline=timeline(year, branch.id), own=own,
    )


def _member_lines(branch_id: int, year: CampaignYear, viewer: User,
                  everyone: bool) -> tuple[list[MemberLine], MemberLine | None]:
    """The branch's people with their own 五带头 progress (all of them, or only the viewer)."""
    people = (select(User.id, User.display_name, User.role, User.post_title, Assessment.id, Assessment.status)
              .outerjoin(Assessment, and_(Assessment.member_id == User.id, Assessment.year_id == year.id))
              .where(User.branch_id == branch_id, User.active.is_(True),
                     User.role.in_([Role.MEMBER, Role.SECRETARY])))
    if not everyone:
        people = people.where(User.id == viewer.id)
    # The secretary first, then everyone by pinyin.
    found = sorted(db.session.execute(people),
                   key=lambda row: (row[2] != Role.SECRETARY, collation.sort_key(row[1])))
    member_tallies = progress.tallies([aid for *_rest, aid, _s in found if aid is not None])
    lines = [MemberLine(uid, name, role, post_title, status,
                        progress.overall(member_tallies.get(aid, {})) if aid else Tally())
             for uid, name, role, post_title, aid, status in found]
    own = next((line for line in lines if line.user_id == viewer.id), None)
    return (lines if everyone else []), own
