"""The form layer through the test client: hostile input is refused beside its field (422) and writes
nothing; a replayed create form makes one record; a stale edit is a 409 that shows both texts."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import local_today
from portal.extensions import db
from portal.models import FollowUp, Inspection, Milestone, Pledge, Post, Project, SubmissionRequest, User
from portal.services import campaign, inspections, pledges, projects

from ..unit.test_campaign import item_ids

TOKEN = "replay-token-0123456789"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def post_form(**changes) -> dict:
    return {"category": "experience", "title": "经验交流", "summary": "", "body_md": "正文", **changes}


FIRST, SECOND = "第一位保存的文字", "第二位没保存的文字"


def stale_edit(first, second, url: str, data: dict, field: str, loaded: str) -> str:
    """`first` saves `field` on top of version `loaded`, then `second` saves on the same version: the
    second is a 409 whose page shows both texts. Returns that page."""
    assert first.form_post(url, {**data, field: FIRST, "version": loaded}).status_code == 303
    stale = second.form_post(url, {**data, field: SECOND, "version": loaded})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409 and FIRST in page and SECOND in page and 'class="conflict"' in page
    return page


def version_on(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


# --- hostile input: 422 beside the field, nothing written -----------------------------------------
# A NUL byte never reaches a form: the app-wide input guard refuses the request first (400, translated).


def refused(response, error_id: str | None, value) -> bool:
    """400 from the input guard for a NUL byte, else 422 with the error beside the field."""
    values = value.values() if isinstance(value, dict) else [value]
    if any("\x00" in str(v) for v in values):
        return response.status_code == 400
    return response.status_code == 422 and (error_id is None or error_id in response.get_data(as_text=True))

@pytest.mark.parametrize("text", ["承诺\x00", "\u200b\u200b", "   ", "x" * 2001])
def test_pledge_text_that_cannot_be_kept_is_refused(client, member, text):
    client.login(member)
    response = client.form_post("/pledges", {"for": "member", "text": text, "items": item_ids()})
    assert refused(response, 'id="member-text-error"', text)
    assert count(Pledge) == 0


@pytest.mark.parametrize("items", [["2147483648"], ["99999999999999999999"], ["-1"], ["x"]])
def test_out_of_range_ids_are_refused(client, member, items):
    client.login(member)
    response = client.form_post("/pledges", {"for": "member", "text": "承诺", "items": items})
    assert response.status_code == 422 and count(Pledge) == 0


@pytest.mark.parametrize("deadline", ["0001-01-01T00:00", "9999-12-31T23:59", "2001-01-01T00:00", "x\x00"])
def test_implausible_deadlines_are_refused(client, admin, branch, deadline):
    client.login(admin)
    response = client.form_post("/submissions", {"title": "报送", "kind": "plan", "deadline": deadline})
    assert refused(response, 'id="deadline-error"', deadline)
    assert count(SubmissionRequest) == 0


@pytest.mark.parametrize("minutes", [-90, -1, 0])
def test_a_deadline_earlier_today_is_refused_as_not_in_the_future(app, client, admin, branch, minutes):
    """Compared as date and time in the portal's time zone: an hour ago today is already overdue."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).replace(tzinfo=None)
    client.login(admin)
    deadline = (now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")
    response = client.form_post("/submissions", {"title": "报送", "kind": "plan", "deadline": deadline})
    assert response.status_code == 422
    assert "截止时间须在将来" in response.get_data(as_text=True)
    assert count(SubmissionRequest) == 0
    later = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.form_post("/submissions", {"title": "报送", "kind": "plan", "deadline": later})
    assert response.status_code == 303 and count(SubmissionRequest) == 1


def test_request_title_of_invisible_characters_is_empty(client, admin, branch):
    client.login(admin)
    soon = (local_today() + timedelta(days=5)).isoformat() + "T12:00"
    response = client.form_post("/submissions", {"title": "\u200b\u200b", "kind": "plan", "deadline": soon})
    assert response.status_code == 422 and 'id="title-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("due", ["1900-01-01", "9999-01-01"])
def test_milestones_are_due_within_the_plausible_range(client, secretary, branch, due):
    project = projects.create_project(secretary, branch, campaign.current_year(), title="品牌项目", goal="")
    client.login(secretary)
    response = client.form_post(f"/projects/{project.id}/milestones", {"title": "目标", "due_on": due})
    assert response.status_code == 422 and count(Milestone) == 0


def test_a_follow_up_is_not_due_before_its_visit(client, leader, branch):
    visit = inspections.create(leader, campaign.current_year(), kind="forum", held_on=local_today().isoformat(),
                               title="座谈会", findings="", branch_ids=[str(branch.id)])
    client.login(leader)
    response = client.form_post(f"/inspections/{visit.id}/follow-ups", {
        "branch_id": str(branch.id), "action": "整改", "owner": "书记", "due_on": "2000-01-01"})
    assert response.status_code == 422 and count(FollowUp) == 0
    response = client.form_post(f"/inspections/{visit.id}/follow-ups", {
        "branch_id": str(branch.id), "action": "整改", "owner": "书记", "due_on": local_today().isoformat()})
    assert response.status_code == 303 and count(FollowUp) == 1


# --- one record per intent ---------------------------------------------------------------------------

def test_a_create_form_carries_a_fresh_token(client, member):
    client.login(member)
    first, second = (re.findall(r'name="form_token" value="([^"]+)"', client.get("/pledges").get_data(as_text=True))
                     for _ in range(2))
    assert first and second and not set(first) & set(second)


@pytest.mark.parametrize("token", ["", "short", "含中文的令牌令牌令牌令牌令牌令牌"])
def test_a_create_without_its_one_time_token_makes_nothing_and_says_so(client, member, token):
    """Without the token a replay could not be told from a new intent: nothing is made (400, a page-level
    message with the way back to the form)."""
    client.login(member)
    data = {"for": "member", "text": "带头上好每一堂课", "items": item_ids(), "form_token": token}
    response = client.form_post("/pledges", data, headers={"Referer": "http://localhost/pledges"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "表单已过时" in body and 'href="/pledges"' in body
    htmx = client.form_post("/pledges", data, htmx=True)
    assert htmx.status_code == 400 and 'data-scope="row"' in htmx.get_data(as_text=True)
    assert count(Pledge) == 0


def test_a_replayed_pledge_form_makes_one_pledge(client, member):
    client.login(member)
    data = {"for": "member", "text": "带头上好每一堂课", "items": item_ids(), "form_token": TOKEN}
    first, again = client.form_post("/pledges", data), client.form_post("/pledges", data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert count(Pledge) == 1


def test_a_replayed_form_after_a_refusal_still_creates_once(client, member):
    client.login(member)
    data = {"for": "member", "text": "", "items": item_ids(), "form_token": TOKEN}
    assert client.form_post("/pledges", data).status_code == 422
    data["text"] = "改正后的承诺"
    assert client.form_post("/pledges", data).status_code == 303
    assert client.form_post("/pledges", data).status_code == 303
    assert count(Pledge) == 1


def test_replays_make_one_project_milestone_inspection_and_follow_up(client, app, secretary, leader, branch):
    client.login(secretary)
    for _ in range(2):
        assert client.form_post(f"/brands/{branch.id}/projects",
                                {"title": "品牌项目", "form_token": TOKEN + "p"}).status_code == 303
    project = db.session.scalar(select(Project))
    for _ in range(2):
        assert client.form_post(f"/projects/{project.id}/milestones", {
            "title": "目标", "due_on": campaign.year_span(project.year_id)[1].isoformat(),  # within its year
            "form_token": TOKEN + "m"}).status_code == 303
    assert count(Project) == 1 and count(Milestone) == 1
    other = app.test_client()
    other.login(leader)
    data = {"kind": "forum", "held_on": local_today().isoformat(), "title": "座谈会", "branches": [str(branch.id)],
            "form_token": TOKEN + "i"}
    locations = {other.form_post("/inspections", data).headers["Location"] for _ in range(2)}
    assert len(locations) == 1 and count(Inspection) == 1


def test_someone_elses_token_is_not_answered_with_their_record(client, app, member, secretary):
    client.login(member)
    client.form_post("/pledges", {"for": "member", "text": "我的承诺", "items": item_ids(), "form_token": TOKEN})
    other = app.test_client()
    other.login(secretary)
    response = other.form_post("/pledges", {"for": "member", "text": "他的承诺", "items": item_ids(),
                                            "form_token": TOKEN})
    assert response.status_code == 409 and count(Pledge) == 1


# --- conflicts keep both texts ------------------------------------------------------------------------

def test_two_people_editing_one_pledge(client, app, secretary):
    pledge = pledges.create(secretary, campaign.current_year(), for_branch=True, text="原来的承诺",
                            item_ids=item_ids("branch"))
    colleague = UserFactory_secretary(secretary)
    first, second = client, app.test_client()
    first.login(secretary)
    second.login(colleague)
    loaded = version_on(first.get(f"/pledges/{pledge.id}").get_data(as_text=True))
    assert version_on(second.get(f"/pledges/{pledge.id}").get_data(as_text=True)) == loaded
    page = stale_edit(first, second, f"/pledges/{pledge.id}", {"items": item_ids("branch")}, "text", loaded)
    assert version_on(page) == str(int(loaded) + 1)  # saving again after comparing is possible
    db.session.refresh(pledge)
    assert pledge.text == FIRST and pledge.version == int(loaded) + 1


def UserFactory_secretary(secretary) -> User:
    """A second secretary of the same branch (e.g. a deputy), who may edit the branch pledge too."""
    from ..factories import UserFactory

    return UserFactory(role=secretary.role, branch=secretary.branch)


def test_two_people_editing_one_brand(client, app, secretary, admin, branch):
    first, second = client, app.test_client()
    first.login(secretary)
    second.login(admin)
    loaded = version_on(first.get(f"/brands/{branch.id}").get_data(as_text=True))
    second.get(f"/brands/{branch.id}")
    stale_edit(first, second, f"/brands/{branch.id}", {"brand_name": "红烛先锋"}, "brand_description", loaded)
    db.session.refresh(branch)
    assert branch.brand_description == FIRST


def test_two_people_editing_one_post(client, app, editor, secretary):
    client.login(secretary)
    created = client.form_post("/news", post_form(title="原标题", body_md="原文"))
    post = db.session.scalar(select(Post))
    assert created.status_code == 303
    other = app.test_client()
    other.login(editor)
    loaded = str(post.version)
    stale_edit(client, other, f"/news/{post.id}/edit", post_form(), "body_md", loaded)
    db.session.refresh(post)
    assert post.body_md == FIRST


# --- accounts ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ｓｅｃ０１", "sec01\u200b", "SEC01", " Sec01 "])
def test_look_alike_usernames_are_refused_as_taken(client, admin, branch, name):
    from ..factories import UserFactory

    UserFactory(username="sec01", branch=branch)
    client.login(admin)
    response = client.form_post("/admin/users", {"username": name, "password": "longenough", "role": "member",
                                                 "branch": str(branch.id), "display_name": "张"})
    assert response.status_code == 422 and 'id="username-error"' in response.get_data(as_text=True)
    assert count(User) == 2


def test_new_usernames_are_stored_canonical_and_log_in_by_any_spelling(client, app, admin, branch):
    client.login(admin)
    data = {"username": "ＷＡＮＧ.Li", "password": "longenough", "role": "member", "branch": str(branch.id),
            "display_name": "王丽", "form_token": TOKEN}
    assert client.form_post("/admin/users", data).status_code == 303
    assert client.form_post("/admin/users", data).status_code == 303  # a replay makes no second account
    assert db.session.scalars(select(User.username).where(User.username.like("%wang%"))).all() == ["wang.li"]
    other = app.test_client()
    assert other.login("WANG.LI", "longenough").status_code == 303


@pytest.mark.parametrize("name", ["a\x00b", "<b>x</b>", "张三", "x" * 41])
def test_unsafe_usernames_are_refused(client, admin, branch, name):
    client.login(admin)
    response = client.form_post("/admin/users", {"username": name, "password": "longenough", "role": "member",
                                                 "branch": str(branch.id)})
    assert refused(response, None, name) and count(User) == 1


def test_two_admins_editing_one_account(client, app, admin, member):
    from ..factories import UserFactory

    other_admin = UserFactory(role=admin.role)
    first, second = client, app.test_client()
    first.login(admin)
    second.login(other_admin)
    loaded = version_on(first.get(f"/admin/users/{member.id}").get_data(as_text=True))
    form = {"role": "member", "branch": str(member.branch_id)}
    stale_edit(first, second, f"/admin/users/{member.id}", form, "display_name", loaded)
    db.session.refresh(member)
    assert member.display_name == FIRST


# --- news ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes", [{"title": "标题\x00"}, {"title": "\u200b\u200b"}, {"body_md": "正文\x00"},
                                     {"category": "gossip"}, {"branch_id": "2147483648"},
                                     {"criteria": ["99999999999999999999"]}])
def test_hostile_post_input_is_refused_and_nothing_is_saved(client, secretary, changes):
    client.login(secretary)
    response = client.form_post("/news", post_form(**changes))
    assert refused(response, 'aria-invalid="true"', changes)
    assert count(Post) == 0


def test_a_replayed_draft_makes_one_post(client, secretary):
    client.login(secretary)
    first, again = (client.form_post("/news", post_form(form_token=TOKEN)) for _ in range(2))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"] and count(Post) == 1


# --- commendation --------------------------------------------------------------------------------------

def test_a_replayed_nomination_makes_one_and_answers_as_the_first(client, secretary, member):
    from portal.models import Nomination

    client.login(secretary)
    data = {"member_id": str(member.id), "deeds": "扎根教学一线。", "form_token": TOKEN}
    first, again = (client.form_post("/commendation/nominations", data) for _ in range(2))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"] and count(Nomination) == 1


@pytest.mark.parametrize("data", [{"member_id": "99999999999999999999", "deeds": "事迹"},
                                  {"member_id": "", "deeds": "\u200b"}, {"member_id": "", "deeds": "事迹\x00"}])
def test_hostile_nominations_are_refused(client, secretary, data):
    from portal.models import Nomination

    client.login(secretary)
    assert refused(client.form_post("/commendation/nominations", data), None, data) and count(Nomination) == 0


def test_two_people_editing_one_project(client, app, secretary, branch):
    from ..factories import UserFactory

    project = projects.create_project(secretary, branch, campaign.current_year(), title="品牌项目", goal="原目标")
    deputy = UserFactory(role=secretary.role, branch=branch)
    first, second = client, app.test_client()
    first.login(secretary)
    second.login(deputy)
    page = first.get(f"/brands/{branch.id}").get_data(as_text=True)
    loaded = re.search(rf'/projects/{project.id}" class="form" novalidate>\s*<input[^>]+>\s*<input type="hidden" '
                       r'name="version" value="(\d+)"', page).group(1)
    stale_edit(first, second, f"/projects/{project.id}", {"title": "品牌项目"}, "goal", loaded)
    db.session.refresh(project)
    assert project.goal == FIRST and project.version == int(loaded) + 1


def test_two_people_editing_one_visit(client, app, leader, admin, branch):
    visit = inspections.create(leader, campaign.current_year(), kind="forum", held_on=local_today().isoformat(),
                               title="座谈会", findings="原记录", branch_ids=[str(branch.id)])
    first, second = client, app.test_client()
    first.login(leader)
    second.login(admin)
    loaded = version_on(first.get(f"/inspections/{visit.id}").get_data(as_text=True))
    stale_edit(first, second, f"/inspections/{visit.id}", {"title": "座谈会"}, "findings", loaded)
    db.session.refresh(visit)
    assert visit.findings == FIRST


# --- checklist (forms/checklist.py) ---------------------------------------------------------------------

def _item_url(branch, item, what: str) -> str:
    return f"/checklist/branch/{branch.id}/items/{item.id}/{what}"


@pytest.mark.parametrize("what, data", [
    ("result", {"result": "excellent"}),
    ("result", {"result": ""}),
    ("result", {"result": "met", "note": "说明\x07", "note_version": "0"}),
    ("result", {"result": "met", "note": "x" * 2001, "note_version": "0"}),
    ("note", {"note": "说明\x1b[31m", "note_version": "0"}),
    ("note", {"note": "y" * 2001, "note_version": "0"}),
    ("evidence", {"note": "说明\x0b", "note_version": "0"}),
])
def test_hostile_checklist_input_is_refused_beside_the_item_and_writes_nothing(client, secretary, branch, what,
                                                                              data):
    from portal.models import Subject

    from ..checklist_helpers import items
    from ..fingerprint import changed, fingerprint

    item = items(Subject.BRANCH)[0]
    client.login(secretary)
    before = fingerprint()
    response = client.form_post(_item_url(branch, item, what), data, htmx=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in text
    assert re.search(rf'id="item-{item.id}-error"[^>]*data-server-error>[^<]+<', text)  # the message, beside it
    assert changed(before, fingerprint()) == []
    page = client.form_post(_item_url(branch, item, what), data)  # without JavaScript: the page, 422
    assert page.status_code == 422 and "<html" in page.get_data(as_text=True)
    assert changed(before, fingerprint()) == []


def test_a_checklist_note_is_stored_clean_and_a_click_without_a_note_keeps_it(client, secretary, branch):
    from portal.models import ItemResult, Result, Subject

    from ..checklist_helpers import items

    item = items(Subject.BRANCH)[0]
    client.login(secretary)
    assert client.form_post(_item_url(branch, item, "note"), {"note": "\u200b 会议记录 \u3000\r\n",
                                                                 "note_version": "0"}, htmx=True).status_code == 200
    assert client.form_post(_item_url(branch, item, "result"), {"result": "met"}, htmx=True).status_code == 200
    row = db.session.scalar(select(ItemResult))
    assert (row.note, row.note_version, row.result) == ("会议记录", 1, Result.MET)
    # A mangled version is a conflict (409) with both texts, never a 500 or a silent overwrite.
    response = client.form_post(_item_url(branch, item, "note"), {"note": "新的", "note_version": "x1"}, htmx=True)
    assert response.status_code == 409 and "会议记录" in response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.note == "会议记录"


@pytest.mark.parametrize("url_end, data, error_id", [
    ("review", {"rating": "splendid", "comment": "好"}, 'id="review-rating-error"'),
    ("review", {"rating": "good", "comment": "\u200b\u200b"}, 'id="review-comment-error"'),
    ("review", {"rating": "good", "comment": "好", "improvements": "z" * 2001}, 'id="review-improvements-error"'),
    ("return", {"reason": "   "}, 'id="return-reason-error"'),
    ("return", {"reason": "原因\x08"}, 'id="return-reason-error"'),
])
def test_hostile_review_and_return_are_refused_beside_the_field(client, leader, branch, url_end, data, error_id):
    from portal.models import AssessmentStatus, Result

    from ..checklist_helpers import make_assessment
    from ..fingerprint import changed, fingerprint

    make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(leader)
    before = fingerprint()
    response = client.form_post(f"/checklist/branch/{branch.id}/{url_end}", data)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and error_id in text
    assert f'aria-describedby="{error_id[4:-1]}"' in text  # the field points at its error
    assert changed(before, fingerprint()) == []
    if url_end == "review" and data["comment"] == "好":  # what was typed comes back from the form
        assert ">好</textarea>" in text


def test_a_review_keeps_the_cleaned_text(client, leader, branch):
    from portal.models import AssessmentStatus, Result, Review

    from ..checklist_helpers import make_assessment

    make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(leader)
    response = client.form_post(f"/checklist/branch/{branch.id}/review",
                                {"rating": "good", "comment": " 作用明显\u200b ", "improvements": "\u200b"})
    assert response.status_code == 303
    review = db.session.scalar(select(Review))
    assert (review.comment, review.improvements) == ("作用明显", "")


# --- decisions and status changes on a stale page: 409 with what is saved now --------------------------

def test_a_follow_up_marked_done_on_a_stale_row_is_a_conflict(client, app, leader, admin, branch):
    visit = inspections.create(leader, campaign.current_year(), kind="forum", held_on=local_today().isoformat(),
                               title="座谈会", findings="", branch_ids=[str(branch.id)])
    follow_up = inspections.add_follow_up(leader, visit, branch_id="", action="整改台账", owner="书记",
                                          due_on=local_today().isoformat())
    client.login(leader)
    page = client.get(f"/inspections/{visit.id}").get_data(as_text=True)
    loaded = re.search(rf'/follow-ups/{follow_up.id}/status"[^>]*>\s*<input[^>]+>\s*<input type="hidden" '
                       r'name="version" value="(\d+)"', page).group(1)
    other = app.test_client()
    other.login(admin)
    url = f"/follow-ups/{follow_up.id}/status"
    assert other.form_post(url, {"status": "done", "version": loaded}).status_code == 303
    assert other.form_post(url, {"status": "open", "version": str(int(loaded) + 1)}).status_code == 303
    stale = client.form_post(url, {"status": "done", "version": loaded}, htmx=True)  # it looks open again
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and f'id="follow-up-{follow_up.id}"' in text and "<html" not in text
    assert "状态: 未完成" in text or "状态：未完成" in text  # the saved status, in words
    whole = client.form_post(url, {"status": "done", "version": loaded})
    assert whole.status_code == 409 and "<html" in whole.get_data(as_text=True)
    assert f'id="follow-up-{follow_up.id}-status-error"' in whole.get_data(as_text=True)
    db.session.refresh(follow_up)
    assert (follow_up.status.value, follow_up.version) == ("open", int(loaded) + 2)


def test_a_submission_handed_in_again_is_not_accepted_unseen(client, app, admin, secretary, branch):
    import io

    from portal.models import SubmissionStatus
    from portal.services import submissions

    from ..unit.test_campaign import make_request

    request = make_request(admin, kind="general")
    mine = submissions.submission_for(request, branch.id)
    pdf = b"%PDF-1.4\n" + b"1" * 300
    branch_client = app.test_client()
    branch_client.login(secretary)

    def hand_in(note: str):
        return branch_client.form_post(f"/submission/{mine.id}/submit", {
            "note": note, "version": str(db.session.get(type(mine), mine.id).version),
            "document": (io.BytesIO(pdf), "方案.pdf")}, content_type="multipart/form-data")

    assert hand_in("第一稿").status_code == 303
    client.login(admin)
    grid = client.get(f"/submissions/{request.id}").get_data(as_text=True)
    seen = re.search(rf'/submission/{mine.id}/accept"[^>]*>\s*<input[^>]+><input type="hidden" name="version" '
                     r'value="(\d+)"', grid).group(1)
    colleague = app.test_client()
    colleague.login(admin)  # another member of the organisation section returns it meanwhile …
    assert colleague.form_post(f"/submission/{mine.id}/return", {"reason": "请补充", "version": seen}).status_code \
        == 303
    db.session.expire_all()
    assert hand_in("第二稿").status_code == 303  # … and the branch hands in a new version
    stale = client.form_post(f"/submission/{mine.id}/accept", {"version": seen}, htmx=True)
    assert stale.status_code == 409 and "查看已报送的内容" in stale.get_data(as_text=True)
    page = client.form_post(f"/submission/{mine.id}/accept", {"version": seen})
    assert page.status_code == 409 and "第二稿" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(mine), mine.id).status == SubmissionStatus.SUBMITTED
    fresh = str(db.session.get(type(mine), mine.id).version)
    assert client.form_post(f"/submission/{mine.id}/accept", {"version": fresh}).status_code == 303


def test_a_decision_on_a_nomination_that_drew_an_objection_meanwhile_is_a_conflict(app, secretary, leader,
                                                                                   member):
    from portal.models import Nomination, NominationStatus

    from ..news_helpers import make_nomination

    nomination = make_nomination(secretary, status=NominationStatus.NOTICE, notice_days_left=3)
    decider = app.test_client()
    decider.login(leader)
    page = decider.get(f"/commendation/nominations/{nomination.id}").get_data(as_text=True)
    seen = re.search(r'name="version" value="(\d+)"', page).group(1)
    objector = app.test_client()
    objector.login(member)
    assert objector.form_post(f"/commendation/nominations/{nomination.id}/objections",
                              {"text": "事迹与实际不符"}).status_code == 303
    response = decider.form_post(f"/commendation/nominations/{nomination.id}/reject",
                                 {"note": "不予表彰", "version": seen})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "新的异议" in text and 'class="conflict"' in text
    assert ">不予表彰</textarea>" in text  # the reason typed stays in its field
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).status == NominationStatus.NOTICE
    fresh = re.search(r'name="version" value="(\d+)"', text).group(1)
    assert decider.form_post(f"/commendation/nominations/{nomination.id}/reject",
                             {"note": "不予表彰", "version": fresh}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).status == NominationStatus.REJECTED


def test_a_pledge_sent_for_approval_while_being_edited_says_so(client, app, secretary):
    from portal.models import PledgeStatus

    pledge = pledges.create(secretary, campaign.current_year(), for_branch=True, text="原来的承诺",
                            item_ids=item_ids("branch"))
    client.login(secretary)
    loaded = version_on(client.get(f"/pledges/{pledge.id}").get_data(as_text=True))
    pledges.submit(secretary, pledge)  # e.g. from another tab
    response = client.form_post(f"/pledges/{pledge.id}", {"text": "我改过的承诺", "items": item_ids("branch"),
                                                          "version": loaded})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "在您编辑期间，该承诺已提交审核" in text  # the specific message, not the generic one
    assert "原来的承诺" in text.split('class="conflict"', 1)[1] and "我改过的承诺" in text
    db.session.refresh(pledge)
    assert (pledge.text, pledge.status) == ("原来的承诺", PledgeStatus.PENDING)


@pytest.mark.parametrize("back", ["https://evil.example/news", "//evil.example/news", "/admin/users", "/news\x07"])
def test_a_way_back_off_the_offered_pages_is_ignored(client, editor, secretary, back):
    client.login(secretary)
    assert client.form_post("/news", post_form()).status_code == 303
    post = db.session.scalar(select(Post))
    client.form_post(f"/news/{post.id}/submit")
    client.form_post("/logout")
    client.login(editor)
    response = client.form_post(f"/news/{post.id}/publish", {"back": back})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/news/{post.id}")


def test_a_way_back_to_the_queue_is_followed(client, editor, secretary):
    client.login(secretary)
    client.form_post("/news", post_form())
    post = db.session.scalar(select(Post))
    client.form_post(f"/news/{post.id}/submit")
    client.form_post("/logout")
    client.login(editor)
    response = client.form_post(f"/news/{post.id}/publish", {"back": "/news/queue"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/news/queue")


def test_a_new_pledge_for_someone_unknown_is_refused(client, member):
    client.login(member)
    response = client.form_post("/pledges", {"for": "<b>x</b>", "text": "承诺", "items": item_ids()})
    assert response.status_code == 422 and count(Pledge) == 0
