"""The campaign's calendar: years with themes, and the phases of each year."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import enum_column, utcnow


class PhaseKind(enum.StrEnum):
    MOBILISE = "mobilise"  # 部署动员
    PLEDGE = "pledge"  # 公开承诺
    REVIEW = "review"  # 领导点评
    APPRAISAL = "appraisal"  # 群众评议
    COMMEND = "commend"  # 评选表彰


PHASE_ORDER = list(PhaseKind)


class CampaignYear(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    theme: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock for the year form: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Which year is current is an admin setting, not the calendar's; at most one row is current.
    is_current: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    phases: Mapped[list[Phase]] = relationship(
        back_populates="year", order_by="Phase.position", lazy="selectin",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        Index(
            "uq_campaign_year_one_current", "is_current", unique=True,
            sqlite_where=text("is_current = 1"), postgresql_where=text("is_current"),
        ),
    )

    def phase_on(self, day: date) -> Phase | None:
        for phase in self.phases:
            if phase.starts_on <= day <= phase.ends_on:
                return phase
        return None


class Phase(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    kind: Mapped[PhaseKind] = mapped_column(enum_column(PhaseKind))
    position: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    year: Mapped[CampaignYear] = relationship(back_populates="phases", lazy="raise")

    __table_args__ = (UniqueConstraint("year_id", "kind"),)
