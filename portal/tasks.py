"""Background work on a huey task queue, run by its consumer beside gunicorn (`make run` starts both):

    .venv/bin/huey_consumer portal.tasks.huey --workers 1 --worker-type thread

Storage: `TASK_QUEUE_URL` — `redis://host:6379/0` for Redis (several servers share one queue); empty (the
default) or `sqlite:///path` for SQLite, by default `instance/tasks.sqlite3` beside the portal's database.

Periodic tasks (times in UTC), each enqueuing one task:
- every 10 minutes: reminders and e-mail (services/reminders.py); failed e-mails make the task fail, and the
  queue retries it (TASK_RETRIES times, TASK_RETRY_DELAY_SECONDS apart); the next run picks them up anyway;
- hourly: the day's progress snapshot of every branch (services/dashboard.take_snapshot), which the
  dashboard's progress-over-time chart reads (the page itself never writes it);
- every minute: scheduled posts whose time has come are published (services/news.publish_due);
- every five minutes (SQLite) / hourly (PostgreSQL): the storage traces that could pair a used appraisal code
  with its ballot are wiped (services/ballot_traces.py); the web server also queues the SQLite wipe when a
  ballot's own checkpoint was blocked by a reader, and a blocked wipe is retried every 30 seconds;
- nightly: results nobody read are expired.
On SQLite each task's work begins IMMEDIATE (portal/database.py) and is tried again when the database stays
locked; the periodic work keeps no result in the queue's storage (only a caller passing report=True gets one).

On demand: a roster import the organisation section confirmed (services/roster.run), never retried (a failed
import has undone itself and says why; the admin uploads again).

Each task runs in an application context of an app built from the same environment as the web server's
(DATABASE_URL, MAIL_*, PORTAL_BASE_URL, ...). Importing this module never creates the app.
"""
from __future__ import annotations

import logging
import os
import time
from contextlib import nullcontext
from pathlib import Path

from flask import has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab

from .config import ConfigError

log = logging.getLogger(__name__)
INSTANCE = Path(__file__).resolve().parent.parent / "instance"
RETRIES = int(os.environ.get("TASK_RETRIES", 3))
RETRY_DELAY = int(os.environ.get("TASK_RETRY_DELAY_SECONDS", 300))
LOCK_ATTEMPTS = 4  # tries of a task's work when SQLite stays locked past its busy timeout
LOCK_PAUSE = 1.0  # seconds before the second try; doubled each time


