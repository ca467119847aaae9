"""post search: an FTS5 trigram index on SQLite, a pg_trgm GIN index on PostgreSQL

Revision ID: n001
Revises: 0001
Create Date: 2026-11-23 21:10:00

Neither object is part of the SQLAlchemy metadata: they are search machinery, kept in step with
the post table by the database itself (SQLite triggers; PostgreSQL maintains its own index).
"""
from alembic import op

revision = 'n001'
down_revision = '0001'
branch_labels = None
depends_on = None

# The indexed text; the search query in portal/services/search.py uses the same expression.
PG_EXPRESSION = "(title || ' ' || summary || ' ' || body_md)"


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE post_fts USING fts5("
            "title, summary, body_md, content='post', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            "CREATE TRIGGER post_fts_insert AFTER INSERT ON post BEGIN "
            "INSERT INTO post_fts(rowid, title, summary, body_md) "
            "VALUES (new.id, new.title, new.summary, new.body_md); END"
        )
        op.execute(
            "CREATE TRIGGER post_fts_delete AFTER DELETE ON post BEGIN "
            "INSERT INTO post_fts(post_fts, rowid, title, summary, body_md) "
            "VALUES ('delete', old.id, old.title, old.summary, old.body_md); END"
        )
        op.execute(
            "CREATE TRIGGER post_fts_update AFTER UPDATE OF title, summary, body_md ON post BEGIN "
            "INSERT INTO post_fts(post_fts, rowid, title, summary, body_md) "
            "VALUES ('delete', old.id, old.title, old.summary, old.body_md); "
            "INSERT INTO post_fts(rowid, title, summary, body_md) "
            "VALUES (new.id, new.title, new.summary, new.body_md); END"
        )
        op.execute("INSERT INTO post_fts(post_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_post_search_trgm ON post USING gin ({PG_EXPRESSION} gin_trgm_ops)")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("post_fts_insert", "post_fts_delete", "post_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS post_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_search_trgm")
