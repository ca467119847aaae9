"""The demo district: fictional schools, branches, people and a campaign part-way done.

Every name is invented. Bulk rows go in through Core inserts so that 300 branches × 40 members
seed in seconds; the one password hash is computed once and shared by the demo accounts.
"""
from __future__ import annotations

import random
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    event,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import aliased
from werkzeug.security import generate_password_hash

from ..clock import local_today
from ..collation import stored_key
from ..database import refresh_planner_statistics
from ..extensions import db
from ..links import path_for, path_pattern
from ..models import (
    PHASE_ORDER,
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    AssessmentTally,
    AuditEvent,
    Branch,
    BranchKind,
    CampaignYear,
    Criterion,
    Framework,
    Item,
    ItemResult,
    KeptItemWeight,
    Notification,
    Phase,
    Post,
    PostCategory,
    PostStatus,
    ProgressSnapshot,
    Result,
    Review,
    ReviewRating,
    Role,
    Subject,
    Unit,
    UnitKind,
    User,
    utcnow,
)
from . import figures, markdown, progress, tallies
from .builtin import ensure_builtin
from .bulk import insert_dicts, insert_rows
from .campaign import seed_demo as seed_campaign_work
from .items import in_checklist, in_year_order, kept_weight_join, weight_in

DEMO_PASSWORD = "portal-demo"  # noqa: S105 - the documented demo password
DEMO_ACCOUNTS = [("admin", "组织科 Organisation section (admin)"), ("leader", "领导小组 Leading group"),
                 ("editor", "宣传科 Publicity section (editor)"), ("sec01", "支部书记 Secretary of branch 1"),
                 ("sec02", "支部书记 Secretary of branch 2"), ("mem01", "党员 Member of branch 1")]

PLACES = ["明德路", "启智路", "青松路", "晨曦路", "书香路", "长虹路", "嘉禾路", "望江路", "枫林路", "锦绣路",
          "育才路", "春晖路", "梧桐路", "翠湖路", "清泉路", "云杉路", "百花路", "朝阳路", "和平路", "新民路",
          "丽园路", "滨江路", "桂林路", "兰亭路", "观澜路", "紫荆路", "银杏路", "海棠路", "石榴路", "杏坛路"]
KIND_SUFFIX = {
    UnitKind.KINDERGARTEN: "幼儿园",
    UnitKind.PRIMARY: "小学",
    UnitKind.MIDDLE: "中学",
    UnitKind.VOCATIONAL: "职业技术学校",
    UnitKind.OFFICE: "教育事务中心",
}
KIND_CYCLE = [UnitKind.PRIMARY, UnitKind.MIDDLE, UnitKind.KINDERGARTEN, UnitKind.PRIMARY,
              UnitKind.MIDDLE, UnitKind.VOCATIONAL, UnitKind.PRIMARY, UnitKind.OFFICE]
ORDINALS = ["", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十", "第十一", "第十二"]
SURNAMES = list("陈林黄周吴徐孙胡朱高何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
                "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段")
GIVEN = ["思远", "若兰", "嘉怡", "子轩", "雨桐", "浩然", "欣然", "明哲", "静怡", "俊杰", "晓雯", "文博", "梦琪",
         "志强", "丽华", "建新", "春燕", "海燕", "卫东", "秀英", "国庆", "雅琴", "立新", "慧敏", "振华", "晓东",
         "佳琪", "宇航", "一鸣", "书瑶", "清扬", "可馨", "天佑", "舒婷", "景行", "知远", "沛然", "晨阳"]
POSTS_TITLES = ["教书育人", "学科带头", "班主任", "后勤保障", "团队辅导", "语文教师", "数学教师", "英语教师",
                "体育教师", "音乐教师", "美术教师", "信息技术教师", "教务干事", "校医"]
BRANDS = [("红烛先锋", "点亮一盏灯,照亮一群人"), ("春风化雨", "润物细无声,育人有温度"),
          ("书香支部", "读书明理,学以致用"), ("青蓝工程", "传帮带,青出于蓝"),
          ("阳光服务", "服务师生零距离"), ("创新引擎", "以创新推动发展"),
          ("绿色校园", "共建绿色校园,共享和谐家园"), ("志愿同行", "党员志愿,社区同行")]
# Names of real people in the source document: never produced by the generator.
FORBIDDEN_NAMES = {"王伟民", "唐海宝", "刘寿华"}


@dataclass
class DemoSummary:
    branches: int
    members: int
    accounts: list[tuple[str, str, str]]


class DemoRefused(Exception):
    """The database already holds a district; the demo is only loaded on an empty one."""


class DemoInProduction(DemoRefused):
    """PORTAL_ENV=production: demo accounts with a published password never enter a real portal."""


# Characters of the given names above, combined two at a time when the names of the list are used up.
GIVEN_CHARS = sorted(set("".join(GIVEN)))


def _name(rng: random.Random, used: set[str]) -> str:
    """An invented name not used before and never a real person's: a surname and a given name of the list,
    and once those (about 3,000) are taken, a surname and two characters of the given names (about 300,000
    more); past that a numbered name. Each try is one random draw, so a district of 82,000 people costs
    a few draws per person, not a thousand."""
    short_tries = 20 if len(used) < 0.8 * len(SURNAMES) * len(GIVEN) else 0  # the list is about used up
    for _ in range(short_tries):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in used and name not in FORBIDDEN_NAMES:
            used.add(name)
            return name
    for _ in range(50):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_CHARS) + rng.choice(GIVEN_CHARS)
        if name not in used and name not in FORBIDDEN_NAMES:
            used.add(name)
            return name
    name = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{len(used) + 1}"  # only past about 300,000 people
    used.add(name)
    return name


