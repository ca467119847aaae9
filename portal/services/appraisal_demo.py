"""The demo district's 群众评议 and 分类定级: a round per campaign year (2010 and 2011 closed, 2012 open around the
day of seeding), ballots for most branches (some below the minimum, a few none), member appraisal in the first
branches, confirmed grades for the finished years (a few overridden with a reason) and proposals for 2012.

Bulk Core inserts; codes of the demo are random hashes (nobody holds the codes themselves)."""
from __future__ import annotations

import hashlib
import itertools
import random
import secrets
from datetime import date, timedelta

from flask_babel import force_locale
from sqlalchemy import insert, select, update

from ..extensions import db
from ..models import (
    AppraisalCode,
    AppraisalRound,
    Ballot,
    BallotAnswer,
    Branch,
    BranchLevel,
    CampaignYear,
    GradeRecord,
    Level,
    MemberAppraisalTaking,
    MemberVerdict,
    RaterGroup,
    Role,
    User,
)
from . import appraisal, grading
from .bulk import insert_rows

MEMBER_APPRAISAL_BRANCHES = 12  # member appraisal is seeded in the first branches only (bench sizes stay small)
OVERRIDE_REASON = "领导小组结合年度督察和群众来信情况调整。"


def _round(year: CampaignYear, opens: date, closes: date) -> AppraisalRound:
    found = appraisal.round_for(year)
    if found is not None:
        return found
    round_ = appraisal.AppraisalRound(year_id=year.id, groups=",".join(RaterGroup), opens_on=opens, closes_on=closes,
                                      weight_satisfied=100, weight_fairly=80, weight_basically=60,
                                      weight_dissatisfied=0, min_ballots=10, member_min_answers=3)
    with force_locale("zh"):  # as save_round words them
        for position, criterion in enumerate(appraisal._branch_criteria(), start=1):
            round_.questions.append(appraisal.AppraisalQuestion(
                criterion_id=criterion.id, position=position, text=appraisal._criterion_question(criterion.title)))
        round_.questions.append(appraisal.AppraisalQuestion(
            criterion_id=None, position=len(round_.questions) + 1, text=appraisal._overall_question()))
    db.session.add(round_)
    db.session.flush()
    return round_


LEVELS = list(Level)


def _level(rng: random.Random, mood: float) -> Level:
    """A level leaning to satisfied for a well-liked branch (mood near 1) and spread out for a poor one."""
    return rng.choices(LEVELS, weights=[10 * mood + 1, 4, 2 + 4 * (1 - mood), 1 + 5 * (1 - mood)])[0]


def _ballots(rng, round_, branch_ids, day_range: tuple[date, date]) -> None:
    """Ballots, their answers and their codes (used, and some handed out unused), as rows of tuples: a district
    of 2,000 branches casts 40,000 ballots a year."""
    start, end = day_range
    span = max((end - start).days, 0)
    code_rows, ballot_rows, answer_rows = [], [], []
    groups = list(RaterGroup)
    questions = [q.id for q in round_.questions]
    for n, branch_id in enumerate(branch_ids):
        if n % 7 == 6:
            continue  # no ballots yet
        count = rng.randint(3, 9) if n % 5 == 4 else rng.randint(12, 30)  # some below the minimum of 10
        mood = rng.random()
        cumulative = list(itertools.accumulate([10 * mood + 1, 4, 2 + 4 * (1 - mood), 1 + 5 * (1 - mood)]))
        for _ in range(count):
            group = rng.choice(groups)
            code_rows.append((round_.id, branch_id, group.value, hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                              True, False, start))
            ballot_id = secrets.token_hex(16)
            ballot_rows.append((ballot_id, round_.id, branch_id, group.value,
                                start + timedelta(days=rng.randint(0, span))))
            # The draws of _level(rng, mood), one per question, drawn in one call (the same draws in turn).
            answer_rows.append([(ballot_id, question, level.value) for question, level in zip(
                questions, rng.choices(LEVELS, cum_weights=cumulative, k=len(questions)), strict=True)])
        for _ in range(rng.randint(0, 5)):  # slips handed out, not used yet
            code_rows.append((round_.id, branch_id, rng.choice(groups).value,
                              hashlib.sha256(secrets.token_bytes(16)).hexdigest(), False, False, start))
    insert_rows(AppraisalCode.__table__, ["round_id", "branch_id", "rater_group", "code_hash", "used", "voided",
                                          "created_on"], code_rows)
    # In the order of their random ids: each insert then lands next to the last in the ids' indexes (ballot's,
    # and ballot_answer's with its check of the ballot), instead of anywhere in indexes larger than the page cache.
    ballot_rows.sort()
    answer_rows.sort(key=lambda answers: answers[0][0])
    insert_rows(Ballot.__table__, ["id", "round_id", "branch_id", "rater_group", "cast_on"], ballot_rows)
    insert_rows(BallotAnswer.__table__, ["ballot_id", "question_id", "level"],
                [answer for answers in answer_rows for answer in answers])
    appraisal.rebuild_tallies(round_.id)  # the kept counts, as cast_ballot keeps them one ballot at a time


