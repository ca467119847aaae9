"""each branch summary's 群众评议 class kept (`branch_summary.appraisal`: "few", "low" or ''), and the district's totals
per group (`district_group`, `district_group_criterion`, `request_group`) keyed by it too: the overview's appraisal
filter read from kept totals, as its filters by unit kind and status are (h14f_01)

Revision ID: h14ap_01
Revises: h14o_01

The filter `?appraisal=few` (fewer ballots than the round's minimum) or `low` (enough, with a satisfaction rate below
the grading policy's `advanced_min_satisfaction`) grouped every branch's ballots per request to find its branches,
then aggregated their summaries and tallies: its cost grew with the district (issue #14). The class is now a column
of the summary, computed with it (services/grading.py `appraisal_class`: the same decision as before, but for the
round having closed, which depends on the clock and is judged when read), and a group's key is (kind, status, class).

The upgrade adds the column and fills it with the portal's own expression (as i14_02 fills the summaries with the
portal's computation), drops h14f_01's three tables and triggers, and makes them again with the wider key by
h14f_01's own builders (its `Grouping`, loaded from that revision's file), filled as `rebuild-figures` does. The
downgrade restores h14f_01's shape (tables, rows and triggers) and drops the column. No table is rebuilt in SQLite's
batch mode (ADD and DROP COLUMN), so the triggers of h14k_01 and h14t_01 on `branch_summary` and `audit_event` stay.
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = 'h14ap_01'
down_revision = 'h14o_01'
branch_labels = None
depends_on = None


def _h14f():
    """Migration h14f_01's module: the builders of the totals per group."""
    path = Path(__file__).with_name("h14f_01_kept_filter_groups.py")
    spec = importlib.util.spec_from_file_location("h14f_01", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_F = _h14f()
# h14f_01's groups (unit kind, status) and the appraisal class.
WIDER = _F.Grouping((*_F.FILTERS.columns, ("appraisal", "COALESCE({r}.appraisal, '')")))


def _fill_classes() -> None:
    from portal.models import BranchSummary
    from portal.services.grading import appraisal_class

    s = BranchSummary.__table__
    op.execute(sa.update(s).values(appraisal=appraisal_class(s.c.year_id, s.c.branch_id)))


def upgrade():
    op.add_column('branch_summary', sa.Column('appraisal', sa.String(length=8), server_default='', nullable=False))
    _F.drop_triggers()
    _fill_classes()
    _F.drop_tables()
    WIDER.create_tables()
    WIDER.fill()
    WIDER.create_triggers()


def downgrade():
    _F.drop_triggers()
    _F.drop_tables()
    _F.FILTERS.create_tables()
    _F.FILTERS.fill()
    _F.FILTERS.create_triggers()
    op.execute("ALTER TABLE branch_summary DROP COLUMN appraisal")
