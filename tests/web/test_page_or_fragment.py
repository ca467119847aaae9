"""Every route that answers with either a whole page or a fragment (`render(..., block=...)`) gives the whole
page to a boosted, history-restore or `HX-Request-Type: full` htmx request, and only the fragment to a partial
one. A history restore that got a fragment would show a bare table as the page after Back."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_access_matrix import _url, build_world

VIEWS = Path(__file__).parents[2] / "portal" / "views"
RENDER_BLOCK = re.compile(r'render\(\s*"([^"]+)",\s*block="([^"]+)"')
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
WHOLE = {
    "boosted": {"HX-Request": "true", "HX-Boosted": "true"},
    "history restore": {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    "full request type": {"HX-Request": "true", "HX-Request-Type": "full"},
}
# (template, block): role, method, URL (access-matrix world), form, what the fragment holds. Posts are invalid
# or idempotent (a 422 re-render, a status set again), so that each of the four requests meets the same state.
CASES = {
    ("dashboard/overview.html", "dashboard"): ("leader", "GET", "/dashboard?sort=-score", None, 'id="dashboard'),
    ("dashboard/branch.html", "branch"): ("leader", "GET", "/branches/{w.branch.id}", None, "{w.branch.name}"),
    ("news/board.html", "more"): ("member", "GET", "/news?more=1&page=1", None, "已发布的风采"),
    ("news/search.html", "results"): ("member", "GET", "/news/search?q=%E9%A3%8E%E9%87%87", None,
                                      'id="search-results"'),
    ("news/edit.html", "post_form"): ("secretary", "POST", "/news", {"title": ""}, "<form"),
    ("campaign/request.html", "grid_update"): ("leader", "POST", "/submission/{w.extra[submission]}/return",
                                               {"reason": ""}, "{w.branch.name}"),
    # An accept under the 已报送 filter takes the row out of the list (the first request: the summary and the filter
    # sent again); the others meet it decided and are refused, as a whole page that says only 已报送 can be decided.
    ("campaign/request.html", "grid_left"): (
        "leader", "POST", "/submission/{w.extra[submission]}/accept?state=submitted", None, "已报送"),
    ("campaign/brand.html", "milestone_row"): ("secretary", "POST", "/milestones/{w.extra[milestone]}",
                                               {"done": "1", "evidence": ""}, "读书月"),
    ("campaign/inspection.html", "follow_up_row"): ("leader", "POST", "/follow-ups/{w.extra[follow_up]}/status",
                                                    {"status": "done"}, "整改"),
}


# The record whose version an edit form carries (its page renders it; without it the form is outdated).
VERSIONED = {("campaign/request.html", "grid_update"): ("Submission", "submission"),
             ("campaign/request.html", "grid_left"): ("Submission", "submission"),
             ("campaign/brand.html", "milestone_row"): ("Milestone", "milestone"),
             ("campaign/inspection.html", "follow_up_row"): ("FollowUp", "follow_up")}


def _version(case, world) -> dict:
    if case not in VERSIONED:
        return {}
    import portal.models as models
    from portal.extensions import db

    model, key = VERSIONED[case]
    return {"version": str(db.session.get(getattr(models, model), world.extra[key]).version)}


def test_every_fragment_route_has_a_case():
    found = set()
    for module in VIEWS.glob("*.py"):
        found |= set(RENDER_BLOCK.findall(module.read_text(encoding="utf-8")))
    assert found == set(CASES)


@pytest.fixture
def world(app):
    return build_world()


@pytest.mark.parametrize("case", sorted(CASES), ids="/".join)
def test_page_for_navigation_fragment_for_a_swap(app, world, case):
    role, method, template, data, marker = CASES[case]
    client = app.test_client()
    assert client.login(world.users[role]).status_code == 303
    url, marker = _url(template, world), _url(marker, world)

    def ask(headers):
        if method == "GET":
            return client.get(url, headers=headers)
        return client.post(url, data={**(data or {}), **_version(case, world), "csrf_token": client.csrf_token()},
                           headers=headers)

    fragment = ask(PARTIAL)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code < 500 and "<html" not in body and "<body" not in body, body[:300]
    assert marker in body
    for name, headers in WHOLE.items():
        response = ask(headers)
        body = response.get_data(as_text=True)
        # A navigation gets the whole page, or (after a form post) the redirect a browser follows to one.
        whole = "<html" in body and marker in body if response.status_code != 303 else response.location
        assert whole, f"{name}: {response.status_code} {body[:200]}"
