"""Migration i12h_01 on a SQLite database that already holds rows: nothing is lost (the tables are rebuilt
with foreign keys off, so no ON DELETE action runs), ids are kept, the search text is filled and indexed,
and the rebuilt tables never reuse an id. On PostgreSQL the rebuild is a no-op (covered by every
session's upgrade)."""
from __future__ import annotations

import sqlite3

import pytest

from portal.models import AUTOINCREMENT_TABLES

from ..migration_helpers import migrate, sqlite_app

NOW = "2012-11-01 08:00:00"


def _framework(con: sqlite3.Connection) -> None:
    con.execute("INSERT INTO framework VALUES (1, 'five_goods', '五个好', 'Five Goods', 'branch', '')")
    con.execute("INSERT INTO criterion VALUES (1, 1, 'leadership', 1, '领导班子好', 'Leadership', '', 1.0)")
    con.execute("INSERT INTO item VALUES (1, 1, NULL, 1, '深入学习实践科学发展观', 1.0, 1, ?)", (NOW,))
    con.execute("INSERT INTO campaign_year VALUES (1, 2012, '', '', 1, ?)", (NOW,))


def _rows(con: sqlite3.Connection) -> None:
    framework = con.execute("SELECT id FROM framework WHERE subject = 'branch'").fetchone()[0]
    item = con.execute("SELECT item.id FROM item JOIN criterion ON criterion.id = item.criterion_id "
                       "WHERE criterion.framework_id = ?", (framework,)).fetchone()[0]
    year = con.execute("SELECT id FROM campaign_year ORDER BY year DESC").fetchone()[0]
    con.execute("INSERT INTO unit VALUES (7, '一小', 'primary', '', ?)", (NOW,))
    con.execute("INSERT INTO branch VALUES (9, 7, '一小党支部', 'branch', 10, '', '', '', 1, ?)", (NOW,))
    con.execute("INSERT INTO user VALUES (5, 'sec01', '书记', 'x', 'secretary', 9, '', 1, NULL, 1, ?, NULL)",
                (NOW,))
    con.execute("INSERT INTO assessment VALUES (3, ?, ?, 'branch', 9, NULL, 'draft', '', NULL, NULL, ?, ?)",
                (year, framework, NOW, NOW))
    con.execute("INSERT INTO item_result VALUES (4, 3, ?, 'met', '', '', 1, 5, ?)", (item, NOW))
    for evidence_id in (11, 12):
        con.execute("INSERT INTO evidence VALUES (?, 4, 'a.png', ?, 'image/png', 1, 5, ?)",
                    (evidence_id, f"{evidence_id}.png", NOW))
    con.execute("INSERT INTO post (id, category, title, summary, body_md, body_html, cover_stored, "
                "cover_thumb_stored, branch_id, author_id, status, return_reason, pinned, featured, read_count, "
                "version, created_at, updated_at, published_at) VALUES (2, 'bulletin', '第３次推进会', '', "
                "'２０１２年', '', '', '', 9, 5, 'published', '', 0, 0, 0, 1, ?, ?, ?)", (NOW, NOW, NOW))
    con.commit()


def _counts(con: sqlite3.Connection) -> dict:
    return {t: con.execute(f'SELECT count(*), max(id) FROM "{t}"').fetchone()  # noqa: S608
            for t in ("unit", "branch", "user", "assessment", "item_result", "evidence", "post")}


def test_i12h_01_keeps_every_row_and_stops_id_reuse(tmp_path):
    app, path = sqlite_app(tmp_path)
    migrate(app, "n001")
    con = sqlite3.connect(path)
    _framework(con)  # as the schema of n001 held it (today's models have columns that came later)
    con.commit()
    con.close()
    con = sqlite3.connect(path)
    _rows(con)
    before = _counts(con)
    con.close()
    migrate(app, "heads")
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=ON")
    assert _counts(con) == before
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    schema = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    assert [t for t in AUTOINCREMENT_TABLES if "AUTOINCREMENT" not in schema[t]] == []
    assert con.execute("SELECT search_text FROM post WHERE id = 2").fetchone()[0] == "第3次推进会  2012年"
    assert con.execute("SELECT rowid FROM post_fts WHERE post_fts MATCH '\"第3次\"'").fetchall() == [(2,)]
    # The newest evidence deleted, the next one gets a new id.
    con.execute("DELETE FROM evidence WHERE id = 12")
    con.execute("INSERT INTO evidence (item_result_id, original_name, stored_name, content_type, size, "
                "uploaded_at) VALUES (4, 'b.png', 'b.png', 'image/png', 1, ?)", (NOW,))
    assert con.execute("SELECT max(id) FROM evidence").fetchone()[0] == 13
    con.commit()
    con.close()
    migrate(app, "n001", down=True)  # and back down past every later migration: the rows survive that too
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM item_result").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM evidence").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM user").fetchone()[0] == 1
    con.close()


@pytest.fixture(autouse=True)
def _only_sqlite():
    import os

    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the rebuild is SQLite's; on PostgreSQL the migration runs in every session's upgrade")
