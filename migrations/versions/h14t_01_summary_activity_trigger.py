"""each kept branch summary's last activity moved by a row trigger on `audit_event`, so that a change of one year's
checklist recomputes only that year's summary

Revision ID: h14t_01
Revises: h14q_01

A summary's last activity (`figures._computed`) is the newest of its checklist's answers, its branch's assessments
of the year and its branch's audit events of any year (but sign-ins and access records). So every audited change of
a branch recomputed the branch's summaries of every year (three on the demo's district), of which only the last
activity could move. Now the database moves it in the statement that writes the event: the newest of the kept time
and the event's is what a recomputation gives (the newest of a set with one more member), and the portal
recomputes only the rows the change itself moves (`figures.noticed`). SQLite: a trigger; PostgreSQL: a plpgsql
function; the same statement. No kept row changes here (they were computed with every event already). The
downgrade drops the trigger (the code before this marks the branch of every new event instead).

`figures.district_triggers_suspended` (the demo's bulk load) suspends this trigger with the district's; the load
recomputes the summaries afterwards.
"""
import sqlalchemy as sa
from alembic import op

revision = 'h14t_01'
down_revision = 'h14q_01'
branch_labels = None
depends_on = None

# The events `figures._computed` reads (`audited`), and what one of them moves.
_COUNTED = "NEW.branch_id IS NOT NULL AND NEW.action NOT LIKE 'auth.%' AND NEW.action NOT LIKE 'access.%'"
_MOVE = ("UPDATE branch_summary SET last_activity = NEW.at WHERE branch_id = NEW.branch_id "
         "AND (last_activity IS NULL OR last_activity < NEW.at);")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"""
CREATE FUNCTION summary_follow_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_MOVE}
  RETURN NULL;
END $$"""))
        op.execute(sa.text(f"CREATE TRIGGER summary_follow_audit AFTER INSERT ON audit_event FOR EACH ROW "
                           f"WHEN ({_COUNTED}) EXECUTE FUNCTION summary_follow_audit()"))
    else:
        op.execute(sa.text(f"CREATE TRIGGER summary_follow_audit AFTER INSERT ON audit_event WHEN {_COUNTED} "
                           f"BEGIN {_MOVE} END"))


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS summary_follow_audit" + (
        " ON audit_event" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS summary_follow_audit()")
