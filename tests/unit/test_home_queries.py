"""The home pages' queries at district scale (issue #14): the leading group's review queue reads the branches'
and the secretaries' assessments only, never the year's member assessments, and gives what the old single query
over every assessment of the year gave; the other home-page lists do not load a whole district to show 26."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, text
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
    assert "SEARCH branch USING COVERING INDEX ix_branch_active (active=?)" in plan, plan
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
        assert "SCAN submission" not in plan and "TEMP B-TREE" not in plan, plan


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
