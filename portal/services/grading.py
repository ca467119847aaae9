"""分类定级: the system proposes a grade per branch (先进 / 一般 / 后进) and per member (优秀 / 合格 / 基本合格 /
不合格) each year; the leading group confirms a branch's grade, the branch's secretary a member's, either with a reason
when it differs from the proposal (audited).

Composite score (0–100) = Σ weight × input / Σ weights of the inputs present, from
- the self-assessment score (checklist: met 1, partly 0.5, not met 0, services/progress.py),
- the leader review rating (领导点评, latest of the year: 好 100, 较好 80, 一般 60, 差 0) — branches only,
- the appraisal score (群众评议 weighted score, or for members the 民主评议党员 score), when shown (≥ minimum).
Branch thresholds: composite ≥ advanced_min → 先进, ≥ ordinary_min → 一般, else 后进; and, the rule of the
organisation section, a branch whose satisfaction rate is below `advanced_min_satisfaction` % — or unknown,
because too few ballots were cast — is never proposed 先进. Member thresholds likewise (优秀 / 合格 / 基本合格).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, Integer, String, and_, bindparam, case, cast, func, or_, select, update
from sqlalchemy.orm import aliased, lazyload

from ..collation import branch_order, people_order
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..input_guard import parse_int
from ..models import (
    LEVELS,
    AppraisalQuestion,
    AppraisalRound,
    AppraisalTally,
    Assessment,
    AssessmentTally,
    Branch,
    BranchLevel,
    CampaignYear,
    GradeRecord,
    GradingPolicy,
    Level,
    MemberLevel,
    Review,
    ReviewRating,
    Subject,
    User,
    utcnow,
)
from . import appraisal, audit, branch_choice, paging, progress
from .bulk import insert_rows
from .reads import core_rows

REVIEW_SCORE = {ReviewRating.GOOD: 100.0, ReviewRating.FAIRLY_GOOD: 80.0, ReviewRating.AVERAGE: 60.0,
                ReviewRating.POOR: 0.0}
BRANCH_ORDER = [BranchLevel.LAGGING, BranchLevel.ORDINARY, BranchLevel.ADVANCED]
REASON_MAX = 2000
REASON_MIN = 10  # an override names its grounds ("x" is not a reason the audit can be read by)


def composite(inputs: dict[str, float | None], weights: dict[str, int]) -> float | None:
    """Weighted mean of the inputs present, rounded to 0.1; None when none is present or all weights are 0.
    E.g. self 90, review 80, appraisal 70 at 40/30/30 → (3600 + 2400 + 2100) / 100 = 81.0; without the
    appraisal → (3600 + 2400) / 70 = 85.7."""
    total, weighted = 0, 0  # summed in the inputs' order (a loop: this runs once per person of a district)
    for key, value in inputs.items():
        if value is not None:
            weight = weights.get(key, 0)
            total += weight
            weighted += weight * value
    if total <= 0:
        return None
    return round(weighted / total, 1)


def may_be_advanced(satisfaction: float | None, policy: GradingPolicy) -> bool:
    """The organisation section's rule: a branch is 先进 only with a known satisfaction rate of at least
    `advanced_min_satisfaction` %. It binds proposals, confirmations and overrides alike."""
    return satisfaction is not None and satisfaction >= policy.advanced_min_satisfaction


def propose_branch(score: float | None, satisfaction: float | None, policy: GradingPolicy) -> BranchLevel:
    """先进 / 一般 / 后进 from the composite score and the satisfaction rate (%); see the module docstring.
    No composite at all is 一般 (nothing to judge by: the leading group decides)."""
    if score is None:
        return BranchLevel.ORDINARY
    if score >= policy.advanced_min:
        return BranchLevel.ADVANCED if may_be_advanced(satisfaction, policy) else BranchLevel.ORDINARY
    return BranchLevel.ORDINARY if score >= policy.ordinary_min else BranchLevel.LAGGING


def propose_member(score: float | None, policy: GradingPolicy) -> MemberLevel:
    """优秀 / 合格 / 基本合格 / 不合格 from the member's composite score; none at all is 合格."""
    if score is None:
        return MemberLevel.QUALIFIED
    if score >= policy.member_excellent_min:
        return MemberLevel.EXCELLENT
    if score >= policy.member_qualified_min:
        return MemberLevel.QUALIFIED
    return MemberLevel.BASIC if score >= policy.member_basic_min else MemberLevel.UNQUALIFIED


