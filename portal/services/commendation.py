"""评选表彰: a secretary nominates their branch or one of its members with 事迹材料; leaders shortlist;
a public notice (公示) runs for a set number of days while anyone logged in may object (leaders alone
read objections); then leaders commend (with a level) or reject. Commended exemplars make the
honour roll and can become a featured post with one click."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased
from werkzeug.datastructures import FileStorage

from .. import permissions
from ..errors import Conflict, Invalid, NotAllowed, NotFound
from ..extensions import db
from ..i18n import when
from ..input_guard import parse_int
from ..links import path_for
from ..models import (
    Attachment,
    Branch,
    CampaignYear,
    CommendationLevel,
    Nomination,
    NominationStatus,
    Objection,
    PostCategory,
    Role,
    User,
    utcnow,
)
from . import audit, news, notifications, uploads
from .versions import check_version

ATTACHMENT_KIND = "nominations"
ATTACHMENT_TYPES = {**uploads.DOCUMENT_TYPES, **uploads.IMAGE_TYPES}
MAX_ATTACHMENTS = 5
DEEDS_MAX = 20_000
NOTICE_DAYS = (1, 30)
OPEN_STATUSES = (NominationStatus.SUBMITTED, NominationStatus.SHORTLISTED, NominationStatus.NOTICE)


def get_nomination(nomination_id: int) -> Nomination:
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound()
    return nomination


def get_attachment(nomination: Nomination, attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.nomination_id != nomination.id:
        raise NotFound()
    return attachment


def notice_running(nomination: Nomination, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (nomination.status == NominationStatus.NOTICE and nomination.notice_starts_at is not None
            and nomination.notice_ends_at is not None
            and nomination.notice_starts_at <= now < nomination.notice_ends_at)


def notice_over(nomination: Nomination, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (nomination.status == NominationStatus.NOTICE and nomination.notice_ends_at is not None
            and nomination.notice_ends_at <= now)


# --- reading -----------------------------------------------------------------------------------

@dataclass
class Row:
    nomination: Nomination
    branch_name: str
    member_name: str
    objections: int = 0

    @property
    def nominee(self) -> str:
        return self.member_name or self.branch_name


_Member = aliased(User)


def _rows(stmt, with_objections: bool = False) -> list[Row]:
    rows = [Row(n, b or "", m or "") for n, b, m in db.session.execute(stmt)]
    if with_objections and rows:
        counts = dict(db.session.execute(
            select(Objection.nomination_id, func.count(Objection.id))
            .where(Objection.nomination_id.in_([r.nomination.id for r in rows]))
            .group_by(Objection.nomination_id)).all())
        for row in rows:
            row.objections = counts.get(row.nomination.id, 0)
    return rows


def _base():
    return (select(Nomination, Branch.name, _Member.display_name)
            .join(Branch, Branch.id == Nomination.branch_id)
            .outerjoin(_Member, _Member.id == Nomination.member_id))


def notices(now: datetime | None = None) -> list[Row]:
    """Nominations whose 公示 is running now: what every logged-in user sees."""
    now = now or utcnow()
    return _rows(_base().where(Nomination.status == NominationStatus.NOTICE, Nomination.notice_starts_at <= now,
                               Nomination.notice_ends_at > now).order_by(Nomination.notice_ends_at))


def for_branch(branch_id: int, year: CampaignYear) -> list[Row]:
    return _rows(_base().where(Nomination.branch_id == branch_id, Nomination.year_id == year.id)
                 .order_by(Nomination.created_at.desc()))


def pipeline(year: CampaignYear) -> dict[NominationStatus, list[Row]]:
    """Every nomination of the year by status, with its objection count (one grouped query)."""
    rows = _rows(_base().where(Nomination.year_id == year.id).order_by(Nomination.created_at), True)
    grouped: dict[NominationStatus, list[Row]] = {status: [] for status in NominationStatus}
    for row in rows:
        grouped[row.nomination.status].append(row)
    return grouped


def row_for(nomination: Nomination) -> Row:
    return _rows(_base().where(Nomination.id == nomination.id), True)[0]


def attachments(nomination: Nomination) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(Attachment.nomination_id == nomination.id)
                                   .order_by(Attachment.id)))


def objections(nomination: Nomination) -> list[tuple[Objection, str]]:
    return list(db.session.execute(
        select(Objection, User.display_name).outerjoin(User, User.id == Objection.author_id)
        .where(Objection.nomination_id == nomination.id).order_by(Objection.created_at)).tuples())


def nominee_options(actor: User) -> list[tuple[int, str]]:
    """[(user id, name)] a secretary may nominate: the branch's people other than themself."""
    return [option for option in news.members_of(actor.branch_id) if option[0] != actor.id]


