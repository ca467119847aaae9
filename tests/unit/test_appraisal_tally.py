"""The kept appraisal counts (`appraisal_tally`, issue #14) always equal the ballots' answers: kept by each ballot, by
the demo's bulk load and by `rebuild-figures`, gone with their branch; and the dashboard's column read from them is
what the old GROUP BY over every ballot gave."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update

from portal.extensions import db
from portal.models import AppraisalTally, Ballot, BallotAnswer, Branch, Level
from portal.services import appraisal

from ..appraisal_helpers import open_round

VOTES = {  # rater group → the levels of its ballots' answers (every question answered alike)
    "parents": ["satisfied", "fairly", "satisfied", "dissatisfied"],
    "students": ["basically", "satisfied"],
    "staff": ["fairly"],
}


def _vote(admin, round_, branch, votes: dict[str, list[str]]) -> None:
    for group, levels in votes.items():
        for code, level in zip(appraisal.generate_codes(admin, round_, branch, group, len(levels)), levels,
                               strict=True):
            appraisal.cast_ballot(code, {q.id: level for q in round_.questions})


def _counted_from_ballots(round_) -> dict[int, dict[Level, int]]:
    """The overall question's answers per branch and level, counted from every ballot as before issue #14."""
    overall = next(q.id for q in round_.questions if q.is_overall)
    counts: dict[int, dict[Level, int]] = {}
    for branch_id, level, count in db.session.execute(
            select(Ballot.branch_id, BallotAnswer.level, func.count())
            .join(BallotAnswer, BallotAnswer.ballot_id == Ballot.id)
            .where(Ballot.round_id == round_.id, BallotAnswer.question_id == overall)
            .group_by(Ballot.branch_id, BallotAnswer.level)):
        counts.setdefault(branch_id, {})[Level(level)] = count
    return counts


def test_each_ballot_keeps_the_counts_equal_to_the_answers(app, admin, branch, other_branch):
    round_ = open_round(admin, minimum=1)
    _vote(admin, round_, branch, VOTES)
    _vote(admin, round_, other_branch, {"community": ["dissatisfied", "dissatisfied"]})
    assert appraisal.tally_differences() == []
    kept = appraisal.overall_counts(round_)
    assert kept == _counted_from_ballots(round_)
    assert kept[branch.id] == {Level.SATISFIED: 3, Level.FAIRLY: 2, Level.BASICALLY: 1, Level.DISSATISFIED: 1}
    assert all(type(level) is Level and type(n) is int for counts in kept.values() for level, n in counts.items())
    assert appraisal.overall_counts(round_, [other_branch.id]) == {other_branch.id: {Level.DISSATISFIED: 2}}
    # Every question is counted, not only the overall one: one row per question and level answered.
    rows = db.session.scalar(select(func.count()).select_from(AppraisalTally).where(
        AppraisalTally.branch_id == branch.id))
    assert rows == len(round_.questions) * 4


def test_rebuild_figures_repairs_the_counts(app, admin, runner, branch):
    round_ = open_round(admin, minimum=1)
    _vote(admin, round_, branch, VOTES)
    db.session.execute(update(AppraisalTally).values(answers=AppraisalTally.answers + 5))
    db.session.execute(delete(AppraisalTally).where(AppraisalTally.level == Level.FAIRLY))
    db.session.commit()  # as if loaded behind the portal's back
    assert len(appraisal.tally_differences()) == len(round_.questions) * 4
    result = runner.invoke(args=["rebuild-figures"])
    assert result.exit_code == 0, result.output
    assert f"{len(round_.questions) * 4} appraisal counts ({len(round_.questions) * 4} differed" in result.output
    assert appraisal.tally_differences() == []
    assert appraisal.overall_counts(round_) == _counted_from_ballots(round_)


def test_the_counts_go_with_their_branch(app, admin, branch, other_branch):
    round_ = open_round(admin, minimum=1)
    _vote(admin, round_, branch, VOTES)
    _vote(admin, round_, other_branch, VOTES)
    db.session.execute(delete(Branch).where(Branch.id == other_branch.id))  # foreign keys cascade
    db.session.commit()
    assert appraisal.tally_differences() == []
    assert set(appraisal.overall_counts(round_)) == {branch.id}


def test_the_demo_seed_keeps_counts_that_agree(app):
    from portal.services import demo

    demo.seed(branches=6, members_per_branch=2)
    assert db.session.scalar(select(func.count()).select_from(AppraisalTally)) > 0
    assert appraisal.tally_differences() == []


def test_the_dashboard_s_appraisal_filters_are_those_of_the_results(app, admin, branch, other_branch):
    from portal.services import grading

    from ..appraisal_helpers import close_round, current_year
    from ..factories import BranchFactory

    third = BranchFactory()
    round_ = open_round(admin, minimum=3)
    _vote(admin, round_, branch, VOTES)  # 7 ballots, satisfaction 5/7
    _vote(admin, round_, other_branch, {"community": ["dissatisfied"] * 3, "staff": ["satisfied"]})  # 25 %
    _vote(admin, round_, third, {"parents": ["satisfied", "satisfied"]})  # below the minimum
    ids = [branch.id, other_branch.id, third.id]

    def from_results(which: str) -> set[int]:  # the computation before the counts were kept
        found = appraisal.results(round_, ids, overall_only=True)
        if which == "few":
            return {b for b, result in found.items() if not result.enough}
        limit = grading.policy_for(current_year()).advanced_min_satisfaction
        return {b for b, result in found.items() if result.shown and result.total.overall.satisfaction < limit}

    for closed in (False, True):
        if closed:
            close_round(round_)
        for which in grading.APPRAISAL_FILTERS:
            assert grading.branch_ids_by_appraisal(current_year(), which) == from_results(which), (which, closed)
            per_row = grading.appraisal_condition(current_year(), which, Branch.id, per_row=True)
            assert set(db.session.scalars(select(Branch.id).where(per_row))) == from_results(which), (which, closed)
    assert grading.branch_ids_by_appraisal(current_year(), "low") == {other_branch.id}
    assert grading.branch_ids_by_appraisal(current_year(), "few") == {third.id}


@pytest.mark.parametrize("limit", [60.0, 62.5, 59.95, 33.3, 66.7, 0.0, 100.0, 12.35])
def test_the_satisfaction_cut_in_integers_is_the_rounded_rate_s_rule(limit):
    """The appraisal filter "low" decides in SQL, in integers (grading.satisfaction_cut), what
    `appraisal.satisfaction_rate(…) < limit` decides on a float rounded to 0.1: the same for every count of
    favourable answers out of up to 400 ballots (ties at 5 hundredths included, e.g. 1 of 400 = 0.25 %)."""
    from portal.services import grading

    cut, tie = grading.satisfaction_cut(limit)
    for ballots in range(1, 401):
        for favourable in range(ballots + 1):
            below = 2000 * favourable <= cut * ballots if tie else 2000 * favourable < cut * ballots
            assert below == (round(100.0 * favourable / ballots, 1) < limit), (favourable, ballots)
