"""Migration i16v_01 on a SQLite database that already holds items: every item is valid from the start, a retired
one (active false) is retired before any year (so every year's figures stay as they were), ids and AUTOINCREMENT
are kept; the downgrade brings the active flag back. On PostgreSQL the upgrade runs in every session's upgrade."""
from __future__ import annotations

import os
import sqlite3

import pytest

from portal.models import RETIRED_BEFORE_ANY_YEAR

from ..migration_helpers import migrate, sqlite_app

NOW = "2012-11-01 08:00:00"


@pytest.fixture(autouse=True)
def _only_sqlite():
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the table rebuild is SQLite's; on PostgreSQL the migration runs in every session's upgrade")


def test_i16v_01_turns_the_active_flag_into_years(tmp_path):
    app, path = sqlite_app(tmp_path)
    migrate(app, "i16b_01")
    con = sqlite3.connect(path)
    con.execute("INSERT INTO framework (id, code, name, name_en, subject, description, version) "
                "VALUES (1, 'five_goods', '五个好', 'Five Goods', 'branch', '', 1)")
    con.execute("INSERT INTO criterion (id, framework_id, code, position, title, title_en, official_text, weight) "
                "VALUES (1, 1, 'leadership', 1, '领导班子好', 'Leadership', '', 1.0)")
    for item_id, active in ((1, 1), (2, 0), (3, 1)):
        con.execute("INSERT INTO item (id, criterion_id, year_id, position, text, weight, active, created_at) "
                    "VALUES (?, 1, NULL, ?, ?, 1.0, ?, ?)", (item_id, item_id, f"条目{item_id}", active, NOW))
    con.execute("DELETE FROM item WHERE id = 3")  # the newest id was used once: it is never given again
    con.commit()
    con.close()
    migrate(app, "i16v_01")
    con = sqlite3.connect(path)
    assert con.execute("SELECT id, valid_from, retired_from FROM item ORDER BY id").fetchall() == [
        (1, None, None), (2, None, RETIRED_BEFORE_ANY_YEAR)]
    assert "active" not in [row[1] for row in con.execute("PRAGMA table_info(item)")]
    assert "AUTOINCREMENT" in con.execute("SELECT sql FROM sqlite_master WHERE name = 'item'").fetchone()[0]
    con.execute("INSERT INTO item (criterion_id, position, text, weight, created_at) VALUES (1, 4, '新', 1.0, ?)",
                (NOW,))
    assert con.execute("SELECT max(id) FROM item").fetchone()[0] == 4
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.commit()
    con.close()
    migrate(app, "i16b_01", down=True)
    con = sqlite3.connect(path)
    assert con.execute("SELECT id, active FROM item ORDER BY id").fetchall() == [(1, 1), (2, 0), (4, 1)]
    con.close()
