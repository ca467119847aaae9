"""a branch's pledges of a year by status in the order the lists show them (updated_at added to ix_pledge_branch_year)

Revision ID: h14l_01
Revises: h14t_01

The pledges page shows a page (LIMIT) of one branch's pledges, the latest change first: a member's and a secretary's
published list and a secretary's waiting list. With `ix_pledge_branch_year` (branch_id, year_id, status) SQLite chose
`ix_pledge_year_status` instead, whose order needs no sort, and read every pledge of the district's year in that
state to find the branch's (5 ms at 2,000 branches, growing with the district; issue #14). With updated_at in the
branch's index the page reads the branch's rows in order and stops. Plain DROP and CREATE INDEX on both dialects: no
table is rebuilt, so the triggers of h14k_01 are untouched.
"""
from alembic import op

revision = 'h14l_01'
down_revision = 'h14t_01'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_pledge_branch_year', table_name='pledge')
    op.create_index('ix_pledge_branch_year', 'pledge', ['branch_id', 'year_id', 'status', 'updated_at'], unique=False)


def downgrade():
    op.drop_index('ix_pledge_branch_year', table_name='pledge')
    op.create_index('ix_pledge_branch_year', 'pledge', ['branch_id', 'year_id', 'status'], unique=False)
