"""The benchmark harness: seeded districts, a gunicorn server, timing and query counting."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import event

from portal import create_app
from portal.extensions import db

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
PASSWORD = "portal-demo"


@dataclass
class Case:
    """One request to measure. `path` and `data` may be callables of the district (ids differ per size)."""

    name: str
    username: str
    path: str | Callable[[District], str]
    method: str = "GET"
    data: dict | Callable[[District, int], dict] | None = None
    htmx: bool = False
    full_page: str | Callable[[District], str] | None = None  # compare fragment bytes with this page
    rounds: int = 25
    before: Callable[[District, int], None] | None = None  # run before each request, not timed
    cpu: bool = False  # also measure the server's CPU time per request in-process (`cpu_ms`)

    def url(self, district: District) -> str:
        return self.path(district) if callable(self.path) else self.path

    def body(self, district: District, n: int) -> dict | None:
        return self.data(district, n) if callable(self.data) else self.data


@dataclass
class District:
    """A demo district of a given size in its own database (SQLite file, or BENCH_DATABASE_URL's server)."""

    branches: int
    members_per_branch: int
    url: str = ""
    app: object = None
    extra: dict = field(default_factory=dict)

    def build(self, workdir: Path, prepare: Callable[[District], None] | None = None) -> District:
        """Seed the district, or reuse the one seeded before by the same code (see `seeded_copy`).
        `prepare(district)` adds the extra data of the bench modules once, at seeding."""
        from flask_migrate import upgrade

        from portal.services import demo

        name = f"bench_{self.branches}x{self.members_per_branch}"
        if not os.environ.get("BENCH_DATABASE_URL") and (kept := seeded_copy(name, workdir)) is not None:
            self.url = f"sqlite:///{kept}"
            self.app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "UPLOAD_FOLDER": str(workdir / "uploads")})
            with self.app.app_context():
                upgrade(revision="heads")  # BENCH_REUSE=any: a district seeded before later migrations
            self.extra["seed_seconds"] = None  # reused
            return self
        self.url = _database_url(workdir, name)
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "UPLOAD_FOLDER": str(workdir / "uploads")})
        with self.app.app_context():
            upgrade(revision="heads")
            started = time.perf_counter()
            demo.seed(branches=self.branches, members_per_branch=self.members_per_branch)
            self.extra["seed_seconds"] = time.perf_counter() - started
        if prepare is not None:
            prepare(self)
        if self.url.startswith("sqlite:///"):
            keep_seeded(name, Path(self.url.removeprefix("sqlite:///")))
        return self

    def scalar(self, statement):
        with self.app.app_context():
            return db.session.scalar(statement)


ROOT = Path(__file__).resolve().parents[1]
# What a seeded district depends on: when none of these files changed, the district is reused.
SEED_SOURCES = ("portal/models", "portal/services", "migrations/versions")


def data_folder() -> Path:
    """Where seeded districts are kept between runs (BENCH_DATA; not in git)."""
    return Path(os.environ.get("BENCH_DATA") or ROOT / "bench-data")


def code_stamp() -> str:
    """A hash of the code a seeded district depends on: the models, services and migrations, and the
    bench modules' `prepare` functions."""
    import inspect

    from . import __main__ as runner

    digest = hashlib.sha256()
    for module in runner.load_modules():
        if hasattr(module, "prepare"):
            digest.update(inspect.getsource(module.prepare).encode())
    for source in SEED_SOURCES:
        base = ROOT / source
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def seeded_copy(name: str, workdir: Path) -> Path | None:
    """A working copy of the district seeded before by this code, or None (seed it afresh). Every run
    works on its own copy, so the ticks and changes a run makes never reach the kept district."""
    kept = data_folder() / f"{name}-{code_stamp()}.sqlite3"
    if os.environ.get("BENCH_REUSE") == "any":  # measure changed code on the district seeded last
        found = sorted(data_folder().glob(f"{name}-*.sqlite3"), key=lambda p: p.stat().st_mtime)
        kept = found[-1] if found else kept
    if not kept.exists():
        return None
    copy = workdir / f"{name}.sqlite3"
    shutil.copyfile(kept, copy)
    return copy


def keep_seeded(name: str, database: Path) -> None:
    folder = data_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{name}-*.sqlite3"):
        old.unlink()  # seeded by older code
    import sqlite3

    with sqlite3.connect(database) as conn:  # fold the WAL in, so one file is the whole district
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(database, folder / f"{name}-{code_stamp()}.sqlite3")


