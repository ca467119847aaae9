"""群众评议 (anonymous appraisal) and 分类定级 (grades).

Anonymity is a property of the schema: a ballot's answers carry its branch, rater group and date only. The
ballot tables have random text keys and no SQLite rowid, so neither the key nor the storage order tells when
one was cast relative to another; nothing refers to a code, a user, an address or a time of day."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import enum_column, utcnow


class RaterGroup(enum.StrEnum):
    """Who appraises a branch (群众评议 of the national campaign: teachers, students, parents, the public)."""

    STAFF = "staff"  # 教职工
    MEMBERS = "members"  # 党员
    STUDENTS = "students"  # 学生
    PARENTS = "parents"  # 家长
    COMMUNITY = "community"  # 社区群众


class Level(enum.StrEnum):
    """The appraisal scale 满意 / 比较满意 / 基本满意 / 不满意."""

    SATISFIED = "satisfied"  # 满意
    FAIRLY = "fairly"  # 比较满意
    BASICALLY = "basically"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


LEVELS = list(Level)


class AppraisalRound(db.Model):
    """One appraisal round per campaign year: groups, questions, scale weights, minimum ballots, dates."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), unique=True)
    # Rater groups taking part, comma-separated RaterGroup values in display order.
    groups: Mapped[str] = mapped_column(String(200))
    weight_satisfied: Mapped[int] = mapped_column(default=100)
    weight_fairly: Mapped[int] = mapped_column(default=80)
    weight_basically: Mapped[int] = mapped_column(default=60)
    weight_dissatisfied: Mapped[int] = mapped_column(default=0)
    min_ballots: Mapped[int] = mapped_column(default=10)
    # 民主评议党员: answers about one member are shown from this many on (a branch has few members).
    member_min_answers: Mapped[int] = mapped_column(default=3, server_default="3")
    opens_on: Mapped[date]
    closes_on: Mapped[date]  # the last day ballots are taken (inclusive, portal time zone)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questions: Mapped[list[AppraisalQuestion]] = relationship(
        back_populates="round", order_by="AppraisalQuestion.position", lazy="selectin",
        cascade="all, delete-orphan")

    @property
    def group_list(self) -> list[RaterGroup]:
        return [RaterGroup(value) for value in self.groups.split(",") if value]

    @property
    def weights(self) -> dict[Level, int]:
        return {Level.SATISFIED: self.weight_satisfied, Level.FAIRLY: self.weight_fairly,
                Level.BASICALLY: self.weight_basically, Level.DISSATISFIED: self.weight_dissatisfied}


class AppraisalQuestion(db.Model):
    """One question of a round: a 五个好 criterion (its title copied, so a framework edit leaves the round as
    asked) or, with no criterion, the overall question."""

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_round.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("criterion.id", ondelete="SET NULL"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(200))

    round: Mapped[AppraisalRound] = relationship(back_populates="questions", lazy="raise")

    @property
    def is_overall(self) -> bool:
        return self.criterion_id is None


class AppraisalCode(db.Model):
    """A one-time ballot code, stored only as the SHA-256 of its canonical form. `used` is a flag, never a
    time: the moment of use would link the slip to a ballot."""

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_round.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    rater_group: Mapped[RaterGroup] = mapped_column(enum_column(RaterGroup))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    created_on: Mapped[date]

    __table_args__ = (Index("ix_appraisal_code_round_branch_group", "round_id", "branch_id", "rater_group"),)


class CodeBatch(db.Model):
    """One generation of codes for a branch and rater group, so that its slips can be printed from a GET address
    (and a second click on "generate" makes no second batch: services/intents.py). The codes themselves are not
    stored: they are derived from `secret` and the server's SECRET_KEY (services/appraisal.batch_codes), and
    `secret` is wiped once the batch's printing time is over, after which the sheet cannot be shown again."""

    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_round.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    rater_group: Mapped[RaterGroup] = mapped_column(enum_column(RaterGroup))
    count: Mapped[int]
    secret: Mapped[str | None] = mapped_column(String(64))  # None once the printing time is over
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    printable_until: Mapped[datetime]


