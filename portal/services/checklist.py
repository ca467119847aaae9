"""Self-assessment checklists: 五个好 for a branch, 五带头 for a member.

Results are set (never toggled) with one row per assessment and item (an upsert), notes are guarded by
an optimistic version, and the workflow is draft → submitted (locked) → reviewed, or returned with a
reason (unlocked again). Every change is audited; every transition is kept in the visible history.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import FileStorage

from .. import collation
from ..database import begins_immediate
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..i18n import fill
from ..links import path_for
from ..models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Branch,
    CampaignYear,
    Criterion,
    Evidence,
    Framework,
    Item,
    ItemResult,
    Result,
    Review,
    ReviewRating,
    Subject,
    User,
    utcnow,
)
from . import audit, notifications, progress, tallies, uploads
from .campaign import current_year
from .items import (
    CriterionAsShown,
    criteria_as_kept,
    in_checklist,
    in_year_order,
    item_numbers,
    kept_criterion_columns,
    retired_in,
    wordings_in,
)
from .reads import core_rows
from .upsert import upsert_row

EVIDENCE_KIND = "evidence"
NOTE_MAX = 2000
EDITABLE = (AssessmentStatus.DRAFT, AssessmentStatus.RETURNED)


# --- finding the assessment ------------------------------------------------------------------------------

@dataclass
class Target:
    """Whose checklist: a branch (member None) or one member, in one campaign year."""

    year: CampaignYear
    branch: Branch
    member: User | None
    framework: Framework
    assessment: Assessment | None  # None until the first answer is saved
    # The checklist's (criterion, item) pairs, once read in this request (`_applicable_items`): an answer never
    # changes which items a checklist holds (an item answered was already in it), so a tick's answer reuses them.
    pairs: list | None = field(default=None, repr=False, compare=False)
    # The answers as the same statement read them ({item id: Answer}) and the transaction it ran in: what a change
    # starts from while that transaction lasts (`_known_answer`).
    answers: dict | None = field(default=None, repr=False, compare=False)
    answers_read_in: object = field(default=None, repr=False, compare=False)
    # What a tick's answer shows (`load(only_item_id=…)`: the row and the tallies), as the tick wrote and read it
    # in its own transaction; dropped by the next change (`_lock_assessment`).
    answered: Checklist | None = field(default=None, repr=False, compare=False)

    @property
    def subject(self) -> Subject:
        return Subject.MEMBER if self.member else Subject.BRANCH

    @property
    def status(self) -> AssessmentStatus:
        return self.assessment.status if self.assessment else AssessmentStatus.DRAFT

    @property
    def is_current_year(self) -> bool:
        current = current_year()
        return current is not None and current.id == self.year.id

    def permission_object(self) -> Assessment:
        """What `can(...)` judges: the saved assessment, or an unsaved stand-in with the same owner."""
        return self.assessment or Assessment(subject=self.subject, branch_id=self.branch.id,
                                             member_id=self.member.id if self.member else None,
                                             year_id=self.year.id, status=AssessmentStatus.DRAFT)


def resolve_year(year_number: int | None) -> CampaignYear:
    if year_number is None:
        year = current_year()
    else:
        year = db.session.scalar(select(CampaignYear).where(CampaignYear.year == year_number))
    if year is None:
        raise NotFound(str(_l("There is no campaign year %(year)s.", year=year_number or "")))
    return year


def all_years() -> list:
    """The campaign years in order, as (id, year) rows: the checklist's year switch reads nothing else (plain rows
    cost a fraction of ORM objects)."""
    return list(db.session.execute(select(CampaignYear.id, CampaignYear.year).order_by(CampaignYear.year)))


# Statements of every tick and checklist page, built once (with their values as parameters): building a
# statement and its cache key cost more CPU than SQLite takes to run it.

@cache
def _target_statement(subject: Subject):
    """The framework, the owner (`owner_id`: a branch, or a member with their branch) and the owner's assessment
    of the year (`year_id`), if any: one row, none when the owner does not exist."""
    if subject == Subject.BRANCH:
        owner, own = Branch, and_(Assessment.branch_id == Branch.id, Assessment.member_id.is_(None))
    else:
        owner, own = User, Assessment.member_id == User.id
    return (select(Framework, owner, Assessment).select_from(Framework)
            .join(owner, owner.id == bindparam("owner_id"))
            .outerjoin(Assessment, and_(Assessment.year_id == bindparam("year_id"), own))
            .where(Framework.subject == subject))


def target_for(subject: Subject, owner_id: int, year: CampaignYear) -> Target:
    """The branch (owner_id = branch id) or member (owner_id = user id) checklist of a year. 404 if unknown.
    One statement: the framework, the owner (a member with their branch) and the assessment if there is one."""
    row = db.session.execute(_target_statement(subject), {"owner_id": owner_id, "year_id": year.id}).first()
    if row is None:  # no such branch or person (or no framework)
        raise NotFound()
    framework, found, assessment = row
    if subject == Subject.BRANCH:
        return Target(year=year, branch=found, member=None, framework=framework, assessment=assessment)
    if found.branch_id is None:
        raise NotFound()
    return Target(year=year, branch=found.branch, member=found, framework=framework, assessment=assessment)


# --- reading the checklist -------------------------------------------------------------------------------

class ItemAsRead(NamedTuple):
    """An item of a checklist as its items' statement reads it: the columns the checklist and a tick use, as plain
    values (read-only; 21 ORM objects with their identity map and expiry cost six times as much to load)."""

    id: int
    criterion_id: int
    year_id: int | None
    position: int
    text: str
    weight: float
    valid_from: int | None
    retired_from: int | None


@dataclass
class Row:
    item: ItemAsRead
    text: str  # the wording answered, or while unanswered the wording valid in the year (`items.wordings_in`)
    number: str = ""  # "2.3": criterion 2, its third item (theme items after the built-in ones)
    result: Result = Result.NOT_ASSESSED
    note: str = ""
    note_version: int = 0
    updated_by: str = ""
    updated_at: datetime | None = None
    evidence: list[Evidence] = field(default_factory=list)
    retired: bool = False  # no longer asked this year: kept because this checklist answered it

    @property
    def needs_support(self) -> bool:
        """达标 with neither a note nor evidence: the claim has nothing behind it."""
        return self.result == Result.MET and not self.note.strip() and not self.evidence


@dataclass
class Section:
    criterion: Criterion
    rows: list[Row]
    tally: progress.Tally


@dataclass
class Checklist:
    target: Target
    sections: list[Section]
    overall: progress.Tally
    events: list[AssessmentEvent]
    reviews: list[Review]

    def section_of(self, item_id: int) -> Section:
        return next(s for s in self.sections if any(r.item.id == item_id for r in s.rows))

    def row_of(self, item_id: int) -> Row:
        return next(r for s in self.sections for r in s.rows if r.item.id == item_id)


class Answer(NamedTuple):
    """An item's saved answer as the checklist's items were read with it (`Target.answers`)."""

    id: int
    result: Result
    note: str
    note_version: int
    files: int  # evidence files


_CRITERION_COLUMNS = (Criterion.id, Criterion.code, Criterion.framework_id, Criterion.position, Criterion.title,
                      Criterion.title_en, Criterion.official_text, Criterion.weight)
_ITEM_COLUMNS = (Item.id, Item.criterion_id, Item.year_id, Item.position, Item.text, Item.weight, Item.valid_from,
                 Item.retired_from)


@cache
def _items_statement():
    """The checklist's (criterion, item) rows in the year's order, as columns (`_CRITERION_COLUMNS`,
    `_ITEM_COLUMNS`), each with its saved answer's id, result, note, note version and number of evidence files
    (NULL while unanswered) and the year's kept name of the criterion (`kept_criterion_columns`), of the framework
    `framework_id`, the assessment `assessment_id` and the year `year_id` (number `year`)."""
    year_id = bindparam("year_id", type_=Integer)
    files = (select(func.count(Evidence.id)).where(Evidence.item_result_id == ItemResult.id).correlate(ItemResult)
             .scalar_subquery())
    stmt = (
        select(*_CRITERION_COLUMNS, *_ITEM_COLUMNS, ItemResult.id, ItemResult.result, ItemResult.note,
               ItemResult.note_version, files, *kept_criterion_columns())
        .join(Item, Item.criterion_id == Criterion.id)
        .outerjoin(ItemResult, and_(ItemResult.item_id == Item.id,
                                    ItemResult.assessment_id == bindparam("assessment_id", type_=Integer)))
        .where(Criterion.framework_id == bindparam("framework_id", type_=Integer),
               in_checklist(year_id, bindparam("year", type_=Integer), ItemResult.id.isnot(None)))
    )
    return in_year_order(stmt, year_id)


def _applicable_items(target: Target) -> tuple[list, dict[int, Answer]]:
    """Criteria and items the checklist holds (`items.in_checklist`: valid in the year, or answered by it), as
    (`items.CriterionAsShown`, `ItemAsRead`) pairs in the order shown, and the answers saved ({item id: Answer}).
    One statement: a finished year's kept criterion names come with it; its rows as the connection gives them
    (`reads.core_rows`: the ORM's result machinery cost as much as SQLite's work)."""
    rows = core_rows(_items_statement(), {
        "assessment_id": target.assessment.id if target.assessment else -1, "framework_id": target.framework.id,
        "year_id": target.year.id, "year": target.year.year}).all()
    n_criterion, n_item = len(_CRITERION_COLUMNS), len(_ITEM_COLUMNS)
    criteria: dict[int, CriterionAsShown] = {}
    kept: dict[int, tuple] = {}
    pairs, answers = [], {}
    for row in rows:
        criterion = criteria.get(row[0])
        if criterion is None:
            criterion = criteria[row[0]] = CriterionAsShown(*row[:n_criterion])
        item = ItemAsRead(*row[n_criterion:n_criterion + n_item])
        saved = row[n_criterion + n_item:n_criterion + n_item + 5]
        if saved[0] is not None:
            answers[item.id] = Answer(*saved)
        if row[-4] is not None:  # a finished year shows its criteria with the names and in the order it had
            kept[row[-4]] = tuple(row[-3:])
        pairs.append((criterion, item))
    shown = criteria_as_kept(list(criteria.values()), kept)
    place = {c.id: (n, c) for n, c in enumerate(shown)}
    pairs = sorted(((place[c.id][1], item) for c, item in pairs), key=lambda pair: place[pair[0].id][0])
    return pairs, answers


def _all_pairs(target: Target) -> list:
    """Every (criterion, item) pair of the checklist, read once per target (see `Target.pairs`): plain values,
    which a commit or a rollback does not expire (an answer never changes which items a checklist holds). Read
    again (one statement) with the answers when a change forgot them (`set_note`'s commit): the answers then read
    are what the next change in the new transaction starts from (`_known_answer`), e.g. the result sent with it."""
    if target.pairs is None or target.answers is None:
        target.pairs, target.answers = _applicable_items(target)
        target.answers_read_in = db.session().get_transaction()
    return target.pairs


_UNKNOWN = object()  # `_known_answer`: not known in this transaction


def _known_answer(target: Target, item_id: int):
    """The item's saved answer (an Answer, or None: never answered) as `_all_pairs` read it, when that read is what
    a change starts from: made in this transaction, on SQLite, where a writing request's transaction holds the
    write lock from its first statement (database.begins_immediate), so nobody can have changed it since.
    Else _UNKNOWN: read it (locked) again."""
    if (target.answers is None or target.answers_read_in is None
            or target.answers_read_in is not db.session().get_transaction() or not begins_immediate(db.session)):
        return _UNKNOWN
    return target.answers.get(item_id)


def load(target: Target, only_item_id: int | None = None) -> Checklist:
    """Everything the checklist page shows, in a fixed number of queries.

    With `only_item_id` the sections hold just that item (its number still counts every item), while the
    tallies still cover the whole checklist: after a tick, what it wrote and read (`Target.answered`)."""
    answered = target.answered
    if only_item_id is not None and answered is not None and answered.sections[0].rows[0].item.id == only_item_id:
        return answered
    all_pairs = _all_pairs(target)
    numbers = item_numbers(all_pairs)
    pairs = [pair for pair in all_pairs if only_item_id is None or pair[1].id == only_item_id]
    results: dict[int, tuple[ItemResult, str]] = {}
    evidence: dict[int, list[Evidence]] = {}
    events: list[AssessmentEvent] = []
    reviews: list[Review] = []
    tallies: dict[int, progress.Tally] = {}
    if target.assessment is not None:
        aid = target.assessment.id
        for result, name, ev in db.session.execute(_answers_statement(only_item_id is not None),
                                                   {"assessment_id": aid, "item_id": only_item_id}):
            results[result.item_id] = (result, name or "")
            if ev is not None:
                evidence.setdefault(result.item_id, []).append(ev)
        tallies = progress.tallies([aid])[aid]
        if only_item_id is None:
            events = list(db.session.scalars(
                select(AssessmentEvent).where(AssessmentEvent.assessment_id == aid)
                .options(_load_actor()).order_by(AssessmentEvent.at.desc(), AssessmentEvent.id.desc())))
            reviews = list(db.session.scalars(
                select(Review).where(Review.assessment_id == aid).options(_load_reviewer())
                .order_by(Review.created_at.desc())))
    else:
        tallies = _blank_tallies(target)

    # An item left unanswered: the wording valid in the checklist's year (a finished year keeps its own).
    wordings = wordings_in(target.year, [item.id for _c, item in pairs if item.id not in results])
    sections: dict[int, Section] = {}
    for criterion, item in pairs:
        section = sections.get(criterion.id)
        if section is None:
            section = sections[criterion.id] = Section(criterion, [], tallies.get(criterion.id, progress.Tally()))
        saved = results.get(item.id)
        if saved:
            result, name = saved
            row = Row(item=item, text=result.item_text, number=numbers[item.id], result=result.result,
                      note=result.note, note_version=result.note_version, updated_by=name, updated_at=result.updated_at,
                      evidence=evidence.get(item.id, []), retired=retired_in(item, target.year.year))
        else:
            row = Row(item=item, text=wordings.get(item.id, item.text), number=numbers[item.id])
        section.rows.append(row)
    overall = progress.overall(tallies)
    return Checklist(target=target, sections=list(sections.values()), overall=overall, events=events,
                     reviews=reviews)


@cache
def _answers_statement(one_item: bool):
    """The answers of the assessment `assessment_id` (`one_item`: of the item `item_id` only) with who last changed
    them and their evidence files, a row per file, in the order they were uploaded: one statement."""
    stmt = (select(ItemResult, User.display_name, Evidence).outerjoin(User, User.id == ItemResult.updated_by_id)
            .outerjoin(Evidence, Evidence.item_result_id == ItemResult.id)
            .where(ItemResult.assessment_id == bindparam("assessment_id"))
            .order_by(Evidence.uploaded_at, Evidence.id))
    return stmt.where(ItemResult.item_id == bindparam("item_id")) if one_item else stmt


def _blank_tallies(target: Target) -> dict[int, progress.Tally]:
    """Before the first answer, every applicable item counts as not assessed (one GROUP BY query)."""
    from sqlalchemy import func

    stmt = (select(Criterion.id, func.count(Item.id)).join(Item, Item.criterion_id == Criterion.id)
            .where(Criterion.framework_id == target.framework.id, in_checklist(target.year.id, target.year.year))
            .group_by(Criterion.id))
    return {cid: progress.Tally(total=int(n)) for cid, n in db.session.execute(stmt)}


def _load_actor():
    from sqlalchemy.orm import joinedload

    return joinedload(AssessmentEvent.actor)


def _load_reviewer():
    from sqlalchemy.orm import joinedload

    return joinedload(Review.reviewer)


# --- guards ---------------------------------------------------------------------------------------------

def _ensure_writable_year(target: Target) -> None:
    if not target.is_current_year:
        raise Conflict(str(_l("%(year)s is a past campaign year; its checklists are read-only.",
                              year=target.year.year)))


def _ensure_editable(target: Target) -> None:
    _ensure_writable_year(target)
    if target.assessment is not None and target.assessment.status not in EDITABLE:
        status = target.assessment.status
        if status == AssessmentStatus.SUBMITTED:
            message = _l("This self-assessment has been submitted and is locked until a leader reviews it "
                         "or returns it.")
        else:
            message = _l("This self-assessment has been reviewed and is closed.")
        raise Conflict(str(message))


def _item_in(target: Target, item_id: int) -> ItemAsRead:
    return _criterion_and_item(target, item_id)[1]


def _criterion_and_item(target: Target, item_id: int) -> tuple[CriterionAsShown, ItemAsRead]:
    """The item of the checklist and its criterion (404 when the checklist does not hold it). Every pair is
    read (and kept on the target) so that the answer's page shows the row without reading them again."""
    found = next((pair for pair in _all_pairs(target) if pair[1].id == item_id), None)
    if found is None:
        raise NotFound(str(_l("This item is not part of this checklist.")))
    return found


def _lock_assessment(target: Target) -> Assessment:
    """The assessment row, created on first write (concurrent first writes create it once), locked for
    this transaction so that workflow changes and answers do not interleave."""
    target.answered = None  # a change: what an earlier one answered is no longer what the checklist shows
    if target.assessment is None:
        values = {"year_id": target.year.id, "framework_id": target.framework.id, "subject": target.subject,
                  "branch_id": target.branch.id, "member_id": target.member.id if target.member else None,
                  "status": AssessmentStatus.DRAFT, "return_reason": "", "created_at": utcnow(),
                  "updated_at": utcnow()}
        dialect = db.session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Assessment).values(**values)
        created = db.session.execute(insert.on_conflict_do_nothing().returning(Assessment.id)).scalar()
        if created is not None:
            tallies.mark(created)  # a new checklist: its rows (every item not assessed) come with it
    elif begins_immediate(db.session):
        # The transaction that read the row (target_for, in this request) holds SQLite's write lock: the row
        # is current and nobody else can change it before this transaction ends.
        return target.assessment
    stmt = select(Assessment).where(Assessment.year_id == target.year.id)
    if target.member:
        stmt = stmt.where(Assessment.member_id == target.member.id)
    else:
        stmt = stmt.where(Assessment.branch_id == target.branch.id, Assessment.member_id.is_(None))
    assessment = db.session.scalar(stmt.with_for_update().execution_options(populate_existing=True))
    target.assessment = assessment
    return assessment


