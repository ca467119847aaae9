"""kept appraisal counts: answers per round, question, branch and level (appraisal_tally)

Revision ID: h14x_01
Revises: h14d_01

Derived data (portal/services/appraisal.py keeps it in the ballot's transaction; `flask --app wsgi rebuild-figures`
recomputes it): the upgrade counts the answers already cast, in one INSERT … SELECT … GROUP BY.
"""
import sqlalchemy as sa
from alembic import op

revision = 'h14x_01'
down_revision = 'h14d_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appraisal_tally',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Enum('satisfied', 'fairly', 'basically', 'dissatisfied', name='level',
                                   native_enum=False, create_constraint=True, length=24), nullable=False),
        sa.Column('answers', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_appraisal_tally_branch_id_branch'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['question_id'], ['appraisal_question.id'],
                                name=op.f('fk_appraisal_tally_question_id_appraisal_question'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['appraisal_round.id'],
                                name=op.f('fk_appraisal_tally_round_id_appraisal_round'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('round_id', 'question_id', 'branch_id', 'level', name=op.f('pk_appraisal_tally')),
        sqlite_with_rowid=False,
    )
    op.execute(sa.text(
        'INSERT INTO appraisal_tally (round_id, question_id, branch_id, level, answers) '
        'SELECT ballot.round_id, ballot_answer.question_id, ballot.branch_id, ballot_answer.level, count(*) '
        'FROM ballot JOIN ballot_answer ON ballot_answer.ballot_id = ballot.id '
        'GROUP BY ballot.round_id, ballot_answer.question_id, ballot.branch_id, ballot_answer.level'))


def downgrade():
    op.drop_table('appraisal_tally')
