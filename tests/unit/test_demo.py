"""The demo district: accounts, fictional names, a campaign part-way done, dated in the recent past."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from portal.clock import local_today
from portal.extensions import db
from portal.models import Assessment, AssessmentStatus, Branch, CampaignYear, ItemResult, Role, Unit, User
from portal.services import demo
from portal.services.accounts import authenticate

REAL_NAMES = ["王伟民", "唐海宝", "刘寿华"]


def test_demo_accounts_and_roles(app):
    demo.seed(branches=5, members_per_branch=3)
    roles = dict(db.session.execute(select(User.username, User.role)).all())
    assert roles["admin"] == Role.ADMIN and roles["leader"] == Role.LEADER and roles["editor"] == Role.EDITOR
    assert roles["sec01"] == roles["sec02"] == Role.SECRETARY and roles["mem01"] == Role.MEMBER
    branch_ids = db.session.scalars(select(Branch.id).order_by(Branch.id)).all()
    assert db.session.scalar(select(User.branch_id).where(User.username == "sec01")) == branch_ids[0]
    assert db.session.scalar(select(User.branch_id).where(User.username == "sec02")) == branch_ids[1]
    assert db.session.scalar(select(User.branch_id).where(User.username == "mem01")) == branch_ids[0]
    assert authenticate("sec01", "portal-demo").username == "sec01"


def test_demo_is_fictional_and_varied(app):
    demo.seed(branches=24, members_per_branch=4)
    names = db.session.scalars(select(User.display_name)).all()
    assert not any(real in name for name in names for real in REAL_NAMES)
    kinds = set(db.session.scalars(select(Unit.kind)))
    assert len(kinds) >= 4
    assert db.session.scalar(select(func.count(Unit.id))) == 24


def test_demo_has_a_campaign_part_way_done_and_recent(app):
    demo.seed(branches=12, members_per_branch=3)
    current = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    assert current.year == 2012
    assert current.phase_on(local_today()) is not None  # the demo runs in a live phase
    statuses = set(db.session.scalars(select(Assessment.status).where(Assessment.year_id == current.id)))
    assert AssessmentStatus.DRAFT in statuses and len(statuses) >= 2
    past = db.session.scalars(select(Assessment.status).join(CampaignYear).where(CampaignYear.year < 2012)).all()
    assert past and set(past) == {AssessmentStatus.REVIEWED}
    latest = db.session.scalar(select(func.max(ItemResult.updated_at)).join(Assessment)
                               .where(Assessment.year_id == current.id))
    assert latest.date() >= local_today() - timedelta(days=21)


def test_demo_history_is_all_in_the_past(app):
    """Every moment the demo records has happened: at 22:00 UTC it is already tomorrow in Shanghai, and a history
    dated by the portal's day showed 最近活动 a day ahead on the dashboard."""
    from portal.models import AssessmentEvent, AuditEvent, utcnow

    demo.seed(branches=12, members_per_branch=3)
    now = utcnow()
    latest = [db.session.scalar(select(func.max(column))) for column in
              (AuditEvent.at, AssessmentEvent.at, ItemResult.updated_at, Assessment.updated_at)]
    assert all(moment <= now for moment in latest), latest


def test_demo_refuses_a_database_that_has_a_district(app, runner):
    demo.seed(branches=2, members_per_branch=1)
    result = runner.invoke(args=["seed-demo", "--branches", "2"])
    assert result.exit_code != 0 and "empty" in result.output


def test_many_schools_get_unique_names(app):
    names = [name for name, _kind in demo._unit_names(400)]
    assert len(set(names)) == 400


def test_a_district_of_one_branch(app):
    """The smallest demo (one branch, one member) seeds without a branch having handed in its plan."""
    demo.seed(branches=1, members_per_branch=1)
    assert db.session.scalar(select(func.count()).select_from(Branch)) == 1