def policy_for(year: CampaignYear) -> GradingPolicy:
    """The year's policy, or the defaults (not stored until the organisation section saves one)."""
    found = db.session.scalar(select(GradingPolicy).where(GradingPolicy.year_id == year.id))
    if found is not None:
        return found
    defaults = {c.name: c.default.arg for c in GradingPolicy.__table__.columns if c.default is not None}
    defaults.pop("version", None)
    return GradingPolicy(year_id=year.id, **defaults)


POLICY_FIELDS = ("weight_self", "weight_review", "weight_appraisal", "advanced_min", "ordinary_min",
                 "advanced_min_satisfaction", "member_excellent_min", "member_qualified_min", "member_basic_min")


def save_policy(actor: User, year: CampaignYear, values: dict) -> GradingPolicy:
    """Store the year's weights (whole numbers 0–100, not all 0) and thresholds (0–100, advanced ≥ ordinary,
    excellent ≥ qualified ≥ basic). Raises Invalid(field errors). Audited ("grading.policy_changed")."""
    errors: dict[str, str] = {}
    for name in POLICY_FIELDS:
        value = values.get(name)
        if value is None or not 0 <= value <= 100:
            errors[name] = str(_l("Enter a number from 0 to 100."))
    if not errors:
        if values["weight_self"] + values["weight_review"] + values["weight_appraisal"] == 0:
            errors["weight_self"] = str(_l("At least one weight must be above 0."))
        if values["advanced_min"] < values["ordinary_min"]:
            errors["advanced_min"] = str(_l("The threshold for 先进 cannot be below the one for 一般."))
        if not values["member_excellent_min"] >= values["member_qualified_min"] >= values["member_basic_min"]:
            errors["member_excellent_min"] = str(_l("The member thresholds must go down from 优秀 to 基本合格."))
    if errors:
        raise Invalid(str(_l("Please correct the marked fields.")), errors)
    policy = policy_for(year)
    before = {name: getattr(policy, name) for name in POLICY_FIELDS} if policy.id else None
    for name in POLICY_FIELDS:
        setattr(policy, name, values[name])
    if policy.id:
        policy.version += 1
    db.session.add(policy)
    db.session.flush()
    audit.record(actor, "grading.policy_changed", policy, before=before,
                 after={name: values[name] for name in POLICY_FIELDS})
    db.session.commit()
    return policy


# --- inputs, in SQL -------------------------------------------------------------------------------------

def _self_scores(year: CampaignYear, subject: Subject) -> dict[int, float | None]:
    """{branch id (branch assessments) or member id (member assessments): checklist score} in one GROUP BY over
    the kept per-criterion tallies (services/tallies.py: the item results' figures, kept with every change;
    their sums are the whole checklist's), not over every item result of the year."""
    from . import tallies

    tallies.apply_pending()
    key = Assessment.branch_id if subject == Subject.BRANCH else Assessment.member_id
    # The score (`Tally.score`) needs only the two weights: no Tally per person (82,000 of them in a district).
    stmt = (select(key, func.sum(AssessmentTally.weight_scored), func.sum(AssessmentTally.weight_earned))
            .join(Assessment, Assessment.id == AssessmentTally.assessment_id)
            .where(Assessment.year_id == year.id, Assessment.subject == subject).group_by(key))
    return {owner: progress.score_of(float(scored), float(earned))
            for owner, scored, earned in db.session.connection().execute(stmt)}  # Core rows: no ORM per row


def _review_scores(year: CampaignYear) -> dict[int, float]:
    """{branch id: score of the latest leader review of the branch this year}."""
    latest = (select(Review.branch_id, func.max(Review.id).label("last"))
              .where(Review.year_id == year.id, Review.member_id.is_(None)).group_by(Review.branch_id).subquery())
    rows = db.session.execute(select(Review.branch_id, Review.rating).join(latest, Review.id == latest.c.last))
    return {branch_id: REVIEW_SCORE[ReviewRating(rating)] for branch_id, rating in rows}


def propose(actor: User, year: CampaignYear) -> int:
    """(Re)compute every active branch's and member's proposal for `year` from the inputs now. Confirmed
    grades keep their confirmation; a record's inputs and proposal are refreshed. Returns the number of
    records written. Audited once, as a count ("grading.proposed")."""
    written = write_proposals(year)
    audit.record(actor, "grading.proposed", None, after={"year": year.year, "records": written})
    db.session.commit()
    return written


NEW_COLUMNS = ["year_id", "branch_id", "member_id", "self_score", "review_score", "appraisal_score", "satisfaction",
               "composite", "proposed", "proposed_at", "reason", "version"]  # a new GradeRecord, every column given


