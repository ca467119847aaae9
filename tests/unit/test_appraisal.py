"""群众评议 and 分类定级 formulas against hand-computed values; anonymity read off the schema and the rows."""
from datetime import date

import pytest
from sqlalchemy import inspect, select

from portal.extensions import db
from portal.models import (
    AppraisalCode,
    Ballot,
    BallotAnswer,
    BranchLevel,
    GradingPolicy,
    Level,
    MemberAppraisalTaking,
    MemberLevel,
    MemberVerdict,
)
from portal.services import appraisal, grading

from ..appraisal_helpers import close_round, open_round

S, F, B, D = Level.SATISFIED, Level.FAIRLY, Level.BASICALLY, Level.DISSATISFIED
WEIGHTS = appraisal.DEFAULT_WEIGHTS


@pytest.mark.parametrize("counts, score, rate", [
    ({S: 6, F: 3, D: 1}, 84.0, 90.0),  # (600 + 240 + 0) / 10; (6 + 3) / 10
    ({S: 1, F: 1, B: 1, D: 1}, 60.0, 50.0),  # (100 + 80 + 60 + 0) / 4
    ({B: 3}, 60.0, 0.0),
    ({S: 2, B: 1}, 86.7, 66.7),  # 260 / 3 = 86.67; 2 / 3
    ({}, None, None),
])
def test_weighted_score_and_satisfaction_rate(counts, score, rate):
    assert appraisal.weighted_score(counts, WEIGHTS) == score
    assert appraisal.satisfaction_rate(counts) == rate


def test_weights_are_the_round_s():
    assert appraisal.weighted_score({S: 1, F: 1}, {S: 100, F: 50, B: 25, D: 0}) == 75.0


@pytest.mark.parametrize("groups, shown", [
    ({"staff": 12, "parents": 15}, {"staff", "parents"}),
    ({"staff": 12, "parents": 3}, set()),  # 3 parents would be total − 12
    ({"staff": 12, "parents": 4, "students": 7}, {"staff"}),  # 11 left out together: no single small set
    ({"staff": 9}, set()),
])
def test_visible_groups_never_expose_a_small_set(groups, shown):
    assert appraisal.visible_groups(groups, 10) == shown


@pytest.mark.parametrize("inputs, expected", [
    ({"self": 90, "review": 80, "appraisal": 70}, 81.0),  # (3600 + 2400 + 2100) / 100
    ({"self": 90, "review": 80, "appraisal": None}, 85.7),  # (3600 + 2400) / 70
    ({"self": None, "review": None, "appraisal": 50}, 50.0),
    ({"self": None, "review": None, "appraisal": None}, None),
])
def test_composite(inputs, expected):
    assert grading.composite(inputs, {"self": 40, "review": 30, "appraisal": 30}) == expected


def _policy(**overrides):
    values = {"advanced_min": 85.0, "ordinary_min": 60.0, "advanced_min_satisfaction": 60.0,
              "member_excellent_min": 90.0, "member_qualified_min": 70.0, "member_basic_min": 50.0}
    values.update(overrides)
    return GradingPolicy(**values)


@pytest.mark.parametrize("score, satisfaction, grade", [
    (90.0, 75.0, BranchLevel.ADVANCED),
    (85.0, 60.0, BranchLevel.ADVANCED),  # both thresholds inclusive
    (95.0, 59.9, BranchLevel.ORDINARY),  # satisfaction below 60 %: never 先进
    (95.0, None, BranchLevel.ORDINARY),  # too few ballots: no evidence of satisfaction
    (84.9, 99.0, BranchLevel.ORDINARY),
    (60.0, 10.0, BranchLevel.ORDINARY),
    (59.9, 90.0, BranchLevel.LAGGING),
    (None, 90.0, BranchLevel.ORDINARY),
])
def test_branch_proposal(score, satisfaction, grade):
    assert grading.propose_branch(score, satisfaction, _policy()) == grade


@pytest.mark.parametrize("score, grade", [
    (90.0, MemberLevel.EXCELLENT), (89.9, MemberLevel.QUALIFIED), (70.0, MemberLevel.QUALIFIED),
    (69.9, MemberLevel.BASIC), (50.0, MemberLevel.BASIC), (49.9, MemberLevel.UNQUALIFIED),
    (None, MemberLevel.QUALIFIED),
])
def test_member_proposal(score, grade):
    assert grading.propose_member(score, _policy()) == grade


@pytest.mark.parametrize("earlier, later, move", [
    ("lagging", "ordinary", 1), ("ordinary", "advanced", 1), ("advanced", "lagging", -1),
    ("ordinary", "ordinary", 0), (None, "advanced", 0),
])
def test_movement(earlier, later, move):
    assert grading.movement(earlier, later) == move


def test_codes_are_long_unambiguous_and_stored_only_hashed(app, branch, secretary):
    round_ = open_round(secretary)
    codes = appraisal.generate_codes(secretary, round_, branch, "staff", 50)
    assert len(set(codes)) == 50
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == 12 and set(raw) <= set(appraisal.CODE_ALPHABET)
    assert not set("01OIL") & set(appraisal.CODE_ALPHABET)
    stored = list(db.session.scalars(select(AppraisalCode.code_hash)))
    assert all(len(h) == 64 for h in stored)
    dump = " ".join(str(v) for row in db.session.execute(select(AppraisalCode.__table__)) for v in row)
    assert not any(code in dump or code.replace("-", "") in dump for code in codes)


