"""items have a validity in campaign years: valid_from (the first year an item is asked in) and retired_from
(the first year it is no longer asked in) replace the active flag

An item added to a framework already in use, or retired from it, then leaves the finished years' checklists and
figures as they were. Existing items are valid from the start; an item retired before (active false) was left
out of every checklist that had not answered it, so it becomes retired before any year (retired_from 0): every
year's figures stay as they were.

Revision ID: i16v_01
Revises: i16b_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'i16v_01'
down_revision = 'i16b_01'
branch_labels = None
depends_on = None

RETIRED_BEFORE_ANY_YEAR = 0  # portal.models.frameworks.RETIRED_BEFORE_ANY_YEAR at this revision


def _rebuilt(change) -> None:
    """Run `change(batch)` on the item table. SQLite rebuilds the table to drop a column: it keeps its
    AUTOINCREMENT (migration i12h_01) and the ids already given (the new table's counter would start from the
    highest id left, so the id of a deleted newest item would be given again); env.py runs SQLite migrations with
    foreign keys off, so the rebuild runs no ON DELETE action."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    given = bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'item'").scalar() if sqlite else None
    with op.batch_alter_table('item', table_kwargs={"sqlite_autoincrement": True}) as batch:
        change(batch)
    if given is not None:
        kept = bind.exec_driver_sql("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'item'", (given,))
        if kept.rowcount == 0:  # no item left to copy: the new table has no counter yet
            bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('item', ?)", (given,))


def upgrade():
    with op.batch_alter_table('item') as batch:
        batch.add_column(sa.Column('valid_from', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('retired_from', sa.Integer(), nullable=True))
    item = sa.table('item', sa.column('active', sa.Boolean()), sa.column('retired_from', sa.Integer()))
    op.execute(item.update().where(item.c.active.is_(False)).values(retired_from=RETIRED_BEFORE_ANY_YEAR))
    _rebuilt(lambda batch: batch.drop_column('active'))


def downgrade():
    with op.batch_alter_table('item') as batch:
        batch.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    item = sa.table('item', sa.column('active', sa.Boolean()), sa.column('retired_from', sa.Integer()))
    op.execute(item.update().where(item.c.retired_from.isnot(None)).values(active=False))

    def change(batch):
        batch.alter_column('active', server_default=None)
        batch.drop_column('valid_from')
        batch.drop_column('retired_from')
    _rebuilt(change)