@dataclass
class HonourGroup:
    year: int
    level: CommendationLevel
    rows: list[Row] = field(default_factory=list)


def honour_roll(year: int | None = None, level: str = "") -> list[HonourGroup]:
    """Commended exemplars by year (newest first) and level (district, system, school)."""
    stmt = (_base().add_columns(CampaignYear.year).join(CampaignYear, CampaignYear.id == Nomination.year_id)
            .where(Nomination.status == NominationStatus.COMMENDED))
    if year:
        stmt = stmt.where(CampaignYear.year == year)
    if level in CommendationLevel._value2member_map_:
        stmt = stmt.where(Nomination.level == CommendationLevel(level))
    order = {lvl: i for i, lvl in enumerate(CommendationLevel)}
    groups: dict[tuple[int, CommendationLevel], HonourGroup] = {}
    for nomination, branch_name, member_name, year_no in db.session.execute(
            stmt.order_by(CampaignYear.year.desc(), Nomination.decided_at)):
        key = (year_no, nomination.level)
        groups.setdefault(key, HonourGroup(year_no, nomination.level)).rows.append(
            Row(nomination, branch_name or "", member_name or ""))
    return sorted(groups.values(), key=lambda g: (-g.year, order.get(g.level, 99)))


def honour_years() -> list[int]:
    return list(db.session.scalars(select(CampaignYear.year).order_by(CampaignYear.year.desc())))


# --- writing -----------------------------------------------------------------------------------

def _snapshot(nomination: Nomination) -> dict:
    return {"status": nomination.status.value, "member_id": nomination.member_id,
            "level": nomination.level.value if nomination.level else None,
            "notice_ends_at": nomination.notice_ends_at.isoformat() if nomination.notice_ends_at else None,
            "post_id": nomination.post_id, "decision_note": nomination.decision_note}


