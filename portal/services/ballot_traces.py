"""Wiping the storage engine's traces that could pair a used code with its ballot (群众评议 anonymity upkeep).

The schema keeps no link between a code and a ballot (services/appraisal.py), but the database engine writes
both in one commit, and each engine remembers that commit for a while:

- SQLite (WAL mode): the commit's pages — the code's row now marked used, and the new ballot and answer rows —
  sit side by side in the `-wal` file until a checkpoint copies them into the database file, and the frames
  stay in the file even after that until it is truncated. Whoever can read the file and knows a slip's code
  (the secretary printed the slips) could pair the two. After each ballot (and each member appraisal) the
  portal runs `PRAGMA wal_checkpoint(TRUNCATE)`, which empties the file; with `PRAGMA secure_delete=ON` (set on
  every connection, portal/database.py) freed space in the database file is zeroed too. A checkpoint cannot
  finish while a reader still looks at an older snapshot: it is then retried on the task queue
  (portal/tasks.py: `scrub_ballot_traces`, with retries, and every five minutes anyway).
- PostgreSQL: every row written by a transaction carries its id (`xmin`), so the used code and its ballot
  share one, visible to anyone who may SELECT the tables; the heap order (`ctid`) of updated codes and new
  ballots also follows the order of casting. `remix()` rewrites every used code, every ballot and answer, the
  kept counts and every member-appraisal row in ONE transaction (so they all carry the same `xmin`), then CLUSTERs
  each table on its random key (a new file in random order, without the old row versions). It runs hourly on the task
  queue and when a round is saved closed. Between a ballot and the next remix (an hour at most) the pairing
  is readable by someone with SELECT on both tables who knows a slip's code.

What stays out of reach of these measures, and so outside the promise: PostgreSQL's own write-ahead log
(pg_wal) and base backups, file-system snapshots or a copy of the SQLite files taken between a ballot and its
checkpoint, and anyone who controls the server while a person votes (they can read the request). The promise
on the ballot page says what the portal keeps; it is true of the tables, and of the files once the checkpoint
or remix has run.
"""
from __future__ import annotations

import logging

from sqlalchemy import text

from ..extensions import db

log = logging.getLogger(__name__)

# Tables whose rows a ballot or a member appraisal writes in one commit, with the key they are reordered by.
REMIXED = (("appraisal_code", "uq_appraisal_code_code_hash", "used"),
           ("ballot", "pk_ballot", "cast_on"),
           ("ballot_answer", "pk_ballot_answer", "level"),
           ("appraisal_tally", "pk_appraisal_tally", "answers"),  # the counts a ballot adds to (same commit)
           ("member_appraisal_taking", "uq_member_appraisal_taking_round_id_user_id", "branch_id"),
           ("member_verdict", "pk_member_verdict", "level"))
CHECKPOINT_WAIT_MS = 200  # a ballot's answer never waits long for a reader; the queue retries instead


def scrub() -> bool:
    """Wipe the pairing trace on this database now; True when done, False when it must be tried again (a
    reader blocked the checkpoint, or a lock the remix). Commits the current session first."""
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        return checkpoint()
    if db.engine.dialect.name == "postgresql":
        return remix()
    return True


def checkpoint() -> bool:
    """SQLite: copy the WAL into the database file and truncate the WAL to nothing. False when busy."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            busy, _frames, _copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()
    finally:
        raw.close()
    if busy:
        log.info("WAL checkpoint blocked by a reader; retried on the task queue")
    return not busy


def remix() -> bool:
    """PostgreSQL: rewrite the used codes, ballots, answers and member-appraisal rows in one transaction, then
    CLUSTER each table on its random key. False when a lock was not granted within a few seconds."""
    try:
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            for table, _index, column in REMIXED:
                where = " WHERE used" if table == "appraisal_code" else ""
                conn.execute(text(f'UPDATE {table} SET {column} = {column}{where}'))  # noqa: S608  # nosec B608 - fixed names
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SET lock_timeout = '5s'"))
            for table, index, _column in REMIXED:
                conn.execute(text(f"CLUSTER {table} USING {index}"))
                conn.execute(text(f"ANALYZE {table}"))
    except Exception as error:  # noqa: BLE001 - a lock timeout or a busy table: the queue retries
        log.warning("ballot remix not done (%s); retried on the task queue", type(error).__name__)
        return False
    return True


def after_ballot() -> None:
    """Called after a ballot or member appraisal commits: scrub now; when that is blocked, leave it to the
    task queue (retried, and periodic in any case)."""
    try:
        done = db.engine.dialect.name != "postgresql" and scrub()
    except Exception as error:  # noqa: BLE001 - the ballot is counted; the trace is wiped later
        log.warning("ballot trace not wiped now (%s)", type(error).__name__)
        done = False
    if not done:
        enqueue()


def at_close() -> None:
    """A round has closed (or was saved closed): wipe now on either engine, else leave it to the queue."""
    try:
        done = scrub()
    except Exception as error:  # noqa: BLE001
        log.warning("ballot trace not wiped at close (%s)", type(error).__name__)
        done = False
    if not done:
        try:
            from .. import tasks

            tasks.scrub_ballot_traces()
        except Exception as error:  # noqa: BLE001 - the periodic run does it
            log.warning("could not queue the ballot trace wipe (%s)", type(error).__name__)


def enqueue() -> None:
    """Ask the task queue to scrub (PostgreSQL: the remix is periodic, so nothing is queued per ballot)."""
    if db.engine.dialect.name == "postgresql":
        return
    try:
        from .. import tasks

        tasks.scrub_ballot_traces()
    except Exception as error:  # noqa: BLE001 - no queue: the periodic run does it
        log.warning("could not queue the ballot trace wipe (%s)", type(error).__name__)
