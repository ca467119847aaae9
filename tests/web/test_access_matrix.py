"""Every route of the URL map, for every role: the expected answer comes from this table, and a route
missing from the table fails the test (so a new route cannot skip its access rule).

Roles: anonymous; member and secretary of branch A; secretary of branch B (another branch); editor;
leader; admin. Objects in URLs belong to branch A. "allow" means neither 401/403/404/405 nor 5xx
(a POST with an empty form may well answer 422 or 409); a refusal is 403; anonymous visitors are sent
to the login page (or, for public routes, served)."""
from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Evidence, ItemResult, Result, Role, Subject
from portal.services import checklist

from ..access_world import BUILDERS, OBJECTION
from ..checklist_helpers import current_year, items, make_assessment
from ..factories import BranchFactory, UserFactory

ROLES = ["anonymous", "member", "secretary", "other_secretary", "editor", "leader", "admin"]
EVERYONE = {"member", "secretary", "other_secretary", "editor", "leader", "admin"}
LEADERSHIP = {"leader", "admin"}
PUBLIC = "public"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@dataclass
class World:
    branch: object
    other_branch: object
    users: dict
    item_id: int
    member_item_id: int
    evidence_id: int
    extra: dict


def build_world(endpoint: str | None = None) -> World:
    """Branch A with its people and checklist evidence, then what EXTRA_BUILDERS add: all of it, or for
    `endpoint` only the builders of its area (a builder's optional `areas`: blueprint names)."""
    branch, other = BranchFactory(), BranchFactory()
    users = {
        "member": UserFactory(username="m-a", role=Role.MEMBER, branch=branch),
        "secretary": UserFactory(username="s-a", role=Role.SECRETARY, branch=branch),
        "other_secretary": UserFactory(username="s-b", role=Role.SECRETARY, branch=other),
        "editor": UserFactory(username="ed", role=Role.EDITOR),
        "leader": UserFactory(username="ld", role=Role.LEADER),
        "admin": UserFactory(username="ad", role=Role.ADMIN),
    }
    make_assessment(branch, answer_all=Result.MET)
    make_assessment(branch, member=users["member"], answer_all=Result.MET)
    item = items(Subject.BRANCH)[0]
    from werkzeug.datastructures import FileStorage

    target = checklist.target_for(Subject.BRANCH, branch.id, current_year())
    checklist.add_evidence(users["secretary"], target, item.id, FileStorage(io.BytesIO(PNG), filename="a.png"))
    evidence_id = db.session.scalar(select(Evidence.id))
    assert db.session.scalar(select(ItemResult.id))
    world = World(branch, other, users, item.id, items(Subject.MEMBER)[0].id, evidence_id, {})
    area = endpoint.split(".", 1)[0] if endpoint else None
    for build in EXTRA_BUILDERS:
        if area is None or area in getattr(build, "areas", (area,)):
            build(world)
    return world


EXTRA_BUILDERS: list = list(BUILDERS)

