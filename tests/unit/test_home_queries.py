"""The home pages' queries at district scale (issue #14): the leading group's review queue reads the branches'
and the secretaries' assessments only, never the year's member assessments, and gives what the old single query
over every assessment of the year gave; the other home-page lists do not load a whole district to show 26."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import Assessment, AssessmentStatus, Branch, Pledge, PledgeStatus, Role, Subject, User, utcnow
from portal.services import firstrun, home, pledges, workqueue

from ..checklist_helpers import current_year, make_assessment
from ..factories import BranchFactory, UserFactory


def _old_waiting(year, limit=None):
    """The queue as the single query before issue #14 computed it (every assessment of the year, joined to
    its member): (assessment id, branch name, member name), oldest submission first."""
    member = aliased(User)
    stmt = (select(Assessment.id, Branch.name, member.display_name)
            .join(Branch, Branch.id == Assessment.branch_id)
            .outerjoin(member, member.id == Assessment.member_id)
            .where(Assessment.year_id == year.id, Assessment.status == AssessmentStatus.SUBMITTED,
                   or_(Assessment.subject == Subject.BRANCH, member.role == Role.SECRETARY))
            .order_by(Assessment.submitted_at, Assessment.id).limit(limit))
    return db.session.execute(stmt).all()


def _district(branches: int = 6):
    """Branches with a secretary and two members each, in every state; submissions on distinct days, and two
    on the same instant (the id breaks the tie)."""
    now = utcnow().replace(microsecond=0)
    n = 0
    for index in range(branches):
        branch = BranchFactory()
        secretary = UserFactory(role=Role.SECRETARY, branch=branch)
        members = [UserFactory(role=Role.MEMBER, branch=branch) for _ in range(2)]
        for owner in (None, secretary, *members):
            status = [AssessmentStatus.SUBMITTED, AssessmentStatus.DRAFT, AssessmentStatus.REVIEWED][(index + n) % 3]
            assessment = make_assessment(branch, member=owner, status=status)
            if status == AssessmentStatus.SUBMITTED:
                assessment.submitted_at = now - timedelta(days=n % 5)
            n += 1
    inactive = UserFactory(role=Role.SECRETARY, branch=BranchFactory(), active=False)  # still the leaders' to review
    make_assessment(inactive.branch, member=inactive, status=AssessmentStatus.SUBMITTED).submitted_at = now
    db.session.commit()


def test_review_queue_equals_the_old_query(app):
    _district()
    year = current_year()
    old = _old_waiting(year)
    assert {member is None for *_, member in old} == {True, False} and len(old) >= 4
    entries, total = workqueue.review_queue_and_total(year, limit=None)
    assert total == len(old) == workqueue.review_count(year)
    assert [(e.object_id, e.title) for e in entries] == [
        (aid, f"{branch} · {member}" if member else branch) for aid, branch, member in old]
    for limit in (1, 3, workqueue.SHOWN + 1):
        entries, total = workqueue.review_queue_and_total(year, limit=limit)
        assert [e.object_id for e in entries] == [row[0] for row in _old_waiting(year, limit)]
        assert total == len(old)
    assert workqueue.review_queue(year, limit=3) == workqueue.review_queue_and_total(year, limit=3)[0]


def test_an_empty_review_queue(app):
    assert workqueue.review_queue_and_total(current_year()) == ([], 0)


def _plan(statement) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_review_queue_reads_the_kept_list_in_order(app):
    """SQLite's plan of the queue: the oldest waiting read in order off the kept list's index and its total counted
    in that index alone (migration h14w_01), the chosen assessments by id; never the district's secretaries looked up
    one by one, nor every assessment of the year walked, both of which grow with the district."""
    if db.engine.dialect.name != "sqlite":
        return
    plan = _plan(workqueue._review_queue_statement(workqueue.SHOWN + 1).params(year_id=current_year().id))
    assert plan.count("COVERING INDEX ix_review_waiting_order (year_id=?)") == 2, plan
    assert "SEARCH assessment USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    assert "SCAN assessment" not in plan and "ix_user_role" not in plan and "uq_assessment_member_year" not in plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan.split("SEARCH assessment")[0], plan  # the kept order, no sort


def test_home_district_counts_read_an_index_alone(app):
    """The leaders' and the organisation section's counts of active branches and of the year's branch checklists
    handed in: each counted in a covering index (migration h14h_01), never the branch rows (brand texts and all) or
    the year's checklists read one by one."""
    if db.engine.dialect.name != "sqlite":
        return
    plan = _plan(home._district_counts().params(year_id=current_year().id))  # one statement, the two counts
    assert "SEARCH branch USING COVERING INDEX ix_branch_active_order (active=?)" in plan, plan
    assert "SEARCH assessment USING COVERING INDEX ix_assessment_year_subject_status" in plan, plan


