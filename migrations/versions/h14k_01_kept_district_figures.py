"""the district's figures kept per year (`district_summary`: counts, sums and progress bands of the active branches'
summaries), per year and criterion (`district_criterion`: sums of their checklists' kept tallies) and per 报送 request
(`request_tally`: submissions handed in by active branches), moved by delta by row triggers on `branch_summary`,
`assessment_tally` and `submission`; an index on the summaries' assessment

Revision ID: h14k_01
Revises: h14x_01

Derived data (portal/models/figures.py, portal/services/figures.py): the summaries and tallies are written by
INSERT … SELECT … ON CONFLICT DO UPDATE, whose old values the portal never sees, so the database moves the totals in
the same statement: SQLite triggers, PostgreSQL plpgsql functions, with the same statements. Progress and score are
summed in tenths as integers (they are rounded to 0.1), so that deltas stay exact. The upgrade fills both tables from
the summaries and tallies, as `flask --app wsgi rebuild-figures` does.

A later migration that rebuilds `branch_summary` or `assessment_tally` in SQLite's batch mode (a copy of the table)
drops these triggers with the old table: it must create them again (`_create_triggers` here).
"""
import sqlalchemy as sa
from alembic import op

revision = 'h14k_01'
down_revision = 'h14x_01'
branch_labels = None
depends_on = None

# Each year's (and criterion's) totals are kept in 16 rows, a branch's part in row branch_id % 16, so that concurrent
# ticks of different branches seldom wait for one row's lock on PostgreSQL (bench/district_contention.py); readers
# add up the 16.
_SLOT = "{r}.branch_id % 16"
_TENTHS = "CAST(round({r}.{column} * 10) AS INTEGER)"
# What one summary row {r} adds to its year's totals when it is active (the bands: dashboard.HISTOGRAM_BINS, 20 % each).
DISTRICT = [
    ("branches", "1"),
    ("submitted", "CASE WHEN {r}.status IN ('submitted', 'reviewed') THEN 1 ELSE 0 END"),
    ("progress_tenths", _TENTHS.replace("{column}", "progress")),
    ("scored", "CASE WHEN {r}.score IS NOT NULL THEN 1 ELSE 0 END"),
    ("score_tenths", "COALESCE(" + _TENTHS.replace("{column}", "score") + ", 0)"),
    ("not_met", "{r}.not_met"),
    ("band_0", "CASE WHEN {r}.progress < 20 THEN 1 ELSE 0 END"),
    ("band_1", "CASE WHEN {r}.progress >= 20 AND {r}.progress < 40 THEN 1 ELSE 0 END"),
    ("band_2", "CASE WHEN {r}.progress >= 40 AND {r}.progress < 60 THEN 1 ELSE 0 END"),
    ("band_3", "CASE WHEN {r}.progress >= 60 AND {r}.progress < 80 THEN 1 ELSE 0 END"),
    ("band_4", "CASE WHEN {r}.progress >= 80 THEN 1 ELSE 0 END"),
]
# What one tally row {r} adds to its year's and criterion's sums when its summary is active.
CRITERION = [
    ("progress_tenths", _TENTHS.replace("{column}", "progress")),
    ("scored", "CASE WHEN {r}.score IS NOT NULL THEN 1 ELSE 0 END"),
    ("score_tenths", "COALESCE(" + _TENTHS.replace("{column}", "score") + ", 0)"),
]
_SUMMARY_MOVES = ("status", "progress", "score", "not_met")  # the summary's columns the totals read


def _values(columns, r: str) -> str:
    return ", ".join(expr.format(r=r) for _name, expr in columns)


def _names(columns) -> str:
    return ", ".join(name for name, _expr in columns)


def _added(columns, table: str) -> str:
    return ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name, _expr in columns)


# The statements, shared by both dialects ({r} is NEW or OLD; SQLite and plpgsql read them alike).
def _add_summary(r: str) -> str:
    return (f"INSERT INTO district_summary (year_id, slot, {_names(DISTRICT)}) SELECT {r}.year_id, "
            f"{_SLOT.format(r=r)}, {_values(DISTRICT, r)} WHERE {r}.active "
            f"ON CONFLICT (year_id, slot) DO UPDATE SET {_added(DISTRICT, 'district_summary')};")