def _upsert_result(assessment: Assessment, item: ItemAsRead, actor: User, values: dict) -> None:
    connection = db.session.connection()
    row = {"assessment_id": assessment.id, "item_id": item.id, "result": Result.NOT_ASSESSED, "note": "",
           "item_text": item.text, "note_version": 0, "updated_by_id": actor.id, "updated_at": utcnow()}
    row.update(values)
    changes = tuple(k for k in row if k in values or k in ("updated_by_id", "updated_at"))
    # excluded.<column> is the value given in `row`: SET column = excluded.column as the value itself; the
    # statement is built once per list of changed columns, the row its parameters
    connection.execute(upsert_row(connection.dialect.name, ItemResult, ("assessment_id", "item_id"), changes), row)
    tallies.mark(assessment.id)  # the kept figures follow in this transaction


@cache
def _touch_statement():
    """UPDATE of one assessment's time (`assessment_id`, `now`), built once (`_touch`)."""
    table = Assessment.__table__
    return update(table).where(table.c.id == bindparam("assessment_id")).values(updated_at=bindparam("now"))


def _touch(assessment: Assessment, now: datetime | None = None) -> None:
    """The assessment changed now: its `updated_at` written at once by one UPDATE built once, and taken by the
    loaded object as its saved value (not left for the ORM's flush at the commit: with the audit event, that unit
    of work cost ~0.4 ms of a tick). `now`: the time of the answer it comes with (UTC, naive), else now. The kept
    figures follow as for that answer (`tallies.mark`)."""
    now = now or utcnow()
    db.session.connection().execute(_touch_statement(), {"assessment_id": assessment.id, "now": now})
    set_committed_value(assessment, "updated_at", now)


