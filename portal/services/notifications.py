"""In-app notifications: written by the services when something happens to a person's work, read on
/notifications and in the header's unread count, and e-mailed by `send-reminders` (services/mail.py).

One notification per event and person: `event_key` names the event (usually the audit event that recorded
it, so a retried request that changes nothing writes nothing) and (recipient, event_key) is unique in the
database; writing one that exists already is silently skipped (INSERT … ON CONFLICT DO NOTHING on SQLite
and PostgreSQL alike). The services add notifications to their own transaction before their single commit.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import NotFound
from ..extensions import db
from ..models import AuditEvent, Notification, Role, User
from ..models.base import utcnow

PER_PAGE = 30

# The text of each kind, rendered in the reader's language; params are the values the event recorded
# (names and reasons other people typed: plain text, escaped where shown).
TEXTS = {
    "assessment.returned": _l("The self-assessment of %(what)s was returned: %(reason)s"),
    "assessment.reviewed": _l("The self-assessment of %(what)s has been reviewed: %(rating)s."),
    "assessment.waiting": _l("A self-assessment waits for your review: %(what)s."),
    "pledge.returned": _l("The pledge \u201c%(what)s\u201d was returned: %(reason)s"),
    "pledge.approved": _l("The pledge \u201c%(what)s\u201d was approved and is published."),
    "pledge.waiting": _l("A pledge waits for your approval: %(what)s."),
    "submission.requested": _l("New submission request \u201c%(what)s\u201d, due %(due)s."),
    "submission.due": _l("The submission \u201c%(what)s\u201d is due on %(due)s."),
    "submission.overdue": _l("The submission \u201c%(what)s\u201d is overdue since %(due)s."),
    "submission.returned": _l("The submission \u201c%(what)s\u201d was returned: %(reason)s"),
    "submission.accepted": _l("The submission \u201c%(what)s\u201d was accepted."),
    "follow_up.assigned": _l("An inspection follow-up was assigned to your branch, due %(due)s: %(what)s"),
    "nomination.decided": _l("The nomination of %(what)s was decided: %(decision)s."),
    "post.returned": _l("Your post \u201c%(what)s\u201d was returned: %(reason)s"),
    "post.published": _l("Your post \u201c%(what)s\u201d has been published."),
    "post.waiting": _l("A post waits for your review: \u201c%(what)s\u201d."),
    "reminder.self_assessment": _l("%(sender)s reminds you to finish and submit your Five Leads "
                                   "self-assessment for %(year)s."),
}


def text_of(notification: Notification) -> str:
    """The notification's sentence in the current language (plain text)."""
    template = TEXTS.get(notification.kind)
    if template is None:
        return notification.kind
    from .. import labels

    coded = {"rating": labels.REVIEW_RATING, "decision": labels.NOMINATION_STATUS}
    params = {}
    for key, value in (notification.params or {}).items():
        label = coded.get(key, {}).get(value)
        params[key] = str(label) if label is not None else ("" if value is None else str(value))
    try:
        return str(template) % params
    except (KeyError, ValueError, TypeError):  # a catalog entry that lost a placeholder
        return str(template)


def _insert_ignoring_duplicates(rows: list[dict]) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["recipient_id", "event_key"])
    db.session.execute(stmt)


def notify(recipients: Iterable[User | int], kind: str, event_key: str, link: str = "", **params) -> None:
    """Add one notification of `kind` per recipient for the event `event_key` (the caller commits).
    Recipients given twice, or already notified of this event, get none more. `link` is a path inside the
    portal (links.path_for); params are plain values for the text."""
    if kind not in TEXTS:
        raise KeyError(f"unknown notification kind: {kind}")
    ids = sorted({r if isinstance(r, int) else r.id for r in recipients if r is not None})
    if not ids:
        return
    now = utcnow()
    clean = {k: v if isinstance(v, (int, float)) or v is None else str(v)[:500] for k, v in params.items()}
    _insert_ignoring_duplicates([{"recipient_id": rid, "kind": kind, "event_key": event_key[:120],
                                  "params": clean, "link": link[:300], "created_at": now} for rid in ids])


def notify_event(event: AuditEvent, recipients: Iterable[User | int], kind: str, link: str = "", **params) -> None:
    """`notify` for the event that audit.record just recorded: the audit event's id keys it."""
    db.session.flush()
    notify(recipients, kind, f"{kind}:{event.id}", link, **params)


# --- who is told ------------------------------------------------------------------------------------------

def _active(stmt) -> list[int]:
    return list(db.session.scalars(stmt.where(User.active.is_(True))))


def leaders() -> list[int]:
    return _active(select(User.id).where(User.role == Role.LEADER))


def admins() -> list[int]:
    return _active(select(User.id).where(User.role == Role.ADMIN))


def editors() -> list[int]:
    return _active(select(User.id).where(User.role == Role.EDITOR))


def secretaries_of(branch_id: int | None) -> list[int]:
    if branch_id is None:
        return []
    return _active(select(User.id).where(User.role == Role.SECRETARY, User.branch_id == branch_id))


# --- reading and marking -----------------------------------------------------------------------------------

def unread_count(user: User) -> int:
    return int(db.session.scalar(select(func.count(Notification.id)).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None))) or 0)


@dataclass
class NotificationPage:
    rows: list[Notification]
    page: int
    pages: int
    unread: int


def page_for(user: User, page: int = 1, per_page: int = PER_PAGE) -> NotificationPage:
    """The user's notifications, newest first, one page (paged in SQL)."""
    total = int(db.session.scalar(select(func.count(Notification.id))
                                  .where(Notification.recipient_id == user.id)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = list(db.session.scalars(
        select(Notification).where(Notification.recipient_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(per_page).offset((page - 1) * per_page)))
    return NotificationPage(rows, page, pages, unread_count(user))


def own(user: User, notification_id: int) -> Notification:
    """The user's own notification; another person's, or none, is NotFound (nothing tells them apart)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != user.id:
        raise NotFound()
    return notification


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (again: no change). Reading changes no campaign record,
    so it is not audited."""
    notification = own(user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = db.session.execute(update(Notification).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount or 0


# --- the secretary's reminder -------------------------------------------------------------------------------

def remind_self_assessment(actor: User, member: User, year) -> bool:
    """The secretary (`actor`) reminds a member of their branch to finish and submit their 五带头
    self-assessment for `year` (permission "member.remind", checked by the view). At most one reminder per
    member and local day: a second click that day (or a retried request) writes nothing and returns False.
    Raises Conflict when the member has submitted already (or been reviewed): no reminder is sent then."""
    from flask_babel import to_user_timezone

    from ..errors import Conflict
    from ..links import path_for
    from ..models import Assessment, AssessmentStatus
    from . import audit

    status = db.session.scalar(select(Assessment.status).where(Assessment.year_id == year.id,
                                                               Assessment.member_id == member.id))
    if status in (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED):
        raise Conflict(str(_l("%(name)s has already submitted the self-assessment: no reminder is needed.",
                              name=member.display_name)))
    day = to_user_timezone(utcnow()).date().isoformat()
    key = f"reminder.self_assessment:{year.id}:{member.id}:{day}"
    exists = db.session.scalar(select(Notification.id).where(Notification.recipient_id == member.id,
                                                             Notification.event_key == key))
    if exists is not None:
        return False
    notify([member.id], "reminder.self_assessment", key,
           path_for("checklist.member", owner_id=member.id, year=year.year), sender=actor.display_name,
           year=year.year)
    audit.record(actor, "notification.remind", member, branch_id=member.branch_id,
                 after={"member": member.username, "year": year.year})
    db.session.commit()
    return True