def write_proposals(year: CampaignYear) -> int:
    """The work of `propose`, added to the current transaction (no audit, no commit: the demo seed uses it)."""
    policy = policy_for(year)
    weights = {"self": policy.weight_self, "review": policy.weight_review, "appraisal": policy.weight_appraisal}
    round_ = appraisal.round_for(year)
    branch_ids = list(db.session.scalars(select(Branch.id).where(Branch.active.is_(True))))
    found = appraisal.results(round_, branch_ids, overall_only=True) if round_ else {}
    self_scores, review_scores = _self_scores(year, Subject.BRANCH), _review_scores(year)
    # A branch's record by branch, a member's by member (who may have moved to another branch since).
    existing = {(member_id or f"branch-{branch_id}"): (record_id, version)
                for record_id, branch_id, member_id, version in db.session.execute(
                    select(GradeRecord.id, GradeRecord.branch_id, GradeRecord.member_id, GradeRecord.version)
                    .where(GradeRecord.year_id == year.id))}
    new_rows: list[tuple] = []  # (NEW_COLUMNS): tuples, not dicts (a district's 84,000 records a year)
    changed_rows: list[dict] = []
    now = utcnow()
    year_id = year.id

    def keep(branch_id, member_id, inputs, satisfaction, score, proposed) -> int:
        found = existing.get(member_id or f"branch-{branch_id}")
        if found is None:
            new_rows.append((year_id, branch_id, member_id, inputs["self"], inputs["review"], inputs["appraisal"],
                             satisfaction, score, proposed.value, now, "", 1))
        else:  # a new proposal makes an open confirmation form stale (409), as any edit would
            changed_rows.append({
                "self_score": inputs["self"], "review_score": inputs["review"], "appraisal_score": inputs["appraisal"],
                "satisfaction": satisfaction, "composite": score, "proposed": proposed.value, "proposed_at": now,
                "id": found[0], "branch_id": branch_id, "version": found[1] + 1})
        return 1

    written = 0
    for branch_id in branch_ids:
        result = found.get(branch_id)
        figures = result.total.overall if result and result.shown else None
        inputs = {"self": self_scores.get(branch_id), "review": review_scores.get(branch_id),
                  "appraisal": figures.score if figures else None}
        score = composite(inputs, weights)
        satisfaction = figures.satisfaction if figures else None
        written += keep(branch_id, None, inputs, satisfaction, score, propose_branch(score, satisfaction, policy))
    member_scores = _self_scores(year, Subject.MEMBER)
    members = db.session.connection().execute(select(User.id, User.branch_id).where(  # Core rows: no ORM per row
        User.active.is_(True), User.branch_id.isnot(None), User.role.in_(["member", "secretary"]))).all()
    member_appraisal = _member_appraisal_scores(round_) if round_ else {}
    for member_id, branch_id in members:
        inputs = {"self": member_scores.get(member_id), "review": None,
                  "appraisal": member_appraisal.get(member_id)}
        score = composite(inputs, weights)
        written += keep(branch_id, member_id, inputs, None, score, propose_member(score, policy))
    # Bulk statements: a district of 300 branches × 40 members is 12,000 records a year.
    insert_rows(GradeRecord.__table__, NEW_COLUMNS, new_rows)  # the ORM's bulk insert splits on every NULL
    if changed_rows:
        db.session.execute(update(GradeRecord), changed_rows)
    return written


def _member_appraisal_scores(round_) -> dict[int, float]:
    """{member id: 民主评议 weighted score} for members with the round's member minimum of answers besides one
    (appraisal.member_score_shown: the secretary who confirms may have answered),
    once the round has closed (none while it is open: see appraisal.member_coverage)."""
    from ..models import MemberVerdict

    if not appraisal.is_closed(round_):
        return {}
    counts: dict[int, dict] = {}
    for member_id, level, n in db.session.execute(
            select(MemberVerdict.member_id, MemberVerdict.level, func.count())
            .where(MemberVerdict.round_id == round_.id).group_by(MemberVerdict.member_id, MemberVerdict.level)):
        counts.setdefault(member_id, {})[level] = int(n)
    return {member_id: appraisal.weighted_score(c, round_.weights) for member_id, c in counts.items()
            if appraisal.member_score_shown(sum(c.values()), round_)}


# --- confirming -----------------------------------------------------------------------------------------

def get_record(record_id: int) -> GradeRecord:
    record = db.session.get(GradeRecord, record_id)
    if record is None:
        raise NotFound()
    return record