def test_submissions_to_decide_are_read_in_order_and_stop_early(app):
    """The leaders' plans and the organisation section's other submissions waiting for a decision: read in the
    order handed in from ix_submission_status_submitted, never every submission of every year walked and sorted
    (a walk of ix_submission_branch_id and a temporary sort, before migration h14q_01)."""
    if db.engine.dialect.name != "sqlite":
        return
    year = current_year()
    for plans in (True, False):
        plan = _plan(workqueue._to_decide(year.id, plans))
        assert "SEARCH submission USING INDEX ix_submission_status_submitted (status=?)" in plan, plan
        # (the plans' total reads the year's requests, a handful, whole: submission_request, not submission)
        assert not any(line.split()[:2] == ["SCAN", "submission"] for line in plan.splitlines()), plan
        assert "TEMP B-TREE" not in plan, plan


def test_admin_pledge_queue_reads_only_the_oldest(app, admin, secretary, branch):
    """The organisation section's pledge approvals: the 26 longest waiting, the same as the newest-first list
    reversed, without loading every pending pledge of the district."""
    year = current_year()
    now = utcnow()
    for days in range(workqueue.SHOWN + 4):
        db.session.add(Pledge(year_id=year.id, branch_id=BranchFactory().id, author_id=admin.id, text=f"承诺{days}",
                              status=PledgeStatus.PENDING, updated_at=now - timedelta(days=days, minutes=1)))
    db.session.add(Pledge(year_id=year.id, branch_id=branch.id, member_id=secretary.id, author_id=secretary.id,
                          text="书记承诺", status=PledgeStatus.PENDING, updated_at=now))
    db.session.commit()
    everything = pledges.awaiting(admin, year)
    oldest = pledges.awaiting(admin, year, oldest=workqueue.SHOWN + 1)
    assert [p.id for p, *_ in oldest] == [p.id for p, *_ in reversed(everything)][:workqueue.SHOWN + 1]
    assert len(everything) == workqueue.SHOWN + 5


def test_first_run_steps_stop_at_the_first_row(app, admin):
    """Each step is an EXISTS test, not a count of the district's people or audit events."""
    found = {step.key: step.done for step in firstrun.steps()}
    assert found["leaders"] is False and found["roster"] is False and found["template"] is False
    UserFactory(role=Role.MEMBER, branch=BranchFactory())
    UserFactory(role=Role.LEADER)
    found = {step.key: step.done for step in firstrun.steps()}
    assert found["leaders"] and found["roster"] and found["template"]


def _old_secretary_sections(secretary, year):
    """What the secretary's home read before session h14home3, one statement per section (the former code, kept as
    the reference): (owing ids, reminded ids, member reviews, coverage, returned pledges, own pledge statuses,
    pledges to approve, owed submissions, due submission ids, returned submission ids)."""
    from datetime import datetime, time

    from flask_babel import to_user_timezone, to_utc

    from portal.collation import people_order
    from portal.models import Notification, Submission, SubmissionRequest, SubmissionStatus

    done = [AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED]
    joined = Assessment.member_id == User.id, Assessment.year_id == year.id
    owing = db.session.execute(
        select(User.id).outerjoin(Assessment, and_(*joined))
        .where(User.branch_id == secretary.branch_id, User.active.is_(True),
               User.role.in_([Role.MEMBER, Role.SECRETARY]), User.id != secretary.id,
               or_(Assessment.id.is_(None), Assessment.status.not_in(done)))
        .order_by(Assessment.id.is_not(None), *people_order())).scalars().all()
    start = to_utc(datetime.combine(to_user_timezone(utcnow()).date(), time.min)).replace(tzinfo=None)
    reminded = set(db.session.scalars(select(Notification.recipient_id).where(
        Notification.kind == "reminder.self_assessment", Notification.created_at >= start,
        Notification.recipient_id.in_(owing))))
    reviews = db.session.execute(
        select(Assessment.id).join(User, User.id == Assessment.member_id)
        .where(Assessment.year_id == year.id, Assessment.status == AssessmentStatus.SUBMITTED,
               User.branch_id == secretary.branch_id, User.role != Role.SECRETARY, User.id != secretary.id)
        .order_by(Assessment.submitted_at, Assessment.id).limit(workqueue.SHOWN + 1)).scalars().all()
    coverage = tuple(db.session.execute(
        select(func.count(User.id), func.count(Assessment.id)).select_from(User)
        .outerjoin(Assessment, and_(*joined, Assessment.status.in_(done)))
        .where(User.branch_id == secretary.branch_id, User.active.is_(True),
               User.role.in_([Role.MEMBER, Role.SECRETARY]))).one())
    returned = db.session.scalars(select(Pledge.id).where(
        Pledge.year_id == year.id, Pledge.status == PledgeStatus.RETURNED,
        or_(Pledge.member_id == secretary.id, and_(Pledge.branch_id == secretary.branch_id,
                                                   Pledge.member_id.is_(None))))
        .order_by(Pledge.updated_at, Pledge.id)).all()
    own_states = set(db.session.scalars(select(Pledge.status).where(Pledge.year_id == year.id,
                                                                    Pledge.member_id == secretary.id)))
    to_approve = [p.id for p, *_ in pledges.awaiting(secretary, year, oldest=workqueue.SHOWN + 1)]
    owed = select(Submission.id, Submission.status, SubmissionRequest.deadline).join(SubmissionRequest).where(
        SubmissionRequest.year_id == year.id, Submission.branch_id == secretary.branch_id)
    rows = db.session.execute(owed).all()
    soon = utcnow() + timedelta(days=workqueue.DUE_SOON_DAYS)
    return (owing, reminded, reviews, coverage, returned, own_states, to_approve,
            sum(1 for _id, status, _d in rows if status in (SubmissionStatus.PENDING, SubmissionStatus.RETURNED)),
            {sid for sid, status, deadline in rows if status == SubmissionStatus.PENDING and deadline < soon},
            {sid for sid, status, _d in rows if status == SubmissionStatus.RETURNED})