def _existing(assessment: Assessment, item: ItemAsRead) -> ItemResult | None:
    return db.session.scalar(
        select(ItemResult).where(ItemResult.assessment_id == assessment.id, ItemResult.item_id == item.id)
        .with_for_update().execution_options(populate_existing=True))


# --- answering -------------------------------------------------------------------------------------------

def parse_result(value: str | None) -> Result:
    try:
        return Result(value)
    except ValueError:
        message = fill(_l("“%(value)s” is not a result. Choose one of the buttons."), value=(value or "")[:40])
        raise Invalid(message, {"result": message}) from None


def set_item_result(actor: User, target: Target, item_id: int, value: str | None) -> None:
    """Set (not toggle) the result of one item. Idempotent; audited when it changes. What the answer to the tick
    shows (`load(target, only_item_id=item_id)`) is kept on the target, from what the change read and wrote."""
    result = parse_result(value)
    _ensure_editable(target)
    criterion, item = _criterion_and_item(target, item_id)
    creates = target.assessment is None
    assessment = _lock_assessment(target)
    _ensure_editable(target)  # the row may have been submitted meanwhile
    known = _known_answer(target, item.id)
    if known is _UNKNOWN:
        known = _existing(assessment, item)
    old = known.result if known else Result.NOT_ASSESSED
    if old == result:
        if creates:
            db.session.rollback()  # idempotent: nothing changes, not even the assessment's creation
        else:
            _commit_keeping_loaded()  # nothing written: the transaction ends, what it read stays loaded
        return
    now = utcnow()
    _upsert_result(assessment, item, actor, {"result": result, "item_text": item.text, "updated_at": now})
    _touch(assessment, now)
    number = item_numbers(_all_pairs(target))[item.id]
    audit.record_now(actor, "checklist.set_result", assessment, branch_id=assessment.branch_id,
                     before={"item_id": item.id, "result": old.value},
                     after={"item_id": item.id, "result": result.value, "item": _item_words(number, item),
                            "of": f"{target.year.year} · {_whose(target)}"})
    if known is None or (isinstance(known, Answer) and not known.files):  # (evidence files: read them after)
        row = Row(item=item, text=item.text, number=number, result=result,
                  note=known.note if known else "", note_version=known.note_version if known else 0,
                  updated_by=actor.display_name, updated_at=now, retired=retired_in(item, target.year.year))
        target.answered = _answered(target, criterion, row, tallies.written(assessment.id))
    _commit_keeping_loaded()


