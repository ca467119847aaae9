"""Engine settings per backend. SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE."""
from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db


def configure_engine_events(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Set by work outside a request that writes (a task of the queue): its transactions begin IMMEDIATE too.
_WRITING: ContextVar[bool] = ContextVar("portal_writing", default=False)


@contextmanager
def writing():
    """Transactions begun inside take SQLite's write lock up front (BEGIN IMMEDIATE), as a POST's do: for a task
    that reads then writes while people save (a deferred BEGIN would fail at once with "database is locked")."""
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


def _begin_statement() -> str:
    """BEGIN IMMEDIATE for requests that change data, so that a read-then-write transaction takes
    the write lock up front instead of failing with "database is locked" when it upgrades.
    Reads keep a deferred BEGIN: under WAL they never wait for a writer. A GET that writes
    (a read counter) must do so in a transaction whose first statement is the write.
    Outside a request (commands, scripts) BEGIN stays deferred too."""
    if _WRITING.get() or (has_request_context() and request.method not in READ_ONLY_METHODS):
        return "BEGIN IMMEDIATE"
    return "BEGIN"


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

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql(_begin_statement())
