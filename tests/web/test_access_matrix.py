"""Every route of the URL map, for every role: the expected answer comes from this table, and a route
missing from the table fails the test (so a new route cannot skip its access rule).

Roles: anonymous; member and secretary of branch A; secretary of branch B (another branch); editor;
leader; admin. Objects in URLs belong to branch A. "allow" means neither 401/403/404/405 nor 5xx
(a POST with an empty form may well answer 422 or 409); a refusal is 403; anonymous visitors are sent
to the login page (or, for public routes, served)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.clock import local_today
from portal.extensions import db
from portal.models import (
    Assessment,
    CampaignYear,
    Evidence,
    ItemResult,
    Nomination,
    Pledge,
    Post,
    Result,
    Role,
    Subject,
    Submission,
    utcnow,
)
from portal.services import branch_import, checklist, commendation, pledges, roster, submissions

from ..access_world import BUILDERS, OBJECTION, PDF
from ..checklist_helpers import current_year, items, make_assessment, year
from ..conftest import builtin_data, empty_tables
from ..factories import BranchFactory, UserFactory
from ..fingerprint import changed, fingerprint
from ..news_helpers import image_bytes

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
    world = World(branch, other, users, item.id, items(Subject.MEMBER)[0].id, evidence_id,
                  {"empty_branch": BranchFactory().id, "past_year": year(2011).id})
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
    # The branch picker's suggestions: active branches for everyone (the news board's filter); deactivated ones
    # too only for the organisation section (accounts, the audit log).
    "main.branch_suggestions": ("GET", "/branches/suggest?field=branch&branch_q=%E6%94%AF%E9%83%A8", EVERYONE, {}),
    "main.branch_suggestions@all": ("GET", "/branches/suggest?scope=all&field=branch&branch_q=%E6%94%AF%E9%83%A8",
                                    ADMIN, {}),
    "auth.login": ("GET", "/login", PUBLIC, {}),
    "auth.logout": ("POST", "/logout", EVERYONE, {}),
    "auth.change_password": ("GET", "/account/password", EVERYONE, {}),
    "auth.account": ("GET", "/account", EVERYONE, {}),
    "auth.account_language": ("POST", "/account/language", EVERYONE, {"locale": "en"}),
    "auth.account_notifications": ("POST", "/account/notifications", EVERYONE, {}),
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
    "dashboard.figures": ("GET", "/dashboard/figures?q=%E6%94%AF%E9%83%A8", LEADERSHIP, {}),
    "dashboard.export_xlsx": ("GET", "/dashboard/export.xlsx", LEADERSHIP, {}),
    "dashboard.export_items_xlsx": ("GET", "/dashboard/items.xlsx", LEADERSHIP, {}),
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
    "news.upload_image": ("POST", "/news/images", WRITERS, {}),
    "news.inline_image": ("GET", "/news/images/" + X % "inline_image", EVERYONE, {}),
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
    "commendation.commend": ("POST", "/commendation/nominations/" + X % "notice_nomination" + "/commend", LEADERS, {}),
    "commendation.reject": ("POST", N + "/reject", LEADERS, {}),
    "commendation.object_to": ("POST", "/commendation/nominations/" + X % "notice_nomination" + "/objections",
                               EVERYONE, {}),
    # Before its 公示 a nomination is not public: nobody outside it learns of it by objecting.
    # Its readers are not refused (403) but told it takes no objections (409), and nothing is stored.
    "commendation.object_to@not_public": ("POST", N + "/objections", NOMINATION_READERS,
                                          dict.fromkeys(NOMINATION_READERS, 409)),
    "commendation.feature": ("POST", "/commendation/nominations/" + X % "notice_nomination" + "/feature",
                             {"leader", "editor"}, {}),
    "commendation.honours": ("GET", "/commendation/honours", EVERYONE, {}),
    # --- campaign: the organisation section (admin) configures years and issues requests; a branch's
    # secretary submits and keeps its brand and projects; pledges go to the branch's secretary (members')
    # or to the organisation section (the branch's and the secretary's own); leadership inspects.
    "campaign.years": ("GET", "/campaign/years", ADMIN, {}),
    "campaign.create_year": ("POST", "/campaign/years", ADMIN, {}),
    "campaign.update_year": ("POST", "/campaign/years/" + X % "year", ADMIN, {}),
    "campaign.make_current": ("POST", "/campaign/years/" + X % "past_year" + "/current", ADMIN, {}),
    "campaign.open_next_phase": ("POST", "/campaign/years/" + X % "year" + "/next-phase", ADMIN, {}),
    "campaign.submissions": ("GET", "/submissions", SECRETARIES | LEADERSHIP, {}),
    "campaign.create_request": ("POST", "/submissions", ADMIN, {}),
    # A secretary opening a request is sent on to their own branch's submission.
    "campaign.request_page": ("GET", "/submissions/" + X % "request", SECRETARIES | LEADERSHIP,
                              {"secretary": 302, "other_secretary": 302}),
    "campaign.submission": ("GET", S, {"secretary"} | LEADERSHIP, {}),
    "campaign.submission_document": ("GET", S + "/document", {"secretary"} | LEADERSHIP, {}),
    "campaign.submit": ("POST", S + "/submit", {"secretary"}, {}),
    # The world's submission is a plan: the leading group decides it (DESIGN.md).
    "campaign.accept": ("POST", S + "/accept", LEADERS, {}),
    "campaign.return_submission": ("POST", S + "/return", LEADERS, {}),
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
    "campaign.update_project": ("POST", "/projects/" + X % "project", {"secretary"}, {}),
    "campaign.add_milestone": ("POST", "/projects/" + X % "project" + "/milestones", {"secretary"}, {}),
    "campaign.update_milestone": ("POST", "/milestones/" + X % "milestone", {"secretary"}, {}),
    "campaign.inspections": ("GET", "/inspections", LEADERSHIP, {}),
    "campaign.create_inspection": ("POST", "/inspections", LEADERSHIP, {}),
    "campaign.inspection": ("GET", "/inspections/" + X % "inspection", LEADERSHIP, {}),
    "campaign.update_inspection": ("POST", "/inspections/" + X % "inspection", LEADERSHIP, {}),
    "campaign.add_follow_up": ("POST", "/inspections/" + X % "inspection" + "/follow-ups", LEADERSHIP, {}),
    "campaign.follow_up_status": ("POST", "/follow-ups/" + X % "follow_up" + "/status", LEADERSHIP, {}),
    # --- 通报: the leading group and the organisation section draft, edit and issue; an issued bulletin's
    # documents are published, so everyone logged in downloads them.
    "bulletins.index": ("GET", "/bulletins", LEADERSHIP, {}),
    "bulletins.new": ("GET", "/bulletins/new", LEADERSHIP, {}),
    "bulletins.create": ("POST", "/bulletins", LEADERSHIP, {}),
    "bulletins.show": ("GET", "/bulletins/" + X % "draft_bulletin", LEADERSHIP, {}),
    "bulletins.edit": ("GET", "/bulletins/" + X % "draft_bulletin" + "/edit", LEADERSHIP, {}),
    "bulletins.update": ("POST", "/bulletins/" + X % "draft_bulletin" + "/edit", LEADERSHIP, {}),
    "bulletins.confirm_issue": ("GET", "/bulletins/" + X % "draft_bulletin" + "/issue", LEADERSHIP, {}),
    "bulletins.issue": ("POST", "/bulletins/" + X % "draft_bulletin" + "/issue", LEADERSHIP, {}),
    "bulletins.docx": ("GET", "/bulletins/" + X % "issued_bulletin" + ".docx", EVERYONE, {}),
    "bulletins.docx@draft": ("GET", "/bulletins/" + X % "draft_bulletin" + ".docx", LEADERSHIP, {}),
    "bulletins.pdf": ("GET", "/bulletins/" + X % "issued_bulletin" + ".pdf", EVERYONE, {}),
    # --- 党务公开栏: a branch's sheet for its secretary and leadership; the 公示 sheet for those who post notices.
    "noticeboard.branch": ("GET", "/branches/{w.branch.id}/noticeboard", {"secretary"} | LEADERSHIP, {}),
    "noticeboard.notices": ("GET", "/commendation/notice-sheet", SECRETARIES | EDITORS | LEADERSHIP, {}),
    "campaign.follow_up": ("GET", "/follow-ups/" + X % "follow_up", {"secretary", "leader", "admin"}, {}),
    "campaign.answer_follow_up": ("POST", "/follow-ups/" + X % "follow_up" + "/answer", {"secretary"}, {}),
    "checklist.remind": ("POST", M + "/remind", {"secretary"}, {}),
    "notifications.index": ("GET", "/notifications", EVERYONE, {}),
    # Someone else's notification is not found: nothing tells it from one that does not exist.
    "notifications.read": ("POST", "/notifications/" + X % "notification" + "/read", {"member"},
                           dict.fromkeys(EVERYONE - {"member"}, 404)),
    "notifications.read_all": ("POST", "/notifications/read-all", EVERYONE, {}),
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
    # A branch with nothing recorded (branch A's records keep it from being deleted: 409).
    "admin.delete_branch": ("POST", "/admin/branches/" + X % "empty_branch" + "/delete", ADMIN, {}),
    "admin.roster": ("GET", "/admin/roster", ADMIN, {}),
    "admin.audit": ("GET", "/admin/audit", ADMIN, {}),
    "admin.audit_csv": ("GET", "/admin/audit.csv", ADMIN, {}),
    "admin.roster_preview": ("POST", "/admin/roster", ADMIN, {}),
    # Importing needs the token of an earlier preview (FORMS makes one).
    "admin.roster_import": ("POST", "/admin/roster/import", ADMIN, {}),
    "admin.setup": ("GET", "/admin/setup", ADMIN, {}),
    "admin.roster_template": ("GET", "/admin/roster/template.csv", ADMIN, {}),
    "admin.roster_job": ("GET", "/admin/roster/imports/" + X % "roster_import", ADMIN, {}),
    "admin.roster_changes": ("GET", "/admin/roster/preview/disable.csv?token=" + X % "roster_preview", ADMIN, {}),
    "admin.roster_slips": ("POST", "/admin/roster/imports/" + X % "roster_import" + "/slips", ADMIN, {}),
    "admin.roster_cancel": ("POST", "/admin/roster/imports/" + X % "roster_import" + "/cancel", ADMIN, {}),
    "admin.reissue_activation": ("POST", "/admin/users/{w.users[member].id}/activation", ADMIN, {}),
    "admin.slips": ("GET", "/admin/slips/" + X % "slip_batch", ADMIN, {}),
    "admin.branch_import": ("GET", "/admin/branches/import", ADMIN, {}),
    "admin.branch_template": ("GET", "/admin/branches/template.xlsx", ADMIN, {}),
    "admin.branch_import_preview": ("POST", "/admin/branches/import", ADMIN, {}),
    # Importing needs the token of an earlier preview (FORMS makes one).
    "admin.branch_import_confirm": ("POST", "/admin/branches/import/confirm", ADMIN, {}),
    "auth.activate": ("GET", "/activate", PUBLIC, {}),
    # --- the framework editor: the organisation section only (the world's 2012 has started: changes confirm).
    "frameworks.index": ("GET", "/admin/frameworks", ADMIN, {}),
    "frameworks.edit": ("GET", "/admin/frameworks/five_goods?year=2012", ADMIN, {}),
    "frameworks.export": ("GET", "/admin/frameworks/five_goods/export.xlsx", ADMIN, {}),
    "frameworks.update_criterion": ("POST", "/admin/frameworks/criteria/" + X % "criterion", ADMIN, {}),
    "frameworks.add_item": ("POST", "/admin/frameworks/items", ADMIN, {}),
    "frameworks.update_item": ("POST", "/admin/frameworks/items/{w.item_id}", ADMIN, {}),
    "frameworks.set_item_active": ("POST", "/admin/frameworks/items/{w.item_id}/active", ADMIN, {}),
    # A preview writes nothing: 200 with the changes listed.
    "frameworks.import_preview": ("POST", "/admin/frameworks/five_goods/import", ADMIN, {"admin": 200}),
    "frameworks.import_apply": ("POST", "/admin/frameworks/five_goods/import/apply", ADMIN, {}),
    # A GET on a confirmation's address (reloaded, or from the history) goes back to the framework (303).
    "frameworks.criterion_page": ("GET", "/admin/frameworks/criteria/" + X % "criterion", ADMIN, {}),
    "frameworks.items_page": ("GET", "/admin/frameworks/items", ADMIN, {}),
    "frameworks.item_page": ("GET", "/admin/frameworks/items/{w.item_id}", ADMIN, {}),
    "frameworks.item_page@active": ("GET", "/admin/frameworks/items/{w.item_id}/active", ADMIN, {}),
    "frameworks.import_page": ("GET", "/admin/frameworks/five_goods/import", ADMIN, {}),
    "frameworks.import_page@apply": ("GET", "/admin/frameworks/five_goods/import/apply", ADMIN, {}),
    # --- 群众评议 and 分类定级: the ballot is public (a one-time code, no login); the organisation section
    # runs rounds and rules; a branch's codes are its secretary's and the organisation section's; results
    # and member grades go to leadership and the branch's secretary; the leading group confirms branch
    # grades, the secretary members' grades; members of a branch appraise each other.
    "appraisal.ballot": ("GET", "/appraisal", PUBLIC, {}),
    "appraisal.ballot@post": ("POST", "/appraisal", PUBLIC, {}),
    "appraisal.thanks": ("GET", "/appraisal/thanks", PUBLIC, {}),
    "appraisal.hub": ("GET", "/appraisal/overview", BRANCH_PEOPLE | LEADERSHIP, {}),
    "appraisal.round_settings": ("GET", "/appraisal/round", ADMIN, {}),
    "appraisal.save_round": ("POST", "/appraisal/round", ADMIN, {}),
    "appraisal.codes": ("GET", "/appraisal/branch/{w.branch.id}/codes", {"secretary", "admin"}, {}),
    "appraisal.generate": ("POST", "/appraisal/branch/{w.branch.id}/codes", {"secretary", "admin"}, {}),
    "appraisal.void": ("POST", "/appraisal/branch/{w.branch.id}/codes/void", {"secretary", "admin"}, {}),
    "appraisal.void_one": ("POST", "/appraisal/branch/{w.branch.id}/codes/void-one", {"secretary", "admin"}, {}),
    "appraisal.slips": ("GET", "/appraisal/branch/{w.branch.id}/codes/batches/" + X % "batch", {"secretary", "admin"},
                        {}),
    "appraisal.results": ("GET", "/appraisal/branch/{w.branch.id}/results", {"secretary"} | LEADERSHIP, {}),
    "appraisal.members": ("GET", "/appraisal/members", BRANCH_PEOPLE, {}),
    "appraisal.appraise_members": ("POST", "/appraisal/members", BRANCH_PEOPLE, {}),
    "appraisal.grades": ("GET", "/grades", LEADERSHIP, {}),
    "appraisal.propose": ("POST", "/grades/propose", LEADERSHIP, {}),
    "appraisal.confirm": ("POST", "/grades/" + X % "branch_grade" + "/confirm", LEADERS, {}),
    "appraisal.confirm_on_page": ("POST", "/grades", LEADERS, {}),
    "appraisal.confirm@member": ("POST", "/grades/" + X % "member_grade" + "/confirm", {"secretary"}, {}),
    "appraisal.member_grades": ("GET", "/grades/branch/{w.branch.id}/members", {"secretary"} | LEADERSHIP, {}),
    "appraisal.policy": ("GET", "/grades/policy", ADMIN, {}),
    "appraisal.save_policy": ("POST", "/grades/policy", ADMIN, {}),
}


# --- what an allowed POST sends, so that "allowed" can mean "the change happened" ---------------------
# key: (data, prepare). `data(world, role)` builds a valid form (files fresh each call); `prepare(world)` puts
# the object in the state the action needs. A key without an entry posts an empty form.
def _png(name: str = "a.png"):
    return (io.BytesIO(PNG), name)


def _csv(world):
    text = f"用户名,姓名,角色,支部\nroster01,名册导入,党员,{world.branch.name}\n"
    return (io.BytesIO(text.encode()), "名册.csv")


def _branch_csv(_world):
    text = "单位,单位类型,支部名称,支部类型,党员数\n矩阵小学,小学,矩阵小学党支部,党支部,3\n"
    return (io.BytesIO(text.encode()), "支部.csv")


def _news_form(world, role):
    return {"category": "branch_exemplar", "title": f"新稿件{role}", "summary": "摘要", "body_md": "正文。",
            "branch_id": str(world.users[role].branch_id or world.branch.id)}


def _post_version(world, role):
    post = db.session.get(Post, world.extra["draft_post"])
    return {**_news_form(world, role), "version": str(post.version)}


def _seen(model_name: str, key: str | None = None, data=lambda w, r: {}):
    """`data`, plus the version the record's page shows now (an edit form carries it; without it the form
    is outdated, 400). The record is world.extra[key], or for a callable `key` what it returns."""

    def build(world, role):
        import portal.models as models

        record = key(world) if callable(key) else db.session.get(getattr(models, model_name), world.extra[key])
        db.session.refresh(record)
        return {**data(world, role), "version": str(record.version)}

    return build


def _project_version(world, role):
    from portal.models import Project

    project = db.session.get(Project, world.extra["project"])
    return {"title": f"品牌项目（{role}）", "goal": "全年完成。", "version": str(project.version)}


def _inspection_version(world, role):
    from portal.models import Inspection

    inspection = db.session.get(Inspection, world.extra["inspection"])
    return {"title": f"督察（{role}）", "findings": "台账齐全。", "version": str(inspection.version)}


def _note_version(world, role):
    row = db.session.scalar(select(ItemResult).join(Assessment).where(
        Assessment.branch_id == world.branch.id, Assessment.subject == Subject.BRANCH,
        ItemResult.item_id == world.item_id))
    return {"note": "有台账可查。", "note_version": str(row.note_version or 0)}


def _submit_branch_checklist(world):
    checklist.submit(world.users["secretary"], checklist.target_for(Subject.BRANCH, world.branch.id, current_year()))


def _new_member(world, role):
    member = UserFactory(role=Role.MEMBER, branch=world.users[role].branch)
    return {"member_id": str(member.id), "deeds": "带头上好每一堂课。"}


def _shortlist(world):
    commendation.shortlist(world.users["leader"], db.session.get(Nomination, world.extra["nomination"]))


def _notice_over(world):
    nomination = db.session.get(Nomination, world.extra["notice_nomination"])
    nomination.notice_ends_at = utcnow() - timedelta(days=1)
    db.session.commit()


def _commended(world):
    _notice_over(world)
    commendation.commend(world.users["leader"], db.session.get(Nomination, world.extra["notice_nomination"]),
                         "district", "")


def _year_form(world, role):
    year = db.session.get(CampaignYear, world.extra["year"])
    form = {"theme": year.theme + "（修订）", "description": "说明", "version": str(year.version)}
    for phase in year.phases:
        form[f"{phase.kind.value}_start"] = phase.starts_on.isoformat()
        form[f"{phase.kind.value}_end"] = phase.ends_on.isoformat()
    return form


def _approve(key):
    def prepare(world):
        owner = world.users["admin"] if key != "pledge" else world.users["secretary"]
        pledges.approve(owner, db.session.get(Pledge, world.extra[key]))
    return prepare


def _queued_import(world):
    """The world's roster import, queued again (as one the task queue has not begun), so that it can be cancelled."""
    from portal.models import ImportStatus, RosterImport

    db.session.get(RosterImport, world.extra["roster_import"]).status = ImportStatus.QUEUED
    db.session.commit()


