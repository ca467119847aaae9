"""a unit (school) may hold several branches: branch.unit_id is no longer unique (indexed instead)

Revision ID: u16_01
Revises: p14_01
Create Date: 2026-12-01 20:00:00

A school with a 党总支 and its 党支部s could not be registered: the second branch's unit name was "taken".
"""
from alembic import op

revision = 'u16_01'
down_revision = 'p14_01'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds the table: it keeps AUTOINCREMENT (ids never reused: the audit log names them, i12h_01).
    with op.batch_alter_table('branch', table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint('uq_branch_unit_id', type_='unique')
        batch.create_index('ix_branch_unit_id', ['unit_id'])


def downgrade():
    # Only possible while every unit still has one branch; refused by the database otherwise.
    with op.batch_alter_table('branch', table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_index('ix_branch_unit_id')
        batch.create_unique_constraint('uq_branch_unit_id', ['unit_id'])
