"""Objects of branch A that the access matrix (`tests/web/test_access_matrix.py`) puts in its URLs.

Each builder takes the matrix's `World`, creates what its area's routes point at through the real
service functions, and stores the ids in `world.extra`. Everything belongs to branch A (`world.branch`)
or is written by branch A's people; the district roles only act on it (publish, shortlist, inspect)."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.clock import local_today
from portal.models import Notification, Subject, utcnow
from portal.services import (
    campaign,
    commendation,
    images,
    inspections,
    news,
    notifications,
    pledges,
    projects,
    submissions,
)

from .news_helpers import image_file

OBJECTION = "公示材料与事实不符，请核实。"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 200


def _pdf(name: str) -> FileStorage:
    return FileStorage(io.BytesIO(PDF), filename=name)


def _post(author, title: str, cover: FileStorage | None = None):
    data = news.PostInput(category="branch_exemplar", title=title, summary="摘要", body_md="## 先锋\n\n党员示范岗。",
                          branch_id=str(author.branch_id))
    return news.create_post(author, data, cover=cover)


def build_news(world) -> None:
    """A draft of the secretary, a post of the member waiting for the editors, a published post with a cover,
    an image put into a post's text."""
    users = world.users
    draft = _post(users["secretary"], "支部草稿")
    pending = _post(users["member"], "待审稿件")
    news.submit_post(users["member"], pending)
    published = _post(users["secretary"], "已发布的风采", cover=image_file(size=(64, 48)))
    news.submit_post(users["secretary"], published)
    news.publish_post(users["editor"], published)
    inline = images.store_inline(users["secretary"], image_file(size=(40, 30)))
    world.extra.update(draft_post=draft.id, pending_post=pending.id, published_post=published.id,
                       inline_image=inline.stored_name)


def build_commendation(world) -> None:
    """The member nominated with an attachment (not yet public), and the branch itself under 公示 with an
    objection from the member."""
    users, year = world.users, campaign.current_year()
    secretary, leader = users["secretary"], users["leader"]
    nomination = commendation.nominate(secretary, year, str(users["member"].id), "带头服务师生。",
                                       files=[_pdf("事迹材料.pdf")])
    attachment = commendation.attachments(nomination)[0]
    notice = commendation.nominate(secretary, year, "", "支部班子团结务实。")
    commendation.shortlist(leader, notice)
    commendation.start_notice(leader, notice, "7")
    commendation.object_to(users["member"], notice, OBJECTION)
    world.extra.update(nomination=nomination.id, attachment=attachment.id, notice_nomination=notice.id)


