"""What happened to a person's work: in-app notifications, and the e-mails sent from them."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class EmailPreference(enum.StrEnum):
    NONE = "none"  # in the portal only
    IMMEDIATE = "immediate"  # one e-mail per notification, at the next send-reminders run
    DIGEST = "digest"  # one e-mail a day with every unread notification not yet e-mailed (default)


class Notification(db.Model):
    """One event that concerns one person. `event_key` names the event (e.g. "assessment.return:17", the
    workflow event's id): with the recipient it is unique, so a retried request or a second run of the
    reminders never writes the same notification twice. The text is rendered at display time from `kind`
    and `params`, in the reader's language (services/notifications.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(120))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(300), default="")  # path inside the portal, e.g. /checklist/branch/3
    # The record the work is about, as the audit log names it ("assessment:17", "submission:4"): when that work
    # is done, a "waiting" notification about it is resolved (services/notifications.settle).
    object_key: Mapped[str] = mapped_column(String(60), default="", server_default="")
    resolved_at: Mapped[datetime | None]  # the work it asked for was done (it counts as read, and is never mailed)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # UTC
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("recipient_id", "event_key"),
        Index("ix_notification_recipient_read", "recipient_id", "read_at"),
        # A person's list, newest first, read in order (migration h14n2_01).
        Index("ix_notification_recipient_created", "recipient_id", "created_at", "id"),
        # The "file missing" notifications still open, found without reading the others (h14n2_01).
        Index("ix_notification_kind_resolved", "kind", "resolved_at", "object_key"),
        Index("ix_notification_object_key", "object_key"),
    )
