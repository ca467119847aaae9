"""The kept branch summaries (branch_summary) always agree with a fresh computation: after every kind of change
(ticks, notes, submitting, returning and reviewing a checklist, members' self-assessments, pledges, plan
submissions and new requests, posts published by hand and by the task queue, grades, people moved or disabled,
branches added, framework edits, direct ORM writes), with the same SQL from scratch (`figures.differences`)
and with the dashboard's Python reference aggregation (`dashboard.build_rows`). `rebuild-figures` repairs what a
bulk load bypassed."""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import delete, func, select

from portal.extensions import db
from portal.models import (
    Branch,
    BranchSummary,
    Criterion,
    DistrictDay,
    Item,
    Post,
    PostCategory,
    PostStatus,
    ProgressSnapshot,
    RequestKind,
    Result,
    Subject,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    Unit,
    UnitKind,
    utcnow,
)
from portal.services import checklist, dashboard, figures, frameworks, news, pledges, submissions, tallies, users
from tests.dashboard_helpers import branch_items, build_district, year
from tests.factories import BranchFactory, UnitFactory, UserFactory

FIELDS = ("status", "rating", "plan_status", "pledges", "posts", "members_total", "members_done", "last_activity")


def agree() -> None:
    """Kept = the same SQL from scratch = the Python reference, for every active branch of the current year."""
    differences = figures.differences(db.session)
    assert not differences, "\n".join(map(str, differences))
    days = figures.day_differences(db.session)  # the district's timeline (district_day)
    assert not days, "\n".join(map(str, days))
    counts = tallies.differences()  # the tallies, with their stored progress and score
    assert not counts, "\n".join(map(str, counts))
    district = figures.district_differences(db.session)  # the district's totals (the triggers of h14k_01)
    assert not district, "\n".join(map(str, district))
    kept = {row.branch_id: row for row in db.session.scalars(
        select(BranchSummary).where(BranchSummary.year_id == year().id))}
    for row in dashboard.build_rows(year()):
        summary = kept[row.branch_id]
        assert {name: getattr(summary, name) for name in FIELDS} == {name: getattr(row, name) for name in FIELDS}
        total = row.total
        assert (summary.total, summary.met, summary.partly, summary.not_met, summary.na) == (
            total.total, total.met, total.partly, total.not_met, total.na), row.name
        assert abs(summary.progress - total.progress) < 0.051
        assert (summary.score is None) == (total.score is None)
        assert summary.coverage == row.coverage
    db.session.rollback()  # nothing above may leave changes behind


def answer_all(actor, target) -> None:
    for section in checklist.load(target).sections:
        for row in section.rows:
            owner = target.member.id if target.member else target.branch.id
            checklist.set_item_result(actor, checklist.target_for(target.subject, owner, year()), row.item.id, "met")


