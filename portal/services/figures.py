"""The kept per-branch, per-year summary (`branch_summary`) that the dashboard pages, sorts and filters in SQL.

Each row holds what `dashboard.build_rows` used to aggregate on every view: the branch checklist's counts
(summed from `assessment_tally`), its progress and score, workflow status, the newest leader review, the plan
submission, approved pledges, published exemplar posts, members' coverage and the last activity. The rows are
computed by one INSERT … SELECT … ON CONFLICT DO UPDATE (`_computed`), in the transaction of the change:

- the ORM's writes are noticed at flush (a review, submission, pledge, post or person names its branch, an
  assessment its branch in its year; a campaign year or a submission request concerns every branch of its year);
  a new audit event moves only its branch's last activity, which a trigger on `audit_event` keeps (h14t_01);
- an answer written by the checklist's Core upserts reaches us through `tallies.mark` (its assessment);
- a ballot counted (`appraisal.count_answers`, Core) marks its branch (`mark_branch`): its appraisal class; an
  appraisal round, its questions or a grading policy flushed with a change of the class's rule
  (`grading.appraisal_class`), every branch of its year;
- a framework change (every tally rebuilt) recomputes every row.

`tallies.apply_pending` calls `apply_pending` here after bringing the tallies up to date, so that a tick is
two statements: its assessment's tallies, then its branch's rows. `rebuild()` recomputes everything (the demo
seed, `flask --app wsgi rebuild-figures`), and `differences()` compares the kept rows with a fresh computation.

The district's timeline (`district_day`: per year and day, the average of the branches' progress snapshots) is
written with the snapshots (`refresh_days`, called by `dashboard.take_snapshot`) and rebuilt with the rest.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from ..database import begin_writing
from ..models import (
    DISTRICT_SLOTS,
    NO_GROUP,
    AppraisalQuestion,
    AppraisalRound,
    Assessment,
    AssessmentStatus,
    AssessmentTally,
    AuditEvent,
    Branch,
    BranchSummary,
    CampaignYear,
    DistrictCriterion,
    DistrictDay,
    DistrictGroup,
    DistrictGroupCriterion,
    DistrictSummary,
    GradeRecord,
    GradingPolicy,
    Pledge,
    PledgeStatus,
    PledgeWaiting,
    Post,
    PostCategory,
    PostStatus,
    ProgressSnapshot,
    RequestGroup,
    RequestKind,
    RequestTally,
    Review,
    ReviewWaiting,
    Role,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    Unit,
    User,
)
from .upsert import upsert_from_select

_BRANCHES = "portal.figures_branches"  # session.info key: branch ids whose rows to recompute
_YEARS = "portal.figures_years"  # session.info key: year ids whose rows (every branch) to recompute
_ALL = "portal.figures_all"  # session.info key: recompute every row
_ASSESSMENTS = "portal.figures_assessments"  # session.info key: assessments whose branches' rows to recompute
_DAYS = "portal.figures_days"  # session.info key: recompute the district's timeline (a branch and its snapshots went)
_UNITS = "portal.figures_units"  # session.info key: units whose branches' rows to recompute (a unit re-kinded)
_ROUNDS = "portal.figures_rounds"  # session.info key: appraisal rounds whose year's rows to recompute (questions)
EXEMPLAR_CATEGORIES = (PostCategory.BRANCH_EXEMPLAR, PostCategory.MEMBER_EXEMPLAR)
DONE_STATUSES = (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED)
COLUMNS = ["year_id", "branch_id", "assessment_id", "status", "total", "met", "partly", "not_met", "na",
           "weight_scored", "weight_earned", "progress", "score", "rating", "plan_status", "pledges", "posts",
           "members_total", "members_done", "coverage", "last_activity"]
# The branch's own columns, copied (since h14d_01) so that the overview reads branch_summary alone.
BRANCH_COLUMNS = ["active", "unit_kind", "sort_key", "name"]
# What the name search and the grade filter read (since h14s_01): the name and brand in lower case, the grade.
SEARCH_COLUMNS = ["search_text", "grade"]
BASE_COLUMNS = COLUMNS
# The branch's 群众评议 class in the year (since h14ap_01: grading.appraisal_class), for the overview's filter.
COLUMNS = BASE_COLUMNS + BRANCH_COLUMNS + ["appraisal"] + SEARCH_COLUMNS
_FLOOR = datetime(1900, 1, 1)


def round1(expr):
    """round(expr, 1) as a float on SQLite and PostgreSQL (whose round takes a numeric)."""
    return cast(func.round(cast(expr, Numeric), 1), Float)


def progress_of(t):
    """SQL of `Tally.progress` over columns named like the tally's (total, met, partly, not_met, na)."""
    applicable = t.total - t.na
    return case((t.total == 0, 0.0), (applicable == 0, 100.0),
                else_=round1(100.0 * (t.met + t.partly + t.not_met) / func.nullif(applicable, 0)))


