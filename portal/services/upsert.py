"""INSERT … SELECT … ON CONFLICT (key) DO UPDATE SET every other column = excluded, as a statement SQLAlchemy's
compiled cache can hold.

SQLAlchemy 2.0's SQLite and PostgreSQL `insert().on_conflict_do_update()` constructs generate no cache key
(`inherit_cache = False`: "on conflict constructs still explicitly don't generate a cache key", sqlalchemy
commit 22deafe, issue #7394), so every execution compiles the whole statement again (`[no key]` in the engine
log) — for the kept figures' upserts that run on every checklist tick, most of the tick's CPU. The upserts here
are of one narrow form: the conflict target is a list of column names and every other inserted column is set
from `excluded`. That clause is then fully described by the dialect, the table and the two lists of names, which
is what its cache key holds; the INSERT … SELECT around it keys as a standard INSERT does (its SELECT's values,
such as IN lists, are bound parameters, so one compiled form serves every call). The SQL is the dialect's own
(`visit_on_conflict_do_update`), unchanged.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import Table, bindparam, tuple_
from sqlalchemy.dialects.postgresql import dml as postgresql_dml
from sqlalchemy.dialects.sqlite import dml as sqlite_dml
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import InternalTraversal, replacement_traverse


class _SqliteOnConflict(sqlite_dml.OnConflictDoUpdate):
    """ON CONFLICT (key) DO UPDATE SET column = excluded.column, …, keyed by its names (`_names`)."""

    _traverse_internals = [("_names", InternalTraversal.dp_plain_obj)]


class _PostgresqlOnConflict(postgresql_dml.OnConflictDoUpdate):
    """As `_SqliteOnConflict`, for PostgreSQL."""

    _traverse_internals = [("_names", InternalTraversal.dp_plain_obj)]


class _SqliteInsert(sqlite_dml.Insert):
    """SQLite's INSERT with the standard INSERT's cache key (which includes its ON CONFLICT clause)."""

    inherit_cache = True


class _PostgresqlInsert(postgresql_dml.Insert):
    """As `_SqliteInsert`, for PostgreSQL."""

    inherit_cache = True


_KINDS = {"sqlite": (_SqliteInsert, _SqliteOnConflict), "postgresql": (_PostgresqlInsert, _PostgresqlOnConflict)}


def upsert_from_select(dialect: str, table: Table | type, columns: Sequence[str], select_stmt,
                       key: Sequence[str]):
    """INSERT INTO `table` (`columns`) `select_stmt` ON CONFLICT (`key`) DO UPDATE SET each column of `columns`
    not in `key` = excluded.column, for `dialect` ("sqlite" or "postgresql"; the engine's `dialect.name`).
    `table` is a Table or a mapped class; `key` names the columns of a unique index. Returns an executable,
    cacheable statement; raises KeyError for another dialect. The SELECT's constant IN lists are bound as plain
    parameters (`_bound_lists`)."""
    insert_class = _KINDS[dialect][0]
    stmt = insert_class(getattr(table, "__table__", table)).from_select(list(columns), _bound_lists(select_stmt))
    return _on_conflict(dialect, stmt, key, [name for name in columns if name not in key])


def _bound_lists(select_stmt):
    """`select_stmt` with each IN list of values given when it was built (`column.in_([...])`) written as a list of
    plain parameters, `IN (?, ?, ?)`: SQLAlchemy makes such a list an expanding parameter, which it renders into the
    SQL text at every execution (`_process_parameters_for_postcompile`: ~45 µs for each of the kept figures' upserts
    that every tick runs), whereas plain parameters are compiled once with the rest. An expanding parameter given at
    execution (no value yet, e.g. a list of ids) and an empty list stay as they are; the SQL is otherwise the same."""
    def bound(element, **_kw):
        if (isinstance(element, BindParameter) and element.expanding and element.callable is None
                and isinstance(element.value, (list, tuple)) and element.value):
            return tuple_(*(bindparam(None, value, type_=element.type) for value in element.value)).self_group()
        return None

    return replacement_traverse(select_stmt, {}, bound)


def upsert_values(dialect: str, table: Table | type, values: dict, key: Sequence[str], updated: Sequence[str]):
    """INSERT INTO `table` one row (`values`: column name → value, bound as parameters) ON CONFLICT (`key`)
    DO UPDATE SET each column named in `updated` = excluded.column (the value given), for `dialect` as
    `upsert_from_select`. Returns an executable, cacheable statement; raises KeyError for another dialect."""
    insert_class = _KINDS[dialect][0]
    return _on_conflict(dialect, insert_class(getattr(table, "__table__", table)).values(**values), key, updated)


@cache
def upsert_row(dialect: str, table: Table | type, key: tuple[str, ...], updated: tuple[str, ...]):
    """INSERT INTO `table` one row ON CONFLICT (`key`) DO UPDATE SET each column named in `updated` =
    excluded.column, for `dialect` as `upsert_from_select`, with the row given at execution
    (`execute(stmt, {column: value})`, the columns the parameters name): the SQL of `upsert_values` for that row,
    built once per dialect, table and lists of names (a tick's answer: building it cost more than running it)."""
    insert_class = _KINDS[dialect][0]
    return _on_conflict(dialect, insert_class(getattr(table, "__table__", table)), key, updated)


def _on_conflict(dialect: str, stmt, key: Sequence[str], updated: Sequence[str]):
    clause = _KINDS[dialect][1](index_elements=list(key), set_={name: stmt.excluded[name] for name in updated})
    clause._names = (tuple(key), tuple(updated))  # the clause's whole state: its cache key
    stmt._post_values_clause = clause  # what the dialect's own on_conflict_do_update() sets
    return stmt
