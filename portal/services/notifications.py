"""In-app notifications: written by the services when something happens to a person's work, read on
/notifications and in the header's unread count, and e-mailed by `send-reminders` (services/mail.py).

One notification per event and person: `event_key` names the event (usually the audit event that recorded
it, so a retried request that changes nothing writes nothing) and (recipient, event_key) is unique in the
database; writing one that exists already is silently skipped (INSERT … ON CONFLICT DO NOTHING on SQLite
and PostgreSQL alike). The services add notifications to their own transaction before their single commit.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache

from flask import g, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import NotFound
from ..extensions import db
from ..models import AuditEvent, Notification, Role, User
from ..models.base import utcnow
from ..text import quoted
from . import paging

PER_PAGE = 30

# The text of each kind, rendered in the reader's language; params are the values the event recorded
# (names and reasons other people typed: plain text, escaped where shown). "%(title)s" is the recorded `what` in
# quotation marks, once (text.quoted: a title that opens with its own quotation mark gets none more).
TEXTS = {
    "assessment.returned": _l("The self-assessment of %(what)s was returned: %(reason)s"),
    "assessment.reviewed": _l("The self-assessment of %(what)s has been reviewed: %(rating)s."),
    "assessment.waiting": _l("A self-assessment waits for your review: %(what)s."),
    "pledge.returned": _l("The pledge %(title)s was returned: %(reason)s"),
    "pledge.approved": _l("The pledge %(title)s was approved and is published."),
    "pledge.waiting": _l("A pledge waits for your approval: %(what)s."),
    "submission.requested": _l("New submission request %(title)s, due %(due)s."),
    "submission.due": _l("The submission %(title)s is due on %(due)s."),
    "submission.overdue": _l("The submission %(title)s is overdue since %(due)s."),
    "submission.returned": _l("The submission %(title)s was returned: %(reason)s"),
    "submission.accepted": _l("The submission %(title)s was accepted."),
    "follow_up.assigned": _l("An inspection follow-up was assigned to your branch, due %(due)s: %(what)s"),
    "nomination.decided": _l("The nomination of %(what)s was decided: %(decision)s."),
    "post.returned": _l("Your post %(title)s was returned: %(reason)s"),
    "post.published": _l("Your post %(title)s has been published."),
    "post.waiting": _l("A post waits for your review: %(title)s."),
    "submission.waiting": _l("A document waits for your decision: %(what)s."),
    "file.missing": _l("A stored file is missing: %(what)s (asked for at %(path)s). Restore it from a backup, "
                       "or ask whoever uploaded it to upload it again."),
    "reminder.self_assessment": _l("%(sender)s reminds you to finish and submit your Five Leads "
                                   "self-assessment for %(year)s."),
}

# The same events told to the person whose own work it is (params "yours": 1): "您的自评已被退回：…".
TEXTS_YOURS = {
    "assessment.returned": _l("Your self-assessment was returned: %(reason)s"),
    "assessment.reviewed": _l("Your self-assessment has been reviewed: %(rating)s."),
    "pledge.returned": _l("Your pledge %(title)s was returned: %(reason)s"),
    "pledge.approved": _l("Your pledge %(title)s was approved and is published."),
}

# The same events with the reason that was given (params "reason"): a nomination not commended says why.
TEXTS_WITH_REASON = {
    "nomination.decided": _l("The nomination of %(what)s was decided: %(decision)s. Reason: %(reason)s"),
}


def text_of(notification: Notification) -> str:
    """The notification's sentence in the current language (plain text), worded for its reader: to the person
    whose own work it is, "your"."""
    given = notification.params or {}
    template = ((TEXTS_YOURS.get(notification.kind) if given.get("yours") else None)
                or (TEXTS_WITH_REASON.get(notification.kind) if given.get("reason") else None)
                or TEXTS.get(notification.kind))
    if template is None:
        return notification.kind
    from .. import labels

    coded = {"rating": labels.REVIEW_RATING, "decision": labels.NOMINATION_STATUS}
    params = {}
    for key, value in (notification.params or {}).items():
        label = coded.get(key, {}).get(value)
        params[key] = str(label) if label is not None else ("" if value is None else str(value))
    params["title"] = quoted(params.get("what", ""))
    try:
        return str(template) % params
    except (KeyError, ValueError, TypeError):  # a catalog entry that lost a placeholder
        return str(template)


def whose_words(branch_name: str, member_name: str | None = None) -> str:
    """Whose work, in words for a notification: the branch's name, or "branch · member" (the demo's alike)."""
    return f"{branch_name} · {member_name}" if member_name else branch_name


# While `in_bulk()` runs: the rows `notify` would insert, collected to be inserted together at its end.
_collected: ContextVar[list[dict] | None] = ContextVar("notifications_collected", default=None)
BULK_ROWS = 2000


def _insert_ignoring_duplicates_statement():
    """INSERT of notifications that skips a (recipient, event) already notified."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Notification.__table__).on_conflict_do_nothing(index_elements=["recipient_id", "event_key"])


