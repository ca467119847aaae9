"""A roster import (花名册导入) run in the background: what was previewed, how far it has got, what it did."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import enum_column, utcnow


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RosterImport(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # The checked rows, kept server-side under this random name until the import has run (services/roster.py).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus), default=ImportStatus.QUEUED)
    disable_leavers: Mapped[bool] = mapped_column(default=False)
    # What the admin saw in the preview; the task refuses to run a different set of changes.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        return 100 if self.status == ImportStatus.DONE else (100 * self.done // self.total if self.total else 0)

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)


class SlipBatch(db.Model):
    """One printing of activation slips (a branch of an import, its people without a branch, all of them, or one
    account), so that the sheet is shown from a GET address (POST-redirect-GET: a reload or the back button
    shows the same codes and never issues new ones). The codes are not stored: each is derived from `secret`, the
    server's SECRET_KEY and the account (services/activation.py), and `secret` is wiped once the printing time is
    over, after which the sheet cannot be shown again."""

    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("roster_import.id", ondelete="SET NULL"))
    user_ids: Mapped[list[int]] = mapped_column(JSON)
    secret: Mapped[str | None] = mapped_column(String(64))  # None once the printing time is over
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    printable_until: Mapped[datetime]
