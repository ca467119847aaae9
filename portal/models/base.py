"""Small column helpers shared by the model modules."""
from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum


def utcnow() -> datetime:
    """Naive UTC timestamp: stored the same way on SQLite and PostgreSQL, shown in local time."""
    return datetime.now(UTC).replace(tzinfo=None)


def enum_column(enum_cls: type[enum.Enum]) -> Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, storing the member's value."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=24,
        name=enum_cls.__name__.lower(),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
