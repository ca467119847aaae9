"""appraisal code batches: slips printed from a GET address, one batch per generate form

Revision ID: b17_01
Revises: i16_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'b17_01'
down_revision = 'i16_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'code_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('rater_group', sa.Enum('staff', 'members', 'students', 'parents', 'community', name='ratergroup',
                                         native_enum=False, create_constraint=True, length=24), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('printable_until', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['appraisal_round.id'], name=op.f('fk_code_batch_round_id_appraisal_round'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_code_batch_branch_id_branch'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_code_batch_created_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_code_batch')),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('code_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_code_batch_branch_id'), ['branch_id'], unique=False)


def downgrade():
    with op.batch_alter_table('code_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_batch_branch_id'))
    op.drop_table('code_batch')
