"""Running the campaign: pledges, submission requests, brand projects, supervision, progress snapshots."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import enum_column, utcnow


class PledgeStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # waiting for approval
    RETURNED = "returned"
    APPROVED = "approved"  # published on the branch page


pledge_item = Table(
    "pledge_item",
    db.metadata,
    Column("pledge_id", ForeignKey("pledge.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("item.id", ondelete="CASCADE"), primary_key=True),
)


class Pledge(db.Model):
    """公开承诺 of a branch (member_id empty) or of one member."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[PledgeStatus] = mapped_column(enum_column(PledgeStatus), default=PledgeStatus.DRAFT)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    # 评诺: the review of how the pledge was kept.
    fulfilment_rating: Mapped[str] = mapped_column(String(24), default="")
    fulfilment_comment: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock for edits: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # A member's own pledges of a year (home page, checklist), and the pledges waiting for approval, longest
        # waiting first (the secretaries' and admins' work queues): neither reads the district's pledges (#14).
        Index("ix_pledge_member_year", "member_id", "year_id"),
        Index("ix_pledge_year_status", "year_id", "status", "updated_at"),
        # A branch's pledges of a year by status, the latest change first (the branch page's approved pledges; the
        # branch's own pages of the pledges page): without it SQLite read the whole year's pledges of the district
        # in that state through ix_pledge_year_status (migrations h14b_01, h14l_01).
        Index("ix_pledge_branch_year", "branch_id", "year_id", "status", "updated_at"),
    )


class PledgeEntry(db.Model):
    """践诺: one entry of the fulfilment log."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    happened_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestKind(enum.StrEnum):
    PLAN = "plan"  # 领导小组名单和实施方案
    GENERAL = "general"


class SubmissionRequest(db.Model):
    """报送: what the organisation section asks branches to hand in, by a deadline."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind), default=RequestKind.GENERAL)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubmissionStatus(enum.StrEnum):
    PENDING = "pending"  # not submitted yet
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


class Submission(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("submission_request.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    status: Mapped[SubmissionStatus] = mapped_column(
        enum_column(SubmissionStatus), default=SubmissionStatus.PENDING
    )
    note: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock for edits: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    document_name: Mapped[str] = mapped_column(String(255), default="")
    document_stored: Mapped[str] = mapped_column(String(80), default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    is_late: Mapped[bool] = mapped_column(default=False)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("request_id", "branch_id"),
        # The queues of submissions waiting for a decision, oldest first (services/workqueue; migration h14q_01).
        Index("ix_submission_status_submitted", "status", "submitted_at", "id"),
        # A request's grid counts its submissions by these columns alone (services/submissions.py; migration h14g_01).
        Index("ix_submission_request_state", "request_id", "status", "is_late"),
    )


class GroupRole(enum.StrEnum):
    LEADER = "leader"  # 组长
    DEPUTY = "deputy"  # 副组长
    MEMBER = "member"  # 成员


class LeadingGroupMember(db.Model):
    """领导小组: one person of a branch's leading group, as submitted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    group_role: Mapped[GroupRole] = mapped_column(enum_column(GroupRole))
    name: Mapped[str] = mapped_column(String(64))
    post_title: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[int] = mapped_column(default=0)


class Project(db.Model):
    """项目引领: a branch's brand project with measurable targets."""

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock for edits: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Milestone(db.Model):
    """目标管理: one measurable target of a project, due by a date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str] = mapped_column(String(200), default="")
    due_on: Mapped[date]
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None]
    evidence: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock for edits: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class InspectionKind(enum.StrEnum):
    FORUM = "forum"  # 座谈会
    INSPECTION = "inspection"  # 定期督察
    RESEARCH_VISIT = "research_visit"  # 一日调研


inspection_branch = Table(
    "inspection_branch",
    db.metadata,
    Column("inspection_id", ForeignKey("inspection.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True),
)


class Inspection(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    kind: Mapped[InspectionKind] = mapped_column(enum_column(InspectionKind))
    held_on: Mapped[date]
    title: Mapped[str] = mapped_column(String(200))
    findings: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock for edits: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class FollowUp(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), index=True
    )
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date]
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus), default=FollowUpStatus.OPEN
    )
    done_at: Mapped[datetime | None]
    # The branch's answer: what it did about the follow-up (its secretary writes it).
    response: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime | None]
    # Optimistic lock for edits: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class ProgressSnapshot(db.Model):
    """A branch's checklist progress and score on one day, so the dashboard can show movement."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    day: Mapped[date]
    progress: Mapped[float]
    score: Mapped[float | None]

    __table_args__ = (UniqueConstraint("year_id", "branch_id", "day"),)
