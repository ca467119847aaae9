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


def _kept_classes(year, which: str) -> set[int]:
    """The branches the dashboard's appraisal filter `which` selects from the kept classes (h14ap_01): those whose
    summary holds the class, while the class is shown."""
    from portal.models import BranchSummary
    from portal.services import grading

    if not grading.appraisal_shown(year, which):
        return set()
    s = BranchSummary
    return set(db.session.scalars(select(s.branch_id).where(s.year_id == year.id, s.appraisal == which)))


def _from_results(round_, year, ids: list[int], which: str) -> set[int]:
    """The computation of the filter before the counts were kept: from the results of the ballots' answers."""
    from portal.services import grading

    found = appraisal.results(round_, ids, overall_only=True)
    if which == "few":
        return {b for b, result in found.items() if not result.enough}
    limit = grading.policy_for(year).advanced_min_satisfaction
    return {b for b, result in found.items() if result.shown and result.total.overall.satisfaction < limit}


def test_the_dashboard_s_appraisal_filters_are_those_of_the_results(app, admin, branch, other_branch):
    """The kept classes select what the results select, while the round is open and once it has closed, after each
    ballot, a change of the round's minimum and of the policy's cut (each marks the summaries it moves), and they are
    what a computation from scratch gives (figures.differences) with the totals per group (district_differences)."""
    from portal.models import GradingPolicy
    from portal.services import figures, grading

    from ..appraisal_helpers import close_round, current_year
    from ..factories import BranchFactory

    third = BranchFactory()
    year = current_year()
    ids = [branch.id, other_branch.id, third.id]

    def agree(closed: bool) -> None:
        assert figures.differences(db.session) == []
        assert figures.district_differences(db.session) == []
        for which in grading.APPRAISAL_FILTERS:
            assert _kept_classes(year, which) == _from_results(round_, year, ids, which), (which, closed)

    assert _kept_classes(year, "few") == set(ids) and _kept_classes(year, "low") == set()  # no round: too few
    round_ = open_round(admin, minimum=3)
    agree(False)
    _vote(admin, round_, branch, VOTES)  # 7 ballots, satisfaction 5/7
    _vote(admin, round_, other_branch, {"community": ["dissatisfied"] * 3, "staff": ["satisfied"]})  # 25 %
    _vote(admin, round_, third, {"parents": ["satisfied", "satisfied"]})  # below the minimum
    agree(False)
    close_round(round_)
    agree(True)
    assert _kept_classes(year, "low") == {other_branch.id}
    assert _kept_classes(year, "few") == {third.id}
    round_.min_ballots = 2  # (below the service's floor: a test's own)
    db.session.commit()
    agree(True)
    assert _kept_classes(year, "few") == set()
    db.session.add(GradingPolicy(year_id=year.id, advanced_min_satisfaction=75.0))  # 5/7 = 71.4 % is below now
    db.session.commit()
    agree(True)
    assert _kept_classes(year, "low") == {branch.id, other_branch.id}
    policy = grading.policy_for(year)
    policy.advanced_min_satisfaction = 71.4  # the rate rounds to 71.4: not below
    db.session.commit()
    agree(True)
    assert _kept_classes(year, "low") == {other_branch.id}
    round_.min_ballots = 8
    db.session.commit()
    agree(True)
    assert _kept_classes(year, "few") == set(ids)


def test_the_kept_class_follows_the_overall_question_and_the_round(app, admin, branch):
    """The class reads the round's first question without a criterion (no such question: every branch has too
    few ballots), and a round deleted leaves every branch with too few."""
    from portal.models import AppraisalQuestion, AppraisalRound
    from portal.services import figures

    from ..appraisal_helpers import current_year

    year = current_year()
    round_ = open_round(admin, minimum=1)
    _vote(admin, round_, branch, {"staff": ["satisfied"]})
    assert _kept_classes(year, "few") == set()
    overall = next(q for q in round_.questions if q.is_overall)
    overall.criterion_id = round_.questions[0].criterion_id  # no overall question left
    db.session.commit()
    assert figures.differences(db.session) == [] and _kept_classes(year, "few") == {branch.id}
    overall.criterion_id = None
    db.session.commit()
    assert _kept_classes(year, "few") == set()
    db.session.delete(db.session.get(AppraisalRound, round_.id))  # its questions and counts go with it
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AppraisalQuestion)) == 0
    assert figures.differences(db.session) == [] and figures.district_differences(db.session) == []
    assert _kept_classes(year, "few") == {branch.id}


def _limits() -> list[float]:
    """Limits of the satisfaction rate to check the cut in SQL with: every tenth and twentieth from 0 to 100, every
    hundredth around 60, and some drawn at random."""
    import random

    rng = random.Random(14)
    return sorted({n / 10 for n in range(1001)} | {n / 20 for n in range(2001)} | {n / 100 for n in range(5500, 6500)}
                  | {round(rng.uniform(0, 100), rng.choice((1, 2, 3, 7))) for _ in range(300)})


def test_the_satisfaction_cut_in_sql_is_the_cut_in_python(app, admin):
    """`grading.satisfaction_cuts` computes in SQL, from a stored policy's limit, the (k, tie) that
    `satisfaction_cut` computes in Python: for each limit of `_limits` (on SQLite and PostgreSQL alike)."""
    from portal.models import GradingPolicy
    from portal.services import grading

    from ..appraisal_helpers import current_year

    year = current_year()
    db.session.add(GradingPolicy(year_id=year.id))
    db.session.flush()
    cut = grading.satisfaction_cuts()
    read = select(cut.c.k, cut.c.tie).where(cut.c.year_id == year.id)
    wrong = []
    for limit in _limits():
        db.session.execute(update(GradingPolicy).where(GradingPolicy.year_id == year.id)
                           .values(advanced_min_satisfaction=limit))
        k, tie = db.session.execute(read).one()
        if (k, bool(tie)) != grading.satisfaction_cut(limit):
            wrong.append((limit, k, tie, grading.satisfaction_cut(limit)))
    db.session.rollback()
    assert wrong == []


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