# A removal is an UPDATE, and only of a row whose year (and criterion) is still there: a year or criterion deleted
# cascades to the summaries or tallies, whose triggers then find the kept row already deleted, or about to be (and
# PostgreSQL refuses to update a row whose key is gone).
_YEAR_THERE = "EXISTS (SELECT 1 FROM campaign_year y WHERE y.id = {table}.year_id)"
_CRITERION_THERE = (_YEAR_THERE.format(table="district_criterion")
                    + " AND EXISTS (SELECT 1 FROM criterion c WHERE c.id = district_criterion.criterion_id)")


def _remove_summary(r: str) -> str:
    moves = ", ".join(f"{name} = {name} - ({expr.format(r=r)})" for name, expr in DISTRICT)
    return (f"UPDATE district_summary SET {moves} WHERE year_id = {r}.year_id AND slot = {_SLOT.format(r=r)} "
            f"AND {r}.active "
            f"AND {_YEAR_THERE.format(table='district_summary')};")


def _move_summary() -> str:  # an active summary stays active in its year: one write of the difference
    moves = ", ".join(f"{name} = {name} + ({expr.format(r='NEW')}) - ({expr.format(r='OLD')})"
                      for name, expr in DISTRICT[1:])
    return f"UPDATE district_summary SET {moves} WHERE year_id = NEW.year_id AND slot = {_SLOT.format(r='NEW')};"


def _add_criteria(r: str) -> str:
    return (f"INSERT INTO district_criterion (year_id, criterion_id, slot, {_names(CRITERION)}) "
            f"SELECT {r}.year_id, t.criterion_id, {_SLOT.format(r=r)}, {_values(CRITERION, 't')} "
            f"FROM assessment_tally t WHERE t.assessment_id = {r}.assessment_id AND {r}.active "
            f"ON CONFLICT (year_id, criterion_id, slot) DO UPDATE SET {_added(CRITERION, 'district_criterion')};")


def _remove_criteria(r: str) -> str:
    moves = ", ".join(
        f"{name} = {name} - (SELECT {expr.format(r='t')} FROM assessment_tally t WHERE t.assessment_id = "
        f"{r}.assessment_id AND t.criterion_id = district_criterion.criterion_id)" for name, expr in CRITERION)
    return (f"UPDATE district_criterion SET {moves} WHERE year_id = {r}.year_id AND slot = {_SLOT.format(r=r)} "
            f"AND {r}.active AND criterion_id IN "
            f"(SELECT t.criterion_id FROM assessment_tally t WHERE t.assessment_id = {r}.assessment_id) "
            f"AND {_CRITERION_THERE};")


_COUNTED = ("SELECT s.year_id, s.branch_id % 16 FROM branch_summary s WHERE s.assessment_id = {r}.assessment_id "
            "AND s.active")


def _add_tally(r: str) -> str:
    return (f"INSERT INTO district_criterion (year_id, criterion_id, slot, {_names(CRITERION)}) "
            f"SELECT s.year_id, {r}.criterion_id, {_SLOT.format(r='s')}, {_values(CRITERION, r)} "
            f"FROM branch_summary s WHERE s.assessment_id = {r}.assessment_id AND s.active "
            f"ON CONFLICT (year_id, criterion_id, slot) DO UPDATE SET {_added(CRITERION, 'district_criterion')};")


def _remove_tally(r: str) -> str:
    moves = ", ".join(f"{name} = {name} - ({expr.format(r=r)})" for name, expr in CRITERION)
    return (f"UPDATE district_criterion SET {moves} WHERE criterion_id = {r}.criterion_id "
            f"AND (year_id, slot) IN ({_COUNTED.format(r=r)}) AND {_CRITERION_THERE};")


def _move_tally() -> str:
    moves = ", ".join(f"{name} = {name} + ({expr.format(r='NEW')}) - ({expr.format(r='OLD')})"
                      for name, expr in CRITERION)
    return (f"UPDATE district_criterion SET {moves} WHERE criterion_id = NEW.criterion_id "
            f"AND (year_id, slot) IN ({_COUNTED.format(r='NEW')});")


# The overdue card's handed-in submissions per request, of branches active in the request's year.
_HANDED = "('submitted', 'accepted')"
_ACTIVE_IN_YEAR = ("SELECT 1 FROM submission_request q JOIN branch_summary b ON b.year_id = q.year_id "
                   "AND b.branch_id = {r}.branch_id WHERE q.id = {r}.request_id AND b.active")


