"""Issue 14 (h14k, h14f, h14ap): the district's totals kept by the database's triggers (`district_summary`,
`district_criterion`, `request_tally`, migration h14k_01; and per unit kind, status and appraisal class,
`district_group`, `district_group_criterion`, `request_group`, migrations h14f_01 and h14ap_01) always equal a
computation from scratch over the summaries, tallies and submissions, and the lists of the reviews and pledges
waiting for the district (`review_waiting`, `pledge_waiting`, migration h14w_01) a computation from the assessments,
pledges and roles, after a random mix of ticks, submissions, returns and reviews, members' own checklists moved or
deleted, members named secretary and back, pledges written, moved and deleted, 报送 submissions and requests, branches
deactivated and reactivated, units re-kinded, answers and branches deleted, years added and made current, and 群众评议
ballots cast, the round's minimum and the policy's cut changed and the round closed and opened again (the kept
appraisal classes, h14ap_01, are also those of the Python rule over the ballots' counts); and the overview's cards,
chart, criterion averages and overdue submissions, unfiltered and filtered by unit kind, status and/or appraisal
class, and the branch page's comparison read from them equal the aggregates over the matching summaries that they
replace."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from portal.extensions import db
from portal.models import (
    AppraisalRound,
    Assessment,
    AssessmentStatus,
    Branch,
    CampaignYear,
    DistrictCriterion,
    DistrictGroup,
    DistrictGroupCriterion,
    DistrictSummary,
    ItemResult,
    Level,
    Pledge,
    PledgeStatus,
    PledgeWaiting,
    RequestGroup,
    RequestKind,
    Result,
    ReviewWaiting,
    Role,
    Subject,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    Unit,
    UnitKind,
    User,
    utcnow,
)
from portal.services import appraisal, campaign, checklist, dashboard, figures, grading, tallies, users
from tests.appraisal_helpers import open_round
from tests.dashboard_helpers import branch_items, build_district, year

VALUES = [r.value for r in Result]


def _kept(year_id: int) -> dict[str, int]:
    """The year's kept totals, its slots added up (None: no row)."""
    d = DistrictSummary
    row = db.session.execute(select(func.count(), func.sum(d.branches), func.sum(d.band_0 + d.band_1 + d.band_2
                                                                                   + d.band_3 + d.band_4))
                             .where(d.year_id == year_id)).one()
    return None if not row[0] else {"branches": int(row[1]), "banded": int(row[2])}


def _criteria(year_id: int) -> dict[int, int]:
    d = DistrictCriterion
    return {cid: int(total) for cid, total in db.session.execute(
        select(d.criterion_id, func.sum(d.progress_tenths)).where(d.year_id == year_id).group_by(d.criterion_id))}


def _filters(campaign_year: CampaignYear) -> list[dashboard.Filters]:
    """The overview unfiltered, by each unit kind, by each status (and not started), by five pairs of kind and
    status (each kind and each status once; every group's kept row is compared exactly by district_differences), by
    each appraisal class, and by each class with a kind, a status, or both."""
    statuses = [s.value for s in AssessmentStatus] + [dashboard.NOT_STARTED]
    kinds = list(UnitKind)
    classes = grading.APPRAISAL_FILTERS
    return ([dashboard.Filters(year=campaign_year)]
            + [dashboard.Filters(year=campaign_year, kind=kind) for kind in kinds]
            + [dashboard.Filters(year=campaign_year, status=status) for status in statuses]
            + [dashboard.Filters(year=campaign_year, kind=kinds[i], status=statuses[(i + 1) % len(statuses)])
               for i in range(len(kinds))]
            + [dashboard.Filters(year=campaign_year, appraisal=which) for which in classes]
            + [dashboard.Filters(year=campaign_year, appraisal=which, kind=kinds[i], status=statuses[i + 2])
               for i, which in enumerate(classes)]
            + [dashboard.Filters(year=campaign_year, appraisal=which, status=statuses[i])
               for i, which in enumerate(classes)]
            + [dashboard.Filters(year=campaign_year, appraisal=which, kind=kinds[i + 1])
               for i, which in enumerate(classes)])


