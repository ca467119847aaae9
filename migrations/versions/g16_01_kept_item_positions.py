"""a finished campaign year keeps the order of its items when they are reordered later

kept_item_position holds a finished year's item places (empty until an item is moved: every year reads the current
places, as before).

Revision ID: g16_01
Revises: u16_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'g16_01'
down_revision = 'u16_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kept_item_position',
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'],
                                name=op.f('fk_kept_item_position_year_id_campaign_year'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_kept_item_position_item_id_item'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year_id', 'item_id', name=op.f('pk_kept_item_position')))


def downgrade():
    op.drop_table('kept_item_position')
