"""What waits for whom, and what happens once it is done: plans go to the leading group (DESIGN.md), a secretary
sees her members' self-assessments to review, the organisation section's decisions are one list oldest first, and
every "waiting for you" notification is resolved (read, never e-mailed) when the work it points at is done."""
import re
from datetime import timedelta

from sqlalchemy import select

from portal import labels
from portal.extensions import db
from portal.models import (
    AssessmentStatus,
    Notification,
    Pledge,
    PledgeStatus,
    Result,
    Role,
    Submission,
    SubmissionStatus,
    utcnow,
)
from portal.services import notifications, reminders, submissions

from ..checklist_helpers import current_year, make_assessment
from ..factories import UserFactory
from ..news_helpers import POST_FORM
from ..unit.test_campaign import GROUP, make_request, pdf
from .test_reminders import smtp  # noqa: F401 - the local SMTP server fixture


def _section(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', page, re.S)
    assert match, f"no #{section_id} on the page"
    return match.group(0)


def _notes(user, kind):
    return list(db.session.scalars(select(Notification).where(Notification.recipient_id == user.id,
                                                              Notification.kind == kind)))


def test_plans_wait_on_the_leaders_queue_and_the_leader_decides_them(client, admin, leader, secretary, branch):
    request = make_request(admin, [branch])  # 领导小组名单和实施方案
    mine = submissions.submission_for(request, branch.id)
    submissions.submit(secretary, mine, note="", document=pdf(), group=GROUP)
    client.login(admin)
    assert "approval-queue" not in client.get("/").get_data(as_text=True)
    assert not _notes(admin, "submission.waiting")
    client.login(leader)
    queue = _section(client.get("/").get_data(as_text=True), "review-queue")
    assert f'href="/submission/{mine.id}"' in queue and "实施方案" in queue
    [note] = _notes(leader, "submission.waiting")
    assert note.read_at is None
    assert client.form_post(f"/submission/{mine.id}/accept", {"version": str(mine.version)}).status_code == 303
    db.session.refresh(note)
    assert note.resolved_at is not None and note.read_at is not None
    assert f'href="/submission/{mine.id}"' not in client.get("/").get_data(as_text=True)


def test_secretary_queue_lists_members_self_assessments_oldest_first(client, secretary, branch, member):
    second = UserFactory(role=Role.MEMBER, branch=branch, display_name="第二位党员")
    for person, days in ((second, 5), (member, 2), (secretary, 9)):
        assessment = make_assessment(branch, member=person, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
        assessment.submitted_at = utcnow() - timedelta(days=days)
    db.session.commit()
    client.login(secretary)
    queue = _section(client.get("/").get_data(as_text=True), "approval-queue")
    assert queue.index(f'href="/checklist/member/{second.id}') < queue.index(f'href="/checklist/member/{member.id}')
    assert f'/checklist/member/{secretary.id}' not in queue  # her own goes to the leading group


def test_admin_decisions_are_one_list_oldest_first(client, admin, secretary, other_secretary, branch, other_branch):
    request = make_request(admin, [branch, other_branch], kind="general")
    for person, br, days in ((secretary, branch, 3), (other_secretary, other_branch, 1)):
        submission = submissions.submission_for(request, br.id)
        submissions.submit(person, submission, note="", document=pdf())
        submission.submitted_at = utcnow() - timedelta(days=days)
    pledge = Pledge(year_id=current_year().id, branch_id=branch.id, author_id=secretary.id, text="支部承诺：品牌建设",
                    status=PledgeStatus.PENDING)
    db.session.add(pledge)
    db.session.flush()
    pledge.updated_at = utcnow() - timedelta(days=2)
    db.session.commit()
    client.login(admin)
    queue = _section(client.get("/").get_data(as_text=True), "approval-queue")
    links = re.findall(r'href="(/(?:submission|pledges)/\d+)"', queue)
    older, newer = (submissions.submission_for(request, b.id).id for b in (branch, other_branch))
    assert links == [f"/submission/{older}", f"/pledges/{pledge.id}", f"/submission/{newer}"]


def test_every_waiting_kind_is_resolved_by_real_actions():
    """Each kind that asks its reader to act names the audited actions that do that work."""
    asking = {kind for kind in notifications.TEXTS
              if kind.endswith((".waiting", ".requested", ".due", ".overdue", ".assigned"))
              or kind.startswith("reminder.")}
    assert asking <= notifications.WAITING
    assert set(notifications.SETTLED_BY) <= set(labels.AUDIT_ACTION)


def test_waiting_notifications_are_resolved_and_never_mailed(app, client, smtp, leader, admin, secretary,  # noqa: F811
                                                           member, branch, editor):
    for person in (leader, secretary, editor, member):
        person.email = f"{person.username}@example.org"
    # A branch self-assessment waits for the leading group; a member's for the secretary; a post for the editors.
    make_assessment(branch, answer_all=Result.MET)
    make_assessment(branch, member=member, answer_all=Result.MET)
    db.session.commit()
    client.login(secretary)
    assert client.form_post(f"/checklist/branch/{branch.id}/submit").status_code == 303
    client.login(member)
    assert client.form_post(f"/checklist/member/{member.id}/submit").status_code == 303
    response = client.form_post("/news", {**POST_FORM, "title": "待审稿件"})
    location = response.headers["Location"]
    post_id = int(location.rstrip("/").split("/")[-2 if "edit" in location else -1])
    assert client.form_post(f"/news/{post_id}/submit").status_code == 303
    request = make_request(admin, [branch], kind="general")  # requested: the secretary must hand it in
    waiting = [*_notes(leader, "assessment.waiting"), *_notes(secretary, "assessment.waiting"),
               *_notes(editor, "post.waiting"), *_notes(secretary, "submission.requested")]
    assert len(waiting) == 4 and all(n.read_at is None for n in waiting)
    # The work is done: reviewed, returned, published, handed in.
    client.login(leader)
    review = {"rating": "good", "comment": "扎实"}
    assert client.form_post(f"/checklist/branch/{branch.id}/review", review).status_code == 303
    client.login(secretary)
    assert client.form_post(f"/checklist/member/{member.id}/return", {"reason": "再具体些"}).status_code == 303
    client.login(editor)
    assert client.form_post(f"/news/{post_id}/publish").status_code == 303
    submissions.submit(secretary, submissions.submission_for(request, branch.id), note="", document=pdf())
    db.session.expire_all()
    for note in waiting:
        assert note.resolved_at is not None and note.read_at is not None, note.kind
    assert 'data-unread="0"' in client.get("/").get_data(as_text=True)  # the editor: nothing left unread
    reminders.send_due_emails()
    mailed = {to[0] for to, _message in smtp.messages}
    for note in waiting:  # what was resolved is never mailed (the returned member's own news is)
        assert db.session.get(Notification, note.id).emailed_at is None
    assert "leader@example.org" not in mailed and "editor@example.org" not in mailed


def test_a_reminder_is_resolved_when_the_member_submits(client, secretary, member, branch):
    make_assessment(branch, member=member, answer_all=Result.MET)
    client.login(secretary)
    assert client.form_post(f"/checklist/member/{member.id}/remind").status_code == 303
    [note] = _notes(member, "reminder.self_assessment")
    client.login(member)
    assert client.form_post(f"/checklist/member/{member.id}/submit").status_code == 303
    db.session.refresh(note)
    assert note.resolved_at is not None
    assert "已处理" in client.get("/notifications").get_data(as_text=True)


def test_the_submission_reminders_are_resolved_when_handed_in(app, admin, secretary, branch):
    request = make_request(admin, [branch], kind="general", deadline=utcnow() + timedelta(days=1))
    reminders.write_due_notifications()
    [due] = _notes(secretary, "submission.due")
    mine = submissions.submission_for(request, branch.id)
    submissions.submit(secretary, mine, note="", document=pdf())
    db.session.refresh(due)
    assert due.resolved_at is not None and mine.status == SubmissionStatus.SUBMITTED
    assert db.session.get(Submission, mine.id).status == SubmissionStatus.SUBMITTED
