"""indexes of posts in the news board's order within each state (the board, the home pages' latest posts, the
feed), and of a branch's posts by state and time (the branch page), in place of the index of branch_id alone

Revision ID: h14n_01
Revises: h14p_01

The board and the home pages show the live posts pinned first, then newest. Asked for as one OR of the two live
states (published; scheduled with its time come), SQLite sorted every live post to find the first five: 15 ms at
5,000 posts, on every home page (issue #14). The services now read each state apart, in this index's order, and
stop after the rows a page shows (`news._first_live`). The branch page's few posts: with only `ix_post_branch_id`
SQLite walked every published post of the district newest first (ix_post_status_published gives the order);
`ix_post_branch_status` (branch_id, status, published_at) finds them in order and serves every look-up by branch
alone as well. Plain CREATE and DROP INDEX on both dialects: no table is rebuilt.
"""
from alembic import op

revision = 'h14n_01'
down_revision = 'h14p_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_post_live_order', 'post', ['status', 'pinned', 'published_at', 'id'], unique=False)
    op.create_index('ix_post_branch_status', 'post', ['branch_id', 'status', 'published_at'], unique=False)
    op.drop_index('ix_post_branch_id', table_name='post')


def downgrade():
    op.create_index('ix_post_branch_id', 'post', ['branch_id'], unique=False)
    op.drop_index('ix_post_branch_status', table_name='post')
    op.drop_index('ix_post_live_order', table_name='post')