def test_demo_has_issued_bulletins_of_2011_and_2012(app):
    from portal.models import Bulletin, BulletinStatus, Post, PostCategory

    demo.seed(branches=4, members_per_branch=2)
    from flask_babel import to_user_timezone

    rows = db.session.execute(select(Bulletin.number_year, Bulletin.number, Bulletin.status, Bulletin.post_id)
                              .order_by(Bulletin.number_year)).all()
    # 〔year〕: the calendar year of issue. The 2011 one is dated, and figured, within 2011; the 2012 one a few
    # days before the seed day (the demo runs its current year, 2012, around that day).
    issued = {b.year_id: b for b in db.session.scalars(select(Bulletin))}
    assert len(issued) == 2 and all(b.status == BulletinStatus.ISSUED and b.number == 1 for b in issued.values())
    by_year = {db.session.get(CampaignYear, y).year: b for y, b in issued.items()}
    assert by_year[2011].document_number.endswith("〔2011〕1号")
    assert to_user_timezone(by_year[2011].issued_at).date() == date(2011, 12, 28)
    assert by_year[2011].figures["as_of"] == "2011-12-28"
    assert "2011年12月28日" in by_year[2011].sections[0]["body"] and "2026" not in str(by_year[2011].sections)
    day_2012 = to_user_timezone(by_year[2012].issued_at).date()
    assert day_2012 == local_today() - timedelta(days=5) and by_year[2012].figures["as_of"] == day_2012.isoformat()
    assert by_year[2012].number_year == day_2012.year
    posts = db.session.scalars(select(Post).where(Post.id.in_([p for *_r, p in rows]))).all()
    assert {p.category for p in posts} == {PostCategory.BULLETIN} and all("〔20" in p.title for p in posts)
def test_demo_history_climbs_to_today_without_invented_drops(app):
    """Issue 15: the progress chart's stored days lead up to today's live figures, never above them."""
    from collections import defaultdict

    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import ProgressSnapshot
    from portal.services import dashboard
    from portal.services.campaign import current_year

    demo.seed(branches=6, members_per_branch=2)
    live = {row.branch_id: row.total.progress for row in dashboard.build_rows(current_year())}
    lines = defaultdict(list)
    for snap in db.session.scalars(select(ProgressSnapshot).order_by(ProgressSnapshot.day)):
        lines[snap.branch_id].append(snap.progress)
    assert set(lines) == set(live)
    for branch_id, line in lines.items():
        assert line == sorted(line) and line[-1] <= live[branch_id]


def test_demo_people_have_addresses_and_something_to_act_on(app):
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import Notification, User

    demo.seed(branches=12, members_per_branch=2)
    leader = db.session.scalar(select(User).where(User.username == "leader"))
    assert leader.email == "leader@example.org" and leader.email_preference == "digest"
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.recipient_id == leader.id)) > 0


def test_demo_deadlines_fall_in_the_working_day(app):
    """Deadlines are seeded at 17:00 in the portal's time zone (stored as UTC), not at 01:00 at night."""
    from flask_babel import to_user_timezone

    from portal.models import SubmissionRequest

    demo.seed(branches=4, members_per_branch=2)
    deadlines = list(db.session.scalars(select(SubmissionRequest.deadline)))
    assert deadlines and {to_user_timezone(d).hour for d in deadlines} == {17}


