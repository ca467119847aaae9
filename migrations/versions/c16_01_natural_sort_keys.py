"""stored pinyin sort keys again: numbers in natural order (第2 before 第10) and people's surnames read as surnames
(曾 zeng, 单 shan); see portal/collation.py

Revision ID: c16_01
Revises: i16v_01
Create Date: 2026-12-01 19:10:00

Data only: `branch.sort_key` and `user.sort_key` are recomputed from the names with the portal's own rule.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c16_01'
down_revision = 'i16v_01'
branch_labels = None
depends_on = None


def _refill(table: str, column: str, person: bool) -> None:
    from portal.collation import stored_key

    bind = op.get_bind()
    rows = bind.execute(sa.text(f'SELECT id, {column} FROM "{table}"')).all()  # nosec B608 - fixed names
    statement = sa.text(f'UPDATE "{table}" SET sort_key = :key WHERE id = :id')  # nosec B608 - fixed names
    for start in range(0, len(rows), 5000):
        chunk = [{"id": row_id, "key": stored_key(name, person)} for row_id, name in rows[start:start + 5000]]
        if chunk:
            bind.execute(statement, chunk)


def upgrade():
    _refill('branch', 'name', person=False)
    _refill('user', 'display_name', person=True)


def downgrade():
    pass  # the keys of the new rule order names at least as well; nothing to undo