def test_secretary_sections_read_together_equal_the_former_statements(app, secretary, branch, other_branch):
    """The secretary's queue reads its checklists, pledges, people and submissions in four statements (session
    h14home3) and splits them in Python: the same members owing (in order, reminded today or not), members'
    self-assessments to review, coverage, returned and own pledges, pledges to approve and submissions owed and due
    as the former one statement per section, over a branch with a member in every state, an inactive one, an editor,
    reminders of today and yesterday, pledges in every status and submissions in every status."""
    from portal.models import Notification, Submission, SubmissionRequest, SubmissionStatus

    year = current_year()
    now = utcnow().replace(microsecond=0)
    statuses = [None, AssessmentStatus.DRAFT, AssessmentStatus.RETURNED, AssessmentStatus.SUBMITTED,
                AssessmentStatus.REVIEWED]
    people = []
    for index in range(workqueue.SHOWN + 12):
        person = UserFactory(role=Role.MEMBER, branch=branch, active=index % 9 != 4)
        status = statuses[index % len(statuses)]
        if status is not None:
            assessment = make_assessment(branch, member=person, status=status)
            assessment.submitted_at = now - timedelta(hours=index % 7) if status == AssessmentStatus.SUBMITTED \
                else None
        people.append(person)
    editor = UserFactory(role=Role.EDITOR, branch=branch)
    make_assessment(branch, member=editor, status=AssessmentStatus.SUBMITTED).submitted_at = now
    make_assessment(branch, member=secretary, status=AssessmentStatus.RETURNED)
    make_assessment(branch, status=AssessmentStatus.RETURNED)
    for index, person in enumerate(people[:12]):
        db.session.add(Notification(recipient_id=person.id, kind="reminder.self_assessment", event_key=f"r{index}",
                                    created_at=now - timedelta(days=index % 3)))
    pledge_states = list(PledgeStatus)
    for index, person in enumerate([*people, secretary, None, None, secretary]):
        db.session.add(Pledge(year_id=year.id, branch_id=branch.id, member_id=person.id if person else None,
                              author_id=secretary.id, text=f"承诺{index}",
                              status=pledge_states[index % len(pledge_states)],
                              updated_at=now - timedelta(minutes=index % 5)))
    db.session.add(Pledge(year_id=year.id, branch_id=other_branch.id, author_id=secretary.id, text="别的支部",
                          status=PledgeStatus.RETURNED))
    for index, status in enumerate([*SubmissionStatus, SubmissionStatus.PENDING]):
        request = SubmissionRequest(year_id=year.id, title=f"报送{index}", deadline=now + timedelta(days=index - 2))
        db.session.add(request)
        db.session.flush()
        db.session.add(Submission(request_id=request.id, branch_id=branch.id, status=status, decided_at=now))
        db.session.add(Submission(request_id=request.id, branch_id=other_branch.id, status=status))
    db.session.commit()

    (owing, reminded, reviews, coverage, returned, own_states, to_approve, owed, due,
     returned_submissions) = _old_secretary_sections(secretary, year)
    assert owing and reminded and reviews and returned and to_approve and due and returned_submissions  # all shown
    queue = workqueue.for_user(secretary, year)
    assert [e.object_id for e in queue.members_owing] == owing
    assert {e.object_id for e in queue.members_owing if e.detail == "reminded"} == reminded
    assert workqueue.members_owing(year, branch.id, exclude_user_id=secretary.id) == queue.members_owing
    assert [e.object_id for e in queue.approvals if e.kind == "review.member_assessment"] == reviews
    assert [e.object_id for e in queue.approvals if e.kind == "approve.pledge"] == to_approve
    assert (queue.members_total, queue.members_done) == coverage
    assert [e.object_id for e in queue.returned if e.kind.endswith("_pledge")] == returned
    assert {e.object_id for e in queue.returned if e.kind == "returned.submission"} == returned_submissions
    assert {e.kind for e in queue.returned} >= {"returned.branch_assessment", "returned.own_assessment"}
    assert {e.object_id for e in queue.submissions_due} == due and queue.submissions_owed == owed
    assert ("own.pledge_draft" in {e.kind for e in queue.own}) == (own_states == {PledgeStatus.DRAFT})
    home_page = home.for_user(secretary)
    assert (home_page.members_total, home_page.members_done) == coverage and home_page.due_submissions == owed


