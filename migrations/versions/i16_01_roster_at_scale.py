"""the roster at district scale: background roster imports, one-time activation codes

Revision ID: i16_01
Revises: i14_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'i16_01'
down_revision = 'i14_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'roster_import',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=120), nullable=False),
        sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='importstatus', native_enum=False,
                                    create_constraint=True, length=24), nullable=False),
        sa.Column('disable_leavers', sa.Boolean(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_roster_import_created_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_import')),
        sa.UniqueConstraint('token', name=op.f('uq_roster_import_token')),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('activation_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('activation_expires_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('roster_import_id', sa.Integer(), nullable=True))
    op.create_index('ix_user_activation_hash', 'user', ['activation_hash'], unique=True)
    op.create_index('ix_user_roster_import_id', 'user', ['roster_import_id'])


def downgrade():
    op.drop_index('ix_user_roster_import_id', table_name='user')
    op.drop_index('ix_user_activation_hash', table_name='user')
    with op.batch_alter_table('user') as batch:
        batch.drop_column('roster_import_id')
        batch.drop_column('activation_expires_at')
        batch.drop_column('activation_hash')
    op.drop_table('roster_import')