def _unit_names(count: int) -> list[tuple[str, UnitKind]]:
    """Unique invented school names: 明德路小学, 明德路第二小学, ..."""
    used: set[str] = set()
    names = []
    for index in range(count):
        kind = KIND_CYCLE[index % len(KIND_CYCLE)]
        place = PLACES[index % len(PLACES)]
        for n in range(10_000):
            ordinal = ORDINALS[n] if n < len(ORDINALS) else f"第{n + 1}"
            name = f"{place}{ordinal}{KIND_SUFFIX[kind]}"
            if name not in used:
                break
        used.add(name)
        names.append((name, kind))
    return names


def is_empty() -> bool:
    return not db.session.scalar(select(func.count(Branch.id))) and not db.session.scalar(
        select(func.count(User.id)))


def seed(branches: int = 24, members_per_branch: int = 6, seed_value: int = 2012,
         today: date | None = None) -> DemoSummary:
    """Load the demo district into an empty database and commit: `branches` schools and their branches, each with
    a secretary and `members_per_branch` members, the demo accounts (DEMO_ACCOUNTS), three campaign years (2010 and
    2011 finished, 2012 current and part-way done) and their history, audited at its own times. The same
    `seed_value` makes the same district. Raises DemoInProduction (PORTAL_ENV=production) or DemoRefused (the
    database already holds a district)."""
    try:
        return _seed(branches, members_per_branch, seed_value, today)
    except BaseException:
        db.session.rollback()  # what it wrote, and the district triggers dropped for the load, undone
        raise


def _seed(branches: int, members_per_branch: int, seed_value: int, today: date | None) -> DemoSummary:
    if current_app.config.get("PORTAL_ENV") == "production":
        raise DemoInProduction
    if not is_empty():
        raise DemoRefused
    ensure_builtin()  # (commits)
    db.session.flush()
    today = today or local_today()
    # Everything up to the first commit in bulk, without the district totals' row triggers (1.2 million tallies
    # at 2,000 branches): the totals are computed once at the end and the triggers are back before the commit.
    with _bulk_load() as load:
        with figures.district_triggers_suspended(db.session.connection()):
            branch_ids, members, years = _load(branches, members_per_branch, seed_value, today)
        load.commit()  # the district's rows (the bulletins and notifications below commit their own)
    __import__("portal.services.bulletins", fromlist=["seed_demo"]).seed_demo(today)  # 通报 of 2011 and 2012
    _seed_notifications(years[2012])
    refresh_planner_statistics(db.session)
    db.session.commit()
    return DemoSummary(branches=len(branch_ids), members=len(members),
                       accounts=[(u, DEMO_PASSWORD, d) for u, d in DEMO_ACCOUNTS])


BULK_LOAD_CACHE_KIB = 50_000  # SQLite's page cache while the demo loads (its default is 2 MB)


class DemoLoadBroken(RuntimeError):
    """The district's rows, loaded without SQLite checking their foreign keys row by row, refer to rows that do
    not exist (a bug of the seed): the load is rolled back."""


class _Load:
    """The district's rows loaded on SQLite in a transaction of their own (`_bulk_load`): written with the journal
    in memory instead of the WAL (no second copy of a 900 MB load, no checkpoint of it), without syncing and without
    foreign keys checked row by row, these set on the connection as the load checks it out (`relax`: SQLite changes
    none of them inside a transaction); `commit()` checks the foreign keys once and commits, and the connection's
    settings are back as they were (`restore`), the database in WAL mode again. The database is a new one (the
    seed refuses any other before it writes), so a load cut short by a crash loses nothing."""

    RELAXED = (("foreign_keys", "OFF"), ("synchronous", "OFF"), ("journal_mode", "MEMORY"))

    def __init__(self) -> None:
        self.checked_out = False
        self.sqlite: sqlite3.Connection | None = None  # the relaxed connection, until restored
        self.before: dict[str, object] = {}

    def relax(self, dbapi_connection, _record, _proxy) -> None:
        """Pool "checkout" listener (a connection checked out is in no transaction yet): the load's connection
        only. The journal leaves WAL only where this is the database's one connection (as when seeding a new
        database); where another has it open, it stays in WAL at once, not after the busy timeout."""
        if self.checked_out:
            return
        self.checked_out = True
        sqlite = self.sqlite = dbapi_connection
        self.before = {name: sqlite.execute(f"PRAGMA {name}").fetchone()[0]
                       for name in ("busy_timeout", *(name for name, _value in self.RELAXED))}
        sqlite.execute("PRAGMA busy_timeout=0")
        try:
            for name, value in self.RELAXED:
                sqlite.execute(f"PRAGMA {name}={value}")
        except sqlite3.OperationalError:  # "database is locked" (another connection): the journal stays in WAL
            pass
        finally:
            sqlite.execute(f"PRAGMA busy_timeout={int(self.before['busy_timeout'])}")

    def commit(self) -> None:
        """Commit the load, its foreign keys checked first where they were not checked row by row (raises
        DemoLoadBroken); the connection's settings then back as they were."""
        if self.sqlite is not None:
            broken = db.session.connection().exec_driver_sql("PRAGMA foreign_key_check").fetchmany(5)
            if broken:
                raise DemoLoadBroken(f"rows whose parent is missing (table, rowid, parent table, key): {broken}")
        db.session.commit()
        self.restore()

    def restore(self) -> None:
        """The relaxed connection's settings as they were, outside a transaction (after the commit or the
        rollback)."""
        if self.sqlite is None:
            return
        sqlite, self.sqlite = self.sqlite, None
        for name, _value in reversed(self.RELAXED):
            sqlite.execute(f"PRAGMA {name}={self.before[name]}")


