"""indexes for the home pages at district scale: user.role, pledge (member_id, year_id), pledge (year_id, status,
updated_at)

Revision ID: h14i_01
Revises: h14k_01

The leaders' review queue reaches the secretaries by role; members' and secretaries' pledge lists and the approval
queues read pledges by member and year, and by year and status oldest first. Without these each of those pages
scanned the district's people or pledges (issue #14; measured at 2,000 branches: leader home 43 → 25 ms CPU,
admin 26 → 16, member 13 → 10). Plain CREATE INDEX on both dialects: no table is rebuilt, so the triggers of
h14k_01 are untouched.
"""
from alembic import op

revision = 'h14i_01'
down_revision = 'h14k_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_user_role', 'user', ['role'], unique=False)
    op.create_index('ix_pledge_member_year', 'pledge', ['member_id', 'year_id'], unique=False)
    op.create_index('ix_pledge_year_status', 'pledge', ['year_id', 'status', 'updated_at'], unique=False)


def downgrade():
    op.drop_index('ix_pledge_year_status', table_name='pledge')
    op.drop_index('ix_pledge_member_year', table_name='pledge')
    op.drop_index('ix_user_role', table_name='user')