def _add_submission(r: str) -> str:
    return (f"INSERT INTO request_tally (request_id, handed) SELECT {r}.request_id, 1 WHERE {r}.status IN {_HANDED} "
            f"AND EXISTS ({_ACTIVE_IN_YEAR.format(r=r)}) "
            "ON CONFLICT (request_id) DO UPDATE SET handed = request_tally.handed + excluded.handed;")


def _remove_submission(r: str) -> str:  # (the request gone, its row is gone or going: nothing to do)
    return (f"UPDATE request_tally SET handed = handed - 1 WHERE request_id = {r}.request_id "
            f"AND {r}.status IN {_HANDED} AND EXISTS ({_ACTIVE_IN_YEAR.format(r=r)});")


_BRANCH_HANDED = ("SELECT s.request_id FROM submission s JOIN submission_request q ON q.id = s.request_id "
                  "WHERE s.branch_id = {r}.branch_id AND q.year_id = {r}.year_id AND s.status IN " + _HANDED)


def _add_branch_handed(r: str) -> str:
    return (f"INSERT INTO request_tally (request_id, handed) SELECT request_id, 1 FROM ({_BRANCH_HANDED.format(r=r)}) "
            f"handed WHERE {r}.active "
            "ON CONFLICT (request_id) DO UPDATE SET handed = request_tally.handed + excluded.handed;")


def _remove_branch_handed(r: str) -> str:
    return (f"UPDATE request_tally SET handed = handed - 1 WHERE {r}.active "
            f"AND request_id IN ({_BRANCH_HANDED.format(r=r)});")


_REQUEST_COUNT = ("SELECT {r}.id, count(s.id) FROM submission s JOIN branch_summary b ON b.year_id = {r}.year_id "
                  "AND b.branch_id = s.branch_id WHERE s.request_id = {r}.id AND b.active AND s.status IN " + _HANDED)


def _recount_request() -> str:  # a request moved to another year: its branches are that year's
    return ("DELETE FROM request_tally WHERE request_id = NEW.id; "
            f"INSERT INTO request_tally (request_id, handed) {_REQUEST_COUNT.format(r='NEW')};")


def _changed(columns, different: str) -> str:
    return " OR ".join(f"OLD.{name} {different} NEW.{name}" for name in columns)


def _sqlite_triggers() -> list[str]:
    same = "OLD.active AND NEW.active AND OLD.year_id = NEW.year_id AND OLD.branch_id = NEW.branch_id"
    counted = ("OLD.active IS NOT NEW.active OR OLD.assessment_id IS NOT NEW.assessment_id OR OLD.year_id <> NEW.year_id "
               "OR OLD.branch_id <> NEW.branch_id")
    tally_same = "OLD.assessment_id = NEW.assessment_id AND OLD.criterion_id = NEW.criterion_id"
    return [
        "CREATE TRIGGER district_summary_insert AFTER INSERT ON branch_summary WHEN NEW.active BEGIN "
        f"{_add_summary('NEW')} {_add_criteria('NEW')} {_add_branch_handed('NEW')} END",
        "CREATE TRIGGER district_summary_delete AFTER DELETE ON branch_summary WHEN OLD.active BEGIN "
        f"{_remove_summary('OLD')} {_remove_criteria('OLD')} {_remove_branch_handed('OLD')} END",
        f"CREATE TRIGGER district_summary_update AFTER UPDATE ON branch_summary WHEN {same} AND "
        f"({_changed(_SUMMARY_MOVES, 'IS NOT')}) BEGIN {_move_summary()} END",
        "CREATE TRIGGER district_summary_move AFTER UPDATE ON branch_summary WHEN (OLD.active OR NEW.active) AND "
        f"NOT ({same}) BEGIN {_remove_summary('OLD')} {_add_summary('NEW')} END",
        "CREATE TRIGGER district_summary_criteria AFTER UPDATE ON branch_summary WHEN (OLD.active OR NEW.active) AND "
        f"({counted}) BEGIN {_remove_criteria('OLD')} {_add_criteria('NEW')} END",
        "CREATE TRIGGER district_summary_handed AFTER UPDATE ON branch_summary WHEN (OLD.active OR NEW.active) AND "
        "(OLD.active IS NOT NEW.active OR OLD.year_id <> NEW.year_id OR OLD.branch_id <> NEW.branch_id) BEGIN "
        f"{_remove_branch_handed('OLD')} {_add_branch_handed('NEW')} END",
        f"CREATE TRIGGER district_tally_insert AFTER INSERT ON assessment_tally BEGIN {_add_tally('NEW')} END",
        f"CREATE TRIGGER district_tally_delete AFTER DELETE ON assessment_tally BEGIN {_remove_tally('OLD')} END",
        f"CREATE TRIGGER district_tally_update AFTER UPDATE ON assessment_tally WHEN {tally_same} AND "
        f"({_changed(('progress', 'score'), 'IS NOT')}) BEGIN {_move_tally()} END",
        f"CREATE TRIGGER district_tally_move AFTER UPDATE ON assessment_tally WHEN NOT ({tally_same}) BEGIN "
        f"{_remove_tally('OLD')} {_add_tally('NEW')} END",
        f"CREATE TRIGGER request_tally_insert AFTER INSERT ON submission BEGIN {_add_submission('NEW')} END",
        f"CREATE TRIGGER request_tally_delete AFTER DELETE ON submission BEGIN {_remove_submission('OLD')} END",
        "CREATE TRIGGER request_tally_update AFTER UPDATE ON submission WHEN OLD.status IS NOT NEW.status OR "
        "OLD.request_id <> NEW.request_id OR OLD.branch_id <> NEW.branch_id BEGIN "
        f"{_remove_submission('OLD')} {_add_submission('NEW')} END",
        "CREATE TRIGGER request_tally_year AFTER UPDATE ON submission_request WHEN OLD.year_id <> NEW.year_id BEGIN "
        f"{_recount_request()} END",
    ]