def _insert_ignoring_duplicates(rows: list[dict]) -> None:
    collected = _collected.get()
    if collected is not None:
        collected.extend(rows)
        return
    db.session.execute(_insert_ignoring_duplicates_statement().values(rows))


@contextmanager
def in_bulk() -> Iterator[None]:
    """Within it, `notify` collects its rows instead of inserting them per event; at its end they are inserted
    BULK_ROWS a driver call (executemany; duplicates still ignored). For a command that notifies of tens of
    thousands of events (the demo seed); the rows are not in the database until the block ends. Not re-entrant."""
    rows: list[dict] = []
    token = _collected.set(rows)
    try:
        yield
    finally:
        _collected.reset(token)
    if rows:
        from .bulk import insert_dicts

        insert_dicts(Notification.__table__, rows, BULK_ROWS, _insert_ignoring_duplicates_statement())


def notify(recipients: Iterable[User | int], kind: str, event_key: str, link: str = "", about: str = "", *,
           at=None, **params) -> None:
    """Add one notification of `kind` per recipient for the event `event_key` (the caller commits).
    Recipients given twice, or already notified of this event, get none more. `link` is a path inside the
    portal (links.path_for); `about` names the record the work is about ("submission:4", see object_key);
    params are plain values for the text. `at` is when the event happened (now unless given: the demo's
    history)."""
    if kind not in TEXTS:
        raise KeyError(f"unknown notification kind: {kind}")
    ids = sorted({r if isinstance(r, int) else r.id for r in recipients if r is not None})
    if not ids:
        return
    now = at or utcnow()
    clean = {k: v if isinstance(v, (int, float)) or v is None else str(v)[:500] for k, v in params.items()}
    _insert_ignoring_duplicates([{"recipient_id": rid, "kind": kind, "event_key": event_key[:120],
                                  "params": clean, "link": link[:300], "created_at": now,
                                  "object_key": about[:60]} for rid in ids])


def object_key(obj) -> str:
    """A record as the audit log names it: "assessment:17"."""
    return f"{type(obj).__name__.lower()}:{obj.id}"


def notify_event(event: AuditEvent, recipients: Iterable[User | int], kind: str, link: str = "",
                 about: str = "", **params) -> None:
    """`notify` for the event that audit.record just recorded: the audit event's id keys it, and its object is
    what the notification is about (unless `about` says otherwise)."""
    db.session.flush()
    about = about or (f"{event.object_type}:{event.object_id}" if event.object_id is not None else "")
    notify(recipients, kind, f"{kind}:{event.id}", link, about, **params)


# --- "waiting for you": resolved when the work is done ----------------------------------------------------

def _same(obj) -> str:
    return object_key(obj)


def _members_reminder(obj) -> str:
    """A member's self-assessment answers the secretary's reminder, which is about the member."""
    member_id = getattr(obj, "member_id", None)
    return f"user:{member_id}" if member_id else ""


# The audited actions that do the work a "waiting" notification asks for, and the kinds they resolve, each with
# how the record the notification names is found from the action's own object. audit.record calls `settle`
# for every event, so whoever does the work (and however), the notifications about it stop waiting.
# A "returned" notification asks its reader to put the work right: it is settled when they hand it in again, and
# a stale one when the work is returned again or decided (settle runs inside audit.record, before the new
# event's own notification is written, so a second return leaves only its own notification open).
SETTLED_BY: dict[str, dict] = {
    "checklist.submit": {"reminder.self_assessment": _members_reminder, "assessment.returned": _same},
    "checklist.review": {"assessment.waiting": _same, "assessment.returned": _same},
    "checklist.return": {"assessment.waiting": _same, "assessment.returned": _same},
    "pledge.submit": {"pledge.returned": _same},
    "pledge.approve": {"pledge.waiting": _same, "pledge.returned": _same},
    "pledge.return": {"pledge.waiting": _same, "pledge.returned": _same},
    "post.submit": {"post.returned": _same},
    "post.publish": {"post.waiting": _same, "post.returned": _same},
    "post.schedule": {"post.waiting": _same, "post.returned": _same},
    "post.return": {"post.waiting": _same, "post.returned": _same},
    "submission.submit": {"submission.requested": _same, "submission.due": _same, "submission.overdue": _same,
                          "submission.returned": _same},
    "submission.accept": {"submission.waiting": _same, "submission.returned": _same},
    "submission.return": {"submission.waiting": _same, "submission.returned": _same},
    "follow_up.answer": {"follow_up.assigned": _same},
    "follow_up.status": {"follow_up.assigned": _same},
}
WAITING = frozenset(kind for kinds in SETTLED_BY.values() for kind in kinds)