def test_results_per_branch_and_group_hidden_below_the_minimum(app, branch, other_branch, secretary):
    round_ = open_round(secretary, minimum=3)
    overall = next(q for q in round_.questions if q.is_overall)
    first = round_.questions[0]

    def vote(target, group, level, first_level=None):
        code = appraisal.generate_codes(secretary, round_, target, group, 1)[0]
        answers = {q.id: level for q in round_.questions}
        answers[first.id] = first_level or level
        appraisal.cast_ballot(code, answers)

    for level in ("satisfied", "satisfied", "fairly"):
        vote(branch, "staff", level, first_level="dissatisfied")
    for level in ("basically", "dissatisfied", "satisfied"):
        vote(branch, "parents", level)
    vote(other_branch, "staff", "satisfied")
    # While the round is open: the count only, whatever the number of ballots.
    early = appraisal.results(round_, [branch.id])[branch.id]
    assert (early.ballots, early.shown, early.total, early.closed) == (6, False, None, False)
    close_round(round_)
    found = appraisal.results(round_, [branch.id, other_branch.id])
    mine = found[branch.id]
    assert mine.ballots == 6 and mine.shown
    # All groups: 3 满意, 1 比较满意, 1 基本满意, 1 不满意 → (300 + 80 + 60) / 6 = 73.3; (3 + 1) / 6 = 66.7 %.
    assert mine.total.overall.counts == {S: 3, F: 1, B: 1, D: 1}
    assert (mine.total.overall.score, mine.total.overall.satisfaction) == (73.3, 66.7)
    assert [g.group for g in mine.groups] == ["staff", "parents"]
    staff = mine.groups[0]
    assert (staff.overall.score, staff.overall.satisfaction) == (93.3, 100.0)  # 280 / 3
    assert staff.per_question[first.id].counts == {D: 3} and staff.per_question[overall.id].ballots == 3
    # The first question across groups: 3 不满意 + 1 基本满意 + 1 不满意 + 1 满意 → (60 + 100) / 6 = 26.7.
    assert mine.total.per_question[first.id].score == 26.7
    assert not found[other_branch.id].shown and found[other_branch.id].ballots == 1


def test_no_answer_can_be_joined_to_a_code_a_person_or_a_time(app, branch, secretary, member):
    """Read the schema: the ballot tables name no code, user or time column and have no sequence; read the rows:
    ballots hold a random key, branch, group and a date only."""
    round_ = open_round(secretary, minimum=1)
    for code in appraisal.generate_codes(secretary, round_, branch, "parents", 3):
        appraisal.cast_ballot(code, {q.id: "satisfied" for q in round_.questions})
    appraisal.appraise_members(member, round_, {m.id: "fairly" for m in appraisal.branch_members(branch.id)})
    inspector = inspect(db.engine)
    forbidden = ("code", "user", "author", "actor", "ip", "address", "agent", "session", "_at", "time")
    for table, allowed in (("ballot", {"id", "round_id", "branch_id", "rater_group", "cast_on"}),
                           ("ballot_answer", {"ballot_id", "question_id", "level"}),
                           ("member_verdict", {"id", "round_id", "member_id", "level", "cast_on"}),
                           ("appraisal_tally", {"round_id", "question_id", "branch_id", "level", "answers"})):
        columns = {c["name"]: c for c in inspector.get_columns(table)}
        assert set(columns) == allowed, table
        assert not [name for name in columns if any(word in name for word in forbidden)]
        assert str(columns["cast_on" if "cast_on" in columns else "level"]["type"]).upper() in ("DATE", "VARCHAR(24)")
        targets = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        assert not targets & {"appraisal_code", "user", "member_appraisal_taking", "audit_event"} or (
            table == "member_verdict" and targets == {"appraisal_round", "user"})
        # Keys are random text, not a sequence (the kept counts: their round, question, branch and level); on SQLite
        # there is no hidden rowid either.
        if table != "appraisal_tally":
            assert str(columns["id" if "id" in columns else "ballot_id"]["type"]).upper().startswith("VARCHAR")
        if db.engine.dialect.name == "sqlite":
            with pytest.raises(Exception, match="rowid"):
                db.session.execute(db.text(f"SELECT rowid FROM {table}"))
            db.session.rollback()
    # Nothing refers to a ballot either: no foreign key into `ballot` but its own answers.
    for table in inspector.get_table_names():
        if table != "ballot_answer":
            assert "ballot" not in {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}, table
    # The code table keeps a used flag, never a time, and nothing that points at a ballot.
    code_columns = {c["name"] for c in inspector.get_columns("appraisal_code")}
    assert code_columns == {"id", "round_id", "branch_id", "rater_group", "code_hash", "used", "voided", "created_on"}
    # The rows: ballots carry the date alone, keys are 32 random hex characters that do not sort by casting.
    rows = db.session.execute(select(Ballot.id, Ballot.cast_on)).all()
    assert all(isinstance(day, date) and len(key) == 32 for key, day in rows)
    assert all(isinstance(v, (str, int)) and not isinstance(v, date)
               for row in db.session.execute(select(BallotAnswer.__table__)) for v in row)
    # Member appraisal: taking part is recorded with the person; the verdicts name the member appraised only.
    assert db.session.scalar(select(MemberAppraisalTaking.user_id)) == member.id
    taking_columns = {c["name"] for c in inspector.get_columns("member_appraisal_taking")}
    assert taking_columns == {"id", "round_id", "user_id", "branch_id"}
    assert all(v.member_id in {secretary.id, member.id} for v in db.session.scalars(select(MemberVerdict)))
