"""Issue 14: a checklist tick's upserts (its answer, its assessment's tallies, its branch's summary) are compiled
once, not on every tick. SQLAlchemy 2.0's dialect `on_conflict_do_update()` constructs have no cache key, so each
execution compiled the whole INSERT … SELECT again — about 40 % of a tick's CPU (services/upsert.py)."""
import re
from datetime import date

from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.default import CACHE_HIT

from portal.extensions import db
from portal.models import AssessmentTally, BranchSummary, DistrictDay, ItemResult, Subject
from portal.services import figures, tallies
from portal.services.upsert import upsert_from_select, upsert_values

from ..checklist_helpers import items


def compiled_in(client, url: str, data: dict, rendered: list | None = None) -> list[str]:
    """The statements of one request that SQLAlchemy compiled (no compiled form in its cache); `rendered` gets those
    whose SQL text it completed at execution (expanding parameters, e.g. IN lists)."""
    compiled: list[str] = []

    def after(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.compiled is not None and context.cache_hit is not CACHE_HIT:
            compiled.append(statement)
        if rendered is not None and context is not None and context.compiled is not None and (
                context.compiled.post_compile_params or context.compiled.literal_execute_params):
            rendered.append(statement)

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        response = client.post(url, data=data, headers={"HX-Request": "true", "X-CSRFToken": client.csrf_token()})
        assert response.status_code == 200
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    return compiled


def test_a_second_tick_compiles_nothing(client, secretary, branch):
    client.login(secretary)
    first, second = items(Subject.BRANCH)[:2]
    url = f"/checklist/branch/{branch.id}/items/{{}}/result"
    client.post(url.format(first.id), data={"result": "met"},  # creates the assessment, warms the page's queries
                headers={"HX-Request": "true", "X-CSRFToken": client.csrf_token()})
    compiled_in(client, url.format(first.id), {"result": "partly"})
    # another item, another value: the same statements with other parameters
    rendered: list[str] = []
    again = compiled_in(client, url.format(second.id), {"result": "not_met"}, rendered)
    assert again == [], again
    # Nor are the kept figures' upserts completed at execution (their constant IN lists are bound: services/upsert.py).
    kept_figures = ("INSERT INTO assessment_tally", "INSERT INTO branch_summary")
    assert not [sql for sql in rendered if sql.startswith(kept_figures)]
    assert db.session.scalar(select(ItemResult.result).where(ItemResult.item_id == second.id)).value == "not_met"
    assert tallies.differences() == [] and figures.differences(db.session) == []


def test_the_tick_upserts_are_built_once(client, secretary, branch, monkeypatch):
    """After the first tick, the tally and summary upserts are not built again (building the summary's SELECT cost
    more CPU than running it): a second tick never calls the builders, and the kept figures stay right."""
    client.login(secretary)
    first, second = items(Subject.BRANCH)[:2]
    url = f"/checklist/branch/{branch.id}/items/{{}}/result"
    compiled_in(client, url.format(first.id), {"result": "met"})

    def built(*args, **kwargs):
        raise AssertionError("built again")

    monkeypatch.setattr(tallies, "_computed", built)
    monkeypatch.setattr(figures, "_computed", built)
    compiled_in(client, url.format(second.id), {"result": "partly"})
    monkeypatch.undo()
    assert tallies.differences() == [] and figures.differences(db.session) == []


def _stock(dialect, table, columns, select_stmt, key):
    """The dialect's own construct (uncacheable), for comparison."""
    stmt = dialect.insert(table).from_select(columns, select_stmt)
    return stmt.on_conflict_do_update(index_elements=key, set_={n: stmt.excluded[n] for n in columns if n not in key})


def _unnamed(sql: str) -> str:
    """SQL with PostgreSQL's named parameters as one placeholder (SQLite's are `?` already)."""
    return re.sub(r"%\(\w+\)s", "%s", sql)


def test_the_upserts_are_the_dialects_own_sql(app):
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql)):
        cases = [(AssessmentTally, tallies.TALLY_COLUMNS, tallies._computed([1, 2]), tallies.TALLY_COLUMNS[:2]),
                 (BranchSummary, figures.COLUMNS, figures._computed(name, [3]), figures.COLUMNS[:2]),
                 (DistrictDay, figures.DAY_COLUMNS, figures._days(1, date(2026, 1, 1)), figures.DAY_COLUMNS[:2])]
        for table, columns, select_stmt, key in cases:
            ours = upsert_from_select(name, table, columns, select_stmt, key)
            assert ours._generate_cache_key() is not None  # cacheable
            compiled = ours.compile(dialect=dialect.dialect())
            assert not compiled.post_compile_params  # nothing rendered at execution (the constant IN lists bound)
            # The dialect's own SQL with its IN lists rendered as at execution (parameters' names aside).
            stock = _stock(dialect, table, columns, select_stmt, key).compile(
                dialect=dialect.dialect(), compile_kwargs={"render_postcompile": True})
            assert _unnamed(str(compiled)) == _unnamed(str(stock))
        row = {"assessment_id": 1, "item_id": 2, "result": "met", "note": ""}
        ours = upsert_values(name, ItemResult, row, key=["assessment_id", "item_id"], updated=["result"])
        stock = dialect.insert(ItemResult).values(**row)
        stock = stock.on_conflict_do_update(index_elements=["assessment_id", "item_id"],
                                            set_={"result": stock.excluded.result})
        assert str(ours.compile(dialect=dialect.dialect())) == str(stock.compile(dialect=dialect.dialect()))


def test_the_cache_key_tells_the_clauses_apart(app):
    """A cached statement is reused only for the same SQL: other conflict columns, other updated columns or
    another dialect give another key; other values the same key."""
    row = {"assessment_id": 1, "item_id": 2, "result": "met", "note": ""}
    key = ["assessment_id", "item_id"]

    def cache_key(dialect="sqlite", values=row, conflict=key, updated=("result",)):
        return upsert_values(dialect, ItemResult, values, key=conflict, updated=list(updated))._generate_cache_key()

    assert cache_key() == cache_key(values={**row, "result": "partly", "item_id": 9})
    assert cache_key() != cache_key(updated=("result", "note"))
    assert cache_key() != cache_key(conflict=["item_id", "assessment_id"])
    assert cache_key() != cache_key(dialect="postgresql")