def test_demo_notifications_follow_the_demo_state(app):
    """Each notification is about its record (so doing the work settles it), dated when its event happened; the
    leading group hears of every plan waiting, sec02 of its returned plan; work done is settled."""
    from portal.models import Notification, RequestKind, Submission, SubmissionRequest, SubmissionStatus
    from portal.services import auditlog
    from portal.services.campaign import current_year

    demo.seed(branches=8, members_per_branch=2)
    current = current_year()
    notes = list(db.session.scalars(select(Notification)))
    assert notes and all(n.object_key for n in notes)
    assert len({n.created_at.date() for n in notes}) > 5  # spread like the events, not all at the seed time
    users = {u.username: u.id for u in db.session.scalars(select(User))}

    def keys(username, kind, unresolved=True):
        return {n.object_key for n in notes if n.recipient_id == users[username] and n.kind == kind
                and (n.resolved_at is None or not unresolved)}

    plans = {s.id: s for s in db.session.scalars(select(Submission).join(SubmissionRequest).where(
        SubmissionRequest.kind == RequestKind.PLAN, SubmissionRequest.year_id == current.id))}
    waiting = {f"submission:{i}" for i, s in plans.items() if s.status == SubmissionStatus.SUBMITTED}
    assert waiting and keys("leader", "submission.waiting") == waiting
    sec02_branch = db.session.scalar(select(User.branch_id).where(User.username == "sec02"))
    returned = [i for i, s in plans.items() if s.status == SubmissionStatus.RETURNED and s.branch_id == sec02_branch]
    assert keys("sec02", "submission.returned") == {f"submission:{returned[0]}"}
    handed = {f"submission:{i}" for i, s in plans.items() if s.status != SubmissionStatus.PENDING}
    assert not keys("sec02", "submission.requested") & handed  # settled when it was handed in
    # Every event the demo recorded reads in words in the audit log.
    from portal.models import AuditEvent

    assert [auditlog.unlabelled(e) for e in db.session.scalars(select(AuditEvent)) if auditlog.unlabelled(e)] == []


def test_the_demo_writes_in_bulk_and_its_figures_agree_with_its_answers(app):
    """At district scale (82,000 people) a statement per row or per event was most of seed-demo's three minutes:
    answers, notifications and their settling go in a few statements whatever the size, and the kept tallies
    and branch summaries then agree with the answers."""
    from collections import Counter

    from sqlalchemy import event

    from portal.services import figures, tallies

    statements: Counter = Counter()

    def count(conn, cursor, statement, params, context, executemany):
        statements[" ".join(statement.split()[:3])] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        demo.seed(branches=12, members_per_branch=3)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert statements["INSERT INTO notification"] <= 2
    assert statements["INSERT INTO item_result"] <= 3 and statements["INSERT INTO ballot_answer"] <= 3
    assert tallies.differences() == [] and figures.differences(db.session) == []
    met = db.session.scalar(select(func.count(ItemResult.id)).where(ItemResult.result == "met"))
    assert 0.6 < met / db.session.scalar(select(func.count(ItemResult.id))) < 0.8  # about 70 in a hundred


def test_demo_answers_each_checklist_from_the_top_and_leaves_no_scratch_tables(app):
    """The answers are drawn in SQL (demo._write_answers): a finished year's checklists answered whole, the current
    year's from the top in the year's order (no gaps), each answer by the checklist's owner (a member, or the
    branch's secretary) with a result; and the seed's temporary tables are gone afterwards (a second seed on the
    same connection creates them again)."""
    from collections import defaultdict

    from portal.models import Framework, Result, Subject

    demo.seed(branches=6, members_per_branch=3)
    frameworks = {f.subject: f for f in db.session.scalars(select(Framework))}
    secretaries = dict(db.session.execute(select(User.branch_id, User.id).where(User.role == Role.SECRETARY)).all())
    partial = 0
    for year in db.session.scalars(select(CampaignYear)):
        order = {subject: [row[0] for row in demo._items_for(framework, year)]
                 for subject, framework in frameworks.items()}
        answered = defaultdict(list)
        for assessment_id, item_id, result, by in db.session.execute(
                select(ItemResult.assessment_id, ItemResult.item_id, ItemResult.result, ItemResult.updated_by_id)
                .join(Assessment).where(Assessment.year_id == year.id)):
            answered[assessment_id].append((item_id, result, by))
        for a in db.session.scalars(select(Assessment).where(Assessment.year_id == year.id)):
            items = order[a.subject]
            rows = answered[a.id]
            assert sorted(item for item, _r, _b in rows) == sorted(items[:len(rows)])
            assert all(result != Result.NOT_ASSESSED for _i, result, _b in rows)
            assert {by for _i, _r, by in rows} <= {a.member_id if a.subject == Subject.MEMBER
                                                    else secretaries[a.branch_id]}
            if year.year < 2012:
                assert len(rows) == len(items)
            partial += 0 < len(rows) < len(items)
    assert partial  # the current year has checklists part-way done
    connection = db.session.connection()
    for table in (*demo.SCRATCH_TABLES, demo.SECRETARIES):
        table.create(connection)
        table.drop(connection)