def build_campaign(world) -> None:
    """A submission request with branch A's submitted plan; pledges of the member, of the secretary and of
    the branch, all waiting for approval; a project with a milestone; an inspection with a follow-up."""
    users, year = world.users, campaign.current_year()
    admin, secretary, member, leader = users["admin"], users["secretary"], users["member"], users["leader"]
    request = submissions.create_request(admin, year, kind="plan", title="报送领导小组名单和实施方案",
                                         description="", branch_ids=[],
                                         deadline=(utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    submission = submissions.submission_for(request, world.branch.id)
    submissions.submit(secretary, submission, note="", group=(["leader"], ["林一"], ["书记"]),
                       document=_pdf("plan.pdf"))
    member_item = str(pledges.items_for(Subject.MEMBER, year)[0][0])
    branch_item = str(pledges.items_for(Subject.BRANCH, year)[0][0])
    member_pledge = pledges.create(member, year, for_branch=False, text="带头服务师生", item_ids=[member_item])
    pledges.submit(member, member_pledge)
    secretary_pledge = pledges.create(secretary, year, for_branch=False, text="带头学习", item_ids=[member_item])
    pledges.submit(secretary, secretary_pledge)
    branch_pledge = pledges.create(secretary, year, for_branch=True, text="班子团结务实", item_ids=[branch_item])
    pledges.submit(secretary, branch_pledge)
    project = projects.create_project(secretary, world.branch, year, title="书香校园", goal="")
    milestone = projects.add_milestone(secretary, project, title="读书月", measure="", due_on="2012-11-01")
    inspection = inspections.create(leader, year, kind="forum", held_on=local_today().isoformat(), title="座谈会",
                                    findings="", branch_ids=[str(world.branch.id)])
    follow_up = inspections.add_follow_up(leader, inspection, branch_id=str(world.branch.id), action="整改",
                                          owner="书记", due_on=local_today().isoformat())
    world.extra.update(year=year.id, request=request.id, submission=submission.id, pledge=member_pledge.id,
                       secretary_pledge=secretary_pledge.id, branch_pledge=branch_pledge.id, project=project.id,
                       milestone=milestone.id, inspection=inspection.id, follow_up=follow_up.id)


def build_appraisal(world) -> None:
    """An open appraisal round of the current year with three ballots for branch A, and the grade proposals
    (branch A's, and the member's)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import GradeRecord
    from portal.services import appraisal, grading

    from .appraisal_helpers import open_round

    admin = world.users["admin"]
    round_ = open_round(admin, minimum=3)
    for code in appraisal.generate_codes(admin, round_, world.branch, "parents", 3):
        appraisal.cast_ballot(code, {q.id: "satisfied" for q in round_.questions})
    grading.propose(admin, campaign.current_year())
    records = {r.member_id: r.id for r in db.session.scalars(
        select(GradeRecord).where(GradeRecord.branch_id == world.branch.id))}
    batch = appraisal.generate_batch(admin, round_, world.branch, "parents", 2)
    world.extra.update(round=round_.id, branch_grade=records[None], member_grade=records[world.users["member"].id],
                       batch=batch.id)


def build_bulletins(world) -> None:
    """A draft bulletin and an issued one (of the current year), drafted and issued by the leader."""
    from flask import current_app, g

    from portal.services import bulletins

    leader = world.users["leader"]
    g.pop("current_year", None)  # the test's app context outlives the tables emptied between worlds
    with current_app.test_request_context("/"):
        year = bulletins.choose_year(None)
        draft = bulletins.create_draft(leader, year, bulletins.new_draft_input(year))
        issued = bulletins.create_draft(leader, year, bulletins.new_draft_input(year))
        bulletins.issue(leader, issued, issued.version)
    world.extra.update(draft_bulletin=draft.id, issued_bulletin=issued.id)
def build_notifications(world) -> None:
    """One unread notification for every person; the member's is the one the matrix marks read."""
    from portal.extensions import db

    for role, user in world.users.items():
        notifications.notify([user], "post.published", f"matrix:{role}", "/news", what="稿件")
    db.session.commit()
    world.extra["notification"] = db.session.scalar(select(Notification.id).where(
        Notification.recipient_id == world.users["member"].id))


# The blueprints whose pages show what each builder makes (the home page and the dashboard show it all).
def build_roster(world) -> None:
    """A finished roster import whose one new account has not activated yet."""
    from portal.extensions import db
    from portal.models import ImportStatus, Role, RosterImport, User
    from portal.services import activation

    job = RosterImport(token="0" * 32 + ".csv", filename="roster.csv", status=ImportStatus.DONE, total=1, done=1,
                       summary={"created": 1, "updated": 0, "disabled": 0, "unchanged": 0},
                       created_by_id=world.users["admin"].id)
    db.session.add(job)
    db.session.flush()
    newcomer = User(username="imported1", display_name="新人", password_hash=activation.NO_PASSWORD,
                    role=Role.MEMBER, branch_id=world.branch.id, roster_import_id=job.id)
    db.session.add(newcomer)
    db.session.commit()
    world.extra["roster_import"] = job.id
    # A kept preview (its checked rows), whose lists of changes download as CSV.
    from portal.services import roster, uploads

    world.extra["roster_preview"] = "1" * 32 + ".csv"
    uploads.write_bytes(roster.UPLOAD_KIND, world.extra["roster_preview"],
                        f"username,display_name,role,branch\nroster02,名册预览,党员,{world.branch.name}\n".encode())
    world.extra["slip_batch"] = activation.issue(world.users["admin"], [newcomer.id], import_id=job.id).id


def build_frameworks(world) -> None:
    """The criterion of the world's branch item (the framework editor edits it)."""
    from portal.extensions import db
    from portal.models import Item

    world.extra["criterion"] = db.session.get(Item, world.item_id).criterion_id


build_news.areas = ("news", "main", "dashboard")
build_commendation.areas = ("commendation", "main", "dashboard")
build_campaign.areas = ("campaign", "main", "dashboard")
build_appraisal.areas = ("appraisal", "main", "dashboard")
build_bulletins.areas = ("bulletins",)
build_notifications.areas = ("notifications", "main")
build_roster.areas = ("admin",)
build_frameworks.areas = ("frameworks",)
BUILDERS = [build_roster, build_news, build_commendation, build_campaign, build_appraisal, build_bulletins,
            build_notifications, build_frameworks]
