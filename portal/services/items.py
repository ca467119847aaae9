"""Which items a campaign year's checklists hold, and the wording valid in a year for an item it left unanswered
(an answer keeps its own wording, `ItemResult.item_text`).

One rule (`in_checklist`) for every place that lists or counts a year's items: the checklist pages, the kept tallies
(services/tallies.py) and so the branch summaries, scores, grades, dashboards and exports built on them, the
pledge tags offered, the demo seed and `rebuild-figures`. An item belongs in a checklist of campaign year Y when

- it is the framework's own (asked every year) or a theme item of Y, and
- the checklist answered it (an answer is never dropped), or it is valid in Y: `valid_from` ≤ Y (or none) and
  Y < `retired_from` (or none).

So an item added to a framework already in use (valid from the current year) and an item retired from a year
leave earlier, finished years as they were. So do later changes of weights and criterion names: a finished year
keeps the weight each item was scored with (`weight_in`, KeptItemWeight), the order of its items (`position_in`,
KeptItemPosition) and the names and order of its criteria (`criteria_as_in`, KeptCriterionName), kept by
services/frameworks.py when they change. Items are numbered as shown ("criterion.item", `item_numbers`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Integer, and_, bindparam, false, func, or_, select

from ..extensions import db
from ..models import (
    Assessment,
    AuditEvent,
    CampaignYear,
    Criterion,
    Item,
    ItemResult,
    KeptCriterionName,
    KeptItemPosition,
    KeptItemWeight,
)
from .reads import core_rows


def in_checklist(year_id, year_number, answered=None):
    """SQL truth: the item (`Item`'s columns) belongs in a checklist of the campaign year whose id and number
    are `year_id` and `year_number` (values, or columns of the query). `answered`: SQL truth that the
    checklist answered it (default: a new checklist, nothing answered)."""
    valid = and_(or_(Item.valid_from.is_(None), Item.valid_from <= year_number),
                 or_(Item.retired_from.is_(None), Item.retired_from > year_number))
    return and_(or_(Item.year_id.is_(None), Item.year_id == year_id),
                or_(false() if answered is None else answered, valid))


def weight_in():
    """SQL: the item's (`Item`'s columns) weight in a campaign year: the weight that year kept when it changed
    later, else the current one. The query outer-joins `KeptItemWeight` on `kept_weight_join(year_id)`."""
    return func.coalesce(KeptItemWeight.weight, Item.weight)


def kept_weight_join(year_id):
    """The ON clause of the outer join of `KeptItemWeight` that `weight_in(year_id)` reads."""
    return and_(KeptItemWeight.item_id == Item.id, KeptItemWeight.year_id == year_id)


def position_in():
    """SQL: the item's (`Item`'s columns) place among its criterion's items in a campaign year: the place that
    year kept when the items were reordered later, else the current one. The query outer-joins
    `KeptItemPosition` on `kept_position_join(year_id)`."""
    return func.coalesce(KeptItemPosition.position, Item.position)


def kept_position_join(year_id):
    """The ON clause of the outer join of `KeptItemPosition` that `position_in()` reads."""
    return and_(KeptItemPosition.item_id == Item.id, KeptItemPosition.year_id == year_id)


def in_year_order(stmt, year_id):
    """`stmt`, a select over `Item` joined to its `Criterion`, with the items in the order a checklist of the
    campaign year `year_id` (a value, or a column of the query) shows them: criteria in the place that year kept
    (KeptCriterionName, as `criteria_as_in`), else their current one; in each, the framework's own items before
    the theme items, each in its kept place (`position_in`), else its current one. Every list of a year's items
    orders them with it: checklists, the dashboard's grid, pledge tags, the demo seed. Adds two outer joins;
    `criterion_title_in()` reads the second."""
    return (stmt.outerjoin(KeptItemPosition, kept_position_join(year_id))
            .outerjoin(KeptCriterionName, and_(KeptCriterionName.criterion_id == Criterion.id,
                                               KeptCriterionName.year_id == year_id))
            .order_by(func.coalesce(KeptCriterionName.position, Criterion.position), Criterion.id,
                      Item.year_id.isnot(None), position_in(), Item.id))


def criterion_title_in():
    """SQL: the criterion's name in the year of a query ordered by `in_year_order`: the name a finished year
    kept when it was renamed later, else the current one."""
    return func.coalesce(KeptCriterionName.title, Criterion.title)


def criterion_title_en_in():
    """SQL: `criterion_title_in`'s English title (labels.title_in_language picks one of the two for the request)."""
    return func.coalesce(KeptCriterionName.title_en, Criterion.title_en)


def item_numbers(pairs: Iterable) -> dict[int, str]:
    """(criterion, item) pairs in the order shown → {item id: "criterion.item" number}, e.g. "1.1", "1.2", "2.1":
    the criterion's place among those shown and the item's among its criterion's (theme items after the
    framework's own). The checklist and the exports number items with it."""
    numbers: dict[int, str] = {}
    criterion_index: dict[int, int] = {}
    per_criterion: dict[int, int] = {}
    for criterion, item in pairs:
        c = criterion_index.setdefault(criterion.id, len(criterion_index) + 1)
        per_criterion[criterion.id] = per_criterion.get(criterion.id, 0) + 1
        numbers[item.id] = f"{c}.{per_criterion[criterion.id]}"
    return numbers


@dataclass(frozen=True)
class CriterionAsShown:
    """A criterion as a finished campaign year showed it (its kept name and place); read-only."""

    id: int
    code: str
    framework_id: int
    position: int
    title: str
    title_en: str
    official_text: str
    weight: float


