"""send-reminders through a real local SMTP server (aiosmtpd): the message is read back, its Chinese subject
decoded and its link checked; each notification is e-mailed at most once; failures are retried, never raised."""
import email
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.models import AssessmentStatus, Notification, Submission, SubmissionRequest, SubmissionStatus, utcnow
from portal.services import notifications, reminders

from ..checklist_helpers import current_year, make_assessment

BASE = "http://cxzy.example.org"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.port = controller.port
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, PORTAL_BASE_URL=BASE,
                      MAIL_DEFAULT_SENDER="创先争优活动平台 <noreply@example.org>", MAIL_DIGEST_HOUR=0)
    yield inbox
    controller.stop()


def _note(user, key, kind="post.published", link="/news/1", **params):
    notifications.notify([user], kind, key, link, **(params or {"what": "支部风采"}))
    db.session.commit()


def test_digest_is_sent_once_with_a_decoded_subject_and_a_link(app, runner, smtp, secretary, branch):
    secretary.email = "sec@example.org"
    db.session.commit()
    _note(secretary, "a", kind="assessment.returned", link=f"/checklist/branch/{branch.id}?year=2012",
          what=branch.name, reason="佐证不足")
    _note(secretary, "b")
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    [(to, message)] = smtp.messages
    assert to == ["sec@example.org"]
    assert str(message["Subject"]) == "[创先争优] 您有 2 条新通知"
    assert "创先争优活动平台" in str(message["From"])
    body = message.get_content()
    assert "佐证不足" in body and f"{BASE}/checklist/branch/{branch.id}?year=2012" in body
    assert f"{BASE}/notifications" in body
    assert db.session.scalar(select(Notification).where(Notification.event_key == "a")).emailed_at is not None
    # Run again: nothing is due any more; a new notification the same day waits for tomorrow's digest.
    _note(secretary, "c")
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert len(smtp.messages) == 1
    with app.test_request_context():
        result = reminders.send_due_emails(utcnow() + timedelta(days=1))
    assert result.sent == 1 and len(smtp.messages) == 2
    # Before the digest hour nothing goes out.
    app.config["MAIL_DIGEST_HOUR"] = 24
    _note(secretary, "d")
    with app.test_request_context():
        assert reminders.send_due_emails(utcnow() + timedelta(days=2)).sent == 0
    assert str(smtp.messages[1][1]["Subject"]) == "[创先争优] 您有 1 条新通知"


def test_immediate_preference_one_message_each_and_none_gets_nothing(app, runner, smtp, member, secretary):
    member.email, member.email_preference = "mem@example.org", "immediate"
    secretary.email, secretary.email_preference = "sec@example.org", "none"
    db.session.commit()
    _note(member, "x", what="稿件一")
    _note(member, "y", what="稿件二")
    _note(secretary, "z")
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    subjects = sorted(str(m["Subject"]) for _to, m in smtp.messages)
    assert subjects == ["[创先争优] 您的稿件“稿件一”已发布。", "[创先争优] 您的稿件“稿件二”已发布。"]
    assert all(to == ["mem@example.org"] for to, _m in smtp.messages)


def test_read_notifications_and_people_without_an_address_are_not_mailed(app, runner, smtp, member, secretary):
    member.email = "mem@example.org"
    db.session.commit()
    _note(member, "read")
    db.session.scalar(select(Notification)).read_at = utcnow()
    _note(secretary, "no-address")
    db.session.commit()
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert smtp.messages == []


def test_a_reminder_to_a_member_who_submitted_is_not_sent(app, client, runner, smtp, secretary, member, branch):
    member.email, member.email_preference = "mem@example.org", "immediate"
    db.session.commit()
    client.login(secretary)
    assert client.form_post(f"/checklist/member/{member.id}/remind").status_code == 303
    make_assessment(branch, member=member, status=AssessmentStatus.SUBMITTED)
    result = runner.invoke(args=["send-reminders"])
    assert "no longer needed: 1" in result.output
    assert smtp.messages == []


