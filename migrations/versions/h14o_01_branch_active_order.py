"""the active branches in their order from one index (active, sort_key, name), in place of (active) alone

Revision ID: h14o_01
Revises: h14n2_01

The branch pickers (the pledges' filter, /grades, the grid, the news board's filter) list the active branches a page
at a time in pinyin order (WHERE active ORDER BY sort_key, name, id LIMIT …). With `ix_branch_active` (active) alone,
SQLite read every active branch and sorted them to show thirty: 0.4–0.6 ms at 2,000 branches, growing with the
district (issue #14). `ix_branch_active_order` gives them in order and stops after the page; it still holds what the
home pages count (the active branches, in the index alone), so it replaces `ix_branch_active`.
Plain CREATE and DROP INDEX on both dialects: no table is rebuilt.
"""
from alembic import op

revision = 'h14o_01'
down_revision = 'h14n2_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_branch_active_order', 'branch', ['active', 'sort_key', 'name'], unique=False)
    op.drop_index('ix_branch_active', table_name='branch')


def downgrade():
    op.create_index('ix_branch_active', 'branch', ['active'], unique=False)
    op.drop_index('ix_branch_active_order', table_name='branch')
