"""Progress (activity) and score (verdict) of assessments, aggregated in SQL.

progress = items assessed / applicable items; score = weighted results (met 1, partly 0.5,
not met 0) over the items assessed, with 不适用 (n/a) left out of both.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, case, func, select

from ..extensions import db
from ..models import Assessment, CampaignYear, Criterion, Item, ItemResult, KeptItemWeight, Result
from .items import in_checklist, kept_weight_join, weight_in


def progress_of(total: int, na: int, assessed: int) -> float:
    """`Tally.progress` of counts (items, of them n/a, of them met, partly or not met): 0..100, rounded to 0.1;
    everything n/a counts as done. A function of plain numbers, for long exports that make no Tally."""
    if total == 0:
        return 0.0
    if total == na:
        return 100.0
    return round(100.0 * assessed / (total - na), 1)


def score_of(weight_scored: float, weight_earned: float) -> float | None:
    """`Tally.score` of the weights scored and earned: 0..100, rounded to 0.1; None while nothing is assessed."""
    if weight_scored <= 0:
        return None
    return round(100.0 * weight_earned / weight_scored, 1)


class Tally(NamedTuple):
    """The seven counts of a checklist (or one criterion of it) and the figures they give. An immutable tuple: made
    by the hundred on long pages, so it costs what a tuple costs; `progress` and `score` are worked out when read
    (a few operations, no cache)."""

    total: int = 0
    met: int = 0
    partly: int = 0
    not_met: int = 0
    na: int = 0
    weight_scored: float = 0.0  # sum of weights of items with met/partly/not met
    weight_earned: float = 0.0  # sum of weight × result value

    @property
    def assessed(self) -> int:
        return self.met + self.partly + self.not_met

    @property
    def applicable(self) -> int:
        return self.total - self.na

    @property
    def progress(self) -> float:
        """0..100. Everything n/a counts as done: nothing is left to assess."""
        return progress_of(self.total, self.na, self.met + self.partly + self.not_met)

    @property
    def score(self) -> float | None:
        """0..100, or None while nothing is assessed."""
        return score_of(self.weight_scored, self.weight_earned)

    def __add__(self, other: Tally) -> Tally:  # type: ignore[override]  # element by element, not concatenation
        return Tally(*(a + b for a, b in zip(self, other, strict=True)))


def tally_aggregates(item_id, result, weight) -> list:
    """SQL of the seven Tally aggregates (items, met, partly, not met, n/a, weight scored, weight earned), in
    `tally_of` order, over rows of one item each: `item_id` (counted), `result` (a Result value, or NULL for an
    item not answered) and `weight` (the item's weight in the assessment's year). `tally_query` reads them from
    the item results; a bulk load may compute them from the answers it writes (services/demo.py)."""
    def count(value: Result):
        return func.coalesce(func.sum(case((result == value, 1), else_=0)), 0)

    weight_scored = func.coalesce(func.sum(case(
        (result.in_([Result.MET, Result.PARTLY, Result.NOT_MET]), weight), else_=0.0)), 0.0)
    weight_earned = func.coalesce(func.sum(case(
        (result == Result.MET, weight), (result == Result.PARTLY, weight * 0.5), else_=0.0)), 0.0)
    return [func.count(item_id), count(Result.MET), count(Result.PARTLY), count(Result.NOT_MET),
            count(Result.NOT_APPLICABLE), weight_scored, weight_earned]


def tally_query(*group_by, extra_columns=()):
    """SELECT group_by..., the Tally aggregates, extra_columns... over every item of the assessments the caller
    filters that their checklists hold (`items.in_checklist`), grouped by `group_by`. One GROUP BY, whatever the
    number of rows. Weights are those of the assessment's year (`items.weight_in`: a finished year keeps its own)."""
    return (
        select(*group_by, *tally_aggregates(Item.id, ItemResult.result, weight_in()), *extra_columns)
        .select_from(Assessment)
        .join(CampaignYear, CampaignYear.id == Assessment.year_id)
        .join(Criterion, Criterion.framework_id == Assessment.framework_id)
        .join(Item, Item.criterion_id == Criterion.id)
        .outerjoin(ItemResult, and_(ItemResult.item_id == Item.id, ItemResult.assessment_id == Assessment.id))
        .outerjoin(KeptItemWeight, kept_weight_join(Assessment.year_id))
        .where(in_checklist(Assessment.year_id, CampaignYear.year, ItemResult.id.isnot(None)))
        .group_by(*group_by)
    )


def tally_of(values) -> Tally:
    """A Tally from the seven aggregate values of `tally_query`."""
    total, met, partly, not_met, na, ws, we = values
    return Tally(int(total), int(met), int(partly), int(not_met), int(na), float(ws), float(we))


def tallies(assessment_ids: Iterable[int]) -> dict[int, dict[int, Tally]]:
    """{assessment_id: {criterion_id: Tally}} for many assessments in one query, read from the kept tallies
    (services/tallies.py: the same figures as `tally_query`, kept up to date with every change)."""
    from . import tallies as kept

    ids = list(assessment_ids)
    if not ids:
        return {}
    kept.apply_pending()
    out: dict[int, dict[int, Tally]] = {i: {} for i in ids}
    for start in range(0, len(ids), 500):
        for row in db.session.execute(kept_tallies_statement(), {"ids": ids[start:start + 500]}):
            out[row[0]][row[1]] = tally_of(row[2:9])
    return out


def overall_tallies(assessment_ids: Iterable[int]) -> dict[int, Tally]:
    """{assessment_id: Tally of the whole checklist} for many assessments: `overall` of their `tallies`, added up
    by SQL (one GROUP BY of the kept tallies per 500 assessments). An assessment with no kept tally has an empty
    Tally."""
    from ..models import AssessmentTally
    from . import tallies as kept

    ids = list(assessment_ids)
    if not ids:
        return {}
    kept.apply_pending()
    out = dict.fromkeys(ids, Tally())
    for start in range(0, len(ids), 500):
        stmt = (select(AssessmentTally.assessment_id, *(func.sum(column) for column in tally_columns()))
                .where(AssessmentTally.assessment_id.in_(ids[start:start + 500]))
                .group_by(AssessmentTally.assessment_id))
        for row in db.session.execute(stmt):
            out[row[0]] = tally_of(row[1:8])
    return out


@cache
def kept_tallies_statement():
    """The kept tallies of the assessments `ids` (an expanding parameter), built once: `tallies` reads them on
    every checklist page and tick, the dashboard for its page of rows."""
    from ..models import AssessmentTally

    return select(AssessmentTally.assessment_id, AssessmentTally.criterion_id, *tally_columns()).where(
        AssessmentTally.assessment_id.in_(bindparam("ids", expanding=True)))


def tally_columns() -> list:
    """The seven kept tally columns, in `tally_of` order."""
    from ..models import AssessmentTally

    return [AssessmentTally.total, AssessmentTally.met, AssessmentTally.partly, AssessmentTally.not_met,
            AssessmentTally.na, AssessmentTally.weight_scored, AssessmentTally.weight_earned]


def overall(per_criterion: dict[int, Tally]) -> Tally:
    return sum(per_criterion.values(), Tally())


def averages(tallies: list[Tally]) -> tuple[float, float | None]:
    """(average progress over all of them, average score over those that have one), rounded to 0.1."""
    if not tallies:
        return 0.0, None
    scores = [t.score for t in tallies if t.score is not None]
    return (round(sum(t.progress for t in tallies) / len(tallies), 1),
            round(sum(scores) / len(scores), 1) if scores else None)