def _preview(world, role):
    preview = roster.preview(FileStorage(*_csv(world)))
    return {"token": preview.token, "fingerprint": preview.plan.fingerprint()}


def _return_pledge(key):
    def prepare(world):
        owner = world.users["admin"] if key != "pledge" else world.users["secretary"]
        pledges.return_for_revision(owner, db.session.get(Pledge, world.extra[key]), "请写具体。")
    return prepare


def _return_submission(world):
    submissions.return_for_revision(world.users["leader"], db.session.get(Submission, world.extra["submission"]),
                                    "请补充。")


def _submission_form(world, role):
    return {"note": "已补充。", "group_role": ["leader"], "group_name": ["林一"], "group_post": ["书记"],
            "document": (io.BytesIO(PDF), "plan.pdf")}


def _pledge_items(subject):
    return lambda world, role: {"for": "branch" if subject == Subject.BRANCH else "member", "text": "带头服务师生",
                                "items": [str(pledges.items_for(subject, current_year())[0][0])]}


def _ballot(world, role):
    """A fresh code of branch A's round for each sender, and every question answered."""
    from portal.models import AppraisalRound
    from portal.services import appraisal

    round_ = db.session.get(AppraisalRound, world.extra["round"])
    code = appraisal.generate_codes(world.users["admin"], round_, world.branch, "parents", 1)[0]
    return {"code": code, "step": "answers", **{f"q{q.id}": "fairly" for q in round_.questions}}


