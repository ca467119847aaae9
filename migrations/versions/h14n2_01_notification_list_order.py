"""a person's notifications read newest first from an index (recipient_id, created_at, id); the open "file missing"
notifications found from another (kind, resolved_at, object_key)

Revision ID: h14n2_01
Revises: h14w_01

/notifications lists a person's notifications newest first (ORDER BY created_at DESC, id DESC), thirty a page. With
only (recipient_id, read_at) and (recipient_id, event_key) to choose from, SQLite read all of the person's rows and
sorted them to show thirty: 0.8 ms for the leading group's 2,200 notifications at 2,000 branches, growing with the
district (issue #14). `ix_notification_recipient_created` gives the page's rows in order, stopping after the page.
The organisation section's /notifications first looks for "file missing" notifications not yet settled
(services/notifications.settle_restored_files): SQLite walked every notification of the district for them (23 ms at
2,000 branches, 36,000 notifications, when there is none); `ix_notification_kind_resolved` finds them, or none, at
once.
Plain CREATE and DROP INDEX on both dialects: no table is rebuilt.
"""
from alembic import op

revision = 'h14n2_01'
down_revision = 'h14w_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_notification_recipient_created', 'notification', ['recipient_id', 'created_at', 'id'],
                    unique=False)
    op.create_index('ix_notification_kind_resolved', 'notification', ['kind', 'resolved_at', 'object_key'],
                    unique=False)


def downgrade():
    op.drop_index('ix_notification_kind_resolved', table_name='notification')
    op.drop_index('ix_notification_recipient_created', table_name='notification')