# endpoint: (method, path builder, roles allowed | PUBLIC, {role: status} overrides). A key
# "endpoint@case" checks the same route once more on another object (e.g. a draft and a published post).
B = "/checklist/branch/{w.branch.id}"
M = "/checklist/member/{w.users[member].id}"
X = "{w.extra[%s]}"
N = "/commendation/nominations/" + X % "nomination"
S = "/submission/" + X % "submission"
P = "/pledges/" + X % "%s"
ADMIN = {"admin"}
LEADERS = {"leader"}
EDITORS = {"editor"}
SECRETARIES = {"secretary", "other_secretary"}
BRANCH_PEOPLE = {"member", "secretary", "other_secretary"}
WRITERS = BRANCH_PEOPLE | EDITORS
NOMINATION_READERS = {"secretary", "editor", "leader", "admin"}
TABLE: dict[str, tuple] = {
    "main.home": ("GET", "/", EVERYONE, {}),
    "main.healthz": ("GET", "/healthz", PUBLIC, {}),
    "auth.login": ("GET", "/login", PUBLIC, {}),
    "auth.logout": ("POST", "/logout", EVERYONE, {}),
    "auth.change_password": ("GET", "/account/password", EVERYONE, {}),
    "auth.account": ("GET", "/account", EVERYONE, {}),
    "auth.account_language": ("POST", "/account/language", EVERYONE, {"locale": "en"}),
    "checklist.index": ("GET", "/checklist", {"member", "secretary", "other_secretary", "leader", "admin"}, {}),
    "checklist.branch": ("GET", B, {"member", "secretary", "leader", "admin"}, {}),
    "checklist.member": ("GET", M, {"member", "secretary", "leader", "admin"}, {}),
    "checklist.coverage": ("GET", B + "/members", {"secretary", "leader", "admin"}, {}),
    "checklist.set_result": ("POST", B + "/items/{w.item_id}/result", {"secretary"}, {}),
    "checklist.set_note": ("POST", B + "/items/{w.item_id}/note", {"secretary"}, {}),
    "checklist.add_evidence": ("POST", B + "/items/{w.item_id}/evidence", {"secretary"}, {}),
    "checklist.evidence": ("GET", "/checklist/evidence/{w.evidence_id}", {"member", "secretary", "leader", "admin"},
                           {}),
    "checklist.delete_evidence": ("POST", "/checklist/evidence/{w.evidence_id}/delete", {"secretary"}, {}),
    "checklist.submit": ("POST", B + "/submit", {"secretary"}, {}),
    "checklist.return_": ("POST", B + "/return", LEADERSHIP, {}),
    "checklist.review": ("POST", B + "/review", LEADERSHIP, {}),
    # --- dashboard: the overview and its exports are the leadership's; a branch page is for the
    # district roles and the branch's own people, never for another branch's secretary.
    "dashboard.overview": ("GET", "/dashboard", LEADERSHIP, {}),
    "dashboard.export_xlsx": ("GET", "/dashboard/export.xlsx", LEADERSHIP, {}),
    "dashboard.export_csv": ("GET", "/dashboard/export.csv", LEADERSHIP, {}),
    "dashboard.branch": ("GET", "/branches/{w.branch.id}", {"member", "secretary", "editor", "leader", "admin"}, {}),
    "dashboard.own_branch": ("GET", "/our-branch", BRANCH_PEOPLE, {}),
    # --- news board: branch people and editors write; only editors moderate; a draft is seen by its
    # author and the district roles; the feed is public for school websites.
    "news.board": ("GET", "/news", EVERYONE, {}),
    "news.search": ("GET", "/news/search?q=%E6%94%AF%E9%83%A8", EVERYONE, {}),
    "news.feed": ("GET", "/news/feed.atom", PUBLIC, {}),
    "news.post": ("GET", "/news/" + X % "draft_post", {"secretary", "editor", "leader", "admin"}, {}),
    "news.post@published": ("GET", "/news/" + X % "published_post", EVERYONE, {}),
    "news.cover": ("GET", "/news/" + X % "published_post" + "/cover/thumb", EVERYONE, {}),
    "news.history": ("GET", "/news/" + X % "draft_post" + "/history", EDITORS, {}),
    "news.mine": ("GET", "/news/mine", WRITERS, {}),
    "news.new": ("GET", "/news/new", WRITERS, {}),
    "news.create": ("POST", "/news", WRITERS, {}),
    "news.edit": ("GET", "/news/" + X % "draft_post" + "/edit", {"secretary", "editor"}, {}),
    "news.update": ("POST", "/news/" + X % "draft_post" + "/edit", {"secretary", "editor"}, {}),
    "news.submit": ("POST", "/news/" + X % "draft_post" + "/submit", {"secretary"}, {}),
    "news.queue": ("GET", "/news/queue", EDITORS, {}),
    "news.publish": ("POST", "/news/" + X % "pending_post" + "/publish", EDITORS, {}),
    "news.schedule": ("POST", "/news/" + X % "pending_post" + "/schedule", EDITORS, {}),
    "news.return_post": ("POST", "/news/" + X % "pending_post" + "/return", EDITORS, {}),
    "news.unpublish": ("POST", "/news/" + X % "published_post" + "/unpublish", EDITORS, {}),
    "news.flag": ("POST", "/news/" + X % "published_post" + "/flag", EDITORS, {}),
    # --- commendation: secretaries nominate (their own branch), leaders decide; a nomination is read by
    # its branch's secretary and the district roles until its 公示, then by everyone logged in.
    "commendation.index": ("GET", "/commendation", EVERYONE, {}),
    "commendation.nominate": ("POST", "/commendation/nominations", SECRETARIES, {}),
    "commendation.nomination": ("GET", N, NOMINATION_READERS, {}),
    "commendation.nomination@notice": ("GET", "/commendation/nominations/" + X % "notice_nomination", EVERYONE, {}),
    "commendation.attachment": ("GET", N + "/files/" + X % "attachment", NOMINATION_READERS, {}),
    "commendation.shortlist": ("POST", N + "/shortlist", LEADERS, {}),
    "commendation.start_notice": ("POST", N + "/notice", LEADERS, {}),
    "commendation.commend": ("POST", N + "/commend", LEADERS, {}),
    "commendation.reject": ("POST", N + "/reject", LEADERS, {}),
    "commendation.object_to": ("POST", "/commendation/nominations/" + X % "notice_nomination" + "/objections",
                               EVERYONE, {}),
    # Before its 公示 a nomination is not public: nobody outside it learns of it by objecting.
    "commendation.object_to@not_public": ("POST", N + "/objections", NOMINATION_READERS, {}),
    "commendation.feature": ("POST", N + "/feature", {"leader", "editor"}, {}),
    "commendation.honours": ("GET", "/commendation/honours", EVERYONE, {}),
    # --- campaign: the organisation section (admin) configures years and issues requests; a branch's
    # secretary submits and keeps its brand and projects; pledges go to the branch's secretary (members')
    # or to the organisation section (the branch's and the secretary's own); leadership inspects.
    "campaign.years": ("GET", "/campaign/years", ADMIN, {}),
    "campaign.create_year": ("POST", "/campaign/years", ADMIN, {}),
    "campaign.update_year": ("POST", "/campaign/years/" + X % "year", ADMIN, {}),
    "campaign.make_current": ("POST", "/campaign/years/" + X % "year" + "/current", ADMIN, {}),
    "campaign.submissions": ("GET", "/submissions", SECRETARIES | LEADERSHIP, {}),
    "campaign.create_request": ("POST", "/submissions", ADMIN, {}),
    # A secretary opening a request is sent on to their own branch's submission.
    "campaign.request_page": ("GET", "/submissions/" + X % "request", SECRETARIES | LEADERSHIP,
                              {"secretary": 302, "other_secretary": 302}),
    "campaign.submission": ("GET", S, {"secretary"} | LEADERSHIP, {}),
    "campaign.submission_document": ("GET", S + "/document", {"secretary"} | LEADERSHIP, {}),
    "campaign.submit": ("POST", S + "/submit", {"secretary"}, {}),
    "campaign.accept": ("POST", S + "/accept", ADMIN, {}),
    "campaign.return_submission": ("POST", S + "/return", ADMIN, {}),
    "campaign.pledges": ("GET", "/pledges", EVERYONE, {}),
    "campaign.create_pledge": ("POST", "/pledges", BRANCH_PEOPLE, {}),
    "campaign.pledge": ("GET", P % "pledge", {"member", "secretary"} | LEADERSHIP, {}),
    "campaign.pledge@branch": ("GET", P % "branch_pledge", {"member", "secretary"} | LEADERSHIP, {}),
    "campaign.update_pledge": ("POST", P % "pledge", {"member"}, {}),
    "campaign.update_pledge@branch": ("POST", P % "branch_pledge", {"secretary"}, {}),
    "campaign.submit_pledge": ("POST", P % "pledge" + "/submit", {"member"}, {}),
    "campaign.add_pledge_entry": ("POST", P % "pledge" + "/entries", {"member"}, {}),
    "campaign.approve_pledge": ("POST", P % "pledge" + "/approve", {"secretary"}, {}),
    "campaign.approve_pledge@branch": ("POST", P % "branch_pledge" + "/approve", ADMIN, {}),
    "campaign.approve_pledge@secretary_own": ("POST", P % "secretary_pledge" + "/approve", ADMIN, {}),
    "campaign.return_pledge": ("POST", P % "pledge" + "/return", {"secretary"}, {}),
    "campaign.return_pledge@branch": ("POST", P % "branch_pledge" + "/return", ADMIN, {}),
    "campaign.evaluate_pledge": ("POST", P % "pledge" + "/evaluate", {"secretary"}, {}),
    "campaign.evaluate_pledge@branch": ("POST", P % "branch_pledge" + "/evaluate", ADMIN, {}),
    "campaign.brands": ("GET", "/brands", EVERYONE, {}),
    "campaign.brand": ("GET", "/brands/{w.branch.id}", EVERYONE, {}),
    "campaign.update_brand": ("POST", "/brands/{w.branch.id}", {"secretary", "admin"}, {}),
    "campaign.create_project": ("POST", "/brands/{w.branch.id}/projects", {"secretary"}, {}),
    "campaign.add_milestone": ("POST", "/projects/" + X % "project" + "/milestones", {"secretary"}, {}),
    "campaign.update_milestone": ("POST", "/milestones/" + X % "milestone", {"secretary"}, {}),
    "campaign.inspections": ("GET", "/inspections", LEADERSHIP, {}),
    "campaign.create_inspection": ("POST", "/inspections", LEADERSHIP, {}),
    "campaign.inspection": ("GET", "/inspections/" + X % "inspection", LEADERSHIP, {}),
    "campaign.add_follow_up": ("POST", "/inspections/" + X % "inspection" + "/follow-ups", LEADERSHIP, {}),
    "campaign.follow_up_status": ("POST", "/follow-ups/" + X % "follow_up" + "/status", LEADERSHIP, {}),
    # --- administration: the organisation section only.
    "admin.users": ("GET", "/admin/users", ADMIN, {}),
    "admin.create_user": ("POST", "/admin/users", ADMIN, {}),
    "admin.user": ("GET", "/admin/users/{w.users[member].id}", ADMIN, {}),
    "admin.update_user": ("POST", "/admin/users/{w.users[member].id}", ADMIN, {}),
    "admin.set_user_active": ("POST", "/admin/users/{w.users[member].id}/active", ADMIN, {}),
    "admin.reset_password": ("POST", "/admin/users/{w.users[member].id}/password", ADMIN, {}),
    "admin.branches": ("GET", "/admin/branches", ADMIN, {}),
    "admin.create_branch": ("POST", "/admin/branches", ADMIN, {}),
    "admin.update_branch": ("POST", "/admin/branches/{w.branch.id}", ADMIN, {}),
    "admin.set_branch_active": ("POST", "/admin/branches/{w.branch.id}/active", ADMIN, {}),
    "admin.delete_branch": ("POST", "/admin/branches/{w.branch.id}/delete", ADMIN, {}),
    "admin.roster": ("GET", "/admin/roster", ADMIN, {}),
    "admin.roster_preview": ("POST", "/admin/roster", ADMIN, {}),
    # Importing needs the token of an earlier preview; an empty form names no preview: 404.
    "admin.roster_import": ("POST", "/admin/roster/import", ADMIN, {"admin": 404}),
}


