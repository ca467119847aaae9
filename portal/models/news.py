"""The news board (树立先进典型) and the commendation pipeline (评选表彰)."""
from __future__ import annotations

import enum
import unicodedata
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import enum_column, utcnow


class PostCategory(enum.StrEnum):
    BRANCH_EXEMPLAR = "branch_exemplar"  # 先进基层党组织风采
    MEMBER_EXEMPLAR = "member_exemplar"  # 优秀共产党员事迹
    EXPERIENCE = "experience"  # 经验交流
    BULLETIN = "bulletin"  # 活动通报


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    RETURNED = "returned"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


post_criterion = Table(
    "post_criterion",
    db.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("criterion_id", ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True),
)


def search_form(text: str | None) -> str:
    """Text as the search index holds it: NFKC, so that full-width and half-width forms (２０１２ and
    2012, 第３次 and 第3次, ｐｄｆ and pdf) are the same text. Queries go through the same function."""
    return unicodedata.normalize("NFKC", text or "")


def search_document(title: str | None, summary: str | None, body_md: str | None) -> str:
    return search_form(" ".join((title or "", summary or "", body_md or "")))


def _search_default(context) -> str:
    """Column default for inserts, ORM and Core alike (the demo data inserts rows in bulk)."""
    values = context.get_current_parameters()
    return search_document(values.get("title"), values.get("summary"), values.get("body_md"))


class Post(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[PostCategory] = mapped_column(enum_column(PostCategory))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised on save
    cover_stored: Mapped[str] = mapped_column(String(80), default="")
    cover_thumb_stored: Mapped[str] = mapped_column(String(80), default="")
    year_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_year.id", ondelete="SET NULL"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="SET NULL"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    status: Mapped[PostStatus] = mapped_column(enum_column(PostStatus), default=PostStatus.DRAFT)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    pinned: Mapped[bool] = mapped_column(default=False)
    featured: Mapped[bool] = mapped_column(default=False)
    publish_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    read_count: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock for edits
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # What search matches against (see search_document); kept in step with the three texts below.
    search_text: Mapped[str] = mapped_column(Text, default=_search_default)

    __table_args__ = (
        Index("ix_post_status_published", "status", "published_at"),
        # The board's order within a state (services/news._first_live; migration h14n_01).
        Index("ix_post_live_order", "status", "pinned", "published_at", "id"),
    )


@event.listens_for(Post, "before_update")
def _refresh_search_text(mapper, connection, post: Post) -> None:
    post.search_text = search_document(post.title, post.summary, post.body_md)


class PostRead(db.Model):
    """Who has read a post: a person's repeated reads count once in `Post.read_count`."""

    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostImage(db.Model):
    """An image put into a post's text with the rich-text editor (stored under uploads/inline); the text names
    it by its address, this row names the file for backups and `clean-uploads`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostVersion(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("post_id", "version"),)


class NominationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    SHORTLISTED = "shortlisted"
    NOTICE = "notice"  # 公示
    COMMENDED = "commended"
    REJECTED = "rejected"


class CommendationLevel(enum.StrEnum):
    DISTRICT = "district"  # 区级
    SYSTEM = "system"  # 系统级
    SCHOOL = "school"  # 校级


class Nomination(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    deeds: Mapped[str] = mapped_column(Text)  # 事迹材料
    status: Mapped[NominationStatus] = mapped_column(
        enum_column(NominationStatus), default=NominationStatus.SUBMITTED
    )
    level: Mapped[CommendationLevel | None] = mapped_column(enum_column(CommendationLevel))
    notice_starts_at: Mapped[datetime | None]
    notice_ends_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Optimistic lock: every change (a decision, an objection) moves it on; decisions carry the version
    # their page showed (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class Attachment(db.Model):
    """A file attached to a nomination's 事迹材料."""

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nomination.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Objection(db.Model):
    """An objection raised during a nomination's 公示; leaders only may read it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nomination.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