def _answered(target: Target, criterion, row: Row, tallies: dict[int, progress.Tally]) -> Checklist:
    """The checklist as `load(target, only_item_id=…)` gives it after a change of one row: that row, as written,
    and the tallies read after the change in its transaction."""
    section = Section(criterion, [row], tallies.get(criterion.id, progress.Tally()))
    return Checklist(target=target, sections=[section], overall=progress.overall(tallies), events=[], reviews=[])


def _commit_keeping_loaded() -> None:
    """Commit without expiring what this transaction loaded (the person, the year, the branch, the assessment
    as just written): the answer to a tick shows them again, and reloading them cost six statements a tick."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def set_note(actor: User, target: Target, item_id: int, note: str | None,
             expected_version: int | str | None) -> None:
    """Replace the note if nobody changed it since `expected_version` (the note's version the person's row
    was loaded with; None or 0: a note never saved); otherwise Conflict (409) with the current text."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        message = _l("A note may have at most %(n)s characters.", n=NOTE_MAX)
        raise Invalid(str(message), {"note": message})
    try:
        expected = int(expected_version or 0)
    except ValueError:
        raise Invalid(str(_l("The form is out of date; reload the page.")), {}) from None
    _ensure_editable(target)
    item = _item_in(target, item_id)
    if _saved_note(target, item) == note:
        return  # already saved as typed (e.g. sent again with a result click), whatever the version
    assessment = _lock_assessment(target)
    _ensure_editable(target)
    current = _existing(assessment, item)
    current_version = current.note_version if current else 0
    old_note = current.note if current else ""
    if old_note == note:
        # Already saved as typed (e.g. the same text sent again with a result click): nothing to do,
        # whatever version the form carried.
        db.session.rollback()
        return
    if current_version != expected:
        db.session.rollback()
        # Another window of the same person is as likely as someone else (found by the fresh-eyes check).
        raise Conflict(str(_l("This note was changed meanwhile, in another window or by someone else. Its text "
                              "is shown below; copy what you need and save again.")),
                       current={"note": current.note if current else "", "version": current_version})
    if current is None:
        _upsert_result(assessment, item, actor, {"note": note, "note_version": 1})
    else:
        # Compare-and-set on the version, so a racing writer cannot slip in between.
        changed = db.session.execute(
            update(ItemResult).where(ItemResult.id == current.id, ItemResult.note_version == expected)
            .values(note=note, note_version=expected + 1, updated_by_id=actor.id, updated_at=utcnow()))
        if changed.rowcount != 1:
            db.session.rollback()
            raise Conflict(str(_l("This note was changed meanwhile, in another window or by someone else. "
                                  "Reload the page.")))
        tallies.mark(assessment.id)  # the answer's time moved: the kept last answer follows
    _touch(assessment)
    audit.record_now(actor, "checklist.set_note", assessment, branch_id=assessment.branch_id,
                     before={"item_id": item.id, "note": old_note}, after={"item_id": item.id, "note": note})
    db.session.commit()
    target.answers = None  # read again by the next change (the result sent with the note), in its transaction