def settle(action: str, obj) -> int:
    """Resolve the waiting notifications about `obj` that `action` has done the work of: they count as read
    and are never e-mailed (the caller commits). Returns how many."""
    rules = SETTLED_BY.get(action)
    if not rules or obj is None or getattr(obj, "id", None) is None:
        return 0
    now = utcnow()
    count = 0
    for kind, key_of in rules.items():
        key = key_of(obj)
        if not key:
            continue
        result = db.session.execute(
            update(Notification).where(Notification.object_key == key, Notification.kind == kind,
                                       Notification.resolved_at.is_(None))
            .values(resolved_at=now, read_at=func.coalesce(Notification.read_at, now))
            .execution_options(synchronize_session=False))
        count += result.rowcount or 0
    return count


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


def secretaries_by_branch() -> dict[int, list[int]]:
    """{branch id: `secretaries_of(branch id)`} of every branch that has an active secretary, in one query."""
    found: dict[int, list[int]] = {}
    for user_id, branch_id in db.session.execute(select(User.id, User.branch_id).where(
            User.role == Role.SECRETARY, User.branch_id.isnot(None), User.active.is_(True)).order_by(User.id)):
        found.setdefault(branch_id, []).append(user_id)
    return found


# --- files missing from storage -----------------------------------------------------------------------------

def missing_file_key(kind: str, stored_name: str) -> str:
    """What a "file.missing" notification is about: the stored file (folder and server-made name)."""
    return f"file:{kind}/{stored_name}"[:60]


def notify_missing_file(kind: str, stored_name: str, path: str) -> None:
    """Tell the organisation section (the admins) that a file a row names is not in storage: one notification
    per file and admin, however often it is asked for (the caller commits). Settled when the row goes (at once
    by uploads.removing, else when read) or the file is back (settle_restored_files)."""
    key = missing_file_key(kind, stored_name)
    notify(admins(), "file.missing", f"file.missing:{kind}/{stored_name}", "", key,
           what=f"{kind}/{stored_name}", path=path[:200])


