"""Campaign routes through the test client: every workflow step, permission and bad input."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import local_today
from portal.extensions import db
from portal.models import CampaignYear, Pledge, PledgeStatus, Submission, SubmissionStatus, utcnow
from portal.services import campaign, inspections, pledges, projects, submissions

from ..unit.test_campaign import GROUP, PDF, item_ids, make_request, pdf


def plan_form(**extra) -> dict:
    data = {"note": "", "group_role": GROUP[0], "group_name": GROUP[1], "group_post": GROUP[2]}
    data.update(extra)
    return data


def test_admin_issues_a_request_and_sees_the_grid(client, admin, branch, other_branch):
    client.login(admin)
    page = client.get("/submissions")
    assert page.status_code == 200 and "下发报送通知" in page.get_data(as_text=True)
    deadline = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.form_post("/submissions", {"title": "报送创先争优活动领导小组名单和实施方案", "kind": "plan",
                                                 "deadline": deadline, "description": ""})
    assert response.status_code == 303
    grid = client.get(response.headers["Location"]).get_data(as_text=True)
    assert branch.name in grid and other_branch.name in grid and grid.count('data-state="pending"') == 2 + 1


def test_request_form_errors_are_shown_beside_fields(client, admin, branch):
    client.login(admin)
    response = client.form_post("/submissions", {"title": "", "kind": "plan", "deadline": "next week"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="title-error"' in text and 'id="deadline-error"' in text and 'aria-invalid="true"' in text
    assert db.session.scalar(select(func.count(Submission.id))) == 0


def test_secretary_submits_the_leading_group_and_the_grid_changes(client, app, admin, secretary, branch,
                                                                   other_branch):
    request = make_request(admin)
    client.login(secretary)
    due = client.get("/submissions").get_data(as_text=True)
    assert request.title in due and "未报送" in due
    mine = submissions.submission_for(request, branch.id)
    assert client.get(f"/submissions/{request.id}").headers["Location"].endswith(f"/submission/{mine.id}")
    form = client.get(f"/submission/{mine.id}").get_data(as_text=True)
    assert 'name="group_name"' in form and 'enctype="multipart/form-data"' in form
    response = client.form_post(f"/submission/{mine.id}/submit",
                                plan_form(document=(io.BytesIO(PDF), "实施方案.pdf"), version=str(mine.version)),
                                content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get(f"/submission/{mine.id}").get_data(as_text=True)
    assert "林一" in page and "实施方案.pdf" in page
    download = client.get(f"/submission/{mine.id}/document")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]

    admin_client = app.test_client()
    admin_client.login(admin)
    states = {row.branch_id: row.state for row in submissions.grid(request)}
    assert states == {branch.id: "submitted", other_branch.id: "pending"}
    grid = admin_client.get(f"/submissions/{request.id}").get_data(as_text=True)
    assert 'data-state="submitted"' in grid


def test_submission_without_a_group_leader_is_422_and_keeps_nothing(client, admin, secretary, branch):
    mine = submissions.submission_for(make_request(admin, [branch]), branch.id)
    client.login(secretary)
    response = client.form_post(f"/submission/{mine.id}/submit",
                                {"note": "", "group_role": ["deputy"], "group_name": ["周二"], "group_post": ["校长"],
                                 "document": (io.BytesIO(PDF), "plan.pdf"), "version": str(mine.version)},
                                content_type="multipart/form-data")
    assert response.status_code == 422
    assert "领导小组须有且只有一名组长" in response.get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.status == SubmissionStatus.PENDING and not mine.document_stored


def test_late_submission_via_the_web_is_marked(client, admin, secretary, branch):
    request = make_request(admin, [branch], deadline=utcnow() - timedelta(days=1))
    mine = submissions.submission_for(request, branch.id)
    client.login(secretary)
    response = client.form_post(f"/submission/{mine.id}/submit",
                                plan_form(document=(io.BytesIO(PDF), "plan.pdf"), version=str(mine.version)),
                                content_type="multipart/form-data")
    assert response.status_code == 303
    assert "逾期" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.is_late and mine.status == SubmissionStatus.SUBMITTED


def test_accept_and_return_inline_and_plain(client, admin, secretary, branch, other_branch, other_secretary):
    request = make_request(admin, kind="general")  # the organisation section decides what it asked for
    for sec, br in ((secretary, branch), (other_secretary, other_branch)):
        submissions.submit(sec, submissions.submission_for(request, br.id), note="", document=pdf())
    first = submissions.submission_for(request, branch.id)
    second = submissions.submission_for(request, other_branch.id)
    client.login(admin)
    seen = {"version": str(first.version)}  # the version the grid row was loaded with
    # htmx: the new grid row comes back
    response = client.form_post(f"/submission/{first.id}/accept", seen, htmx=True)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="submission-{first.id}"') and 'data-state="accepted"' in fragment
    # a return without a reason: 422, the row with the message
    response = client.form_post(f"/submission/{second.id}/return", {"reason": "", "version": str(second.version)},
                                htmx=True)
    assert response.status_code == 422 and "field__error" in response.get_data(as_text=True)
    # plain post: 303 back to the grid
    response = client.form_post(f"/submission/{second.id}/return", {"reason": "缺少职务",
                                                                    "version": str(second.version)})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/submissions/{request.id}")
    assert "理由：缺少职务" in client.get(f"/submissions/{request.id}").get_data(as_text=True)
    # accepting twice is a conflict
    assert client.form_post(f"/submission/{first.id}/accept", seen).status_code == 409


@pytest.mark.parametrize("who,expected", [("other_secretary", 403), ("member", 403), ("editor", 403),
                                          ("leader", 200), ("admin", 200), ("secretary", 200)])
def test_who_can_see_a_branch_submission(client, request, admin, secretary, branch, who, expected):
    mine = submissions.submission_for(make_request(admin, [branch]), branch.id)
    submissions.submit(secretary, mine, note="", document=pdf(), group=GROUP)
    client.login(request.getfixturevalue(who))
    assert client.get(f"/submission/{mine.id}").status_code == expected
    assert client.get(f"/submission/{mine.id}/document").status_code == expected


def test_forbidden_submission_actions(client, admin, secretary, other_secretary, branch):
    mine = submissions.submission_for(make_request(admin, [branch]), branch.id)
    client.login(other_secretary)
    assert client.form_post(f"/submission/{mine.id}/submit", plan_form(),
                            content_type="multipart/form-data").status_code == 403
    assert client.form_post("/submissions", {"title": "x"}).status_code == 403
    client.login(secretary)
    assert client.form_post(f"/submission/{mine.id}/accept").status_code == 403
    assert client.get("/submission/999999").status_code == 404


def test_past_year_writes_answer_409(client, admin, secretary, branch):
    request = make_request(admin, [branch])
    mine = submissions.submission_for(request, branch.id)
    campaign.make_current(admin, db.session.scalar(select(CampaignYear).where(CampaignYear.year == 2011)))
    client.login(secretary)
    response = client.form_post(f"/submission/{mine.id}/submit", plan_form(document=(io.BytesIO(PDF), "p.pdf"),
                                                                          version=str(mine.version)),
                                content_type="multipart/form-data")
    assert response.status_code == 409
    assert "只读" in response.get_data(as_text=True)
    history = client.get("/submissions?year=2012").get_data(as_text=True)
    assert "已结束" in history


# --- pledges ---------------------------------------------------------------------------------------

def test_member_pledge_through_the_web(client, app, member, secretary):
    client.login(member)
    response = client.form_post("/pledges", {"for": "member", "text": "带头上好每一堂课", "items": item_ids()})
    assert response.status_code == 303
    pledge = db.session.scalar(select(Pledge))
    assert client.form_post(f"/pledges/{pledge.id}/submit").status_code == 303
    assert client.form_post(f"/pledges/{pledge.id}/approve").status_code == 403  # never one's own
    sec = app.test_client()
    sec.login(secretary)
    assert "等待您审核" in sec.get("/pledges").get_data(as_text=True)
    response = sec.form_post(f"/pledges/{pledge.id}/return", {"reason": ""})
    assert response.status_code == 422 and "请说明需要修改的地方" in response.get_data(as_text=True)
    assert sec.form_post(f"/pledges/{pledge.id}/return", {"reason": "写明目标"}).status_code == 303
    db.session.refresh(pledge)
    edited = client.form_post(f"/pledges/{pledge.id}", {"text": "每学期两次公开课", "items": item_ids(),
                                                        "version": str(pledge.version)})
    assert edited.status_code == 303
    client.form_post(f"/pledges/{pledge.id}/submit")
    assert sec.form_post(f"/pledges/{pledge.id}/approve").status_code == 303
    db.session.refresh(pledge)
    assert pledge.status == PledgeStatus.APPROVED
    response = client.form_post(f"/pledges/{pledge.id}/entries", {"text": "上了公开课",
                                                                 "happened_on": local_today().isoformat()})
    assert response.status_code == 303
    assert sec.form_post(f"/pledges/{pledge.id}/evaluate", {"rating": "good", "comment": "好"}).status_code == 303
    assert client.form_post(f"/pledges/{pledge.id}/evaluate", {"rating": "good"}).status_code == 403
    assert "上了公开课" in client.get(f"/pledges/{pledge.id}").get_data(as_text=True)


def test_secretary_cannot_approve_own_branch_pledge(client, admin, secretary):
    pledge = pledges.create(secretary, campaign.current_year(), for_branch=True, text="支部承诺",
                            item_ids=item_ids("branch"))
    pledges.submit(secretary, pledge)
    client.login(secretary)
    assert client.form_post(f"/pledges/{pledge.id}/approve").status_code == 403
    db.session.refresh(pledge)
    assert pledge.status == PledgeStatus.PENDING
    client.login(admin)
    assert client.form_post(f"/pledges/{pledge.id}/approve").status_code == 303


def test_pledge_form_errors_and_other_branch_privacy(client, member, other_member):
    client.login(member)
    response = client.form_post("/pledges", {"for": "member", "text": ""})
    assert response.status_code == 422 and 'id="member-text-error"' in response.get_data(as_text=True)
    pledge = pledges.create(member, campaign.current_year(), for_branch=False, text="草稿", item_ids=item_ids())
    client.login(other_member)
    assert client.get(f"/pledges/{pledge.id}").status_code == 403
    assert client.form_post(f"/pledges/{pledge.id}", {"text": "x"}).status_code == 403
    assert client.form_post("/pledges", {"for": "branch", "text": "x"}).status_code == 403


# --- brands and projects ---------------------------------------------------------------------------

def test_brand_and_project_through_the_web(client, secretary, other_secretary, branch):
    client.login(secretary)
    seen = str(branch.version)
    assert client.form_post(f"/brands/{branch.id}", {"brand_name": "", "brand_slogan": "",
                                                     "version": seen}).status_code == 422
    assert client.form_post(f"/brands/{branch.id}", {"brand_name": "红烛先锋", "brand_slogan": "点亮一盏灯",
                                                     "brand_description": "故事", "version": seen}).status_code == 303
    assert client.form_post(f"/brands/{branch.id}/projects", {"title": "示范岗", "goal": "十名"}).status_code == 303
    project = projects.branch_projects(branch.id, campaign.current_year())[0][0]
    assert client.form_post(f"/projects/{project.id}/milestones",
                            {"title": "挂牌", "measure": "全部", "due_on": "2012-11-01"}).status_code == 303
    milestone = projects.branch_projects(branch.id, campaign.current_year())[0][1][0]
    seen = str(milestone.version)
    response = client.form_post(f"/milestones/{milestone.id}", {"done": "1", "evidence": "", "version": seen},
                                htmx=True)
    assert response.status_code == 422
    response = client.form_post(f"/milestones/{milestone.id}", {"done": "1", "evidence": "照片", "version": seen},
                                htmx=True)
    assert response.status_code == 200 and f'id="milestone-{milestone.id}"' in response.get_data(as_text=True)
    listing = client.get("/brands").get_data(as_text=True)
    assert "红烛先锋" in listing and '<progress max="100" value="100.0"' in listing
    client.login(other_secretary)
    assert client.form_post(f"/brands/{branch.id}/projects", {"title": "x"}).status_code == 403
    assert client.form_post(f"/milestones/{milestone.id}", {"done": "0"}).status_code == 403
    assert client.get(f"/brands/{branch.id}").status_code == 200  # the district list is public


def test_list_pages_query_count_does_not_grow_with_branches(client, admin, app):
    from sqlalchemy import event

    from ..factories import BranchFactory

    client.login(admin)

    def count_queries():
        counter = {"n": 0}

        def before(*args, **kwargs):
            counter["n"] += 1

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            for url in ("/brands", "/submissions", f"/submissions/{request_id}", "/pledges", "/inspections"):
                assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return counter["n"]

    BranchFactory.create_batch(2)
    request_id = make_request(admin).id  # asks every branch: the grid grows with them
    few = count_queries()
    BranchFactory.create_batch(15)
    request_id = make_request(admin).id
    assert count_queries() == few


# --- supervision -----------------------------------------------------------------------------------

def test_leader_records_a_visit_and_follow_ups(client, leader, secretary, branch):
    client.login(leader)
    response = client.form_post("/inspections", {"kind": "forum", "held_on": "", "title": ""})
    assert response.status_code == 422
    response = client.form_post("/inspections", {"kind": "forum", "held_on": (local_today() - timedelta(days=2))
                                                  .isoformat(), "title": "座谈会", "findings": "问题",
                                                  "branches": [str(branch.id)]})
    assert response.status_code == 303
    inspection = inspections.list_for(campaign.current_year())[0][0]
    response = client.form_post(f"/inspections/{inspection.id}/follow-ups",
                                {"branch_id": str(branch.id), "action": "补报方案", "owner": "书记",
                                 "due_on": (local_today() - timedelta(days=1)).isoformat()})
    assert response.status_code == 303
    assert "逾期未完成的整改事项" in client.get("/inspections").get_data(as_text=True)
    follow_up = inspections.follow_ups(inspection)[0][0]
    seen = {"status": "done", "version": str(follow_up.version)}
    response = client.form_post(f"/follow-ups/{follow_up.id}/status", seen, htmx=True)
    assert response.status_code == 200 and "badge--ok" in response.get_data(as_text=True)
    assert client.form_post(f"/follow-ups/{follow_up.id}/status", seen).status_code == 409
    client.login(secretary)
    assert client.get("/inspections").status_code == 403
    assert client.form_post("/inspections", {"kind": "forum"}).status_code == 403


# --- years, navigation, home -----------------------------------------------------------------------

def test_years_page_and_phase_edit(client, admin, secretary):
    client.login(admin)
    page = client.get("/campaign/years").get_data(as_text=True)
    assert "向十八大献礼" in page and "只读" in page
    year = campaign.current_year()
    data = {"theme": "", "description": "", "version": year.version}
    for phase in year.phases:
        data[f"{phase.kind.value}_start"] = phase.starts_on.isoformat()
        data[f"{phase.kind.value}_end"] = phase.ends_on.isoformat()
    assert client.form_post(f"/campaign/years/{year.id}", data).status_code == 422
    data["theme"] = "新的主题"
    assert client.form_post(f"/campaign/years/{year.id}", data).status_code == 303
    past = db.session.scalar(select(CampaignYear).where(CampaignYear.year == 2010))
    assert client.form_post(f"/campaign/years/{past.id}", {**data, "version": past.version}).status_code == 409
    client.login(secretary)
    assert client.get("/campaign/years").status_code == 403


@pytest.mark.parametrize("who,visible,hidden", [
    ("admin", ["/submissions", "/pledges", "/brands", "/inspections", "/admin/users"], []),
    ("leader", ["/submissions", "/pledges", "/inspections"], ["/admin/users"]),
    ("secretary", ["/submissions", "/pledges", "/brands"], ["/inspections", "/admin/users"]),
    ("member", ["/pledges", "/brands"], ["/submissions", "/inspections", "/admin/users"]),
])
def test_navigation_per_role(client, request, who, visible, hidden):
    client.login(request.getfixturevalue(who))
    nav = client.get("/").get_data(as_text=True).split('class="main-nav"')[1].split("</nav>")[0]
    for url in visible:
        assert f'href="{url}"' in nav
    for url in hidden:
        assert f'href="{url}"' not in nav


def test_home_says_what_to_do_in_the_current_phase(client, admin, secretary, branch):
    year = campaign.current_year()
    for phase in year.phases:  # put today inside the 公开承诺 phase
        offset = {"mobilise": (-60, -31), "pledge": (-30, 10), "review": (11, 30), "appraisal": (31, 50),
                  "commend": (51, 70)}[phase.kind.value]
        phase.starts_on, phase.ends_on = (local_today() + timedelta(days=o) for o in offset)
    db.session.commit()
    make_request(admin, [branch])
    client.login(secretary)
    home = client.get("/").get_data(as_text=True)
    assert "当前阶段“公开承诺”您要做的事" in home and "撰写支部承诺并提交审核" in home
    assert "本支部有 1 项报送待完成" in home


def _year_form(year, **changes) -> dict:
    data = {"theme": year.theme, "description": year.description or "", "version": year.version}
    for phase in year.phases:
        data[f"{phase.kind.value}_start"] = phase.starts_on.isoformat()
        data[f"{phase.kind.value}_end"] = phase.ends_on.isoformat()
    data.update(changes)
    return data


@pytest.mark.parametrize("first,day", [(True, "2000-01-01"), (False, "2099-12-31")])
def test_phase_dates_lie_around_their_year(client, admin, first, day):
    year = campaign.current_year()
    kind = campaign.PHASE_ORDER[0 if first else -1].value
    field = f"{kind}_start" if first else f"{kind}_end"
    client.login(admin)
    response = client.form_post(f"/campaign/years/{year.id}", _year_form(year, **{field: day}))
    assert response.status_code == 422
    first, last = campaign.phase_span(year)
    assert f"{first.isoformat()}" in response.get_data(as_text=True) and f"{last.isoformat()}" in \
        response.get_data(as_text=True)


def test_a_stale_year_form_is_refused_with_the_typed_text_kept(client, admin):
    year = campaign.current_year()
    client.login(admin)
    loaded = _year_form(year)
    assert client.form_post(f"/campaign/years/{year.id}", {**loaded, "theme": "先保存的主题"}).status_code == 303
    response = client.form_post(f"/campaign/years/{year.id}", {**loaded, "theme": "我后来输入的主题"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "我后来输入的主题" in page and "先保存的主题" in page
    db.session.expire_all()
    assert campaign.current_year().theme == "先保存的主题"
