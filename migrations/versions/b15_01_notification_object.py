"""notifications name the object their work is about, and when that work was done (resolved)

Revision ID: b15_01
Revises: b17_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'b15_01'
down_revision = 'b17_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('object_key', sa.String(length=60), nullable=False, server_default=''))
        batch.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
    op.create_index('ix_notification_object_key', 'notification', ['object_key'])


def downgrade():
    op.drop_index('ix_notification_object_key', table_name='notification')
    with op.batch_alter_table('notification') as batch:
        batch.drop_column('resolved_at')
        batch.drop_column('object_key')