def _url(template: str, world: World) -> str:
    return template.format(w=world)


def _endpoint(key: str) -> str:
    return key.split("@", 1)[0]


def _endpoints(app) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"})


def test_every_route_is_in_the_table(app):
    covered = {_endpoint(key) for key in TABLE}
    missing = [e for e in _endpoints(app) if e not in covered]
    assert missing == [], f"routes without an access rule in the matrix: {missing}"
    stale = [e for e in TABLE if _endpoint(e) not in _endpoints(app)]
    assert stale == [], f"rules for routes that no longer exist: {stale}"


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_access(app, endpoint):
    method, template, allowed, overrides = TABLE[endpoint]
    world = build_world(_endpoint(endpoint))
    url = _url(template, world)
    problems = []
    # Refused roles first: only an allowed request may change (or delete) what the URL points at.
    order = sorted(ROLES, key=lambda r: (allowed == PUBLIC or r in allowed, ROLES.index(r)))
    for role in order:
        client = app.test_client()
        if role != "anonymous":
            assert client.login(world.users[role]).status_code == 303
        if method == "GET":
            response = client.get(url)
        else:
            response = client.form_post(url, {})
        status = response.status_code
        expected = overrides.get(role)
        if expected is not None:
            ok = status == expected
        elif role == "anonymous":
            ok = (status < 400 and status != 302) if allowed == PUBLIC else (
                status in (302, 303) and "/login" in response.headers.get("Location", ""))
        elif allowed == PUBLIC or role in allowed:
            ok = status < 500 and status not in (401, 403, 404, 405)
        else:
            ok = status == 403
        if not ok:
            problems.append(f"{role}: {method} {url} → {status}")
    assert problems == []


def test_objections_are_read_by_the_leading_group_only(app):
    """Issue 5: "objections are visible to leaders only" (the page itself promises "only the leading group
    reads objections"): everyone logged in reads a nomination under 公示, only leaders its objections."""
    world = build_world()
    url = _url("/commendation/nominations/{w.extra[notice_nomination]}", world)
    seen, counted = {}, {}
    for role in ROLES[1:]:
        client = app.test_client()
        client.login(world.users[role])
        response = client.get(url)
        assert response.status_code == 200, role
        seen[role] = OBJECTION in response.get_data(as_text=True)
        # Nor does the list of nominations tell anybody else that (or how many) objections came in.
        counted[role] = "1 条异议" in client.get("/commendation").get_data(as_text=True)
    assert {role for role, shown in seen.items() if shown} == {"leader"}
    assert {role for role, shown in counted.items() if shown} == {"leader"}
