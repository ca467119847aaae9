"""the district's timeline kept per year and day (`district_day`: the average of the branches' progress snapshots),
so that the dashboard reads one row per day instead of averaging every branch's snapshots on every view

Revision ID: p14_01
Revises: i16v_01
Create Date: 2026-12-01 18:30:00

Derived data (portal/services/figures.py): written with each day's snapshots, filled here from the snapshots, as
`flask --app wsgi rebuild-figures` does.
"""
import sqlalchemy as sa
from alembic import op

revision = 'p14_01'
down_revision = 'i16v_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'district_day',
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('snapshots', sa.Integer(), nullable=False),
        sa.Column('progress', sa.Float(), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'],
                                name=op.f('fk_district_day_year_id_campaign_year'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year_id', 'day', name=op.f('pk_district_day')),
    )
    op.execute('INSERT INTO district_day (year_id, day, snapshots, progress, score) '
               'SELECT year_id, day, count(id), avg(progress), avg(score) FROM progress_snapshot '
               'GROUP BY year_id, day')


def downgrade():
    op.drop_table('district_day')