def criteria_as_in(year, criteria: list) -> list:
    """`criteria` (Criterion rows) as the campaign year `year` shows them: for a finished year whose criteria were
    renamed or reordered later, CriterionAsShown copies with the kept names, in the kept order; otherwise the
    rows themselves. One query."""
    if year is None or not criteria:
        return list(criteria)
    kept = {criterion_id: (position, title, title_en) for criterion_id, position, title, title_en in core_rows(
        _kept_names_statement(), {"year_id": year.id, "ids": [c.id for c in criteria]})}
    return criteria_as_kept(criteria, kept)


@cache
def _kept_names_statement():
    """`criteria_as_in`'s statement, built once (every dashboard and branch page runs it): the kept names of the
    criteria `ids` (an expanding parameter) in the year `year_id`."""
    return select(*kept_criterion_columns()).where(
        KeptCriterionName.year_id == bindparam("year_id", type_=Integer),
        KeptCriterionName.criterion_id.in_(bindparam("ids", expanding=True)))


def kept_criterion_columns():
    """The columns of `KeptCriterionName` that `criteria_as_kept` reads, for a query ordered by `in_year_order`
    (which outer-joins it): a query that selects them needs no second query of `criteria_as_in`."""
    return (KeptCriterionName.criterion_id, KeptCriterionName.position, KeptCriterionName.title,
            KeptCriterionName.title_en)


def criteria_as_kept(criteria: list, kept: dict[int, tuple]) -> list:
    """`criteria` as `criteria_as_in` shows them, given what the year kept: {criterion id: (position, title,
    title_en)} of its `KeptCriterionName` rows (none: the rows themselves)."""
    if not kept:
        return list(criteria)
    shown = [CriterionAsShown(c.id, c.code, c.framework_id, kept[c.id][0] if c.id in kept else c.position,
                              kept[c.id][1] if c.id in kept else c.title,
                              kept[c.id][2] if c.id in kept else c.title_en, c.official_text, c.weight)
             for c in criteria]
    return sorted(shown, key=lambda c: (c.position, c.id))


def retired_in(item: Item, year_number: int) -> bool:
    """Whether `item` is no longer asked in campaign year `year_number` (`retired_from` ≤ it): a checklist of
    that year holds it only because it answered it (`in_checklist`), and shows it marked as retired."""
    return item.retired_from is not None and item.retired_from <= year_number


def _current_at(switches: list[tuple[datetime, int | None, int | None]], now: int | None, at: datetime) -> int | None:
    """The campaign year (number) that was current at `at`, from the years made current (at, was, became) in order:
    the last one made current by then, else the one current before the first switch after, else today's."""
    made = [became for when, _was, became in switches if when <= at]
    if made:
        return made[-1]
    later = [was for when, was, _became in switches if when > at]
    return later[0] if later and later[0] is not None else now


def wordings_in(year: CampaignYear, item_ids: Iterable[int]) -> dict[int, str]:
    """{item id: the wording valid in `year`} for the items among `item_ids` whose wording has changed since: what
    a checklist of that year shows for an item it left unanswered (an answer shows its own wording,
    `ItemResult.item_text`). Left out: the current wording holds (always, for a year still current or to come).

    A wording edit takes effect from the year current when it is made, as additions and retirements do, so a
    finished year keeps the wording in force when it ended: the wording before the first edit made once a later
    year was current (the audit log of the editor's edits; the year current at each edit from the log of years
    made current). An item without an edit in that log (an import's edits are audited as one event) keeps the
    wording of that year's newest answer to it, if any. Three queries."""
    from .campaign import current_year, is_past

    ids = sorted(set(item_ids))
    if not ids or not is_past(year):
        return {}
    now = current_year()
    switches = [(at, (before or {}).get("current"), (after or {}).get("current")) for at, before, after in
                db.session.execute(select(AuditEvent.at, AuditEvent.before, AuditEvent.after)
                                   .where(AuditEvent.action == "campaign_year.make_current")
                                   .order_by(AuditEvent.at, AuditEvent.id))]
    wordings: dict[int, str] = {}
    edited: set[int] = set()
    for item_id, at, before, after in db.session.execute(
            select(AuditEvent.object_id, AuditEvent.at, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.action == "framework.item_update", AuditEvent.object_type == "item",
                   AuditEvent.object_id.in_(ids)).order_by(AuditEvent.at, AuditEvent.id)):
        was, became = (before or {}).get("text"), (after or {}).get("text")
        if was is None or was == became:
            continue
        edited.add(item_id)
        made_in = _current_at(switches, now.year if now else None, at)
        if item_id not in wordings and made_in is not None and made_in > year.year:
            wordings[item_id] = was
    unlogged = [item_id for item_id in ids if item_id not in edited]
    if unlogged:
        newest = (select(ItemResult.item_id, func.max(ItemResult.updated_at).label("at"))
                  .join(Assessment, Assessment.id == ItemResult.assessment_id)
                  .where(Assessment.year_id == year.id, ItemResult.item_id.in_(unlogged))
                  .group_by(ItemResult.item_id).subquery())
        wordings.update(db.session.execute(
            select(ItemResult.item_id, ItemResult.item_text)
            .join(Assessment, Assessment.id == ItemResult.assessment_id)
            .join(newest, and_(newest.c.item_id == ItemResult.item_id, newest.c.at == ItemResult.updated_at))
            .where(Assessment.year_id == year.id)).all())
    return wordings