def answer_item(actor: User, target: Target, item_id: int, result: str | None = None,
                upload: FileStorage | None | bool = False, note: str | None = None,
                note_version: int | str | None = None) -> None:
    """One click on an item: its result, or an uploaded file (`upload`: the file, None when the upload
    form came without one; False for a result click), and the note typed beside it (when sent),
    so that what was typed is saved with the click rather than lost.

    The note is saved first, then the result or the file; each is its own audited change. A note that
    someone else changed meanwhile does not stop the click: the result or file is saved and then the
    note's Conflict (with the other person's text) is raised. Invalid is raised as it comes."""
    note_conflict = None
    if note is not None:
        try:
            set_note(actor, target, item_id, note, note_version)
        except Conflict as error:
            if error.current is None:  # locked or read-only: the click cannot be saved either
                raise
            note_conflict = error
    if upload is not False:
        add_evidence(actor, target, item_id, upload)
    elif result is not None:
        set_item_result(actor, target, item_id, result)
    if note_conflict is not None:
        raise note_conflict


def _saved_note(target: Target, item: ItemAsRead) -> str:
    if target.assessment is None:
        return ""
    known = _known_answer(target, item.id)
    if known is not _UNKNOWN:
        return known.note if known else ""
    saved = db.session.scalar(select(ItemResult.note).where(ItemResult.assessment_id == target.assessment.id,
                                                            ItemResult.item_id == item.id))
    return saved or ""


