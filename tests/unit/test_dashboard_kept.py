"""The dashboard's kept figures: a change confined to a branch aggregates that branch again, any other
change the whole district; either way the rows equal a computation from scratch."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import AssessmentStatus, Subject
from portal.services import audit, checklist, dashboard
from tests.dashboard_helpers import branch_items, build_district, year


@pytest.fixture
def kept(app):
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    app.extensions.pop("portal.dashboard_figures", None)
    return app


def _fresh(app) -> dict[int, dashboard.Row]:
    seconds = app.config["DASHBOARD_CACHE_SECONDS"]
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    try:
        return {row.branch_id: row for row in dashboard.district_rows(year())}
    finally:
        app.config["DASHBOARD_CACHE_SECONDS"] = seconds


def test_a_tick_aggregates_only_its_branch_and_the_figures_are_exact(kept):
    built = build_district(6)
    first = {row.branch_id: row for row in dashboard.district_rows(year())}
    ticked = built.branches[0]
    assert first[ticked.id].status == AssessmentStatus.DRAFT
    target = checklist.target_for(Subject.BRANCH, ticked.id, year())
    checklist.set_item_result(built.secretaries[0], target, branch_items(year())[7].id, "met")

    second = {row.branch_id: row for row in dashboard.district_rows(year())}
    assert second[ticked.id] is not first[ticked.id]
    assert second[ticked.id].total.assessed == first[ticked.id].total.assessed + 1
    assert all(second[bid] is first[bid] for bid in first if bid != ticked.id)  # not aggregated again
    assert second == _fresh(kept)
    averages = dashboard.district_averages(year(), dashboard.branch_criteria())
    kept.config["DASHBOARD_CACHE_SECONDS"] = 0
    assert averages == dashboard.district_averages(year(), dashboard.branch_criteria())


def test_a_change_beyond_one_branch_aggregates_the_district_again(kept):
    built = build_district(4)
    first = {row.branch_id: row for row in dashboard.district_rows(year())}
    member = built.members[1]
    member.branch_id = built.branches[2].id  # moves a person: two branches' coverage changes
    audit.record(None, "user.update", member, after={"branch_id": built.branches[2].id})
    db.session.commit()

    second = {row.branch_id: row for row in dashboard.district_rows(year())}
    assert not any(second[bid] is first[bid] for bid in first)
    assert second == _fresh(kept)
    assert second[built.branches[1].id].members_total == first[built.branches[1].id].members_total - 1


def test_a_branch_event_without_a_branch_is_treated_as_district_wide(kept):
    build_district(3)
    first = dashboard.district_rows(year())
    audit.record(None, "checklist.set_result", None, after={})
    db.session.commit()
    assert not set(map(id, dashboard.district_rows(year()))) & set(map(id, first))
