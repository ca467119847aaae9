"""What a request wrote: a fingerprint of every table (and of the upload folder), compared before and after.

Cheap on the small worlds of the web tests: one SELECT per table, rows hashed in the test process."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from portal.extensions import db

# Refusals, logins and page views are audited, refusals counted per day and failed sign-ins kept for
# throttling: records of the attempt, not the change.
NOT_A_CHANGE = frozenset({"audit_event", "refusal_tally", "login_failure"})


def fingerprint(exclude: frozenset[str] = NOT_A_CHANGE) -> dict[str, str]:
    """{table name: digest of its rows} for every table not in `exclude`, plus "uploads" (the files under
    UPLOAD_FOLDER with their sizes). The test's own session is committed first so that it sees the latest
    state, and released after (a SQLite read transaction would hold the write lock)."""
    db.session.commit()
    digests = {}
    for table in db.metadata.sorted_tables:
        if table.name in exclude:
            continue
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digests[table.name] = hashlib.sha1(repr([tuple(row) for row in rows]).encode()).hexdigest()
    root = Path(current_app.config["UPLOAD_FOLDER"])
    files = sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file())
    digests["uploads"] = hashlib.sha1(repr(files).encode()).hexdigest()
    db.session.commit()
    return digests


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The tables (and "uploads") whose fingerprint differs."""
    return sorted(name for name in after if before.get(name) != after[name])