def _appraisal_classes_agree() -> set[str]:
    """Every kept summary's appraisal class is the one the Python rule gives over its year's round: "few" below the
    round's minimum of ballots (or without a round), "low" with a satisfaction rate (appraisal.satisfaction_rate)
    below the policy's limit, else ''. Returns the classes found."""
    assert appraisal.tally_differences() == []
    s, seen = figures.BranchSummary, set()
    for campaign_year in db.session.scalars(select(CampaignYear)):
        round_ = appraisal.round_for(campaign_year)
        counts = appraisal.overall_counts(round_) if round_ is not None else {}
        limit = grading.policy_for(campaign_year).advanced_min_satisfaction
        rows = db.session.execute(select(s.branch_id, s.appraisal).where(s.year_id == campaign_year.id))
        for branch_id, kept in rows:
            found = counts.get(branch_id, {})
            if round_ is None or not found or sum(found.values()) < round_.min_ballots:
                expected = "few"
            else:
                expected = "low" if appraisal.satisfaction_rate(found) < limit else ""
            assert kept == expected, (campaign_year.year, branch_id, found, kept)
            seen.add(kept)
    return seen


def agree(monkeypatch=None, step: int | None = None) -> set[str]:
    """Kept = from scratch (the tables), and what the pages read = the aggregates they replace (every year,
    unfiltered and filtered by kind, status and/or appraisal class; at a `step` of a long run, unfiltered and one of
    the filters in turn, all of them every tenth step). Returns the appraisal classes the summaries hold."""
    differences = figures.district_differences(db.session)
    assert not differences, "\n".join(map(str, differences))
    summaries = figures.differences(db.session)
    assert not summaries, "\n".join(map(str, summaries))
    classes = _appraisal_classes_agree()
    now = utcnow()
    criteria = dashboard.branch_criteria()
    close = 0.101  # averages to 0.1: a mean ending in 5 hundredths rounds either way from the sum of floats or tenths
    for campaign_year in db.session.scalars(select(CampaignYear)):
        chosen = _filters(campaign_year)
        if step is not None and step % 10 != 9:
            chosen = [chosen[0], chosen[1 + step % (len(chosen) - 1)]]
        for filters in chosen:
            kept = dashboard._aggregate(campaign_year, filters, now)
            fresh = dashboard._aggregate(campaign_year, filters, now, kept=False)
            for name in ("count", "all_count", "submitted", "not_met", "inactive", "bands"):
                assert getattr(kept, name) == getattr(fresh, name), (name, filters)
            for name in ("average_progress", "average_score", "all_progress", "all_score"):
                a, b = getattr(kept, name), getattr(fresh, name)
                assert (a is None) == (b is None) and (a is None or abs(a - b) < close), (name, a, b, filters)
            overdue = dashboard._overdue_total(campaign_year, now, filters, kept.count)
            assert overdue == dashboard._overdue_total(campaign_year, now, filters, kept.count, kept=False), filters
            assert fresh.overdue == overdue, filters  # read with the aggregate over the matching summaries
            averages = dashboard._criterion_averages(campaign_year, filters, criteria, kept.count)
            old = dashboard._criterion_averages(campaign_year, filters, criteria, kept.count, kept=False)
            # read with the cards over the matching summaries: the GROUP BY of their own (sums in another order)
            with_cards = dashboard._criterion_averages(campaign_year, filters, criteria, kept.count,
                                                       found=fresh.criteria)
            for (_c, score, progress), (_o, old_score, old_progress) in zip(with_cards, old, strict=True):
                assert (score is None) == (old_score is None) and (score is None or abs(score - old_score) < close)
                assert abs(progress - old_progress) < close, filters
            for (criterion, score, progress), (_c, old_score, old_progress) in zip(averages, old, strict=True):
                assert (score is None) == (old_score is None), (criterion.title, filters)
                assert score is None or abs(score - old_score) < close
                assert abs(progress - old_progress) < close
    db.session.rollback()
    return classes


def _tick(rng, built, items) -> None:
    i = rng.randrange(len(built.branches))
    branch = db.session.get(Branch, built.branches[i].id)
    if branch is None or not branch.active:
        return
    target = checklist.target_for(Subject.BRANCH, branch.id, year())
    if target.status in (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED):
        return
    checklist.set_item_result(built.secretaries[i], target, rng.choice(items).id, rng.choice(VALUES))