def score_of(t):
    """SQL of `Tally.score` over columns named weight_scored and weight_earned (NULL while nothing is assessed)."""
    return case((t.weight_scored > 0, round1(100.0 * t.weight_earned / func.nullif(t.weight_scored, 0))),
                else_=None)


def _newest(dialect: str, *columns):
    """The newest of some timestamps, NULLs left out (NULL when all are)."""
    if dialect == "postgresql":
        return func.greatest(*columns)
    floor = literal(_FLOOR, DateTime)
    return type_coerce(func.nullif(func.max(*(func.coalesce(c, floor) for c in columns)), floor), DateTime)


def _computed(dialect: str, branch_ids: Iterable[int] = (), assessment_ids: Iterable[int] = (),
              year_ids: Iterable[int] = (), everything: bool = False, unit_ids: Iterable[int] = (),
              base: bool = False, assessment_id: BindParameter | None = None):
    """SELECT of the summary rows (in COLUMNS order; in BASE_COLUMNS order with `base`, the columns before
    h14d_01 and h14ap_01) of the given branches (every year) and units' branches, of the given assessments'
    branches in the assessments' years (`assessment_ids`; or the one assessment `assessment_id`, a scalar
    parameter), of every branch in the given years, or of every branch and year."""
    a = aliased(Assessment)
    t = AssessmentTally
    other = aliased(Assessment)
    member_assessment = aliased(Assessment)
    b_id, y_id = Branch.id, CampaignYear.id
    rating = (select(Review.rating).where(Review.branch_id == b_id, Review.year_id == y_id,
                                          Review.member_id.is_(None))
              .order_by(Review.created_at.desc(), Review.id.desc()).limit(1).scalar_subquery())
    plan_requests = select(SubmissionRequest.id).where(SubmissionRequest.year_id == y_id,
                                                       SubmissionRequest.kind == RequestKind.PLAN)
    # The year's newest plan request: correlated to the row's year explicitly, as it sits two subqueries deep
    # (auto-correlation only reaches the enclosing SELECT, so it read the newest plan request of any year).
    newest_plan = (plan_requests.order_by(SubmissionRequest.deadline.desc(), SubmissionRequest.id.desc())
                   .limit(1).correlate(CampaignYear).scalar_subquery())
    plan_status = case((exists(plan_requests), func.coalesce(
        select(Submission.status).where(Submission.request_id == newest_plan, Submission.branch_id == b_id)
        .scalar_subquery(), SubmissionStatus.PENDING.value)), else_=None)
    pledges = (select(func.count(Pledge.id)).where(Pledge.branch_id == b_id, Pledge.year_id == y_id,
                                                   Pledge.status == PledgeStatus.APPROVED).scalar_subquery())
    posts = (select(func.count(Post.id)).where(
        Post.branch_id == b_id, Post.year_id == y_id, Post.status == PostStatus.PUBLISHED,
        Post.category.in_(EXEMPLAR_CATEGORIES)).scalar_subquery())
    people = and_(User.branch_id == b_id, User.active.is_(True), User.role.in_([Role.MEMBER, Role.SECRETARY]))
    members_total = select(func.count(User.id)).where(people).scalar_subquery()
    members_done = (select(func.count(User.id)).select_from(User).join(member_assessment, and_(
        member_assessment.member_id == User.id, member_assessment.year_id == y_id,
        member_assessment.status.in_(DONE_STATUSES))).where(people).scalar_subquery())
    changed = (select(func.max(other.updated_at)).where(other.branch_id == b_id, other.year_id == y_id)
               .scalar_subquery())
    audited = (select(func.max(AuditEvent.at)).where(
        AuditEvent.branch_id == b_id, AuditEvent.action.not_like("auth.%"),
        AuditEvent.action.not_like("access.%")).scalar_subquery())
    grade = (select(func.coalesce(GradeRecord.confirmed, GradeRecord.proposed))
             .where(GradeRecord.year_id == y_id, GradeRecord.branch_id == b_id, GradeRecord.member_id.is_(None))
             .scalar_subquery())
    sums = [func.coalesce(func.sum(getattr(t, name)), 0).label(name)
            for name in ("total", "met", "partly", "not_met", "na")]
    weights = [func.coalesce(func.sum(getattr(t, name)), 0.0).label(name)
               for name in ("weight_scored", "weight_earned")]
    chosen = []
    for ids, condition in ((unit_ids, Branch.unit_id.in_), (branch_ids, b_id.in_),
                           (assessment_ids, _of_assessments), (year_ids, y_id.in_)):
        ids = ids if isinstance(ids, BindParameter) else list(ids)  # (a parameter: the ids come at execution)
        if isinstance(ids, BindParameter) or ids:
            chosen.append(condition(ids))
    if assessment_id is not None:  # its branch and year: SQLite reads each once, then the row by its keys
        chosen.append(and_(b_id == select(Assessment.branch_id).where(Assessment.id == assessment_id)
                           .scalar_subquery(),
                           y_id == select(Assessment.year_id).where(Assessment.id == assessment_id)
                           .scalar_subquery()))
    inner = (
        select(y_id.label("year_id"), b_id.label("branch_id"), a.id.label("assessment_id"), a.status.label("status"),
               *sums, *weights, rating.label("rating"), plan_status.label("plan_status"), pledges.label("pledges"),
               posts.label("posts"), members_total.label("members_total"), members_done.label("members_done"),
               func.max(t.last_answer_at).label("answered"), changed.label("changed"), audited.label("audited"),
               Branch.active.label("active"), Unit.kind.label("unit_kind"), Branch.sort_key.label("sort_key"),
               Branch.name.label("name"), search_text(dialect, Branch).label("search_text"), grade.label("grade"))
        .select_from(Branch).join(Unit, Unit.id == Branch.unit_id).join(CampaignYear, true())
        .outerjoin(a, and_(a.branch_id == b_id, a.year_id == y_id, a.member_id.is_(None)))
        .outerjoin(t, t.assessment_id == a.id)
        .where(true() if everything else (or_(*chosen) if chosen else false()))
        .group_by(y_id, b_id, a.id, a.status, Branch.active, Unit.kind, Branch.sort_key, Branch.name,
                  Branch.brand_name)
    ).subquery()
    c = inner.c
    coverage = case((c.members_total > 0, round1(100.0 * c.members_done / func.nullif(c.members_total, 0))),
                    else_=0.0)
    columns = [c.year_id, c.branch_id, c.assessment_id, c.status, c.total, c.met, c.partly, c.not_met, c.na,
               c.weight_scored, c.weight_earned, progress_of(c), score_of(c), c.rating, c.plan_status, c.pledges,
               c.posts, c.members_total, c.members_done, coverage, _newest(dialect, c.answered, c.changed, c.audited)]
    if not base:
        from .grading import appraisal_class  # (grading reads what this module keeps)

        columns += [c.active, c.unit_kind, c.sort_key, c.name, appraisal_class(c.year_id, c.branch_id),
                    c.search_text, c.grade]
    return select(*columns).where(true())  # (an upsert's SELECT needs one)