def add_evidence(actor: User, target: Target, item_id: int, file: FileStorage | None) -> Evidence:
    _ensure_editable(target)
    item = _item_in(target, item_id)
    stored = uploads.store(file, EVIDENCE_KIND, uploads.EVIDENCE_TYPES)  # 413 / 422 before anything is written
    try:
        assessment = _lock_assessment(target)
        _ensure_editable(target)
        result = _existing(assessment, item)
        if result is None:
            _upsert_result(assessment, item, actor, {})
            result = _existing(assessment, item)
        evidence = Evidence(item_result_id=result.id, original_name=stored.original_name,
                            stored_name=stored.stored_name, content_type=stored.content_type, size=stored.size,
                            uploaded_by_id=actor.id)
        db.session.add(evidence)
        assessment.updated_at = utcnow()
        db.session.flush()
        audit.record(actor, "checklist.add_evidence", assessment, branch_id=assessment.branch_id,
                     after={"item_id": item.id, "evidence_id": evidence.id, "name": stored.original_name,
                            "size": stored.size})
        db.session.commit()
    except Exception:
        db.session.rollback()
        uploads.remove(EVIDENCE_KIND, stored.stored_name)  # nothing half-saved
        raise
    return evidence


def evidence_with_target(evidence_id: int) -> tuple[Evidence, Target, int]:
    row = db.session.execute(
        select(Evidence, ItemResult.item_id, Assessment)
        .join(ItemResult, ItemResult.id == Evidence.item_result_id)
        .join(Assessment, Assessment.id == ItemResult.assessment_id)
        .where(Evidence.id == evidence_id)).first()
    if row is None:
        raise NotFound()
    evidence, item_id, assessment = row
    year = db.session.get(CampaignYear, assessment.year_id)
    subject = assessment.subject
    target = target_for(subject, assessment.member_id if subject == Subject.MEMBER else assessment.branch_id, year)
    return evidence, target, item_id