def nominate(actor: User, year: CampaignYear | None, member_id: str, deeds: str,
             files: list[FileStorage] | None = None) -> Nomination:
    """A secretary nominates their branch (no member) or one of its members, with 事迹材料."""
    if actor.role != Role.SECRETARY or not actor.branch_id:
        raise NotAllowed(str(_l("Only a branch secretary can nominate, and only for their own branch.")))
    if year is None:
        raise Conflict(str(_l("No campaign year is set up yet.")))
    errors: dict[str, str] = {}
    deeds = (deeds or "").replace("\r\n", "\n").strip()
    member = None
    if member_id:
        member_key = news.parse_id(member_id)
        member = db.session.get(User, member_key) if member_key else None
        if (member is None or member.role not in (Role.MEMBER, Role.SECRETARY)
                or not permissions.can(actor, "nomination.nominee", member)):
            errors["member_id"] = (
                _l("Nobody can nominate themself; the branch may be nominated instead.") if member is actor
                else _l("Choose a member of your own branch, or the branch itself."))
    if not deeds:
        errors["deeds"] = _l("Describe the exemplary deeds (事迹材料).")
    elif len(deeds) > DEEDS_MAX:
        errors["deeds"] = _l("The text may be at most %(n)s characters.", n=DEEDS_MAX)
    files = [f for f in (files or []) if f is not None and f.filename]
    if len(files) > MAX_ATTACHMENTS:
        errors["files"] = _l("Attach at most %(n)s files.", n=MAX_ATTACHMENTS)
    if not errors:
        duplicate = db.session.scalar(select(Nomination.id).where(
            Nomination.year_id == year.id, Nomination.branch_id == actor.branch_id,
            Nomination.member_id == member.id if member else Nomination.member_id.is_(None),
            Nomination.status.in_(OPEN_STATUSES + (NominationStatus.COMMENDED,))))
        if duplicate:
            errors["member_id"] = _l("This nominee has already been nominated this year.")
    if errors:
        raise Invalid(str(_l("Please check the nomination.")), errors)
    stored: list[uploads.StoredFile] = []
    try:
        for file in files:
            stored.append(uploads.store(file, ATTACHMENT_KIND, ATTACHMENT_TYPES, field="files"))
    except Exception:
        for item in stored:  # nothing half-saved: drop the files already written
            uploads.remove(ATTACHMENT_KIND, item.stored_name)
        raise
    nomination = Nomination(year_id=year.id, branch_id=actor.branch_id, member_id=member.id if member else None,
                            nominated_by_id=actor.id, deeds=deeds, status=NominationStatus.SUBMITTED)
    db.session.add(nomination)
    db.session.flush()
    for item in stored:
        db.session.add(Attachment(nomination_id=nomination.id, original_name=item.original_name,
                                  stored_name=item.stored_name, content_type=item.content_type, size=item.size))
    audit.record(actor, "nomination.create", nomination, after={**_snapshot(nomination), "files": len(stored)})
    db.session.commit()
    return nomination


def _require_leader(actor: User) -> None:
    if actor.role != Role.LEADER:
        raise NotAllowed(str(_l("Only the leading group decides on nominations.")))


def _change(actor: User, nomination: Nomination, action: str, **changes) -> Nomination:
    before = _snapshot(nomination)
    for name, value in changes.items():
        setattr(nomination, name, value)
    event = audit.record(actor, action, nomination, before=before, after=_snapshot(nomination))
    if nomination.status in (NominationStatus.COMMENDED, NominationStatus.REJECTED):
        # The nominating secretary and the nominee hear the decision, and why a nomination was not commended.
        nominee = db.session.get(User, nomination.member_id) if nomination.member_id else None
        what = nominee.display_name if nominee else db.session.get(Branch, nomination.branch_id).name
        why = {"reason": nomination.decision_note[:500]} if nomination.status == NominationStatus.REJECTED else {}
        notifications.notify_event(event, [nomination.nominated_by_id, nomination.member_id],
                                   "nomination.decided",
                                   path_for("commendation.nomination", nomination_id=nomination.id),
                                   what=what, decision=nomination.status.value, **why)
    db.session.commit()
    return nomination


def _stale() -> Conflict:
    return Conflict(str(_l("This nomination has moved on meanwhile. Reload the page to see where it stands.")))


def _claim(nomination: Nomination, version: int | None) -> None:
    """Claim the next version for a decision taken on the page loaded at `version` (None: no comparison).
    Raises Conflict carrying the saved "status" and "decision_note" when the nomination changed meanwhile
    (another decision, or an objection raised during the public notice)."""
    try:
        check_version(nomination, version, shown=("status", "decision_note"))
    except Conflict as error:
        raise Conflict(str(_l("This nomination changed while you were deciding (another decision, or a new "
                              "objection). Look at it again before you decide.")), current=error.current) from None


def shortlist(actor: User, nomination: Nomination, version: int | None = None) -> Nomination:
    """Move a submitted nomination to the shortlist (leaders only; `version`: see `_claim`)."""
    _require_leader(actor)
    if nomination.status != NominationStatus.SUBMITTED:
        raise _stale()
    _claim(nomination, version)
    return _change(actor, nomination, "nomination.shortlist", status=NominationStatus.SHORTLISTED)


