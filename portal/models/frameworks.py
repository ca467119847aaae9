"""Assessment frameworks: 五个好 for branches, 五带头 for members, each criterion → items (indicators)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import enum_column, utcnow


class Subject(enum.StrEnum):
    BRANCH = "branch"  # 先进基层党组织 (五个好)
    MEMBER = "member"  # 优秀共产党员 (五带头)


class Framework(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    subject: Mapped[Subject] = mapped_column(enum_column(Subject), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Raised each time the organisation section confirms a change that reaches a year whose assessments have
    # started (services/frameworks.py); answers keep the wording they were given against either way.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="framework", order_by="Criterion.position", lazy="raise"
    )


class Criterion(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(40))
    title_en: Mapped[str] = mapped_column(String(80), default="")
    official_text: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(default=1.0)
    # Raised by every saved edit: a form carries the version it was loaded with, and a save made against an
    # older one is refused (two tabs, two admins), never a silent overwrite.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    framework: Mapped[Framework] = relationship(back_populates="criteria", lazy="raise")
    items: Mapped[list[Item]] = relationship(
        back_populates="criterion", order_by="Item.position", lazy="raise"
    )


class Item(db.Model):
    """One indicator to tick. year_id set = a theme item that only that campaign year asks for.

    Validity in campaign years (numbers, not ids: years compare by number): an item applies from `valid_from`
    (None: from the start) until the year before `retired_from` (None: still asked). Which items a year's
    checklist holds is decided in one place, services/items.py."""

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    year_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(default=1.0)
    # The first campaign year it is asked in: set when it is added to a framework already in use, so that
    # earlier (finished) years keep their checklists and figures.
    valid_from: Mapped[int | None]
    # The first campaign year it is no longer asked in (RETIRED_BEFORE_ANY_YEAR: asked in none). Checklists
    # that answered it keep it, with their answer.
    retired_from: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Raised by every saved edit (optimistic concurrency, as Criterion.version).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    criterion: Mapped[Criterion] = relationship(back_populates="items", lazy="raise")

    @property
    def active(self) -> bool:
        """Still asked (not retired)."""
        return self.retired_from is None


class KeptItemWeight(db.Model):
    """The weight an item had in a finished campaign year, kept when the weight changes later: a finished year's
    scores and grades stay as they were (services/items.py `weight_in`)."""

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    weight: Mapped[float]


class KeptCriterionName(db.Model):
    """A criterion's name and place in a finished campaign year, kept when they change later: a finished year
    shows the headings it had (services/items.py `criteria_as_in`)."""

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(40))
    title_en: Mapped[str] = mapped_column(String(80), default="")


class KeptItemPosition(db.Model):
    """An item's place among its criterion's items in a finished campaign year, kept before the items are
    reordered later: a finished year's checklists and exports keep their numbering (services/items.py
    `position_in`)."""

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int]


# Item.retired_from of an item retired before any campaign year used it.
RETIRED_BEFORE_ANY_YEAR = 0