def test_every_kind_of_change_keeps_the_summaries_exact(app, leader, admin):
    built = build_district(4)
    dashboard.take_snapshot(year(), date.today() - timedelta(days=1))
    agree()
    rng = random.Random(14)
    items = branch_items(year())
    values = [r.value for r in Result]
    for _ in range(12):  # ticks on random branches
        i = rng.randrange(4)
        target = checklist.target_for(Subject.BRANCH, built.branches[i].id, year())
        if target.status.value not in ("submitted", "reviewed"):
            checklist.set_item_result(built.secretaries[i], target, rng.choice(items).id, rng.choice(values))
            agree()

    draft = built.branches[0]  # branch 0 is a draft: submit, return, submit, review
    target = checklist.target_for(Subject.BRANCH, draft.id, year())
    checklist.set_note(built.secretaries[0], target, items[0].id, "已完成", None)
    agree()
    answer_all(built.secretaries[0], target)
    checklist.submit(built.secretaries[0], target)
    agree()
    checklist.return_for_revision(leader, checklist.target_for(Subject.BRANCH, draft.id, year()), "请补充")
    agree()
    checklist.submit(built.secretaries[0], checklist.target_for(Subject.BRANCH, draft.id, year()))
    checklist.review(leader, checklist.target_for(Subject.BRANCH, draft.id, year()), "fairly_good", "较好", "")
    agree()

    member = built.members[1]  # a member's own self-assessment: coverage
    mine = checklist.target_for(Subject.MEMBER, member.id, year())
    answer_all(member, mine)
    checklist.submit(member, checklist.target_for(Subject.MEMBER, member.id, year()))
    agree()

    pledge = pledges.create(built.secretaries[2], year(), for_branch=True, text="每月开展一次主题党日活动。",
                            item_ids=[str(items[0].id)])
    agree()
    pledges.submit(built.secretaries[2], pledge)
    pledges.approve(admin, pledge)
    agree()

    plan = db.session.scalar(select(SubmissionRequest).where(SubmissionRequest.kind == RequestKind.PLAN))
    handed = db.session.scalar(select(Submission).where(Submission.request_id == plan.id,
                                                        Submission.branch_id == built.branches[1].id))
    if handed is None:
        handed = Submission(request_id=plan.id, branch_id=built.branches[1].id)
        db.session.add(handed)
    handed.document_name = handed.document_stored = "plan.pdf"  # as if uploaded before
    db.session.commit()
    agree()
    submissions.submit(built.secretaries[1], handed, note="已报送", document=None,
                       group=(["leader"], ["林思远"], ["书记"]))
    agree()
    submissions.create_request(admin, year(), kind="plan", title="新的实施方案", description="",
                               deadline=(utcnow() + timedelta(days=10)).date().isoformat(),
                               branch_ids=[str(b.id) for b in built.branches])
    agree()

    post = Post(category=PostCategory.BRANCH_EXEMPLAR, title="定时发布", year_id=year().id,
                branch_id=built.branches[3].id, status=PostStatus.SCHEDULED,
                publish_at=utcnow() - timedelta(minutes=1))
    db.session.add(post)
    db.session.commit()
    agree()
    assert news.publish_due() == 1  # the task queue's job
    agree()

    moved = built.members[0]
    moved.branch_id = built.branches[3].id  # a person moves: two branches' coverage
    db.session.commit()
    agree()
    built.members[2].active = False
    db.session.commit()
    agree()

    fresh = BranchFactory(unit=UnitFactory(name="新建路小学"), name="新建路小学党支部")
    UserFactory(username="newmem", branch=fresh)
    agree()

    item = db.session.get(Item, items[1].id)
    item.weight = 2.5  # a framework edit: every score moves
    db.session.commit()
    agree()
    # The framework editor: an item added from the current year on, one retired, and brought back.
    frameworks.add_item(admin, db.session.get(Criterion, item.criterion_id), text="新增条目", weight=1.0, year=None,
                        confirmed=True)
    agree()
    retired = db.session.get(Item, items[2].id)
    assert frameworks.set_item_active(admin, retired, False, confirmed=True)
    agree()
    assert frameworks.set_item_active(admin, db.session.get(Item, items[2].id), True, confirmed=True)
    agree()


def test_a_rolled_back_change_leaves_the_summaries_as_they_were(app):
    built = build_district(2)
    target = checklist.target_for(Subject.BRANCH, built.branches[0].id, year())
    item = branch_items(year())[0]
    checklist.set_item_result(built.secretaries[0], target, item.id, "met")
    checklist.set_item_result(built.secretaries[0], target, item.id, "met")  # unchanged: rolled back
    agree()


def test_rebuild_figures_repairs_a_bulk_load(app, runner):
    build_district(3)
    db.session.execute(delete(BranchSummary))
    db.session.commit()
    assert figures.differences(db.session) != []
    result = runner.invoke(args=["rebuild-figures"])
    assert result.exit_code == 0, result.output
    assert "branch summaries" in result.output
    agree()


def test_the_demo_seed_writes_summaries_that_agree(app):
    from portal.services import demo

    demo.seed(branches=3, members_per_branch=3)
    agree()


def test_the_district_timeline_is_kept_with_the_snapshots(app):
    """Issue 14: the overview's timeline reads one kept row per day (district_day), written with the day's
    snapshots; a branch deleted takes its snapshots along, and the days' averages follow."""
    built = build_district(3)
    days = [date.today() - timedelta(days=n) for n in (3, 2, 1)]
    for day in days:
        dashboard.take_snapshot(year(), day)
    agree()
    expected = [(day, round(p, 1), round(s, 1) if s is not None else None) for day, p, s in db.session.execute(
        select(ProgressSnapshot.day, func.avg(ProgressSnapshot.progress), func.avg(ProgressSnapshot.score))
        .group_by(ProgressSnapshot.day).order_by(ProgressSnapshot.day))]
    assert dashboard.timeline(year()) == expected and len(expected) == 3
    assert db.session.scalar(select(func.count()).select_from(DistrictDay)) == 3
    db.session.delete(db.session.get(Branch, built.branches[0].id))
    db.session.commit()
    agree()


def _fields(branch: Branch, **changes) -> dict:
    unit = db.session.get(Unit, branch.unit_id)
    fields = {"unit_name": unit.name, "unit_kind": unit.kind.value, "branch_name": branch.name,
              "branch_kind": branch.kind.value, "member_count": branch.member_count}
    fields.update(changes)
    return fields