def _workflow(rng, built, items, leader) -> None:
    """Submit a branch's checklist (answering what is left), or return or review a submitted one."""
    i = rng.randrange(len(built.branches))
    branch = db.session.get(Branch, built.branches[i].id)
    if branch is None or not branch.active:
        return
    target = checklist.target_for(Subject.BRANCH, branch.id, year())
    if target.status == AssessmentStatus.SUBMITTED:
        if rng.random() < 0.5:
            checklist.return_for_revision(leader, target, "请补充")
        else:
            checklist.review(leader, target, "good", "好", "")
    elif target.status in (None, AssessmentStatus.DRAFT, AssessmentStatus.RETURNED):
        for item in items:
            target = checklist.target_for(Subject.BRANCH, branch.id, year())
            checklist.set_item_result(built.secretaries[i], target, item.id, rng.choice(VALUES[1:]))
        checklist.submit(built.secretaries[i], checklist.target_for(Subject.BRANCH, branch.id, year()))


def _flip(rng, built, admin) -> None:
    branch = db.session.get(Branch, built.branches[rng.randrange(len(built.branches))].id)
    if branch is not None:
        users.set_branch_active(admin, branch, not branch.active)


def _delete_answers(rng, built) -> None:
    """Answers removed by the ORM (the tallies are reset: rows deleted and inserted again)."""
    branch_id = built.branches[rng.randrange(len(built.branches))].id
    answers = db.session.scalars(select(ItemResult).join(Assessment, Assessment.id == ItemResult.assessment_id)
                                 .where(Assessment.branch_id == branch_id).order_by(ItemResult.id)).all()
    for answer in rng.sample(answers, min(len(answers), 2)):
        db.session.delete(answer)
    db.session.commit()


def _delete_branch(rng, built, admin) -> None:
    """A branch deleted (its people moved out first) by the database's own cascade, as a purge would: its summaries,
    assessments and tallies go with it. (The portal itself refuses to delete a branch that holds records:
    users.delete_branch; one of the odd branches, whose member has no self-assessment: a member's assessment names
    the branch it was made in and would go with it, leaving their new branch's coverage stale, which is not this
    test's subject.)"""
    i = rng.randrange(1, len(built.branches), 2)
    branch = db.session.get(Branch, built.branches[i].id)
    if branch is None or len([b for b in built.branches if db.session.get(Branch, b.id) is not None]) <= 2:
        return
    other = next(b for b in built.branches if b.id != branch.id and db.session.get(Branch, b.id) is not None)
    for person in (built.secretaries[i], built.members[i]):
        person.branch_id = other.id
    db.session.commit()
    db.session.delete(db.session.get(Branch, branch.id))
    db.session.commit()


def _own_checklist(rng, built) -> None:
    """A member named secretary, or made a member again (their submitted checklist joins or leaves the leaders'
    queue); or their own checklist's status and time of submission changed, or the checklist deleted (ORM writes)."""
    person = db.session.get(User, built.members[rng.randrange(len(built.members))].id)
    roll = rng.random()
    if roll < 0.35:
        person.role = Role.MEMBER if person.role == Role.SECRETARY else Role.SECRETARY
    else:
        own = db.session.scalar(select(Assessment).where(Assessment.member_id == person.id,
                                                         Assessment.year_id == year().id))
        if own is None:
            return
        if roll < 0.45:
            db.session.delete(own)
        else:
            own.status = rng.choice(list(AssessmentStatus))
            own.submitted_at = utcnow() - timedelta(days=rng.randrange(9))
    db.session.commit()


def _pledge(rng, built) -> None:
    """A pledge of a branch, its secretary or its member written in any status, moved to another status, or deleted
    (ORM writes)."""
    pledges = db.session.scalars(select(Pledge).where(Pledge.year_id == year().id).order_by(Pledge.id)).all()
    roll = rng.random()
    if roll < 0.3 or not pledges:
        i = rng.randrange(len(built.branches))
        if db.session.get(Branch, built.branches[i].id) is None:
            return
        member = rng.choice([None, built.secretaries[i].id, built.members[i].id])
        db.session.add(Pledge(year_id=year().id, branch_id=built.branches[i].id, member_id=member, text="承诺",
                              status=rng.choice(list(PledgeStatus))))
    elif roll < 0.4:
        db.session.delete(rng.choice(pledges))
    else:
        rng.choice(pledges).status = rng.choice(list(PledgeStatus))
    db.session.commit()


