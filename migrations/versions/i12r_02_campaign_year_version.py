"""campaign years carry a version number (optimistic lock for the year form)

Revision ID: i12r_02
Revises: i14_02
"""
import sqlalchemy as sa
from alembic import op

revision = 'i12r_02'
down_revision = 'i14_02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign_year') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('campaign_year') as batch:
        batch.drop_column('version')
