"""each kept branch summary's plan status recomputed from the newest plan request of its own year

Revision ID: h14p_01
Revises: h14f_01

`figures._computed` read the newest plan request of any year for every year's summary (its subquery, two levels
deep, was not correlated to the row's year), so once a later year had a plan request, an earlier year's summaries
showed the branch's status for that later request. The code is fixed; this corrects the kept rows in place: the
status of the branch's submission to its year's newest plan request (deadline, then id), "pending" when it has
none, NULL when the year asked for no plan — the rule of `figures._computed` and `dashboard.build_rows`. One
UPDATE in plain SQL on both dialects; no table is rebuilt, so the triggers of h14k_01 and h14f_01 stay (they move
no total for this column). The downgrade leaves the corrected values.
"""
from alembic import op

revision = 'h14p_01'
down_revision = 'h14f_01'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        UPDATE branch_summary SET plan_status = CASE
            WHEN EXISTS (SELECT 1 FROM submission_request AS r
                         WHERE r.year_id = branch_summary.year_id AND r.kind = 'plan')
            THEN coalesce((SELECT s.status FROM submission AS s
                           WHERE s.branch_id = branch_summary.branch_id
                             AND s.request_id = (SELECT r.id FROM submission_request AS r
                                                 WHERE r.year_id = branch_summary.year_id AND r.kind = 'plan'
                                                 ORDER BY r.deadline DESC, r.id DESC LIMIT 1)), 'pending')
            END
    """)


def downgrade():
    pass
