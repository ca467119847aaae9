"""The roster import at district scale: `python -m bench.roster_import` (ROSTER_ROWS, default 5000;
BENCH_DATABASE_URL for PostgreSQL, else a temporary SQLite file).

Reports the time of the preview (reading and checking the file, in the request) and of the import itself (the
task's work, run here in process), and the longest single write transaction of the import (how long SQLite's
write lock is held at once), then the time to issue every activation code.
"""
from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

ROWS = int(os.environ.get("ROSTER_ROWS", 5000))
BRANCHES = 60


def main() -> int:
    from werkzeug.datastructures import FileStorage

    from portal import create_app, tasks
    from portal.extensions import db
    from portal.models import Role, RosterImport
    from portal.services import accounts, activation, builtin, roster, users

    folder = Path(tempfile.mkdtemp(prefix="roster-bench-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": str(folder / "up"),
                      "TESTING": True})
    tasks.huey.immediate = False  # the task is run below, in process, and timed
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        builtin.ensure_builtin()
        admin = accounts.create_user(None, username="benchadmin", display_name="组织科", password="bench-admin-pass-1",
                                     role=Role.ADMIN)
        names = []
        for n in range(BRANCHES):
            branch = users.create_branch(admin, unit_name=f"第{n + 1}学校", unit_kind="primary",
                                         branch_name=f"第{n + 1}学校党支部", branch_kind="branch", member_count="0")
            names.append(branch.name)
        lines = ["用户名,姓名,角色,支部,职务"]
        for n in range(ROWS):
            role = "支部书记" if n < BRANCHES else "党员"
            lines.append(f"t{n:05d},教师{n},{role},{names[n % BRANCHES]},教师")
        data = ("\n".join(lines) + "\n").encode()

        started = time.perf_counter()
        preview = roster.preview(FileStorage(io.BytesIO(data), filename="roster.csv"), admin)
        preview_s = time.perf_counter() - started
        assert preview.ok, preview.plan.problems or preview.bad_rows[:3]

        original = tasks.import_roster
        tasks.import_roster = lambda import_id: None  # enqueue nothing: run it here
        try:
            job = roster.start(admin, preview.token, preview.plan.fingerprint(), False, "roster.csv")
        finally:
            tasks.import_roster = original
        longest = [0.0]
        began: dict = {}

        @event.listens_for(db.engine, "begin")
        def on_begin(conn):
            began[id(conn)] = time.perf_counter()

        @event.listens_for(db.engine, "commit")
        def on_commit(conn):
            longest[0] = max(longest[0], time.perf_counter() - began.pop(id(conn), time.perf_counter()))

        started = time.perf_counter()
        summary = roster.run(job.id)
        import_s = time.perf_counter() - started
        assert db.session.get(RosterImport, job.id).status.value == "done", db.session.get(RosterImport, job.id).error
        started = time.perf_counter()
        slips = roster.issue_slips(admin, db.session.get(RosterImport, job.id), None)
        slips_s = time.perf_counter() - started
        dialect = db.engine.dialect.name
    print(f"roster import, {ROWS} rows ({dialect}):")
    print(f"  preview (read, check, plan)   {preview_s:6.2f} s")
    print(f"  import (task, all batches)    {import_s:6.2f} s   {summary}")
    print(f"  longest write transaction     {longest[0] * 1000:6.0f} ms")
    print(f"  activation codes for {len(slips)}   {slips_s:6.2f} s")
    print(f"  a code: {activation.shown(slips[0].code)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
