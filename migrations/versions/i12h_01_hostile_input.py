"""hostile input: width-folded search text

Revision ID: i12h_01
Revises: i12f_01
Create Date: 2026-12-01 02:30:00

Search matches `post.search_text`, the post's title, summary and body in NFKC (full-width digits and
letters folded to half width), in the query too: the SQLite FTS5 index and the PostgreSQL trigram index
move from the raw columns onto it.
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = 'i12h_01'
down_revision = 'i12f_01'
branch_labels = None
depends_on = None

OLD_PG_EXPRESSION = "(title || ' ' || summary || ' ' || body_md)"


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
    if dialect == "sqlite":
        _sqlite_fts("search_text", "new.search_text", "old.search_text", "search_text")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_search_trgm")
        op.execute("CREATE INDEX ix_post_search_trgm ON post USING gin (search_text gin_trgm_ops)")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _drop_sqlite_fts()
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_search_trgm")
    with op.batch_alter_table("post") as batch:
        batch.drop_column("search_text")
    if dialect == "sqlite":
        _sqlite_fts("title, summary, body_md", "new.title, new.summary, new.body_md",
                    "old.title, old.summary, old.body_md", "title, summary, body_md")
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_post_search_trgm ON post USING gin ({OLD_PG_EXPRESSION} gin_trgm_ops)")
