"""Migration f16_01 on a SQLite database that already holds items: items and criteria get version 1, the kept
weights and names start empty (every year reads the current values, as before); the downgrade keeps item ids and
AUTOINCREMENT. On PostgreSQL the upgrade runs in every session's upgrade."""
from __future__ import annotations

import os
import sqlite3

import pytest

from ..migration_helpers import migrate, sqlite_app

NOW = "2012-11-01 08:00:00"


@pytest.fixture(autouse=True)
def _only_sqlite():
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the table rebuild is SQLite's; on PostgreSQL the migration runs in every session's upgrade")


def test_f16_01_adds_versions_and_empty_kept_tables_and_goes_back(tmp_path):
    app, path = sqlite_app(tmp_path)
    migrate(app, "c16_01")
    con = sqlite3.connect(path)
    con.execute("INSERT INTO framework (id, code, name, name_en, subject, description, version) "
                "VALUES (1, 'five_goods', '五个好', 'Five Goods', 'branch', '', 1)")
    con.execute("INSERT INTO criterion (id, framework_id, code, position, title, title_en, official_text, weight) "
                "VALUES (1, 1, 'leadership', 1, '领导班子好', 'Leadership', '', 1.0)")
    for item_id in (1, 2, 3):
        con.execute("INSERT INTO item (id, criterion_id, year_id, position, text, weight, created_at) "
                    "VALUES (?, 1, NULL, ?, ?, 1.0, ?)", (item_id, item_id, f"条目{item_id}", NOW))
    con.commit()
    con.close()
    migrate(app, "f16_01")
    con = sqlite3.connect(path)
    assert con.execute("SELECT id, version FROM item ORDER BY id").fetchall() == [(1, 1), (2, 1), (3, 1)]
    assert con.execute("SELECT version FROM criterion").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM kept_item_weight").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM kept_criterion_name").fetchone()[0] == 0
    con.execute("DELETE FROM item WHERE id = 3")  # the newest id was used once: it is never given again
    con.commit()
    con.close()
    migrate(app, "c16_01", down=True)
    con = sqlite3.connect(path)
    assert "version" not in [row[1] for row in con.execute("PRAGMA table_info(item)")]
    assert "AUTOINCREMENT" in con.execute("SELECT sql FROM sqlite_master WHERE name = 'item'").fetchone()[0]
    con.execute("INSERT INTO item (criterion_id, position, text, weight, created_at) VALUES (1, 4, '新', 1.0, ?)",
                (NOW,))
    assert con.execute("SELECT max(id) FROM item").fetchone()[0] == 4
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()
