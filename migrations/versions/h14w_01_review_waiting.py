"""the self-assessments waiting for the leading group's review kept in a list (`review_waiting`), moved by row
triggers on `assessment` and on the person's role

Revision ID: h14w_01
Revises: h14h_01

The leaders' review queue (portal/services/workqueue.py) is the year's branch checklists submitted and the
secretaries' own submitted. The role lives on `user` alone, so the queue looked up each of the district's 2,000
secretaries' checklists and sorted the ~1,100 waiting to show 26 and count them (2.7 ms of SQLite at 2,000 branches,
none at 20: issue #14). Kept here, it reads 26 entries off `ix_review_waiting_order` and counts that index's range.

Derived data (portal/models/figures.py `ReviewWaiting`, portal/services/figures.py): SQLite triggers and PostgreSQL
plpgsql functions with the same statements; an assessment deleted (itself, or with its year, branch or person) takes
its row with it by the foreign key's cascade, so no trigger follows deletes. The upgrade fills the list, as
`flask --app wsgi rebuild-figures` does. A later migration that rebuilds `assessment` or `user` in SQLite's batch mode
(a copy of the table) drops these triggers with the old table: it must create them again (`_sqlite_triggers`).
"""
import sqlalchemy as sa
from alembic import op

revision = 'h14w_01'
down_revision = 'h14h_01'
branch_labels = None
depends_on = None

# Whether the assessment row {r} waits for the leading group (rule "assessment.review"): submitted, and the branch's
# own (no member) or its member's role now secretary.
_WAITS = ("{r}.status = 'submitted' AND ({r}.member_id IS NULL OR EXISTS "
          "(SELECT 1 FROM \"user\" u WHERE u.id = {r}.member_id AND u.role = 'secretary'))")
_ADD = ("INSERT INTO review_waiting (assessment_id, year_id, submitted_at) "
        "SELECT {r}.id, {r}.year_id, {r}.submitted_at WHERE " + _WAITS + ";")
_REMOVE = "DELETE FROM review_waiting WHERE assessment_id = OLD.id;"
# A person's role changed to or from secretary: their own checklists join or leave the list.
_ROLE = ("DELETE FROM review_waiting WHERE assessment_id IN "
         "(SELECT a.id FROM assessment a WHERE a.member_id = NEW.id); "
         "INSERT INTO review_waiting (assessment_id, year_id, submitted_at) SELECT a.id, a.year_id, a.submitted_at "
         "FROM assessment a WHERE a.member_id = NEW.id AND a.status = 'submitted' AND NEW.role = 'secretary';")
_FOLLOWED = "status, member_id, year_id, submitted_at"  # the assessment's columns the list reads
_MOVES = "OLD.status = 'submitted' OR NEW.status = 'submitted'"
_ROLE_MOVES = "(OLD.role = 'secretary') <> (NEW.role = 'secretary')"
SQLITE_TRIGGERS = ("review_waiting_insert", "review_waiting_update", "review_waiting_role")
_FILL = ("INSERT INTO review_waiting (assessment_id, year_id, submitted_at) SELECT a.id, a.year_id, a.submitted_at "
         "FROM assessment a WHERE " + _WAITS.format(r="a"))


def _sqlite_triggers() -> list[str]:
    return [
        "CREATE TRIGGER review_waiting_insert AFTER INSERT ON assessment WHEN NEW.status = 'submitted' BEGIN "
        f"{_ADD.format(r='NEW')} END",
        f"CREATE TRIGGER review_waiting_update AFTER UPDATE OF {_FOLLOWED} ON assessment WHEN {_MOVES} BEGIN "
        f"{_REMOVE} {_ADD.format(r='NEW')} END",
        f"CREATE TRIGGER review_waiting_role AFTER UPDATE OF role ON \"user\" WHEN {_ROLE_MOVES} BEGIN {_ROLE} END",
    ]


def _postgresql_triggers() -> list[str]:
    return [
        f"""
CREATE FUNCTION review_waiting_follow_assessment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    {_REMOVE}
  END IF;
  {_ADD.format(r='NEW')}
  RETURN NULL;
END $$""",
        f"""
CREATE FUNCTION review_waiting_follow_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_ROLE}
  RETURN NULL;
END $$""",
        "CREATE TRIGGER review_waiting_insert AFTER INSERT ON assessment FOR EACH ROW "
        "WHEN (NEW.status = 'submitted') EXECUTE FUNCTION review_waiting_follow_assessment()",
        f"CREATE TRIGGER review_waiting_update AFTER UPDATE OF {_FOLLOWED} ON assessment FOR EACH ROW "
        f"WHEN ({_MOVES}) EXECUTE FUNCTION review_waiting_follow_assessment()",
        f"CREATE TRIGGER review_waiting_role AFTER UPDATE OF role ON \"user\" FOR EACH ROW WHEN ({_ROLE_MOVES}) "
        "EXECUTE FUNCTION review_waiting_follow_role()",
    ]


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("review_waiting_insert", "review_waiting_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON assessment")
        op.execute('DROP TRIGGER IF EXISTS review_waiting_role ON "user"')
        op.execute("DROP FUNCTION IF EXISTS review_waiting_follow_assessment()")
        op.execute("DROP FUNCTION IF EXISTS review_waiting_follow_role()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade():
    op.create_table(
        'review_waiting',
        sa.Column('assessment_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'],
                                name=op.f('fk_review_waiting_assessment_id_assessment'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('assessment_id', name=op.f('pk_review_waiting')),
    )
    op.create_index('ix_review_waiting_order', 'review_waiting', ['year_id', 'submitted_at', 'assessment_id'])
    op.execute(sa.text(_FILL))
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _postgresql_triggers() if postgresql else _sqlite_triggers():
        op.execute(sa.text(statement))


def downgrade():
    _drop_triggers()
    op.drop_index('ix_review_waiting_order', table_name='review_waiting')
    op.drop_table('review_waiting')
