"""indexes for the home pages' district counts: active branches, and the year's branch checklists by status

Revision ID: h14h_01
Revises: h14g_01

The leaders' and the organisation section's home pages count the active branches and the year's branch checklists
submitted or reviewed. Without an index SQLite read every branch row (its brand text included) and every branch
checklist of the year to check its status: about 1.2 ms at 2,000 branches, growing with the district (issue #14).
`ix_branch_active` and `ix_assessment_year_subject_status` (year_id, subject, status, submitted_at) let both counts
read an index alone; the second also gives the leaders' review queue the branches' submitted checklists in order.
Plain CREATE and DROP INDEX on both dialects: no table is rebuilt, so the triggers on `branch` and `assessment`
are untouched.
"""
from alembic import op

revision = 'h14h_01'
down_revision = 'h14g_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_branch_active', 'branch', ['active'], unique=False)
    op.create_index('ix_assessment_year_subject_status', 'assessment',
                    ['year_id', 'subject', 'status', 'submitted_at'], unique=False)


def downgrade():
    op.drop_index('ix_assessment_year_subject_status', table_name='assessment')
    op.drop_index('ix_branch_active', table_name='branch')