@contextmanager
def _bulk_load():
    """A transaction for the district's bulk load, begun here, and the `_Load` that commits it (yielded). On
    SQLite: a page cache large enough for a district's indexes meanwhile (a 2,000-branch district writes about 3
    million answers and reads parts of them back) and the settings of `_Load`; the connection's own settings
    afterwards. A failure inside rolls the load back (then the settings are restored) and is raised."""
    load = _Load()
    engine = db.session.get_bind()
    if engine.dialect.name != "sqlite":
        yield load
        return
    relaxing = not db.session().in_transaction()  # (else the settings could not change: only the cache does)
    if relaxing:
        event.listen(engine, "checkout", load.relax)
    try:
        sqlite = db.session.connection().connection.dbapi_connection  # begins the load's transaction
        cache = sqlite.execute("PRAGMA cache_size").fetchone()[0]
        sqlite.execute(f"PRAGMA cache_size=-{BULK_LOAD_CACHE_KIB}")
        try:
            yield load
        except BaseException:
            db.session.rollback()
            raise
        finally:
            sqlite.execute(f"PRAGMA cache_size={int(cache)}")  # (a pragma of the connection, after the commit too)
    finally:
        if relaxing:
            event.remove(engine, "checkout", load.relax)
        load.restore()


def _load(branches: int, members_per_branch: int, seed_value: int, today: date):
    """The district's rows up to its branch summaries, in the current transaction: returns (branch ids, [(person
    id, branch id)] of members and secretaries, {year number: CampaignYear})."""
    tallies.suspend()  # bulk inserts below: each year's answers are written with their tallies (_write_answers)
    rng = random.Random(seed_value)
    now = utcnow()
    password_hash = generate_password_hash(DEMO_PASSWORD)
    used_names: set[str] = set()

    years = {y.year: y for y in db.session.scalars(select(CampaignYear))}
    _make_current(years, 2012, today)

    # Units and branches.
    unit_rows, branch_rows = [], []
    for name, kind in _unit_names(branches):
        unit_rows.append({"name": name, "kind": kind, "address": f"{name[:3]}{rng.randint(1, 999)}号",
                          "created_at": now})
    db.session.execute(insert(Unit.__table__), unit_rows)
    units = list(db.session.execute(select(Unit.id, Unit.name, Unit.kind).order_by(Unit.id)))
    for i, (unit_id, unit_name, kind) in enumerate(units):
        big = kind in (UnitKind.MIDDLE, UnitKind.VOCATIONAL)
        brand = BRANDS[i % len(BRANDS)]
        branch_rows.append({
            "unit_id": unit_id,
            "name": unit_name + ("党总支" if big else "党支部"),
            "kind": BranchKind.GENERAL_BRANCH if big else BranchKind.BRANCH,
            "member_count": members_per_branch + 1,
            "brand_name": brand[0], "brand_slogan": brand[1],
            "brand_description": f"{unit_name}党组织围绕“{brand[0]}”品牌,结合学校实际开展创先争优活动。",
            "active": True, "created_at": now,
        })
    db.session.execute(insert(Branch.__table__), branch_rows)
    branch_ids = list(db.session.scalars(select(Branch.id).order_by(Branch.id)))

    # People: the fixed demo accounts, a secretary per branch, members.
    def user_row(username, role, branch_id=None, post_title="", display_name=None):
        display_name = display_name or _name(rng, used_names)
        return {"username": username, "display_name": display_name, "sort_key": stored_key(display_name, person=True),
                "password_hash": password_hash, "role": role, "branch_id": branch_id,
                "post_title": post_title, "active": True, "session_version": 1, "created_at": now,
                # Example addresses (a reserved domain, RFC 2606): reminders can be tried with a local SMTP server.
                "email": f"{username}@example.org", "email_preference": "digest"}

    rows = [
        user_row("admin", Role.ADMIN, post_title="组织科科长"),
        user_row("leader", Role.LEADER, post_title="领导小组组长"),
        user_row("editor", Role.EDITOR, post_title="宣传科干事"),
    ]
    for n, branch_id in enumerate(branch_ids, start=1):
        rows.append(user_row(f"sec{n:02d}", Role.SECRETARY, branch_id, "支部书记"))
        for k in range(1, members_per_branch + 1):
            username = "mem01" if (n == 1 and k == 1) else f"m{n:03d}-{k:02d}"
            rows.append(user_row(username, Role.MEMBER, branch_id, rng.choice(POSTS_TITLES)))
    insert_dicts(User.__table__, rows)

    frameworks = {f.subject: f for f in db.session.scalars(select(Framework))}
    leader_id = db.session.scalar(select(User.id).where(User.username == "leader"))
    secretaries = dict(db.session.execute(
        select(User.branch_id, User.id).where(User.role == Role.SECRETARY)).all())
    members = list(db.session.connection().execute(  # Core rows: no ORM per row (82,000 people at 2,000 branches)
        select(User.id, User.branch_id).where(User.role.in_([Role.MEMBER, Role.SECRETARY]))))

    for year_no, year in sorted(years.items()):
        finished = year_no < 2012
        _seed_year(rng, year, frameworks, branch_ids, members, secretaries, leader_id, finished, today, seed_value)
    _seed_snapshots(rng, years[2012], branch_ids, today)

    _seed_posts(rng, years[2012], branch_ids, secretaries, today)
    seed_campaign_work(today)  # 报送, pledges, a brand project, a visit with an overdue follow-up
    __import__("portal.services.commendation", fromlist=["seed_demo_all"]).seed_demo_all(today)  # news + 评选表彰
    __import__("portal.services.appraisal_demo", fromlist=["seed_demo"]).seed_demo(today)  # 群众评议 + 分类定级
    db.session.flush()
    # The branch summaries the bulletins' figures are read from (the tallies' own figures are written whole).
    figures.rebuild(db.session.connection(), tally_figures=False)
    return branch_ids, members, years


