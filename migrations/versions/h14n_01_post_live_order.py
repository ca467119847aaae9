"""index of posts in the news board's order within each state (the board, the home pages' latest posts, the feed)

Revision ID: h14n_01
Revises: h14p_01

The board and the home pages show the live posts pinned first, then newest. Asked for as one OR of the two live
states (published; scheduled with its time come), SQLite sorted every live post to find the first five: 15 ms at
5,000 posts, on every home page (issue #14). The services now read each state apart, in this index's order, and
stop after the rows a page shows (`news._first_live`). Plain CREATE and DROP INDEX on both dialects: no table is
rebuilt.
"""
from alembic import op

revision = 'h14n_01'
down_revision = 'h14p_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_post_live_order', 'post', ['status', 'pinned', 'published_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_post_live_order', table_name='post')