def test_submissions_due_and_overdue_are_written_and_mailed(app, runner, smtp, secretary, branch, other_branch):
    secretary.email = "sec@example.org"
    year = current_year()
    cases = (("三天内到期", timedelta(days=2)), ("已经逾期", timedelta(days=-1)), ("还早", timedelta(days=9)))
    for title, delta in cases:
        request = SubmissionRequest(year_id=year.id, title=title, deadline=utcnow() + delta)
        db.session.add(request)
        db.session.flush()
        db.session.add_all([Submission(request_id=request.id, branch_id=branch.id),
                            Submission(request_id=request.id, branch_id=other_branch.id,
                                       status=SubmissionStatus.ACCEPTED)])
    db.session.commit()
    result = runner.invoke(args=["send-reminders"])
    assert "Reminders written: 2" in result.output
    kinds = sorted(n.kind for n in db.session.scalars(select(Notification)))
    assert kinds == ["submission.due", "submission.overdue"]
    [(_to, message)] = smtp.messages
    body = message.get_content()
    assert "三天内到期" in body and "已经逾期" in body and "还早" not in body
    assert "Reminders written: 0" in runner.invoke(args=["send-reminders"]).output


def test_smtp_failure_is_logged_and_retried_not_raised(app, client, runner, smtp, secretary, member, branch):
    member.email = "mem@example.org"
    db.session.commit()
    _note(member, "k")
    app.config["MAIL_PORT"] = _free_port()  # nothing listens there
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 1 and "failed: 1" in result.output
    assert db.session.scalar(select(Notification)).emailed_at is None
    # The web never sends mail itself: the person's page still answers.
    client.login(member)
    assert client.get("/notifications").status_code == 200
    app.config["MAIL_PORT"] = smtp.port  # the server is back: the next run sends it
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert len(smtp.messages) == 1


def test_admin_sets_an_address_and_the_person_a_preference(client, admin, member):
    client.login(admin)
    page = client.get(f"/admin/users/{member.id}").get_data(as_text=True)
    assert 'name="email"' in page
    form = {"display_name": member.display_name, "role": "member", "branch": str(member.branch_id),
            "post_title": "", "email": "not an address", "version": str(member.version)}
    response = client.form_post(f"/admin/users/{member.id}", form)
    assert response.status_code == 422 and "邮箱地址" in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.email == ""
    response = client.form_post(f"/admin/users/{member.id}", {**form, "email": " Mem@Example.org "})
    assert response.status_code == 303
    db.session.refresh(member)
    assert member.email == "mem@example.org"
    client.login(member)
    page = client.get("/account").get_data(as_text=True)
    assert "mem@example.org" in page and '<input checked id="email_preference-0"' in page
    assert client.form_post("/account/notifications", {"email_preference": "weekly"}).status_code == 422
    assert client.form_post("/account/notifications", {"email_preference": "immediate"}).status_code == 303
    db.session.refresh(member)
    assert member.email_preference == "immediate"


def test_roster_column_email(client, admin, branch):
    import io

    client.login(admin)
    csv_text = f"用户名,姓名,角色,支部,职务,邮箱\nt01,李老师,党员,{branch.name},教师,t01@example.org\n" \
               f"t02,王老师,党员,{branch.name},教师,坏地址\n"
    response = client.form_post("/admin/roster", {"file": (io.BytesIO(csv_text.encode()), "r.csv")},
                                content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请输入邮箱地址" in page and "t02" in page
    csv_text = f"用户名,姓名,角色,支部,职务,邮箱\nt01,李老师,党员,{branch.name},教师,t01@example.org\n"
    response = client.form_post("/admin/roster", {"file": (io.BytesIO(csv_text.encode()), "r.csv")},
                                content_type="multipart/form-data")
    assert response.status_code == 200 and "t01@example.org" in response.get_data(as_text=True)
