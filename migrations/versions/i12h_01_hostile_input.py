"""hostile input: width-folded search text, ids never reused on SQLite, one read per person

Revision ID: i12h_01
Revises: i12f_01
Create Date: 2026-12-01 02:30:00

Search matches `post.search_text`, the post's title, summary and body in NFKC (full-width digits and
letters folded to half width), in the query too: the SQLite FTS5 index and the PostgreSQL trigram index
move from the raw columns onto it.

SQLite reuses the id of the newest row once it is deleted, so audit entries (and links) would point at
a different record: the tables whose ids the audit log names are rebuilt with AUTOINCREMENT (batch
mode, rows and ids kept). Rebuilding drops each old table, which with foreign keys on would run the
ON DELETE actions (emptying child tables): migrations/env.py runs every SQLite migration with foreign keys off,
checking them at the end. PostgreSQL sequences never reuse ids: nothing to do there.

post_read remembers who has read a post, so that a person's repeated reads count once.
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = 'i12h_01'
down_revision = 'i12f_01'
branch_labels = None
depends_on = None

OLD_PG_EXPRESSION = "(title || ' ' || summary || ' ' || body_md)"
# Tables whose ids appear in audit events (as the object or inside before/after); keep in step with
# AUTOINCREMENT_TABLES in portal/models/__init__.py.
AUTOINCREMENT_TABLES = [
    "unit", "branch", "user", "campaign_year", "framework", "item", "assessment", "evidence", "pledge",
    "pledge_entry", "submission_request", "submission", "project", "milestone", "inspection", "follow_up",
    "post", "nomination", "attachment", "objection",
]


def _sqlite_autoincrement(bind, on: bool) -> None:
    for table in AUTOINCREMENT_TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": on}):
            pass
    problems = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"foreign keys broken by the rebuild: {problems[:5]}")


def _fill_search_text(bind) -> None:
    post = sa.table("post", sa.column("id"), sa.column("title"), sa.column("summary"), sa.column("body_md"),
                    sa.column("search_text"))
    rows = bind.execute(sa.select(post.c.id, post.c.title, post.c.summary, post.c.body_md)).all()
    for id_, title, summary, body in rows:
        text = unicodedata.normalize("NFKC", " ".join((title or "", summary or "", body or "")))
        bind.execute(post.update().where(post.c.id == id_).values(search_text=text))


def _sqlite_fts(column_list: str, values_new: str, values_old: str, watched: str) -> None:
    op.execute(f"CREATE VIRTUAL TABLE post_fts USING fts5({column_list}, content='post', content_rowid='id', "
               "tokenize='trigram')")
    op.execute(f"CREATE TRIGGER post_fts_insert AFTER INSERT ON post BEGIN "
               f"INSERT INTO post_fts(rowid, {column_list}) VALUES (new.id, {values_new}); END")
    op.execute(f"CREATE TRIGGER post_fts_delete AFTER DELETE ON post BEGIN "
               f"INSERT INTO post_fts(post_fts, rowid, {column_list}) VALUES ('delete', old.id, {values_old}); END")
    op.execute(f"CREATE TRIGGER post_fts_update AFTER UPDATE OF {watched} ON post BEGIN "
               f"INSERT INTO post_fts(post_fts, rowid, {column_list}) VALUES ('delete', old.id, {values_old}); "
               f"INSERT INTO post_fts(rowid, {column_list}) VALUES (new.id, {values_new}); END")
    op.execute("INSERT INTO post_fts(post_fts) VALUES ('rebuild')")


def _drop_sqlite_fts() -> None:
    for trigger in ("post_fts_insert", "post_fts_delete", "post_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS post_fts")


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        _drop_sqlite_fts()  # its triggers name post's columns: gone before batch mode copies the table
    with op.batch_alter_table("post") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    _fill_search_text(bind)
    op.create_table(
        "post_read",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_post_read_post_id_post"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_post_read_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_post_read")),
    )
    if dialect == "sqlite":
        _sqlite_autoincrement(bind, on=True)
        _sqlite_fts("search_text", "new.search_text", "old.search_text", "search_text")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_search_trgm")
        op.execute("CREATE INDEX ix_post_search_trgm ON post USING gin (search_text gin_trgm_ops)")


def downgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        _drop_sqlite_fts()
    op.drop_table("post_read")
    if dialect == "sqlite":
        _sqlite_autoincrement(bind, on=False)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_search_trgm")
    with op.batch_alter_table("post") as batch:
        batch.drop_column("search_text")
    if dialect == "sqlite":
        _sqlite_fts("title, summary, body_md", "new.title, new.summary, new.body_md",
                    "old.title, old.summary, old.body_md", "title, summary, body_md")
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_post_search_trgm ON post USING gin ({OLD_PG_EXPRESSION} gin_trgm_ops)")