def _database_url(workdir: Path, name: str) -> str:
    base = os.environ.get("BENCH_DATABASE_URL")
    if not base:
        return f"sqlite:///{workdir / (name + '.sqlite3')}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(base).set(drivername="postgresql+psycopg")
    if url.database and url.database != "postgres":  # named after its user (h14p_bench → h14p_bench_300x40)
        name = f"{url.database}_{name.removeprefix('bench_')}"
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'"))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


class Client:
    """Logs in through the form and sends requests the way the browser and htmx do."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.http = requests.Session()
        token = CSRF_META.search(self.http.get(base + "/login").text).group(1)
        response = self.http.post(base + "/login", data={"username": username, "password": PASSWORD,
                                                         "csrf_token": token}, allow_redirects=False)
        assert response.status_code == 303, f"login {username}: {response.status_code}"
        self.token = CSRF_META.search(self.http.get(base + "/").text).group(1)

    def send(self, method: str, path: str, data: dict | None, htmx: bool) -> requests.Response:
        headers = {"HX-Request": "true", "X-CSRFToken": self.token} if htmx else {}
        if method == "POST" and not htmx:
            data = dict(data or {}, csrf_token=self.token)
        return self.http.request(method, self.base + path, data=data, headers=headers, allow_redirects=False)


def time_case(base: str, case: Case, district: District) -> dict:
    """Median of the case and of /healthz, interleaved on the same server, and the sizes."""
    client = Client(base, case.username)
    health = requests.Session()
    url = case.url(district)
    page_times, health_times = [], []
    response = None
    failures = []
    for n in range(case.rounds + 3):
        if case.before:
            case.before(district, n)
        started = time.perf_counter()
        response = client.send(case.method, url, case.body(district, n), case.htmx)
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:  # reported in the table, not the end of the run
            failures.append(response.status_code)
            continue
        started = time.perf_counter()
        health.get(base + "/healthz")
        health_elapsed = time.perf_counter() - started
        if n >= 3:  # warm-up rounds are not counted
            page_times.append(elapsed)
            health_times.append(health_elapsed)
    if not page_times:
        return {"ms": float("nan"), "healthz_ms": float("nan"), "ratio": float("nan"), "bytes": 0,
                "failures": failures}
    page_median, health_median = statistics.median(page_times), statistics.median(health_times)
    row = {"ms": page_median * 1000, "healthz_ms": health_median * 1000, "ratio": page_median / health_median,
           "bytes": len(response.content), "failures": failures}
    if case.full_page:
        full = case.full_page(district) if callable(case.full_page) else case.full_page
        row["page_bytes"] = len(client.send("GET", full, None, False).content)
    return row


def _test_client(case: Case, district: District):
    """A Flask test client of the district's app, logged in as the case's user (CSRF off)."""
    app = district.app
    app.config["WTF_CSRF_ENABLED"] = False
    app.testing = True
    client = app.test_client()
    client.post("/login", data={"username": case.username, "password": PASSWORD})
    return client


def cpu_ms(case: Case, district: District, rounds: int = 5) -> float:
    """Median CPU time (time.process_time of this process) of one request of the case in-process, the whole
    answer read, after two warm-up requests: the server's own work, which the machine's load inflates less than
    wall time. NaN when the request fails."""
    client = _test_client(case, district)
    url, times = case.url(district), []
    headers = {"HX-Request": "true"} if case.htmx else {}
    for n in range(rounds + 2):
        if case.before:
            case.before(district, n)
        started = time.process_time()
        response = client.open(url, method=case.method, data=case.body(district, n), headers=headers)
        response.get_data()
        elapsed = time.process_time() - started
        if response.status_code >= 400:
            return float("nan")
        if n >= 2:
            times.append(elapsed)
    return statistics.median(times) * 1000


def count_queries(case: Case, district: District) -> int:
    """SQL statements one request of the case runs, counted in-process on the same database."""
    app = district.app
    url, body = case.url(district), case.body(district, 1)
    client = _test_client(case, district)
    count = 0
    with app.app_context():
        engine = db.engine

    def on_execute(*args):
        nonlocal count
        count += 1

    # Requests run outside any app context of ours, each in its own, as on a server.
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        headers = {"HX-Request": "true"} if case.htmx else {}
        response = client.open(url, method=case.method, data=body, headers=headers)
        if response.status_code >= 400:
            return -response.status_code  # shown in the table as a failure, not a count
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return count


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="portal-bench-"))