class Ballot(db.Model):
    """One cast ballot: branch, rater group and the date (portal time zone). Nothing else."""

    # Results are read per round and branch (a page of the dashboard): without this index every page scanned
    # every ballot of the district. It orders by round, branch and random id: nothing about who or when.
    __table_args__ = (Index("ix_ballot_round_branch", "round_id", "branch_id", "rater_group"),
                      {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not a sequence
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_round.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    rater_group: Mapped[RaterGroup] = mapped_column(enum_column(RaterGroup))
    cast_on: Mapped[date] = mapped_column(Date)


class BallotAnswer(db.Model):
    """One answer of a ballot to one question."""

    __table_args__ = ({"sqlite_with_rowid": False},)

    ballot_id: Mapped[str] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("appraisal_question.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[Level] = mapped_column(enum_column(Level))


class AppraisalTally(db.Model):
    """Kept count of a round's answers per branch, question and level (derived data, issue #14): the dashboard's
    appraisal column and its export read these few rows instead of counting every ballot's answers. Written in
    the ballot's own transaction (services/appraisal.py `cast_ballot`, and the demo's bulk insert); `flask --app
    wsgi rebuild-figures` recomputes it from the answers. It says no more than the answers it counts (branch,
    question, level), and PostgreSQL's remix rewrites it with them (services/ballot_traces.py)."""

    __table_args__ = ({"sqlite_with_rowid": False},)

    # Keyed by round and question first: the dashboard reads one question (the overall one) of every branch.
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_round.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("appraisal_question.id", ondelete="CASCADE"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[Level] = mapped_column(enum_column(Level), primary_key=True)
    answers: Mapped[int] = mapped_column(default=0)


class MemberAppraisalTaking(db.Model):
    """民主评议党员: that a person has taken part in their branch's member appraisal of a round, kept apart
    from the answers, which name only the member appraised."""

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_round.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)

    __table_args__ = (UniqueConstraint("round_id", "user_id"),)


class MemberVerdict(db.Model):
    """One anonymous answer about one member: the member appraised, the level and the date only."""

    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not a sequence
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_round.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    level: Mapped[Level] = mapped_column(enum_column(Level))
    cast_on: Mapped[date] = mapped_column(Date)


class BranchLevel(enum.StrEnum):
    """分类定级 of a branch."""

    ADVANCED = "advanced"  # 先进
    ORDINARY = "ordinary"  # 一般
    LAGGING = "lagging"  # 后进


class MemberLevel(enum.StrEnum):
    """分类定级 of a member (民主评议党员)."""

    EXCELLENT = "excellent"  # 优秀
    QUALIFIED = "qualified"  # 合格
    BASIC = "basic"  # 基本合格
    UNQUALIFIED = "unqualified"  # 不合格


class GradingPolicy(db.Model):
    """The organisation section's weights and thresholds for one year's 分类定级 (scores are 0–100)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), unique=True)
    weight_self: Mapped[int] = mapped_column(default=40)
    weight_review: Mapped[int] = mapped_column(default=30)
    weight_appraisal: Mapped[int] = mapped_column(default=30)
    advanced_min: Mapped[float] = mapped_column(default=85.0)  # composite ≥ this: 先进
    ordinary_min: Mapped[float] = mapped_column(default=60.0)  # composite ≥ this: 一般, below: 后进
    advanced_min_satisfaction: Mapped[float] = mapped_column(default=60.0)  # % ; below: never 先进
    member_excellent_min: Mapped[float] = mapped_column(default=90.0)
    member_qualified_min: Mapped[float] = mapped_column(default=70.0)
    member_basic_min: Mapped[float] = mapped_column(default=50.0)
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class GradeRecord(db.Model):
    """分类定级 of a branch (member_id empty) or a member for a year: the inputs, the system's proposal and
    the confirmed grade, who confirmed it and, when it differs from the proposal, why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    self_score: Mapped[float | None]
    review_score: Mapped[float | None]
    appraisal_score: Mapped[float | None]
    satisfaction: Mapped[float | None]  # %
    composite: Mapped[float | None]
    proposed: Mapped[str] = mapped_column(String(24))  # a BranchLevel or MemberLevel value
    confirmed: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __table_args__ = (
        Index("uq_grade_record_branch_year", "year_id", "branch_id", unique=True,
              sqlite_where=member_id.is_(None), postgresql_where=member_id.is_(None)),
        Index("uq_grade_record_member_year", "year_id", "member_id", unique=True,
              sqlite_where=member_id.isnot(None), postgresql_where=member_id.isnot(None)),
        # The summary of /grades counts these columns alone (services/grading.py; migration h14g_01).
        Index("ix_grade_record_year_state", "year_id", "confirmed", "proposed",
              sqlite_where=member_id.is_(None), postgresql_where=member_id.is_(None)),
    )

    @property
    def grade(self) -> str:
        """The grade in force: the confirmed one, else the proposal."""
        return self.confirmed or self.proposed
