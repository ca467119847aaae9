"""Shared fixtures: one migrated database per test session (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), a fresh app per test, emptied tables after each test, role fixtures."""
from __future__ import annotations

import functools
import os
import re
import secrets
import uuid

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import String, Table, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapper
from werkzeug.datastructures import MultiDict

from portal import create_app
from portal.database import deferred_reads
from portal.extensions import db
from portal.models import Role
from portal.services.builtin import ensure_builtin

from .factories import PASSWORD, BranchFactory, UserFactory

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@functools.cache
def _bounded_columns(mapper: Mapper) -> tuple[tuple[str, str, int], ...]:
    return tuple((attr.key, f"{mapper.class_.__name__}.{attr.key}", column.type.length)
                 for attr in mapper.column_attrs for column in attr.columns
                 if isinstance(column.type, String) and column.type.length)


@event.listens_for(Mapper, "before_insert")
@event.listens_for(Mapper, "before_update")
def _refuse_what_postgresql_would(mapper, connection, target) -> None:
    """SQLite stores a VARCHAR(120) of any length; PostgreSQL refuses it. A test that arranges data beyond a
    column's length would pass here and fail only on PostgreSQL: fail it here too."""
    if connection.dialect.name != "sqlite":
        return
    for key, name, length in _bounded_columns(mapper):
        value = getattr(target, key, None)
        assert not isinstance(value, str) or len(value) <= length, f"{name}: {len(value)} characters > {length}"


def _create_postgres_database(base_url: str) -> tuple[str, callable]:
    """A fresh UTF-8 database per test session (per xdist worker), dropped at the end."""
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{url.database}_{worker}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' LOCALE \'C.UTF-8\''))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, skip the tests that judge only the markup pages send (axe, the Nu checker): the HTML does
    not depend on the database, and the SQLite run of the same commit has judged it."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="markup only: judged in the SQLite run")
    for item in items:
        if item.get_closest_marker("markup"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        url, drop = _create_postgres_database(base)
    else:
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.sqlite3'}", (lambda: None)
    # Every session starts by upgrading an empty database through the real migration history.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        db.engine.dispose()
    yield url
    drop()


@pytest.fixture(scope="session")
def upload_root(tmp_path_factory):
    return tmp_path_factory.mktemp("uploads")


def make_app(database_url: str, upload_root, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "UPLOAD_FOLDER": str(upload_root),
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return create_app(config)


# What ensure_builtin() writes into an empty database, per database URL: the rows of each table it fills.
_BUILTIN_ROWS: dict[str, list[tuple[Table, list[dict]]]] = {}


def builtin_data() -> None:
    """Put the built-in data (frameworks, items, years, phases) into emptied tables, and commit.

    The first time per process and database this runs `ensure_builtin()` itself and keeps the rows it wrote;
    after that it inserts those rows again, one executemany per table: through the ORM and its flush events
    (the kept tallies and summaries rebuilt at each flush), ensure_builtin costs about 130 ms of CPU a test,
    the rows 2 ms (SQLite) to 6 ms (PostgreSQL).
    The rows are the same, ids included (on PostgreSQL the sequences are moved past them)."""
    key = db.engine.url.render_as_string(hide_password=False)
    kept = _BUILTIN_ROWS.get(key)
    if kept is None:
        ensure_builtin()
        _BUILTIN_ROWS[key] = [(table, rows) for table in db.metadata.sorted_tables
                              if (rows := [dict(row._mapping) for row in db.session.execute(select(table))])]
        db.session.commit()
        return
    connection = db.session.connection()
    for table, rows in kept:
        connection.execute(table.insert(), rows)
        if connection.dialect.name == "postgresql" and "id" in table.c and table.c.id.autoincrement is not False:
            connection.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n)"),
                               {"t": f'"{table.name}"', "n": max(row["id"] for row in rows)})
    db.session.commit()


def empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