def _make_current(years: dict[int, CampaignYear], current: int, today: date) -> None:
    """The demo's current year runs around today, in its 群众评议 phase (领导点评 ended ten days ago), so that the
    open appraisal round (services/appraisal_demo.py: five days ago to in 25 days) falls within it."""
    for year in years.values():
        year.is_current = False
    db.session.flush()
    years[current].is_current = True
    offsets = [(-120, -91), (-90, -61), (-60, -11), (-10, 30), (31, 60)]
    phases = {p.kind: p for p in db.session.scalars(select(Phase).where(Phase.year_id == years[current].id))}
    for kind, (start, end) in zip(PHASE_ORDER, offsets, strict=True):
        phases[kind].starts_on = today + timedelta(days=start)
        phases[kind].ends_on = today + timedelta(days=end)
    db.session.flush()


def _items_for(framework: Framework, year: CampaignYear) -> list[tuple[int, str, int, float]]:
    """(id, text, criterion id, weight) of every item a checklist of the year holds, in order."""
    stmt = (select(Item.id, Item.text, Item.criterion_id, Item.weight).join(Criterion).where(
        Criterion.framework_id == framework.id, in_checklist(year.id, year.year)))
    return list(db.session.execute(in_year_order(stmt, year.id)))


def _when(rng: random.Random, today: date, max_days: int) -> datetime:
    """A moment (naive UTC) in the morning (UTC) of one of the `max_days` days before `today`, never later than two
    days ago in UTC: the portal's day runs ahead of UTC (Shanghai's day begins at 16:00 UTC), and what follows a
    drawn moment (a return 5 hours later, a review a day later) must still lie in the past."""
    latest = (utcnow() - timedelta(days=2)).date()
    day = min(today, latest) - timedelta(days=rng.randint(0, max_days))
    return datetime(day.year, day.month, day.day, rng.randint(0, 11), rng.randint(0, 59))


RETURN_REASON = "请补充“工作机制好”各项的佐证材料。"
REVIEW_COMMENT = "支部班子团结协作,党员作用发挥明显,创先争优活动扎实有序。"
REVIEW_IMPROVEMENTS = "进一步总结提炼支部品牌经验,加强宣传。"
EVENT_COLUMNS = ["assessment_id", "actor_id", "action", "from_status", "to_status", "comment", "at"]
PICKED_CUMULATIVE = [70, 90, 96, 100]  # met, partly, not met, n/a: 70, 20, 6 and 4 in a hundred (_write_answers)


def _seed_year(rng, year, frameworks, branch_ids, members, secretaries, leader_id, finished, today,
               seed_value):
    branch_items = _items_for(frameworks[Subject.BRANCH], year)
    member_items = _items_for(frameworks[Subject.MEMBER], year)
    past = datetime(year.year, 12, 20, 9, 0)
    assessment_rows = []
    plan = []  # (branch_id, member_id, items, fraction done, status, updated_by)
    for index, branch_id in enumerate(branch_ids):
        if finished:
            fraction, status = 1.0, AssessmentStatus.REVIEWED
        else:
            # Branch 1 is mid-way in draft so the demo secretary has work to do; others vary.
            fraction = 0.45 if index == 0 else rng.choice([0.0, 0.2, 0.5, 0.7, 0.9, 1.0, 1.0, 1.0, 1.0])
            status = AssessmentStatus.DRAFT
            if fraction == 1.0 and index > 1:  # in the 领导点评 phase about half have submitted
                status = rng.choices([AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED,
                                      AssessmentStatus.RETURNED, AssessmentStatus.DRAFT], weights=[4, 3, 1, 1])[0]
        plan.append((branch_id, None, branch_items, fraction, status, secretaries.get(branch_id)))
    for member_id, branch_id in members:
        if finished:
            fraction, status = 1.0, AssessmentStatus.REVIEWED
        else:
            fraction = rng.choice([0.0, 0.0, 0.4, 1.0, 1.0, 1.0])
            if branch_id == branch_ids[0]:
                fraction = 0.4  # the demo accounts of branch 1 find their own work in progress
            status = AssessmentStatus.SUBMITTED if fraction == 1.0 and rng.random() < 0.7 else \
                AssessmentStatus.DRAFT
            if fraction == 0.0 and rng.random() < 0.5:
                continue  # not even started: "no member left out" has someone to find
        plan.append((branch_id, member_id, member_items, fraction, status, member_id))

    for branch_id, member_id, _items, _fraction, status, _by in plan:
        updated = past if finished else _when(rng, today, 20)
        framework = frameworks[Subject.MEMBER if member_id else Subject.BRANCH]
        assessment_rows.append({
            "year_id": year.id, "framework_id": framework.id,
            "subject": Subject.MEMBER if member_id else Subject.BRANCH,
            "branch_id": branch_id, "member_id": member_id, "status": status,
            "return_reason": RETURN_REASON if status == AssessmentStatus.RETURNED else "",
            "submitted_at": updated if status != AssessmentStatus.DRAFT else None,
            "reviewed_at": updated if status == AssessmentStatus.REVIEWED else None,
            "created_at": updated - timedelta(days=10), "updated_at": updated,
        })
    insert_dicts(Assessment.__table__, assessment_rows)
    ids = {(b, m): a for a, b, m in db.session.connection().execute(  # Core rows
        select(Assessment.id, Assessment.branch_id, Assessment.member_id).where(Assessment.year_id == year.id))}

    event_rows, review_rows = [], []  # (EVENT_COLUMNS), {review}

    answering = []  # (assessment id, items answered from the top of its checklist, by whom)
    for branch_id, member_id, items, fraction, status, by in plan:
        assessment_id = ids[(branch_id, member_id)]
        answering.append((assessment_id, round(len(items) * fraction), by))
        submitted_at = past if finished else _when(rng, today, 10)
        if status in (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED, AssessmentStatus.RETURNED):
            event_rows.append((assessment_id, by, "submit", "draft", "submitted", "", submitted_at))
        if status == AssessmentStatus.RETURNED:
            at = submitted_at + timedelta(hours=5)
            event_rows.append((assessment_id, leader_id, "return", "submitted", "returned", RETURN_REASON, at))
        if status == AssessmentStatus.REVIEWED:
            reviewer = leader_id if member_id is None else None
            at = submitted_at + timedelta(days=1)
            event_rows.append((assessment_id, reviewer, "review", "submitted", "reviewed", "", at))
            if member_id is None:
                rating = rng.choice([ReviewRating.GOOD, ReviewRating.GOOD, ReviewRating.FAIRLY_GOOD,
                                     ReviewRating.AVERAGE])
                review_rows.append({
                    "assessment_id": assessment_id, "year_id": year.id, "reviewer_id": leader_id,
                    "branch_id": branch_id, "member_id": None, "rating": rating, "comment": REVIEW_COMMENT,
                    "improvements": REVIEW_IMPROVEMENTS, "created_at": at,
                })
    # A finished year answered everything on one day; the current year's answers fall in the last three weeks.
    moments = [past] if finished else [_when(rng, today, 20) for _ in range(997)]
    places = {item[0]: n for items in (branch_items, member_items) for n, item in enumerate(items)}
    _write_answers(year, answering, places, moments, seed_value)
    insert_rows(AssessmentEvent.__table__, EVENT_COLUMNS, event_rows)
    insert_dicts(Review.__table__, review_rows)
    _record_checklist_history(year, secretaries)


