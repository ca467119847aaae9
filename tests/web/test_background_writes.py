"""Background work and commands write while people save: the periodic tasks (run as the consumer runs them) and
the `send-reminders` / `snapshot-progress` commands (run as processes) never fail with "database is locked",
and neither do the people saving through gunicorn. On SQLite every transaction that may write begins
IMMEDIATE (portal/database.py), outside requests too; runs on PostgreSQL as well."""
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import tasks
from portal.extensions import db
from portal.models import (
    Notification,
    ProgressSnapshot,
    RequestKind,
    Role,
    Subject,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    utcnow,
)

from ..checklist_helpers import current_year, items
from ..factories import PASSWORD, BranchFactory, UserFactory
from ..liveserver import Browserless, gunicorn

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
CYCLE = ["met", "partly", "not_met"]


def test_tasks_and_commands_write_while_people_save(app, database_url, upload_root, monkeypatch):
    year = current_year()
    branches = [BranchFactory() for _ in range(4)]
    users = [UserFactory(username=f"bg-{i}", role=Role.SECRETARY, branch=b) for i, b in enumerate(branches)]
    request = SubmissionRequest(year_id=year.id, kind=RequestKind.GENERAL, title="材料", description="",
                                deadline=utcnow() + timedelta(days=1), created_by_id=users[0].id)
    db.session.add(request)
    db.session.flush()
    db.session.add_all(Submission(request_id=request.id, branch_id=b.id, status=SubmissionStatus.PENDING)
                       for b in branches)
    plans = [(u.username, b.id, [i.id for i in items(Subject.BRANCH)]) for u, b in zip(users, branches, strict=True)]
    db.session.commit()
    monkeypatch.setattr(tasks, "_app", app)  # the tasks run in this app (the test database), in threads of their own

    stop = threading.Event()
    failures: list[str] = []
    saved = [0]

    def save(base, username, branch_id, item_ids):
        client = Browserless(base)
        client.login(username, PASSWORD)
        n = 0
        while not stop.is_set():
            response = client.htmx_post(f"/checklist/branch/{branch_id}/items/{item_ids[n % len(item_ids)]}/result",
                                        {"result": CYCLE[(n // len(item_ids)) % 3]})
            n += 1
            saved[0] += 1
            if response.status_code != 200:
                failures.append(f"save by {username}: {response.status_code}")

    def run_tasks():
        for _ in range(6):
            try:
                tasks.send_reminders.call_local()
                tasks.snapshot_progress.call_local()
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                failures.append(f"task: {error!r}")

    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "UPLOAD_FOLDER": str(upload_root),
           "PORTAL_ENV": "development", "MAIL_SERVER": ""}

    def run_commands():
        for _ in range(3):
            for command in (["send-reminders"], ["snapshot-progress"]):
                done = subprocess.run([FLASK, "--app", "wsgi", *command], cwd=ROOT, env=env,  # noqa: S603
                                      capture_output=True, text=True, timeout=120)
                if done.returncode != 0:
                    failures.append(f"{command[0]}: {done.stderr[-500:]}")

    with gunicorn(database_url, str(upload_root), workers=2) as base:
        savers = [threading.Thread(target=save, args=(base, *plan)) for plan in plans]
        for thread in savers:
            thread.start()
        background = [threading.Thread(target=run_tasks), threading.Thread(target=run_commands)]
        for thread in background:
            thread.start()
        for thread in background:
            thread.join(timeout=300)
        stop.set()
        for thread in savers:
            thread.join(timeout=60)

    assert failures == []
    assert saved[0] > 20
    db.session.commit()
    assert db.session.scalar(select(func.count(ProgressSnapshot.id))) == len(branches)
    # One reminder per secretary, however often the work ran.
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "submission.due")) == 4