def search_text(dialect: str, branch):
    """SQL of what the overview's name search looks in (`BranchSummary.search_text`): the branch's name and brand,
    a newline between them, in the search's fold (`search_fold`). `branch`: the Branch entity or a table of its
    columns."""
    return search_fold(dialect, branch.name + "\n" + func.coalesce(branch.brand_name, ""))


def search_fold(dialect: str, expr):
    """SQL of text in the name search's fold, NFKC and case folded: on SQLite the portal's `portal_fold`
    (text.search_fold, registered on every connection), on PostgreSQL `lower(normalize(…, NFKC))`. The words
    searched for are folded in the same SQL as what they are looked for in."""
    if dialect == "postgresql":
        return func.lower(func.normalize(expr, literal_column("NFKC")))
    return func.portal_fold(expr)


def _of_assessments(ids):
    """SQL truth: the row's branch and year are those of one of the assessments `ids` (a list or an expanding
    parameter; with several, any of their branches in any of their years: a few rows more, recomputed alike). An
    assessment's answers, tallies, status and time move only its own year's row (`_computed`'s columns read the
    row's year, except the audit events' time, which the trigger of h14t_01 keeps)."""
    return and_(Branch.id.in_(select(Assessment.branch_id).where(Assessment.id.in_(ids))),
                CampaignYear.id.in_(select(Assessment.year_id).where(Assessment.id.in_(ids))))


_REFRESHES: dict[tuple, object] = {}  # (dialect, which id lists are given) → the upsert, built once


