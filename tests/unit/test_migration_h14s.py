"""Migration h14s_01 (the summaries' search text and grade, kept for the overview's name search and grade filter)
on a seeded SQLite district: the upgrade fills both from the branches and grade records as a recomputation does,
the triggers on grade_record move the grade, the downgrade drops the columns, indexes and triggers (the summaries'
other triggers stay) and a second upgrade brings them back. On PostgreSQL the upgrade runs in every session's
upgrade and the kept-figures tests use its trigger."""
from __future__ import annotations

import os
import sqlite3

import pytest

from ..migration_helpers import migrate, seeded_sqlite_app

_H14S_NAMES = ("summary_grade_insert", "summary_grade_update", "summary_grade_delete", "ix_branch_summary_search",
               "ix_branch_summary_grade_order")


@pytest.fixture(autouse=True)
def _only_sqlite():
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("a file of its own; on PostgreSQL the migration runs in every session's upgrade")


def _kept(con) -> list[tuple]:
    return con.execute("SELECT year_id, branch_id, search_text, grade FROM branch_summary "
                       "ORDER BY year_id, branch_id").fetchall()


def _h14s_objects(con) -> set[str]:
    return {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE name IN (?, ?, ?, ?, ?)",
                                            _H14S_NAMES)}


def _other_triggers(con) -> int:
    return con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'branch_summary'"
                       ).fetchone()[0]


def test_h14s_01_fills_and_keeps_the_search_text_and_grade(tmp_path):
    app, path = seeded_sqlite_app(tmp_path)
    con = sqlite3.connect(path)
    seeded = _kept(con)  # as the seed's recomputation of the summaries wrote them
    assert {grade for *_, grade in seeded} - {None} and all("\n" in text for _y, _b, text, _g in seeded)
    summary_triggers = _other_triggers(con)
    con.close()

    migrate(app, "h14ap_01", down=True)
    con = sqlite3.connect(path)
    assert _h14s_objects(con) == set() and _other_triggers(con) == summary_triggers
    assert "grade" not in {row[1] for row in con.execute("PRAGMA table_info(branch_summary)")}
    con.close()

    migrate(app, "heads")  # filled again by the upgrade's own statement
    con = sqlite3.connect(path)
    assert _h14s_objects(con) == set(_H14S_NAMES) and _kept(con) == seeded
    year_id, branch_id = con.execute("SELECT year_id, branch_id FROM grade_record WHERE member_id IS NULL "
                                     "ORDER BY id LIMIT 1").fetchone()
    con.execute("UPDATE grade_record SET confirmed = 'lagging' WHERE year_id = ? AND branch_id = ? "
                "AND member_id IS NULL", (year_id, branch_id))
    grade = "SELECT grade FROM branch_summary WHERE year_id = ? AND branch_id = ?"
    assert con.execute(grade, (year_id, branch_id)).fetchone() == ("lagging",)
    con.execute("DELETE FROM grade_record WHERE year_id = ? AND branch_id = ? AND member_id IS NULL",
                (year_id, branch_id))
    assert con.execute(grade, (year_id, branch_id)).fetchone() == (None,)
    con.rollback()
    con.close()