def confirm(actor: User, record: GradeRecord, grade: str, reason: str, version: int | None = None) -> GradeRecord:
    """Confirm `grade` for the record (a branch: a BranchLevel value; a member: a MemberLevel value). A grade
    other than the proposal needs a reason of at least REASON_MIN characters (an override). A branch is never
    confirmed 先进 below the policy's satisfaction threshold (`may_be_advanced`), whoever proposes it (a
    proposal made before the rule changed, or an override). Raises Invalid (unknown grade, the satisfaction
    rule, missing or too short reason), Conflict (the record changed since the form was loaded: `version`).
    Audited ("grading.confirmed" or "grading.overridden", before/after)."""
    allowed = set(BranchLevel) if record.member_id is None else set(MemberLevel)
    if grade not in allowed:
        raise Invalid(str(_l("Choose an entry from the list.")), {"grade": str(_l("Choose an entry from the list."))})
    if record.member_id is None and grade == BranchLevel.ADVANCED:
        policy = policy_for(db.session.get(CampaignYear, record.year_id))
        if not may_be_advanced(record.satisfaction, policy):
            message = (str(_l("A branch whose satisfaction rate is below %(n)s %% cannot be 先进.",
                              n=f"{policy.advanced_min_satisfaction:g}")) if record.satisfaction is not None
                       else str(_l("先进 needs a satisfaction rate of at least %(n)s %%, and this branch has none "
                                   "(too few ballots, or the appraisal has not closed).",
                                   n=f"{policy.advanced_min_satisfaction:g}")))
            raise Invalid(message, {"grade": message})
    reason = (reason or "").strip()
    if grade != record.proposed and len(reason) < REASON_MIN:
        message = str(_l("Give the reason for a grade other than the proposal (at least %(n)s characters).",
                         n=REASON_MIN))
        raise Invalid(message, {"reason": message})
    if len(reason) > REASON_MAX:
        raise Invalid(str(_l("At most %(n)s characters.", n=REASON_MAX)),
                      {"reason": str(_l("At most %(n)s characters.", n=REASON_MAX))})
    if version is not None and version != record.version:
        raise Conflict(str(_l("Someone changed this grade meanwhile; reload the page.")))
    before = {"proposed": record.proposed, "confirmed": record.confirmed, "reason": record.reason}
    record.confirmed, record.reason = grade, reason
    record.confirmed_by_id, record.confirmed_at = actor.id, utcnow()
    record.version += 1
    action = "grading.confirmed" if grade == record.proposed else "grading.overridden"
    audit.record(actor, action, record, before=before,
                 after={"proposed": record.proposed, "confirmed": grade, "reason": reason,
                        "composite": record.composite})
    db.session.commit()
    return record


# --- reading --------------------------------------------------------------------------------------------

@dataclass
class GradeRow:
    record: GradeRecord
    name: str


GRADES_PER_PAGE = 50  # branches a page of /grades lists (the dashboard's page size)
GRADE_STATES = ("unconfirmed", "confirmed")  # the confirmation filter: still to confirm (the leaders' work), done


@dataclass(frozen=True)
class GradeFilters(branch_choice.BranchFiltered):
    """The grades page's list: `year` asked (None: the current one), `grade` in force (a BranchLevel value or ""),
    `state` ("unconfirmed", "confirmed" or ""), the branch filter (`branch`: one branch from the menu of a small
    district, or part of a branch's name from the field of a big one: branch_choice.BranchFilter), and the page."""

    year: int | None = None
    grade: str = ""
    state: str = ""
    branch: branch_choice.BranchFilter = branch_choice.BranchFilter()
    page: int = 1

    @classmethod
    def parse(cls, args) -> GradeFilters:
        """From a query string; unknown or malformed values are ignored rather than refused (a link can age), and a
        page that is not a number from 1 is page 1."""
        grade, state = args.get("grade", ""), args.get("state", "")
        return cls(year=parse_int(args.get("year"), low=1, high=9999), grade=grade if grade in BRANCH_ORDER else "",
                   state=state if state in GRADE_STATES else "", branch=branch_choice.BranchFilter.parse(args),
                   page=paging.requested_page(args.get("page")))

    def query_args(self, page: int | None = None) -> dict:
        """The filters as query arguments (empty ones left out), with `page` when it is past the first."""
        return {k: v for k, v in {"year": self.year, "grade": self.grade, "state": self.state,
                                  **self.branch.query_args(), "page": page if page and page > 1 else None}.items()
                if v}

    def summary_args(self, **cell) -> dict:
        """A summary cell's link (`cell`: its grade or state): the year and the branch filter kept, the rest the
        cell's."""
        return {k: v for k, v in {"year": self.year, **self.branch.query_args(), **cell}.items() if v}

    @property
    def narrowed(self) -> bool:
        """Whether the list shows fewer than the year's branches (for "clear filters")."""
        return bool(self.grade or self.state or self.branch.query_args())


