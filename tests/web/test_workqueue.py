"""Each home page is the person's work queue: one test per queue, each from the state that causes it."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.clock import local_today
from portal.extensions import db
from portal.models import (
    AssessmentStatus,
    AuditEvent,
    FollowUp,
    FollowUpStatus,
    Inspection,
    InspectionKind,
    Notification,
    Pledge,
    PledgeStatus,
    PostStatus,
    Result,
    Review,
    Role,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    utcnow,
)

from ..checklist_helpers import current_year, make_assessment
from ..factories import BranchFactory, UserFactory
from ..news_helpers import make_nomination, make_post


def _section(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', page, re.S)
    assert match, f"no #{section_id} on the page"
    return match.group(0)


def _submitted(branch, days_ago: int, member=None):
    assessment = make_assessment(branch, member=member, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    assessment.submitted_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return assessment


def test_leader_review_queue_oldest_first_with_days_waiting(client, leader, branch, other_branch, secretary):
    third = BranchFactory()
    _submitted(other_branch, 2)
    _submitted(branch, 5)
    make_assessment(third, status=AssessmentStatus.DRAFT)  # a draft waits for nobody
    _submitted(third, 1, member=UserFactory(role=Role.MEMBER, branch=third))  # a member's: the secretary's
    _submitted(branch, 3, member=secretary)  # a secretary's own: the leading group reviews it
    client.login(leader)
    queue = _section(client.get("/").get_data(as_text=True), "review-queue")
    names = [branch.name, f"{branch.name} · {secretary.display_name}", other_branch.name]
    positions = [queue.index(name + "</a>") for name in names]
    assert positions == sorted(positions)
    assert "等待 5 天" in queue and "等待 2 天" in queue
    assert third.name not in queue
    assert f'href="/checklist/branch/{branch.id}?year=' in queue


def test_save_and_open_next_goes_down_the_queue(client, leader, branch, other_branch):
    first, second = _submitted(branch, 4), _submitted(other_branch, 1)
    client.login(leader)
    page = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    assert 'name="next"' in page and "保存并打开下一个" in page
    response = client.form_post(f"/checklist/branch/{branch.id}/review",
                                {"rating": "good", "comment": "扎实", "next": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/checklist/branch/{other_branch.id}")
    response = client.form_post(f"/checklist/branch/{other_branch.id}/review",
                                {"rating": "average", "comment": "尚可", "next": "1"})
    assert response.headers["Location"] == "/#review-queue"
    assert db.session.scalar(select(func.count(Review.id))) == 2
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == second.status == AssessmentStatus.REVIEWED
    # An invalid review stays on the page (422) and moves nothing.
    third = _submitted(BranchFactory(), 1)
    response = client.form_post(f"/checklist/branch/{third.branch_id}/review", {"rating": "", "next": "1"})
    assert response.status_code == 422


def test_leader_nominations_to_decide(client, leader, secretary, member):
    waiting = make_nomination(secretary, member=member)
    client.login(leader)
    queue = _section(client.get("/").get_data(as_text=True), "nomination-queue")
    assert f'href="/commendation/nominations/{waiting.id}"' in queue and "待列入候选" in queue
    assert f"{member.display_name} · {secretary.branch.name}</a>" in queue


def test_a_branch_nomination_is_named_by_the_branch(client, leader, secretary, branch):
    waiting = make_nomination(secretary)  # 先进基层党组织: the branch itself
    client.login(leader)
    queue = _section(client.get("/").get_data(as_text=True), "nomination-queue")
    assert f'href="/commendation/nominations/{waiting.id}">{branch.name}</a>' in queue
    assert "—" not in queue


def test_secretary_sees_returned_work_with_reason_and_link(client, leader, secretary, branch):
    _submitted(branch, 1)
    client.login(leader)
    assert client.form_post(f"/checklist/branch/{branch.id}/return",
                            {"reason": "请补充<b>工作机制好</b>的佐证"}).status_code == 303
    pledge = Pledge(year_id=current_year().id, branch_id=branch.id, author_id=secretary.id, text="建设书香校园",
                    status=PledgeStatus.RETURNED, return_reason="目标要可衡量")
    db.session.add(pledge)
    db.session.commit()
    client.login(secretary)
    queue = _section(client.get("/").get_data(as_text=True), "returned-queue")
    assert "退回理由：请补充&lt;b&gt;工作机制好&lt;/b&gt;的佐证" in queue
    assert "目标要可衡量" in queue and f'href="/pledges/{pledge.id}"' in queue
    assert queue.count("去修改") == 2 and f'href="/checklist/branch/{branch.id}?year=' in queue


def test_secretary_members_owing_and_remind(client, secretary, member, branch, other_member):
    done = UserFactory(role=Role.MEMBER, branch=branch, display_name="已交党员")
    make_assessment(branch, member=done, status=AssessmentStatus.SUBMITTED)
    client.login(secretary)
    queue = _section(client.get("/").get_data(as_text=True), "members-queue")
    assert member.display_name in queue and "提醒" in queue
    assert done.display_name not in queue and other_member.display_name not in queue
    assert secretary.display_name not in queue
    response = client.form_post(f"/checklist/member/{member.id}/remind")
    assert response.status_code == 303
    note = db.session.scalar(select(Notification).where(Notification.recipient_id == member.id))
    assert note.kind == "reminder.self_assessment" and note.link.startswith(f"/checklist/member/{member.id}")
    # A second click the same day writes nothing more.
    assert client.form_post(f"/checklist/member/{member.id}/remind").status_code == 303
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    queue = _section(client.get("/").get_data(as_text=True), "members-queue")
    assert re.search(rf'<li id="owing-{member.id}">.*?今天已提醒', queue, re.S)
    # One who submitted already (a stale page) is not reminded: back to the home page, which says so.
    response = client.form_post(f"/checklist/member/{done.id}/remind")
    assert response.status_code == 303 and response.headers["Location"].startswith("/")
    assert "已提交自评，无需提醒" in client.get("/").get_data(as_text=True)
    # Another branch's member and oneself are refused.
    assert client.form_post(f"/checklist/member/{other_member.id}/remind").status_code == 403
    assert client.form_post(f"/checklist/member/{secretary.id}/remind").status_code == 403
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "notification.remind")) == 1


def _request(branch, deadline_in: timedelta, status=SubmissionStatus.PENDING, title="报送实施方案"):
    request = SubmissionRequest(year_id=current_year().id, title=title, deadline=utcnow() + deadline_in)
    db.session.add(request)
    db.session.flush()
    submission = Submission(request_id=request.id, branch_id=branch.id, status=status)
    db.session.add(submission)
    db.session.commit()
    return request, submission


def test_secretary_submissions_due_and_overdue(client, secretary, branch, other_branch):
    _r, soon = _request(branch, timedelta(days=2), title="即将到期的报送")
    _r, late = _request(branch, timedelta(days=-1), title="逾期的报送")
    _request(branch, timedelta(days=20), title="还早的报送")
    _request(other_branch, timedelta(days=1), title="别的支部的报送")
    client.login(secretary)
    queue = _section(client.get("/").get_data(as_text=True), "submissions-queue")
    assert "即将到期的报送" in queue and "逾期的报送" in queue and "badge--bad" in queue
    assert "还早的报送" not in queue and "别的支部的报送" not in queue
    assert queue.index("逾期的报送") < queue.index("即将到期的报送")
    assert f'href="/submission/{soon.id}"' in queue and f'href="/submission/{late.id}"' in queue


def _follow_up(branch, other_branch, action="整改党员活动室"):
    inspection = Inspection(year_id=current_year().id, kind=InspectionKind.INSPECTION, held_on=local_today(),
                            title="定期督察", findings="别的支部的问题：机密")
    db.session.add(inspection)
    db.session.flush()
    mine = FollowUp(inspection_id=inspection.id, branch_id=branch.id, action=action, owner="书记",
                    due_on=local_today() + timedelta(days=7))
    theirs = FollowUp(inspection_id=inspection.id, branch_id=other_branch.id, action="别的支部的整改",
                      owner="书记", due_on=local_today())
    db.session.add_all([mine, theirs])
    db.session.commit()
    return mine, theirs


def test_secretary_opens_and_answers_a_follow_up(client, secretary, other_secretary, branch, other_branch, leader):
    mine, theirs = _follow_up(branch, other_branch)
    client.login(secretary)
    queue = _section(client.get("/").get_data(as_text=True), "follow-up-queue")
    assert "整改党员活动室" in queue and "别的支部的整改" not in queue
    page = client.get(f"/follow-ups/{mine.id}").get_data(as_text=True)
    assert "整改党员活动室" in page and "机密" not in page
    assert client.get(f"/follow-ups/{theirs.id}").status_code == 403
    assert client.form_post(f"/follow-ups/{theirs.id}/answer", {"response": "x"}).status_code == 403
    seen = str(mine.version)
    assert client.form_post(f"/follow-ups/{mine.id}/answer", {"response": "  ", "version": seen}).status_code == 422
    response = client.form_post(f"/follow-ups/{mine.id}/answer", {"response": "已完成改造", "done": "1",
                                                                 "version": seen})
    assert response.status_code == 303
    db.session.refresh(mine)
    assert mine.status == FollowUpStatus.DONE and mine.response == "已完成改造"
    assert "整改党员活动室" not in client.get("/").get_data(as_text=True)
    client.login(leader)
    assert "已完成改造" in client.get(f"/follow-ups/{mine.id}").get_data(as_text=True)


def test_secretary_returned_post(client, secretary):
    post = make_post(secretary, title="被退回的稿件", status=PostStatus.RETURNED)
    post.return_reason = "请补充图片"
    db.session.commit()
    client.login(secretary)
    queue = _section(client.get("/").get_data(as_text=True), "returned-queue")
    assert "被退回的稿件" in queue and "请补充图片" in queue and f'href="/news/{post.id}/edit"' in queue


def test_member_own_self_assessment_and_pledge(client, member, branch):
    client.login(member)
    queue = _section(client.get("/").get_data(as_text=True), "own-queue")
    assert f'href="/checklist/member/{member.id}?year=' in queue and 'href="/pledges"' in queue
    make_assessment(branch, member=member, status=AssessmentStatus.SUBMITTED)
    db.session.add(Pledge(year_id=current_year().id, branch_id=branch.id, member_id=member.id,
                          author_id=member.id, text="带头学习", status=PledgeStatus.PENDING))
    db.session.commit()
    assert 'id="own-queue"' not in client.get("/").get_data(as_text=True)


def test_editor_review_queue_is_links(client, editor, member):
    post = make_post(member, title="等待审核的稿件", status=PostStatus.PENDING)
    client.login(editor)
    page = client.get("/").get_data(as_text=True)
    queue = _section(page, "post-queue")
    assert f'href="/news/{post.id}"' in queue and "等待审核的稿件" in queue
    assert '<a href="/news/queue">1</a>' in page


def test_admin_overdue_requests_and_phase_dates(client, admin, branch, other_branch):
    request, _s = _request(branch, timedelta(days=-2), title="逾期未报的方案")
    db.session.add(Submission(request_id=request.id, branch_id=other_branch.id,
                              status=SubmissionStatus.SUBMITTED))
    db.session.commit()
    client.login(admin)
    page = client.get("/").get_data(as_text=True)
    overdue = _section(page, "overdue-queue")
    assert "逾期未报的方案" in overdue and f'href="/submissions/{request.id}"' in overdue
    assert "1 个支部尚未报送" in overdue
    approvals = _section(page, "approval-queue")
    assert other_branch.name in approvals
    year = current_year()
    for phase in list(year.phases)[:1]:
        db.session.delete(phase)
    db.session.commit()
    calendar = _section(client.get("/").get_data(as_text=True), "calendar-queue")
    assert 'href="/campaign/years"' in calendar


def test_next_step_follows_the_state(client, secretary, member, branch, leader):
    client.login(secretary)
    assert "下一步：逐项评定本支部五个好各项指标" in client.get("/").get_data(as_text=True)
    assessment = make_assessment(branch, status=AssessmentStatus.RETURNED)
    assessment.return_reason = "补充材料"
    db.session.commit()
    assert "按退回理由修改（见上方" in client.get("/").get_data(as_text=True)
    assessment.status = AssessmentStatus.SUBMITTED
    db.session.commit()
    assert "自评正等待领导小组点评" in client.get("/").get_data(as_text=True)
    client.login(leader)
    page = client.get("/").get_data(as_text=True)
    assert '<a href="#review-queue">下一步：按先后顺序处理等待中的 1 份自评和实施方案。</a>' in page


def test_a_long_review_queue_lists_the_oldest_and_links_to_the_rest(client, leader):
    from portal.services import workqueue

    for days in range(workqueue.SHOWN + 2):
        _submitted(BranchFactory(), days)
    client.login(leader)
    queue = _section(client.get("/").get_data(as_text=True), "review-queue")
    assert f"({workqueue.SHOWN + 2})" in queue and queue.count("<li>") == workqueue.SHOWN
    assert f"等待 {workqueue.SHOWN + 1} 天" in queue and 'href="/dashboard?status=submitted"' in queue


def test_home_query_count_does_not_grow_with_the_queue(client, leader, secretary, branch):
    from ..factories import UserFactory as People
    from .test_checklist_queries import count

    def home(user):
        client.login(user)
        client.get("/")
        return count(client, "GET", "/")

    _submitted(branch, 1)  # the branch's own assessment exists in both measurements
    before = (home(leader), home(secretary))
    for days in range(30):
        other = BranchFactory()
        _submitted(other, days)
        People(role=Role.MEMBER, branch=branch)
    make_nomination(secretary, member=People(role=Role.MEMBER, branch=branch))
    assert (home(leader), home(secretary)) == before


def test_a_stale_follow_up_answer_is_a_conflict(client, secretary, branch, other_branch):
    mine, _theirs = _follow_up(branch, other_branch)
    stale = mine.version
    mine.version += 1  # someone changed it meanwhile (e.g. the leader's status button)
    db.session.commit()
    client.login(secretary)
    response = client.form_post(f"/follow-ups/{mine.id}/answer", {"response": "我的答复", "version": str(stale)})
    assert response.status_code == 409 and "我的答复" in response.get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.response == "" and mine.status == FollowUpStatus.OPEN


def test_times_read_alike_on_the_home_page_and_in_the_notification(client, secretary, branch):
    """One way to write a time (i18n.when), in the portal's time zone: the home page's "截止" and the text of the
    notification (and so of its e-mail) both read "YYYY-MM-DD HH:MM", never "YYYY/MM/DD"."""
    import re

    from portal.i18n import when
    from portal.services.submissions import local_text

    request, _submission = _request(branch, timedelta(days=2), title="即将到期的报送")
    client.login(secretary)
    queue = _section(client.get("/").get_data(as_text=True), "submissions-queue")
    with client.application.test_request_context():
        written = when(request.deadline)
        assert local_text(request.deadline) == written
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", written) and written in queue
    assert not re.search(r"\d{4}/\d\d?/\d\d?", queue)


def test_the_members_list_empty_does_not_say_everyone_while_the_secretary_owes(client, secretary, branch):
    """The list of members who owe leaves the secretary out (their own card is below it): empty while the secretary
    has not submitted, it says every *other* member has (found by the fresh-eyes check: it said 全体党员均已提交
    beside 已提交五带头自评的党员：0 / 1); once the secretary has submitted too, every member has."""
    client.login(secretary)
    page = client.get("/").get_data(as_text=True)
    assert "其他党员均已提交；您本人的五带头自评尚未提交。" in _section(page, "members-queue")
    assert "全体党员均已提交" not in page and "已提交五带头自评的党员：0 / 1" in page
    make_assessment(branch, member=secretary, status=AssessmentStatus.SUBMITTED)
    page = client.get("/").get_data(as_text=True)
    assert "全体党员均已提交。" in _section(page, "members-queue") and "已提交五带头自评的党员：1 / 1" in page
