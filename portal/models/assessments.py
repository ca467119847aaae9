"""Self-assessments (one per branch or member per year) and their item results, evidence and history."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import enum_column, utcnow
from .frameworks import Subject


class Result(enum.StrEnum):
    NOT_ASSESSED = "not_assessed"  # 未评
    MET = "met"  # 达标
    PARTLY = "partly"  # 基本达标
    NOT_MET = "not_met"  # 未达标
    NOT_APPLICABLE = "na"  # 不适用


# Score weight of each result; n/a and not assessed are left out of the score's denominator.
RESULT_SCORE = {Result.MET: 1.0, Result.PARTLY: 0.5, Result.NOT_MET: 0.0}


class AssessmentStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    REVIEWED = "reviewed"


class Assessment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id", ondelete="RESTRICT"))
    subject: Mapped[Subject] = mapped_column(enum_column(Subject))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    status: Mapped[AssessmentStatus] = mapped_column(
        enum_column(AssessmentStatus), default=AssessmentStatus.DRAFT
    )
    return_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # One branch assessment per branch and year; one member assessment per member and year.
        Index(
            "uq_assessment_branch_year", "year_id", "branch_id", unique=True,
            sqlite_where=member_id.is_(None), postgresql_where=member_id.is_(None),
        ),
        Index(
            "uq_assessment_member_year", "year_id", "member_id", unique=True,
            sqlite_where=member_id.isnot(None), postgresql_where=member_id.isnot(None),
        ),
        Index("ix_assessment_year_subject", "year_id", "subject"),
        # The home pages' count of the year's branch checklists handed in, and the leaders' review queue's branch part
        # in order, read in the index alone (migration h14h_01).
        Index("ix_assessment_year_subject_status", "year_id", "subject", "status", "submitted_at"),
    )

    @property
    def is_locked(self) -> bool:
        return self.status in (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED)


class ItemResult(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="RESTRICT"), index=True)
    result: Mapped[Result] = mapped_column(enum_column(Result), default=Result.NOT_ASSESSED)
    note: Mapped[str] = mapped_column(Text, default="")
    # The wording the answer was given to; a later framework edit leaves it as it was.
    item_text: Mapped[str] = mapped_column(Text)
    # Optimistic lock for the note: an edit made against an older version is a conflict.
    note_version: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("assessment_id", "item_id"),)


class Evidence(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    item_result_id: Mapped[int] = mapped_column(
        ForeignKey("item_result.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssessmentEvent(db.Model):
    """The visible workflow history of one assessment (submitted, returned, reviewed, reopened)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor = relationship("User", lazy="raise")


class ReviewRating(enum.StrEnum):
    GOOD = "good"  # 好
    FAIRLY_GOOD = "fairly_good"  # 较好
    AVERAGE = "average"  # 一般
    POOR = "poor"  # 差


class Review(db.Model):
    """领导点评: a leader on a branch, or a secretary on a member."""

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    rating: Mapped[ReviewRating] = mapped_column(enum_column(ReviewRating))
    comment: Mapped[str] = mapped_column(Text)
    improvements: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="raise")


class AssessmentTally(db.Model):
    """The figures of one assessment on one criterion, kept up to date in the transaction of every change
    to its answers (services/tallies.py), so that pages read them instead of aggregating item results.
    Derived data: `flask --app wsgi rebuild-figures` recomputes every row from the item results."""

    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True)
    total: Mapped[int] = mapped_column(default=0)  # applicable items (n/a included)
    met: Mapped[int] = mapped_column(default=0)
    partly: Mapped[int] = mapped_column(default=0)
    not_met: Mapped[int] = mapped_column(default=0)
    na: Mapped[int] = mapped_column(default=0)
    weight_scored: Mapped[float] = mapped_column(default=0.0)
    weight_earned: Mapped[float] = mapped_column(default=0.0)
    last_answer_at: Mapped[datetime | None]  # the newest item result's updated_at (UTC)
    # Progress and score on the criterion (services/figures.py progress_of and score_of, rounded to 0.1), stored
    # so that the district's criterion averages are sums of columns rather than a computation per row.
    progress: Mapped[float] = mapped_column(default=0.0, server_default="0")
    score: Mapped[float | None]