def delete_evidence(actor: User, target: Target, evidence: Evidence, item_id: int) -> None:
    _ensure_editable(target)
    assessment = _lock_assessment(target)
    _ensure_editable(target)
    # The file goes with the row or not at all: unwritable storage refuses (503) before anything is written.
    with uploads.removing(EVIDENCE_KIND, evidence.stored_name):
        audit.record(actor, "checklist.delete_evidence", assessment, branch_id=assessment.branch_id,
                     before={"item_id": item_id, "evidence_id": evidence.id, "name": evidence.original_name})
        db.session.delete(evidence)
        assessment.updated_at = utcnow()
        db.session.commit()


# --- workflow ---------------------------------------------------------------------------------------------

def _transition(actor: User, assessment: Assessment, action: str, to: AssessmentStatus, comment: str = "",
                **recorded):
    """Move the assessment, write its visible history and the audit event (with `recorded`, e.g. a review's
    rating); returns the audit event."""
    before = assessment.status
    assessment.status = to
    assessment.updated_at = utcnow()
    db.session.add(AssessmentEvent(assessment_id=assessment.id, actor_id=actor.id, action=action,
                                   from_status=before.value, to_status=to.value, comment=comment))
    return audit.record(actor, f"checklist.{action}", assessment, branch_id=assessment.branch_id,
                        before={"status": before.value}, after={"status": to.value, "comment": comment, **recorded})


def _item_words(number: str, item: ItemAsRead) -> str:
    """An item as the audit log names it: its number as the checklist shows it (`number`: `items.item_numbers`,
    theme items after the framework's own, a finished year's kept order) and the start of its text ("1.2 坚持…")."""
    text = item.text if len(item.text) <= 40 else item.text[:40] + "…"
    return f"{number} {text}"


def _whose(target: Target) -> str:
    """Whose self-assessment, in words for a notification (notifications.whose_words)."""
    return notifications.whose_words(target.branch.name, target.member.display_name if target.member else None)


def _yours(target: Target) -> dict:
    """The notification's params that word it for the member whose own self-assessment it is."""
    return {"yours": 1} if target.member else {}


def _owners(target: Target) -> list[int]:
    """Who is told what happened to a self-assessment: the member, or the branch's secretaries."""
    if target.member:
        return [target.member.id]
    return notifications.secretaries_of(target.branch.id)


def _reviewers(target: Target) -> list[int]:
    """Who reviews it (rule "assessment.review"): the leading group for a branch and for a secretary's own,
    the branch's secretaries (but never the member themself) for a member's."""
    from ..models import Role

    if target.member is None or target.member.role == Role.SECRETARY:
        return notifications.leaders()
    return [uid for uid in notifications.secretaries_of(target.branch.id) if uid != target.member.id]


def _link(target: Target) -> str:
    if target.member:
        return path_for("checklist.member", owner_id=target.member.id, year=target.year.year)
    return path_for("checklist.branch", owner_id=target.branch.id, year=target.year.year)