def _submission(rng, built) -> None:
    """A 报送 submission handed in, returned, accepted, reset or withdrawn (ORM writes); sometimes a new request,
    past its deadline or not."""
    if rng.random() < 0.2:
        db.session.add(SubmissionRequest(year_id=year().id, kind=RequestKind.GENERAL, title="材料",
                                         deadline=utcnow() + timedelta(days=rng.choice((-2, 5)))))
        db.session.commit()
        return
    request = rng.choice(db.session.scalars(select(SubmissionRequest).where(
        SubmissionRequest.year_id == year().id).order_by(SubmissionRequest.id)).all() or [None])
    branch = db.session.get(Branch, built.branches[rng.randrange(len(built.branches))].id)
    if request is None or branch is None:
        return
    handed = db.session.scalar(select(Submission).where(Submission.request_id == request.id,
                                                        Submission.branch_id == branch.id))
    if handed is not None and rng.random() < 0.2:
        db.session.delete(handed)
    else:
        if handed is None:
            handed = Submission(request_id=request.id, branch_id=branch.id)
            db.session.add(handed)
        handed.status = rng.choice(list(SubmissionStatus))
    db.session.commit()


def _rekind(rng, built, admin) -> None:
    """A branch's unit given another kind (its summaries move from one group of kind to another)."""
    branch = db.session.get(Branch, built.branches[rng.randrange(len(built.branches))].id)
    if branch is None:
        return
    unit = db.session.get(Unit, branch.unit_id)
    users.update_branch(admin, branch, unit_name=unit.name, unit_kind=rng.choice(list(UnitKind)).value,
                        branch_name=branch.name, branch_kind=branch.kind.value, member_count=branch.member_count)


def _new_year(rng, admin, years: list[int]) -> None:
    """A year added (every branch gets its summary) and made current; or an earlier one made current again."""
    if rng.random() < 0.5 or len(years) == 1:
        number = years[-1] + 1
        created = campaign.create_year(admin, str(number), f"主题{number}")
        years.append(number)
        campaign.make_current(admin, created)
    else:
        campaign.make_current(admin, year(rng.choice(years)))


def _vote(admin, round_, branch, levels: list[Level]) -> None:
    """Ballots cast for `branch`, one per level, every question answered alike."""
    for code, level in zip(appraisal.generate_codes(admin, round_, branch, "staff", len(levels)), levels, strict=True):
        appraisal.cast_ballot(code, {q.id: level.value for q in round_.questions})


def _appraise(rng, built, admin, round_id: int) -> None:
    """群众评议 in the first year: ballots cast for a branch (the round opened again first if it had closed); or the
    round's minimum changed; or the policy's limit of satisfaction; or the round closed (its figures shown) or opened
    again."""
    round_ = db.session.get(AppraisalRound, round_id)
    today = appraisal.local_today()
    roll = rng.random()
    if roll < 0.5:
        i = rng.randrange(len(built.branches))
        branch = db.session.get(Branch, built.branches[i].id)
        if branch is None or not branch.active:
            return
        if not appraisal.is_open(round_):
            round_.closes_on = today + timedelta(days=3)
            db.session.commit()
        # (a third of the branches displeases everyone: "low" once they have enough ballots)
        _vote(admin, round_, branch, [Level.DISSATISFIED if i % 3 == 0 else rng.choice(
            [Level.SATISFIED, Level.FAIRLY, Level.BASICALLY]) for _ in range(rng.randint(1, 2))])
    elif roll < 0.65:
        round_.min_ballots = rng.randint(1, 4)  # (below the service's floor: a test's own)
    elif roll < 0.8:
        policy = grading.policy_for(db.session.get(CampaignYear, round_.year_id))
        policy.advanced_min_satisfaction = rng.choice([50.0, 60.0, 62.5, 66.7, 75.0])
        db.session.add(policy)
    else:
        round_.closes_on = today + timedelta(days=3) if appraisal.is_closed(round_) else today - timedelta(days=1)
    db.session.commit()


