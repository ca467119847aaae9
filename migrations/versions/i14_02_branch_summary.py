"""kept branch summaries (per branch and year, what the dashboard pages, sorts and filters in SQL) and stored pinyin
sort keys of branch and people's names; ballots indexed by round and branch

Revision ID: i14_02
Revises: fw_01
Create Date: 2026-12-01 11:30:00

`branch_summary` is derived data (portal/services/figures.py keeps it up to date with every change); the upgrade
fills it with the portal's own computation, as `flask --app wsgi rebuild-figures` does. `branch.sort_key` and
`user.sort_key` hold the names' pinyin (portal/collation.py), filled here from the names.
"""
import sqlalchemy as sa
from alembic import op

revision = 'i14_02'
down_revision = 'fw_01'
branch_labels = None
depends_on = None

ASSESSMENT_STATUS = ['draft', 'submitted', 'returned', 'reviewed']
REVIEW_RATING = ['good', 'fairly_good', 'average', 'poor']
SUBMISSION_STATUS = ['pending', 'submitted', 'returned', 'accepted']


def _enum(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def _fill_keys(table: str, column: str) -> None:
    from portal.collation import stored_key

    bind = op.get_bind()
    rows = bind.execute(sa.text(f'SELECT id, {column} FROM "{table}"')).all()  # nosec B608 - fixed names
    statement = sa.text(f'UPDATE "{table}" SET sort_key = :key WHERE id = :id')  # nosec B608 - fixed names
    for start in range(0, len(rows), 5000):
        chunk = [{"id": row_id, "key": stored_key(name)} for row_id, name in rows[start:start + 5000]]
        bind.execute(statement, chunk)


def upgrade():
    for table, column in (('branch', 'name'), ('user', 'display_name')):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('sort_key', sa.String(length=255), server_default='', nullable=False))
            batch.create_index(f'ix_{table}_sort_key', ['sort_key'])
        _fill_keys(table, column)
    op.create_table(
        'branch_summary',
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=True),
        sa.Column('status', _enum('assessmentstatus', ASSESSMENT_STATUS), nullable=True),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('met', sa.Integer(), nullable=False),
        sa.Column('partly', sa.Integer(), nullable=False),
        sa.Column('not_met', sa.Integer(), nullable=False),
        sa.Column('na', sa.Integer(), nullable=False),
        sa.Column('weight_scored', sa.Float(), nullable=False),
        sa.Column('weight_earned', sa.Float(), nullable=False),
        sa.Column('progress', sa.Float(), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('rating', _enum('reviewrating', REVIEW_RATING), nullable=True),
        sa.Column('plan_status', _enum('submissionstatus', SUBMISSION_STATUS), nullable=True),
        sa.Column('pledges', sa.Integer(), nullable=False),
        sa.Column('posts', sa.Integer(), nullable=False),
        sa.Column('members_total', sa.Integer(), nullable=False),
        sa.Column('members_done', sa.Integer(), nullable=False),
        sa.Column('coverage', sa.Float(), nullable=False),
        sa.Column('last_activity', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_branch_summary_branch_id_branch'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'],
                                name=op.f('fk_branch_summary_year_id_campaign_year'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year_id', 'branch_id', name=op.f('pk_branch_summary')),
    )
    op.create_index('ix_branch_summary_branch_id', 'branch_summary', ['branch_id'])
    op.create_index('ix_branch_summary_year_progress', 'branch_summary', ['year_id', 'progress'])
    op.create_index('ix_branch_summary_year_score', 'branch_summary', ['year_id', 'score'])
    op.create_index('ix_branch_summary_year_activity', 'branch_summary', ['year_id', 'last_activity'])
    op.create_index('ix_ballot_round_branch', 'ballot', ['round_id', 'branch_id', 'rater_group'])
    # The portal's own computation (services/figures.py), as rebuild-figures runs it.
    from portal.services import figures

    figures.rebuild(op.get_bind(), since_p14=False)  # (what p14_01 adds is not there yet)


def downgrade():
    op.drop_index('ix_ballot_round_branch', table_name='ballot')
    op.drop_table('branch_summary')
    for table in ('user', 'branch'):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f'ix_{table}_sort_key')
            batch.drop_column('sort_key')
