"""Optimistic locking for records two people may edit: a stale save is a Conflict carrying the saved text."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from ..errors import Conflict
from ..extensions import db


def check_version(record, submitted: int | None, shown: tuple[str, ...] = ()) -> None:
    """Claim the next version of `record` for the edit being saved, made on top of version `submitted`.

    The claim is one guarded UPDATE (`… WHERE version = submitted`), so of two simultaneous saves only one
    wins, on SQLite and PostgreSQL alike. `submitted` None (a client that did not load the form, e.g. a
    script) skips the comparison but still bumps the version.

    Raises Conflict (409) when someone saved meanwhile; its `current` is {attribute: saved value} for the
    attributes named in `shown` plus "version", for the page to show beside the person's own text.
    """
    model = type(record)
    expected = record.version if submitted is None else submitted
    claimed = db.session.execute(
        update(model).where(model.id == record.id, model.version == expected).values(version=expected + 1)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(record)
        current = {name: getattr(record, name) for name in shown}
        current["version"] = record.version
        raise Conflict(str(_l("Someone else saved this meanwhile. Their text is shown beside yours; compare "
                              "them and save again.")), current=current)
    record.version = expected + 1