def _record_checklist_history(year: CampaignYear, secretaries: dict[int, int]) -> None:
    """The year's checklist events (`assessment_event`, with the branches' reviews already written) again in the
    audit log, as the services would have recorded them (`checklist.submit`, `.return`, `.review`, with the
    status before and after): one INSERT … SELECT instead of a Python row an event. `secretaries`: {branch id:
    its secretary's user id}: a member's checklist is reviewed by their secretary (the checklist's own history
    leaves that reviewer unnamed; the audit log names them)."""
    connection = db.session.connection()
    SECRETARIES.create(connection)
    insert_rows(SECRETARIES, ["branch_id", "user_id"], list(secretaries.items()))
    json_type = AuditEvent.__table__.c.after.type

    def as_json(value: dict):
        return literal(value, json_type)

    event, checklist = AssessmentEvent, Assessment
    actor_id = case((and_(event.action == "review", checklist.member_id.isnot(None)), SECRETARIES.c.user_id),
                    else_=event.actor_id)
    actor = aliased(User)
    before = case((event.action == "submit", as_json({"status": "draft"})), else_=as_json({"status": "submitted"}))
    after = case(
        (event.action == "submit", as_json({"status": "submitted", "comment": ""})),
        (event.action == "return", as_json({"status": "returned", "comment": RETURN_REASON})),
        *((Review.rating == rating, as_json({"status": "reviewed", "comment": REVIEW_COMMENT, "rating": rating.value,
                                             "improvements": REVIEW_IMPROVEMENTS})) for rating in ReviewRating),
        else_=as_json({"status": "reviewed", "comment": ""}))
    history = (select(actor_id, func.coalesce(actor.username, ""), literal("checklist.") + event.action,
                      literal("assessment"), event.assessment_id, checklist.branch_id, before, after, event.at,
                      literal(""))
               .select_from(event).join(checklist, checklist.id == event.assessment_id)
               .outerjoin(SECRETARIES, SECRETARIES.c.branch_id == checklist.branch_id)
               .outerjoin(Review, and_(Review.assessment_id == event.assessment_id, event.action == "review"))
               .outerjoin(actor, actor.id == actor_id)
               .where(checklist.year_id == year.id)
               .order_by(event.id))
    db.session.execute(insert(AuditEvent).from_select(
        ["actor_id", "actor_name", "action", "object_type", "object_id", "branch_id", "before", "after", "at", "ip"],
        history))
    SECRETARIES.drop(connection)


NOTES = ["", "", "已召开专题会议,见会议记录。", "相关制度已汇编成册。", "组织党员参加志愿服务三次。"]  # of items met
ANSWER_COLUMNS = ["assessment_id", "item_id", "result", "note", "item_text", "note_version", "updated_by_id",
                  "updated_at"]
MODULUS = 2_147_483_647  # a prime: two steps of the Park–Miller generator mix an (assessment, item) pair


def _draw(seed_value: int, modulus: int = 100, item_id=Item.id):
    """SQL of a pseudo-random whole number 0..modulus-1 for each (assessment, item) of a query over `Assessment`
    and an item id column (`item_id`, default `Item.id`): the same on SQLite and PostgreSQL, and the same for the
    same seed (every step stays below 2⁶³)."""
    mixed = (cast(Assessment.id, BigInteger) * 7919 + cast(item_id, BigInteger) * 104_729 + seed_value) % 1_000_003
    for _step in range(2):
        mixed = (mixed * 48_271 + 11) % MODULUS
    return mixed % modulus


_SCRATCH = MetaData()  # the seed's temporary tables: never part of the portal's schema (db.metadata)
ANSWERING = Table("demo_answering", _SCRATCH, Column("assessment_id", Integer, primary_key=True),
                  Column("answered", Integer, nullable=False), Column("by_id", Integer), prefixes=["TEMPORARY"])