def _member_appraisal(rng, round_, branch_ids, day: date) -> None:
    people = list(db.session.execute(select(User.id, User.branch_id).where(
        User.branch_id.in_(branch_ids[:MEMBER_APPRAISAL_BRANCHES]), User.active.is_(True),
        User.role.in_([Role.MEMBER, Role.SECRETARY]))))
    by_branch: dict[int, list[int]] = {}
    for user_id, branch_id in people:
        by_branch.setdefault(branch_id, []).append(user_id)
    takings, verdicts = [], []
    for branch_id, ids in by_branch.items():
        for user_id in ids:
            if rng.random() < 0.3:
                continue  # not taken part yet: the secretary's coverage shows them
            takings.append({"round_id": round_.id, "user_id": user_id, "branch_id": branch_id})
            verdicts += [{"id": secrets.token_hex(16), "round_id": round_.id, "member_id": other,
                          "level": _level(rng, 0.8), "cast_on": day} for other in ids]
    if takings:
        db.session.execute(insert(MemberAppraisalTaking), takings)
        db.session.execute(insert(MemberVerdict), verdicts)


def seed_demo(today: date, seed_value: int = 2017) -> None:
    """Seed the demo's appraisal rounds and grades into the current transaction (the demo seed commits)."""
    rng = random.Random(seed_value)
    years = {y.year: y for y in db.session.scalars(select(CampaignYear))}
    branch_ids = list(db.session.scalars(select(Branch.id).where(Branch.active.is_(True)).order_by(Branch.id)))
    leader_id = db.session.scalar(select(User.id).where(User.username == "leader"))
    secretaries = dict(db.session.execute(select(User.branch_id, User.id).where(User.role == Role.SECRETARY)).all())
    for number, year in sorted(years.items()):
        if year.is_current:
            round_ = _round(year, today - timedelta(days=5), today + timedelta(days=25))
            _ballots(rng, round_, branch_ids, (today - timedelta(days=5), today))
            _member_appraisal(rng, round_, branch_ids, today - timedelta(days=2))
            grading.write_proposals(year)  # shown as proposed on the dashboard until the leading group confirms
            continue
        round_ = _round(year, date(number, 11, 1), date(number, 11, 30))
        _ballots(rng, round_, branch_ids, (date(number, 11, 1), date(number, 11, 30)))
        grading.write_proposals(year)
        _confirm_all(rng, year, leader_id, secretaries, date(number, 12, 20))


def _confirm_all(rng, year: CampaignYear, leader_id, secretaries: dict[int, int], day: date) -> None:
    """A finished year: every proposal confirmed (branches by the leading group, members by their secretary),
    one branch in eight overridden one step with a reason."""
    from datetime import datetime

    when = datetime(day.year, day.month, day.day, 10, 0)
    db.session.execute(update(GradeRecord).where(GradeRecord.year_id == year.id, GradeRecord.member_id.is_(None))
                       .values(confirmed=GradeRecord.proposed, confirmed_by_id=leader_id, confirmed_at=when))
    records = list(db.session.execute(
        select(GradeRecord.id, GradeRecord.branch_id, GradeRecord.proposed, GradeRecord.satisfaction).where(
            GradeRecord.year_id == year.id, GradeRecord.member_id.is_(None)).order_by(GradeRecord.branch_id)))
    order = grading.BRANCH_ORDER
    policy = grading.policy_for(year)
    for record_id, _branch_id, proposed, satisfaction in records[rng.randint(0, 7)::8]:
        index = order.index(proposed)
        # Up to 先进 only where the satisfaction rule allows it (as grading.confirm enforces).
        up_allowed = index + 1 < len(order) and (order[index + 1] != BranchLevel.ADVANCED
                                                 or grading.may_be_advanced(satisfaction, policy))
        down = index > 0 and (rng.random() < 0.5 or not up_allowed)
        if not down and not up_allowed:
            continue
        moved = order[index - 1] if down else order[index + 1]
        db.session.execute(update(GradeRecord).where(GradeRecord.id == record_id).values(
            confirmed=moved.value, reason=OVERRIDE_REASON))
    # Members by their branch's secretary (one UPDATE); the secretaries' own by the leading group.
    secretary_of_branch = (select(User.id).where(User.branch_id == GradeRecord.branch_id, User.role == Role.SECRETARY)
                           .limit(1).scalar_subquery())
    db.session.execute(update(GradeRecord).where(
        GradeRecord.year_id == year.id, GradeRecord.member_id.isnot(None),
        GradeRecord.member_id.not_in(list(secretaries.values()) or [0])).values(
        confirmed=GradeRecord.proposed, confirmed_by_id=secretary_of_branch, confirmed_at=when))
    db.session.execute(update(GradeRecord).where(
        GradeRecord.year_id == year.id, GradeRecord.member_id.in_(list(secretaries.values()) or [0])).values(
        confirmed=GradeRecord.proposed, confirmed_by_id=leader_id, confirmed_at=when))
    db.session.flush()
