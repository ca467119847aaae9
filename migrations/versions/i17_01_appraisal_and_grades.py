"""群众评议 and 分类定级: appraisal rounds, questions, one-time codes (hashed), anonymous ballots and member
verdicts (random keys, no SQLite rowid, date only), member appraisal participation, grading policies and grade
records. The unused early tables `appraisal` (typed-in counts) and `branch_grade` are replaced.

Revision ID: i17_01
Revises: i12x_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'i17_01'
down_revision = 'i12x_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appraisal_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year_id', sa.Integer(), nullable=False),
    sa.Column('groups', sa.String(length=200), nullable=False),
    sa.Column('weight_satisfied', sa.Integer(), nullable=False),
    sa.Column('weight_fairly', sa.Integer(), nullable=False),
    sa.Column('weight_basically', sa.Integer(), nullable=False),
    sa.Column('weight_dissatisfied', sa.Integer(), nullable=False),
    sa.Column('min_ballots', sa.Integer(), nullable=False),
    sa.Column('member_min_answers', sa.Integer(), server_default='3', nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'], name=op.f('fk_appraisal_round_year_id_campaign_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_round')),
    sa.UniqueConstraint('year_id', name=op.f('uq_appraisal_round_year_id')),
    sqlite_autoincrement=True
    )
    op.create_table('grading_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year_id', sa.Integer(), nullable=False),
    sa.Column('weight_self', sa.Integer(), nullable=False),
    sa.Column('weight_review', sa.Integer(), nullable=False),
    sa.Column('weight_appraisal', sa.Integer(), nullable=False),
    sa.Column('advanced_min', sa.Float(), nullable=False),
    sa.Column('ordinary_min', sa.Float(), nullable=False),
    sa.Column('advanced_min_satisfaction', sa.Float(), nullable=False),
    sa.Column('member_excellent_min', sa.Float(), nullable=False),
    sa.Column('member_qualified_min', sa.Float(), nullable=False),
    sa.Column('member_basic_min', sa.Float(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'], name=op.f('fk_grading_policy_year_id_campaign_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grading_policy')),
    sa.UniqueConstraint('year_id', name=op.f('uq_grading_policy_year_id'))
    )
    op.create_table('appraisal_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('rater_group', sa.Enum('staff', 'members', 'students', 'parents', 'community', name='ratergroup', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_appraisal_code_branch_id_branch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['appraisal_round.id'], name=op.f('fk_appraisal_code_round_id_appraisal_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_appraisal_code_code_hash'))
    )
    with op.batch_alter_table('appraisal_code', schema=None) as batch_op:
        batch_op.create_index('ix_appraisal_code_round_branch_group', ['round_id', 'branch_id', 'rater_group'], unique=False)

    op.create_table('appraisal_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_appraisal_question_criterion_id_criterion'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['appraisal_round.id'], name=op.f('fk_appraisal_question_round_id_appraisal_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_question'))
    )
    with op.batch_alter_table('appraisal_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_question_round_id'), ['round_id'], unique=False)

    op.create_table('ballot',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('rater_group', sa.Enum('staff', 'members', 'students', 'parents', 'community', name='ratergroup', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('cast_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_ballot_branch_id_branch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['appraisal_round.id'], name=op.f('fk_ballot_round_id_appraisal_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot')),
    sqlite_with_rowid=False
    )
    op.create_table('ballot_answer',
    sa.Column('ballot_id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('satisfied', 'fairly', 'basically', 'dissatisfied', name='level', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_answer_ballot_id_ballot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['appraisal_question.id'], name=op.f('fk_ballot_answer_question_id_appraisal_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ballot_id', 'question_id', name=op.f('pk_ballot_answer')),
    sqlite_with_rowid=False
    )
    op.create_table('grade_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('self_score', sa.Float(), nullable=True),
    sa.Column('review_score', sa.Float(), nullable=True),
    sa.Column('appraisal_score', sa.Float(), nullable=True),
    sa.Column('satisfaction', sa.Float(), nullable=True),
    sa.Column('composite', sa.Float(), nullable=True),
    sa.Column('proposed', sa.String(length=24), nullable=False),
    sa.Column('confirmed', sa.String(length=24), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_grade_record_branch_id_branch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user.id'], name=op.f('fk_grade_record_confirmed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['user.id'], name=op.f('fk_grade_record_member_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'], name=op.f('fk_grade_record_year_id_campaign_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_record')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('grade_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_record_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index('uq_grade_record_branch_year', ['year_id', 'branch_id'], unique=True, sqlite_where=sa.text('member_id IS NULL'), postgresql_where=sa.text('member_id IS NULL'))
        batch_op.create_index('uq_grade_record_member_year', ['year_id', 'member_id'], unique=True, sqlite_where=sa.text('member_id IS NOT NULL'), postgresql_where=sa.text('member_id IS NOT NULL'))

    op.create_table('member_appraisal_taking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_member_appraisal_taking_branch_id_branch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['appraisal_round.id'], name=op.f('fk_member_appraisal_taking_round_id_appraisal_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_member_appraisal_taking_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_appraisal_taking')),
    sa.UniqueConstraint('round_id', 'user_id', name=op.f('uq_member_appraisal_taking_round_id_user_id'))
    )
    with op.batch_alter_table('member_appraisal_taking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_appraisal_taking_branch_id'), ['branch_id'], unique=False)

    op.create_table('member_verdict',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('satisfied', 'fairly', 'basically', 'dissatisfied', name='level', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('cast_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['user.id'], name=op.f('fk_member_verdict_member_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['appraisal_round.id'], name=op.f('fk_member_verdict_round_id_appraisal_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_verdict')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('member_verdict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_verdict_member_id'), ['member_id'], unique=False)

    op.drop_table('branch_grade')
    op.drop_table('appraisal')


def downgrade():
    with op.batch_alter_table('member_verdict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_verdict_member_id'))

    op.drop_table('member_verdict')
    with op.batch_alter_table('member_appraisal_taking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_appraisal_taking_branch_id'))

    op.drop_table('member_appraisal_taking')
    with op.batch_alter_table('grade_record', schema=None) as batch_op:
        batch_op.drop_index('uq_grade_record_member_year', sqlite_where=sa.text('member_id IS NOT NULL'), postgresql_where=sa.text('member_id IS NOT NULL'))
        batch_op.drop_index('uq_grade_record_branch_year', sqlite_where=sa.text('member_id IS NULL'), postgresql_where=sa.text('member_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_grade_record_branch_id'))

    op.drop_table('grade_record')
    op.drop_table('ballot_answer')
    op.drop_table('ballot')
    with op.batch_alter_table('appraisal_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_question_round_id'))

    op.drop_table('appraisal_question')
    with op.batch_alter_table('appraisal_code', schema=None) as batch_op:
        batch_op.drop_index('ix_appraisal_code_round_branch_group')

    op.drop_table('appraisal_code')
    op.drop_table('grading_policy')
    op.drop_table('appraisal_round')
    op.create_table('appraisal',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('year_id', sa.INTEGER(), nullable=False),
    sa.Column('branch_id', sa.INTEGER(), nullable=False),
    sa.Column('audience', sa.VARCHAR(length=24), nullable=False),
    sa.Column('satisfied', sa.INTEGER(), nullable=False),
    sa.Column('fairly_satisfied', sa.INTEGER(), nullable=False),
    sa.Column('basically_satisfied', sa.INTEGER(), nullable=False),
    sa.Column('dissatisfied', sa.INTEGER(), nullable=False),
    sa.Column('recorded_by_id', sa.INTEGER(), nullable=True),
    sa.Column('recorded_at', sa.DATETIME(), nullable=False),
    sa.CheckConstraint("audience IN ('teachers', 'students', 'parents')", name=op.f('ck_appraisal_audience')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_appraisal_branch_id_branch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_appraisal_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'], name=op.f('fk_appraisal_year_id_campaign_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal')),
    sa.UniqueConstraint('year_id', 'branch_id', 'audience', name=op.f('uq_appraisal_year_id_branch_id_audience'))
    )
    op.create_table('branch_grade',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('year_id', sa.INTEGER(), nullable=False),
    sa.Column('branch_id', sa.INTEGER(), nullable=False),
    sa.Column('grade', sa.VARCHAR(length=24), nullable=False),
    sa.Column('comment', sa.TEXT(), nullable=False),
    sa.Column('graded_by_id', sa.INTEGER(), nullable=True),
    sa.Column('graded_at', sa.DATETIME(), nullable=False),
    sa.CheckConstraint("grade IN ('advanced', 'ordinary', 'lagging')", name=op.f('ck_branch_grade_grade')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_branch_grade_branch_id_branch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['graded_by_id'], ['user.id'], name=op.f('fk_branch_grade_graded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'], name=op.f('fk_branch_grade_year_id_campaign_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branch_grade')),
    sa.UniqueConstraint('year_id', 'branch_id', name=op.f('uq_branch_grade_year_id_branch_id'))
    )