@dataclass
class GradesPage(paging.Paged):
    """A page of the year's branch grades, and the `counts` by grade in force (BranchLevel values) and of
    `unconfirmed` records of the branches the branch filter leaves (all of the year's without one), whatever the
    grade and state filters (the summary above the list)."""

    rows: list[GradeRow]
    window: paging.Window
    filters: GradeFilters
    counts: dict[str, int]
    unconfirmed: int

    @property
    def first(self) -> int:
        """The 1-based position of the page's first row in the filtered list."""
        return self.window.offset + 1

    @property
    def year_total(self) -> int:
        return sum(self.counts.values())


def _in_force():
    return func.coalesce(GradeRecord.confirmed, GradeRecord.proposed)


def _year_records() -> list:
    return [GradeRecord.year_id == bindparam("year_id", type_=Integer), GradeRecord.member_id.is_(None)]


@cache
def _grades_counts_statement(by_branch: bool, by_name: bool):
    """The year's branch records by confirmed and proposed grade (the raw columns, read from ix_grade_record_year_state
    alone: the grade in force is named in Python), built once per shape of the branch filter (`year_id`, and
    BranchFilter.values' parameters)."""
    record = GradeRecord
    stmt = select(record.confirmed, record.proposed, func.count()).where(*_year_records())
    if by_branch or by_name:
        stmt = stmt.join(Branch, Branch.id == record.branch_id).where(
            *branch_choice.BranchFilter.conditions(Branch.id, by_branch, by_name))
    return stmt.group_by(record.confirmed, record.proposed)


@cache
def _grades_statement(by_grade: bool, state: str, by_branch: bool, by_name: bool):
    """A page of the filtered branch records of a year with branch names in pinyin order, built once per shape.
    Parameters: `year_id`, `grade` where the shape has it, BranchFilter.values' parameters, `limit` and `offset`.

    The page is cut from the branches in their order (`ix_branch_sort_key`), each looked up in the year's records
    (`uq_grade_record_branch_year`), so that it reads about its own rows, not the year's 2,000 records sorted
    (without statistics SQLite would start from the year's records and sort them all); the page's records are
    then joined to it."""
    record = GradeRecord
    conditions = _year_records()
    if by_grade:
        conditions.append(_in_force() == bindparam("grade", type_=String))
    if state:
        conditions.append(record.confirmed.is_(None) if state == "unconfirmed" else record.confirmed.is_not(None))
    page = (select(Branch.id, Branch.sort_key, Branch.name)
            .where(select(record.id).where(record.branch_id == Branch.id, *conditions).exists(),
                   *branch_choice.BranchFilter.conditions(Branch.id, by_branch, by_name))
            .order_by(*branch_order()).limit(bindparam("limit", type_=Integer))
            .offset(bindparam("offset", type_=Integer)).subquery("page"))
    return (select(record, page.c.name).join(page, page.c.id == record.branch_id)
            .where(*_year_records()).order_by(page.c.sort_key, page.c.name, page.c.id))


def branch_grades(year: CampaignYear, filters: GradeFilters | None = None,
                  per_page: int = GRADES_PER_PAGE) -> GradesPage:
    """A page of the year's branch grade records with branch names, in pinyin order of the names (the stored key,
    portal/collation.py; code point order would put 中 before 北), filtered by `filters`; a page past the end is
    the last one (paging.window). Two statements (the counts of the branches the branch filter leaves, which give
    the list's total too; the page), whatever the size of the district: the page costs the same at 2,000 branches
    as at 20 (issue #14)."""
    filters = filters or GradeFilters()
    counts = dict.fromkeys(BRANCH_ORDER, 0)
    unconfirmed = 0
    matching = 0
    values = {"year_id": year.id, "grade": filters.grade, **filters.branch.values()}
    for confirmed, proposed, n in db.session.execute(_grades_counts_statement(*filters.branch.shape), values):
        grade, is_open = confirmed or proposed, confirmed is None  # GradeRecord.grade
        if grade in counts:
            counts[grade] += n
        unconfirmed += n if is_open else 0
        if ((not filters.grade or grade == filters.grade)
                and (not filters.state or bool(is_open) == (filters.state == "unconfirmed"))):
            matching += n
    shown = paging.window(matching, filters.page, per_page)
    rows = [GradeRow(record, name) for record, name in db.session.execute(
        _grades_statement(bool(filters.grade), filters.state, *filters.branch.shape),
        {**values, "limit": per_page, "offset": shown.offset})]
    return GradesPage(rows=rows, window=shown, filters=filters, counts=counts, unconfirmed=unconfirmed)


def graded_years() -> list[CampaignYear]:
    """Campaign years that have branch grade records, newest first (the grades page's year selector)."""
    # EXISTS: one look-up a year in uq_grade_record_branch_year, not its whole index (IN read 6,000 entries at 2,000
    # branches).
    return list(db.session.scalars(select(CampaignYear).where(
        select(GradeRecord.id).where(GradeRecord.year_id == CampaignYear.id, GradeRecord.member_id.is_(None)).exists())
        .order_by(CampaignYear.year.desc())))