class PortalClient(FlaskClient):
    """A test client that finds the CSRF token of the page it last saw, as a browser would.

    Each request runs in its own app context (its own `g` and database session), as on a real
    server; the test's own session is committed before and expired after, so it sees the changes."""

    def open(self, *args, **kwargs):
        data = kwargs.get("data")
        if kwargs.get("method", "GET") == "POST" and isinstance(data, dict) and "form_token" not in data:
            # Every create form the portal draws carries a fresh one-time token (services/intents.py); a test
            # that leaves it out means such a form. A test of a missing token sends form_token="".
            data = data.copy() if isinstance(data, MultiDict) else dict(data)
            data["form_token"] = secrets.token_urlsafe(18)
            kwargs["data"] = data
        if _cv_app.get(None) is not None:
            db.session.commit()
        token = _cv_app.set(None)
        kwargs.setdefault("buffered", True)  # streamed bodies finish (and pop their context) in here
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            if _cv_app.get(None) is not None:
                db.session.expire_all()

    def csrf_token(self) -> str:
        """The token a page of this session carries. Once the session holds its raw token, the signed form is
        computed from the cookie as Flask-WTF does (a page per post would double the requests of a test);
        before that, a page is fetched and its meta tag read."""
        raw = self._session().get("csrf_token")
        if raw:
            return URLSafeTimedSerializer(self.application.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
        page = self.get("/")
        if page.status_code != 200:  # not logged in: the login page carries a token too
            page = self.get("/login")
        match = CSRF_META.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        return match.group(1)

    def _session(self) -> dict:
        app = self.application
        cookie = self.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
        if cookie is None:
            return {}
        return app.session_interface.get_signing_serializer(app).loads(cookie.value)

    def login(self, user_or_name, password: str = PASSWORD):
        username = getattr(user_or_name, "username", user_or_name)
        token = self.csrf_token()
        return self.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def form_post(self, url: str, data: dict | None = None, htmx: bool = False, **kwargs):
        """POST with the CSRF token as a browser form (field) or htmx (header) would send it."""
        token = self.csrf_token()
        headers = dict(kwargs.pop("headers", {}) or {})
        data = dict(data or {})
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": token})
        else:
            data.setdefault("csrf_token", token)
        return self.post(url, data=data, headers=headers, **kwargs)


@pytest.fixture(scope="session")
def shared_app(database_url, upload_root):
    """One app for the session: building one compiles ~100 URL rules and, on first use, every template
    (about half a second each time). Each test still starts from the same configuration and empty tables."""
    app = make_app(database_url, upload_root)
    app.test_client_class = PortalClient
    return app


# What a test may leave in the shared app besides its configuration (nothing at present: the dashboard keeps no
# figures in the workers any more; its kept figures live in the database).
PER_TEST_EXTENSIONS: tuple[str, ...] = ()


@pytest.fixture
def app(shared_app):
    app = shared_app
    config = dict(app.config)
    # The test's own session arranges and checks data while requests (or a live server) save: it begins its
    # transactions deferred, as it did before SQLite began IMMEDIATE outside requests (portal/database.py),
    # so that it never holds the write lock while a server waits for it.
    with app.app_context(), deferred_reads():
        builtin_data()
        yield app
        db.session.remove()
        empty_tables()
        db.session.remove()
        db.engine.dispose()
    app.config.clear()
    app.config.update(config)
    for name in PER_TEST_EXTENSIONS:
        app.extensions.pop(name, None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Roles: a branch with a secretary and a member, another branch with the same, and the district roles.
@pytest.fixture
def branch(app):
    return BranchFactory()


@pytest.fixture
def other_branch(app):
    return BranchFactory()


@pytest.fixture
def secretary(branch):
    return UserFactory(username="sec-a", role=Role.SECRETARY, branch=branch)


@pytest.fixture
def member(branch):
    return UserFactory(username="mem-a", role=Role.MEMBER, branch=branch)


@pytest.fixture
def other_secretary(other_branch):
    return UserFactory(username="sec-b", role=Role.SECRETARY, branch=other_branch)


@pytest.fixture
def other_member(other_branch):
    return UserFactory(username="mem-b", role=Role.MEMBER, branch=other_branch)


@pytest.fixture
def editor(app):
    return UserFactory(username="editor-x", role=Role.EDITOR)


@pytest.fixture
def leader(app):
    return UserFactory(username="leader-x", role=Role.LEADER)


@pytest.fixture
def admin(app):
    return UserFactory(username="admin-x", role=Role.ADMIN)
