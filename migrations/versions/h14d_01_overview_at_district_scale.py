"""the overview reads branch_summary alone: the branch's active flag, unit kind, pinyin key and name copied into it,
and indexes in the page's orders

Revision ID: h14d_01
Revises: g16_01

Derived data (portal/services/figures.py keeps the copies with the rest of the row); the upgrade fills them from the
branch and its unit. On PostgreSQL the key and name compare by code point (COLLATE "C", as the dashboard orders them),
so that the indexes serve its ORDER BY.
"""
import sqlalchemy as sa
from alembic import op

revision = 'h14d_01'
down_revision = 'g16_01'
branch_labels = None
depends_on = None

UNIT_KIND = ['kindergarten', 'primary', 'middle', 'vocational', 'office']
_BINARY = sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')


def upgrade():
    with op.batch_alter_table('branch_summary') as batch:
        batch.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column('unit_kind', sa.Enum(*UNIT_KIND, name='unitkind', native_enum=False,
                                                        create_constraint=True, length=24), nullable=True))
        batch.add_column(sa.Column('sort_key', _BINARY, server_default='', nullable=False))
        batch.add_column(sa.Column('name', _BINARY, server_default='', nullable=False))
        batch.drop_index('ix_branch_summary_year_progress')
        batch.drop_index('ix_branch_summary_year_score')
        batch.drop_index('ix_branch_summary_year_activity')
    op.execute(sa.text(
        'UPDATE branch_summary SET '
        'active = (SELECT branch.active FROM branch WHERE branch.id = branch_summary.branch_id), '
        'sort_key = (SELECT branch.sort_key FROM branch WHERE branch.id = branch_summary.branch_id), '
        'name = (SELECT branch.name FROM branch WHERE branch.id = branch_summary.branch_id), '
        'unit_kind = (SELECT unit.kind FROM branch JOIN unit ON unit.id = branch.unit_id '
        'WHERE branch.id = branch_summary.branch_id)'))
    op.create_index('ix_branch_summary_order', 'branch_summary', ['year_id', 'active', 'sort_key', 'name'])
    op.create_index('ix_branch_summary_order_progress', 'branch_summary',
                    ['year_id', 'active', sa.text('progress DESC'), 'sort_key', 'name'])
    op.create_index('ix_branch_summary_order_score', 'branch_summary',
                    ['year_id', 'active', sa.text('score DESC'), 'sort_key', 'name'])
    op.create_index('ix_branch_summary_active_activity', 'branch_summary', ['year_id', 'active', 'last_activity'])


def downgrade():
    for name in ('ix_branch_summary_active_activity', 'ix_branch_summary_order_score',
                 'ix_branch_summary_order_progress', 'ix_branch_summary_order'):
        op.drop_index(name, table_name='branch_summary')
    with op.batch_alter_table('branch_summary') as batch:
        batch.drop_constraint(op.f('ck_branch_summary_unitkind'), type_='check')  # (it names unit_kind)
        for column in ('name', 'sort_key', 'unit_kind', 'active'):
            batch.drop_column(column)
    op.create_index('ix_branch_summary_year_progress', 'branch_summary', ['year_id', 'progress'])
    op.create_index('ix_branch_summary_year_score', 'branch_summary', ['year_id', 'score'])
    op.create_index('ix_branch_summary_year_activity', 'branch_summary', ['year_id', 'last_activity'])