def test_branch_changes_keep_the_copied_branch_columns(app, admin):
    """Issue 14: branch_summary holds the branch's active flag, unit kind, pinyin key and name (the overview reads
    it alone): deactivating and reactivating, renaming, moving to another unit and re-kinding a unit shared by
    several branches keep every row equal to a rebuild, and the overview counts and filters by them."""
    built = build_district(4)
    second = BranchFactory(unit=db.session.get(Unit, built.branches[0].unit_id), name="测试000路学校第二党支部")
    db.session.commit()
    agree()

    def row(branch) -> BranchSummary:
        return db.session.get(BranchSummary, (year().id, branch.id))

    users.set_branch_active(admin, built.branches[1], False)
    agree()
    assert row(built.branches[1]).active is False
    assert dashboard.overview({}).all_branches == 4  # five branches, one inactive
    users.set_branch_active(admin, db.session.get(Branch, built.branches[1].id), True)
    agree()

    branch = db.session.get(Branch, built.branches[2].id)
    users.update_branch(admin, branch, **_fields(branch, branch_name="阿尔法路学校党支部"))  # renamed: first by pinyin
    agree()
    assert row(branch).name == "阿尔法路学校党支部" and row(branch).sort_key == branch.sort_key
    assert dashboard.overview({}).rows[0].branch_id == branch.id

    target = db.session.get(Unit, built.branches[3].unit_id)  # moved into another (existing) school
    branch = db.session.get(Branch, built.branches[2].id)
    users.update_branch(admin, branch, **_fields(branch, unit_name=target.name, unit_kind=target.kind.value))
    agree()
    assert row(branch).unit_kind == target.kind

    first = db.session.get(Branch, built.branches[0].id)  # its unit re-kinded: both of the unit's branches
    kind = next(k for k in UnitKind if k != db.session.get(Unit, first.unit_id).kind)
    users.update_branch(admin, first, **_fields(first, unit_kind=kind.value))
    agree()
    assert row(second).unit_kind == kind and row(first).unit_kind == kind
    shown = {r.branch_id for r in dashboard.overview({"kind": kind.value}).rows}
    assert {first.id, second.id} <= shown
    db.session.rollback()


def test_each_years_plan_status_is_of_that_years_plan_request(app):
    """A summary's plan status is the branch's submission to the newest plan request of the summary's own year, not
    of the newest plan request of any year (a subquery two levels deep must be correlated to the row's year)."""
    built = build_district(1, plan=False)
    branch = built.branches[0]
    current, earlier = year(), year(year().year - 1)
    now = utcnow()
    past_request = SubmissionRequest(year_id=earlier.id, kind=RequestKind.PLAN, title="去年的实施方案",
                                     deadline=now - timedelta(days=300))
    new_request = SubmissionRequest(year_id=current.id, kind=RequestKind.PLAN, title="今年的实施方案",
                                    deadline=now + timedelta(days=10))
    db.session.add_all([past_request, new_request])
    db.session.flush()
    db.session.add(Submission(request_id=past_request.id, branch_id=branch.id, status=SubmissionStatus.ACCEPTED))
    db.session.flush()
    figures.rebuild(db.session.connection())
    kept = {summary.year_id: summary.plan_status for summary in db.session.scalars(
        select(BranchSummary).where(BranchSummary.branch_id == branch.id))}
    assert kept[earlier.id] == SubmissionStatus.ACCEPTED
    assert kept[current.id] == SubmissionStatus.PENDING
    for year_obj in (earlier, current):
        assert [row.plan_status for row in dashboard.build_rows(year_obj) if row.branch_id == branch.id] == [
            kept[year_obj.id]]
    assert not figures.differences(db.session)


def test_an_audit_event_moves_its_branchs_last_activity_in_every_year(app, leader):
    """Issue 14 (h14t_01): a new audit event of a branch moves only the last activity of the branch's summaries, in
    every year, and the database's trigger moves it (the portal no longer recomputes the branch's rows for it); a
    sign-in does not count; a tick recomputes its own year's row and the trigger the others'. Kept = from scratch."""
    from portal.services import audit

    built = build_district(2)
    branch = built.branches[0]
    later = utcnow() + timedelta(days=3)
    audit.record(leader, "branch.noted", branch, branch_id=branch.id, at=later)
    db.session.commit()
    rows = list(db.session.scalars(select(BranchSummary).where(BranchSummary.branch_id == branch.id)))
    assert len(rows) >= 3 and {row.last_activity for row in rows} == {later}
    agree()
    # A sign-in is no change of the branch's work; an event older than the rows moves nothing.
    audit.record(leader, "auth.login", branch, branch_id=branch.id, at=later + timedelta(days=1))
    audit.record(leader, "branch.noted", built.branches[1], branch_id=built.branches[1].id,
                 at=later - timedelta(days=3650))
    db.session.commit()
    assert {row.last_activity for row in db.session.scalars(
        select(BranchSummary).where(BranchSummary.branch_id == branch.id))} == {later}
    agree()
    for value in ("not_met", "met"):  # (branch 0 is a draft)
        target = checklist.target_for(Subject.BRANCH, branch.id, year())
        checklist.set_item_result(built.secretaries[0], target, branch_items(year())[0].id, value)
        agree()


