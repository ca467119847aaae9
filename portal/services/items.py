"""Which items a campaign year's checklists hold, and the wording a year's answers were given against.

One rule (`in_checklist`) for every place that lists or counts a year's items: the checklist pages, the kept tallies
(services/tallies.py) and so the branch summaries, scores, grades, dashboards and exports built on them, the
pledge tags offered, the demo seed and `rebuild-figures`. An item belongs in a checklist of campaign year Y when

- it is the framework's own (asked every year) or a theme item of Y, and
- the checklist answered it (an answer is never dropped), or it is valid in Y: `valid_from` ≤ Y (or none) and
  Y < `retired_from` (or none).

So an item added to a framework already in use (valid from the current year) and an item retired from a year
leave earlier, finished years as they were. So do later changes of weights and criterion names: a finished year
keeps the weight each item was scored with (`weight_in`, KeptItemWeight) and the names and order of its criteria
(`criteria_as_in`, KeptCriterionName), kept by services/frameworks.py when they change.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, func, or_, select

from ..extensions import db
from ..models import Assessment, Item, ItemResult, KeptCriterionName, KeptItemWeight


def in_checklist(year_id, year_number, answered=None):
    """SQL truth: the item (`Item`'s columns) belongs in a checklist of the campaign year whose id and number
    are `year_id` and `year_number` (values, or columns of the query). `answered`: SQL truth that the
    checklist answered it (default: a new checklist, nothing answered)."""
    valid = and_(or_(Item.valid_from.is_(None), Item.valid_from <= year_number),
                 or_(Item.retired_from.is_(None), Item.retired_from > year_number))
    return and_(or_(Item.year_id.is_(None), Item.year_id == year_id),
                or_(false() if answered is None else answered, valid))


def answered_wordings(year_items: Iterable[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """{(year id, item id): the wording that year's answers to the item were given against} for the pairs that
    have answers (`ItemResult.item_text`); pairs without answers are left out (show the item's current wording).
    When one year's answers were given against different wordings (an edit confirmed mid-year), the wording
    most of them were given against; a tie goes to the newest answer. One query per 500 items."""
    wanted = set(year_items)
    years = sorted({year_id for year_id, _item in wanted})
    item_ids = sorted({item_id for _year, item_id in wanted})
    counts: Counter = Counter()
    newest: dict = {}
    for start in range(0, len(item_ids), 500):
        stmt = (select(Assessment.year_id, ItemResult.item_id, ItemResult.item_text, func.count(ItemResult.id),
                       func.max(ItemResult.updated_at))
                .join(Assessment, Assessment.id == ItemResult.assessment_id)
                .where(Assessment.year_id.in_(years), ItemResult.item_id.in_(item_ids[start:start + 500]))
                .group_by(Assessment.year_id, ItemResult.item_id, ItemResult.item_text))
        for year_id, item_id, text, count, at in db.session.execute(stmt):
            if (year_id, item_id) in wanted:
                counts[(year_id, item_id, text)] = int(count)
                newest[(year_id, item_id, text)] = at
    chosen: dict[tuple[int, int], tuple] = {}
    for (year_id, item_id, text), count in counts.items():
        rank = (count, newest[(year_id, item_id, text)] or datetime.min)
        key = (year_id, item_id)
        if key not in chosen or rank > chosen[key][0]:
            chosen[key] = (rank, text)
    return {key: text for key, (_rank, text) in chosen.items()}


def weight_in():
    """SQL: the item's (`Item`'s columns) weight in a campaign year: the weight that year kept when it changed
    later, else the current one. The query outer-joins `KeptItemWeight` on `kept_weight_join(year_id)`."""
    return func.coalesce(KeptItemWeight.weight, Item.weight)


def kept_weight_join(year_id):
    """The ON clause of the outer join of `KeptItemWeight` that `weight_in(year_id)` reads."""
    return and_(KeptItemWeight.item_id == Item.id, KeptItemWeight.year_id == year_id)


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
    kept = {row.criterion_id: row for row in db.session.scalars(select(KeptCriterionName).where(
        KeptCriterionName.year_id == year.id, KeptCriterionName.criterion_id.in_([c.id for c in criteria])))}
    if not kept:
        return list(criteria)
    shown = [CriterionAsShown(c.id, c.code, c.framework_id, kept[c.id].position if c.id in kept else c.position,
                              kept[c.id].title if c.id in kept else c.title,
                              kept[c.id].title_en if c.id in kept else c.title_en, c.official_text, c.weight)
             for c in criteria]
    return sorted(shown, key=lambda c: (c.position, c.id))