def _member_answers(world, role):
    from portal.services import appraisal

    return {f"m{m.id}": "satisfied" for m in appraisal.branch_members(world.users[role].branch_id)}


def _confirm(key, grade):
    def data(world, role):
        from portal.models import GradeRecord

        record = db.session.get(GradeRecord, world.extra[key])
        return {"grade": grade, "reason": "经领导小组复核，依据充分。", "version": str(record.version),
                "record": str(record.id)}
    return data


def _codes_to_void(world):
    from portal.models import AppraisalRound
    from portal.services import appraisal

    appraisal.generate_codes(world.users["admin"], db.session.get(AppraisalRound, world.extra["round"]),
                             world.branch, "staff", 2)


def _one_code_to_void(world, role):
    from portal.models import AppraisalRound
    from portal.services import appraisal

    code = appraisal.generate_codes(world.users["admin"], db.session.get(AppraisalRound, world.extra["round"]),
                                    world.branch, "staff", 1)[0]
    return {"code": code}


_POLICY = {"weight_self": "50", "weight_review": "25", "weight_appraisal": "25", "advanced_min": "80",
           "ordinary_min": "60", "advanced_min_satisfaction": "70", "member_excellent_min": "90",
           "member_qualified_min": "70", "member_basic_min": "50"}
TODAY = local_today().isoformat()
FORMS: dict[str, tuple] = {
    "appraisal.ballot@post": (_ballot, None),
    "appraisal.save_round": (lambda w, r: {"groups": ["staff", "parents"], "weight_satisfied": "100",
                                           "weight_fairly": "85", "weight_basically": "60", "weight_dissatisfied": "0",
                                           "min_ballots": "12", "member_min_answers": "3", "opens_on": TODAY,
                                           "closes_on": (local_today() + timedelta(days=9)).isoformat()}, None),
    "appraisal.generate": (lambda w, r: {"group": "parents", "count": "2"}, None),
    "appraisal.void": (lambda w, r: {"group": "", "confirm": "yes"}, _codes_to_void),
    "appraisal.void_one": (_one_code_to_void, None),
    "appraisal.appraise_members": (_member_answers, None),
    "appraisal.confirm": (_confirm("branch_grade", "lagging"), None),
    "appraisal.confirm_on_page": (_confirm("branch_grade", "lagging"), None),
    "appraisal.confirm@member": (_confirm("member_grade", "excellent"), None),
    "appraisal.save_policy": (lambda w, r: _POLICY, None),
    "checklist.set_result": (lambda w, r: {"result": "not_met"}, None),
    "checklist.set_note": (_note_version, None),
    "checklist.add_evidence": (lambda w, r: {"file": _png()}, None),
    "checklist.return_": (lambda w, r: {"reason": "请补充台账。"}, _submit_branch_checklist),
    "checklist.review": (lambda w, r: {"rating": "good", "comment": "扎实。", "improvements": "继续。"},
                         _submit_branch_checklist),
    "news.create": (_news_form, None),
    "news.upload_image": (lambda w, r: {"image": image_bytes(name="inline.png", size=(20, 20))}, None),
    "auth.account_language": (lambda w, r: {"locale": "en"}, None),
    "campaign.update_project": (_project_version, None),
    "campaign.update_inspection": (_inspection_version, None),
    "news.update": (_post_version, None),
    "news.schedule": (lambda w, r: {"publish_at": (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")}, None),
    "news.return_post": (lambda w, r: {"reason": "请补充图片。"}, None),
    "news.flag": (lambda w, r: {"flag": "pinned", "value": "1"}, None),
    "commendation.nominate": (_new_member, None),
    "commendation.shortlist": (_seen("Nomination", "nomination"), None),
    "commendation.start_notice": (_seen("Nomination", "nomination", lambda w, r: {"days": "7"}), _shortlist),
    "commendation.commend": (_seen("Nomination", "notice_nomination", lambda w, r: {"level": "district", "note": ""}),
                             _notice_over),
    "commendation.reject": (_seen("Nomination", "nomination", lambda w, r: {"note": "事迹不够突出。"}), None),
    "commendation.object_to": (lambda w, r: {"text": f"{r}：材料与事实不符。"}, None),
    "commendation.object_to@not_public": (lambda w, r: {"text": "材料与事实不符。"}, None),
    "commendation.feature": (lambda w, r: {}, _commended),
    # "Mark all as read" goes up to the newest notification the page showed.
    "notifications.read_all": (lambda w, r: {"up_to": "2147483647"}, None),
    "campaign.create_year": (lambda w, r: {"year": "2013", "theme": "新的一年"}, None),
    "campaign.update_year": (_year_form, None),
    "campaign.open_next_phase": (lambda w, r: {"start": TODAY, "end": (local_today() + timedelta(days=20)).isoformat(),
                                               "version": str(db.session.get(CampaignYear, w.extra["year"]).version)},
                                 None),
    "campaign.create_request": (lambda w, r: {"kind": "plan", "title": "报送总结", "description": "",
                                              "deadline": (local_today() + timedelta(days=30)).isoformat() + "T08:00"},
                                None),
    "campaign.submit": (_seen("Submission", "submission", _submission_form), _return_submission),
    "campaign.accept": (_seen("Submission", "submission"), None),
    "campaign.submit_pledge": (lambda w, r: {}, _return_pledge("pledge")),
    "campaign.return_submission": (_seen("Submission", "submission", lambda w, r: {"reason": "请补充附件。"}), None),
    "campaign.create_pledge": (_pledge_items(Subject.MEMBER), None),
    "campaign.update_pledge": (_seen("Pledge", "pledge", lambda w, r: {"text": "每学期两次公开课", "items": [
        str(pledges.items_for(Subject.MEMBER, current_year())[0][0])]}), _return_pledge("pledge")),
    "campaign.update_pledge@branch": (_seen("Pledge", "branch_pledge", lambda w, r: {"text": "班子更团结", "items": [
        str(pledges.items_for(Subject.BRANCH, current_year())[0][0])]}), _return_pledge("branch_pledge")),
    "campaign.add_pledge_entry": (lambda w, r: {"text": "上了公开课", "happened_on": TODAY}, _approve("pledge")),
    "campaign.return_pledge": (lambda w, r: {"reason": "请写具体。"}, None),
    "campaign.return_pledge@branch": (lambda w, r: {"reason": "请写具体。"}, None),
    "campaign.evaluate_pledge": (lambda w, r: {"rating": "good", "comment": "好"}, _approve("pledge")),
    "campaign.evaluate_pledge@branch": (lambda w, r: {"rating": "good", "comment": "好"}, _approve("branch_pledge")),
    "campaign.update_brand": (_seen("Branch", lambda w: w.branch, lambda w, r: {
        "brand_name": "书香支部", "brand_slogan": "读书明理", "brand_description": ""}), None),
    "campaign.create_project": (lambda w, r: {"title": "示范岗", "goal": "十名"}, None),
    "campaign.add_milestone": (lambda w, r: {"title": "读书周", "measure": "", "due_on": "2012-12-01"}, None),
    "campaign.update_milestone": (_seen("Milestone", "milestone", lambda w, r: {"done": "1", "evidence": "照片"}),
                                  None),
    "campaign.create_inspection": (lambda w, r: {"kind": "forum", "held_on": TODAY, "title": "座谈",
                                                 "findings": "", "branches": [str(w.branch.id)]}, None),
    "campaign.add_follow_up": (lambda w, r: {"branch_id": str(w.branch.id), "action": "整改", "owner": "书记",
                                             "due_on": TODAY}, None),
    "campaign.follow_up_status": (_seen("FollowUp", "follow_up", lambda w, r: {"status": "done"}), None),
    "campaign.answer_follow_up": (_seen("FollowUp", "follow_up", lambda w, r: {"response": "已整改", "done": "1"}),
                                  None),
    "auth.account_notifications": (lambda w, r: {"email_preference": "immediate"}, None),
    "admin.create_user": (lambda w, r: {"username": "new01", "display_name": "新老师", "password": "long-enough-42",
                                        "role": "member", "branch": str(w.branch.id)}, None),
    "admin.update_user": (_seen("User", lambda w: w.users["member"], lambda w, r: {
        "display_name": "新名字", "role": "member", "branch": str(w.branch.id), "post_title": "教师"}), None),
    "admin.set_user_active": (lambda w, r: {"active": "0"}, None),
    "admin.reset_password": (lambda w, r: {"password": "another-secret-42", "confirm": "another-secret-42"}, None),
    "admin.roster_slips": (lambda w, r: {"branch": "all", "confirm": "1"}, None),  # the world printed one
    "admin.roster_cancel": (lambda w, r: {}, _queued_import),
    "campaign.make_current": (lambda w, r: {"confirm": "1"}, None),
    "admin.create_branch": (lambda w, r: {"unit_name": "新学校", "unit_kind": "primary", "branch_name": "新学校党支部",
                                          "branch_kind": "branch", "member_count": "12"}, None),
    "admin.update_branch": (_seen("Branch", lambda w: w.branch, lambda w, r: {
        "unit_name": w.branch.unit.name, "unit_kind": "primary", "branch_name": w.branch.name + "（改）",
        "branch_kind": "branch", "member_count": "11"}), None),
    "admin.set_branch_active": (lambda w, r: {"active": "0"}, None),
    "admin.roster_preview": (lambda w, r: {"file": _csv(w)}, None),
    "admin.branch_import_preview": (lambda w, r: {"file": _branch_csv(w)}, None),
    "admin.branch_import_confirm": (lambda w, r: {"token": branch_import.preview(FileStorage(*_branch_csv(w))).token},
                                    None),
    "admin.roster_import": (_preview, None),
    "bulletins.create": (lambda w, r: {"title": "通报", "heading": "一、总体情况", "body": "进展顺利。",
                                       "copy_to": ""}, None),
    "bulletins.update": (lambda w, r: {"title": "通报（修改）", "heading": "一、总体情况", "body": "进展顺利。",
                                       "copy_to": "", "version": "1"}, None),
    "bulletins.issue": (lambda w, r: {"version": "1"}, None),
    "frameworks.update_criterion": (lambda w, r: {"version": "1", "title": "领导班子建设好", "position": "1",
                                                  "confirm": "1"}, None),
    "frameworks.add_item": (lambda w, r: {"criterion": str(w.extra["criterion"]), "text": "新条目", "weight": "1",
                                          "year": "2012", "confirm": "1"}, None),
    "frameworks.update_item": (lambda w, r: {"version": "1", "text": "新的表述", "weight": "2", "confirm": "1"}, None),
    "frameworks.set_item_active": (lambda w, r: {"active": "0", "confirm": "1"}, None),
    "frameworks.import_preview": (lambda w, r: {"file": _framework_file()}, None),
    "frameworks.import_apply": (lambda w, r: _framework_import(), None),
}


def _framework_file() -> FileStorage:
    """The branch framework exported, with its first item's wording changed."""
    from openpyxl import load_workbook

    from portal.services import frameworks

    book = load_workbook(io.BytesIO(frameworks.export_xlsx(frameworks.get_framework("five_goods"))))
    book["条目"]["D2"] = "新的表述"
    out = io.BytesIO()
    book.save(out)
    return FileStorage(io.BytesIO(out.getvalue()), filename="five_goods.xlsx")


def _framework_import() -> dict:
    """A confirmed import: the preview's checked content and fingerprint."""
    from portal.services import frameworks

    preview = frameworks.preview_import(frameworks.get_framework("five_goods"), _framework_file())
    return {"plan": preview.plan, "fingerprint": preview.fingerprint, "confirm": "1"}


def _url(template: str, world: World) -> str:
    return template.format(w=world)


def _endpoint(key: str) -> str:
    return key.split("@", 1)[0]


def _endpoints(app) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"})


@pytest.fixture(autouse=True)
def inline_queue(monkeypatch):
    """A confirmed roster import runs in place, never on the instance's own task queue."""
    from portal import tasks

    monkeypatch.setattr(tasks.huey, "immediate", True)


def test_every_route_is_in_the_table(app):
    covered = {_endpoint(key) for key in TABLE}
    missing = [e for e in _endpoints(app) if e not in covered]
    assert missing == [], f"routes without an access rule in the matrix: {missing}"
    stale = [e for e in TABLE if _endpoint(e) not in _endpoints(app)]
    assert stale == [], f"rules for routes that no longer exist: {stale}"


def form_for(key: str, world: World, role: str) -> dict:
    data, _prepare = FORMS.get(key, (None, None))
    # An anonymous visitor sends what a secretary would (forms that name the sender's branch need a person).
    return data(world, "secretary" if role == "anonymous" else role) if data else {}


def fresh_world(key: str) -> World:
    """The world for `key`, with its object put in the state the action needs (FORMS' prepare)."""
    world = build_world(_endpoint(key))
    prepare = FORMS.get(key, (None, None))[1]
    if prepare:
        prepare(world)
    return world


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_access(app, endpoint):
    """GET: allowed roles are served, refused ones get 403. POST (with a valid form from FORMS): an allowed
    role's request changes what is stored (and answers < 400), a refused role's gets 403 and changes nothing;
    an override names a status, and then a 4xx must have changed nothing."""
    method, template, allowed, overrides = TABLE[endpoint]
    world = fresh_world(endpoint)
    problems = []
    # Refused roles first; each allowed role after the first meets the object afresh (the first changed it).
    order = sorted(ROLES, key=lambda r: (allowed == PUBLIC or r in allowed, ROLES.index(r)))
    wrote = False
    for role in order:
        if wrote and method == "POST":
            db.session.remove()
            empty_tables()
            builtin_data()
            world, wrote = fresh_world(endpoint), False
        url = _url(template, world)
        client = app.test_client()
        if role != "anonymous":
            assert client.login(world.users[role]).status_code == 303
        if method == "GET":
            response = client.get(url)
            written = []
        else:
            data = form_for(endpoint, world, role)
            before = fingerprint()
            response = client.form_post(url, data)
            written = changed(before, fingerprint())
            wrote = wrote or bool(written)
        status = response.status_code
        expected = overrides.get(role)
        if expected is not None:
            ok = status == expected and (status < 400 or not written)
        elif role == "anonymous":
            ok = (status < 400 and status != 302) if allowed == PUBLIC else (
                status in (302, 303) and "/login" in response.headers.get("Location", "") and not written)
        elif allowed == PUBLIC or role in allowed:
            ok = status < 400 and (method == "GET" or bool(written))
        else:
            ok = status == 403 and not written
        if not ok:
            problems.append(f"{role}: {method} {url} → {status}, wrote {written or 'nothing'}")
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
