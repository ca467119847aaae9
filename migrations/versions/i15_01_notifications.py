"""work queues and notifications: notifications per person and event, users' e-mail and preference,
a branch's answer to an inspection follow-up

Revision ID: i15_01
Revises: i18_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'i15_01'
down_revision = 'i18_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('event_key', sa.String(length=120), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('emailed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_notification_recipient_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
        sa.UniqueConstraint('recipient_id', 'event_key', name=op.f('uq_notification_recipient_id_event_key')),
    )
    op.create_index('ix_notification_recipient_read', 'notification', ['recipient_id', 'read_at'])
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=False, server_default=''))
        batch.add_column(sa.Column('email_preference', sa.String(length=16), nullable=False,
                                   server_default='digest'))
        batch.add_column(sa.Column('last_digest_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('follow_up') as batch:
        batch.add_column(sa.Column('response', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('answered_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('follow_up') as batch:
        batch.drop_column('answered_at')
        batch.drop_column('response')
    with op.batch_alter_table('user') as batch:
        batch.drop_column('last_digest_at')
        batch.drop_column('email_preference')
        batch.drop_column('email')
    op.drop_index('ix_notification_recipient_read', table_name='notification')
    op.drop_table('notification')