def start_notice(actor: User, nomination: Nomination, days: str, version: int | None = None) -> Nomination:
    """Start the 公示 for `days` (NOTICE_DAYS, else Invalid) on a shortlisted nomination (`version`: `_claim`)."""
    _require_leader(actor)
    if nomination.status != NominationStatus.SHORTLISTED:
        raise _stale()
    low, high = NOTICE_DAYS
    count = parse_int(days) or 0
    if not low <= count <= high:
        message = _l("The public notice runs for %(low)s to %(high)s days.", low=low, high=high)
        raise Invalid(str(message), {"days": message})
    _claim(nomination, version)
    now = utcnow()
    return _change(actor, nomination, "nomination.notice", status=NominationStatus.NOTICE,
                   notice_starts_at=now, notice_ends_at=now + timedelta(days=count))


def object_to(actor: User, nomination: Nomination, text: str) -> Objection:
    """Any logged-in user may object while the 公示 runs; the objection goes to the leaders only."""
    if not notice_running(nomination):
        if nomination.status == NominationStatus.NOTICE and notice_over(nomination):
            raise Conflict(str(_l("The public notice ended on %(when)s: objections are no longer accepted.",
                                  when=when(nomination.notice_ends_at))))
        raise Conflict(str(_l("This nomination is not under public notice: objections are not accepted.")))
    text = (text or "").strip()
    if not text:
        message = _l("Write what you object to.")
        raise Invalid(str(message), {"text": message})
    if len(text) > 5000:
        message = _l("The text may be at most %(n)s characters.", n=5000)
        raise Invalid(str(message), {"text": message})
    objection = Objection(nomination_id=nomination.id, author_id=actor.id, text=text, created_at=utcnow())
    db.session.add(objection)
    # A decision taken on a page that did not show this objection is then a conflict.
    db.session.execute(update(Nomination).where(Nomination.id == nomination.id)
                       .values(version=Nomination.version + 1).execution_options(synchronize_session=False))
    db.session.flush()
    audit.record(actor, "objection.create", objection, branch_id=nomination.branch_id,
                 after={"nomination_id": nomination.id})
    db.session.commit()
    return objection


def commend(actor: User, nomination: Nomination, level: str, note: str = "",
            version: int | None = None) -> Nomination:
    """Commend at `level` once the notice is over (else Conflict); `version`: see `_claim`."""
    _require_leader(actor)
    if nomination.status != NominationStatus.NOTICE:
        raise _stale()
    if not notice_over(nomination):
        raise Conflict(str(_l("The public notice runs until %(when)s; commend after it has ended.",
                              when=when(nomination.notice_ends_at))))
    if level not in CommendationLevel._value2member_map_:
        message = _l("Choose the level of the commendation.")
        raise Invalid(str(message), {"level": message})
    _claim(nomination, version)
    return _change(actor, nomination, "nomination.commend", status=NominationStatus.COMMENDED,
                   level=CommendationLevel(level), decision_note=(note or "").strip()[:2000],
                   decided_by_id=actor.id, decided_at=utcnow())


def reject(actor: User, nomination: Nomination, note: str, version: int | None = None) -> Nomination:
    """Close an open nomination without commendation; `note` (the reason) is required; `version`: `_claim`."""
    _require_leader(actor)
    if nomination.status not in OPEN_STATUSES:
        raise _stale()
    note = (note or "").strip()
    if not note:
        message = _l("Give the reason for not commending.")
        raise Invalid(str(message), {"note": message})
    _claim(nomination, version)
    return _change(actor, nomination, "nomination.reject", status=NominationStatus.REJECTED,
                   decision_note=note[:2000], decided_by_id=actor.id, decided_at=utcnow())


