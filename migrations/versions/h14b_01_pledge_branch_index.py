"""index of a branch's pledges by year and status, in place of the index of branch_id alone

Revision ID: h14b_01
Revises: h14i_01

The branch page lists the branch's approved pledges of the year. With only `ix_pledge_branch_id` and
`ix_pledge_year_status` SQLite chose the latter and read every approved pledge of the district's year (1.8 ms at
2,000 branches, growing with the district; issue #14). `ix_pledge_branch_year` (branch_id, year_id, status) finds
the branch's rows directly and still serves every lookup by branch alone (the foreign key's). Plain CREATE and
DROP INDEX on both dialects: no table is rebuilt, so the triggers of h14k_01 are untouched.
"""
from alembic import op

revision = 'h14b_01'
down_revision = 'h14i_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_pledge_branch_year', 'pledge', ['branch_id', 'year_id', 'status'], unique=False)
    op.drop_index('ix_pledge_branch_id', table_name='pledge')


def downgrade():
    op.create_index('ix_pledge_branch_id', 'pledge', ['branch_id'], unique=False)
    op.drop_index('ix_pledge_branch_year', table_name='pledge')
