"""pledge (branch_id, year_id, status) in place of pledge (branch_id)

Revision ID: h14t_01
Revises: h14i_01

A branch's approved pledges of a year are counted in its kept summary (services/figures.py, `_computed`), which every
checklist tick recomputes for its branch in every year. Since h14i_01 added (year_id, status, updated_at), SQLite's
planner counted them through that index: every approved pledge of the year looked up to test its branch (0.9 ms a
year at 2,000 branches, 2.7 ms of a tick's 15). With the branch first, the count reads the branch's own entries of
the covering index. It serves every look-up by branch alone too (and the cascade of a branch's deletion), so the
single-column index goes. Plain CREATE/DROP INDEX on both dialects: no table is rebuilt, so the triggers of h14k_01
are untouched.
"""
from alembic import op

revision = 'h14t_01'
down_revision = 'h14i_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_pledge_branch_year_status', 'pledge', ['branch_id', 'year_id', 'status'], unique=False)
    op.drop_index('ix_pledge_branch_id', table_name='pledge')


def downgrade():
    op.create_index('ix_pledge_branch_id', 'pledge', ['branch_id'], unique=False)
    op.drop_index('ix_pledge_branch_year_status', table_name='pledge')
