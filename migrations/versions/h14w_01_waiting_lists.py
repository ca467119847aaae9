"""what waits for the district kept in lists: the self-assessments waiting for the leading group's review
(`review_waiting`) and the pledges waiting for the organisation section's approval (`pledge_waiting`), moved by row
triggers on `assessment`, `pledge` and the person's role

Revision ID: h14w_01
Revises: h14h_01

The leaders' review queue (portal/services/workqueue.py) is the year's branch checklists submitted and the
secretaries' own submitted; the organisation section's pledges (portal/services/pledges.py) are the branches'
pending and the secretaries' own. The role lives on `user` alone, so each query read the district's 2,000
secretaries, and sorted or counted every waiting row to show a page (the review queue 2.7 ms of SQLite at 2,000
branches, the pledges' count 1.5 ms and page 0.8 ms; none at 20: issue #14). Kept here, a page reads its rows off
the lists' indexes in order and a count reads the year's range of an index.

Derived data (portal/models/figures.py `ReviewWaiting`, `PledgeWaiting`; portal/services/figures.py): SQLite
triggers and PostgreSQL plpgsql functions with the same statements; an assessment or pledge deleted (itself, or with
its year, branch or person) takes its row with it by the foreign key's cascade, so no trigger follows deletes. The
upgrade fills the lists, as `flask --app wsgi rebuild-figures` does. A later migration that rebuilds `assessment`,
`pledge` or `user` in SQLite's batch mode (a copy of the table) drops these triggers with the old table: it must
create them again (`_sqlite_triggers`).
"""
import sqlalchemy as sa
from alembic import op

revision = 'h14w_01'
down_revision = 'h14h_01'
branch_labels = None
depends_on = None

# (kept list, its key, the table it follows, the status that waits, the columns copied, the columns it reads)
LISTS = (
    ("review_waiting", "assessment_id", "assessment", "submitted", ("year_id", "submitted_at"),
     "status, member_id, year_id, submitted_at"),
    ("pledge_waiting", "pledge_id", "pledge", "pending", ("year_id", "branch_id", "updated_at"),
     "status, member_id, year_id, branch_id, updated_at"),
)


def _waits(status: str, r: str) -> str:
    """Whether the row {r} waits for the district (rules "assessment.review", "pledge.approve"): in `status`, and the
    branch's own (no member) or its member's role now secretary."""
    return (f"{r}.status = '{status}' AND ({r}.member_id IS NULL OR EXISTS "
            f"(SELECT 1 FROM \"user\" u WHERE u.id = {r}.member_id AND u.role = 'secretary'))")


def _insert(kept: str, key: str, copied: tuple, r: str) -> str:
    return f"INSERT INTO {kept} ({key}, {', '.join(copied)}) SELECT {r}.id, {', '.join(f'{r}.{c}' for c in copied)}"


def _add(kept, key, _source, status, copied, _reads) -> str:
    return f"{_insert(kept, key, copied, 'NEW')} WHERE {_waits(status, 'NEW')};"


def _remove(kept, key, *_rest) -> str:
    return f"DELETE FROM {kept} WHERE {key} = OLD.id;"


def _role(kept, key, source, status, copied, _reads) -> str:
    """A person's role changed to or from secretary: their own rows join or leave the list."""
    return (f"DELETE FROM {kept} WHERE {key} IN (SELECT s.id FROM {source} s WHERE s.member_id = NEW.id); "
            f"{_insert(kept, key, copied, 's')} FROM {source} s WHERE s.member_id = NEW.id AND s.status = '{status}' "
            "AND NEW.role = 'secretary';")


def _fill(kept, key, source, status, copied, _reads) -> str:
    return f"{_insert(kept, key, copied, 's')} FROM {source} s WHERE {_waits(status, 's')}"


def _moves(status: str) -> str:
    return f"OLD.status = '{status}' OR NEW.status = '{status}'"


_ROLE_MOVES = "(OLD.role = 'secretary') <> (NEW.role = 'secretary')"


def _sqlite_triggers() -> list[str]:
    out = []
    for kept, key, source, status, copied, reads in LISTS:
        spec = (kept, key, source, status, copied, reads)
        out += [f"CREATE TRIGGER {kept}_insert AFTER INSERT ON {source} WHEN NEW.status = '{status}' BEGIN "
                f"{_add(*spec)} END",
                f"CREATE TRIGGER {kept}_update AFTER UPDATE OF {reads} ON {source} WHEN {_moves(status)} BEGIN "
                f"{_remove(*spec)} {_add(*spec)} END"]
    roles = " ".join(_role(*spec) for spec in LISTS)
    return [*out, f"CREATE TRIGGER waiting_role AFTER UPDATE OF role ON \"user\" WHEN {_ROLE_MOVES} BEGIN {roles} END"]


def _postgresql_triggers() -> list[str]:
    out = []
    for kept, key, source, status, copied, reads in LISTS:
        spec = (kept, key, source, status, copied, reads)
        out += [f"""
CREATE FUNCTION {kept}_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    {_remove(*spec)}
  END IF;
  {_add(*spec)}
  RETURN NULL;
END $$""",
                f"CREATE TRIGGER {kept}_insert AFTER INSERT ON {source} FOR EACH ROW "
                f"WHEN (NEW.status = '{status}') EXECUTE FUNCTION {kept}_follow()",
                f"CREATE TRIGGER {kept}_update AFTER UPDATE OF {reads} ON {source} FOR EACH ROW "
                f"WHEN ({_moves(status)}) EXECUTE FUNCTION {kept}_follow()"]
    roles = "\n  ".join(_role(*spec) for spec in LISTS)
    return [*out, f"""
CREATE FUNCTION waiting_follow_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {roles}
  RETURN NULL;
END $$""",
            f"CREATE TRIGGER waiting_role AFTER UPDATE OF role ON \"user\" FOR EACH ROW WHEN ({_ROLE_MOVES}) "
            "EXECUTE FUNCTION waiting_follow_role()"]


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
    op.create_table(
        'pledge_waiting',
        sa.Column('pledge_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], name=op.f('fk_pledge_waiting_pledge_id_pledge'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pledge_id', name=op.f('pk_pledge_waiting')),
    )
    op.create_index('ix_pledge_waiting_order', 'pledge_waiting', ['year_id', 'updated_at', 'pledge_id'])
    for spec in LISTS:
        op.execute(sa.text(_fill(*spec)))
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _postgresql_triggers() if postgresql else _sqlite_triggers():
        op.execute(sa.text(statement))


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    triggers = [(f"{kept}_{when}", source) for kept, _key, source, *_rest in LISTS for when in ("insert", "update")]
    for name, table in [*triggers, ("waiting_role", '"user"')]:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        for name in [f"{kept}_follow" for kept, *_rest in LISTS] + ["waiting_follow_role"]:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index('ix_pledge_waiting_order', table_name='pledge_waiting')
    op.drop_table('pledge_waiting')
    op.drop_index('ix_review_waiting_order', table_name='review_waiting')
    op.drop_table('review_waiting')
