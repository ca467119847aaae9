"""Writing audit events. Every service that changes a record calls `record` before its commit."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import and_

from ..extensions import db
from ..models import AuditEvent
from . import notifications


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


def record(
    actor,
    action: str,
    obj: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    branch_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    actor_id = getattr(actor, "id", None) if actor is not None else None
    if branch_id is None and obj is not None:
        branch_id = getattr(obj, "branch_id", None)
    event = AuditEvent(
        actor_id=actor_id if getattr(actor, "is_authenticated", True) else None,
        actor_name=getattr(actor, "username", "") or "",
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=getattr(obj, "id", None) if obj is not None else None,
        branch_id=branch_id,
        before=before,
        after=after,
        ip=_ip(),
    )
    db.session.add(event)
    # The work some "waiting for you" notifications asked for may be done now: resolve them (one place).
    notifications.settle(action, obj)
    return event


def changes_work():
    """SQL condition on AuditEvent: the event changed the work (not a sign-in or sign-out, an
    expired session or a refused request)."""
    return and_(AuditEvent.action.not_like("auth.%"), AuditEvent.action.not_like("access.%"))