def test_demo_audit_log_repeats_each_checklist_event(app):
    """The checklists' audit history is written in SQL from their events (demo._record_checklist_history): one audit
    event per checklist event, in the same order, at the same time, as the services record it: the actor named (a
    member's checklist reviewed by the branch's secretary), the status before and after, a branch's review with
    its rating and comment."""
    from portal.models import AssessmentEvent, AuditEvent, Review

    demo.seed(branches=24, members_per_branch=2)
    names = dict(db.session.execute(select(User.id, User.username)).all())
    secretaries = dict(db.session.execute(select(User.branch_id, User.id).where(User.role == Role.SECRETARY)).all())
    ratings = dict(db.session.execute(select(Review.assessment_id, Review.rating)).all())
    expected = []
    for event, branch_id, member_id in db.session.execute(
            select(AssessmentEvent, Assessment.branch_id, Assessment.member_id).join(Assessment)
            .order_by(AssessmentEvent.id)):
        actor = secretaries.get(branch_id) if event.action == "review" and member_id else event.actor_id
        before = {"status": "draft" if event.action == "submit" else "submitted"}
        after = {"status": event.to_status, "comment": event.comment}
        if event.action == "review" and event.assessment_id in ratings:
            after = {"status": "reviewed", "comment": demo.REVIEW_COMMENT,
                     "rating": ratings[event.assessment_id].value, "improvements": demo.REVIEW_IMPROVEMENTS}
        expected.append((actor, names.get(actor, ""), f"checklist.{event.action}", "assessment", event.assessment_id,
                         branch_id, before, after, event.at, ""))
    recorded = db.session.execute(
        select(AuditEvent.actor_id, AuditEvent.actor_name, AuditEvent.action, AuditEvent.object_type,
               AuditEvent.object_id, AuditEvent.branch_id, AuditEvent.before, AuditEvent.after, AuditEvent.at,
               AuditEvent.ip).where(AuditEvent.action.like("checklist.%")).order_by(AuditEvent.id)).all()
    assert {e[2] for e in expected} == {"checklist.submit", "checklist.return", "checklist.review"}
    assert [tuple(r) for r in recorded] == expected


def _district_triggers() -> list[tuple]:
    """The triggers on the tables the district's totals follow, as the database holds them: SQLite their stored SQL,
    PostgreSQL whether each is enabled."""
    from portal.services.figures import DISTRICT_FOLLOWED

    tables = ", ".join(f"'{table}'" for table in DISTRICT_FOLLOWED)
    if db.session.get_bind().dialect.name == "postgresql":
        return sorted(db.session.execute(text(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            f"WHERE NOT t.tgisinternal AND c.relname IN ({tables})")).tuples())
    return sorted(db.session.execute(text(
        f"SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({tables})")).tuples())


def test_demo_suspends_the_district_triggers_only_while_it_loads(app):
    """The seed writes its tallies and summaries without the district totals' row triggers (migration h14k_01) and
    computes the totals once (figures.district_triggers_suspended): afterwards the same triggers are there (and
    enabled), the totals equal a computation from scratch, and a later change moves them again."""
    from portal.models import AssessmentTally, BranchSummary, DistrictCriterion
    from portal.services import figures

    before = _district_triggers()
    assert len(before) >= 7  # (SQLite 13, PostgreSQL 7)
    demo.seed(branches=5, members_per_branch=2)
    assert _district_triggers() == before
    assert figures.district_differences(db.session) == []
    tally = db.session.scalars(select(AssessmentTally).join(
        BranchSummary, BranchSummary.assessment_id == AssessmentTally.assessment_id)
        .where(BranchSummary.active.is_(True), AssessmentTally.score.is_not(None)).limit(1)).one()
    kept = db.session.scalar(select(func.sum(DistrictCriterion.scored)).where(
        DistrictCriterion.criterion_id == tally.criterion_id))
    tally.score = None  # the trigger moves the criterion's count of scored tallies by one
    db.session.flush()
    assert db.session.scalar(select(func.sum(DistrictCriterion.scored)).where(
        DistrictCriterion.criterion_id == tally.criterion_id)) == kept - 1
    db.session.rollback()


