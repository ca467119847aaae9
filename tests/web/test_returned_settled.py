"""A "returned" notification asks its reader to put the work right: it stays open until they hand the work in
again, and a stale one is settled when the work is returned a second time (only the newest stays open)."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import AssessmentStatus, Notification, PledgeStatus, Result
from portal.services import submissions

from ..checklist_helpers import make_assessment, make_pledge
from ..unit.test_campaign import GROUP, make_request, pdf


def _open(user, kind):
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(
        Notification.recipient_id == user.id, Notification.kind == kind, Notification.resolved_at.is_(None))))


def _all(user, kind):
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.recipient_id == user.id,
                                                               Notification.kind == kind)))


def test_a_returned_self_assessment_is_settled_when_it_is_submitted_again(client, secretary, member, branch):
    make_assessment(branch, member=member, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    url = f"/checklist/member/{member.id}"
    client.login(secretary)
    assert client.form_post(url + "/return", {"reason": "再具体些"}).status_code == 303
    [first] = _open(member, "assessment.returned")
    assert first.read_at is None
    client.login(member)
    assert client.form_post(url + "/submit").status_code == 303
    assert not _open(member, "assessment.returned")  # re-submitted: nothing left to put right
    client.login(secretary)
    assert client.form_post(url + "/return", {"reason": "还缺佐证"}).status_code == 303
    [second] = _open(member, "assessment.returned")
    assert second.id != first.id and second.params["reason"] == "还缺佐证"
    client.login(member)
    assert 'data-unread="1"' in client.get("/").get_data(as_text=True)
    assert client.form_post(url + "/submit").status_code == 303
    client.login(secretary)
    assert client.form_post(url + "/review", {"rating": "good", "comment": "好"}).status_code == 303
    notes = _all(member, "assessment.returned")
    assert len(notes) == 2 and all(n.resolved_at is not None and n.read_at is not None for n in notes)


def test_a_stale_returned_notification_is_settled_by_the_next_return(client, leader, secretary, branch):
    assessment = make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(leader)
    url = f"/checklist/branch/{branch.id}"
    assert client.form_post(url + "/return", {"reason": "第一次"}).status_code == 303
    assessment = db.session.get(type(assessment), assessment.id)
    assessment.status = AssessmentStatus.SUBMITTED  # handed in again by a path that writes no audit event
    db.session.commit()
    assert client.form_post(url + "/return", {"reason": "第二次"}).status_code == 303
    [still_open] = _open(secretary, "assessment.returned")
    assert still_open.params["reason"] == "第二次"
    assert len(_all(secretary, "assessment.returned")) == 2


def test_a_returned_plan_is_settled_when_it_is_handed_in_again(admin, leader, secretary, branch):
    sub = submissions.submission_for(make_request(admin, [branch]), branch.id)
    submissions.submit(secretary, sub, note="", document=pdf(), group=GROUP)
    submissions.return_for_revision(leader, sub, "缺少成员名单")
    [returned] = _open(secretary, "submission.returned")
    assert returned.read_at is None
    submissions.submit(secretary, sub, note="补上了", document=pdf(), group=GROUP)
    assert not _open(secretary, "submission.returned")
    submissions.return_for_revision(leader, sub, "还缺分工")
    [second] = _open(secretary, "submission.returned")
    assert second.params["reason"] == "还缺分工"
    submissions.submit(secretary, sub, note="", document=pdf(), group=GROUP)
    submissions.accept(leader, sub)
    assert not _open(secretary, "submission.returned") and len(_all(secretary, "submission.returned")) == 2


def test_a_returned_pledge_is_settled_when_it_is_sent_again(client, secretary, member, branch):
    pledge = make_pledge(branch, member, PledgeStatus.PENDING)
    client.login(secretary)
    assert client.form_post(f"/pledges/{pledge.id}/return", {"reason": "再具体些"}).status_code == 303
    assert len(_open(member, "pledge.returned")) == 1
    client.login(member)
    assert client.form_post(f"/pledges/{pledge.id}/submit").status_code == 303
    assert not _open(member, "pledge.returned")
    client.login(secretary)
    assert client.form_post(f"/pledges/{pledge.id}/approve").status_code == 303
    assert len(_all(member, "pledge.returned")) == 1