SQLITE_TRIGGERS = ("district_summary_insert", "district_summary_delete", "district_summary_update",
                   "district_summary_move", "district_summary_criteria", "district_tally_insert",
                   "district_tally_delete", "district_tally_update", "district_tally_move", "district_summary_handed",
                   "request_tally_insert", "request_tally_delete", "request_tally_update", "request_tally_year")


def _swap(remove, add) -> str:
    """plpgsql: the old row's part removed (UPDATE, DELETE) and the new row's added (INSERT, UPDATE)."""
    return (f"IF TG_OP <> 'INSERT' THEN {remove('OLD')} END IF;\n"
            f"    IF TG_OP <> 'DELETE' THEN {add('NEW')} END IF;")


_RETURN = "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n  RETURN NULL;"  # (BEFORE DELETE: go on with the delete)


def _postgresql_triggers() -> list[str]:
    # One function per table; OLD is NULL on INSERT and NEW on DELETE (PostgreSQL 11+), so `OLD.active` is NULL there.
    # A row deleted is followed BEFORE its deletion: a branch deleted cascades to its summaries and (through its
    # assessments) to their tallies, and an AFTER trigger would see both gone, the summary's tallies and the tally's
    # summary, and remove neither. Before, whichever goes first removes the pair, and the other finds it gone.
    # (SQLite runs a cascade and its triggers row by row, so its AFTER triggers see the same sequence.)
    counted = ("TG_OP <> 'UPDATE' OR OLD.active IS DISTINCT FROM NEW.active OR OLD.assessment_id IS DISTINCT FROM "
               "NEW.assessment_id OR OLD.year_id <> NEW.year_id OR OLD.branch_id <> NEW.branch_id")
    handed = ("TG_OP <> 'UPDATE' OR OLD.active IS DISTINCT FROM NEW.active OR OLD.year_id <> NEW.year_id "
              "OR OLD.branch_id <> NEW.branch_id")
    summary = f"""
CREATE FUNCTION district_follow_summary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.active AND NEW.active AND OLD.year_id = NEW.year_id AND OLD.branch_id = NEW.branch_id
  THEN
    IF {_changed(_SUMMARY_MOVES, 'IS DISTINCT FROM')} THEN
      {_move_summary()}
    END IF;
  ELSE
    {_swap(_remove_summary, _add_summary)}
  END IF;
  IF {counted} THEN
    {_swap(_remove_criteria, _add_criteria)}
  END IF;
  IF {handed} THEN
    {_swap(_remove_branch_handed, _add_branch_handed)}
  END IF;
  {_RETURN}
END $$"""
    tally = f"""
CREATE FUNCTION district_follow_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.assessment_id = NEW.assessment_id AND OLD.criterion_id = NEW.criterion_id THEN
    IF {_changed(('progress', 'score'), 'IS DISTINCT FROM')} THEN
      {_move_tally()}
    END IF;
  ELSE
    {_swap(_remove_tally, _add_tally)}
  END IF;
  {_RETURN}
END $$"""
    submission = f"""
CREATE FUNCTION request_follow_submission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR OLD.status IS DISTINCT FROM NEW.status OR OLD.request_id <> NEW.request_id
     OR OLD.branch_id <> NEW.branch_id THEN
    {_swap(_remove_submission, _add_submission)}
  END IF;
  {_RETURN}
END $$"""
    request = f"""
CREATE FUNCTION request_follow_year() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_recount_request()}
  RETURN NULL;
END $$"""
    return [summary, tally, submission, request,
            "CREATE TRIGGER request_follow_year AFTER UPDATE ON submission_request FOR EACH ROW "
            "WHEN (OLD.year_id <> NEW.year_id) EXECUTE FUNCTION request_follow_year()", *(
        f"CREATE TRIGGER {name}{suffix} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        for name, table in (("district_follow_summary", "branch_summary"), ("district_follow_tally", "assessment_tally"),
                            ("request_follow_submission", "submission"))
        for suffix, when in (("", "AFTER INSERT OR UPDATE"), ("_delete", "BEFORE DELETE")))]


