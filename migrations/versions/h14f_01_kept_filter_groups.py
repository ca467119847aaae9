"""the district's figures kept per unit kind and assessment status as well (the overview's filters by kind and status):
`district_group` (year, kind, status, slot), `district_group_criterion` (year, criterion, kind, status, slot) and
`request_group` (request, kind, status), moved by delta by row triggers on `branch_summary`, `assessment_tally`,
`submission` and `submission_request`, as those of h14k_01 move the district's totals

Revision ID: h14f_01
Revises: h14b_01

The same definitions as h14k_01 (its DISTRICT and CRITERION column expressions, read from that revision's file, so
that a group's totals are the district's, split): a filter by unit kind and/or status adds a few kept rows instead
of aggregating its branches' summaries and tallies. The kind and status of a group are those copied into the
branch's summary (`branch_summary.unit_kind`, `status`); '' stands for none (a branch not started). A summary whose
kind or status changes moves its part, its tallies' and its handed-in submissions' from one group to the other. The
upgrade fills the tables from the summaries, tallies and submissions, as `flask --app wsgi rebuild-figures` does
(services/figures.py `rebuild_district`).
Triggers of their own on summaries, submissions and requests, beside h14k_01's; on a tally (written by the hundred
thousand in a seed or a rebuild) h14k_01's triggers (SQLite) and function (PostgreSQL) are made again to do both
tables' work, and on SQLite only for a tally that an active summary counts (one probe for a member's, as before).
The downgrade restores h14k_01's own. A later migration that rebuilds `branch_summary`, `assessment_tally` or
`submission` in SQLite's batch mode must create these again too.

The tables, triggers and statements are made by `Grouping` from the group's columns (`FILTERS` here), so that a
later revision can widen the key with the same builders, loading this file as this one loads h14k_01's (h14ap_01
adds the appraisal class). The SQL this revision runs is the same as before that parametrisation, byte for byte.
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = 'h14f_01'
down_revision = 'h14b_01'
branch_labels = None
depends_on = None


def _h14k():
    """Migration h14k_01's module: the column definitions the groups share with the district's totals."""
    path = Path(__file__).with_name("h14k_01_kept_district_figures.py")
    spec = importlib.util.spec_from_file_location("h14k_01", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_K = _h14k()
DISTRICT, CRITERION, _HANDED = _K.DISTRICT, _K.CRITERION, _K._HANDED
_values, _names, _added, _changed, _swap, _RETURN = _K._values, _K._names, _K._added, _K._changed, _K._swap, _K._RETURN
_SLOT = "{r}.branch_id % 16"
_YEAR_THERE = "EXISTS (SELECT 1 FROM campaign_year y WHERE y.id = {table}.year_id)"
_CRITERION_THERE = (_YEAR_THERE.format(table="district_group_criterion")
                    + " AND EXISTS (SELECT 1 FROM criterion c WHERE c.id = district_group_criterion.criterion_id)")
_SUMMARY_MOVES = ("progress", "score", "not_met")  # (the status is the group's: another status is another group)
SQLITE_TRIGGERS = ("district_group_insert", "district_group_delete", "district_group_update", "district_group_move",
                   "district_group_criteria", "district_group_handed", "request_group_insert", "request_group_delete",
                   "request_group_update", "request_group_year")
SQLITE_TALLY_TRIGGERS = ("district_tally_insert", "district_tally_delete", "district_tally_update",
                         "district_tally_move")
_FUNCTIONS = (("group_follow_summary", "branch_summary"), ("group_follow_submission", "submission"))


def _counted(r: str) -> str:
    """That the tally {r} is counted: an active summary has its assessment."""
    return f"EXISTS (SELECT 1 FROM branch_summary s WHERE s.assessment_id = {r}.assessment_id AND s.active)"


def _sqlite(condition: str) -> str:
    return condition.replace("IS NOT DISTINCT FROM", "IS").replace("IS DISTINCT FROM", "IS NOT")


class Grouping:
    """The tables, triggers and statements of the totals per group, for a group made of some of the summary's columns
    (`columns`: (name, its value for the summary {r}), each a column of the same name in the three tables' keys):
    this revision's are the unit kind and the status (`FILTERS`); a later revision widens the key with these same
    builders (h14ap_01: the appraisal class too)."""

    def __init__(self, columns: tuple[tuple[str, str], ...]):
        self.columns = columns
        self.names = ", ".join(name for name, _expr in columns)  # the group's columns in the tables' keys

    def of(self, r: str) -> str:
        """The group of the summary {r}: its columns' values."""
        return ", ".join(expr.format(r=r) for _name, expr in self.columns)

    def group(self, r: str) -> str:  # a summary's group and slot
        return f"{self.of(r)}, {_SLOT.format(r=r)}"

    def match(self, r: str) -> str:
        """WHERE of the rows of the summary {r}'s group (without the year or slot)."""
        return " AND ".join(f"{name} = {expr.format(r=r)}" for name, expr in self.columns)

    def key(self, r: str) -> str:
        """WHERE of a group's row (without the year) for the summary {r}."""
        return f"{self.match(r)} AND slot = {_SLOT.format(r=r)}"

    def add_summary(self, r: str) -> str:
        return (f"INSERT INTO district_group (year_id, {self.names}, slot, {_names(DISTRICT)}) SELECT {r}.year_id, "
                f"{self.group(r)}, {_values(DISTRICT, r)} WHERE {r}.active "
                f"ON CONFLICT (year_id, {self.names}, slot) DO UPDATE SET {_added(DISTRICT, 'district_group')};")

    def remove_summary(self, r: str) -> str:
        moves = ", ".join(f"{name} = {name} - ({expr.format(r=r)})" for name, expr in DISTRICT)
        return (f"UPDATE district_group SET {moves} WHERE year_id = {r}.year_id AND {self.key(r)} AND {r}.active "
                f"AND {_YEAR_THERE.format(table='district_group')};")

    def move_summary(self) -> str:  # an active summary stays in its year and group: one write of the difference
        moves = ", ".join(f"{name} = {name} + ({expr.format(r='NEW')}) - ({expr.format(r='OLD')})"
                          for name, expr in DISTRICT[1:])
        return f"UPDATE district_group SET {moves} WHERE year_id = NEW.year_id AND {self.key('NEW')};"

    def add_criteria(self, r: str) -> str:
        return (f"INSERT INTO district_group_criterion (year_id, criterion_id, {self.names}, slot, "
                f"{_names(CRITERION)}) SELECT {r}.year_id, t.criterion_id, {self.group(r)}, "
                f"{_values(CRITERION, 't')} FROM assessment_tally t WHERE t.assessment_id = {r}.assessment_id AND "
                f"{r}.active ON CONFLICT (year_id, criterion_id, {self.names}, slot) DO UPDATE SET "
                f"{_added(CRITERION, 'district_group_criterion')};")

    def remove_criteria(self, r: str) -> str:
        moves = ", ".join(
            f"{name} = {name} - (SELECT {expr.format(r='t')} FROM assessment_tally t WHERE t.assessment_id = "
            f"{r}.assessment_id AND t.criterion_id = district_group_criterion.criterion_id)"
            for name, expr in CRITERION)
        return (f"UPDATE district_group_criterion SET {moves} WHERE year_id = {r}.year_id AND {self.key(r)} AND "
                f"{r}.active AND criterion_id IN (SELECT t.criterion_id FROM assessment_tally t WHERE "
                f"t.assessment_id = {r}.assessment_id) AND {_CRITERION_THERE};")

    def counted_in(self, r: str) -> str:
        """SELECT of the (year, group, slot) of the active summary that counts the tally {r}."""
        return (f"SELECT s.year_id, {self.group('s')} FROM branch_summary s "
                f"WHERE s.assessment_id = {r}.assessment_id AND s.active")

    def add_tally(self, r: str) -> str:
        return (f"INSERT INTO district_group_criterion (year_id, criterion_id, {self.names}, slot, "
                f"{_names(CRITERION)}) SELECT s.year_id, {r}.criterion_id, {self.group('s')}, "
                f"{_values(CRITERION, r)} FROM branch_summary s WHERE s.assessment_id = {r}.assessment_id AND "
                f"s.active ON CONFLICT (year_id, criterion_id, {self.names}, slot) DO UPDATE SET "
                f"{_added(CRITERION, 'district_group_criterion')};")

    def remove_tally(self, r: str) -> str:
        moves = ", ".join(f"{name} = {name} - ({expr.format(r=r)})" for name, expr in CRITERION)
        return (f"UPDATE district_group_criterion SET {moves} WHERE criterion_id = {r}.criterion_id "
                f"AND (year_id, {self.names}, slot) IN ({self.counted_in(r)}) AND {_CRITERION_THERE};")

    def move_tally(self) -> str:
        moves = ", ".join(f"{name} = {name} + ({expr.format(r='NEW')}) - ({expr.format(r='OLD')})"
                          for name, expr in CRITERION)
        return (f"UPDATE district_group_criterion SET {moves} WHERE criterion_id = NEW.criterion_id "
                f"AND (year_id, {self.names}, slot) IN ({self.counted_in('NEW')});")

    # The overdue card's handed-in submissions per request and group, of branches active in the request's year.
    def _summary_of(self, r: str) -> str:
        return (f"FROM submission_request q JOIN branch_summary b ON b.year_id = q.year_id "
                f"AND b.branch_id = {r}.branch_id WHERE q.id = {r}.request_id AND b.active")

    def _add_handed(self) -> str:
        return (f"ON CONFLICT (request_id, {self.names}) DO UPDATE SET handed = request_group.handed "
                "+ excluded.handed;")

    def add_submission(self, r: str) -> str:
        return (f"INSERT INTO request_group (request_id, {self.names}, handed) SELECT {r}.request_id, "
                f"{self.of('b')}, 1 {self._summary_of(r)} AND {r}.status IN {_HANDED} {self._add_handed()}")

    def remove_submission(self, r: str) -> str:
        return (f"UPDATE request_group SET handed = handed - 1 WHERE request_id = {r}.request_id "
                f"AND {r}.status IN {_HANDED} AND ({self.names}) IN (SELECT {self.of('b')} {self._summary_of(r)});")

    @staticmethod
    def _branch_handed(r: str) -> str:
        return ("SELECT s.request_id FROM submission s JOIN submission_request q ON q.id = s.request_id "
                f"WHERE s.branch_id = {r}.branch_id AND q.year_id = {r}.year_id AND s.status IN {_HANDED}")

    def add_branch_handed(self, r: str) -> str:
        return (f"INSERT INTO request_group (request_id, {self.names}, handed) SELECT request_id, "
                f"{self.of(r)}, 1 FROM ({self._branch_handed(r)}) handed WHERE {r}.active {self._add_handed()}")

    def remove_branch_handed(self, r: str) -> str:
        return (f"UPDATE request_group SET handed = handed - 1 WHERE {r}.active AND {self.match(r)} "
                f"AND request_id IN ({self._branch_handed(r)});")

    def request_count(self, r: str) -> str:
        return (f"SELECT {r}.id, {self.of('b')}, count(s.id) FROM submission s JOIN branch_summary b "
                f"ON b.year_id = {r}.year_id AND b.branch_id = s.branch_id WHERE s.request_id = {r}.id AND b.active "
                f"AND s.status IN {_HANDED} GROUP BY {self.of('b')}")

    def recount_request(self) -> str:  # a request moved to another year: its branches are that year's
        return ("DELETE FROM request_group WHERE request_id = NEW.id; "
                f"INSERT INTO request_group (request_id, {self.names}, handed) {self.request_count('NEW')};")

    def same(self) -> str:
        """That an update leaves an active summary active in its year, branch and group."""
        return ("OLD.active AND NEW.active AND OLD.year_id = NEW.year_id AND OLD.branch_id = NEW.branch_id AND "
                + " AND ".join(f"OLD.{name} IS NOT DISTINCT FROM NEW.{name}" for name, _expr in self.columns))

    def group_moved(self) -> str:
        """That an update moves a summary to another year, branch or group."""
        return ("OLD.year_id <> NEW.year_id OR OLD.branch_id <> NEW.branch_id OR "
                + " OR ".join(f"OLD.{name} IS DISTINCT FROM NEW.{name}" for name, _expr in self.columns))

    def sqlite_triggers(self) -> list[str]:
        same = _sqlite(self.same())
        moved = _sqlite(self.group_moved())
        counted = f"OLD.active IS NOT NEW.active OR OLD.assessment_id IS NOT NEW.assessment_id OR {moved}"
        tally_same = "OLD.assessment_id = NEW.assessment_id AND OLD.criterion_id = NEW.criterion_id"
        return [
            "CREATE TRIGGER district_group_insert AFTER INSERT ON branch_summary WHEN NEW.active BEGIN "
            f"{self.add_summary('NEW')} {self.add_criteria('NEW')} {self.add_branch_handed('NEW')} END",
            "CREATE TRIGGER district_group_delete AFTER DELETE ON branch_summary WHEN OLD.active BEGIN "
            f"{self.remove_summary('OLD')} {self.remove_criteria('OLD')} {self.remove_branch_handed('OLD')} END",
            f"CREATE TRIGGER district_group_update AFTER UPDATE ON branch_summary WHEN {same} AND "
            f"({_changed(_SUMMARY_MOVES, 'IS NOT')}) BEGIN {self.move_summary()} END",
            "CREATE TRIGGER district_group_move AFTER UPDATE ON branch_summary WHEN (OLD.active OR NEW.active) AND "
            f"NOT ({same}) BEGIN {self.remove_summary('OLD')} {self.add_summary('NEW')} END",
            "CREATE TRIGGER district_group_criteria AFTER UPDATE ON branch_summary WHEN (OLD.active OR NEW.active) "
            f"AND ({counted}) BEGIN {self.remove_criteria('OLD')} {self.add_criteria('NEW')} END",
            "CREATE TRIGGER district_group_handed AFTER UPDATE ON branch_summary WHEN (OLD.active OR NEW.active) AND "
            f"(OLD.active IS NOT NEW.active OR {moved}) BEGIN {self.remove_branch_handed('OLD')} "
            f"{self.add_branch_handed('NEW')} END",
            # A tally's triggers are h14k_01's, each doing both tables' work, and only for a tally counted by an
            # active summary (a member's tallies, most of them, cost one probe as before).
            f"CREATE TRIGGER district_tally_insert AFTER INSERT ON assessment_tally WHEN {_counted('NEW')} BEGIN "
            f"{_K._add_tally('NEW')} {self.add_tally('NEW')} END",
            f"CREATE TRIGGER district_tally_delete AFTER DELETE ON assessment_tally WHEN {_counted('OLD')} BEGIN "
            f"{_K._remove_tally('OLD')} {self.remove_tally('OLD')} END",
            f"CREATE TRIGGER district_tally_update AFTER UPDATE ON assessment_tally WHEN {tally_same} AND "
            f"({_changed(('progress', 'score'), 'IS NOT')}) AND {_counted('NEW')} BEGIN {_K._move_tally()} "
            f"{self.move_tally()} END",
            f"CREATE TRIGGER district_tally_move AFTER UPDATE ON assessment_tally WHEN NOT ({tally_same}) BEGIN "
            f"{_K._remove_tally('OLD')} {_K._add_tally('NEW')} {self.remove_tally('OLD')} {self.add_tally('NEW')} END",
            f"CREATE TRIGGER request_group_insert AFTER INSERT ON submission BEGIN {self.add_submission('NEW')} END",
            f"CREATE TRIGGER request_group_delete AFTER DELETE ON submission BEGIN {self.remove_submission('OLD')} END",
            "CREATE TRIGGER request_group_update AFTER UPDATE ON submission WHEN OLD.status IS NOT NEW.status OR "
            "OLD.request_id <> NEW.request_id OR OLD.branch_id <> NEW.branch_id BEGIN "
            f"{self.remove_submission('OLD')} {self.add_submission('NEW')} END",
            "CREATE TRIGGER request_group_year AFTER UPDATE ON submission_request WHEN OLD.year_id <> NEW.year_id "
            f"BEGIN {self.recount_request()} END",
        ]

    def postgresql_triggers(self) -> list[str]:
        # As h14k_01's: one function per table, a deletion followed BEFORE the row goes (a cascade from a branch
        # deleted reaches its summaries and its tallies; whichever goes first removes the pair).
        moved = self.group_moved()
        counted = f"TG_OP <> 'UPDATE' OR OLD.active IS DISTINCT FROM NEW.active OR OLD.assessment_id IS DISTINCT " \
                  f"FROM NEW.assessment_id OR {moved}"
        handed = f"TG_OP <> 'UPDATE' OR OLD.active IS DISTINCT FROM NEW.active OR {moved}"
        summary = f"""
CREATE FUNCTION group_follow_summary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND {self.same()} THEN
    IF {_changed(_SUMMARY_MOVES, 'IS DISTINCT FROM')} THEN
      {self.move_summary()}
    END IF;
  ELSE
    {_swap(self.remove_summary, self.add_summary)}
  END IF;
  IF {counted} THEN
    {_swap(self.remove_criteria, self.add_criteria)}
  END IF;
  IF {handed} THEN
    {_swap(self.remove_branch_handed, self.add_branch_handed)}
  END IF;
  {_RETURN}
END $$"""
        # h14k_01's function of a tally, doing both tables' work (its trigger stays).
        tally = f"""
CREATE OR REPLACE FUNCTION district_follow_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.assessment_id = NEW.assessment_id AND OLD.criterion_id = NEW.criterion_id THEN
    IF {_changed(('progress', 'score'), 'IS DISTINCT FROM')} THEN
      {_K._move_tally()}
      {self.move_tally()}
    END IF;
  ELSE
    {_swap(_K._remove_tally, _K._add_tally)}
    {_swap(self.remove_tally, self.add_tally)}
  END IF;
  {_RETURN}
END $$"""
        submission = f"""
CREATE FUNCTION group_follow_submission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR OLD.status IS DISTINCT FROM NEW.status OR OLD.request_id <> NEW.request_id
     OR OLD.branch_id <> NEW.branch_id THEN
    {_swap(self.remove_submission, self.add_submission)}
  END IF;
  {_RETURN}
END $$"""
        request = f"""
CREATE FUNCTION group_follow_year() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {self.recount_request()}
  RETURN NULL;
END $$"""
        return [summary, tally, submission, request,
                "CREATE TRIGGER group_follow_year AFTER UPDATE ON submission_request FOR EACH ROW "
                "WHEN (OLD.year_id <> NEW.year_id) EXECUTE FUNCTION group_follow_year()", *(
                    f"CREATE TRIGGER {name}{suffix} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
                    for name, table in _FUNCTIONS
                    for suffix, when in (("", "AFTER INSERT OR UPDATE"), ("_delete", "BEFORE DELETE")))]

    def create_triggers(self) -> None:
        """The triggers of the totals per group; on a tally, h14k_01's made again doing both tables' work."""
        postgresql = op.get_bind().dialect.name == "postgresql"
        if not postgresql:
            for name in SQLITE_TALLY_TRIGGERS:  # h14k_01's, made again doing both tables' work
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in self.postgresql_triggers() if postgresql else self.sqlite_triggers():
            op.execute(sa.text(statement))

    def group_columns(self) -> list:
        return [*(sa.Column(name, sa.String(length=24), nullable=False) for name, _expr in self.columns),
                sa.Column('slot', sa.Integer(), nullable=False)]

    def create_tables(self) -> None:
        names = [name for name, _expr in self.columns]
        op.create_table(
            'district_group',
            sa.Column('year_id', sa.Integer(), nullable=False), *self.group_columns(),
            *(sa.Column(name, sa.Integer(), nullable=False) for name, _expr in DISTRICT),
            _year_key('district_group'),
            sa.PrimaryKeyConstraint('year_id', *names, 'slot', name=op.f('pk_district_group')),
        )
        op.create_table(
            'district_group_criterion',
            sa.Column('year_id', sa.Integer(), nullable=False),
            sa.Column('criterion_id', sa.Integer(), nullable=False), *self.group_columns(),
            *(sa.Column(name, sa.Integer(), nullable=False) for name, _expr in CRITERION),
            sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'],
                                    name=op.f('fk_district_group_criterion_criterion_id_criterion'),
                                    ondelete='CASCADE'),
            _year_key('district_group_criterion'),
            sa.PrimaryKeyConstraint('year_id', 'criterion_id', *names, 'slot',
                                    name=op.f('pk_district_group_criterion')),
        )
        op.create_table(
            'request_group',
            sa.Column('request_id', sa.Integer(), nullable=False), *self.group_columns()[:-1],
            sa.Column('handed', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(['request_id'], ['submission_request.id'],
                                    name=op.f('fk_request_group_request_id_submission_request'), ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('request_id', *names, name=op.f('pk_request_group')),
        )

    def fill(self) -> None:
        """The three tables computed from the summaries, tallies and submissions (`rebuild-figures` does the same:
        services/figures.py `rebuild_district`)."""
        group = self.group("s")
        op.execute(sa.text(f"INSERT INTO district_group (year_id, {self.names}, slot, {_names(DISTRICT)}) "
                           f"SELECT s.year_id, {group}, {_K._sums(DISTRICT, 's')} FROM branch_summary s "
                           f"WHERE s.active GROUP BY s.year_id, {group}"))
        op.execute(sa.text(f"INSERT INTO district_group_criterion (year_id, criterion_id, {self.names}, slot, "
                           f"{_names(CRITERION)}) SELECT s.year_id, t.criterion_id, {group}, "
                           f"{_K._sums(CRITERION, 't')} FROM branch_summary s JOIN assessment_tally t ON "
                           f"t.assessment_id = s.assessment_id WHERE s.active GROUP BY s.year_id, t.criterion_id, "
                           f"{group}"))
        op.execute(sa.text(f"INSERT INTO request_group (request_id, {self.names}, handed) "
                           + self.request_count("r").replace("FROM submission s", "FROM submission_request r JOIN "
                                                             "submission s ON s.request_id = r.id")
                           .replace(" GROUP BY ", " GROUP BY r.id, ")))


# This revision's groups: the unit kind and the status copied into the summary ('' for none).
FILTERS = Grouping((("unit_kind", "COALESCE({r}.unit_kind, '')"), ("status", "COALESCE({r}.status, '')")))


def drop_triggers() -> None:
    """The triggers of the totals per group (of any `Grouping`: the same names) dropped, and h14k_01's own of a
    tally made again as they were."""
    if op.get_bind().dialect.name == "postgresql":
        for name, table in _FUNCTIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {name}_delete ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        op.execute("DROP TRIGGER IF EXISTS group_follow_year ON submission_request")
        op.execute("DROP FUNCTION IF EXISTS group_follow_year()")
        tally = next(f for f in _K._postgresql_triggers() if "FUNCTION district_follow_tally()" in f)
        op.execute(sa.text(tally.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")))  # h14k_01's alone
    else:
        for name in SQLITE_TRIGGERS + SQLITE_TALLY_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in _K._sqlite_triggers():  # h14k_01's tally triggers as they were
            if statement.startswith(tuple(f"CREATE TRIGGER {name} " for name in SQLITE_TALLY_TRIGGERS)):
                op.execute(sa.text(statement))


def _year_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'], name=op.f(f'fk_{table}_year_id_campaign_year'),
                                   ondelete='CASCADE')


def drop_tables() -> None:
    op.drop_table('request_group')
    op.drop_table('district_group_criterion')
    op.drop_table('district_group')


def upgrade():
    FILTERS.create_tables()
    FILTERS.fill()
    FILTERS.create_triggers()


def downgrade():
    drop_triggers()
    drop_tables()