def _upsert(connection, branch_ids: list[int], assessment_ids: list[int], year_ids: list[int],
            unit_ids: list[int]) -> None:
    """One upsert of the rows `_computed` selects for these ids (empty lists left out). The statement is built
    once per dialect and combination of lists, with the ids as expanding parameters: building it costs more than
    running it for one branch."""
    given = {"branch_ids": branch_ids, "assessment_ids": assessment_ids, "year_ids": year_ids, "unit_ids": unit_ids}
    given = {name: ids for name, ids in given.items() if ids}
    dialect = connection.dialect.name
    if list(given) == ["assessment_ids"] and len(assessment_ids) == 1:  # a tick: its row, a scalar parameter
        shape, parameters = (dialect, "assessment_id"), {"assessment_id": assessment_ids[0]}
        built = {"assessment_id": bindparam("assessment_id")}
    else:  # (an expanding parameter is rendered into the SQL at every execution)
        shape, parameters = (dialect, tuple(sorted(given))), given
        built = {name: bindparam(name, expanding=True) for name in given}
    stmt = _REFRESHES.get(shape)
    if stmt is None:
        stmt = _REFRESHES[shape] = upsert_from_select(dialect, BranchSummary, COLUMNS, _computed(dialect, **built),
                                                      key=COLUMNS[:2])
    connection.execute(stmt, parameters)


def refresh(connection, branch_ids: Iterable[int] = (), assessment_ids: Iterable[int] = (),
            year_ids: Iterable[int] = (), unit_ids: Iterable[int] = ()) -> None:
    """Recompute the rows of these branches and units' branches (all years), of these assessments' branches in
    their years, and of every branch in these years: one statement (bounded IN lists of 500 per statement)."""
    branch_ids, assessment_ids, year_ids = sorted(set(branch_ids)), sorted(set(assessment_ids)), sorted(set(year_ids))
    unit_ids = sorted(set(unit_ids))
    if not (branch_ids or assessment_ids or year_ids or unit_ids):
        return
    for start in range(0, max(len(branch_ids), len(assessment_ids), len(unit_ids), 1), 500):
        _upsert(connection, branch_ids[start:start + 500], assessment_ids[start:start + 500],
                year_ids if start == 0 else [], unit_ids[start:start + 500])