def test_a_refresh_by_assessments_recomputes_their_years_rows(app):
    """`figures.refresh` given assessments only (one: the tick's scalar statement; several: the expanding one)
    recomputes those assessments' branches in their years, and is as exact as recomputing whole branches."""
    built = build_district(3)
    first = checklist.target_for(Subject.BRANCH, built.branches[0].id, year())
    checklist.set_item_result(built.secretaries[0], first, branch_items(year())[0].id, "na")
    assessment_ids = list(db.session.scalars(select(BranchSummary.assessment_id).where(
        BranchSummary.assessment_id.isnot(None))))
    db.session.execute(BranchSummary.__table__.update().values(members_total=99, last_activity=None))
    figures.refresh(db.session.connection(), assessment_ids=assessment_ids[:1])
    figures.refresh(db.session.connection(), assessment_ids=assessment_ids[1:])
    touched = set(db.session.execute(select(BranchSummary.year_id, BranchSummary.branch_id).where(
        BranchSummary.members_total != 99)).tuples())
    assert touched == set(db.session.execute(select(BranchSummary.year_id, BranchSummary.branch_id).where(
        BranchSummary.assessment_id.in_(assessment_ids))).tuples())
    figures.refresh(db.session.connection(), branch_ids=[b.id for b in built.branches])
    agree()


def test_the_search_text_and_grade_follow_the_brand_and_every_grade_record_write(app, admin):
    """Issue 14 (migration h14s_01): the summary's `search_text` (name and brand, lower case) follows a brand edited
    in the portal, and its `grade` (confirmed, else proposed) follows grade records written through the ORM and by
    Core statements (as grading's bulk proposal and the demo write them), moved to another branch and deleted; a
    member's record moves nothing. The overview's name search and grade filter read them: a search folds ASCII
    case and takes % and _ as themselves."""
    from sqlalchemy import update

    from portal.models import GradeRecord
    from portal.services import projects

    built = build_district(4)
    first, second = (db.session.get(Branch, b.id) for b in built.branches[:2])
    projects.update_brand(admin, first, name="Red_Candle 100%", slogan="", description="")
    agree()

    def found(**args) -> list[int]:
        return [row.branch_id for row in dashboard.overview(args).rows]

    def grade(branch) -> str | None:
        db.session.expire_all()
        return db.session.get(BranchSummary, (year().id, branch.id)).grade

    assert db.session.get(BranchSummary, (year().id, first.id)).search_text == \
        f"{first.name.lower()}\nred_candle 100%"
    assert found(q="RED_c") == found(q="100% candle") == [first.id]
    assert found(q="red%") == found(q="d_c%") == [] and found(q="_") == [first.id]
    assert len(found(q="品牌")) == 3  # the others' brands still hold it
    # Full-width letters (a Chinese input method's) and capitals of any script: both sides NFKC and case folded;
    # each word anywhere in the name or brand; invisible characters dropped from what is typed.
    projects.update_brand(admin, second, name="ＳＴＥＭ创客Lab Éco", slogan="", description="")
    agree()
    for typed in ("ＳＴＥＭ", "stem", "ｓｔｅｍ", "ÉCO", "éco", "lab 创客", "ST\u200bEM", "测试001 stem"):
        assert found(q=typed) == [second.id], typed
    assert found(q="测试000 stem") == []

    record = GradeRecord(year_id=year().id, branch_id=first.id, proposed="advanced")
    db.session.add(record)
    db.session.add(GradeRecord(year_id=year().id, branch_id=second.id, member_id=built.members[1].id,
                               proposed="lagging"))
    db.session.commit()
    agree()
    assert grade(first) == "advanced" and grade(second) is None
    assert found(grade="advanced") == [first.id] and found(grade="lagging") == []

    db.session.execute(update(GradeRecord).where(GradeRecord.id == record.id).values(confirmed="lagging"))
    db.session.commit()
    agree()
    assert grade(first) == "lagging" and found(grade="lagging") == [first.id]

    db.session.execute(update(GradeRecord).where(GradeRecord.id == record.id).values(branch_id=second.id))
    db.session.commit()
    agree()
    assert grade(first) is None and grade(second) == "lagging"

    db.session.execute(delete(GradeRecord).where(GradeRecord.id == record.id))
    db.session.commit()
    agree()
    assert grade(second) is None and found(grade="lagging") == []
