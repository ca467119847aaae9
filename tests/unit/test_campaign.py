"""Campaign services: years and phases, submission requests, pledges, projects, supervision."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal import permissions
from portal.clock import local_today
from portal.errors import Conflict, Invalid
from portal.extensions import db
from portal.models import (
    AuditEvent,
    CampaignYear,
    FollowUpStatus,
    GroupRole,
    Item,
    LeadingGroupMember,
    PhaseKind,
    PledgeStatus,
    Role,
    SubmissionStatus,
    User,
    utcnow,
)
from portal.services import campaign, inspections, pledges, projects, submissions

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "方案.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(PDF), filename=name, content_type="application/pdf")


def year_of(number: int) -> CampaignYear:
    return db.session.scalar(select(CampaignYear).where(CampaignYear.year == number))


def current() -> CampaignYear:
    return campaign.current_year()


def audits(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def make_request(admin, branches=None, deadline: datetime | None = None, kind: str = "plan"):
    deadline = deadline or (utcnow() + timedelta(days=7))
    return submissions.create_request(
        admin, current(), kind=kind, title="报送领导小组名单和实施方案", description="",
        deadline=deadline.strftime("%Y-%m-%dT%H:%M"), branch_ids=[str(b.id) for b in branches or []])


GROUP = (["leader", "deputy", "member", "member"], ["林一", "周二", "吴三", ""], ["书记", "校长", "教导主任", ""])


def item_ids(subject_word: str = "member") -> list[str]:
    from portal.models import Subject

    subject = Subject.MEMBER if subject_word == "member" else Subject.BRANCH
    return [str(pledges.items_for(subject, current())[0][0])]


# --- years and phases --------------------------------------------------------------------------

def test_exactly_one_current_year_and_switching(admin):
    assert current().year == 2012
    campaign.make_current(admin, year_of(2011))
    assert db.session.scalar(select(func.count(CampaignYear.id)).where(CampaignYear.is_current.is_(True))) == 1
    assert current().year == 2011
    assert audits("campaign_year.make_current") == 1


def test_past_year_is_read_only(admin, secretary):
    with pytest.raises(Conflict) as error:
        campaign.ensure_writable(year_of(2011).id)
    assert "2011" in error.value.message
    with pytest.raises(Conflict):
        pledges.create(secretary, year_of(2010), for_branch=True, text="承诺", item_ids=item_ids("branch"))
    with pytest.raises(Conflict):
        campaign.update_year(admin, year_of(2011), "新主题", "", {})


def _dates(year: CampaignYear) -> dict:
    return {p.kind.value: (p.starts_on.isoformat(), p.ends_on.isoformat()) for p in year.phases}


def test_update_year_checks_phase_order(admin):
    year = current()
    dates = _dates(year)
    dates["pledge"] = (dates["mobilise"][0], dates["pledge"][1])  # overlaps the first phase
    dates["review"] = ("2012-10-31", "2012-10-01")  # ends before it starts
    with pytest.raises(Invalid) as error:
        campaign.update_year(admin, year, "", "", dates)
    assert set(error.value.field_errors) >= {"theme", "pledge_start", "review_end"}
    db.session.rollback()
    dates = _dates(current())
    dates["commend"] = ("2012-12-01", "2012-12-20")
    campaign.update_year(admin, current(), "向十八大献礼(修订)", "说明", dates)
    assert current().theme == "向十八大献礼(修订)"
    assert {p.kind: p.ends_on for p in current().phases}[PhaseKind.COMMEND] == date(2012, 12, 20)
    assert audits("campaign_year.update") == 1


def test_create_year_with_default_phases(admin):
    with pytest.raises(Invalid) as error:
        campaign.create_year(admin, "2012", "重复")
    assert "year" in error.value.field_errors
    year = campaign.create_year(admin, "2013", "再出发")
    assert [p.kind for p in year.phases] == list(PhaseKind)


def test_phase_tasks_per_role(secretary, admin, member):
    phase = current().phases[1]  # 公开承诺
    assert any("承诺" in text or "pledge" in text for text, _ in campaign.phase_tasks(secretary, phase))
    assert campaign.phase_tasks(admin, phase)[0][1] == "campaign.pledges"
    assert campaign.phase_tasks(member, None) == []


# --- submission requests --------------------------------------------------------------------------

def test_request_goes_to_all_active_branches_and_grid_in_one_query(admin, branch, other_branch):
    request = make_request(admin)
    rows = submissions.grid(request)
    assert {r.branch_id for r in rows} == {branch.id, other_branch.id}
    assert {r.state for r in rows} == {"pending"}
    assert audits("submission_request.create") == 1


def test_request_validation(admin, branch):
    with pytest.raises(Invalid) as error:
        submissions.create_request(admin, current(), kind="nonsense", title="", description="",
                                   deadline="tomorrow", branch_ids=["999"])
    assert set(error.value.field_errors) == {"kind", "title", "deadline", "branches"}


def test_plan_submission_with_leading_group(admin, secretary, branch, other_branch):
    request = make_request(admin, [branch])
    assert [r.branch_id for r in submissions.grid(request)] == [branch.id]
    sub = submissions.submission_for(request, branch.id)
    submissions.submit(secretary, sub, note="请审阅", document=pdf(), group=GROUP)
    assert sub.status == SubmissionStatus.SUBMITTED and not sub.is_late
    group = submissions.leading_group(sub)
    assert [(g.group_role, g.name) for g in group] == [(GroupRole.LEADER, "林一"), (GroupRole.DEPUTY, "周二"),
                                                       (GroupRole.MEMBER, "吴三")]
    assert submissions.grid(request)[0].state == "submitted"
    with pytest.raises(Conflict):
        submissions.submit(secretary, sub, note="", document=pdf(), group=GROUP)


def test_plan_needs_exactly_one_leader_and_a_document(admin, secretary, branch):
    sub = submissions.submission_for(make_request(admin, [branch]), branch.id)
    with pytest.raises(Invalid) as error:
        submissions.submit(secretary, sub, note="", document=None,
                           group=(["deputy", "bogus"], ["周二", "某人"], ["校长", ""]))
    assert set(error.value.field_errors) == {"group-1", "document"}
    with pytest.raises(Invalid) as error:
        submissions.submit(secretary, sub, note="", document=pdf(), group=(["deputy"], ["周二"], ["校长"]))
    assert "group" in error.value.field_errors
    db.session.rollback()
    assert db.session.scalar(select(func.count(LeadingGroupMember.id))) == 0
    assert sub.status == SubmissionStatus.PENDING


def test_a_document_that_is_not_one_is_refused(admin, secretary, branch):
    sub = submissions.submission_for(make_request(admin, [branch], kind="general"), branch.id)
    fake = FileStorage(stream=io.BytesIO(b"MZ\x90\x00 not a pdf"), filename="plan.pdf")
    with pytest.raises(Invalid) as error:
        submissions.submit(secretary, sub, note="", document=fake)
    assert "document" in error.value.field_errors


def test_late_submission_is_accepted_but_marked(admin, secretary, branch, other_branch):
    request = make_request(admin, deadline=utcnow() - timedelta(hours=1))
    states = {r.branch_id: r.state for r in submissions.grid(request)}
    assert states == {branch.id: "overdue", other_branch.id: "overdue"}
    assert [row[3] for row in submissions.overdue_submissions(current())] == sorted(
        [branch.id, other_branch.id], key=lambda b: (db.session.get(type(branch), b).sort_key,
                                                     db.session.get(type(branch), b).name))  # pinyin, 第9 before 第10
    sub = submissions.submission_for(request, branch.id)
    submissions.submit(secretary, sub, note="", document=pdf(), group=GROUP)
    assert sub.is_late
    assert {r.branch_id: r.state for r in submissions.grid(request)}[branch.id] == "late"
    assert [row[3] for row in submissions.overdue_submissions(current())] == [other_branch.id]


def test_return_then_resubmit_then_accept(admin, secretary, branch):
    request = make_request(admin, [branch])
    sub = submissions.submission_for(request, branch.id)
    with pytest.raises(Conflict):
        submissions.accept(admin, sub)  # nothing handed in yet
    submissions.submit(secretary, sub, note="", document=pdf(), group=GROUP)
    with pytest.raises(Invalid):
        submissions.return_for_revision(admin, sub, "  ")
    submissions.return_for_revision(admin, sub, "缺少职务")
    row = submissions.grid(request)[0]
    assert (row.state, row.return_reason) == ("returned", "缺少职务")
    assert submissions.due_count(current(), branch.id) == 1
    submissions.submit(secretary, sub, note="已补充", document=None, group=GROUP)  # keeps the document
    assert sub.document_stored and sub.return_reason == ""
    submissions.accept(admin, sub)
    assert submissions.grid(request)[0].state == "accepted"
    assert submissions.due_count(current(), branch.id) == 0
    assert audits("submission.submit") == 2 and audits("submission.return") == 1 and audits("submission.accept") == 1


def test_requests_overview_counts(admin, secretary, branch, other_branch):
    request = make_request(admin)
    submissions.submit(secretary, submissions.submission_for(request, branch.id), note="", document=pdf(),
                       group=GROUP)
    [(req, asked, handed, accepted, overdue)] = submissions.requests_overview(current())
    assert (req.id, asked, handed, accepted, overdue) == (request.id, 2, 1, 0, 0)


def test_submission_permissions(admin, leader, secretary, other_secretary, member, branch):
    sub = submissions.submission_for(make_request(admin, [branch]), branch.id)
    assert permissions.can(secretary, "submission.submit", sub)
    assert not permissions.can(other_secretary, "submission.submit", sub)
    assert not permissions.can(other_secretary, "submission.view", sub)
    assert not permissions.can(member, "submission.view", sub)
    assert permissions.can(leader, "submission.view", sub)
    assert permissions.can(admin, "submission.request", sub)
    assert not permissions.can(secretary, "submission.request", sub)


# --- pledges --------------------------------------------------------------------------------------

def test_member_pledge_workflow(member, secretary):
    pledge = pledges.create(member, current(), for_branch=False, text="带头上好每一堂课", item_ids=item_ids())
    assert pledge.status == PledgeStatus.DRAFT and pledge.member_id == member.id
    pledges.submit(member, pledge)
    assert pledge.status == PledgeStatus.PENDING
    with pytest.raises(Conflict):
        pledges.update(member, pledge, text="改", item_ids=item_ids())
    pledges.return_for_revision(secretary, pledge, "请写明可衡量的目标")
    assert (pledge.status, pledge.return_reason) == (PledgeStatus.RETURNED, "请写明可衡量的目标")
    pledges.update(member, pledge, text="每学期开两次公开课", item_ids=item_ids())
    pledges.submit(member, pledge)
    assert pledge.return_reason == ""
    pledges.approve(secretary, pledge)
    assert pledge.status == PledgeStatus.APPROVED and pledge.approved_by_id == secretary.id
    entry = pledges.add_entry(member, pledge, text="上了一节公开课", happened_on=local_today().isoformat())
    assert pledges.entries_for([pledge.id])[pledge.id] == [entry]
    pledges.evaluate(secretary, pledge, rating="good", comment="践诺扎实")
    assert pledge.fulfilment_rating == "good"
    assert [p.id for p, _b, _m in pledges.published(current(), member.branch_id)] == [pledge.id]
    assert audits("pledge.approve") == 1 and audits("pledge.entry") == 1 and audits("pledge.evaluate") == 1


def test_pledge_validation_and_state_conflicts(member):
    with pytest.raises(Invalid) as error:
        pledges.create(member, current(), for_branch=False, text="", item_ids=[])
    assert set(error.value.field_errors) == {"text", "items"}
    branch_item = item_ids("branch")  # a 五个好 item does not tag a member's pledge
    with pytest.raises(Invalid) as error:
        pledges.create(member, current(), for_branch=False, text="承诺", item_ids=branch_item)
    assert "items" in error.value.field_errors
    pledge = pledges.create(member, current(), for_branch=False, text="承诺", item_ids=item_ids())
    with pytest.raises(Conflict):
        pledges.approve(member, pledge)
    with pytest.raises(Conflict):
        pledges.add_entry(member, pledge, text="x", happened_on=local_today().isoformat())
    pledges.submit(member, pledge)
    pledges.approve(member, pledge)  # the service trusts the caller; the permission below forbids it
    with pytest.raises(Invalid) as error:
        pledges.add_entry(member, pledge, text="x", happened_on=(local_today() + timedelta(days=3)).isoformat())
    assert "happened_on" in error.value.field_errors
    with pytest.raises(Invalid):
        pledges.evaluate(member, pledge, rating="excellent!", comment="")


def test_who_approves_which_pledge(admin, leader, secretary, other_secretary, member, other_member):
    branch_pledge = pledges.create(secretary, current(), for_branch=True, text="支部承诺", item_ids=item_ids("branch"))
    member_pledge = pledges.create(member, current(), for_branch=False, text="党员承诺", item_ids=item_ids())
    own_pledge = pledges.create(secretary, current(), for_branch=False, text="书记本人承诺", item_ids=item_ids())
    for pledge in (branch_pledge, member_pledge, own_pledge):
        pledges.submit(secretary if pledge.member_id != member.id else member, pledge)

    def approvers(pledge):
        people = {"admin": admin, "leader": leader, "secretary": secretary, "other_secretary": other_secretary,
                  "member": member, "other_member": other_member}
        return {name for name, user in people.items() if permissions.can(user, "pledge.approve", pledge)}

    # A secretary can never approve their own branch's pledge nor their own.
    assert approvers(branch_pledge) == {"admin"}
    assert approvers(member_pledge) == {"secretary"}
    assert approvers(own_pledge) == {"admin"}
    assert {p.id for p, _b, _m in pledges.awaiting(admin, current())} == {branch_pledge.id, own_pledge.id}
    assert {p.id for p, _b, _m in pledges.awaiting(secretary, current())} == {member_pledge.id}
    assert pledges.awaiting(other_secretary, current()) == []
    assert permissions.can(member, "pledge.edit", member_pledge)
    assert not permissions.can(secretary, "pledge.edit", member_pledge)
    assert permissions.can(secretary, "pledge.edit", branch_pledge)
    assert not permissions.can(other_member, "pledge.view", member_pledge)
    colleague = User(username="colleague", display_name="同事", password_hash="x", role=Role.MEMBER,
                     branch_id=member.branch_id, active=True)
    assert not permissions.can(colleague, "pledge.view", member_pledge)  # a colleague's draft stays private
    assert permissions.can(colleague, "pledge.view", branch_pledge)
    assert permissions.can(leader, "pledge.view", member_pledge)


# --- brands and projects -------------------------------------------------------------------------------

def test_brand_project_and_milestones(secretary, branch, other_branch):
    with pytest.raises(Invalid):
        projects.update_brand(secretary, branch, name="", slogan="", description="")
    projects.update_brand(secretary, branch, name="红烛先锋", slogan="点亮一盏灯", description="故事")
    project = projects.create_project(secretary, branch, current(), title="党员示范岗", goal="十名示范岗党员")
    first = projects.add_milestone(secretary, project, title="挂牌", measure="全部挂牌", due_on="2012-10-01")
    projects.add_milestone(secretary, project, title="示范课", measure="", due_on="2012-11-01")
    with pytest.raises(Invalid):
        projects.add_milestone(secretary, project, title="", measure="", due_on="soon")
    with pytest.raises(Invalid) as error:
        projects.set_milestone(secretary, first, done=True, evidence="")
    assert "evidence" in error.value.field_errors
    projects.set_milestone(secretary, first, done=True, evidence="挂牌照片")
    assert first.done and first.done_at is not None
    rows = {r.branch_id: r for r in projects.brands(current()).rows}
    assert (rows[branch.id].projects, rows[branch.id].milestones, rows[branch.id].done) == (1, 2, 1)
    assert rows[branch.id].progress == 50.0 and rows[branch.id].brand_name == "红烛先锋"
    assert rows[other_branch.id].milestones == 0
    [(loaded, milestones)] = projects.branch_projects(branch.id, current())
    assert loaded.id == project.id and projects.progress_of(milestones) == 50.0
    assert audits("brand.update") == 1 and audits("milestone.update") == 1


def test_project_permissions(secretary, other_secretary, admin, member, branch):
    assert permissions.can(secretary, "project.edit", branch)
    assert not permissions.can(other_secretary, "project.edit", branch)
    assert not permissions.can(member, "project.edit", branch)
    assert permissions.can(admin, "brand.edit", branch)
    assert permissions.can(member, "brand.view")


# --- supervision ---------------------------------------------------------------------------------------

def test_inspection_follow_ups_and_overdue(leader, branch, other_branch):
    today = date(2012, 10, 20)
    with pytest.raises(Invalid) as error:
        inspections.create(leader, current(), kind="party", held_on="2012-10-30", title="", findings="",
                           branch_ids=[], today=today)
    assert set(error.value.field_errors) == {"kind", "held_on", "title", "branches"}
    inspection = inspections.create(leader, current(), kind="research_visit", held_on="2012-10-10",
                                    title="一日调研", findings="方案未报送", branch_ids=[str(branch.id)], today=today)
    with pytest.raises(Invalid) as error:
        inspections.add_follow_up(leader, inspection, branch_id=str(other_branch.id), action="整改", owner="书记",
                                  due_on="2012-10-15")
    assert "branch_id" in error.value.field_errors
    late = inspections.add_follow_up(leader, inspection, branch_id=str(branch.id), action="报送方案", owner="书记",
                                     due_on="2012-10-15")
    inspections.add_follow_up(leader, inspection, branch_id="", action="总结经验", owner="组织科",
                              due_on="2012-11-15")
    rows = inspections.overdue_follow_ups(current(), today=today)
    assert [(r.id, r.branch_name, r.inspection_title) for r in rows] == [(late.id, branch.name, "一日调研")]
    assert inspections.overdue_follow_ups(current(), branch_id=other_branch.id, today=today) == []
    [(listed, open_count, overdue_count)] = inspections.list_for(current(), today=today)
    assert (listed.id, open_count, overdue_count) == (inspection.id, 2, 1)
    inspections.set_follow_up_status(leader, late, "done")
    assert late.status == FollowUpStatus.DONE and late.done_at is not None
    with pytest.raises(Conflict):
        inspections.set_follow_up_status(leader, late, "done")
    assert inspections.overdue_follow_ups(current(), today=today) == []
    assert audits("inspection.create") == 1 and audits("follow_up.status") == 1


def test_inspection_permissions(leader, admin, secretary, editor):
    assert permissions.can(leader, "inspection.manage") and permissions.can(admin, "inspection.view")
    assert not permissions.can(secretary, "inspection.view") and not permissions.can(editor, "inspection.view")


def test_demo_campaign_work_is_seeded(app):
    from portal.services import demo

    demo.seed(branches=8, members_per_branch=3, today=date(2012, 10, 20))
    year = current()
    [plan, general] = sorted(submissions.requests_overview(year, now=datetime(2012, 10, 20, 12)),
                             key=lambda row: row[0].id)
    request = plan[0]
    states = submissions.count_states(submissions.grid(request, now=datetime(2012, 10, 20, 12)))
    assert all(states[s] for s in ("overdue", "submitted", "late", "returned", "accepted"))
    statuses = set(db.session.scalars(select(pledges.Pledge.status)))
    assert statuses == set(PledgeStatus)
    assert inspections.overdue_follow_ups(year, today=date(2012, 10, 20))
    assert any(r.milestones for r in projects.brands(year).rows)
    assert db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN)) == 1
    assert db.session.scalar(select(func.count(Item.id))) > 0
