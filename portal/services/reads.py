"""Reads of Core statements (columns, not entities) as plain rows, without the ORM session's work per statement and
per row (issue #14): `Session.execute` of a Core SELECT still sets up an ORM compile state and passes every row
through the ORM's loading, about a tenth of a millisecond a statement of a few hundred rows. The dashboard runs a
dozen such statements a page."""
from __future__ import annotations

from sqlalchemy import CursorResult, Executable

from ..extensions import db


def core_rows(statement: Executable, values: dict | None = None) -> CursorResult:
    """The result of `statement` (a SELECT of columns) with `values`, run on the session's connection, in its
    transaction. The session is flushed first, as its own `execute` would (unless autoflush is off), so the rows
    include what this transaction has added or changed through the ORM."""
    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, values)