def feature(actor: User, nomination: Nomination):
    """One click: a published, featured post about the commended exemplar, linked to the nomination."""
    if nomination.status != NominationStatus.COMMENDED:
        raise Conflict(str(_l("Only a commended exemplar can become a featured post.")))
    if nomination.post_id:
        raise Conflict(str(_l("This exemplar already has its featured post.")))
    row = row_for(nomination)
    level = nomination.level
    from ..labels import COMMENDATION_LEVEL

    level_name = str(COMMENDATION_LEVEL[level]) if level else ""
    if nomination.member_id:
        category = PostCategory.MEMBER_EXEMPLAR
        title = str(_l("Outstanding Party member: %(name)s", name=row.member_name))
    else:
        category = PostCategory.BRANCH_EXEMPLAR
        title = str(_l("Advanced Party organisation: %(name)s", name=row.branch_name))
    summary = str(_l("Commended (%(level)s) by the leading group. %(branch)s", level=level_name,
                     branch=row.branch_name))
    post = news.publish_direct(actor, category=category, title=title, summary=summary, body_md=nomination.deeds,
                               branch_id=nomination.branch_id, member_id=nomination.member_id, featured=True)
    before = _snapshot(nomination)
    nomination.post_id = post.id
    audit.record(actor, "nomination.feature", nomination, before=before, after=_snapshot(nomination))
    db.session.commit()
    return post


# --- demo ----------------------------------------------------------------------------------------

def seed_demo_all(today: date) -> None:
    """The demo's news board variety and its commendation pipeline, in one call from `demo.seed`."""
    news.seed_demo(today)
    seed_demo(today)


def seed_demo(today: date) -> None:
    """A nomination under 公示, a shortlisted and a new one, and a commended exemplar."""
    from .campaign import current_year

    year = current_year()
    secretaries = list(db.session.execute(
        select(User.id, User.branch_id).where(User.role == Role.SECRETARY).order_by(User.id).limit(4)))
    leader_id = db.session.scalar(select(User.id).where(User.role == Role.LEADER).limit(1))
    if year is None or len(secretaries) < 2:
        return
    members = dict(db.session.execute(
        select(User.branch_id, func.min(User.id)).where(User.role == Role.MEMBER).group_by(User.branch_id)).all())
    now = datetime(today.year, today.month, today.day, 2, 0)
    deeds = ("## 主要事迹\n\n坚持以“五带头”为标准，扎根教学一线，带领青年教师开展课题研究，"
             "所带班级学生综合素质评价优秀；主动承担结对帮扶任务，深受师生和家长好评。\n")
    branch_deeds = ("## 主要事迹\n\n支部坚持“五个好”标准，以“一个支部一个品牌”为抓手，"
                    "建立党员示范岗和结对帮扶机制，学校教育教学质量稳步提升。\n")
    plan = [  # (secretary index, about a member?, status, notice start offset days, notice length)
        (0, True, NominationStatus.NOTICE, -2, 7),
        (1, False, NominationStatus.COMMENDED, -20, 7),
        (2 % len(secretaries), True, NominationStatus.SHORTLISTED, None, None),
        (3 % len(secretaries), False, NominationStatus.SUBMITTED, None, None),
    ]
    rows = []
    for k, (i, about_member, status, start, length) in enumerate(plan):
        secretary_id, branch_id = secretaries[i]
        starts = now + timedelta(days=start) if start is not None else None
        rows.append({
            "year_id": year.id, "branch_id": branch_id,
            "member_id": members.get(branch_id) if about_member else None,
            "nominated_by_id": secretary_id, "deeds": deeds if about_member else branch_deeds, "status": status,
            "level": CommendationLevel.DISTRICT if status == NominationStatus.COMMENDED else None,
            "notice_starts_at": starts, "notice_ends_at": starts + timedelta(days=length) if starts else None,
            "decision_note": "公示期满无异议，予以表彰。" if status == NominationStatus.COMMENDED else "",
            "decided_by_id": leader_id if status == NominationStatus.COMMENDED else None,
            "decided_at": now - timedelta(days=10) if status == NominationStatus.COMMENDED else None,
            "created_at": now - timedelta(days=25 - k),
        })
    db.session.execute(insert(Nomination), rows)