DRAWS = Table("demo_draw", _SCRATCH, Column("n", Integer, primary_key=True),
              Column("result", String(16), nullable=False), Column("note", Text, nullable=False),
              prefixes=["TEMPORARY"])
MOMENTS = Table("demo_moment", _SCRATCH, Column("n", Integer, primary_key=True),
                Column("at", DateTime, nullable=False), prefixes=["TEMPORARY"])

# The year's checklist items, each once per framework: its place in its checklist (from 0), its weight in the year and
# its text, so that a checklist's rows are an index range of its framework, with nothing to look up a row.
CHECKLIST = Table("demo_checklist", _SCRATCH, Column("framework_id", Integer, primary_key=True),
                  Column("item_id", Integer, primary_key=True), Column("criterion_id", Integer, nullable=False),
                  Column("place", Integer, nullable=False), Column("weight", Float, nullable=False),
                  Column("text", Text, nullable=False), prefixes=["TEMPORARY"], sqlite_with_rowid=False)
# Each checklist's items criterion by criterion: the tallies' GROUP BY (assessment, criterion) then reads its rows in
# order, with no sort of a year's million rows (_write_answers).
Index("ix_demo_checklist_criterion", CHECKLIST.c.framework_id, CHECKLIST.c.criterion_id, CHECKLIST.c.item_id)

SCRATCH_TABLES = (ANSWERING, DRAWS, MOMENTS, CHECKLIST)
SECRETARIES = Table("demo_secretary", _SCRATCH, Column("branch_id", Integer, primary_key=True),
                    Column("user_id", Integer, nullable=False), prefixes=["TEMPORARY"])


def _draws() -> list[tuple[int, str, str]]:
    """(draw 0..99, result, note): met, partly, not met and n/a 70, 20, 6 and 4 in a hundred, a note on some of
    those met."""
    results = [Result.MET, Result.PARTLY, Result.NOT_MET, Result.NOT_APPLICABLE]
    rows = []
    for n in range(PICKED_CUMULATIVE[-1]):
        result = results[next(i for i, bound in enumerate(PICKED_CUMULATIVE) if n < bound)]
        rows.append((n, result.value, NOTES[n % len(NOTES)] if result == Result.MET else ""))
    return rows


def _write_answers(year: CampaignYear, answering: list[tuple[int, int, int | None]], places: dict[int, int],
                   moments: list[datetime], seed_value: int) -> None:
    """The year's answers and their kept tallies, in two INSERT … SELECT (a district of 2,000 branches answers
    1.3 million items a finished year). `answering`: (assessment id, how many items of its checklist are answered,
    from the top, by whom); `places`: {item id: its place in its checklist of the year, from 0}; `moments`: naive
    UTC times the answers are dated at. Each answer's result (`_draws`) and time are drawn in SQL (`_draw`, the
    same on SQLite and PostgreSQL) and looked up in small temporary tables, so that each is computed once a row; the
    checklists' items are one too (CHECKLIST: place, weight in the year, text), so that an assessment's rows are an
    index range of its framework's items rather than every item looked up and filtered. The tallies are computed
    from the same draws with `progress.tally_aggregates` over every item of the checklists (an item not answered
    counts as such): what `tallies.rebuild` computes from the answers, without reading millions of answers back."""
    connection = db.session.connection()
    for table in SCRATCH_TABLES:
        table.create(connection)
    insert_rows(ANSWERING, ["assessment_id", "answered", "by_id"], answering)
    insert_rows(DRAWS, ["n", "result", "note"], _draws())
    insert_rows(MOMENTS, ["n", "at"], list(enumerate(moments)))
    db.session.execute(insert(CHECKLIST).from_select(
        ["framework_id", "item_id", "criterion_id", "place", "weight", "text"],
        select(Criterion.framework_id, Item.id, Criterion.id, case(places, value=Item.id), weight_in(), Item.text)
        .select_from(Item).join(Criterion, Criterion.id == Item.criterion_id)
        .outerjoin(KeptItemWeight, kept_weight_join(year.id))
        .where(Item.id.in_(list(places)), in_checklist(year.id, year.year))))
    item = CHECKLIST.c
    checklists = (select(Assessment.id).select_from(Assessment)
                  .join(ANSWERING, ANSWERING.c.assessment_id == Assessment.id)
                  .join(CHECKLIST, item.framework_id == Assessment.framework_id)
                  .where(Assessment.year_id == year.id))
    # An item's draw is joined only where it is answered: among the first `answered` of its checklist.
    drawn = and_(DRAWS.c.n == _draw(seed_value, PICKED_CUMULATIVE[-1], item.item_id), item.place < ANSWERING.c.answered)
    # (A finished year's answers share one moment: no draw.)
    at = MOMENTS.c.n == (_draw(seed_value + 1, len(moments), item.item_id) if len(moments) > 1 else 0)
    answers = (checklists.join(DRAWS, drawn).join(MOMENTS, at).with_only_columns(
        Assessment.id, item.item_id, DRAWS.c.result, DRAWS.c.note, item.text, literal(0), ANSWERING.c.by_id,
        MOMENTS.c.at))
    db.session.execute(insert(ItemResult.__table__).from_select(ANSWER_COLUMNS, answers))
    # The same rows from ANSWERING (the year's assessments, in id order) through ix_demo_checklist_criterion: grouped
    # as they come, where the year's index of assessments would need a sort of every row first.
    assessment_id = ANSWERING.c.assessment_id
    counts = (select(assessment_id).select_from(ANSWERING).join(Assessment, Assessment.id == assessment_id)
              .join(CHECKLIST, item.framework_id == Assessment.framework_id)
              .outerjoin(DRAWS, drawn).outerjoin(MOMENTS, and_(at, DRAWS.c.n.isnot(None)))
              .with_only_columns(assessment_id, item.criterion_id,
                                 *progress.tally_aggregates(item.item_id, DRAWS.c.result, item.weight),
                                 func.max(MOMENTS.c.at))
              .group_by(assessment_id, item.criterion_id))
    db.session.execute(insert(AssessmentTally).from_select(tallies.TALLY_COLUMNS, tallies.with_figures(counts)))
    for table in SCRATCH_TABLES:
        table.drop(connection)