def member_grades(year: CampaignYear, branch_id: int) -> list[GradeRow]:
    stmt = (select(GradeRecord, User.display_name).join(User, User.id == GradeRecord.member_id)
            .where(GradeRecord.year_id == year.id, GradeRecord.branch_id == branch_id)
            .order_by(*people_order()))
    return [GradeRow(record, name) for record, name in db.session.execute(stmt)]


def grades_by_branch(year_ids: list[int], branch_ids: list[int] | None = None) -> dict[tuple[int, int], GradeRecord]:
    """{(year id, branch id): branch grade record} for the given years (and branches), one query."""
    stmt = select(GradeRecord).where(GradeRecord.year_id.in_(year_ids), GradeRecord.member_id.is_(None))
    if branch_ids is not None:
        stmt = stmt.where(GradeRecord.branch_id.in_(branch_ids))
    return {(r.year_id, r.branch_id): r for r in db.session.scalars(stmt)}


def movement(earlier: str | None, later: str | None) -> int:
    """+1 up, -1 down, 0 same or unknown, between two branch grades (后进 < 一般 < 先进)."""
    if earlier not in set(BranchLevel) or later not in set(BranchLevel):
        return 0
    return (BRANCH_ORDER.index(BranchLevel(later)) > BRANCH_ORDER.index(BranchLevel(earlier))) - (
        BRANCH_ORDER.index(BranchLevel(later)) < BRANCH_ORDER.index(BranchLevel(earlier)))


def history(branch_id: int) -> list[tuple[CampaignYear, GradeRecord | None, int]]:
    """A branch's grade per campaign year, oldest first, with the movement from the year before: one query (the
    years' phases are not read)."""
    out, previous = [], None
    for year, record in db.session.execute(_history_statement(), {"branch_id": branch_id}):
        grade = record.grade if record else None
        out.append((year, record, movement(previous, grade)))
        previous = grade
    return out


@cache
def _history_statement():
    """`history`'s statement (parameter `branch_id`), built once: the branch page reads it."""
    return (select(CampaignYear, GradeRecord).options(lazyload(CampaignYear.phases))
            .outerjoin(GradeRecord, and_(GradeRecord.year_id == CampaignYear.id,
                                         GradeRecord.branch_id == bindparam("branch_id", type_=Integer),
                                         GradeRecord.member_id.is_(None)))
            .order_by(CampaignYear.year))


@dataclass
class Verdict:
    """The branch page's 群众评议 and 分类定级 section for one year."""

    round: object  # AppraisalRound | None
    result: object  # appraisal.BranchResult | None
    history: list[tuple[CampaignYear, GradeRecord | None, int]]


def branch_verdict(branch: Branch, year: CampaignYear, *, with_results: bool, with_grades: bool) -> Verdict:
    """The year's appraisal results (when the viewer may see them) and the grade of every year with its
    movement (when the viewer may see grades). Three queries at most."""
    round_ = appraisal.round_for(year) if with_results else None
    return Verdict(round_, appraisal.branch_result(round_, branch.id) if round_ else None,
                   history(branch.id) if with_grades else [])


@dataclass
class VerdictCell:
    """The dashboard's and the export's appraisal and grade columns for one branch and year."""

    ballots: int = 0
    satisfaction: float | None = None  # None below the round's minimum
    score: float | None = None
    grade: str | None = None
    confirmed: bool = False


def verdict_cells(year: CampaignYear, branch_ids: list[int] | None = None) -> dict[int, VerdictCell]:
    """{branch id: VerdictCell} of the given branches in `year` (when None, of every branch that has a ballot or a
    grade record: the others are absent): one GROUP BY of the overall question's answers per branch and level
    (`appraisal.overall_counts`) and one query of three columns of the grade records, whatever the number of
    branches; nothing is loaded as an object. The figures are those of `appraisal.results` (shown only once the
    round is closed and the branch has the round's minimum of ballots)."""
    cells: dict[int, VerdictCell] = {branch_id: VerdictCell() for branch_id in branch_ids or ()}
    if branch_ids is not None and not branch_ids:
        return cells

    def cell(branch_id: int) -> VerdictCell:
        found = cells.get(branch_id)
        if found is None:
            found = cells[branch_id] = VerdictCell()
        return found

    round_ = appraisal.round_for(year)
    if round_ is not None:
        closed, weights = appraisal.is_closed(round_), round_.weights  # (weights: a dict made when read)
        for branch_id, counts in appraisal.overall_counts(round_, branch_ids).items():
            _appraised(cell(branch_id), closed, round_.min_ballots, weights, counts)
    values = {"year_id": year.id} if branch_ids is None else {"year_id": year.id, "ids": list(branch_ids)}
    for branch_id, proposed, confirmed in core_rows(_verdict_grades_statement(branch_ids is not None), values).all():
        found = cell(branch_id)
        found.grade, found.confirmed = confirmed or proposed, confirmed is not None  # GradeRecord.grade
    return cells