def submit(actor: User, target: Target) -> None:
    _ensure_writable_year(target)
    if target.assessment is None:
        raise Invalid(str(_l("Nothing has been assessed yet.")), {})
    assessment = _lock_assessment(target)
    if assessment.status not in EDITABLE:
        raise Conflict(str(_l("This self-assessment has already been submitted.")))
    tally = progress.overall(progress.tallies([assessment.id])[assessment.id])
    if tally.assessed < tally.applicable:
        missing = tally.applicable - tally.assessed
        raise Invalid(str(_l("%(n)s items are not assessed yet. Assess every item (or mark it not applicable) "
                             "before submitting.", n=missing)), {})
    assessment.submitted_at = utcnow()
    assessment.return_reason = ""
    event = _transition(actor, assessment, "submit", AssessmentStatus.SUBMITTED)
    notifications.notify_event(event, _reviewers(target), "assessment.waiting", _link(target), what=_whose(target))
    db.session.commit()


def return_for_revision(actor: User, target: Target, reason: str | None) -> None:
    reason = (reason or "").strip()
    if not reason:
        message = _l("Say why it is returned, so that it can be put right.")
        raise Invalid(str(message), {"reason": message})
    _ensure_writable_year(target)
    assessment = _require_submitted(target)
    assessment.return_reason = reason[:NOTE_MAX]
    event = _transition(actor, assessment, "return", AssessmentStatus.RETURNED, reason[:NOTE_MAX])
    notifications.notify_event(event, _owners(target), "assessment.returned", _link(target), what=_whose(target),
                               reason=reason[:500], **_yours(target))
    db.session.commit()


def review(actor: User, target: Target, rating: str | None, comment: str | None, improvements: str | None) -> Review:
    errors = {}
    try:
        parsed = ReviewRating(rating)
    except ValueError:
        parsed = None
        errors["rating"] = _l("Choose a rating.")
    comment = (comment or "").strip()
    if not comment:
        errors["comment"] = _l("Write a comment.")
    if errors:
        raise Invalid(str(_l("The review is not complete.")), errors)
    _ensure_writable_year(target)
    assessment = _require_submitted(target)
    assessment.reviewed_at = utcnow()
    new_review = Review(assessment_id=assessment.id, year_id=assessment.year_id, reviewer_id=actor.id,
                        branch_id=assessment.branch_id, member_id=assessment.member_id, rating=parsed,
                        comment=comment[:NOTE_MAX], improvements=(improvements or "").strip()[:NOTE_MAX])
    db.session.add(new_review)
    # The audit event records every field the review writes: rating, the whole comment, required improvements.
    event = _transition(actor, assessment, "review", AssessmentStatus.REVIEWED, new_review.comment,
                        rating=parsed.value, improvements=new_review.improvements)
    notifications.notify_event(event, _owners(target), "assessment.reviewed", _link(target), what=_whose(target),
                               rating=parsed.value, **_yours(target))
    db.session.commit()
    return new_review


def _require_submitted(target: Target) -> Assessment:
    if target.assessment is None:
        raise Conflict(str(_l("This self-assessment has not been submitted.")))
    assessment = _lock_assessment(target)
    if assessment.status != AssessmentStatus.SUBMITTED:
        raise Conflict(str(_l("Only a submitted self-assessment can be reviewed or returned.")))
    return assessment


# --- the branch's members ("no member left out") ----------------------------------------------------------

@dataclass
class MemberCoverage:
    member: User
    status: AssessmentStatus | None
    tally: progress.Tally


def member_coverage(year: CampaignYear, branch: Branch) -> list[MemberCoverage]:
    """Every member of the branch with their own assessment's status and progress (constant queries)."""
    from ..models import Role

    rows = db.session.execute(
        select(User, Assessment)
        .outerjoin(Assessment, and_(Assessment.member_id == User.id, Assessment.year_id == year.id))
        .where(User.branch_id == branch.id, User.active.is_(True),
               User.role.in_([Role.MEMBER, Role.SECRETARY]))).all()
    # Those who still owe their self-assessment first, then by pinyin.
    done = (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED)
    rows.sort(key=lambda row: (row[1] is not None and row[1].status in done,
                               collation.person_key(row[0].display_name)))
    tallies = progress.overall_tallies([a.id for _, a in rows if a is not None])
    out = []
    for user, assessment in rows:
        tally = tallies[assessment.id] if assessment else progress.Tally()
        out.append(MemberCoverage(user, assessment.status if assessment else None, tally))
    return out
