"""Migration h14x_01 (kept appraisal counts) on a SQLite district that already has ballots: the upgrade counts them
(the same rows the portal keeps), the downgrade drops the table. On PostgreSQL the upgrade runs in every session's
upgrade."""
from __future__ import annotations

import os
import sqlite3

import pytest

from portal.extensions import db
from portal.services import appraisal, demo

from ..migration_helpers import migrate, sqlite_app

COUNTS = "SELECT round_id, question_id, branch_id, level, answers FROM appraisal_tally ORDER BY 1, 2, 3, 4"


@pytest.fixture(autouse=True)
def _only_sqlite():
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("a file of its own; on PostgreSQL the migration runs in every session's upgrade")


def test_h14x_01_counts_the_ballots_already_cast(tmp_path):
    app, path = sqlite_app(tmp_path)
    migrate(app, "heads")  # the seed writes what the later migrations add (h14k_01's district totals)
    with app.app_context():
        demo.seed(branches=4, members_per_branch=2)  # ballots of three rounds, their counts kept by the seed
        assert appraisal.tally_differences() == []
        db.engine.dispose()
    con = sqlite3.connect(path)
    kept = con.execute(COUNTS).fetchall()
    con.close()
    assert kept
    migrate(app, "h14d_01", down=True)
    con = sqlite3.connect(path)
    assert "appraisal_tally" not in {row[0] for row in con.execute("SELECT name FROM sqlite_master")}
    con.close()
    migrate(app, "h14x_01")
    con = sqlite3.connect(path)
    assert con.execute(COUNTS).fetchall() == kept
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()
