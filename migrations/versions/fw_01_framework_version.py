"""frameworks carry a version number, raised when the organisation section confirms a change to a campaign
year whose assessments have started

Revision ID: fw_01
Revises: i12r_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'fw_01'
down_revision = 'i12r_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('framework') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('framework') as batch:
        batch.drop_column('version')
