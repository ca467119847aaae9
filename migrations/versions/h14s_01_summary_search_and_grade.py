"""what the overview's name search and grade filter read, kept on the branch summary: `search_text` (the branch's name
and brand, folded) and `grade` (its grade in force this year), each with an index

Revision ID: h14s_01
Revises: h14ap_01

The overview's name search decided each branch by two LIKEs, one of them over the branch table's brand, and its grade
filter by a list of the year's grade records: a count of the matches read every summary and every branch (2.5 and
3 ms at 2,000 branches, as much as the rest of the page). Now a search counts its matches from an index of the
summaries' `search_text` alone (`ix_branch_summary_search`), and a grade is a range of `ix_branch_summary_grade_order`,
read in the page's order.

`search_text` is the branch's `name || '\n' || brand` in the search's fold, NFKC and case folded (services/figures.py
`search_text`: SQLite's `portal_fold`, the portal's function; PostgreSQL's `lower(normalize(…, NFKC))`), recomputed
with the rest of the summary (`figures._computed`, as the copied name is). `grade` is COALESCE(confirmed, proposed) of
the branch's grade record of the summary's year (分类定级; NULL without one): recomputed with the summary, and moved
by row triggers on `grade_record` (SQLite: three triggers; PostgreSQL: a plpgsql function), since grades are also
written in bulk by Core statements that the portal's flush hooks do not see. `figures.district_triggers_suspended`
suspends these with the audit events' (the demo's load recomputes the summaries afterwards).
The upgrade fills both columns from the branches and grade records; the downgrade drops the triggers, indexes and
columns.
"""
import sqlalchemy as sa
from alembic import op

revision = 'h14s_01'
down_revision = 'h14ap_01'
branch_labels = None
depends_on = None

_SET = ("UPDATE branch_summary SET grade = COALESCE(NEW.confirmed, NEW.proposed) "
        "WHERE year_id = NEW.year_id AND branch_id = NEW.branch_id;")
_CLEAR = "UPDATE branch_summary SET grade = NULL WHERE year_id = OLD.year_id AND branch_id = OLD.branch_id;"
_MOVED = ("OLD.confirmed IS DISTINCT FROM NEW.confirmed OR OLD.proposed IS DISTINCT FROM NEW.proposed "
          "OR OLD.year_id IS DISTINCT FROM NEW.year_id OR OLD.branch_id IS DISTINCT FROM NEW.branch_id "
          "OR OLD.member_id IS DISTINCT FROM NEW.member_id")
_TRIGGERS = ("summary_grade_insert", "summary_grade_update", "summary_grade_delete")


def _sqlite(condition: str) -> str:
    return condition.replace("IS DISTINCT FROM", "IS NOT")


def upgrade():
    # (ALTER TABLE on SQLite too, not a batch rebuild: the table's triggers of h14k_01 and h14f_01 stay.)
    op.add_column("branch_summary", sa.Column("search_text", sa.String(600), server_default="", nullable=False))
    op.add_column("branch_summary", sa.Column("grade", sa.String(24), nullable=True))
    # The search's fold (services/figures.py `search_fold`): SQLite's portal_fold is the portal's own function,
    # registered on each of its connections (portal/database.py), which this migration runs on.
    fold = ("lower(normalize({}, NFKC))" if op.get_bind().dialect.name == "postgresql" else "portal_fold({})")
    op.execute(sa.text(
        "UPDATE branch_summary SET search_text = (SELECT "
        + fold.format("b.name || :newline || COALESCE(b.brand_name, '')")
        + " FROM branch b WHERE b.id = branch_summary.branch_id), grade = (SELECT COALESCE(g.confirmed, g.proposed) "
        "FROM grade_record g WHERE g.year_id = branch_summary.year_id AND g.branch_id = branch_summary.branch_id "
        "AND g.member_id IS NULL)").bindparams(newline="\n"))
    op.create_index("ix_branch_summary_grade_order", "branch_summary",
                    ["year_id", "active", "grade", "sort_key", "name"])
    op.create_index("ix_branch_summary_search", "branch_summary", ["year_id", "active", "search_text"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"""
CREATE FUNCTION summary_follow_grade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    IF OLD.member_id IS NULL THEN {_CLEAR} END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    IF NEW.member_id IS NULL THEN {_SET} END IF;
  END IF;
  RETURN NULL;
END $$"""))
        op.execute(sa.text("CREATE TRIGGER summary_follow_grade AFTER INSERT OR DELETE ON grade_record FOR EACH ROW "
                           "EXECUTE FUNCTION summary_follow_grade()"))
        op.execute(sa.text("CREATE TRIGGER summary_follow_grade_update AFTER UPDATE ON grade_record FOR EACH ROW "
                           f"WHEN ({_MOVED}) EXECUTE FUNCTION summary_follow_grade()"))
    else:
        op.execute(sa.text("CREATE TRIGGER summary_grade_insert AFTER INSERT ON grade_record "
                           f"WHEN NEW.member_id IS NULL BEGIN {_SET} END"))
        op.execute(sa.text(f"CREATE TRIGGER summary_grade_update AFTER UPDATE ON grade_record WHEN {_sqlite(_MOVED)} "
                           f"BEGIN {_CLEAR.replace('WHERE', 'WHERE OLD.member_id IS NULL AND')} "
                           f"{_SET.replace('WHERE', 'WHERE NEW.member_id IS NULL AND')} END"))
        op.execute(sa.text("CREATE TRIGGER summary_grade_delete AFTER DELETE ON grade_record "
                           f"WHEN OLD.member_id IS NULL BEGIN {_CLEAR} END"))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS summary_follow_grade_update ON grade_record")
        op.execute("DROP TRIGGER IF EXISTS summary_follow_grade ON grade_record")
        op.execute("DROP FUNCTION IF EXISTS summary_follow_grade()")
    else:
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_branch_summary_search", table_name="branch_summary")
    op.drop_index("ix_branch_summary_grade_order", table_name="branch_summary")
    for column in ("grade", "search_text"):  # (SQLite 3.35+ drops a column in place: the triggers stay)
        op.execute(f"ALTER TABLE branch_summary DROP COLUMN {column}")
