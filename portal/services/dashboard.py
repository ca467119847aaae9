"""The leadership progress dashboard: every branch against the 五个好 criteria, for one campaign year.

Everything is aggregated in SQL, grouped by branch (and criterion), so that a page costs the same
number of queries for 3 branches as for 300. Progress and score follow `progress.Tally`:
progress = assessed / applicable items, score = weighted results (met 1, partly 0.5, not met 0),
n/a left out of both.
"""
from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache, cached_property, lru_cache
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, and_, bindparam, case, false, func, null, or_, select, true, union_all
from sqlalchemy.orm import aliased, lazyload

from .. import collation, labels
from ..clock import local_today
from ..extensions import db
from ..input_guard import parse_int
from ..models import (
    NO_GROUP,
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    AssessmentTally,
    AuditEvent,
    Branch,
    BranchLevel,
    BranchSummary,
    CampaignYear,
    Criterion,
    DistrictCriterion,
    DistrictDay,
    DistrictGroup,
    DistrictGroupCriterion,
    DistrictSummary,
    Framework,
    Item,
    ItemResult,
    Pledge,
    PledgeStatus,
    Post,
    PostCategory,
    PostStatus,
    ProgressSnapshot,
    RequestGroup,
    RequestKind,
    RequestTally,
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
from ..text import search_query
from . import audit, figures, progress
from .figures import search_fold
from .items import criteria_as_in, in_checklist, in_year_order, item_numbers, wordings_in
from .progress import Tally
from .reads import core_rows

INACTIVE_DAYS = 14  # a branch with no recorded activity for this long is flagged
EXEMPLAR_CATEGORIES = (PostCategory.BRANCH_EXEMPLAR, PostCategory.MEMBER_EXEMPLAR)
DONE_STATUSES = (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED)
NOT_STARTED = "none"  # status filter value: the branch has no assessment for the year yet
SEARCH_MAX = 60
SEARCH_WORDS = 5  # words of a name search, each of which a branch's name or brand must hold

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
    # Whether the appraisal filter's class is shown, by year id, read once per request (`_appraisal_shape`;
    # grading.appraisal_shown).
    appraisal_shown: dict[int, bool] = field(default_factory=dict, repr=False, compare=False)

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
        return self.args(sort=self.sort_link(column))

    def sort_link(self, column: str) -> str:
        """The `sort` value of a column header's link (`sort_args`): the column ascending ("name", "c1"), or
        descending ("-score"): the reverse of the current sort for its column, else descending for any column but
        the name."""
        descending = not self.descending if column == self.sort else column != "name"
        return ("-" if descending else "") + column

    @property
    def words(self) -> list[str]:
        """The words of the name search (at most SEARCH_WORDS; each must be in the branch's name or brand)."""
        return self.q.split()[:SEARCH_WORDS]

    @property
    def is_filtered(self) -> bool:
        return bool(self.kind or self.status or self.q or self.grade or self.appraisal)

    @property
    def is_kept(self) -> bool:
        """Whether the figures of the filtered branches are kept: no filter, or only the unit kind, status and/or
        appraisal class (the district's totals per kind, status and class, migrations h14f_01 and h14ap_01)."""
        return not (self.q or self.grade)


def years() -> list[CampaignYear]:
    """Every campaign year, the latest first. Their phases are loaded only if asked for (a page's year picker
    needs none of them; the current year's are already loaded for the header)."""
    return list(db.session.scalars(_years_statement()))


def branch_criteria() -> list[Criterion]:
    """The 五个好 criteria in their order."""
    return list(db.session.scalars(_branch_criteria_statement()))


# Statements of every dashboard and branch page that take no values, built once: building a statement and its
# cache key costs more CPU than SQLite takes to run it (issue #14).
@cache
def _years_statement():
    return select(CampaignYear).options(lazyload(CampaignYear.phases)).order_by(CampaignYear.year.desc())


@cache
def _branch_criteria_statement():
    return (select(Criterion).join(Framework).where(Framework.subject == Subject.BRANCH)
            .order_by(Criterion.position))


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
    typed = search_query(args.get("q"))  # invisible characters dropped, NFKC (full-width is half-width)
    filters.q = typed[:SEARCH_MAX]
    if len(typed) > SEARCH_MAX:
        filters.notes.append(_("The search was shortened to its first %(count)s characters.", count=SEARCH_MAX))
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
        columns[f"c{criterion.position}"] = labels.criterion_title(criterion)
    return columns


# --- the overview ----------------------------------------------------------------------------------

@dataclass
class Row:
    branch_id: int
    name: str
    unit_name: str
    unit_kind: UnitKind
    brand_name: str
    # criterion id → tally: the reference rows (`build_rows`), and `summary_rows`' rows of every match (to print, a
    # bulletin's figures); a page's rows and an export's hold none (their `figures` are what they show).
    cells: dict[int, Tally] = field(default_factory=dict)
    status: AssessmentStatus | None = None
    rating: ReviewRating | None = None
    plan_status: SubmissionStatus | None = None  # None: no plan was asked for
    overdue: int = 0
    pledges: int = 0
    posts: int = 0
    members_total: int = 0
    members_done: int = 0
    last_activity: datetime | None = None
    # criterion id → (progress, score) of every row of `summary_rows`, what its cells show: a page's the kept tally's
    # progress and score; an export's (summary_rows(figures=True)) computed from the kept counts by
    # progress.progress_of / score_of (the same figures).
    figures: dict[int, tuple[float, float | None]] = field(default_factory=dict)
    # (progress, score, items not met) of the whole checklist: an export's from the kept counts, a page's row the
    # branch summary's kept figures (what the page sorts by), without adding up its cells.
    overall: tuple[float, float | None, int] = (0.0, None, 0)

    @cached_property
    def total(self) -> Tally:
        """The whole checklist's Tally, the sum of the `cells` (of a row that holds them; a page's row has
        `overall`)."""
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
    rows: list[Row]  # the rows on this page (every matching row when the page holds them all)
    count: int  # rows that match the filters, on every page
    all_branches: int  # before filtering
    summary: Summary
    criterion_averages: list[tuple[Criterion, float | None, float]]  # (criterion, avg score, avg progress)
    timeline: list[tuple[date, float, float | None]]  # (day, avg progress, avg score)
    now: datetime
    progress_counts: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BINS)  # branches per band
    # The figures (summary, averages, charts) are left for a second request (`figures_later`); the rows and the
    # count are here.
    figures_later: bool = False

    @property
    def pages(self) -> int:
        return page_count(self.count, self.filters.per_page)

    @property
    def figures_key(self) -> str:
        """The id of the page's cards ("figures-" and a digest of the filters the figures depend on; the charts'
        "…-charts"): an answer of the figures' second request meant for other filters finds no place to fill."""
        f = self.filters
        key = "\n".join((str(f.year.year if f.year else ""), f.kind.value if f.kind else "", f.status or "", f.q,
                         f.grade, f.appraisal))
        return f"figures-{zlib.crc32(key.encode()):08x}"

    @property
    def first_index(self) -> int:
        """Index among the matching rows of the first row on the page."""
        size = self.filters.per_page
        return (self.filters.page - 1) * size if size else 0

    @property
    def page_rows(self) -> list[Row]:
        """The rows of the table on this page (summary and charts cover every row that matches)."""
        return self.rows

    @property
    def criterion_scores(self) -> list[tuple[str, float | None]]:
        return [(labels.criterion_title(criterion), score) for criterion, score, _progress in self.criterion_averages]

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
    branches), aggregated afresh from the records in a constant number of grouped queries: the reference
    that the kept summaries (services/figures.py) are tested against; pages read those."""
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
    owed_join, still_owed = _owed(Branch.id)
    overdue = dict(db.session.execute(
        select(Branch.id, func.count(SubmissionRequest.id))
        .select_from(Branch)
        .join(SubmissionRequest, and_(SubmissionRequest.year_id == year.id, SubmissionRequest.deadline < now))
        .outerjoin(Submission, owed_join)
        .where(Branch.active.is_(True), among(Branch.id), still_owed)
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


@dataclass(frozen=True)
class DistrictAverages:
    criteria: list[tuple[Criterion, float | None, float]]  # (criterion, avg score, avg progress)
    progress: float
    score: float | None


def district_averages(year: CampaignYear, criteria: list[Criterion]) -> DistrictAverages:
    """The averages over every active branch that a branch page compares its branch with, read from the district's
    kept totals (`district_summary`, `district_criterion`): one statement of constant cost (the kept per-criterion
    sums, each row with the district's totals; those alone when no criterion has a kept row)."""
    from . import tallies as kept

    kept.apply_pending(summaries=True)
    found = core_rows(_district_averages_statement(), {"year_id": year.id}).all()
    if found:
        whole = found[0][4:]
    else:
        whole = core_rows(_district_whole_statement(), {"year_id": year.id}).one()
    figures = _with_whole(_Figures(), whole)
    return DistrictAverages(criteria=_averages_of(found, criteria, figures.all_count),
                            progress=figures.all_progress, score=figures.all_score)


@cache
def _district_averages_statement():
    """`district_averages`' statement, built once: `_kept_criteria_statement` of the district with `_whole`'s
    totals on each row."""
    return _kept_criteria_statement(False, None, None).add_columns(*_whole(bindparam("year_id", type_=Integer)))


@cache
def _district_whole_statement():
    """`_whole`'s totals alone, built once."""
    return select(*_whole(bindparam("year_id", type_=Integer)))


_STATUS_ORDER = {None: 0, AssessmentStatus.DRAFT: 1, AssessmentStatus.RETURNED: 2,
                 AssessmentStatus.SUBMITTED: 3, AssessmentStatus.REVIEWED: 4}
_RATING_ORDER = {None: 0, ReviewRating.POOR: 1, ReviewRating.AVERAGE: 2, ReviewRating.FAIRLY_GOOD: 3,
                 ReviewRating.GOOD: 4}
_PLAN_ORDER = {None: 0, SubmissionStatus.PENDING: 1, SubmissionStatus.RETURNED: 2,
               SubmissionStatus.SUBMITTED: 3, SubmissionStatus.ACCEPTED: 4}


def _overdue_follow_ups(year: CampaignYear | None, filters: Filters, today: date) -> int:
    """The open inspection follow-ups (督察整改) of `year` past their due date (`today`: a local date), of the
    branches that match the filters (with no filter, the year's every follow-up, the district-wide ones without a
    branch too), as the overdue card shows them beside the overdue submissions; 0 with no year. One statement over
    the year's open follow-ups (a handful), each matched with its branch's summary when filtered (and decided by its
    own row: a list of every branch matching a name search would cost what the district is)."""
    if year is None:
        return 0
    filtered = filters.is_filtered
    shape = _filter_shape(year, filters) if filtered else None
    values = _filter_values(year.id, filters, today=today) if filtered else {"year_id": year.id, "today": today}
    return int(core_rows(_follow_ups_statement(shape), values).scalar() or 0)


@lru_cache(maxsize=256)
def _follow_ups_statement(shape: _FilterShape | None):
    """`_overdue_follow_ups`' count for filters of that shape (None: unfiltered), built once (parameters: `year_id`,
    `today` and, filtered, `_filter_values`)."""
    from ..models import FollowUp, FollowUpStatus, Inspection

    year_id = bindparam("year_id", type_=Integer)
    stmt = (select(func.count(FollowUp.id)).select_from(FollowUp)
            .join(Inspection, Inspection.id == FollowUp.inspection_id)
            .where(Inspection.year_id == year_id, FollowUp.status == FollowUpStatus.OPEN,
                   FollowUp.due_on < bindparam("today")))
    if shape is None:
        return stmt
    matches = _summaries(S.branch_id).where(S.branch_id == FollowUp.branch_id, *_in_year_id(year_id),
                                            *_shaped_filters(shape, year_id))
    return stmt.where(matches.exists())  # (correlated: decided per follow-up, the few there are)


def timeline(year: CampaignYear, branch_id: int | None = None) -> list[tuple[date, float, float | None]]:
    """Daily (day, average progress, average score) from the snapshots, of one branch, or district-wide from the
    kept daily averages (`district_day`, one row per day whatever the size of the district)."""
    found = core_rows(_timeline_statement(branch_id is not None), {"year_id": year.id, "branch_id": branch_id}).all()
    return [(day, round(float(p), 1), round(float(s), 1) if s is not None else None) for day, p, s in found]


@cache
def _timeline_statement(of_branch: bool):
    """`timeline`'s statement, of one branch or of the district, built once."""
    year_id = bindparam("year_id", type_=Integer)
    if not of_branch:
        return (select(DistrictDay.day, DistrictDay.progress, DistrictDay.score)
                .where(DistrictDay.year_id == year_id).order_by(DistrictDay.day))
    return (select(ProgressSnapshot.day, ProgressSnapshot.progress, ProgressSnapshot.score)
            .where(ProgressSnapshot.year_id == year_id, ProgressSnapshot.branch_id == bindparam("branch_id"))
            .order_by(ProgressSnapshot.day))


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


# --- the overview, paged, sorted and filtered in SQL over the kept summaries ------------------------

def _owed(branch_id) -> tuple:
    """(join, owed) for the submissions a branch owes: the outer join of the branch's submission (`branch_id`: a
    column) to each SubmissionRequest, and the condition that it is still owed — none handed in, or one pending or
    returned. The one statement of that rule for the overview, its cards and the export."""
    join = and_(Submission.request_id == SubmissionRequest.id, Submission.branch_id == branch_id)
    return join, or_(Submission.id.is_(None), Submission.status.in_([SubmissionStatus.PENDING,
                                                                     SubmissionStatus.RETURNED]))


HISTOGRAM_BINS = 5  # progress bands of the distribution chart: 0–20 %, …, 80–100 %
S = BranchSummary


def _binary(column):
    """A text column compared by code point, as Python compares strings (PostgreSQL's database collation may
    ignore spaces and case, which would reorder pinyin keys)."""
    return column.collate("C") if db.engine.dialect.name == "postgresql" else column


def _summaries(*columns):
    """SELECT columns FROM the summaries alone: they hold the branch's active flag, unit kind and order (the
    district's aggregates join nothing else)."""
    return select(*columns).select_from(S)


def _in_year(year: CampaignYear) -> list:
    """The summaries of the year's active branches (a range of the summaries' indexes)."""
    return _in_year_id(year.id)


def _in_year_id(year_id) -> list:
    """`_in_year` of a year's id (a value, or a bound parameter of a statement built once)."""
    return [S.year_id == year_id, S.active.is_(True)]


def _matching(year: CampaignYear, filters: Filters) -> list:
    """SQL conditions of the filters (unit type, status, name or brand, grade, appraisal) on the summaries, their
    values given (`_shaped_filters` with `_filter_values`). (Made afresh for each statement: a subquery shared by
    statements changes their cache keys.)"""
    return _shaped_filters(_filter_shape(year, filters), year.id, _filter_values(year.id, filters))


CLASS, NOBODY = "class", "nobody"  # the appraisal filter's shapes (`_appraisal_shape`)


def _appraisal_shape(filters: Filters) -> str | None:
    """The appraisal filter's shape in the filters' year: None without it; CLASS, the summaries of its class
    (`BranchSummary.appraisal`, kept: grading.appraisal_class); NOBODY while its class is not shown ("low" before the
    year's round has closed: grading.appraisal_shown, read once per request)."""
    if not filters.appraisal:
        return None
    shown = filters.appraisal_shown
    year = filters.year
    if year.id not in shown:
        from .grading import appraisal_shown

        shown[year.id] = appraisal_shown(year, filters.appraisal)
    return CLASS if shown[year.id] else NOBODY


# --- statements built once ---------------------------------------------------------------------------------
# The statements every overview and branch page runs are built once per shape (which filters, which order), their
# values bound as parameters: building a statement and its cache key cost more CPU than SQLite takes to run it
# (issue #14). `_shape` names the shape of the filters a kept figure can serve (unit kind, status and/or appraisal
# class); `_values` gives the parameters of those statements.

def _shape(filters: Filters | None) -> tuple[bool, str | None, str | None]:
    """(kind filtered, status filter: None, NOT_STARTED or "status", appraisal filter: `_appraisal_shape`) of
    kept-figure filters."""
    if filters is None:
        return False, None, None
    status = None if not filters.status else NOT_STARTED if filters.status == NOT_STARTED else "status"
    return bool(filters.kind), status, _appraisal_shape(filters)


def _values(year_id: int, filters: Filters | None, **more) -> dict:
    """The parameters of a statement built by shape: the year, the kind, status and appraisal filters' values (as
    the summaries and as the totals per group store them), and `more`."""
    values = {"year_id": year_id, **more}
    if filters is not None and filters.kind:
        values.update(kind=filters.kind, kind_group=filters.kind.value)
    if filters is not None and filters.status and filters.status != NOT_STARTED:
        values.update(status=AssessmentStatus(filters.status), status_group=filters.status)
    if filters is not None and filters.appraisal:
        values.update(appraisal=filters.appraisal)  # (a text, in the summaries as in the totals per group)
    return values


def _shaped_matching(kind: bool, status: str | None, appraisal: str | None, values: dict | None = None) -> list:
    """`_matching` of kind, status and appraisal filters of that shape, their values bound parameters (`_values`;
    or given them, from `values`)."""
    conditions = []
    if kind:
        conditions.append(S.unit_kind == _param("kind", values))
    if status == NOT_STARTED:
        conditions.append(S.status.is_(None))
    elif status:
        conditions.append(S.status == _param("status", values))
    if appraisal == NOBODY:
        conditions.append(false())
    elif appraisal:
        conditions.append(S.appraisal == _param("appraisal", values, type_=String))
    return conditions


def _param(name: str, values: dict | None, **kw):
    """A bound parameter `name` of a statement built once (its value given when run), or with its value from
    `values`."""
    return bindparam(name, **kw) if values is None else bindparam(name, values[name], **kw)


def _shaped_group(table, kind: bool, status: str | None, appraisal: str | None) -> list:
    """Conditions of kind, status and appraisal filters of that shape on a table of the totals per group
    (`DistrictGroup`, …), their values bound parameters (`_values`)."""
    conditions = []
    if kind:
        conditions.append(table.unit_kind == bindparam("kind_group"))
    if status == NOT_STARTED:
        conditions.append(table.status == NO_GROUP)
    elif status:
        conditions.append(table.status == bindparam("status_group"))
    if appraisal == NOBODY:
        conditions.append(false())
    elif appraisal:
        conditions.append(table.appraisal == bindparam("appraisal", type_=String))
    return conditions


class _FilterShape(NamedTuple):
    """The shape of any filters (`_filter_shape`): which are given, so that the statements of the filters whose
    figures are not kept (name, grade) are built once too: a statement of a dozen conditions cost more to build and
    key than SQLite took to run it (issue #14)."""

    kind: bool
    status: str | None
    appraisal: str | None  # `_appraisal_shape`
    q: int  # the name search's words
    grade: bool
    dialect: str  # the name search's case folding differs


def _filter_shape(year: CampaignYear, filters: Filters) -> _FilterShape:
    return _FilterShape(*_shape(filters), len(filters.words), bool(filters.grade), db.engine.dialect.name)


def _filter_values(year_id: int, filters: Filters, **more) -> dict:
    """`_values` with the name search's words (`needle0`, `needle1`, …) and the grade."""
    values = _values(year_id, filters, **more)
    for index, word in enumerate(filters.words):
        values[f"needle{index}"] = word
    if filters.grade:
        values["grade"] = filters.grade
    return values


def _shaped_filters(shape: _FilterShape, year_id, values: dict | None = None) -> list:
    """`_matching` of filters of that shape, their values bound parameters (`_filter_values`; or given them, from
    `values`). `year_id`: the statement's parameter of the year, or its value. Each is a condition on the summary's
    own columns (a statement that stops early, as a page read in index order, decides each row by its own values).

    The name search: the branch's name or brand holds each word, both in the search's fold (NFKC, case folded:
    services/figures.py `search_fold`, as the summary's `search_text` is written): `instr` on SQLite, `strpos` on
    PostgreSQL (no wildcard to escape), so that a count of the matches reads `ix_branch_summary_search` alone. The
    grade: the summary's own (`BranchSummary.grade`), a range of `ix_branch_summary_grade_order`."""
    conditions = _shaped_matching(shape.kind, shape.status, shape.appraisal, values)
    position = func.strpos if shape.dialect == "postgresql" else func.instr
    for index in range(shape.q):
        word = search_fold(shape.dialect, _param(f"needle{index}", values, type_=String))
        conditions.append(position(S.search_text, word) > 0)
    if shape.grade:  # 分类定级: the grade in force (confirmed, else proposed)
        conditions.append(S.grade == _param("grade", values, type_=String))
    return conditions


@dataclass(frozen=True)
class _Figures:
    """Aggregates over the summaries of a year: of the matching rows and of every active branch."""

    count: int = 0
    all_count: int = 0
    submitted: int = 0
    average_progress: float = 0.0
    average_score: float | None = None
    not_met: int = 0
    inactive: int = 0
    bands: tuple[int, ...] = (0,) * HISTOGRAM_BINS
    all_progress: float = 0.0
    all_score: float | None = None
    overdue: int | None = None  # the matching branches' overdue submissions, when read with the rest
    criteria: tuple | None = None  # their criterion sums (`_averages_of`'s rows), when read with the rest


def _average(total, count) -> float | None:
    return round(float(total) / count, 1) if count else None


def _quiet(year_id, cutoff, conditions: Sequence = ()):
    """The year's active branches (matching `conditions`) with no activity since `cutoff` (now − INACTIVE_DAYS) or
    none at all, as a scalar subquery: two range counts of `ix_branch_summary_active_activity`, so they cost what
    the quiet branches are, not the district (the only one of the cards that depends on the clock, hence not kept).
    `year_id` and `cutoff`: values or bound parameters."""
    never = _summaries(func.count()).where(*_in_year_id(year_id), S.last_activity.is_(None), *conditions)
    before = _summaries(func.count()).where(*_in_year_id(year_id), S.last_activity < cutoff, *conditions)
    return never.scalar_subquery() + before.scalar_subquery()


def _cutoff(now: datetime) -> datetime:
    """The last activity before which a branch counts as quiet."""
    return now - timedelta(days=INACTIVE_DAYS)


_TOTALS = ("branches", "submitted", "progress_tenths", "scored", "score_tenths", "not_met", "band_0", "band_1",
           "band_2", "band_3", "band_4")  # the columns of DistrictSummary and DistrictGroup, in this order


def _whole(year_id) -> list:
    """Scalar subqueries of the district's active branches, Σ progress (tenths), scored and Σ score (tenths), from
    its kept totals (DISTRICT_SLOTS rows). `year_id`: a value or a bound parameter."""
    d = DistrictSummary
    return [select(func.sum(column)).where(d.year_id == year_id).scalar_subquery()
            for column in (d.branches, d.progress_tenths, d.scored, d.score_tenths)]


@cache
def _kept_aggregate_statement(kind: bool, status: str | None, appraisal: str | None):
    """`_kept_aggregate`'s statement for filters of that shape (`_shape`), built once (parameters: `_values` and
    `cutoff`)."""
    year_id = bindparam("year_id", type_=Integer)
    if not (kind or status or appraisal):
        table, conditions, matching, whole = DistrictSummary, [], [], []
    else:
        table, conditions = DistrictGroup, _shaped_group(DistrictGroup, kind, status, appraisal)
        matching, whole = _shaped_matching(kind, status, appraisal), _whole(year_id)
    return (select(_quiet(year_id, bindparam("cutoff"), matching), *(func.sum(getattr(table, name))
                                                                    for name in _TOTALS), *whole)
            .where(table.year_id == year_id, *conditions))


def _kept_aggregate(year: CampaignYear, now: datetime, filters: Filters | None = None) -> _Figures:
    """`_aggregate` of the unfiltered district, read from the kept totals (`district_summary`: DISTRICT_SLOTS rows
    whatever the size of the district), or of the filters by kind, status and/or appraisal class from the totals per
    group (`district_group`: DISTRICT_SLOTS rows per kind, status and class), with the quiet branches' range counts:
    one statement."""
    shape = _shape(filters)
    whole = any(shape)
    row = core_rows(_kept_aggregate_statement(*shape), _values(year.id, filters, cutoff=_cutoff(now))).one()
    count, submitted, progress_tenths, scored, score_tenths, not_met, *bands = (int(v or 0) for v in row[1:12])
    average_progress = _average(progress_tenths / 10, count) or 0.0
    average_score = _average(score_tenths / 10, scored)
    found = _Figures(count=count, all_count=count, submitted=submitted, average_progress=average_progress,
                     average_score=average_score, not_met=not_met, inactive=int(row[0] or 0), bands=tuple(bands),
                     all_progress=average_progress, all_score=average_score)
    return _with_whole(found, row[12:]) if whole else found


def _with_whole(found: _Figures, whole: Sequence) -> _Figures:
    """The figures with the district's count and averages (`_whole`'s values)."""
    branches, progress_tenths, scored, score_tenths = (int(v or 0) for v in whole)
    return replace(found, all_count=branches, all_progress=_average(progress_tenths / 10, branches) or 0.0,
                   all_score=_average(score_tenths / 10, scored))


def _aggregate(year: CampaignYear, filters: Filters, now: datetime, kept: bool = True) -> _Figures:
    """The summary cards, the distribution chart and the district's averages: unfiltered or filtered by kind, status
    and/or appraisal class, one read of the kept totals (`_kept_aggregate`); under the other filters (or not `kept`:
    the reference the kept totals are tested against), one aggregate over the matching summaries (the district's
    figures from its kept totals), with their overdue submissions and criterion sums (`_Figures.overdue`,
    `.criteria`) in the same statement."""
    if kept and filters.is_kept:
        return _kept_aggregate(year, now, filters)
    rows = core_rows(_matched_aggregate_statement(_filter_shape(year, filters)),
                     _filter_values(year.id, filters, cutoff=_cutoff(now), now=now)).all()
    row = next(row for row in rows if row[-4] is None)  # the cards' row; the others a criterion's each
    count, submitted, progress_sum, score_sum, scored_count, not_met, inactive = row[:7]
    whole_at = 7 + HISTOGRAM_BINS
    requests, handed = row[whole_at + 4:whole_at + 6]
    found = _Figures(count=int(count), submitted=int(submitted),
                     average_progress=_average(progress_sum, int(count)) or 0.0,
                     average_score=_average(score_sum, int(scored_count)), not_met=int(not_met),
                     inactive=int(inactive), bands=tuple(int(n) for n in row[7:whole_at]),
                     overdue=int(requests or 0) * int(count) - int(handed or 0),
                     criteria=tuple(other[-4:] for other in rows if other[-4] is not None))
    return _with_whole(found, row[whole_at:whole_at + 4])


@lru_cache(maxsize=256)
def _matched_aggregate_statement(shape: _FilterShape):
    """`_aggregate` over the matching summaries for filters of that shape, with their overdue submissions as
    `_overdue_total` counts them (the requests past their deadline, the matching branches' handed-in submissions)
    and their criterion sums as `_criterion_averages` reads them, built once (parameters: `_filter_values`, `cutoff`
    and `now`): the cards' row (its last four columns NULL), then a row per criterion (only its last four). The
    matching summaries are a common table expression read thrice (materialised by SQLite and PostgreSQL alike), so
    that the filters are decided once: the name search would cost as much again in each other statement."""
    year_id = bindparam("year_id", type_=Integer)
    m = (_summaries(S.branch_id, S.assessment_id, S.status, S.progress, S.score, S.not_met, S.last_activity)
         .where(*_in_year_id(year_id), *_shaped_filters(shape, year_id)).cte("matched"))

    def total(condition, value=1):
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    step = 100 / HISTOGRAM_BINS
    bands = [total(and_(m.c.progress >= index * step, m.c.progress < (index + 1) * step))
             for index in range(HISTOGRAM_BINS - 1)]
    bands.append(total(m.c.progress >= (HISTOGRAM_BINS - 1) * step))
    scored = m.c.score.isnot(None)
    quiet = or_(m.c.last_activity.is_(None), m.c.last_activity < bindparam("cutoff"))
    past = and_(SubmissionRequest.year_id == year_id, SubmissionRequest.deadline < bindparam("now"))
    requests = select(func.count(SubmissionRequest.id)).where(past).scalar_subquery()
    handed = (select(func.count(Submission.id)).select_from(Submission)
              .join(SubmissionRequest, and_(SubmissionRequest.id == Submission.request_id, past))
              .join(m, m.c.branch_id == Submission.branch_id)
              .where(Submission.status.in_([SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED]))
              .scalar_subquery())
    cards = [func.count(), total(m.c.status.in_(DONE_STATUSES)), func.coalesce(func.sum(m.c.progress), 0),
             total(scored, m.c.score), total(scored), func.coalesce(func.sum(m.c.not_met), 0), total(quiet), *bands,
             *_whole(year_id), requests, handed]
    t = AssessmentTally
    sums = [t.criterion_id, func.sum(t.progress), func.sum(t.score), func.count(t.score)]
    return union_all(select(*cards, *(null() for _ in sums)).select_from(m),
                     select(*(null() for _ in cards), *sums).select_from(m)
                     .join(t, t.assessment_id == m.c.assessment_id).group_by(t.criterion_id))


def _criterion_averages(year: CampaignYear, filters: Filters, criteria: list[Criterion],
                        count: int, kept: bool = True, found=None) -> list[tuple[Criterion, float | None, float]]:
    """Per criterion, over the matching branches: the average score over those that have one, and the
    average progress (a branch without figures counts as 0 %). Unfiltered or filtered by kind, status and/or
    appraisal class, a read of the kept per-criterion sums (`district_criterion`, `district_group_criterion`:
    DISTRICT_SLOTS rows per criterion and group); under the other filters (or not `kept`), one GROUP BY over the
    matching branches' kept tallies, unless `found` gives its rows (read with the cards: `_Figures.criteria`)."""
    if found is None and kept and filters.is_kept:
        found = core_rows(_kept_criteria_statement(*_shape(filters)), _values(year.id, filters))
    elif found is None:
        found = core_rows(_matched_criteria_statement(_filter_shape(year, filters)), _filter_values(year.id, filters))
    return _averages_of(found, criteria, count)


def _averages_of(found, criteria: list[Criterion], count: int) -> list[tuple[Criterion, float | None, float]]:
    """`_criterion_averages` of rows (criterion id, Σ progress, Σ score, scored, …) over `count` branches."""
    rows = {cid: (p, s, n) for cid, p, s, n, *_ in found}
    out = []
    for criterion in criteria:
        progress_sum, score_sum, scored = rows.get(criterion.id, (0, None, 0))
        out.append((criterion, _average(score_sum, int(scored or 0)),
                    _average(progress_sum or 0, count) or 0.0))
    return out


@lru_cache(maxsize=256)
def _matched_criteria_statement(shape: _FilterShape):
    """`_criterion_averages`' GROUP BY over the matching branches' kept tallies for filters of that shape, built
    once (parameters: `_filter_values`)."""
    t, year_id = AssessmentTally, bindparam("year_id", type_=Integer)
    return (_summaries(t.criterion_id, func.sum(t.progress), func.sum(t.score), func.count(t.score))
            .join(t, t.assessment_id == S.assessment_id)
            .where(*_in_year_id(year_id), *_shaped_filters(shape, year_id)).group_by(t.criterion_id))


@cache
def _kept_criteria_statement(kind: bool, status: str | None, appraisal: str | None):
    """`_criterion_averages`' read of the kept per-criterion sums for filters of that shape, built once."""
    d = DistrictGroupCriterion if kind or status or appraisal else DistrictCriterion
    return (select(d.criterion_id, func.sum(d.progress_tenths) / 10.0, func.sum(d.score_tenths) / 10.0,
                   func.sum(d.scored)).where(d.year_id == bindparam("year_id", type_=Integer),
                                             *_shaped_group(d, kind, status, appraisal))
            .group_by(d.criterion_id))


def _order(filters: Filters, criteria: list[Criterion]) -> list:
    """ORDER BY of the sort column (rows without a value the lowest), ties by name in pinyin order."""
    by_position = {f"c{c.position}": c.id for c in criteria}
    return _order_by(filters.sort, filters.descending, by_position.get(filters.sort))


def _order_by(column: str, descending: bool, criterion_id=None) -> list:
    """`_order` of a sort column: by a criterion's score when `criterion_id` is given (a value, or a bound
    parameter of a statement built once), else by `column` (by name when it is no other)."""
    by_name = [_binary(S.sort_key), _binary(S.name)]  # (the branch's, copied: the summaries' indexes hold them)

    def ranked(column, order: dict) -> object:
        return case(*((column == value, rank) for value, rank in order.items() if value is not None), else_=0)

    if criterion_id is not None:
        t = AssessmentTally
        keys = [select(t.score).where(t.assessment_id == S.assessment_id,
                                      t.criterion_id == criterion_id).scalar_subquery()]
    else:
        keys = {
            "progress": [S.progress], "score": [S.score], "status": [ranked(S.status, _STATUS_ORDER)],
            "rating": [ranked(S.rating, _RATING_ORDER)], "plan": [ranked(S.plan_status, _PLAN_ORDER)],
            "pledges": [S.pledges], "posts": [S.posts], "coverage": [S.coverage, S.members_total],
            "activity": [S.last_activity],
        }.get(column)
    if keys is None:  # by name
        return [key.desc() for key in by_name] if descending else by_name
    return [key.desc().nulls_last() if descending else key.asc().nulls_first() for key in keys] + by_name


_PAGE_COLUMNS = (S.branch_id, Branch.name, Unit.name, Unit.kind, Branch.brand_name, S.assessment_id, S.status,
                 S.rating, S.plan_status, S.pledges, S.posts, S.members_total, S.members_done, S.last_activity)


def _page(stmt):
    """A SELECT of `_PAGE_COLUMNS` (and more) from the summaries, joined to their branch and unit."""
    return stmt.join(Branch, Branch.id == S.branch_id).join(Unit, Unit.id == Branch.unit_id)


@lru_cache(maxsize=1024)
def _page_statement(dialect: str, shape: _FilterShape, sort: str, descending: bool, by_criterion: bool,
                    paged: bool):
    """`summary_rows`' page of rows for filters of that shape (`_filter_shape`) in that order, built once per
    database dialect (its ORDER BY collation differs). Parameters: `_filter_values`, and `sort_criterion`, `limit`
    and `offset` where the shape has them."""
    year_id = bindparam("year_id", type_=Integer)
    # Read in an index's order (by name either way, by progress or score descending; models/figures.py), a page
    # stops after its rows: decided row by row, each costs what it reads; in any other order every match is read.
    stmt = (_page(_summaries(*_PAGE_COLUMNS, S.progress, S.score, S.not_met))
            .where(*_in_year_id(year_id), *_shaped_filters(shape, year_id))
            .order_by(*_order_by(sort, descending, bindparam("sort_criterion", type_=Integer) if by_criterion
                                 else None)))
    if paged:
        stmt = stmt.limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
    return stmt


@cache
def _page_cells_statement():
    """The criterion cells of a page's assessments (`ids`, an expanding parameter), built once: the kept progress
    and score of each (those the cells show; the same figures as `Tally`'s, services/figures.py), not the counts."""
    t = AssessmentTally
    return select(t.assessment_id, t.criterion_id, t.progress, t.score).where(
        t.assessment_id.in_(bindparam("ids", expanding=True)))


@cache
def _page_overdue_statement():
    """The overdue submissions of a page's branches (`ids`, an expanding parameter), per branch, built once
    (parameters `year_id`, `now`)."""
    return (_overdue(bindparam("year_id", type_=Integer), bindparam("now"), S.branch_id)
            .where(S.branch_id.in_(bindparam("ids", expanding=True))).group_by(S.branch_id))


def summary_rows(year: CampaignYear, filters: Filters, criteria: list[Criterion], now: datetime,
                 figures: bool = False) -> list[Row]:
    """The matching rows of the filters' page (every matching row when `per_page` is None), sorted, with their
    criterion figures (`Row.figures`: a page's the kept progress and score, no Tally; every matching row's with
    their Tally `cells` too) and overdue submissions: three queries, whatever the size of the district. With
    `figures` (an export's thousands of rows), each row's `figures` and `overall` computed from the kept counts,
    no Tally."""
    size = filters.per_page
    built = not figures  # a page, or every match: its statement built once per shape of the filters
    if built:
        by_position = {f"c{c.position}": c.id for c in criteria}
        stmt = _page_statement(db.engine.dialect.name, _filter_shape(year, filters), filters.sort,
                               filters.descending, filters.sort in by_position, bool(size))
        found = core_rows(stmt, _filter_values(year.id, filters, sort_criterion=by_position.get(filters.sort),
                                               limit=size, offset=(filters.page - 1) * (size or 0)))
    else:  # an export's figures, from the kept counts
        counts = (S.total, S.na, S.met, S.partly, S.not_met, S.weight_scored, S.weight_earned)
        stmt = (_page(_summaries(*_PAGE_COLUMNS, *counts))
                .where(*_in_year(year), *_matching(year, filters)).order_by(*_order(filters, criteria)))
        if size:
            stmt = stmt.limit(size).offset((filters.page - 1) * size)
        found = db.session.execute(stmt)
    rows, assessments = [], {}
    for (branch_id, name, unit_name, kind, brand, assessment_id, status, rating, plan, pledges, posts,
         members_total, members_done, last, *kept) in found.all():
        row = Row(branch_id, name, unit_name, kind, brand, status=status, rating=rating, plan_status=plan,
                  pledges=pledges, posts=posts, members_total=members_total, members_done=members_done,
                  last_activity=last)
        if figures:  # the summary's counts are the sums of its criteria's (services/figures.py)
            total, na, met, partly, not_met, weight_scored, weight_earned = kept
            row.overall = (progress.progress_of(total, na, met + partly + not_met),
                           progress.score_of(weight_scored, weight_earned), not_met)
        else:
            row.overall = (kept[0], kept[1], kept[2])
        rows.append(row)
        if assessment_id is not None:
            assessments[assessment_id] = row
    if not rows:
        return rows
    # The page's branches: by id for a page (statements built once), by the same conditions when the page holds
    # every match.
    if size:
        among_assessments = AssessmentTally.assessment_id.in_(bindparam("ids", expanding=True)) if figures else None
        values = {"ids": list(assessments)}
        overdue = dict(core_rows(_page_overdue_statement(), {
            "year_id": year.id, "now": now, "ids": [row.branch_id for row in rows]}).all())
    else:
        among_assessments = AssessmentTally.assessment_id.in_(
            _summaries(S.assessment_id).where(*_in_year(year), *_matching(year, filters)))
        values = {}
        among_branches = and_(*_matching(year, filters)) if _matching(year, filters) else true()
        overdue = dict(db.session.execute(_overdue(year.id, now, S.branch_id).where(among_branches)
                                          .group_by(S.branch_id)).all())
    if assessments and figures:
        t = AssessmentTally
        for assessment_id, criterion_id, total, na, assessed, weight_scored, weight_earned in db.session.execute(
                select(t.assessment_id, t.criterion_id, t.total, t.na, t.met + t.partly + t.not_met, t.weight_scored,
                       t.weight_earned).where(among_assessments), values):
            if assessment_id in assessments:
                assessments[assessment_id].figures[criterion_id] = (progress.progress_of(total, na, assessed),
                                                                    progress.score_of(weight_scored, weight_earned))
    elif assessments and size:  # a page: the figures its cells show, no Tally
        for assessment_id, criterion_id, shown_progress, shown_score in core_rows(_page_cells_statement(),
                                                                                   values).all():
            assessments[assessment_id].figures[criterion_id] = (shown_progress, shown_score)
    elif assessments:  # every match (to print, a bulletin's figures): the Tally cells too
        t = AssessmentTally
        for row in db.session.execute(select(t.assessment_id, t.criterion_id, t.progress, t.score,
                                             *progress.tally_columns()).where(among_assessments)):
            found = assessments.get(row[0])
            if found is not None:
                found.figures[row[1]] = (row[2], row[3])
                found.cells[row[1]] = progress.tally_of(row[4:11])
    for row in rows:
        row.overdue = int(overdue.get(row.branch_id, 0))
    return rows


class ExportRow(NamedTuple):
    """One branch of an export's year sheet as `export_rows` streams it: the figures `summary_rows(figures=True)`
    gives a Row, without the Row."""

    branch_id: int
    name: str
    unit_name: str
    unit_kind: UnitKind
    status: AssessmentStatus | None
    rating: ReviewRating | None
    plan_status: SubmissionStatus | None
    pledges: int
    posts: int
    members_total: int
    members_done: int
    last_activity: datetime | None
    overall: tuple[float, float | None, int]  # (progress, score, items not met), as Row.overall
    figures: list[tuple[float | None, float | None]]  # per criterion, in the order given: (progress, score)
    overdue: int
    extra: tuple  # the values of the caller's `extra` columns


EXPORT_BATCH = 200  # rows fetched at a time by export_rows (a server-side cursor's batch on PostgreSQL)


def export_rows(year: CampaignYear, filters: Filters, criteria: list[Criterion], now: datetime,
                extra: Sequence = ()) -> Iterator[ExportRow]:
    """Every row matching the filters in `year`, in the overview's order, each with its criterion figures (in the
    order of `criteria`; (None, None) where the branch has no answer) and overdue submissions, the same figures as
    `summary_rows(…, figures=True)`: ONE statement (a join per criterion's kept tally, a correlated count of the
    overdue submissions), streamed `EXPORT_BATCH` rows at a time (a server-side cursor on PostgreSQL), so memory
    stays flat whatever the size of the district. `extra`: more columns, correlated with the summary's
    `BranchSummary.branch_id` (the verdicts: `grading.verdict_columns`), whose values come in `ExportRow.extra`."""
    owed_join, still_owed = _owed(S.branch_id)
    overdue = (select(func.count(SubmissionRequest.id))  # as _overdue counts them, for the row's branch
               .outerjoin(Submission, owed_join)
               .where(SubmissionRequest.year_id == year.id, SubmissionRequest.deadline < now, still_owed)
               .scalar_subquery())
    kept = [aliased(AssessmentTally, name=f"kept_{index}") for index in range(len(criteria))]
    figures = [column for t in kept
               for column in (t.total, t.na, t.met + t.partly + t.not_met, t.weight_scored, t.weight_earned)]
    stmt = (_summaries(S.branch_id, Branch.name, Unit.name, Unit.kind, S.status, S.rating, S.plan_status, S.pledges,
                       S.posts, S.members_total, S.members_done, S.last_activity, S.total, S.na,
                       S.met + S.partly + S.not_met, S.not_met, S.weight_scored, S.weight_earned, overdue, *figures,
                       *extra)
            .join(Branch, Branch.id == S.branch_id).join(Unit, Unit.id == Branch.unit_id))
    for t, criterion in zip(kept, criteria, strict=True):
        stmt = stmt.outerjoin(t, and_(t.assessment_id == S.assessment_id, t.criterion_id == criterion.id))
    stmt = stmt.where(*_in_year(year), *_matching(year, filters)).order_by(*_order(filters, criteria))
    progress_of, score_of, first = progress.progress_of, progress.score_of, 19
    last = first + 5 * len(criteria)
    for row in db.session.execute(stmt, execution_options={"yield_per": EXPORT_BATCH}):
        cells = row[first:last]
        yield ExportRow(
            *row[:12],
            overall=(progress_of(row[12], row[13], row[14]), score_of(row[16], row[17]), row[15]),
            figures=[(None, None) if cells[at] is None else
                     (progress_of(cells[at], cells[at + 1], cells[at + 2]), score_of(cells[at + 3], cells[at + 4]))
                     for at in range(0, len(cells), 5)],
            overdue=int(row[18]), extra=tuple(row[last:]))


def _overdue(year_id, now, *columns):
    """SELECT columns, count of overdue submissions (every request of the year past its deadline that the
    branch has not handed in) over the year's active branches; the caller adds conditions. `year_id` and `now`:
    values or bound parameters."""
    owed_join, still_owed = _owed(S.branch_id)
    return (_summaries(*columns, func.count(SubmissionRequest.id))
            .join(SubmissionRequest, and_(SubmissionRequest.year_id == year_id, SubmissionRequest.deadline < now))
            .outerjoin(Submission, owed_join)
            .where(*_in_year_id(year_id), still_owed))


def _overdue_total(year: CampaignYear, now: datetime, filters: Filters, count: int, kept: bool = True) -> int:
    """The overdue submissions of the `count` branches that match the filters, as `_overdue` counts them, without
    pairing every branch with every request: (requests past their deadline) × count − (their submissions handed in
    by those branches). A request has at most one submission per branch (unique), and a branch that has not handed
    one in (none, pending or returned) owes it. One statement: unfiltered, the handed-in counts kept per request
    (`request_tally`), one row per request past its deadline; filtered by kind, status and/or appraisal class, those
    kept per request and group (`request_group`); under the other filters (or not `kept`), reading the matching
    branches' handed-in submissions."""
    if kept and filters.is_kept:
        return int(core_rows(_kept_overdue_statement(*_shape(filters)),
                             _values(year.id, filters, now=now, count=count)).scalar() or 0)
    return int(core_rows(_matched_overdue_statement(_filter_shape(year, filters)),
                         _filter_values(year.id, filters, now=now, count=count)).scalar() or 0)


@lru_cache(maxsize=256)
def _matched_overdue_statement(shape: _FilterShape):
    """`_overdue_total` from the matching branches' handed-in submissions for filters of that shape, built once
    (parameters: `_filter_values`, `now` and `count`)."""
    year_id = bindparam("year_id", type_=Integer)
    past = and_(SubmissionRequest.year_id == year_id, SubmissionRequest.deadline < bindparam("now"))
    requests = select(func.count(SubmissionRequest.id)).where(past).scalar_subquery()
    handed = (select(func.count(Submission.id)).select_from(Submission)
              .join(SubmissionRequest, and_(SubmissionRequest.id == Submission.request_id, past))
              .join(S, and_(S.branch_id == Submission.branch_id, S.year_id == year_id))
              .where(Submission.status.in_([SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED]),
                     *_in_year_id(year_id), *_shaped_filters(shape, year_id)).scalar_subquery())
    return select(requests * bindparam("count", type_=Integer) - handed)


@cache
def _kept_overdue_statement(kind: bool, status: str | None, appraisal: str | None):
    """`_overdue_total` from the kept handed-in counts for filters of that shape, built once (parameters: `_values`,
    `now` and `count`): unfiltered, those kept per request (`request_tally`), one row per request past its deadline;
    by kind, status and/or appraisal class, those kept per request and group (`request_group`)."""
    past = and_(SubmissionRequest.year_id == bindparam("year_id", type_=Integer),
                SubmissionRequest.deadline < bindparam("now"))
    count = bindparam("count", type_=Integer)
    if not (kind or status or appraisal):
        return (select(func.count(SubmissionRequest.id) * count - func.coalesce(func.sum(RequestTally.handed), 0))
                .select_from(SubmissionRequest)
                .outerjoin(RequestTally, RequestTally.request_id == SubmissionRequest.id).where(past))
    g = RequestGroup
    requests = select(func.count(SubmissionRequest.id)).where(past).scalar_subquery()
    handed = (select(func.coalesce(func.sum(g.handed), 0))
              .join(SubmissionRequest, and_(SubmissionRequest.id == g.request_id, past))
              .where(*_shaped_group(g, kind, status, appraisal)).scalar_subquery())
    return select(requests * count - handed)


def _match_count(year: CampaignYear, filters: Filters) -> tuple[int, int]:
    """(the branches matching the filters, the district's active branches) in `year`: a count of the matching
    summaries and the district's kept count, one statement."""
    row = core_rows(_match_count_statement(_filter_shape(year, filters)), _filter_values(year.id, filters)).one()
    return int(row[0] or 0), int(row[1] or 0)


@lru_cache(maxsize=256)
def _match_count_statement(shape: _FilterShape):
    """`_match_count`'s statement for filters of that shape, built once (parameters: `_filter_values`)."""
    year_id = bindparam("year_id", type_=Integer)
    matched = _summaries(func.count()).where(*_in_year_id(year_id), *_shaped_filters(shape, year_id))
    return select(matched.scalar_subquery(), _whole(year_id)[0])


def figures_later(filters: Filters) -> bool:
    """Whether a page of the overview under these filters leaves its figures (the cards and the charts) for a
    second request (`overview(…, later=True)`, then `overview(…, rows=False)`): under a filter that the kept totals
    do not serve (the name search, the grade), whose figures sum every match (a search for 小学 matches a third of a
    district), when the page shows a page of rows (every row shown costs what the matches are anyway). The table
    then costs what its page costs; the figures, what the matches are (issue #14)."""
    return filters.year is not None and not filters.is_kept and filters.per_page is not None


def overview(args, today: date | None = None, *, later: bool = False, rows: bool = True) -> Overview:
    """The whole overview page for the query-string `args`; unknown values become notes. A constant number of
    queries over the kept summaries, whatever the size of the district.

    `later`: where `figures_later` says so, the page's rows and the count of the matches only (`figures_later` set
    on the result; its summary, averages and charts left empty), two statements over the matches instead of their
    aggregates. `rows=False`: the figures only (no row read), what the second request shows."""
    from . import tallies as kept

    today = today or local_today()
    now = utcnow()
    all_years = years()
    criteria = branch_criteria()
    filters = parse_filters(args, all_years, criteria)
    if filters.year is None:
        return Overview(filters=filters, years=all_years, criteria=criteria, rows=[], count=0, all_branches=0,
                        summary=Summary(overdue_follow_ups=_overdue_follow_ups(None, filters, today)),
                        criterion_averages=[(c, None, 0.0) for c in criteria], timeline=[], now=now)
    year = filters.year
    criteria = criteria_as_in(year, criteria)  # a finished year's own names and order
    kept.apply_pending(summaries=True)  # this transaction's own changes, if any
    if later and figures_later(filters):
        count, all_count = _match_count(year, filters)
        clamp_page(filters, count)
        return Overview(filters=filters, years=all_years, criteria=criteria,
                        rows=summary_rows(year, filters, criteria, now) if count else [], count=count,
                        all_branches=all_count, summary=Summary(branches=count), criterion_averages=[],
                        timeline=[], now=now, figures_later=bool(count))
    found = _aggregate(year, filters, now)
    clamp_page(filters, found.count)
    rows = summary_rows(year, filters, criteria, now) if found.count and rows else []  # (none: no index scan)
    overdue = found.overdue if found.overdue is not None else _overdue_total(year, now, filters, found.count)
    summary = Summary(branches=found.count, submitted=found.submitted, average_progress=found.average_progress,
                      average_score=found.average_score, items_not_met=found.not_met, inactive=found.inactive,
                      overdue=int(overdue or 0),
                      overdue_follow_ups=_overdue_follow_ups(year, filters, today))
    line = timeline(year)  # today's point is live (below)
    if found.all_count and year.is_current:
        line = [p for p in line if p[0] < today] + [(today, found.all_progress, found.all_score)]
    return Overview(
        filters=filters, years=all_years, criteria=criteria, rows=rows, count=found.count,
        all_branches=found.all_count, summary=summary,
        criterion_averages=_criterion_averages(year, filters, criteria, found.count, found=found.criteria),
        timeline=line, now=now,
        progress_counts=list(found.bands),
    )


def rows_only(args, rows: bool = True) -> Overview:
    """The overview of the query-string `args` as an export needs it: every matching row of the chosen year (never
    paged), each with its figures only (`summary_rows(figures=True)`), and the filters, years and criteria; the
    page's cards, charts and timeline are left empty (an export writes none of them). Four queries. Without
    `rows`, no row is read (an export that streams them: `export_rows`), and `count` is 0."""
    from . import tallies as kept

    now = utcnow()
    all_years = years()
    criteria = branch_criteria()
    filters = parse_filters({**dict(args.items()), "per_page": ALL, "page": ""}, all_years, criteria)
    found: list[Row] = []
    if filters.year is not None:
        criteria = criteria_as_in(filters.year, criteria)  # a finished year's own names and order
        kept.apply_pending(summaries=True)  # this transaction's own changes, if any
        if rows:
            found = summary_rows(filters.year, filters, criteria, now, figures=True)
    return Overview(filters=filters, years=all_years, criteria=criteria, rows=found, count=len(found),
                    all_branches=len(found), summary=Summary(), criterion_averages=[], timeline=[], now=now)


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
    from . import tallies as kept

    day = day or local_today()
    if rows is not None:
        values = snapshot_rows(year, day, rows)
    else:  # the kept summaries of the active branches
        kept.apply_pending(summaries=True)
        values = [{"year_id": year.id, "branch_id": branch_id, "day": day, "progress": value, "score": score}
                  for branch_id, value, score in db.session.execute(
                      _summaries(S.branch_id, S.progress, S.score).where(*_in_year(year)))]
    if not values:
        return 0
    _upsert(ProgressSnapshot.__table__, values, ["year_id", "branch_id", "day"], ["progress", "score"])
    figures.refresh_days(db.session.connection(), year.id, day)  # the district's average of the day
    db.session.commit()
    return len(values)


# --- the item-level results of all branches (for the export) ---------------------------------------

@dataclass
class ItemGrid:
    criteria: list[tuple[Criterion, list[Item]]]
    results: dict[tuple[int, int], Result]  # (branch_id, item_id) → result
    answered: dict[tuple[int, int], str]  # (branch_id, item_id) → the wording that answer was given against
    wordings: dict[int, str]  # item id → the wording valid in the year, where it is not the current one

    def numbers(self) -> dict[int, str]:
        """{item id: its number as the checklist shows it ("4.4")} (`items.item_numbers`)."""
        return item_numbers((criterion, item) for criterion, items in self.criteria for item in items)

    def text_of(self, item: Item) -> str:
        """The wording valid in the year (what a checklist that has not answered the item shows)."""
        return self.wordings.get(item.id, item.text)

    def lines(self, item: Item, branch_ids: list[int]) -> list[tuple[str, dict[int, Result]]]:
        """The item's lines: one per wording its answers were given against, each with the answers given against
        it ({branch id: result}), so that every answer stands beside its own wording (after an edit confirmed
        mid-year a year's answers differ); the branches that have not answered, as 未评 beside the wording valid
        in the year. One line when they all agree."""
        valid = self.text_of(item)
        lines: dict[str, dict[int, Result]] = {valid: {}}
        for branch_id in branch_ids:
            key = (branch_id, item.id)
            wording = self.answered.get(key, valid)
            lines.setdefault(wording, {})[branch_id] = self.results.get(key, Result.NOT_ASSESSED)
        return [(wording, cells) for wording, cells in lines.items() if cells or len(lines) == 1]


def item_grid(year: CampaignYear) -> ItemGrid:
    """Every 五个好 item a branch checklist of the year holds (valid in the year, or answered by some branch) in
    framework order, every branch's answer with the wording it was given against, and the wording valid in the
    year for the branches that have not answered."""
    answered = (select(ItemResult.id).join(Assessment, Assessment.id == ItemResult.assessment_id)
                .where(ItemResult.item_id == Item.id, Assessment.year_id == year.id,
                       Assessment.member_id.is_(None)).exists())
    items = list(db.session.execute(in_year_order(
        select(Item, Criterion).join(Criterion).join(Framework)
        .where(Framework.subject == Subject.BRANCH, in_checklist(year.id, year.year, answered)), year.id)))
    results, wordings = {}, {}
    for branch_id, item_id, result, text in db.session.execute(
            select(Assessment.branch_id, ItemResult.item_id, ItemResult.result, ItemResult.item_text)
            .join(Assessment, Assessment.id == ItemResult.assessment_id)
            .where(Assessment.year_id == year.id, Assessment.member_id.is_(None))):
        results[(branch_id, item_id)] = result
        wordings[(branch_id, item_id)] = text
    grouped: dict[int, tuple[Criterion, list[Item]]] = {}
    for item, criterion in items:
        grouped.setdefault(criterion.id, (criterion, []))[1].append(item)
    shown = criteria_as_in(year, [criterion for criterion, _items in grouped.values()])  # a finished year's own
    return ItemGrid(criteria=[(criterion, grouped[criterion.id][1]) for criterion in shown], results=results,
                    answered=wordings, wordings=wordings_in(year, [item.id for item, _criterion in items]))


# --- the branch page -------------------------------------------------------------------------------

class MemberLine(NamedTuple):
    """A person of the branch with their own 五带头 progress (the branch page's members table)."""

    user_id: int
    name: str
    role: Role
    post_title: str
    status: AssessmentStatus | None
    tally: Tally


@dataclass
class BranchPage:
    """What the branch page shows. The lists hold rows (SQLAlchemy's, named tuples) of the columns the page reads:
    events (at, to_status, comment, actor), reviews (id, rating, comment, improvements, created_at, reviewer),
    pledges (id, text), posts (id, category, title, published_at), audit (id, at, actor_name, action)."""

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
    events: list[tuple]
    reviews: list[tuple]
    pledges: list[tuple]
    posts: list[tuple]
    members: list[MemberLine]
    audit: list[tuple]
    timeline: list[tuple[date, float, float | None]]
    own: MemberLine | None = None  # the viewing member's own 五带头 progress

    @property
    def total(self) -> Tally:
        return progress.overall(self.cells)

    @property
    def criterion_scores(self) -> list[tuple[str, float | None]]:
        return [(labels.criterion_title(c), self.cells[c.id].score if c.id in self.cells else None)
                for c, _s, _p in self.district]

    @property
    def district_scores(self) -> list[float | None]:
        return [score for _c, score, _p in self.district]

    @property
    def members_done(self) -> int:
        return sum(1 for m in self.members if m.status in DONE_STATUSES)


AUDIT_LIMIT = 20
POSTS_SHOWN = 10


def get_branch(branch_id: int) -> Branch:
    """The branch of that id, with its unit; NotFound if there is none."""
    from flask_babel import gettext as _

    from ..errors import NotFound

    branch = db.session.scalar(_branch_statement(), {"branch_id": branch_id})
    if branch is None:
        raise NotFound(_("There is no such branch."))
    return branch


@cache
def _branch_statement():
    return select(Branch).where(Branch.id == bindparam("branch_id", type_=Integer))


def branch_page(branch: Branch, args, viewer: User, *, with_members: bool, with_audit: bool) -> BranchPage | None:
    """Everything the branch page shows; None if no campaign year exists. Constant number of queries, each built
    once (`_branch_statements`); the lists are read as the few columns the page shows, not as objects."""
    from . import tallies as kept

    all_years = years()
    filters = parse_filters({"year": args.get("year", "")}, all_years, [])
    if filters.year is None:
        return None
    year = filters.year
    criteria = criteria_as_in(year, branch_criteria())  # a finished year's own names and order

    district = district_averages(year, criteria)
    built = _branch_statements()
    values = {"branch_id": branch.id, "year_id": year.id}
    kept.apply_pending()
    assessment, cells = None, {}
    for found, criterion_id, *counts in db.session.execute(built.assessment, values):  # a row per criterion
        assessment = found
        if criterion_id is not None:
            cells[criterion_id] = progress.tally_of(counts)
    # Columns, not objects: run on the connection (`core_rows`), without the ORM's compile state and row loading.
    events = core_rows(built.events, {"assessment_id": assessment.id}).all() if assessment else []
    reviews = core_rows(built.reviews, values).all()
    pledges = core_rows(built.pledges, values).all()
    posts = core_rows(built.posts, values).all()

    members: list[MemberLine] = []
    own: MemberLine | None = None
    if with_members or viewer.branch_id == branch.id:
        members, own = _member_lines(branch.id, year, viewer, with_members)
    trail = core_rows(built.audit, values).all() if with_audit else []
    return BranchPage(
        branch=branch, year=year, years=all_years, notes=filters.notes, criteria=criteria,
        assessment=assessment, cells=cells, district=district.criteria,
        district_progress=district.progress, district_score=district.score,
        events=events, reviews=reviews, pledges=pledges, posts=posts, members=members, audit=trail,
        timeline=timeline(year, branch.id), own=own,
    )


class _BranchStatements(NamedTuple):
    assessment: object
    events: object
    reviews: object
    pledges: object
    posts: object
    audit: object


@cache
def _branch_statements() -> _BranchStatements:
    """`branch_page`'s statements, built once (building one and its cache key cost more than running it).
    Parameters: `branch_id` and `year_id`; the events' `assessment_id`."""
    branch_id, year_id = bindparam("branch_id", type_=Integer), bindparam("year_id", type_=Integer)
    t = AssessmentTally
    # The branch's assessment with its kept tallies, a row per criterion (the assessment alone if it has none).
    assessment = (select(Assessment, t.criterion_id, *progress.tally_columns())
                  .outerjoin(t, t.assessment_id == Assessment.id)
                  .where(Assessment.year_id == year_id, Assessment.branch_id == branch_id,
                         Assessment.member_id.is_(None)))
    events = (select(AssessmentEvent.at, AssessmentEvent.to_status, AssessmentEvent.comment,
                     func.coalesce(User.display_name, "").label("actor"))
              .outerjoin(User, User.id == AssessmentEvent.actor_id)
              .where(AssessmentEvent.assessment_id == bindparam("assessment_id", type_=Integer))
              .order_by(AssessmentEvent.at.desc(), AssessmentEvent.id.desc()))
    reviews = (select(Review.id, Review.rating, Review.comment, Review.improvements, Review.created_at,
                      func.coalesce(User.display_name, "").label("reviewer"))
               .outerjoin(User, User.id == Review.reviewer_id)
               .where(Review.branch_id == branch_id, Review.year_id == year_id, Review.member_id.is_(None))
               .order_by(Review.created_at.desc(), Review.id.desc()))
    pledges = (select(Pledge.id, Pledge.text)
               .where(Pledge.branch_id == branch_id, Pledge.year_id == year_id, Pledge.member_id.is_(None),
                      Pledge.status == PledgeStatus.APPROVED)
               .order_by(Pledge.approved_at.desc(), Pledge.id.desc()))
    # Read through ix_post_branch_status (branch, status, published_at; migration h14n_01) in order: with only the
    # branch's index SQLite walked every published post of the district newest first for the branch's few.
    posts = (select(Post.id, Post.category, Post.title, Post.published_at)
             .where(Post.branch_id == branch_id, Post.status == PostStatus.PUBLISHED)
             .order_by(Post.published_at.desc(), Post.id.desc()).limit(POSTS_SHOWN))
    trail = (select(AuditEvent.id, AuditEvent.at, AuditEvent.actor_name, AuditEvent.action)
             .where(AuditEvent.branch_id == branch_id, audit.changes_work())
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(AUDIT_LIMIT))
    return _BranchStatements(assessment, events, reviews, pledges, posts, trail)


def _member_lines(branch_id: int, year: CampaignYear, viewer: User,
                  everyone: bool) -> tuple[list[MemberLine], MemberLine | None]:
    """The branch's people with their own 五带头 progress (all of them, or only the viewer): (the lines, empty when
    not `everyone`; the viewer's own line or None). One statement, the kept tallies summed in it."""
    from . import tallies as kept

    kept.apply_pending()
    viewer_id = viewer.id  # once: `viewer` is often current_user, a proxy that looks the user up on each read
    found = core_rows(_member_lines_statement(everyone),
                      {"branch_id": branch_id, "year_id": year.id, "viewer_id": viewer_id}).all()
    lines = [MemberLine(uid, name, role, post_title, status,
                        Tally() if counts[0] is None else progress.tally_of(counts))
             for uid, name, role, post_title, status, *counts in found]
    own = next((line for line in lines if line.user_id == viewer_id), None)
    return (lines if everyone else []), own


@cache
def _member_lines_statement(everyone: bool):
    """The branch's active members and secretary (or only the viewer, `viewer_id`) with their 五带头 assessment's
    status in `year_id` and its kept tallies summed (NULL sums: no assessment or no tally); the secretary first,
    then by pinyin (the stored reading). Built once per shape."""
    t = AssessmentTally
    stmt = (select(User.id, User.display_name, User.role, User.post_title, Assessment.status,
                   *(func.sum(column) for column in progress.tally_columns()))
            .outerjoin(Assessment, and_(Assessment.member_id == User.id,
                                        Assessment.year_id == bindparam("year_id", type_=Integer)))
            .outerjoin(t, t.assessment_id == Assessment.id)
            .where(User.branch_id == bindparam("branch_id", type_=Integer), User.active.is_(True),
                   User.role.in_([Role.MEMBER, Role.SECRETARY]))
            .group_by(User.id, Assessment.id)
            .order_by(User.role != Role.SECRETARY, *collation.people_order()))
    if not everyone:
        stmt = stmt.where(User.id == bindparam("viewer_id", type_=Integer))
    return stmt
