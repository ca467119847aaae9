"""Bulk writes of many rows (the demo seed's district, its audit history and notifications): rows as tuples
through the driver's executemany, with none of SQLAlchemy's per-row parameter work, which is most of the cost
of inserting a million rows as dicts."""
from __future__ import annotations

import functools
import operator

from sqlalchemy import JSON, Table, insert
from sqlalchemy.sql.dml import Insert

from ..extensions import db


def insert_rows(table: Table, columns: list[str], rows: list[tuple], batch: int = 5000,
                statement: Insert | None = None) -> None:
    """Insert `rows` (tuples in the order of `columns`) into `table` in the current transaction, `batch` rows
    a driver call. Values are converted as the columns' types convert them (an enum to its value, a datetime as
    SQLite stores it, a dict to JSON; None as the type stores it), each distinct value once. Column defaults are
    not applied: every column without a server default must be in `columns`. `statement`: an INSERT of the
    table to use instead of the plain one (e.g. with ON CONFLICT DO NOTHING). Raises what the driver raises
    (IntegrityError, ...)."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    compiled = (statement if statement is not None else insert(table)).compile(dialect=dialect,
                                                                              column_keys=columns)
    converters = []
    for name in columns:
        type_ = table.c[name].type
        convert = type_._cached_bind_processor(dialect)
        if convert is not None:
            convert = _remembered_json(convert) if isinstance(type_, JSON) else functools.lru_cache(4096)(convert)
        converters.append(convert)
    # The statement's own order of parameters (SQLite's ?), or names (psycopg's %(name)s).
    order = [columns.index(name) for name in compiled.positiontup] if compiled.positional else None
    for start in range(0, len(rows), batch):
        # Column by column: one map() per column instead of a test per value.
        by_column = zip(*rows[start:start + batch], strict=True)
        values = [list(map(convert, column)) if convert else column
                  for convert, column in zip(converters, by_column, strict=True)]
        by_row = zip(*(values[i] for i in order) if order is not None else values, strict=True)
        connection.exec_driver_sql(compiled.string, list(by_row) if order is not None
                                   else [dict(zip(columns, row, strict=True)) for row in by_row])


def _remembered_json(convert):
    """`convert` (JSON's serializer) remembering flat dicts by their items in order (the same JSON text), and each
    value by its identity (a dict shared by many rows is looked at once: the rows hold their values while
    `insert_rows` runs, so no id is reused meanwhile): an audit history repeats a handful of befores and afters
    ({"status": "draft"}) thousands of times."""
    texts: dict = {}
    by_identity: dict[int, object] = {}

    def run(value):
        text = by_identity.get(id(value), run)  # (`run` itself: not seen yet; None may be a value's text)
        if text is run:
            text = by_identity[id(value)] = by_content(value)
        return text

    def by_content(value):
        try:
            # Types in the key: 1, 1.0 and True are equal keys but different JSON.
            key = (tuple((k, type(v), v) for k, v in value.items()) if isinstance(value, dict)
                   else (type(value), value))
            if key not in texts:
                texts[key] = convert(value)
            return texts[key]
        except TypeError:  # an unhashable value inside (a list, a nested dict)
            return convert(value)
    return run


def insert_dicts(table: Table, rows: list[dict], batch: int = 5000, statement: Insert | None = None) -> None:
    """`insert_rows` for rows given as dicts, all with the keys of the first. A column left out takes its scalar
    Python default (e.g. False, "") or else its server default. Raises ValueError when a column left out has a
    Python default computed per row (a timestamp, a stored sort key): give it. `statement`: as for `insert_rows`."""
    if not rows:
        return
    given = list(rows[0])
    defaults: dict[str, object] = {}
    for column in table.columns:
        if column.key in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.key}: its default is computed per row; give it")
        defaults[column.key] = column.default.arg
    fill = tuple(defaults.values())
    values = operator.itemgetter(*given) if len(given) > 1 else (lambda row: (row[given[0]],))
    insert_rows(table, given + list(defaults), [values(row) + fill for row in rows], batch, statement)
