"""The task queue for real: a huey consumer process (the one `make run` starts) on SQLite storage, or on
Redis when TASK_QUEUE_URL=redis://… is set (.ci/run does so with PostgreSQL), runs the periodic tasks'
work against the test database, and retries e-mail that could not be sent."""
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from portal import tasks
from portal.clock import local_today
from portal.extensions import db
from portal.models import Notification, Post, PostStatus, ProgressSnapshot, Result, utcnow
from portal.services import notifications

from ..checklist_helpers import make_assessment
from ..news_helpers import make_post
from .test_reminders import Inbox, _free_port

CONSUMER = Path(sys.executable).with_name("huey_consumer")


@pytest.fixture
def queue_url(tmp_path):
    return os.environ.get("TASK_QUEUE_URL") or f"sqlite:///{tmp_path / 'tasks.sqlite3'}"


@pytest.fixture
def queue(app, queue_url, monkeypatch):
    """The test process enqueues on the same storage as the consumer."""
    storage = tasks.make_queue(queue_url).storage
    monkeypatch.setattr(tasks.huey, "storage", storage)
    # A task carries its retries and their delay from where it is enqueued: here, as the consumer's own
    # schedule would with the consumer's TASK_RETRIES / TASK_RETRY_DELAY_SECONDS below.
    for wrapper in (tasks.send_reminders, tasks.snapshot_progress, tasks.publish_scheduled):
        monkeypatch.setattr(wrapper.task_class, "default_retries", 10)
        monkeypatch.setattr(wrapper.task_class, "default_retry_delay", 1)
    tasks.huey.flush()
    yield tasks.huey
    tasks.huey.flush()


@pytest.fixture
def consumer(app, queue, queue_url, database_url, upload_root, tmp_path):
    """Start a consumer process with `mail_port`; yields a function that starts it (once)."""
    started = []

    def start(mail_port: int):
        env = {**os.environ, "DATABASE_URL": database_url, "TASK_QUEUE_URL": queue_url, "SECRET_KEY": "test-secret",
               "UPLOAD_FOLDER": str(upload_root), "PORTAL_BASE_URL": "http://cxzy.example.org",
               "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(mail_port), "TASK_RETRIES": "10",
               "TASK_RETRY_DELAY_SECONDS": "1", "PORTAL_ENV": "development", "MAIL_DIGEST_HOUR": "0"}
        log = open(tmp_path / "consumer.log", "w")  # noqa: SIM115 - closed with the process below
        process = subprocess.Popen(  # nosec B603 - the project's own consumer, fixed arguments
            [str(CONSUMER), "portal.tasks.huey", "--workers", "1", "--worker-type", "thread", "--no-periodic",
             "--delay", "0.1"], env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_consumer_snapshots_progress_and_publishes_scheduled_posts(app, queue, consumer, branch, member):
    make_assessment(branch, answer_all=Result.MET)
    post = make_post(member, title="定时发布的稿件", status=PostStatus.SCHEDULED,
                     publish_at=utcnow() - timedelta(minutes=1))
    consumer(_free_port())
    assert tasks.snapshot_progress(report=True).get(blocking=True, timeout=60) == 1
    assert tasks.publish_scheduled(report=True).get(blocking=True, timeout=60) == 1
    db.session.rollback()  # end the read transaction: see what the consumer committed
    snap = db.session.scalar(select(ProgressSnapshot))
    assert snap.branch_id == branch.id and snap.day == local_today() and snap.progress == 100.0
    assert db.session.get(Post, post.id).status == PostStatus.PUBLISHED
    [note] = db.session.scalars(select(Notification).where(Notification.recipient_id == member.id))
    assert note.kind == "post.published"


def _final_result(handle, seconds: float = 60):
    """The task's result once an attempt succeeds. huey stores each failed attempt's error as the task's result
    too (store_intermediate_errors), so a read between the retry's e-mail and the retry's own result finds the
    earlier attempt's error: read past it until a result that is not an error comes (or the time is up)."""
    from huey.exceptions import TaskException

    deadline = time.monotonic() + seconds
    while True:
        try:
            return handle.get(blocking=True, timeout=max(deadline - time.monotonic(), 0.1))
        except TaskException:
            if time.monotonic() > deadline:
                raise
            handle.reset()  # forget the error read; the next read waits for the next result


def test_failed_email_is_retried_by_the_queue(app, queue, consumer, member, tmp_path):
    member.email = "mem@example.org"
    db.session.commit()
    notifications.notify([member], "post.published", "q1", "/news/1", what="稿件")
    db.session.commit()
    port = _free_port()
    consumer(port)  # no SMTP server there yet: the first attempts fail
    handle = tasks.send_reminders(report=True)
    log = tmp_path / "consumer.log"
    assert _wait(lambda: "not sent" in log.read_text()), "the first attempt did not fail"
    assert db.session.scalar(select(Notification.emailed_at)) is None
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert _wait(lambda: inbox.messages), "the retried task did not send the e-mail"
        assert _final_result(handle)["sent"] == 1
    finally:
        server.stop()
    [(to, message)] = inbox.messages
    assert to == ["mem@example.org"] and "稿件" in message.get_content()
    db.session.rollback()  # end the read transaction: see what the consumer committed
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.emailed_at.is_(None))) == 0


def test_periodic_work_keeps_no_result_and_results_expire(app, monkeypatch):
    """The schedule's work stores nothing in the result store (it grew by 1,440 rows a day); what is left
    (results nobody read, final errors) is expired by the nightly task."""
    monkeypatch.setattr(tasks, "_app", app)
    tasks.huey.immediate = True  # in memory, each task runs when it is enqueued
    try:
        for periodic in (tasks.every_minute, tasks.every_ten_minutes, tasks.every_hour):
            periodic.call_local()
        assert tasks.huey.storage.result_store_size() == 0
        assert tasks.snapshot_progress(report=True).get() == 0  # a caller who asks gets (and takes) the result
        tasks.huey.storage.put_data("unread", b"x")
        tasks.every_night.call_local()
        assert tasks.huey.storage.result_store_size() == 0
    finally:
        tasks.huey.immediate = False