def test_secretary_statements_read_their_indexes(app):
    """SQLite's plans of the secretary's merged statements: the pledges by ix_pledge_member_year and
    ix_pledge_branch_year, the branch's people by ix_user_branch_id, the checklists by their unique indexes, the
    branch's submissions and follow-ups by their branch indexes; never a table of the district walked. The
    organisation section's overdue requests and the leaders' plans waiting count each request's submissions in
    ix_submission_request_state alone."""
    if db.engine.dialect.name != "sqlite":
        return
    values = {"year_id": current_year().id, "user_id": 1, "branch_id": 1, "own_branch": 1, "me": 1}
    plan = _plan(workqueue._pledges_statement(True).params(**values))
    assert "ix_pledge_member_year" in plan and "ix_pledge_branch_year" in plan and "SCAN pledge" not in plan, plan
    plan = _plan(workqueue._people_statement().params(**values, start=utcnow()))
    assert "SEARCH user USING INDEX ix_user_branch_id (branch_id=?)" in plan and "SCAN" not in plan, plan
    plan = _plan(workqueue._checklists_statement().params(**values))
    assert "uq_assessment_member_year" in plan and "uq_assessment_branch_year" in plan, plan
    assert "SCAN assessment" not in plan, plan
    plan = _plan(workqueue._tasks_statement(True).params(**values))
    assert "SEARCH submission USING INDEX ix_submission_branch_id (branch_id=?)" in plan, plan
    assert "SEARCH follow_up USING INDEX ix_follow_up_branch_id (branch_id=?)" in plan and "SCAN" not in plan, plan
    plan = _plan(workqueue._plans_waiting(current_year().id))
    assert "USING COVERING INDEX ix_submission_request_state (request_id=? AND status=?)" in plan, plan
    plan = _plan(workqueue._overdue_statement().params(year_id=current_year().id, now=utcnow()))
    assert "COVERING INDEX ix_submission_request_state (request_id=? AND status=?)" in plan, plan
    # (the year's requests, a handful, are read whole: submission_request, not submission)
    assert not any(line.split()[:2] == ["SCAN", "submission"] for line in plan.splitlines()), plan


def test_plans_total_is_every_plan_waiting_not_only_those_listed(app):
    """The leaders' count of plans waiting (in the statement of the listed oldest, `_plans_waiting`): every plan of the
    year handed in and undecided, also past the SHOWN + 1 listed; other kinds and other states not counted."""
    from portal.models import RequestKind, Submission, SubmissionRequest, SubmissionStatus

    year = current_year()
    assert workqueue._submissions_to_decide(year, plans=True) == ([], 0)
    now = utcnow()
    plan = SubmissionRequest(year_id=year.id, kind=RequestKind.PLAN, title="实施方案", deadline=now)
    other = SubmissionRequest(year_id=year.id, kind=RequestKind.GENERAL, title="小结", deadline=now)
    db.session.add_all([plan, other])
    db.session.flush()
    for index in range(2 * workqueue.SHOWN):
        branch = BranchFactory()
        status = SubmissionStatus.SUBMITTED if index % 4 else SubmissionStatus.ACCEPTED
        db.session.add(Submission(request_id=plan.id, branch_id=branch.id, status=status,
                                  submitted_at=now - timedelta(hours=index)))
        db.session.add(Submission(request_id=other.id, branch_id=branch.id, status=SubmissionStatus.SUBMITTED,
                                  submitted_at=now))
    db.session.commit()
    entries, total = workqueue._submissions_to_decide(year, plans=True)
    waiting = sum(1 for index in range(2 * workqueue.SHOWN) if index % 4)
    assert total == waiting > workqueue.SHOWN + 1 == len(entries)
    assert [e.since for e in entries] == sorted(e.since for e in entries)
    assert workqueue._submissions_to_decide(year, plans=False)[1] == 0