def settle_missing_file(kind: str, stored_name: str) -> int:
    """The row naming the file was removed: its "file missing" notifications stop waiting (caller commits)."""
    now = utcnow()
    result = db.session.execute(
        update(Notification).where(Notification.object_key == missing_file_key(kind, stored_name),
                                   Notification.kind == "file.missing", Notification.resolved_at.is_(None))
        .values(resolved_at=now, read_at=func.coalesce(Notification.read_at, now))
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def settle_restored_files() -> int:
    """Settle the "file missing" notifications whose file is back in storage or no longer named by any row
    (checked when the organisation section reads its notifications); commits when it settled any."""
    from . import uploads

    keys = set(db.session.scalars(select(Notification.object_key).where(
        Notification.kind == "file.missing", Notification.resolved_at.is_(None)).distinct()))
    if not keys:
        return 0
    named = uploads.referenced_files(lambda sql: db.session.execute(text(sql)))
    count = 0
    for key in keys:
        kind, _, stored_name = key.removeprefix("file:").partition("/")
        try:
            back = (uploads.upload_dir(kind) / stored_name).is_file()
        except uploads.StorageUnavailable:
            continue
        if back or f"{kind}/{stored_name}" not in named:
            count += settle_missing_file(kind, stored_name)
    if count:
        db.session.commit()
    return count


# --- reading and marking -----------------------------------------------------------------------------------

def unread_count(user: User) -> int:
    """How many of `user`'s notifications are unread (the header's count, on every page).

    One count per request: a count this request read already (with the person, accounts.load_user, or with the list,
    `page_for`) stands until the request writes anything (`_forget_kept_counts`); else one statement."""
    kept = _kept_count(user.id)
    if kept is not None:
        return kept
    count = int(db.session.scalar(_unread_statement(), {"recipient_id": user.id}) or 0)
    keep_unread_count(user.id, count)
    return count


def unread_subquery():
    """`unread_count`'s count as a scalar subquery of the person's id (the bind parameter `user_id`), for a statement
    that reads the person anyway (accounts.load_user): SQLite and PostgreSQL run it once, not once per row."""
    return _unread_statement(key="user_id").scalar_subquery()


def keep_unread_count(user_id: int, count: int) -> None:
    """`count`, just read in this request, is what `unread_count` answers for `user_id` until the request writes."""
    if has_request_context():
        g.portal_unread_count = (request._get_current_object(), user_id, count)


def _kept_count(user_id: int) -> int | None:
    kept = g.get("portal_unread_count") if has_request_context() else None
    # The request itself too: an app context that outlives one request (a test's) carries `g` into the next.
    if kept is None or kept[1] != user_id or kept[0] is not request._get_current_object():
        return None
    return kept[2]


@event.listens_for(db.session, "after_flush")
@event.listens_for(db.session, "after_commit")
@event.listens_for(db.session, "after_rollback")
def _forget_kept_counts(*_args) -> None:
    """A write, a commit or a rollback of the request's session: the count it kept is counted again when asked."""
    if has_request_context():
        g.pop("portal_unread_count", None)


@event.listens_for(db.session, "do_orm_execute")
def _forget_kept_counts_on_writing(state) -> None:
    if not state.is_select:  # an INSERT, UPDATE or DELETE (or any other statement) run through the session
        _forget_kept_counts()


@cache
def _unread_statement(key: str = "recipient_id"):
    """`unread_count`'s statement, built once with the person as a parameter: building a statement and its cache
    key costs more than SQLite takes to count. On the table's columns (a Core statement): the ORM's handling of a
    statement of mapped attributes costs more than the count itself."""
    table = Notification.__table__
    return select(func.count()).select_from(table).where(
        table.c.recipient_id == bindparam(key, type_=Integer), table.c.read_at.is_(None))


@dataclass
class NotificationPage(paging.Paged):
    rows: list[Notification]
    window: paging.Window
    unread: int
    newest_id: int  # the newest notification when the page was drawn ("mark all as read" goes up to it)


def page_for(user: User, page: int = 1, per_page: int = PER_PAGE) -> NotificationPage:
    """The user's notifications, newest first, one page (paged in SQL): how many there are and the newest in one
    statement, the unread count the request read already (`unread_count`: with the person, or the header's), then
    the page's rows, in order from the index (recipient, created_at, id) (migration h14n2_01)."""
    if user.role == Role.ADMIN:
        settle_restored_files()
    total, newest = db.session.execute(_counts_statement(), {"recipient_id": user.id}).one()
    shown = paging.window(int(total or 0), page, per_page)
    rows = list(db.session.scalars(_page_statement(), {"recipient_id": user.id, "limit": per_page,
                                                       "offset": shown.offset}))
    return NotificationPage(rows, shown, unread_count(user), int(newest or 0))


@cache
def _counts_statement():
    """How many notifications a person has and the newest id, from one index range. (Not the unread ones as well:
    reading `read_at` of each entry costs SQLite more than counting the range, 0.2 ms at 2,200 notifications.)"""
    table = Notification.__table__
    return select(func.count(), func.max(table.c.id)).where(
        table.c.recipient_id == bindparam("recipient_id", type_=Integer))


@cache
def _page_statement():
    return (select(Notification).where(Notification.recipient_id == bindparam("recipient_id", type_=Integer))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))


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


def mark_all_read(user: User, up_to: int) -> int:
    """Mark the user's unread notifications read, up to the id `up_to` (the newest the person's page showed:
    what came after it stays unread); returns how many."""
    result = db.session.execute(update(Notification).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None), Notification.id <= up_to)
        .values(read_at=utcnow()))
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
           path_for("checklist.member", owner_id=member.id, year=year.year), f"user:{member.id}",
           sender=actor.display_name, year=year.year)
    audit.record(actor, "notification.remind", member, branch_id=member.branch_id,
                 after={"member": member.username, "year": year.year})
    db.session.commit()
    return True
