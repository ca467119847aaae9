"""In-app notifications: one test per kind, each from the event that causes it; the header count, the list,
marking read (one, all, someone else's refused) and no duplicate from a retried request."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import local_today
from portal.extensions import db
from portal.models import (
    AssessmentStatus,
    Inspection,
    InspectionKind,
    NominationStatus,
    Notification,
    PledgeStatus,
    Result,
    Role,
    Submission,
    SubmissionStatus,
    inspection_branch,
    utcnow,
)

from ..checklist_helpers import current_year, make_assessment, make_pledge
from ..factories import UserFactory
from ..news_helpers import POST_FORM, make_nomination


def _notes(user, kind=None):
    stmt = select(Notification).where(Notification.recipient_id == user.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def _count() -> int:
    return db.session.scalar(select(func.count(Notification.id)))


def test_branch_submit_tells_the_leaders_and_return_tells_the_secretary(client, secretary, leader, branch,
                                                                        other_secretary):
    second_leader = UserFactory(role=Role.LEADER)
    make_assessment(branch, answer_all=Result.MET)
    client.login(secretary)
    assert client.form_post(f"/checklist/branch/{branch.id}/submit").status_code == 303
    for person in (leader, second_leader):
        [note] = _notes(person, "assessment.waiting")
        assert note.params["what"] == branch.name and note.link.startswith(f"/checklist/branch/{branch.id}")
    assert not _notes(secretary) and not _notes(other_secretary)
    client.login(leader)
    page = client.get("/").get_data(as_text=True)
    assert 'data-unread="1"' in page
    assert client.form_post(f"/checklist/branch/{branch.id}/return", {"reason": "佐证不足"}).status_code == 303
    # A retried request (the same post again) changes nothing and notifies nobody again.
    assert client.form_post(f"/checklist/branch/{branch.id}/return", {"reason": "佐证不足"}).status_code == 409
    [note] = _notes(secretary, "assessment.returned")
    assert note.params["reason"] == "佐证不足"
    assert not _notes(other_secretary)
    client.login(secretary)
    page = client.get("/notifications").get_data(as_text=True)
    assert "自评已被退回：佐证不足" in page


def test_review_tells_the_member(client, secretary, member, branch):
    make_assessment(branch, member=member, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(secretary)
    assert client.form_post(f"/checklist/member/{member.id}/review",
                            {"rating": "good", "comment": "很好"}).status_code == 303
    [note] = _notes(member, "assessment.reviewed")
    client.login(member)
    assert "已获点评：好" in client.get("/notifications").get_data(as_text=True)


def test_member_submit_tells_the_secretary(client, secretary, member, branch, leader):
    make_assessment(branch, member=member, answer_all=Result.MET)
    client.login(member)
    assert client.form_post(f"/checklist/member/{member.id}/submit").status_code == 303
    assert len(_notes(secretary, "assessment.waiting")) == 1 and not _notes(leader)


def test_pledge_waiting_approved_and_returned(client, secretary, member, branch):
    pledge = make_pledge(branch, member, PledgeStatus.DRAFT)
    client.login(member)
    assert client.form_post(f"/pledges/{pledge.id}/submit").status_code == 303
    assert len(_notes(secretary, "pledge.waiting")) == 1
    client.login(secretary)
    assert client.form_post(f"/pledges/{pledge.id}/return", {"reason": "再具体些"}).status_code == 303
    [note] = _notes(member, "pledge.returned")
    assert note.params["reason"] == "再具体些" and note.link == f"/pledges/{pledge.id}"
    client.login(member)
    client.form_post(f"/pledges/{pledge.id}/submit")
    client.login(secretary)
    assert client.form_post(f"/pledges/{pledge.id}/approve").status_code == 303
    assert len(_notes(member, "pledge.approved")) == 1


def test_submission_request_accept_and_return(client, admin, leader, secretary, branch, other_branch, other_secretary):
    client.login(admin)
    deadline = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.form_post("/submissions", {"title": "报送实施方案", "kind": "plan", "deadline": deadline,
                                                 "branches": [str(branch.id)]})
    assert response.status_code == 303
    [note] = _notes(secretary, "submission.requested")
    assert note.params["what"] == "报送实施方案" and not _notes(other_secretary)
    client.login(secretary)
    # The link goes to the secretary's own submission.
    submission_url = client.get(note.link).headers["Location"]
    submission = db.session.get(Submission, int(submission_url.rsplit("/", 1)[-1]))
    assert submission.branch_id == branch.id
    submission.status = SubmissionStatus.SUBMITTED  # handed in (the upload itself is tested in test_campaign)
    db.session.commit()
    client.login(admin)  # a plan is the leading group's to decide (DESIGN.md), not the organisation section's
    form = {"reason": "缺少成员名单", "version": str(submission.version)}
    assert client.form_post(submission_url + "/return", form).status_code == 403
    client.login(leader)
    assert client.form_post(submission_url + "/return", form).status_code == 303
    [note] = _notes(secretary, "submission.returned")
    assert note.params["reason"] == "缺少成员名单"


def test_follow_up_assigned_tells_the_branch_secretary(client, leader, secretary, other_secretary, branch):
    inspection = Inspection(year_id=current_year().id, kind=InspectionKind.FORUM, held_on=local_today(), title="座谈会")
    db.session.add(inspection)
    db.session.flush()
    db.session.execute(inspection_branch.insert().values(inspection_id=inspection.id, branch_id=branch.id))
    db.session.commit()
    client.login(leader)
    response = client.form_post(f"/inspections/{inspection.id}/follow-ups",
                                {"branch_id": str(branch.id), "action": "完善制度", "owner": "书记",
                                 "due_on": (local_today() + timedelta(days=3)).isoformat()})
    assert response.status_code == 303
    [note] = _notes(secretary, "follow_up.assigned")
    assert note.link.startswith("/follow-ups/") and not _notes(other_secretary)
    client.login(secretary)
    assert client.get(note.link).status_code == 200


def test_nomination_decided_tells_the_nominator(client, leader, secretary, member):
    nomination = make_nomination(secretary, member=member, status=NominationStatus.SHORTLISTED)
    client.login(leader)
    assert client.form_post(f"/commendation/nominations/{nomination.id}/reject",
                            {"note": "事迹不够突出", "version": str(nomination.version)}).status_code == 303
    assert len(_notes(secretary, "nomination.decided")) == 1
    assert _notes(secretary, "nomination.decided")[0].params["decision"] == "rejected"
    client.login(secretary)  # the reason is told with the decision
    page = client.get("/notifications").get_data(as_text=True)
    assert f"对{member.display_name}的推荐已有结果：未表彰。理由：事迹不够突出" in page


def test_post_waiting_returned_published(client, editor, member):
    client.login(member)
    response = client.form_post("/news", POST_FORM)
    assert response.status_code == 303
    post_id = int(response.headers["Location"].rstrip("/").split("/")[-2 if "edit" in response.headers[
        "Location"] else -1])
    assert client.form_post(f"/news/{post_id}/submit").status_code == 303
    assert len(_notes(editor, "post.waiting")) == 1
    client.login(editor)
    assert client.form_post(f"/news/{post_id}/return", {"reason": "请补充照片"}).status_code == 303
    [note] = _notes(member, "post.returned")
    assert note.params["reason"] == "请补充照片"
    client.login(member)
    client.form_post(f"/news/{post_id}/submit")
    client.login(editor)
    assert client.form_post(f"/news/{post_id}/publish").status_code == 303
    assert len(_notes(member, "post.published")) == 1


def test_list_newest_first_and_mark_read(client, secretary, member, branch):
    for days in (3, 1, 2):
        db.session.add(Notification(recipient_id=member.id, kind="post.published", event_key=f"k{days}",
                                    params={"what": f"稿件{days}"}, link="/news",
                                    created_at=utcnow() - timedelta(days=days)))
    db.session.commit()
    client.login(member)
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("稿件1") < page.index("稿件2") < page.index("稿件3")
    assert 'data-unread="3"' in page
    newest = _notes(member)[1]
    response = client.form_post(f"/notifications/{newest.id}/read", {"open": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/news"
    db.session.refresh(newest)
    assert newest.read_at is not None
    assert 'data-unread="2"' in client.get("/").get_data(as_text=True)
    # A page drawn before a new notification arrived marks read only what it showed.
    shown_up_to = max(n.id for n in _notes(member))
    later = Notification(recipient_id=member.id, kind="post.published", event_key="later", params={"what": "新稿"})
    db.session.add(later)
    db.session.commit()
    assert client.form_post("/notifications/read-all", {"up_to": shown_up_to}).status_code == 303
    db.session.refresh(later)
    assert later.read_at is None
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.read_at.is_(None))) == 1
    page = client.get("/notifications").get_data(as_text=True)
    assert f'name="up_to" value="{later.id}"' in page
    client.form_post("/notifications/read-all", {"up_to": later.id})
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.read_at.is_(None))) == 0
    assert 'data-unread="0"' in client.get("/").get_data(as_text=True)


def test_someone_elses_notification_is_refused(client, member, other_member):
    theirs = Notification(recipient_id=other_member.id, kind="post.published", event_key="x",
                          params={"what": "别人的稿件"}, link="/news")
    db.session.add(theirs)
    db.session.commit()
    client.login(member)
    assert client.form_post(f"/notifications/{theirs.id}/read").status_code == 404
    assert client.form_post("/notifications/99999/read").status_code == 404
    assert "别人的稿件" not in client.get("/notifications").get_data(as_text=True)
    client.form_post("/notifications/read-all", {"up_to": theirs.id})
    db.session.refresh(theirs)
    assert theirs.read_at is None


def test_marking_read_needs_csrf_and_login(client, member):
    note = Notification(recipient_id=member.id, kind="post.published", event_key="x", params={"what": "t"})
    db.session.add(note)
    db.session.commit()
    assert client.post(f"/notifications/{note.id}/read").status_code in (302, 400, 401)
    client.login(member)
    assert client.post(f"/notifications/{note.id}/read").status_code == 400
    db.session.refresh(note)
    assert note.read_at is None


@pytest.mark.parametrize("url", ["/notifications"])
def test_pages_need_login(client, url):
    assert client.get(url).status_code in (302, 401)


def test_the_same_event_is_never_written_twice(app, member):
    from portal.services import notifications

    for _ in range(2):
        notifications.notify([member, member.id], "post.published", "post.publish:1", "/news/1", what="稿件")
        db.session.commit()
    assert _count() == 1


def test_texts_quote_a_title_once_and_never_say_submission_twice(app):
    """"报送“报送创先争优活动…”已于…逾期" doubled 报送; "““三会一课”进课堂…”" doubled the quotes."""
    from portal.services.notifications import text_of

    overdue = text_of(Notification(kind="submission.overdue",
                                   params={"what": "报送创先争优活动实施方案", "due": "2012-11-27 17:00"}))
    assert overdue.startswith("“报送创先争优活动实施方案”已于 2012-11-27 17:00 截止") and "报送“报送" not in overdue
    waiting = text_of(Notification(kind="post.waiting", params={"what": "“三会一课”进课堂"}))
    assert waiting == "有稿件等待您审核：「“三会一课”进课堂」。"
    returned = text_of(Notification(kind="submission.returned", params={"what": "小结", "reason": "缺页"}))
    assert returned == "报送材料“小结”已被退回：缺页"


def _statements(client, url: str) -> list[str]:
    from sqlalchemy import event

    found = []

    def seen(_conn, _cursor, statement, *_rest):
        found.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return found


def test_a_page_counts_the_unread_once_with_the_person(client, member):
    for n in range(3):
        db.session.add(Notification(recipient_id=member.id, kind="post.published", event_key=f"k{n}",
                                    params={"what": f"稿件{n}"}, read_at=utcnow() if n == 0 else None))
    db.session.commit()
    client.login(member)
    found = _statements(client, "/account")
    # The header's count is read by the statement that loads the person (accounts.load_user): no count of its own.
    assert not [s for s in found if s.startswith("SELECT count(") and "FROM notification" in s]
    assert 'data-unread="2"' in client.get("/account").get_data(as_text=True)
    # The list: one statement for its size and newest, one for its rows; the unread count (page and header) kept.
    found = _statements(client, "/notifications")
    assert len([s for s in found if "FROM notification" in s and "session_version" not in s]) == 2
    page = client.get("/notifications").get_data(as_text=True)
    assert 'data-unread="2"' in page


def test_a_kept_unread_count_is_counted_again_after_a_write(app, member):
    from sqlalchemy import update

    from portal.services import notifications

    with app.test_request_context("/"):
        notifications.keep_unread_count(member.id, 7)
        assert notifications.unread_count(member) == 7
        db.session.add(Notification(recipient_id=member.id, kind="post.published", event_key="new",
                                    params={"what": "新稿"}))
        db.session.commit()
        assert notifications.unread_count(member) == 1
        notifications.keep_unread_count(member.id, 7)
        db.session.execute(update(Notification).values(read_at=utcnow()))
        assert notifications.unread_count(member) == 0  # counted again in the same transaction, after its UPDATE
        db.session.rollback()
    # Another request (here under the same app context, as in tests) counts for itself.
    with app.test_request_context("/"):
        assert notifications.unread_count(member) == 1
        notifications.keep_unread_count(member.id, 7)
    with app.test_request_context("/"):
        assert notifications.unread_count(member) == 1
