"""Engine settings per backend. SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE for every
transaction that may write (requests, task queue, CLI). PostgreSQL gets its JIT compiler turned off."""
from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from .extensions import db
from .text import search_fold


def configure_engine_events(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        elif engine.dialect.name == "postgresql":
            _configure_postgresql(engine)


def _configure_postgresql(engine: Engine) -> None:
    """No JIT: the portal's statements are short, and PostgreSQL's cost estimate of an aggregate over the
    district's kept figures (or of an upsert's SELECT) passes `jit_above_cost`, so that every such request paid
    for compiling the plan to machine code, many times what running it costs."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()


def refresh_planner_statistics(session) -> None:
    """After a bulk load (`seed-demo`): on PostgreSQL, ANALYZE the whole database in the session's transaction, so
    that the planner sees the tables as they are. Autovacuum would do it later, or never where it is off; until
    then every table looks empty-ish, and PostgreSQL chose a bitmap AND over 70,000 index entries per row for a
    page of pledges (500 ms instead of 4 at 2,000 branches; bench/README.md). On SQLite nothing: the portal's
    plans there are made, and tested, without `sqlite_stat1` (a database in use never gains one either)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Set (to "BEGIN") by code that only reads and must not hold the write lock meanwhile (deferred_reads()), or
# (to "BEGIN IMMEDIATE") by work that writes whatever the request (writing()).
_outside_requests: ContextVar[str | None] = ContextVar("portal_sqlite_begin", default=None)


def _begin_statement() -> str:
    """BEGIN IMMEDIATE for every transaction that may write, so that a read-then-write transaction takes
    the write lock up front (waiting its turn, busy_timeout) instead of failing with "database is locked"
    when it upgrades: POST requests, the task queue's consumer and the CLI commands alike.
    A GET request keeps a deferred BEGIN (under WAL a reader never waits for a writer); its first write (an
    audit entry, a read counter) upgrades the transaction first (`_upgrade_before_writing`). Code outside a
    request that only reads may ask for a deferred BEGIN with `deferred_reads()`."""
    chosen = _outside_requests.get()
    if chosen == "BEGIN IMMEDIATE":
        return chosen
    if has_request_context():
        return "BEGIN" if request.method in READ_ONLY_METHODS else "BEGIN IMMEDIATE"
    return chosen or "BEGIN IMMEDIATE"


@contextmanager
def writing():
    """Transactions begun inside take SQLite's write lock up front (BEGIN IMMEDIATE) wherever they run: for work
    that reads then writes (a roster import's batches) even when called from a GET or inside deferred_reads()."""
    token = _outside_requests.set("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        _outside_requests.reset(token)


@contextmanager
def deferred_reads():
    """Transactions begun outside a request inside this block begin deferred (SQLite): for code that only
    reads (a test arranging and checking data while a server serves), so that it never holds the write lock."""
    token = _outside_requests.set("BEGIN")
    try:
        yield
    finally:
        _outside_requests.reset(token)


def is_locked_error(error: BaseException) -> bool:
    """True for SQLite's "database is locked" / "database is busy" (worth retrying later)."""
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "database is busy" in text


def begins_immediate(session) -> bool:
    """Whether this session's transactions on SQLite take the write lock when they begin (a request that
    changes data): what it read since is what other writers will see it change from."""
    return session.get_bind().dialect.name == "sqlite" and _begin_statement() == "BEGIN IMMEDIATE"


class DatabaseFileMissing(sqlite3.OperationalError):
    """The SQLite file the portal was configured with is gone (deleted, a volume not mounted)."""


def _configure_sqlite(engine: Engine) -> None:
    path = engine.url.database

    @event.listens_for(engine, "do_connect")
    def refuse_a_missing_file(dialect, connection_record, cargs, cparams):
        """While serving requests, never let SQLite create an empty database in place of a missing one: the
        pages would answer "nothing here" and /healthz "ok". The request fails as the database being down
        (503); `flask --app wsgi init-db` (no request) creates a new database on purpose."""
        if (has_request_context() and path and path != ":memory:" and not path.startswith("file:")
                and not os.path.exists(path)):
            raise DatabaseFileMissing(f"the database file {path} is missing")

    # SQLAlchemy's documented recipe: let SQLAlchemy, not pysqlite, issue BEGIN.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Freed space is zeroed, not left with old rows (ballot anonymity, services/ballot_traces.py).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        # The name search's fold (text.search_fold), which the summaries' search text is written in.
        dbapi_connection.create_function("portal_fold", 1, search_fold, deterministic=True)

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        statement = _begin_statement()
        connection.exec_driver_sql(statement)
        connection.info[_DEFERRED] = statement == "BEGIN"

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def on_end(connection):
        connection.info.pop(_DEFERRED, None)

    @event.listens_for(engine, "before_cursor_execute")
    def before_writing(connection, cursor, statement, parameters, context, executemany):
        if connection.info.get(_DEFERRED) and statement.lstrip()[:7].upper().startswith(_WRITES):
            _upgrade_before_writing(connection, cursor.connection)

    @event.listens_for(engine, "savepoint")
    def before_savepoint(connection, name):
        # A savepoint is taken to write; the upgrade must come before it (COMMIT would end the savepoint).
        if connection.info.get(_DEFERRED):
            _upgrade_before_writing(connection, connection.connection.driver_connection)


_DEFERRED = "portal_sqlite_deferred"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def begin_writing(connection) -> None:
    """Make `connection`'s transaction a write transaction now if it began deferred (SQLite): for DDL inside a
    transaction (DROP, CREATE), which the first-write upgrade below does not recognise, and which that upgrade's
    COMMIT would otherwise make permanent before the transaction ends. Nothing on PostgreSQL."""
    if connection.info.get(_DEFERRED):
        _upgrade_before_writing(connection, connection.connection.driver_connection)


def _upgrade_before_writing(connection, dbapi_connection) -> None:
    """The first write in a deferred transaction (a GET that audits, counts a read, records a missing file):
    SQLite cannot upgrade a read transaction while another connection writes — it fails at once with
    "database is locked" (or, once the other has committed, because its snapshot is stale), whatever the busy
    timeout. So the read transaction, which has written nothing, is ended and the write goes on in a BEGIN
    IMMEDIATE transaction that waits its turn like a POST's. The reads before it saw an earlier snapshot: fine
    for what a GET writes (inserts and counters), which never depends on a read being the latest."""
    connection.info[_DEFERRED] = False
    dbapi_connection.execute("COMMIT")
    dbapi_connection.execute("BEGIN IMMEDIATE")
