"""What the portal keeps to defend itself: failed sign-ins (for throttling) and tallies of refused requests."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class LoginFailure(db.Model):
    """One failed sign-in, counted twice: under the account's name and under the client address.

    Kept only for the throttling window (services/throttle.py prunes older rows); successful sign-ins
    are never recorded here, so a busy school behind one proxy is not locked out by its own staff."""

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # "account" | "address"
    key: Mapped[str] = mapped_column(String(128))  # normalised username, or client address
    at: Mapped[datetime] = mapped_column(default=utcnow)  # UTC

    __table_args__ = (Index("ix_login_failure_scope_key_at", "scope", "key", "at"),)


class RefusalTally(db.Model):
    """How many requests were refused (403) or throttled (429) per day: counted, not each audited,
    so that an anonymous flood cannot fill the audit log. Repeated requests for one missing stored file
    are counted here too ("missing:<digest of its name>"), audited only the first time each day."""

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # UTC date
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)  # "access.denied", "missing:<digest>", …
    count: Mapped[int] = mapped_column(default=0)
