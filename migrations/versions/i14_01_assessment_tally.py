"""kept tallies: per assessment and criterion, the figures pages read (filled from the item results)

Revision ID: i14_01
Revises: i15_01
Create Date: 2026-12-01 05:30:00

`assessment_tally` holds, per assessment and criterion, the counts and weights that progress and score come
from (portal/services/tallies.py keeps them up to date with every change). The upgrade fills it from the item
results with the same aggregate the portal uses, in one INSERT … SELECT; `flask --app wsgi rebuild-figures`
does the same at any later time.
"""
import sqlalchemy as sa
from alembic import op

revision = 'i14_01'
down_revision = 'i15_01'
branch_labels = None
depends_on = None

# The aggregate of portal/services/progress.py (tally_query), written out so that this migration does not
# depend on the models of later revisions.
FILL = """
INSERT INTO assessment_tally (assessment_id, criterion_id, total, met, partly, not_met, na, weight_scored,
                              weight_earned, last_answer_at)
SELECT a.id, c.id, count(i.id),
       coalesce(sum(CASE WHEN r.result = 'met' THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN r.result = 'partly' THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN r.result = 'not_met' THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN r.result = 'na' THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN r.result IN ('met', 'partly', 'not_met') THEN i.weight ELSE 0.0 END), 0.0),
       coalesce(sum(CASE WHEN r.result = 'met' THEN i.weight
                         WHEN r.result = 'partly' THEN i.weight * 0.5 ELSE 0.0 END), 0.0),
       max(r.updated_at)
FROM assessment a
JOIN criterion c ON c.framework_id = a.framework_id
JOIN item i ON i.criterion_id = c.id
LEFT OUTER JOIN item_result r ON r.item_id = i.id AND r.assessment_id = a.id
WHERE (i.year_id IS NULL OR i.year_id = a.year_id) AND (i.active OR r.id IS NOT NULL)
GROUP BY a.id, c.id
"""


def upgrade():
    op.create_table(
        'assessment_tally',
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('met', sa.Integer(), nullable=False),
        sa.Column('partly', sa.Integer(), nullable=False),
        sa.Column('not_met', sa.Integer(), nullable=False),
        sa.Column('na', sa.Integer(), nullable=False),
        sa.Column('weight_scored', sa.Float(), nullable=False),
        sa.Column('weight_earned', sa.Float(), nullable=False),
        sa.Column('last_answer_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'],
                                name=op.f('fk_assessment_tally_assessment_id_assessment'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'],
                                name=op.f('fk_assessment_tally_criterion_id_criterion'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('assessment_id', 'criterion_id', name=op.f('pk_assessment_tally')),
    )
    op.execute(FILL)


def downgrade():
    op.drop_table('assessment_tally')
