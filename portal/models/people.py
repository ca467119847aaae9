"""Who uses the portal: users, the schools (units) and their Party branches."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .. import collation
from ..extensions import db
from .base import enum_column, utcnow


class Role(enum.StrEnum):
    MEMBER = "member"  # 党员
    SECRETARY = "secretary"  # 支部书记
    EDITOR = "editor"  # 宣传科
    LEADER = "leader"  # 领导小组
    ADMIN = "admin"  # 组织科


class UnitKind(enum.StrEnum):
    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    MIDDLE = "middle"
    VOCATIONAL = "vocational"
    OFFICE = "office"


class BranchKind(enum.StrEnum):
    GENERAL_BRANCH = "general_branch"  # 党总支
    BRANCH = "branch"  # 党支部


def _key_of(column: str, person: bool = False):
    """Column default: the stored pinyin key of the row's `column` (Core inserts, e.g. the demo seed's, too)."""
    def default(context) -> str:
        return collation.stored_key(context.get_current_parameters().get(column), person)
    return default


class Unit(db.Model):
    """A school or office of the district."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind))
    address: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # A school may hold several branches (a 党总支 and its 党支部s); a branch belongs to one unit.
    branches: Mapped[list[Branch]] = relationship(back_populates="unit", lazy="raise")


class Branch(db.Model):
    """A unit's Party organisation (党总支 or 党支部) and its brand (一个支部一个品牌)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # The name's pinyin (collation.stored_key), kept with it: lists ORDER BY (sort_key, name).
    sort_key: Mapped[str] = mapped_column(String(255), default=_key_of("name"), server_default="", index=True)
    kind: Mapped[BranchKind] = mapped_column(enum_column(BranchKind), default=BranchKind.BRANCH)
    member_count: Mapped[int] = mapped_column(default=0)
    brand_name: Mapped[str] = mapped_column(String(120), default="")
    brand_slogan: Mapped[str] = mapped_column(String(200), default="")
    brand_description: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock for edits: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Indexed with the order (ix_branch_active_order, migration h14o_01): the home pages count the active branches
    # in the index alone, and the branch pickers read them a page at a time in pinyin order.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="branches", lazy="joined")

    __table_args__ = (Index("ix_branch_active_order", "active", "sort_key", "name"),)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    # The name's pinyin (collation.stored_key), kept with it: lists ORDER BY (sort_key, display_name).
    sort_key: Mapped[str] = mapped_column(String(255), default=_key_of("display_name", person=True), server_default="",
                                          index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Indexed: the leaders' review queue and the secretaries' lists reach the district's ~2,000 secretaries among
    # its ~80,000 people from the role (issue #14).
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.MEMBER, index=True)
    branch_id: Mapped[int | None] = mapped_column(
        ForeignKey("branch.id", ondelete="SET NULL"), index=True
    )
    post_title: Mapped[str] = mapped_column(String(64), default="")  # 职务, e.g. 语文教师
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    # Bumped on logout-everywhere, password change and disabling: old sessions stop matching.
    session_version: Mapped[int] = mapped_column(default=1)
    # A password someone else chose (the organisation section, a roster import) is replaced at first login.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Optimistic lock for edits: a save made on an older version is a conflict (services/versions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # E-mail for notifications (optional) and how they are sent: none, immediate, or a daily digest.
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    email_preference: Mapped[str] = mapped_column(String(16), default="digest", server_default="digest")
    last_digest_at: Mapped[datetime | None]  # UTC; at most one digest per local day
    # A one-time activation code (services/activation.py), stored as its SHA-256: the code is random enough that a
    # fast hash protects it; its owner sets their own password with it. NULL once used.
    activation_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    activation_expires_at: Mapped[datetime | None]  # UTC
    # The roster import that made the account; until that import is finished the account stays disabled.
    roster_import_id: Mapped[int | None] = mapped_column(index=True)  # no foreign key: provenance only

    branch: Mapped[Branch | None] = relationship(lazy="joined")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def get_id(self) -> str:
        # The session remembers id and version together; a bumped version ends every session.
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


@event.listens_for(Branch.name, "set")
def _branch_renamed(target: Branch, value, _old, _initiator) -> None:
    target.sort_key = collation.stored_key(value)


@event.listens_for(User.display_name, "set")
def _user_renamed(target: User, value, _old, _initiator) -> None:
    target.sort_key = collation.stored_key(value, person=True)