@cache
def _verdict_grades_statement(some: bool):
    """`verdict_cells`' read of the grade records, built once: of every branch, or of `some` (the expanding
    parameter `ids`); parameter `year_id`."""
    record = GradeRecord
    stmt = select(record.branch_id, record.proposed, record.confirmed).where(
        record.year_id == bindparam("year_id", type_=Integer), record.member_id.is_(None))
    return stmt.where(record.branch_id.in_(bindparam("ids", expanding=True))) if some else stmt


def _appraised(cell: VerdictCell, closed: bool, min_ballots: int, weights: dict, counts: dict) -> VerdictCell:
    """`cell` with the figures of the overall question's counts ({level: answers}): the ballots always, the
    satisfaction rate and score (with the round's `weights`) once the round is `closed` and the branch has its
    `min_ballots` (`appraisal.results`)."""
    cell.ballots = sum(counts.values())
    if closed and cell.ballots >= min_ballots:
        cell.satisfaction = appraisal.satisfaction_rate(counts)
        cell.score = appraisal.weighted_score(counts, weights)
    return cell


def verdict_columns(year: CampaignYear, branch_id) -> tuple[list, Callable[[Sequence], VerdictCell]]:
    """The verdict of a branch in `year` as columns of another query, for a long export read in one pass: (column
    expressions correlated with `branch_id`, a branch id column of that query; the function making the
    VerdictCell of their values). The columns: the kept counts of the overall question per level (four, when
    the year has an appraisal round) and the grade record's proposed and confirmed grade, each an index look-up.
    The cells are those of `verdict_cells`, where a branch without ballot or grade has an empty VerdictCell."""
    round_ = appraisal.round_for(year)
    record = GradeRecord
    columns: list = []
    if round_ is not None:
        overall = next((q.id for q in round_.questions if q.is_overall), None)
        t = AppraisalTally
        columns = [select(t.answers).where(t.round_id == round_.id, t.question_id == overall,
                                           t.branch_id == branch_id, t.level == level).scalar_subquery()
                   for level in LEVELS]
    columns += [select(column).where(record.year_id == year.id, record.branch_id == branch_id,
                                     record.member_id.is_(None)).scalar_subquery()
                for column in (record.proposed, record.confirmed)]
    closed = round_ is not None and appraisal.is_closed(round_)
    min_ballots, weights = (round_.min_ballots, round_.weights) if round_ is not None else (0, {})
    levels = len(columns) - 2

    def cell(values: Sequence) -> VerdictCell:
        found = VerdictCell()
        if levels:
            counts = {level: n for level, n in zip(LEVELS, values, strict=False) if n}
            _appraised(found, closed, min_ballots, weights, counts)
        proposed, confirmed = values[levels], values[levels + 1]
        if proposed is not None:
            found.grade, found.confirmed = confirmed or proposed, confirmed is not None  # GradeRecord.grade
        return found

    return columns, cell


def branch_ids_graded(year: CampaignYear, grade: str) -> set[int]:
    """Branches whose grade in force (confirmed, else proposed) for `year` is `grade`; one query."""
    return set(db.session.scalars(select(GradeRecord.branch_id).where(
        GradeRecord.year_id == year.id, GradeRecord.member_id.is_(None),
        func.coalesce(GradeRecord.confirmed, GradeRecord.proposed) == grade)))


APPRAISAL_FILTERS = ("few", "low")  # fewer ballots than the minimum; satisfaction below the 先进 threshold
FAVOURABLE = (Level.SATISFIED, Level.FAIRLY)  # the satisfaction rate's answers (appraisal.satisfaction_rate)


def satisfaction_cut(limit: float) -> tuple[int, bool]:
    """(k, tie) such that a satisfaction rate `appraisal.satisfaction_rate` rounds below `limit` exactly when
    2000 × (满意 + 比较满意) < k × ballots, or = with `tie`: the rule in integers, for SQL. The rate is round(100 s / t,
    1) of a float; the least one-decimal rate not below the limit is m / 10, and a rate rounds below it when
    100 s / t < (m − 0.5) / 10, i.e. 2000 s < (2m − 1) t; exactly on the boundary the float (2m − 1) / 20 rounds as
    Python rounds it, whatever s and t."""
    m = math.ceil(limit * 10)
    while m / 10 < limit:
        m += 1
    while (m - 1) / 10 >= limit:
        m -= 1
    return 2 * m - 1, round((2 * m - 1) / 20, 1) < limit


