"""index of submissions by status in the order they were handed in (the leaders' and the organisation section's queues)

Revision ID: h14q_01
Revises: h14n_01

The home pages list the handed-in submissions waiting for a decision, oldest first, and count them. With only the
index of the branch, SQLite walked every submission of every year and sorted those waiting (2.7 ms at 2,000
branches, growing with the district; issue #14). `ix_submission_status_submitted` (status, submitted_at, id) gives
the waiting ones in order, and the list stops after the few it shows. Plain CREATE and DROP INDEX on both dialects:
no table is rebuilt, so the triggers of h14k_01 and h14f_01 on `submission` are untouched.
"""
from alembic import op

revision = 'h14q_01'
down_revision = 'h14n_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_submission_status_submitted', 'submission', ['status', 'submitted_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_submission_status_submitted', table_name='submission')
