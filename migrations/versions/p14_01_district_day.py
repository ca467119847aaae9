"""the district's timeline kept per year and day (`district_day`: the average of the branches' progress snapshots),
so that the dashboard reads one row per day instead of averaging every branch's snapshots on every view; each
kept tally stores its progress and score, so that the district's criterion averages are sums of columns

Revision ID: p14_01
Revises: f16_01
Create Date: 2026-12-01 18:30:00

Derived data (portal/services/figures.py and tallies.py): written with each day's snapshots and each tally, filled
here from the snapshots and the tallies' counts, as `flask --app wsgi rebuild-figures` does.
"""
import sqlalchemy as sa
from alembic import op

revision = 'p14_01'
down_revision = 'f16_01'
branch_labels = None
depends_on = None


def _round1(expr):
    return sa.cast(sa.func.round(sa.cast(expr, sa.Numeric), 1), sa.Float)


def _tally_figures():
    """portal/services/figures.py progress_of and score_of at this revision, written out (as i14_01 does) so that
    this migration does not change when the portal's code does."""
    t = sa.table('assessment_tally', *(sa.column(name, sa.Integer) for name in ('total', 'met', 'partly', 'not_met',
                                                                                   'na')),
                 sa.column('weight_scored', sa.Float), sa.column('weight_earned', sa.Float),
                 sa.column('progress', sa.Float), sa.column('score', sa.Float))
    applicable = t.c.total - t.c.na
    progress = sa.case((t.c.total == 0, 0.0), (applicable == 0, 100.0),
                       else_=_round1(100.0 * (t.c.met + t.c.partly + t.c.not_met) / sa.func.nullif(applicable, 0)))
    score = sa.case((t.c.weight_scored > 0, _round1(100.0 * t.c.weight_earned / sa.func.nullif(t.c.weight_scored, 0))),
                    else_=None)
    return sa.update(t).values(progress=progress, score=score)


def upgrade():
    with op.batch_alter_table('assessment_tally') as batch:
        batch.add_column(sa.Column('progress', sa.Float(), server_default='0', nullable=False))
        batch.add_column(sa.Column('score', sa.Float(), nullable=True))
    op.execute(_tally_figures())
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
    with op.batch_alter_table('assessment_tally') as batch:
        batch.drop_column('score')
        batch.drop_column('progress')