def make_queue(url: str | None) -> Huey:
    """A huey instance named "portal" on the storage `url` names (see the module's docstring)."""
    url = (url or "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("portal", url=url)
    if url.startswith("sqlite:///"):
        filename = url[len("sqlite:///"):]
    elif url:
        raise ConfigError("TASK_QUEUE_URL must be redis://…, rediss://…, unix://… or sqlite:///…")
    else:
        INSTANCE.mkdir(parents=True, exist_ok=True)
        filename = str(INSTANCE / "tasks.sqlite3")
    return SqliteHuey("portal", filename=filename)


huey = make_queue(os.environ.get("TASK_QUEUE_URL"))
_app = None


def _context():
    """The app's context for a task; the app is built once per consumer process. A task run in place (huey's
    immediate mode, in tests) uses the app it was called from."""
    global _app
    if has_app_context():
        return nullcontext()
    if _app is None:
        from . import create_app

        _app = create_app()
    return _app.app_context()


class MailNotSent(RuntimeError):
    """Some e-mail could not be sent; raising it makes huey retry the task."""


def _run(work):
    """Run `work()` in the app's context. SQLite's "database is locked" (a writer held the lock longer than the
    busy timeout) rolls back and tries again a few times, a little later each time, before the error goes to
    huey's own retry; every task's work is idempotent, so running it again is safe."""
    from sqlalchemy.exc import OperationalError

    from .database import is_locked_error
    from .extensions import db

    with _context():
        for attempt in range(LOCK_ATTEMPTS):
            try:
                return work()
            except OperationalError as error:
                db.session.rollback()
                if not is_locked_error(error) or attempt == LOCK_ATTEMPTS - 1:
                    raise
                log.warning("database locked (attempt %s of %s); trying again", attempt + 1, LOCK_ATTEMPTS)
                time.sleep(LOCK_PAUSE * 2 ** attempt)
        return None  # not reached


# Each task keeps a result only when asked (`report=True`): the schedule below never reads one, so huey stores
# none for it (huey keeps no None); what a caller asks for, it reads (and `.get()` removes it).
@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def send_reminders(report: bool = False) -> dict | None:
    """Write the due reminders and e-mail what is due; with `report`, returns the counts (written, sent,
    failed, skipped)."""
    from .services import reminders

    result = _run(reminders.send_reminders)
    if result.failed:
        log.warning("%s e-mail(s) not sent; the task will be retried", result.failed)
        raise MailNotSent(f"{result.failed} e-mail(s) not sent")
    return vars(result) if report else None


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def snapshot_progress(report: bool = False) -> int | None:
    """Upsert today's progress snapshot of every branch of the current year; with `report`, returns how many
    branches."""
    from .services import dashboard
    from .services.campaign import current_year

    def work() -> int:
        year = current_year()
        return 0 if year is None else dashboard.take_snapshot(year)

    count = _run(work)
    return count if report else None


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def publish_scheduled(report: bool = False) -> int | None:
    """Publish the scheduled posts whose time has come (and tell their authors); with `report`, returns how
    many."""
    from .services import news

    count = _run(news.publish_due)
    return count if report else None


@huey.task(retries=0)
def import_roster(import_id: int) -> dict:
    """Import a previewed roster in short batches, all or nothing; returns what it did."""
    from .services import roster

    with _context():
        return roster.run(import_id)


class TraceNotWiped(RuntimeError):
    """The checkpoint or remix was blocked (a reader, a lock); raising it makes huey retry the task."""


@huey.task(retries=20, retry_delay=30)
def scrub_ballot_traces(report: bool = False) -> bool | None:
    """Wipe what the database engine keeps that could pair a used appraisal code with its ballot; with
    `report`, returns True once wiped."""
    from .services import ballot_traces

    with _context():
        if not ballot_traces.scrub():
            raise TraceNotWiped("blocked; retried")
    return True if report else None


@huey.task(retries=3, retry_delay=60)
def forget_personal_leftovers(report: bool = False) -> dict | None:
    """Nightly: roster previews (personal data) older than a day, and the secrets of activation-slip batches
    whose printing time is over. With `report`, returns what was removed."""
    from .services import activation, branch_import, roster

    with _context():
        done = {"previews": roster.remove_stale_previews()
                + roster.remove_stale_previews(kind=branch_import.UPLOAD_KIND),
                "slip_batches": activation.forget_batch_secrets()}
    return done if report else None


# The schedule: each periodic task only enqueues the work above, so that the work is retried (huey retries a
# periodic task only until its next run). No result is kept of it.
@huey.periodic_task(crontab(minute="*/10"))
def every_ten_minutes() -> None:
    send_reminders()


@huey.periodic_task(crontab(minute="5"))
def every_hour() -> None:
    snapshot_progress()


@huey.periodic_task(crontab(minute="*"))
def every_minute() -> None:
    publish_scheduled()


@huey.periodic_task(crontab(minute="*/5"))
def every_five_minutes() -> None:
    """SQLite's checkpoint every five minutes; PostgreSQL's remix (CLUSTER, heavier) at minute 35 only."""
    from datetime import UTC, datetime

    if "postgres" not in os.environ.get("DATABASE_URL", "") or datetime.now(UTC).minute // 5 == 7:
        scrub_ballot_traces()


@huey.periodic_task(crontab(hour="3", minute="30"))
def every_night() -> None:
    """Expire what the result store still holds: results nobody read, and the errors of tasks that failed for
    good (their traceback is in the consumer's log). A result is read within moments of being stored, if ever."""
    huey.storage.flush_results()
    forget_personal_leftovers()
