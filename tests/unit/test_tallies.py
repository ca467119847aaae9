"""The kept tallies (assessment_tally) always agree with a computation from scratch over the item results:
after random ticks through the checklist, direct ORM writes, framework changes and deletions; and
`rebuild-figures` restores them after a bulk load that bypassed them."""
from __future__ import annotations

import random

from sqlalchemy import delete, func, select

from portal.extensions import db
from portal.models import Assessment, AssessmentTally, Criterion, Item, ItemResult, Result, Subject
from portal.services import checklist, progress, tallies
from tests.checklist_helpers import current_year, items, make_assessment, year

VALUES = [r.value for r in Result]


def _agree() -> None:
    assert tallies.differences() == []


def test_random_ticks_keep_the_tallies_equal_to_a_fresh_computation(app, branch, secretary, member):
    rng = random.Random(14)
    branch_items, member_items = items(Subject.BRANCH), items(Subject.MEMBER)
    for _ in range(60):
        if rng.random() < 0.6:
            target = checklist.target_for(Subject.BRANCH, branch.id, current_year())
            checklist.set_item_result(secretary, target, rng.choice(branch_items).id, rng.choice(VALUES))
        else:
            target = checklist.target_for(Subject.MEMBER, member.id, current_year())
            checklist.set_item_result(member, target, rng.choice(member_items).id, rng.choice(VALUES))
        _agree()
    assessments = db.session.scalars(select(Assessment.id)).all()
    assert len(assessments) == 2 and db.session.scalar(select(func.count()).select_from(AssessmentTally)) == 10
    # What the pages read is what the item results say.
    fresh = {}
    for row in db.session.execute(progress.tally_query(Assessment.id, Criterion.id)
                                  .where(Assessment.id.in_(assessments))):
        fresh.setdefault(row[0], {})[row[1]] = progress.tally_of(row[2:9])
    assert progress.tallies(assessments) == fresh


def test_orm_writes_framework_changes_and_deletions_are_followed(app, branch, other_branch, secretary):
    first = make_assessment(branch, answer_all=Result.MET)  # answers added through the ORM
    second = make_assessment(other_branch)  # no answers: every item not assessed
    _agree()
    assert progress.overall(progress.tallies([first.id])[first.id]).progress == 100.0
    assert progress.overall(progress.tallies([second.id])[second.id]).assessed == 0

    answer = db.session.scalar(select(ItemResult).where(ItemResult.assessment_id == first.id).limit(1))
    answer.result = Result.NOT_MET
    db.session.commit()
    _agree()

    item = db.session.get(Item, answer.item_id)
    item.weight = 3.0  # the framework changes: every assessment's score moves
    db.session.commit()
    _agree()
    retired = items(Subject.BRANCH)[-1]
    # Retired from this year: answered by the first, so it stays there; it leaves the second's checklist.
    retired.retired_from = current_year().year
    db.session.commit()
    _agree()

    for result in db.session.scalars(select(ItemResult).where(ItemResult.assessment_id == first.id,
                                                              ItemResult.item_id == retired.id)):
        db.session.delete(result)  # an answer removed: its retired item leaves the first's checklist too
    db.session.commit()
    _agree()

    # Validity in years: an item asked from 2012 on leaves a finished 2011 checklist as it was, until its first
    # year moves.
    finished = make_assessment(other_branch, year_obj=year(2011), answer_all=Result.MET)
    _agree()
    later = Item(criterion_id=item.criterion_id, position=99, text="2012 年起的新条目",
                 valid_from=current_year().year)
    db.session.add(later)
    db.session.commit()
    _agree()
    assert progress.overall(progress.tallies([finished.id])[finished.id]).progress == 100.0
    assert later.id in {i.id for i in items(Subject.BRANCH)} - {i.id for i in items(Subject.BRANCH, year(2011))}
    later.valid_from = 2011
    db.session.commit()
    _agree()
    assert progress.overall(progress.tallies([finished.id])[finished.id]).progress < 100.0
    later.retired_from = 2011  # retired from 2011 on: no longer in 2011's checklist (it has no answer there)
    db.session.commit()
    _agree()
    assert progress.overall(progress.tallies([finished.id])[finished.id]).progress == 100.0

    db.session.execute(delete(Assessment).where(Assessment.id == second.id))
    db.session.commit()
    _agree()
    assert db.session.scalar(select(func.count()).select_from(AssessmentTally).where(
        AssessmentTally.assessment_id == second.id)) == 0


def test_a_rolled_back_tick_leaves_nothing_behind(app, branch, secretary):
    target = checklist.target_for(Subject.BRANCH, branch.id, current_year())
    item = items(Subject.BRANCH)[0]
    checklist.set_item_result(secretary, target, item.id, "met")
    checklist.set_item_result(secretary, target, item.id, "met")  # unchanged: rolled back
    _agree()


def test_rebuild_figures_repairs_what_a_bulk_load_bypassed(app, runner, branch):
    assessment = make_assessment(branch, answer_all=Result.PARTLY)
    db.session.execute(delete(AssessmentTally))  # as if loaded behind the portal's back
    db.session.commit()
    assert tallies.differences() != []
    result = runner.invoke(args=["rebuild-figures"])
    assert result.exit_code == 0 and "Rebuilt 5 tally rows (5 differed" in result.output
    db.session.expire_all()
    _agree()
    assert progress.overall(progress.tallies([assessment.id])[assessment.id]).score == 50.0


def test_the_demo_seed_writes_tallies_that_agree(app):
    from portal.services import demo

    demo.seed(branches=3, members_per_branch=4)
    assert db.session.scalar(select(func.count()).select_from(AssessmentTally)) > 0
    _agree()


def test_the_tallies_a_tick_wrote_are_those_kept(app, branch, secretary):
    """Issue 14: a tick's tallies come back from its own upsert (RETURNING, `tallies.written`) instead of a second
    read; they equal what `progress.tallies` reads, and after rows rewritten in bulk they are read again."""
    branch_items = items(Subject.BRANCH)
    for n, item in enumerate(branch_items[:4]):
        target = checklist.target_for(Subject.BRANCH, branch.id, current_year())
        checklist.set_item_result(secretary, target, item.id, VALUES[1 + n % 4])
    assessment = db.session.scalar(select(Assessment).where(Assessment.branch_id == branch.id))
    db.session.add(ItemResult(assessment_id=assessment.id, item_id=branch_items[5].id, result=Result.MET,
                              item_text=branch_items[5].text))
    db.session.flush()  # (the ORM's write: noticed, refreshed alone)
    assert tallies.written(assessment.id) == progress.tallies([assessment.id])[assessment.id]
    assert tallies.written(assessment.id)  # every criterion of the checklist
    db.session.execute(ItemResult.__table__.update().where(ItemResult.assessment_id == assessment.id)
                       .values(result=Result.NOT_MET.value))
    tallies.reset([assessment.id])  # rewritten in bulk: read again
    assert tallies.written(assessment.id) == progress.tallies([assessment.id])[assessment.id]
    assert sum(t.not_met for t in tallies.written(assessment.id).values()) == 5
    db.session.commit()
    _agree()