def test_a_random_mix_of_changes_keeps_the_district_totals_exact(app, admin, leader, monkeypatch):
    built = build_district(6)
    agree(monkeypatch)
    assert _kept(year().id)["branches"] == 6
    round_ = open_round(admin, minimum=2)
    round_id = round_.id
    _vote(admin, round_, db.session.get(Branch, built.branches[0].id), [Level.DISSATISFIED] * 2)  # "low"
    _vote(admin, round_, db.session.get(Branch, built.branches[1].id), [Level.SATISFIED] * 2)  # neither
    agree(monkeypatch)
    rng = random.Random(1414)
    years = [year().year]
    steps = [(0.20, lambda: _tick(rng, built, branch_items(year()))),
             (0.10, lambda: _appraise(rng, built, admin, round_id)),
             (0.06, lambda: _pledge(rng, built)),
             (0.12, lambda: _workflow(rng, built, branch_items(year()), leader)),
             (0.07, lambda: _own_checklist(rng, built)),
             (0.08, lambda: _flip(rng, built, admin)),
             (0.04, lambda: _rekind(rng, built, admin)),
             (0.12, lambda: _submission(rng, built)),
             (0.09, lambda: _delete_answers(rng, built)),
             (0.05, lambda: _delete_branch(rng, built, admin)),
             (0.07, lambda: _new_year(rng, admin, years))]
    done, classes = set(), set()
    for n in range(90):
        roll, step = rng.random(), None
        for index, (share, action) in enumerate(steps):
            roll -= share
            if roll < 0 or index == len(steps) - 1:
                step = index
                action()
                break
        done.add(step)
        classes |= agree(monkeypatch, n)
    assert done == set(range(len(steps)))  # every kind of change was made at least once
    assert classes == {"few", "low", ""}  # and every appraisal class was held


def test_the_kept_totals_follow_deactivation_and_a_deleted_year(app, admin, monkeypatch):
    built = build_district(4)
    assert _kept(year().id) == {"branches": 4, "banded": 4}
    criteria_before = _criteria(year().id)
    assert criteria_before and any(criteria_before.values())
    users.set_branch_active(admin, db.session.get(Branch, built.branches[3].id), False)
    db.session.expire_all()
    assert _kept(year().id)["branches"] == 3  # its tallies left the criterion sums too
    agree(monkeypatch)
    users.set_branch_active(admin, db.session.get(Branch, built.branches[3].id), True)
    db.session.expire_all()
    assert _criteria(year().id) == criteria_before
    agree(monkeypatch)
    created = campaign.create_year(admin, str(year().year + 1), "新主题")
    assert _kept(created.id)["branches"] == 4
    db.session.delete(db.session.get(CampaignYear, created.id))  # its summaries cascade; its totals go with it
    db.session.commit()
    assert _kept(created.id) is None
    agree(monkeypatch)


def test_rebuild_figures_restores_the_kept_totals(app, runner, monkeypatch):
    build_district(3)
    for model in (DistrictSummary, DistrictCriterion, DistrictGroup, DistrictGroupCriterion, RequestGroup,
                  ReviewWaiting, PledgeWaiting):
        db.session.execute(delete(model))
    db.session.commit()
    assert figures.district_differences(db.session) != []
    assert runner.invoke(args=["rebuild-figures"]).exit_code == 0
    agree(monkeypatch)


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard?kind=primary", "/dashboard?status=submitted",
                                  "/dashboard?kind=middle&status=none", "/dashboard?q=%E6%B5%8B%E8%AF%95&kind=primary"])
def test_the_overview_reads_the_same_figures_kept_and_aggregated(app, client, leader, monkeypatch, path):
    """The overview of the unfiltered district reads the kept rows, so does one filtered by kind and/or status, one
    filtered by name aggregates; all render, and the figures agree with the aggregates (a branch quiet for three
    weeks counted by its range, never kept)."""
    built = build_district(5)
    branch = db.session.get(Branch, built.branches[0].id)
    tallies.apply_pending(summaries=True)
    db.session.execute(figures.BranchSummary.__table__.update()
                       .where(figures.BranchSummary.branch_id == branch.id)
                       .values(last_activity=utcnow() - timedelta(days=21)))
    db.session.commit()
    now = utcnow()
    for filters in _filters(year()):
        expected = dashboard._aggregate(year(), filters, now, kept=False).inactive
        assert dashboard._aggregate(year(), filters, now).inactive == expected
    assert dashboard._aggregate(year(), dashboard.Filters(year=year()), now).inactive == 1
    client.login(leader)
    assert client.get(path).status_code == 200