def _seed_snapshots(rng, year, branch_ids, today):
    """Two weeks of daily progress so the dashboard's time chart has a history: each branch's line climbs
    steadily to where its answers stand today (never above it, so today's live point shows no invented drop),
    with the branch's present score."""
    from .dashboard import build_rows

    db.session.flush()
    now = {row.branch_id: (row.total.progress, row.total.score) for row in build_rows(year)}
    rows = []
    for branch_id in branch_ids:
        final, score = now.get(branch_id, (0.0, None))
        start = final * rng.uniform(0.2, 0.6)
        for days_ago in range(14, 0, -1):
            level = start + (final - start) * (14 - days_ago) / 14
            rows.append({"year_id": year.id, "branch_id": branch_id, "day": today - timedelta(days=days_ago),
                         "progress": min(final, round(level, 1)), "score": score})
    db.session.execute(insert(ProgressSnapshot.__table__), rows)


def _seed_notifications(year) -> None:
    """What the demo's state would have told people, as the services tell it (notifications.notify, each about
    its record, so that doing the work settles it), dated when each event happened: self-assessments waiting
    for review (the leading group; a member's, their secretary), returned (with the reason) and reviewed; the
    submission requests each branch received, the plans handed in (the leading group; settled once decided),
    returned or accepted, and the plan overdue; posts waiting for the editor; follow-ups assigned. Work already
    done leaves its "waiting" notification settled at the time it was done."""
    from . import notifications

    with notifications.in_bulk():  # tens of thousands of events: inserted 2,000 rows a statement
        settled = _notify_demo_state(year, notifications)
    _settle(settled)