@contextmanager
def _no_automatic_index(connection) -> Iterator[None]:
    """SQLite without its automatic (transient) indexes for a statement: computing every summary, it otherwise
    builds a covering index over every kept tally (1.2 million at 2,000 branches: 1.1 s of 1.9) instead of
    reading them through their primary key. The connection's own setting afterwards; nothing on PostgreSQL."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA automatic_index").scalar()
    connection.exec_driver_sql("PRAGMA automatic_index=OFF")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA automatic_index={int(before)}")


def rebuild(connection, since_p14: bool = True, tally_figures: bool = True) -> int:
    """Recompute every row (and, `since_p14`, every day of the district's timeline and, with `tally_figures`, the
    tallies' stored progress and score, which a bulk load may leave out); returns the number of branch rows.
    The caller commits. (A migration before p14_01, where those came, passes since_p14=False: it writes the
    columns of its revision, BASE_COLUMNS. The demo seed passes tally_figures=False: it writes whole tally rows.)"""
    connection.execute(delete(BranchSummary))
    with _no_automatic_index(connection):
        connection.execute(insert(BranchSummary).from_select(
            COLUMNS if since_p14 else BASE_COLUMNS, _computed(connection.dialect.name, everything=True,
                                                              base=not since_p14)))
    if since_p14:
        if tally_figures:
            t = AssessmentTally.__table__.c
            connection.execute(update(AssessmentTally).values(progress=progress_of(t), score=score_of(t)))
        rebuild_days(connection)
        rebuild_district(connection)
    return int(connection.execute(select(func.count()).select_from(BranchSummary)).scalar_one())


# --- the district's totals (district_summary, district_criterion) ---------------------------------------------------
# Kept by the triggers of migration h14k_01 in the statement that writes a summary or a tally; computed here from
# scratch with the same definitions (tenths of a percent as integers), for `rebuild-figures` and the tests.

DISTRICT_COLUMNS = ["year_id", "slot", "branches", "submitted", "progress_tenths", "scored", "score_tenths", "not_met",
                    "band_0", "band_1", "band_2", "band_3", "band_4"]
CRITERION_COLUMNS = ["year_id", "criterion_id", "slot", "progress_tenths", "scored", "score_tenths"]
BAND_WIDTH = 20  # percent: the distribution chart's five bands (dashboard.HISTOGRAM_BINS)


def tenths(expr):
    """A figure rounded to 0.1 as an integer number of tenths (exact to add and subtract)."""
    return cast(func.round(expr * 10), Integer)


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def group_of(s) -> list:
    """The group of a summary (or of a table `s` with its columns) in the totals per unit kind, status and appraisal
    class (migrations h14f_01, h14ap_01): its kind, status and class, NO_GROUP for none (as text: NO_GROUP is no value
    of their enums)."""
    return [func.coalesce(type_coerce(s.unit_kind, String), NO_GROUP),
            func.coalesce(type_coerce(s.status, String), NO_GROUP), func.coalesce(s.appraisal, NO_GROUP)]


def _district(by_group: bool = False):
    """SELECT of the district's totals per year and slot (in DISTRICT_COLUMNS order) over the active branches'
    summaries; `by_group`, per year, group (`group_of`) and slot (GROUP_COLUMNS order)."""
    s = BranchSummary
    slot = s.branch_id % DISTRICT_SLOTS
    group = group_of(s) if by_group else []
    bands = [_count(s.progress < BAND_WIDTH)]
    bands += [_count(and_(s.progress >= BAND_WIDTH * k, s.progress < BAND_WIDTH * (k + 1))) for k in range(1, 4)]
    bands.append(_count(s.progress >= BAND_WIDTH * 4))
    return (select(s.year_id, *group, slot, func.count(), _count(s.status.in_(DONE_STATUSES)),
                   func.coalesce(func.sum(tenths(s.progress)), 0), func.count(s.score),
                   func.coalesce(func.sum(tenths(s.score)), 0), func.coalesce(func.sum(s.not_met), 0), *bands)
            .where(s.active.is_(True)).group_by(s.year_id, *group, slot))


def _district_criteria(by_group: bool = False):
    """SELECT of the per-year, per-criterion sums by slot (in CRITERION_COLUMNS order) over the kept tallies of the
    active branches' own checklists; `by_group`, per group as well (GROUP_CRITERION_COLUMNS)."""
    s, t = BranchSummary, AssessmentTally
    slot = s.branch_id % DISTRICT_SLOTS
    group = group_of(s) if by_group else []
    return (select(s.year_id, t.criterion_id, *group, slot, func.coalesce(func.sum(tenths(t.progress)), 0),
                   func.count(t.score), func.coalesce(func.sum(tenths(t.score)), 0))
            .join(t, t.assessment_id == s.assessment_id).where(s.active.is_(True))
            .group_by(s.year_id, t.criterion_id, *group, slot))


HANDED_STATUSES = (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED)  # a request's submission handed in


def _requests_handed(by_group: bool = False):
    """SELECT of (request id, submissions handed in by branches active in the request's year) per request; `by_group`,
    (request id, unit kind, status, appraisal class, handed in) per request and group of those branches."""
    s = BranchSummary
    group = group_of(s) if by_group else []
    return (select(Submission.request_id, *group, func.count(Submission.id))
            .join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
            .join(s, and_(s.year_id == SubmissionRequest.year_id, s.branch_id == Submission.branch_id))
            .where(s.active.is_(True), Submission.status.in_(HANDED_STATUSES))
            .group_by(Submission.request_id, *group))


GROUP = ["unit_kind", "status", "appraisal"]  # a group's columns (`group_of`)
GROUP_COLUMNS = DISTRICT_COLUMNS[:1] + GROUP + DISTRICT_COLUMNS[1:]
GROUP_CRITERION_COLUMNS = CRITERION_COLUMNS[:2] + GROUP + CRITERION_COLUMNS[2:]
REQUEST_GROUP_COLUMNS = ["request_id", *GROUP, "handed"]
# (table, model, columns, key width, computed) of every kept table of the district's totals
_KEPT = (("district_summary", DistrictSummary, DISTRICT_COLUMNS, 2, _district),
         ("district_criterion", DistrictCriterion, CRITERION_COLUMNS, 3, _district_criteria),
         ("request_tally", RequestTally, ["request_id", "handed"], 1, _requests_handed),
         ("district_group", DistrictGroup, GROUP_COLUMNS, 2 + len(GROUP), lambda: _district(by_group=True)),
         ("district_group_criterion", DistrictGroupCriterion, GROUP_CRITERION_COLUMNS, 3 + len(GROUP),
          lambda: _district_criteria(by_group=True)),
         ("request_group", RequestGroup, REQUEST_GROUP_COLUMNS, 1 + len(GROUP),
          lambda: _requests_handed(by_group=True)))


def _branch_or_secretary(member_id):
    """SQL truth: a row of the branch's own (no member) or of a person whose role is secretary."""
    return or_(member_id.is_(None), member_id.in_(select(User.id).where(User.role == Role.SECRETARY)))


def reviews_waiting():
    """SELECT of the self-assessments waiting for the leading group's 点评 (rule "assessment.review"), in the columns
    of `review_waiting`: the branches' 五个好 submitted and the own 五带头 of the people whose role is secretary,
    submitted. Migration h14w_01's triggers keep `review_waiting` equal to it."""
    a = Assessment
    return select(a.id, a.year_id, a.submitted_at).where(a.status == AssessmentStatus.SUBMITTED,
                                                         _branch_or_secretary(a.member_id))


def pledges_waiting():
    """SELECT of the pledges waiting for the organisation section's approval (rule "pledge.approve"), in the columns
    of `pledge_waiting`: the branches' and the secretaries' own, pending. Kept equal to it by h14w_01's triggers."""
    p = Pledge
    return select(p.id, p.year_id, p.branch_id, p.updated_at).where(p.status == PledgeStatus.PENDING,
                                                                     _branch_or_secretary(p.member_id))


# (model, its columns in the order of the SELECT that computes it, the SELECT) of the lists of what waits (h14w_01)
_WAITING = ((ReviewWaiting, ["assessment_id", "year_id", "submitted_at"], reviews_waiting),
            (PledgeWaiting, ["pledge_id", "year_id", "branch_id", "updated_at"], pledges_waiting))


def rebuild_district(connection) -> None:
    """Recompute the district's totals, and those per unit kind, status and appraisal class, from the summaries,
    tallies and submissions (the triggers of migrations h14k_01 and h14f_01, widened by h14ap_01, keep them
    afterwards), and the lists of what waits for the leading group and the organisation section (migration h14w_01)."""
    for _table, model, columns, _width, computed in _KEPT:
        connection.execute(delete(model))
        connection.execute(insert(model).from_select(columns, computed()))
    for model, columns, computed in _WAITING:
        connection.execute(delete(model))
        connection.execute(insert(model).from_select(columns, computed()))


# The tables whose row triggers keep the district's totals (migrations h14k_01, h14f_01) and the lists of the reviews
# and pledges waiting (h14w_01: `assessment`, `pledge`, `user`); every trigger on them does.
DISTRICT_FOLLOWED = ("branch_summary", "assessment_tally", "submission", "submission_request", "assessment", "pledge",
                     "user")
# The tables whose row triggers keep columns of the summaries: the last activity (migration h14t_01), the grade
# (h14s_01); their only triggers.
SUMMARY_FOLLOWED = ("audit_event", "grade_record")


@contextmanager
def district_triggers_suspended(connection) -> Iterator[None]:
    """Within the caller's transaction on `connection`, the triggers of h14k_01, h14f_01 and h14w_01 do not fire (a
    bulk load of a million tallies would otherwise move the district's totals a row at a time, and one of 250,000
    self-assessments look each one's person up); on leaving, the totals and the lists of what waits are recomputed once
    (`rebuild_district`) and the triggers are back. Nor does the audit events' trigger of h14t_01
    (a load of 366,000 events): the caller recomputes the summaries (`rebuild`) after writing its events, inside.
    SQLite: dropped and created again from the database's own stored definitions (`sqlite_master`), so there is no
    second copy of them; PostgreSQL: the tables' user triggers disabled and enabled again (ALTER TABLE, which locks
    the tables until the commit). Both undo the DDL with the transaction: a caller that fails inside rolls back, and
    the triggers are as they were. Nothing here commits."""
    followed = DISTRICT_FOLLOWED + SUMMARY_FOLLOWED
    if connection.dialect.name == "postgresql":
        for table in followed:
            connection.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        yield
        rebuild_district(connection)
        for table in followed:
            connection.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        return
    begin_writing(connection)  # (a deferred transaction's first INSERT would commit the DROPs below)
    stored = connection.execute(text(  # in the order they were created
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables ORDER BY rowid")
        .bindparams(bindparam("tables", expanding=True)), {"tables": list(followed)}).all()
    for name, _sql in stored:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    rebuild_district(connection)
    for _name, sql in stored:
        connection.exec_driver_sql(sql)


def district_differences(session: Session) -> list[tuple]:
    """Where the kept district totals and a computation from scratch disagree (empty when they agree): (table,
    key, kept values or None, computed values or None). A kept row of zeros (its branches all left) is no row."""
    out = []
    for table, model, columns, width, computed in _KEPT:
        kept = {tuple(r[:width]): tuple(r[width:]) for r in session.execute(
            select(*(getattr(model, name) for name in columns))) if any(r[width:])}
        fresh = {tuple(r[:width]): tuple(int(v) for v in r[width:]) for r in session.execute(computed())
                 if any(r[width:])}
        out += [(table, key, kept.get(key), fresh.get(key)) for key in sorted(kept.keys() | fresh.keys())
                if kept.get(key) != fresh.get(key)]
    for model, columns, computed in _WAITING:
        kept = {r[0]: tuple(r[1:]) for r in session.execute(select(*(getattr(model, name) for name in columns)))}
        fresh = {r[0]: tuple(r[1:]) for r in session.execute(computed())}
        out += [(model.__tablename__, (key,), kept.get(key), fresh.get(key))
                for key in sorted(kept.keys() | fresh.keys()) if kept.get(key) != fresh.get(key)]
    return out


DAY_COLUMNS = ["year_id", "day", "snapshots", "progress", "score"]


def _days(year_id: int | None = None, day=None):
    """SELECT of the district's daily averages (in DAY_COLUMNS order) from the snapshots: of one year and day,
    or of all."""
    p = ProgressSnapshot
    stmt = (select(p.year_id, p.day, func.count(p.id), func.avg(p.progress), func.avg(p.score))
            .group_by(p.year_id, p.day))
    if year_id is not None:
        stmt = stmt.where(p.year_id == year_id, p.day == day)
    return stmt


def rebuild_days(connection) -> None:
    """Recompute the district's timeline (every year and day) from the snapshots."""
    connection.execute(delete(DistrictDay))
    connection.execute(insert(DistrictDay).from_select(DAY_COLUMNS, _days()))


def refresh_days(connection, year_id: int, day) -> None:
    """Recompute the district's averages of one year and day from its snapshots: one statement (compiled once per
    dialect, services/upsert.py)."""
    connection.execute(upsert_from_select(connection.dialect.name, DistrictDay, DAY_COLUMNS, _days(year_id, day),
                                          key=DAY_COLUMNS[:2]))


def day_differences(session: Session) -> list[tuple]:
    """Days where the kept timeline and the averages of the snapshots disagree (empty when they agree):
    ((year id, day), kept values or None, computed values or None); averages compared to 1e-9."""
    kept = {(r[0], r[1]): tuple(r[2:]) for r in session.execute(
        select(*(getattr(DistrictDay, name) for name in DAY_COLUMNS)))}
    computed = {(r[0], r[1]): tuple(r[2:]) for r in session.execute(_days())}

    def same(a, b) -> bool:
        return a is not None and b is not None and a[0] == b[0] and all(
            (x is None and y is None) or (x is not None and y is not None and abs(x - y) < 1e-9)
            for x, y in zip(a[1:], b[1:], strict=True))

    return [(key, kept.get(key), computed.get(key)) for key in sorted(kept.keys() | computed.keys())
            if not same(kept.get(key), computed.get(key))]


def differences(session: Session) -> list[tuple]:
    """Rows where the kept summary and a fresh computation disagree (empty when they agree):
    ((year id, branch id), kept values or None, computed values or None)."""
    connection = session.connection()
    kept = {(r[0], r[1]): tuple(r[2:]) for r in session.execute(
        select(*(getattr(BranchSummary, name) for name in COLUMNS)))}
    computed = {(r[0], r[1]): tuple(r[2:]) for r in session.execute(
        _computed(connection.dialect.name, everything=True))}
    return [(key, kept.get(key), computed.get(key)) for key in sorted(kept.keys() | computed.keys())
            if kept.get(key) != computed.get(key)]


def mark_branch(session: Session, branch_id: int | None) -> None:
    if branch_id is not None:
        session.info.setdefault(_BRANCHES, set()).add(branch_id)


def mark_all(session: Session) -> None:
    session.info[_ALL] = True


def mark_assessments(session: Session, assessment_ids: Iterable[int]) -> None:
    """The branches of these assessments (whose tallies were just written) need their rows again."""
    session.info.setdefault(_ASSESSMENTS, set()).update(assessment_ids)


def apply_pending(session: Session) -> None:
    """Write what the transaction's changes call for: one statement (`tallies.apply_pending(summaries=True)`
    calls this after the tallies, before the commit and for readers of the summaries)."""
    if session.info.pop(_ALL, False):
        forget(session)
        rebuild(session.connection())
        return
    if session.info.pop(_DAYS, False):
        rebuild_days(session.connection())
    branches = session.info.pop(_BRANCHES, set())
    years = session.info.pop(_YEARS, set())
    rounds = session.info.pop(_ROUNDS, set()) - {None}
    if rounds:  # (a round's questions are written with it, rarely alone)
        years |= set(session.execute(select(AppraisalRound.year_id).where(AppraisalRound.id.in_(rounds))).scalars())
    assessments = session.info.pop(_ASSESSMENTS, set())
    units = session.info.pop(_UNITS, set())
    if branches or assessments or years or units:  # (asking for the connection would begin a transaction)
        refresh(session.connection(), branches, assessments, years, units)


# Models whose rows name the branch whose summary they move (an edit may move them from one branch to another).
_BRANCH_MODELS = (Assessment, Review, Submission, Pledge, Post, AuditEvent)


def noticed(session: Session) -> None:
    """after_flush: remember the branches (and years) whose rows the flushed changes move. A new audit event moves
    only its branch's last activity, which the database's trigger keeps (migration h14t_01); an assessment that
    stays in its branch and year, only that year's row (`mark_assessments`)."""
    branches = session.info.setdefault(_BRANCHES, set())
    assessments = session.info.setdefault(_ASSESSMENTS, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent):
            if (obj.branch_id is not None and obj not in session.new
                    and not obj.action.startswith(("auth.", "access."))):
                branches.update(_values(obj, "branch_id"))
        elif isinstance(obj, Assessment) and obj not in session.deleted and not _moved_between(obj):
            assessments.add(obj.id)
        elif isinstance(obj, (*_BRANCH_MODELS, User)):
            branches.update(_values(obj, "branch_id"))
        elif isinstance(obj, Branch):
            branches.add(obj.id)
            if obj in session.deleted:  # its snapshots go with it (ON DELETE CASCADE): the averages move
                session.info[_DAYS] = True
        elif isinstance(obj, Unit):  # its kind, copied into its branches' rows
            session.info.setdefault(_UNITS, set()).add(obj.id)
        elif isinstance(obj, CampaignYear):
            session.info.setdefault(_YEARS, set()).add(obj.id)
        elif isinstance(obj, SubmissionRequest):
            session.info.setdefault(_YEARS, set()).update(_values(obj, "year_id"))
        elif isinstance(obj, tuple(_RULE_COLUMNS)):
            _rule_noticed(session, obj)
    branches.discard(None)


# The columns of the appraisal class's rule (grading.appraisal_class) on the rows of its round (the minimum of
# ballots), its questions (which one is the overall question) and the year's grading policy (the satisfaction cut).
_RULE_COLUMNS = {AppraisalRound: ("year_id", "min_ballots"), GradingPolicy: ("year_id", "advanced_min_satisfaction"),
                 AppraisalQuestion: ("round_id", "criterion_id", "position")}


def _rule_noticed(session: Session, obj) -> None:
    """A row of the appraisal class's rule flushed: if it was added, deleted or a column of the rule changed, every
    row of its year (of a question, of its round's year: `apply_pending` reads it)."""
    from sqlalchemy import inspect

    attrs = inspect(obj).attrs
    if obj in session.new or obj in session.deleted or any(
            attrs[name].history.has_changes() for name in _RULE_COLUMNS[type(obj)]):
        key, column = (_ROUNDS, "round_id") if isinstance(obj, AppraisalQuestion) else (_YEARS, "year_id")
        session.info.setdefault(key, set()).update(_values(obj, column))


def _moved_between(assessment: Assessment) -> bool:
    """Whether this flush moved the assessment to another branch or year (both rows then move)."""
    from sqlalchemy import inspect

    state = inspect(assessment)
    return state.attrs.branch_id.history.has_changes() or state.attrs.year_id.history.has_changes()


def _values(obj, name: str) -> set:
    """The attribute's value now and, if this flush changed it, before."""
    from sqlalchemy import inspect

    history = inspect(obj).attrs[name].history
    values = {getattr(obj, name, None)} if not history.has_changes() else set(history.added) | set(history.deleted)
    if not history.has_changes():
        values |= set(history.unchanged)
    return values


def forget(session: Session) -> None:
    for key in (_BRANCHES, _YEARS, _ALL, _ASSESSMENTS, _DAYS, _UNITS, _ROUNDS):
        session.info.pop(key, None)


def _moved(target, value, old, initiator) -> None:
    """Nothing to do: listening with active_history loads the old branch of an expired row before it is
    replaced, so that the flush sees both branches of a move (`_values`)."""


for _model in (*_BRANCH_MODELS, User):
    if _model is not AuditEvent:
        event.listen(_model.branch_id, "set", _moved, active_history=True)
