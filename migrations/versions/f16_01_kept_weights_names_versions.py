"""a finished campaign year keeps the item weights and criterion names it was scored and shown with; items and
criteria carry a version for optimistic concurrency

kept_item_weight and kept_criterion_name hold a finished year's value when it changes later (empty until then:
every year reads the current values, as before). item.version and criterion.version start at 1.

Revision ID: f16_01
Revises: c16_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'f16_01'
down_revision = 'c16_01'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('item', 'criterion'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    op.create_table(
        'kept_item_weight',
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'],
                                name=op.f('fk_kept_item_weight_year_id_campaign_year'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_kept_item_weight_item_id_item'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year_id', 'item_id', name=op.f('pk_kept_item_weight')))
    op.create_table(
        'kept_criterion_name',
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=40), nullable=False),
        sa.Column('title_en', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'],
                                name=op.f('fk_kept_criterion_name_year_id_campaign_year'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'],
                                name=op.f('fk_kept_criterion_name_criterion_id_criterion'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year_id', 'criterion_id', name=op.f('pk_kept_criterion_name')))


def downgrade():
    op.drop_table('kept_criterion_name')
    op.drop_table('kept_item_weight')
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    with op.batch_alter_table('criterion') as batch:
        batch.drop_column('version')
    # SQLite rebuilds item to drop a column: keep its AUTOINCREMENT and the ids already given (i16v_01).
    given = bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'item'").scalar() if sqlite else None
    with op.batch_alter_table('item', table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column('version')
    if given is not None:
        kept = bind.exec_driver_sql("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'item'", (given,))
        if kept.rowcount == 0:
            bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('item', ?)", (given,))