def satisfaction_cuts():
    """SELECT (year_id, k, tie) of every stored grading policy: `satisfaction_cut` of its
    `advanced_min_satisfaction` computed in SQL, exactly as Python computes it (both databases compute in IEEE
    doubles, as Python does): m is the least integer whose m / 10 is not below the limit (one of four integers around
    limit × 10, which SQLite's CAST truncates and PostgreSQL's rounds), k = 2m − 1, and `tie` (1 or 0) whether
    Python's round(k / 20, 1) gives (m − 1) / 10: when the double x nearest k / 20 lies below k / 20, or is k / 20
    exactly (k a multiple of 5) and m − 1 is even (Python rounds an exact half to even). 20x against k is decided
    without rounding as 16x − k against −4x (16x and 4x are exact, and so is 16x − k, the two being within a factor
    of two of each other: Sterbenz's lemma). Checked against `satisfaction_cut` for every limit in tenths, twentieths
    and others (tests/unit/test_appraisal_tally.py)."""
    p = GradingPolicy
    limit = p.advanced_min_satisfaction
    near = cast(limit * 10, Integer)
    m = case(*((cast(near + step, Float) / 10.0 >= limit, near + step) for step in (-1, 0, 1)), else_=near + 2)
    least = select(p.year_id, m.label("m")).subquery("least")
    k = 2 * least.c.m - 1
    x = cast(k, Float) / 20.0
    below = or_(16 * x - k < -4 * x, and_(16 * x - k == -4 * x, least.c.m % 2 == 1))
    return select(least.c.year_id, k.label("k"), case((below, 1), else_=0).label("tie")).subquery("cut")


DEFAULT_SATISFACTION = GradingPolicy.__table__.c.advanced_min_satisfaction.default.arg  # no policy stored: 60 %


def appraisal_class(year_id, branch_id):
    """SQL (a scalar subquery correlated with the columns `year_id` and `branch_id`) of a branch's 群众评议 class in a
    year, as `appraisal.results` decides `enough` and the policy's rule `advanced_min_satisfaction` (a rate below it is
    never 先进, `may_be_advanced`): "few" when the branch has fewer ballots than the round's minimum (none counted, or
    the year has no round or its round no overall question: every branch); "low" when it has enough and its
    satisfaction rate rounds below the limit (`satisfaction_cut`, in integers over the kept counts of the overall
    question, `AppraisalTally`); "" for neither. Whether the round has closed (before, no rate is shown, so no branch
    is "low" to a reader) depends on the clock and is not part of it: the dashboard judges it when read. Kept in
    `branch_summary.appraisal` (services/figures.py)."""
    r, q, t, cut = AppraisalRound, aliased(AppraisalQuestion), AppraisalTally, satisfaction_cuts()
    overall = (select(q.id).where(q.round_id == r.id, q.criterion_id.is_(None))  # AppraisalQuestion.is_overall
               .order_by(q.position).limit(1).scalar_subquery())
    ballots = func.coalesce(func.sum(t.answers), -1)
    favourable = 2000 * func.coalesce(func.sum(case((t.level.in_(FAVOURABLE), t.answers), else_=0)), 0)
    default_k, default_tie = satisfaction_cut(DEFAULT_SATISFACTION)
    k = func.coalesce(func.max(cut.c.k), default_k)
    below = or_(favourable < k * ballots,
                and_(func.coalesce(func.max(cut.c.tie), int(default_tie)) == 1, favourable == k * ballots))
    return (select(case((func.max(r.id).is_(None), "few"), (ballots < func.max(r.min_ballots), "few"),
                        (below, "low"), else_=""))
            .select_from(r).outerjoin(cut, cut.c.year_id == r.year_id)
            .outerjoin(t, and_(t.round_id == r.id, t.question_id == overall, t.branch_id == branch_id,
                               t.answers > 0))
            .where(r.year_id == year_id).scalar_subquery())


def appraisal_shown(year: CampaignYear, which: str) -> bool:
    """Whether the branches of the appraisal class `which` are shown as such in `year`: "few" always (the ballot count
    is known while the round is open), "low" once the year's round has closed (`appraisal.results` shows no rate
    before: no branch is "low" to a reader). One statement for "low" (the round), none for "few"."""
    if which != "low":
        return True
    round_ = appraisal.round_for(year)
    return round_ is not None and appraisal.is_closed(round_)