def _notify_demo_state(year, notifications) -> list[tuple[str, str, datetime]]:
    from .notifications import whose_words

    names = dict(db.session.execute(select(Branch.id, Branch.name)).all())
    people = dict(db.session.connection().execute(select(User.id, User.display_name)).all())  # Core rows
    leaders = notifications.leaders()
    by_branch = notifications.secretaries_by_branch()
    secretaries = {b: by_branch.get(b, []) for b in names}
    settled: list[tuple[str, str, datetime]] = []  # (kind, object key, when the work was done)

    # 自评: waiting, returned, reviewed.
    # The year's checklists' events only (the loop below reads no other), as Core rows.
    happened: dict[tuple[int, str], datetime] = {(a, action): at for a, action, at in db.session.connection().execute(
        select(AssessmentEvent.assessment_id, AssessmentEvent.action, func.max(AssessmentEvent.at))
        .where(AssessmentEvent.assessment_id.in_(select(Assessment.id).where(Assessment.year_id == year.id)))
        .group_by(AssessmentEvent.assessment_id, AssessmentEvent.action))}
    # Tens of thousands of links that differ in one id: each pattern built once (links.path_pattern).
    branch_checklist = path_pattern("checklist.branch", "owner_id", year=year.year)
    member_checklist = path_pattern("checklist.member", "owner_id", year=year.year)
    submission_page = path_pattern("campaign.submission", "submission_id")
    ratings = dict(db.session.execute(select(Review.assessment_id, Review.rating)
                                      .where(Review.year_id == year.id)).tuples().all())
    # The columns read as Core rows, not ORM objects (tens of thousands of assessments at district scale).
    for a in db.session.connection().execute(select(
            Assessment.id, Assessment.branch_id, Assessment.member_id, Assessment.status, Assessment.submitted_at,
            Assessment.updated_at, Assessment.reviewed_at, Assessment.return_reason).where(
            Assessment.year_id == year.id, Assessment.status.in_(
                [AssessmentStatus.SUBMITTED, AssessmentStatus.RETURNED, AssessmentStatus.REVIEWED]))):
        about = f"assessment:{a.id}"
        yours = {"yours": 1} if a.member_id is not None else {}  # worded for the member: "您的自评…"
        whose = whose_words(names[a.branch_id], people[a.member_id] if a.member_id is not None else None)
        if a.member_id is None:
            link = branch_checklist(a.branch_id)
            reviewers, owners = leaders, secretaries[a.branch_id]
        else:
            link = member_checklist(a.member_id)
            reviewers = [s for s in secretaries[a.branch_id] if s != a.member_id]
            owners = [a.member_id]
        notifications.notify(reviewers, "assessment.waiting", f"demo:assessment.waiting:{a.id}", link, about,
                             at=happened.get((a.id, "submit"), a.submitted_at), what=whose)
        if a.status == AssessmentStatus.RETURNED:
            done = happened.get((a.id, "return"), a.updated_at)
            settled.append(("assessment.waiting", about, done))
            notifications.notify(owners, "assessment.returned", f"demo:assessment.returned:{a.id}", link, about,
                                 at=done, what=whose, reason=a.return_reason, **yours)
        elif a.status == AssessmentStatus.REVIEWED:
            done = happened.get((a.id, "review"), a.reviewed_at)
            settled.append(("assessment.waiting", about, done))
            if a.id in ratings:
                notifications.notify(owners, "assessment.reviewed", f"demo:assessment.reviewed:{a.id}", link, about,
                                     at=done, what=whose, rating=ratings[a.id].value, **yours)

    # 报送: requested, handed in (waiting for a decision), returned, accepted, overdue.
    from flask_babel import force_locale, to_utc

    from ..models import RequestKind, Submission, SubmissionRequest, SubmissionStatus
    from .submissions import local_text

    rows = db.session.execute(select(Submission, SubmissionRequest).join(
        SubmissionRequest, SubmissionRequest.id == Submission.request_id).where(SubmissionRequest.year_id == year.id))
    now = utcnow()
    requests: dict[int, tuple[str, str]] = {}
    for sub, req in rows:
        about, link = f"submission:{sub.id}", submission_page(sub.id)
        owners = secretaries.get(sub.branch_id, [])
        if req.id not in requests:  # (a request's deadline and page, once for its 2,000 submissions)
            with force_locale("zh"):
                requests[req.id] = (local_text(req.deadline), path_for("campaign.request_page", request_id=req.id))
        due, request_page = requests[req.id]
        notifications.notify(owners, "submission.requested", f"demo:submission.requested:{sub.id}",
                             request_page, about, at=req.created_at, what=req.title, due=due)
        if sub.status == SubmissionStatus.PENDING:
            if req.deadline < now:  # as send-reminders words it (same event key: never sent twice)
                notifications.notify(owners, "submission.overdue", f"submission.overdue:{sub.id}", link, about,
                                     at=req.deadline, what=req.title, due=due, submission_id=sub.id)
            continue
        settled.append(("submission.requested", about, sub.submitted_at))
        deciders = leaders if req.kind == RequestKind.PLAN else notifications.admins()
        notifications.notify(deciders, "submission.waiting", f"demo:submission.waiting:{sub.id}", link, about,
                             at=sub.submitted_at, what=f"{names[sub.branch_id]} · {req.title}")
        if sub.status in (SubmissionStatus.RETURNED, SubmissionStatus.ACCEPTED):
            settled.append(("submission.waiting", about, sub.decided_at))
            kind = "submission.returned" if sub.status == SubmissionStatus.RETURNED else "submission.accepted"
            notifications.notify(owners, kind, f"demo:{kind}:{sub.id}", link, about, at=sub.decided_at,
                                 what=req.title, reason=sub.return_reason)

    # Posts waiting for the editor.
    for post_id, title, at in db.session.execute(select(Post.id, Post.title, Post.submitted_at)
                                                 .where(Post.status == PostStatus.PENDING)):
        notifications.notify(notifications.editors(), "post.waiting", f"demo:post.waiting:{post_id}",
                             path_for("news.post", post_id=post_id), f"post:{post_id}", at=at, what=title)

    # Inspection follow-ups assigned to a branch, still open.
    from ..models import FollowUp, FollowUpStatus, Inspection

    for follow_up, held_on in db.session.execute(select(FollowUp, Inspection.held_on).join(
            Inspection, Inspection.id == FollowUp.inspection_id).where(
            Inspection.year_id == year.id, FollowUp.branch_id.is_not(None), FollowUp.status == FollowUpStatus.OPEN)):
        notifications.notify(secretaries.get(follow_up.branch_id, []), "follow_up.assigned",
                             f"demo:follow_up.assigned:{follow_up.id}",
                             path_for("campaign.follow_up", follow_up_id=follow_up.id), f"followup:{follow_up.id}",
                             at=to_utc(datetime(held_on.year, held_on.month, held_on.day, 9, 0)).replace(tzinfo=None),
                             what=follow_up.action, due=follow_up.due_on.isoformat())

    # Work already done: its "waiting" notifications were settled when it was done (after the bulk insert).
    return settled


def _settle(settled: list[tuple[str, str, datetime]]) -> None:
    """Mark the notifications of work already done as settled (and read) when it was done: one UPDATE run for
    every (kind, object, when)."""
    if settled:
        db.session.execute(
            update(Notification.__table__)
            .where(Notification.kind == bindparam("b_kind"), Notification.object_key == bindparam("b_about"))
            .values(resolved_at=bindparam("b_done"), read_at=bindparam("b_done")),
            [{"b_kind": kind, "b_about": about, "b_done": done} for kind, about, done in settled])


def _seed_posts(rng, year, branch_ids, secretaries, today):
    stories = [
        (PostCategory.BRANCH_EXEMPLAR, "“红烛先锋”党员示范岗：让每一盏灯都亮起来",
         "支部以党员示范岗为抓手，推动教学质量和师德建设双提升。"),
        (PostCategory.MEMBER_EXEMPLAR, "扎根课堂二十年的青年教师导师",
         "她带出的八位青年教师已成为学校教学骨干。"),
        (PostCategory.EXPERIENCE, "“一个支部一个品牌”的三点体会", "品牌建设要立足学校实际、着眼师生需求。"),
        (PostCategory.BULLETIN, "关于开展“向十八大献礼”主题党日活动的通报", "各基层党组织按要求完成主题党日活动。"),
    ]
    for i, (category, title, summary) in enumerate(stories):
        branch_id = branch_ids[i % len(branch_ids)]
        body = f"## {title}\n\n{summary}\n\n- 坚持学习制度化\n- 坚持服务常态化\n- 坚持创新项目化\n"
        published = _when(rng, today, 12)
        db.session.add(Post(
            category=category, title=title, summary=summary, body_md=body, body_html=markdown.render(body),
            year_id=year.id, branch_id=branch_id, author_id=secretaries.get(branch_id),
            status=PostStatus.PUBLISHED, pinned=(i == 0), published_at=published, submitted_at=published,
            read_count=rng.randint(5, 120), created_at=published, updated_at=published,
        ))