def _create_triggers() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _postgresql_triggers() if postgresql else _sqlite_triggers():
        op.execute(sa.text(statement))


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table in (("district_follow_summary", "branch_summary"), ("district_follow_tally", "assessment_tally"),
                            ("request_follow_submission", "submission")):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {name}_delete ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        op.execute("DROP TRIGGER IF EXISTS request_follow_year ON submission_request")
        op.execute("DROP FUNCTION IF EXISTS request_follow_year()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _sums(columns, r: str) -> str:
    return ", ".join(f"COALESCE(sum({expr.format(r=r)}), 0)" for _name, expr in columns)


def upgrade():
    op.create_index('ix_branch_summary_assessment', 'branch_summary', ['assessment_id'])
    op.create_table(
        'district_summary',
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('slot', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name, _expr in DISTRICT),
        sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'],
                                name=op.f('fk_district_summary_year_id_campaign_year'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year_id', 'slot', name=op.f('pk_district_summary')),
    )
    op.create_table(
        'district_criterion',
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('slot', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name, _expr in CRITERION),
        sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'],
                                name=op.f('fk_district_criterion_criterion_id_criterion'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'],
                                name=op.f('fk_district_criterion_year_id_campaign_year'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year_id', 'criterion_id', 'slot', name=op.f('pk_district_criterion')),
    )
    op.execute(sa.text(f"INSERT INTO district_summary (year_id, slot, {_names(DISTRICT)}) "
                       f"SELECT s.year_id, s.branch_id % 16, {_sums(DISTRICT, 's')} FROM branch_summary s "
                       "WHERE s.active GROUP BY s.year_id, s.branch_id % 16"))
    op.execute(sa.text(f"INSERT INTO district_criterion (year_id, criterion_id, slot, {_names(CRITERION)}) "
                       f"SELECT s.year_id, t.criterion_id, s.branch_id % 16, {_sums(CRITERION, 't')} "
                       "FROM branch_summary s JOIN assessment_tally t ON t.assessment_id = s.assessment_id "
                       "WHERE s.active GROUP BY s.year_id, t.criterion_id, s.branch_id % 16"))
    op.create_table(
        'request_tally',
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('handed', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['submission_request.id'],
                                name=op.f('fk_request_tally_request_id_submission_request'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('request_id', name=op.f('pk_request_tally')),
    )
    op.execute(sa.text("INSERT INTO request_tally (request_id, handed) "
                       + _REQUEST_COUNT.format(r="r").replace("FROM submission s", "FROM submission_request r JOIN "
                                                              "submission s ON s.request_id = r.id")
                       + " GROUP BY r.id"))
    _create_triggers()


def downgrade():
    _drop_triggers()
    op.drop_table('request_tally')
    op.drop_table('district_criterion')
    op.drop_table('district_summary')
    op.drop_index('ix_branch_summary_assessment', table_name='branch_summary')
