"""Official documents: the 通报 (bulletin) that the committee circulates on the campaign's progress."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import enum_column, utcnow


class BulletinStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"


class Bulletin(db.Model):
    """A 通报: sections of text, drafted from the dashboard's figures and issued with a 发文字号.

    While a draft, everything may change; issuing assigns `number` (the next of `number_year`, unique with
    it), freezes `figures` as they were and publishes it on the news board (`post_id`). An issued bulletin
    never changes: a correction is a new bulletin whose `corrects_id` names it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="RESTRICT"), index=True)
    status: Mapped[BulletinStatus] = mapped_column(enum_column(BulletinStatus), default=BulletinStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    sections: Mapped[list] = mapped_column(JSON, default=list)  # [{"heading": str, "body": str}, ...]
    copy_to: Mapped[str] = mapped_column(String(300), default="")  # 抄送
    prefix: Mapped[str] = mapped_column(String(40), default="")  # the 发文字号's organ prefix, kept at issue
    number_year: Mapped[int | None]  # 〔2012〕: the calendar year of issue (offices number by it), not the campaign's
    number: Mapped[int | None]  # N号, per number_year, from 1
    figures: Mapped[dict | None] = mapped_column(JSON)  # frozen at issue
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    issuer: Mapped[str] = mapped_column(String(120), default="")  # 发文机关署名, kept at issue
    issued_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock for edits
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("number_year", "number", name="uq_bulletin_number_year_number"),)

    @property
    def is_issued(self) -> bool:
        return self.status == BulletinStatus.ISSUED

    @property
    def document_number(self) -> str:
        """The 发文字号, e.g. "沪卢教党〔2012〕3号"; empty while a draft."""
        if self.number is None:
            return ""
        return f"{self.prefix}〔{self.number_year}〕{self.number}号"
