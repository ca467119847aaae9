"""Migration h14t_01 (the summaries' last activity moved by a trigger on audit events) on a seeded SQLite district:
after the upgrade an event of a branch moves its summaries' last activity in every year, a sign-in does not, the
downgrade drops the trigger and a second upgrade brings it back. On PostgreSQL the upgrade runs in every session's
upgrade and the kept-figures tests use its trigger."""
from __future__ import annotations

import os
import sqlite3

import pytest

from ..migration_helpers import migrate, seeded_sqlite_app

LATER = "2999-01-01 00:00:00.000000"


@pytest.fixture(autouse=True)
def _only_sqlite():
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("a file of its own; on PostgreSQL the migration runs in every session's upgrade")


def _event(con, action: str, at: str) -> None:
    con.execute("INSERT INTO audit_event (actor_name, action, object_type, branch_id, at, ip) "
                "VALUES ('admin', ?, 'branch', 1, ?, '')", (action, at))
    con.commit()


def _activity(con) -> set:
    return {at for (at,) in con.execute("SELECT last_activity FROM branch_summary WHERE branch_id = 1")}


def test_h14t_01_keeps_the_last_activity_by_trigger(tmp_path):
    app, path = seeded_sqlite_app(tmp_path)
    con = sqlite3.connect(path)
    before = _activity(con)
    assert len(con.execute("SELECT 1 FROM branch_summary WHERE branch_id = 1").fetchall()) == 3
    _event(con, "auth.login", LATER)
    assert _activity(con) == before
    _event(con, "branch.noted", LATER)
    assert _activity(con) == {LATER}
    con.execute("UPDATE branch_summary SET last_activity = NULL")
    con.commit()
    con.close()
    migrate(app, "h14q_01", down=True)
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'summary_follow_audit'").fetchone() == (0,)
    _event(con, "branch.noted", LATER)
    assert _activity(con) == {None}
    con.close()
    migrate(app, "h14t_01")
    con = sqlite3.connect(path)
    _event(con, "branch.noted", "2999-02-01 00:00:00.000000")
    assert _activity(con) == {"2999-02-01 00:00:00.000000"}
    con.close()