def test_a_failing_demo_leaves_the_district_triggers_as_they_were(app, monkeypatch):
    """A seed that fails while the triggers are suspended rolls back: nothing of the district is left, and the
    triggers are there (SQLite: dropped and created again in the transaction; PostgreSQL: disabled in it)."""
    from portal.services import figures

    before = _district_triggers()

    def fail(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(figures, "rebuild", fail)  # the last step of the load, with the triggers suspended
    with pytest.raises(RuntimeError):
        demo.seed(branches=3, members_per_branch=2)
    assert _district_triggers() == before
    assert db.session.scalar(select(func.count(Branch.id))) == 0
    assert db.session.scalar(select(func.count(Assessment.id))) == 0


def _connection_settings() -> dict[str, object]:
    """The SQLite settings `demo._Load` relaxes, as the session's connection has them."""
    sqlite = db.session.connection().connection.driver_connection
    return {name: sqlite.execute(f"PRAGMA {name}").fetchone()[0] for name in ("journal_mode", "synchronous",
                                                                              "foreign_keys")}


def test_demo_loads_without_the_wal_and_row_by_row_checks_and_puts_them_back(app, monkeypatch):
    """On SQLite the district's rows are written in a transaction of their own with the journal in memory, without
    syncing and without foreign keys checked row by row (demo._Load); at its commit every setting is back as it was
    and the database is in WAL mode again (the portal's engine settings, portal/database.py)."""
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's journal and pragmas")
    before = _connection_settings()
    db.session.rollback()
    assert before == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1}
    during = []
    commit = demo._Load.commit

    def look_then_commit(load):
        during.append(_connection_settings())
        commit(load)

    monkeypatch.setattr(demo._Load, "commit", look_then_commit)
    demo.seed(branches=3, members_per_branch=2)
    assert during == [{"journal_mode": "memory", "synchronous": 0, "foreign_keys": 0}]
    assert _connection_settings() == before
    assert db.session.scalar(select(func.count(Branch.id))) == 3


def test_a_demo_load_that_breaks_a_foreign_key_is_refused_whole(app, monkeypatch):
    """A load whose rows refer to a missing row (a bug of the seed) is rolled back whole: on SQLite, which loads
    without checking row by row, the one check before the commit finds it (DemoLoadBroken); PostgreSQL refuses the
    row itself. The connection's settings are back as they were either way."""
    from sqlalchemy.exc import IntegrityError

    from portal.models import ProgressSnapshot

    before = _connection_settings() if db.session.get_bind().dialect.name == "sqlite" else None
    db.session.rollback()
    snapshots = demo._seed_snapshots

    def with_a_stray_branch(rng, year, branch_ids, today):
        snapshots(rng, year, branch_ids, today)
        db.session.add(ProgressSnapshot(year_id=year.id, branch_id=max(branch_ids) + 1000, day=today, progress=0))
        db.session.flush()

    monkeypatch.setattr(demo, "_seed_snapshots", with_a_stray_branch)
    with pytest.raises((demo.DemoLoadBroken, IntegrityError)):
        demo.seed(branches=3, members_per_branch=2)
    assert db.session.scalar(select(func.count(Branch.id))) == 0
    assert db.session.scalar(select(func.count(Assessment.id))) == 0
    if before is not None:
        assert _connection_settings() == before


def test_the_seed_leaves_postgresql_planner_statistics_of_what_it_loaded(app):
    """After the bulk load, PostgreSQL's planner knows the tables' sizes (database.refresh_planner_statistics):
    without them it read a page of pledges through a bitmap AND over the whole year's assessments."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    demo.seed(branches=3, members_per_branch=2)
    for table, model in (("assessment", Assessment), ("item_result", ItemResult), ("user", User)):
        counted = db.session.scalar(select(func.count()).select_from(model))
        estimated = db.session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table})
        assert counted > 0 and estimated == counted, table
