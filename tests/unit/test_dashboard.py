"""Dashboard service: per-branch aggregation matches progress.py, filters, sorting, summary, snapshots."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.clock import local_today
from portal.extensions import db
from portal.models import (
    Assessment,
    AssessmentStatus,
    BranchSummary,
    ItemResult,
    ProgressSnapshot,
    Result,
    ReviewRating,
    SubmissionStatus,
    UnitKind,
)
from portal.services import dashboard, progress

from ..dashboard_helpers import branch_items, build_district, year


def _overview(**args):
    return dashboard.overview(args)


def test_band_limits():
    assert dashboard.band(None) == "heat-none"
    assert dashboard.band(0) == "heat-0"
    assert dashboard.band(49.9) == "heat-0"
    assert dashboard.band(50) == "heat-1"
    assert dashboard.band(79.9) == "heat-2"
    assert dashboard.band(80) == "heat-3"
    assert dashboard.band(100) == "heat-4"


def test_rows_match_progress_service_for_every_branch(app):
    built = build_district(5)
    rows = {row.branch_id: row for row in dashboard.build_rows(year())}
    assessments = {a.branch_id: a.id for a in db.session.scalars(
        select(Assessment).where(Assessment.member_id.is_(None)))}
    expected = progress.tallies(assessments.values())
    for branch in built.branches:
        row = rows[branch.id]
        assert row.cells == expected[assessments[branch.id]]
        assert row.total == progress.overall(expected[assessments[branch.id]])
    # branch 3 answered its first 6 items
    fourth = rows[built.branches[3].id].total
    assert fourth.assessed + fourth.na == 6


def test_page_rows_show_the_figures_of_the_tallies(app):
    """A page's rows hold no Tally: their cells' figures are the kept progress and score, the figures of the Tally
    computed from the records (`build_rows`); the rows of every match (to print, a bulletin) hold both."""
    build_district(7)
    reference = {row.branch_id: row for row in dashboard.build_rows(year())}
    page = _overview(per_page="50").rows
    every = _overview(per_page="all").rows
    assert [row.branch_id for row in page] == [row.branch_id for row in every] and len(page) == 7
    shown = 0
    for mine, printed in zip(page, every, strict=True):
        cells = reference[mine.branch_id].cells
        assert not mine.cells and mine.figures == {cid: (t.progress, t.score) for cid, t in cells.items()}
        assert printed.cells == cells and printed.figures == mine.figures
        total = reference[mine.branch_id].total
        assert mine.overall == printed.overall == (total.progress, total.score, total.not_met)
        shown += len(cells)
    assert shown and any(score is not None for row in page for _progress, score in row.figures.values())


def test_row_columns(app):
    built = build_district(4)
    rows = {row.branch_id: row for row in dashboard.build_rows(year())}
    first, second, third = (rows[b.id] for b in built.branches[:3])
    assert first.status == AssessmentStatus.DRAFT and first.rating is None
    assert third.status == AssessmentStatus.REVIEWED and third.rating == ReviewRating.GOOD
    assert first.plan_status == SubmissionStatus.SUBMITTED and first.overdue == 0
    assert second.plan_status == SubmissionStatus.PENDING and second.overdue == 1
    assert (first.pledges, first.posts) == (0, 0)
    assert (second.pledges, second.posts) == (1, 1)
    assert (first.members_total, first.members_done) == (2, 1)
    assert (second.members_total, second.members_done) == (2, 0)
    assert first.last_activity is not None


def test_no_plan_request_means_no_plan_status(app):
    build_district(2, plan=False)
    assert all(row.plan_status is None and row.overdue == 0 for row in dashboard.build_rows(year()))


def test_summary_cards(app):
    build_district(4)
    view = _overview()
    s = view.summary
    assert s.branches == 4
    assert s.submitted == 2  # submitted + reviewed
    assert s.overdue == 2  # odd branches did not hand in the plan
    totals = [row.overall for row in view.rows]  # (progress, score, items not met)
    assert s.average_progress == round(sum(t[0] for t in totals) / 4, 1) > 0
    assert s.items_not_met == sum(t[2] for t in totals)
    assert s.inactive == 0  # every branch has an audit event within 3 days


def test_inactive_branches_are_counted(app):
    build_district(16)
    view = _overview()
    # branch i's newest activity is i days ago: 14 and 15 have been quiet for 14 days or more
    assert view.summary.inactive == 2
    quiet = {row.name for row in view.rows if row.inactive(view.now)}
    assert quiet == {"测试014路学校党支部", "测试015路学校党支部"}


@pytest.mark.parametrize("args,expected", [
    ({"kind": "middle"}, {1}),
    ({"status": "reviewed"}, {2}),
    ({"status": "none"}, set()),
    ({"q": "测试002"}, {2}),
    ({"q": "品牌001"}, {1}),
])
def test_filters(app, args, expected):
    built = build_district(4)
    ids = {b.id: i for i, b in enumerate(built.branches)}
    view = _overview(**args)
    assert {ids[row.branch_id] for row in view.rows} == expected
    assert view.all_branches == 4 and not view.filters.notes


@pytest.mark.parametrize(("q", "expected"), [
    ("abc", {0}), ("ABC", {0}), ("aBc路", {0}), ("red", {1}), ("RED_", {1}), ("_c", {1}), ("50%", {2}), ("%", {2}),
    ("a/b", {3}), ("/", {3}), ("测试", {0, 1, 2, 3}), ("ｂ", {0, 3}), ("Ä", {3}), ("ä", {3}), ("_", {1}),
    ("ＡＢＣ", {0}), ("红 abc", set()), ("测试 abc", {0})])
def test_name_search_folds_case_and_width_and_matches_wildcards_literally(app, q, expected):
    """The name search finds a branch whose name or brand holds each word typed, letters of any script in either
    case and full-width letters as their half-width forms (both sides NFKC and case folded, on SQLite and PostgreSQL
    alike: migration h14s_01), and `_`, `%` and `/` as themselves (issue #14)."""
    built = build_district(4)
    names = [("测试ABC路学校党支部", ""), ("测试一路学校党支部", "Red_Candle"), ("测试二路学校党支部", "满分50%"),
             ("测试三a/b路学校党支部", "ÄÖ")]
    for branch, (name, brand) in zip(built.branches, names, strict=True):
        branch.name, branch.brand_name = name, brand
    db.session.commit()  # (the summaries' copies of the names follow)
    assert set(db.session.scalars(select(BranchSummary.name))) == {name for name, _brand in names}
    ids = {b.id: i for i, b in enumerate(built.branches)}
    view = _overview(q=q)
    assert {ids[row.branch_id] for row in view.rows} == expected
    assert view.summary.branches == len(expected)


@pytest.mark.parametrize("args", [{"year": "1999"}, {"year": "abc"}, {"kind": "castle"},
                                  {"status": "lost"}, {"sort": "salary"}, {"sort": "-c99"}])
def test_unknown_values_are_ignored_with_a_note(app, args):
    build_district(2)
    view = _overview(**args)
    assert len(view.filters.notes) == 1
    assert len(view.rows) == 2
    assert view.filters.year.is_current


def _by_hand(branch_id: int) -> dict[str, float | None]:
    """Progress, score and each criterion's score (c1..c5) of a branch, counted here in Python from its rows:
    an order checked against these does not lean on the sort keys or tallies under test."""
    results = dict(db.session.execute(
        select(ItemResult.item_id, ItemResult.result).join(Assessment)
        .where(Assessment.branch_id == branch_id, Assessment.member_id.is_(None))).all())
    figures, everything = {}, []
    for criterion in dashboard.branch_criteria():
        mine = [(item.weight, results.get(item.id)) for item in branch_items(year())
                if item.criterion_id == criterion.id]
        everything += mine
        figures[f"c{criterion.position}"] = _score(mine)
    applicable = [r for _w, r in everything if r != Result.NOT_APPLICABLE]
    assessed = [r for r in applicable if r in (Result.MET, Result.PARTLY, Result.NOT_MET)]
    figures["progress"] = round(100 * len(assessed) / len(applicable), 1) if applicable else 100.0
    figures["score"] = _score(everything)
    return figures


def _score(weighted_results) -> float | None:
    value = {Result.MET: 1.0, Result.PARTLY: 0.5, Result.NOT_MET: 0.0}
    scored = [(w, value[r]) for w, r in weighted_results if r in value]
    return round(100 * sum(w * v for w, v in scored) / sum(w for w, _ in scored), 1) if scored else None


@pytest.mark.parametrize("sort", ["progress", "score", "c1", "c2"])  # build_district answers 3..8 items
def test_figure_sorts_follow_figures_counted_by_hand(app, sort):
    build_district(6)
    lowest_first = [(v is not None, v or 0.0) for v in
                    (_by_hand(r.branch_id)[sort] for r in _overview(sort=sort).rows)]
    assert lowest_first == sorted(lowest_first)
    assert len(set(lowest_first)) > 2  # the data tells the rows apart
    highest_first = [(v is not None, v or 0.0) for v in
                     (_by_hand(r.branch_id)[sort] for r in _overview(sort="-" + sort).rows)]
    assert highest_first == sorted(lowest_first, reverse=True)


def _reference_key(column: str, criteria):
    """The order each column means, in Python (the pages sort in SQL): rows without a value the lowest."""
    from datetime import datetime

    from portal.models import AssessmentStatus, ReviewRating, SubmissionStatus

    status = {None: 0, AssessmentStatus.DRAFT: 1, AssessmentStatus.RETURNED: 2, AssessmentStatus.SUBMITTED: 3,
              AssessmentStatus.REVIEWED: 4}
    rating = {None: 0, ReviewRating.POOR: 1, ReviewRating.AVERAGE: 2, ReviewRating.FAIRLY_GOOD: 3,
              ReviewRating.GOOD: 4}
    plan = {None: 0, SubmissionStatus.PENDING: 1, SubmissionStatus.RETURNED: 2, SubmissionStatus.SUBMITTED: 3,
            SubmissionStatus.ACCEPTED: 4}

    def number(value):
        return (value is not None, value if value is not None else 0.0)

    by_position = {f"c{c.position}": c.id for c in criteria}
    if column in by_position:
        cid = by_position[column]
        return lambda r: number(r.figures[cid][1] if cid in r.figures else None)
    return {
        "progress": lambda r: r.overall[0], "score": lambda r: number(r.overall[1]),
        "status": lambda r: status[r.status], "rating": lambda r: rating[r.rating],
        "plan": lambda r: plan[r.plan_status], "pledges": lambda r: r.pledges, "posts": lambda r: r.posts,
        "coverage": lambda r: (r.coverage, r.members_total),
        "activity": lambda r: (r.last_activity is not None, r.last_activity or datetime.min),
    }.get(column)


@pytest.mark.parametrize("sort", list(dashboard.SORT_COLUMNS) + ["c1", "c3"])
def test_every_sort_orders_rows(app, sort):
    build_district(5)
    up = _overview(sort=sort).rows
    down = _overview(sort="-" + sort).rows
    key = _reference_key(sort, dashboard.branch_criteria())
    if key is not None:
        values = [key(r) for r in up]
        assert values == sorted(values)
        assert [key(r) for r in down] == sorted(values, reverse=True)
    else:
        assert [r.name for r in up] == sorted(r.name for r in up)
        assert [r.name for r in down] == sorted((r.name for r in up), reverse=True)


def test_sort_by_score_puts_unscored_last_when_descending(app):
    build_district(3)
    db.session.delete(db.session.scalar(select(Assessment).where(Assessment.branch_id == db.session.scalar(
        select(func.min(Assessment.branch_id))))))
    db.session.commit()
    rows = _overview(sort="-score").rows
    assert rows[-1].overall[1] is None
    assert all(r.overall[1] is not None for r in rows[:-1])


def test_other_year_is_separate(app):
    build_district(2)
    view = _overview(year="2011")
    assert view.filters.year.year == 2011
    assert all(row.status is None and not row.figures for row in view.rows)


def test_empty_district(app):
    view = _overview()
    assert view.rows == [] and view.all_branches == 0
    assert view.summary.branches == 0


def test_snapshot_upserts_one_row_per_branch(app):
    built = build_district(3)
    day = local_today() - timedelta(days=1)
    assert dashboard.take_snapshot(year(), day) == 3
    assert dashboard.take_snapshot(year(), day) == 3  # again: updated, not duplicated
    snaps = list(db.session.scalars(select(ProgressSnapshot).where(ProgressSnapshot.day == day)))
    assert len(snaps) == 3
    rows = {row.branch_id: row for row in dashboard.build_rows(year())}
    for snap in snaps:
        assert snap.progress == rows[snap.branch_id].total.progress
        assert snap.score == rows[snap.branch_id].total.score
    assert {s.branch_id for s in snaps} == {b.id for b in built.branches}


def test_the_overview_shows_today_live_and_writes_nothing(app):
    """Issue 15: a GET never writes the snapshot (the task queue does); today's point follows the live figures."""
    build_district(2)
    yesterday = local_today() - timedelta(days=1)
    dashboard.take_snapshot(year(), yesterday)
    dashboard.take_snapshot(year(), local_today())
    db.session.execute(update(ProgressSnapshot).where(ProgressSnapshot.day == local_today()).values(progress=0.0))
    db.session.commit()
    view = _overview()
    assert db.session.scalar(select(func.count(ProgressSnapshot.id))) == 4  # nothing more written
    live = round(sum(r.overall[0] for r in view.rows) / len(view.rows), 1)
    assert [p[0] for p in view.timeline] == [yesterday, local_today()]
    assert view.timeline[-1][1] == live > 0  # not the stale stored 0 of today


def test_snapshot_command(app, runner):
    build_district(2)
    result = runner.invoke(args=["snapshot-progress"])
    assert result.exit_code == 0, result.output
    assert "2" in result.output
    assert db.session.scalar(select(func.count(ProgressSnapshot.id))) == 2


def test_item_grid_keeps_framework_order(app):
    built = build_district(2)
    grid = dashboard.item_grid(year())
    positions = [c.position for c, _items in grid.criteria]
    assert positions == sorted(positions) and len(positions) == 5
    first_item = grid.criteria[0][1][0]
    assert (built.branches[0].id, first_item.id) in grid.results


def test_unit_kind_filter_value_is_enum(app):
    build_district(1)
    assert _overview(kind="primary").filters.kind == UnitKind.PRIMARY


def test_dashboard_permission_rules(secretary, member, other_secretary, editor, leader, admin, branch):
    from portal import permissions

    people = {"secretary": secretary, "member": member, "other_secretary": other_secretary, "editor": editor,
              "leader": leader, "admin": admin}

    def who(action, obj=None):
        return {name for name, user in people.items() if permissions.can(user, action, obj)}

    assert who("dashboard.view") == {"leader", "admin"}
    assert who("dashboard.own_branch") == {"secretary", "member", "other_secretary"}
    assert who("branch.view", branch) == {"secretary", "member", "editor", "leader", "admin"}
    assert who("branch.audit.view", branch) == {"secretary", "leader", "admin"}




def test_postgresql_connections_run_without_jit(app):
    """Issue 14: PostgreSQL's JIT compiled the dashboard's aggregates and the tick's upserts on every request
    (their estimated cost passes jit_above_cost), costing far more than running them."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"


def test_overdue_card_counts_what_the_rows_owe(app):
    """Issue 14: the overdue card is (requests past their deadline) × branches − submissions handed in; it equals
    the rows' own overdue counts, unfiltered and filtered, with pending, returned, submitted and accepted
    submissions and an inactive branch that had handed one in."""
    from portal.models import Branch, RequestKind, Submission, SubmissionRequest, utcnow

    built = build_district(6)
    now = utcnow()
    other = SubmissionRequest(year_id=year().id, kind=RequestKind.GENERAL, title="总结",
                              deadline=now - timedelta(days=1))
    future = SubmissionRequest(year_id=year().id, kind=RequestKind.PLAN, title="下一步",
                               deadline=now + timedelta(days=9))
    db.session.add_all([other, future])
    db.session.flush()
    for i, status in enumerate([SubmissionStatus.SUBMITTED, SubmissionStatus.RETURNED, SubmissionStatus.ACCEPTED,
                                SubmissionStatus.PENDING]):
        db.session.add(Submission(request_id=other.id, branch_id=built.branches[i].id, status=status))
    db.session.add(Submission(request_id=future.id, branch_id=built.branches[5].id, status=SubmissionStatus.SUBMITTED))
    db.session.get(Branch, built.branches[0].id).active = False  # handed in, then deactivated: not counted
    db.session.commit()
    for args in ({}, {"kind": UnitKind.PRIMARY.value}, {"status": "submitted"}, {"q": "测试00"}):
        view = _overview(per_page="all", **args)
        assert view.summary.overdue == sum(row.overdue for row in view.rows), args
    assert _overview().summary.overdue > 0


def test_overdue_follow_ups_are_the_years_and_the_filtered_branches(app):
    """The overdue card's 督察整改 count follows the page's year and filters, as its other figures do: a follow-up
    of branch 0 (a primary school) past its due date counts unfiltered and under filters that keep branch 0, not
    under one that leaves it out, a name that matches nothing, or another year (it counted every open follow-up of
    every year, whatever the filters)."""
    from portal.models import CampaignYear, FollowUp, FollowUpStatus, Inspection, InspectionKind

    built = build_district(4)
    today = local_today()
    inspection = Inspection(year_id=year().id, kind=InspectionKind.RESEARCH_VISIT, held_on=today - timedelta(days=9),
                            title="一日调研")
    db.session.add(inspection)
    db.session.flush()
    db.session.add_all([
        FollowUp(inspection_id=inspection.id, branch_id=built.branches[0].id, action="报送方案", owner="书记",
                 due_on=today - timedelta(days=2), status=FollowUpStatus.OPEN),
        FollowUp(inspection_id=inspection.id, branch_id=None, action="总结经验", owner="组织科",
                 due_on=today - timedelta(days=2), status=FollowUpStatus.OPEN),
        FollowUp(inspection_id=inspection.id, branch_id=built.branches[1].id, action="整改", owner="书记",
                 due_on=today + timedelta(days=2), status=FollowUpStatus.OPEN)])  # not yet due
    db.session.commit()
    kind_of_0 = built.branches[0].unit.kind.value
    other_kind = built.branches[1].unit.kind.value
    assert kind_of_0 != other_kind
    assert _overview().summary.overdue_follow_ups == 2  # the district-wide one too
    assert _overview(kind=kind_of_0).summary.overdue_follow_ups == 1
    assert _overview(q="测试000").summary.overdue_follow_ups == 1
    assert _overview(kind=other_kind).summary.overdue_follow_ups == 0
    assert _overview(q="没有这个支部").summary.overdue_follow_ups == 0
    earlier = db.session.scalar(select(CampaignYear).where(CampaignYear.id != year().id).limit(1))
    if earlier is None:
        earlier = CampaignYear(year=year().year - 1, theme="往年")
        db.session.add(earlier)
        db.session.commit()
    assert _overview(year=str(earlier.year)).summary.overdue_follow_ups == 0
