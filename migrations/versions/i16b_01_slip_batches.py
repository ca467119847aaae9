"""activation slip batches: printed slips are shown from a GET address (POST-redirect-GET)

Revision ID: i16b_01
Revises: i12r_02
"""
import sqlalchemy as sa
from alembic import op

revision = 'i16b_01'
down_revision = 'i12r_02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'slip_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=True),
        sa.Column('user_ids', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('printable_until', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['roster_import.id'], name=op.f('fk_slip_batch_import_id_roster_import'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_slip_batch_created_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_slip_batch')),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table('slip_batch')
