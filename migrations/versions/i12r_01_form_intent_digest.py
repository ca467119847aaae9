"""form intents remember what their form carried, so that a replayed token with other content is refused

Revision ID: i12r_01
Revises: b15_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'i12r_01'
down_revision = 'b15_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('form_intent') as batch:
        batch.add_column(sa.Column('digest', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('form_intent') as batch:
        batch.drop_column('digest')
