"""Issue 14 (h14k): the district's totals kept by the database's triggers (`district_summary`, `district_criterion`,
`request_tally`, migration h14k_01) always equal a computation from scratch over the summaries, tallies and
submissions, after a random mix of ticks, submissions, returns and reviews, 报送 submissions and requests, branches
deactivated and reactivated, answers and branches deleted, and years added and made current; and the overview's
cards, chart, criterion averages and overdue submissions and the branch page's comparison read from them equal the
aggregates over every summary that they replace."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, true

from portal.extensions import db
from portal.models import (
    Assessment,
    AssessmentStatus,
    Branch,
    CampaignYear,
    DistrictCriterion,
    DistrictSummary,
    ItemResult,
    RequestKind,
    Result,
    Subject,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    utcnow,
)
from portal.services import campaign, checklist, dashboard, figures, tallies, users
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


def _aggregated(monkeypatch, call):
    """`call()` with the dashboard's aggregates over every summary (the path a filter takes), as before h14k."""
    with monkeypatch.context() as patch:
        patch.setattr(dashboard, "_matching", lambda year, filters: [true()])
        return call()


def agree(monkeypatch) -> None:
    """Kept = from scratch (the tables), and what the pages read = the aggregates they replace (every year)."""
    differences = figures.district_differences(db.session)
    assert not differences, "\n".join(map(str, differences))
    summaries = figures.differences(db.session)
    assert not summaries, "\n".join(map(str, summaries))
    now = utcnow()
    criteria = dashboard.branch_criteria()
    for campaign_year in db.session.scalars(select(CampaignYear)):
        filters = dashboard.Filters(year=campaign_year)
        kept = dashboard._aggregate(campaign_year, filters, now)
        fresh = _aggregated(monkeypatch, lambda y=campaign_year, f=filters: dashboard._aggregate(y, f, now))
        for name in ("count", "all_count", "submitted", "not_met", "inactive", "bands"):
            assert getattr(kept, name) == getattr(fresh, name), name
        for name in ("average_progress", "average_score", "all_progress", "all_score"):
            a, b = getattr(kept, name), getattr(fresh, name)
            assert (a is None) == (b is None) and (a is None or abs(a - b) < 0.051), (name, a, b)
        overdue = dashboard._overdue_total(campaign_year, now, filters, kept.count)
        assert overdue == _aggregated(monkeypatch, lambda y=campaign_year, f=filters, n=kept.count:
                                      dashboard._overdue_total(y, now, f, n))
        averages = dashboard._criterion_averages(campaign_year, filters, criteria, kept.count)
        old = _aggregated(monkeypatch, lambda y=campaign_year, f=filters, n=kept.count:
                          dashboard._criterion_averages(y, f, criteria, n))
        for (criterion, score, progress), (_c, old_score, old_progress) in zip(averages, old, strict=True):
            assert (score is None) == (old_score is None), criterion.title
            assert score is None or abs(score - old_score) < 0.051
            assert abs(progress - old_progress) < 0.051
    db.session.rollback()


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
    """A branch deleted (its people moved out first): its summaries, assessments and tallies go by cascade. (One of
    the odd branches, whose member has no self-assessment: a member's assessment names the branch it was made in
    and would go with it, leaving their new branch's coverage stale, which is not this test's subject.)"""
    i = rng.randrange(1, len(built.branches), 2)
    branch = db.session.get(Branch, built.branches[i].id)
    if branch is None or len([b for b in built.branches if db.session.get(Branch, b.id) is not None]) <= 2:
        return
    other = next(b for b in built.branches if b.id != branch.id and db.session.get(Branch, b.id) is not None)
    for person in (built.secretaries[i], built.members[i]):
        person.branch_id = other.id
    db.session.commit()
    users.delete_branch(admin, db.session.get(Branch, branch.id))


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


def _new_year(rng, admin, years: list[int]) -> None:
    """A year added (every branch gets its summary) and made current; or an earlier one made current again."""
    if rng.random() < 0.5 or len(years) == 1:
        number = years[-1] + 1
        created = campaign.create_year(admin, str(number), f"主题{number}")
        years.append(number)
        campaign.make_current(admin, created)
    else:
        campaign.make_current(admin, year(rng.choice(years)))


def test_a_random_mix_of_changes_keeps_the_district_totals_exact(app, admin, leader, monkeypatch):
    built = build_district(6)
    agree(monkeypatch)
    assert _kept(year().id)["branches"] == 6
    rng = random.Random(1414)
    years = [year().year]
    steps = [(0.43, lambda: _tick(rng, built, branch_items(year()))),
             (0.12, lambda: _workflow(rng, built, branch_items(year()), leader)),
             (0.12, lambda: _flip(rng, built, admin)),
             (0.12, lambda: _submission(rng, built)),
             (0.09, lambda: _delete_answers(rng, built)),
             (0.05, lambda: _delete_branch(rng, built, admin)),
             (0.07, lambda: _new_year(rng, admin, years))]
    done = set()
    for _ in range(80):
        roll, step = rng.random(), None
        for index, (share, action) in enumerate(steps):
            roll -= share
            if roll < 0 or index == len(steps) - 1:
                step = index
                action()
                break
        done.add(step)
        agree(monkeypatch)
    assert done == set(range(len(steps)))  # every kind of change was made at least once


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
    db.session.execute(delete(DistrictSummary))
    db.session.execute(delete(DistrictCriterion))
    db.session.commit()
    assert figures.district_differences(db.session) != []
    assert runner.invoke(args=["rebuild-figures"]).exit_code == 0
    agree(monkeypatch)


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard?kind=primary", "/dashboard?status=submitted"])
def test_the_overview_reads_the_same_figures_kept_and_aggregated(app, client, leader, monkeypatch, path):
    """The overview of the unfiltered district reads the kept rows, a filtered one aggregates; both render, and the
    figures agree with the aggregates (a branch quiet for three weeks counted by its range, never kept)."""
    built = build_district(5)
    branch = db.session.get(Branch, built.branches[0].id)
    tallies.apply_pending(summaries=True)
    db.session.execute(figures.BranchSummary.__table__.update()
                       .where(figures.BranchSummary.branch_id == branch.id)
                       .values(last_activity=utcnow() - timedelta(days=21)))
    db.session.commit()
    now = utcnow()
    filters = dashboard.Filters(year=year())
    assert dashboard._aggregate(year(), filters, now).inactive == 1 == _aggregated(
        monkeypatch, lambda: dashboard._aggregate(year(), filters, now)).inactive
    client.login(leader)
    assert client.get(path).status_code == 200
