"""Writing audit events. Every service that changes a record calls `record` before its commit."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from flask import has_request_context, request
from sqlalchemy import and_, insert

from ..extensions import db
from ..models import AuditEvent
from . import notifications
from .bulk import insert_dicts


def _ip() -> str:
    if not has_request_context():
        return ""
    return (request.remote_addr or "")[:64]


COMMAND_LINE = "@command-line"  # actor_name of changes made by a `flask --app wsgi …` command (no account)


class CommandLine:
    """The actor of a change made from the command line: no account, shown as "command line" in the audit log."""

    id = None
    username = COMMAND_LINE
    is_authenticated = False


def _row(actor, action: str, object_type: str, object_id, branch_id, before, after, at, ip: str | None = None) -> dict:
    actor_id = getattr(actor, "id", None) if actor is not None else None
    row = {"actor_id": actor_id if getattr(actor, "is_authenticated", True) else None,
           "actor_name": getattr(actor, "username", "") or "", "action": action, "object_type": object_type,
           "object_id": object_id, "branch_id": branch_id, "before": before, "after": after,
           "ip": _ip() if ip is None else ip}
    if at is not None:  # when it happened, if not now (the demo's history)
        row["at"] = at
    return row


def _object_row(actor, action: str, obj, before, after, branch_id, at=None) -> dict:
    """`_row` of a change to `obj` (any model object, or None): its type and id, and its branch unless given."""
    if branch_id is None and obj is not None:
        branch_id = getattr(obj, "branch_id", None)
    return _row(actor, action, type(obj).__name__.lower() if obj is not None else "",
                getattr(obj, "id", None) if obj is not None else None, branch_id, before, after, at)


def record(
    actor,
    action: str,
    obj: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    branch_id: int | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits). `at`: when it happened, if not now."""
    event = AuditEvent(**_object_row(actor, action, obj, before, after, branch_id, at))
    db.session.add(event)
    # The work some "waiting for you" notifications asked for may be done now: resolve them (one place).
    notifications.settle(action, obj)
    return event


@cache
def _insert_statement():
    """One audit event's INSERT, built once (`record_now`)."""
    return insert(AuditEvent.__table__)


def record_now(actor, action: str, obj: Any = None, *, before: dict | None = None, after: dict | None = None,
               branch_id: int | None = None) -> None:
    """As `record`, for a change that writes its own rows with Core statements (a checklist tick): the event is
    inserted at once in the current transaction (the caller commits) by one INSERT built once, instead of an ORM
    object flushed at the commit (that unit of work, with the assessment's time, cost ~0.4 ms of a tick's ~4).
    The same row (its time `at` from the column's default); nothing is returned (no event object)."""
    db.session.connection().execute(_insert_statement(), _object_row(actor, action, obj, before, after, branch_id))
    notifications.settle(action, obj)


@dataclass
class Past:
    """An event that happened before it is recorded (the demo's history): the object by its type and id."""

    actor: Any
    action: str
    object_type: str
    object_id: int | None
    branch_id: int | None
    at: datetime
    before: dict | None = None
    after: dict | None = None


def record_history(events: Iterable[Past]) -> int:
    """Add many past events at their own times, 5,000 rows a driver call (the caller commits). Their notifications, if
    any, are written already settled by whoever writes the history (services/demo.py), so none is settled here."""
    ip = _ip()
    rows = [_row(e.actor, e.action, e.object_type, e.object_id, e.branch_id, e.before, e.after, e.at, ip)
            for e in events]
    insert_dicts(AuditEvent.__table__, rows)
    return len(rows)


def changes_work():
    """SQL condition on AuditEvent: the event changed the work (not a sign-in or sign-out, an
    expired session or a refused request)."""
    return and_(AuditEvent.action.not_like("auth.%"), AuditEvent.action.not_like("access.%"))
