"""CPU of the kept figures' upserts a tick runs (issue 14, session h14tick): `tallies.refresh` of one assessment,
`figures.refresh` of its branch (named by id
and by the assessment, as a tick names it) and `figures.refresh_days` of one day, each ROUNDS times in one
transaction that is rolled back (nothing is kept):

    DATABASE_URL=sqlite:////tmp/copy-of-d300.db .venv/bin/python -m bench.tick_upserts [ROUNDS]

Prints the median and lowest CPU ms (time.process_time) per call after two warm-ups and how many of the calls'
statements SQLAlchemy compiled (a statement without a cache key compiles on every call).
"""
from __future__ import annotations

import os
import statistics
import sys
import time

from sqlalchemy import event, select
from sqlalchemy.engine.default import CACHE_HIT

from portal import create_app
from portal.extensions import db


def main(rounds: int = 30) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"]})
    compiled: list[str] = []
    with app.app_context():
        @event.listens_for(db.engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            if context is not None and context.compiled is not None and context.cache_hit is not CACHE_HIT:
                compiled.append(statement)

        from portal.models import Assessment, ProgressSnapshot, User
        from portal.services import figures, tallies

        branch = db.session.scalar(select(User.branch_id).where(User.username == "sec01"))
        assessment = db.session.scalar(select(Assessment.id).where(Assessment.branch_id == branch,
                                                                   Assessment.member_id.is_(None)).limit(1))
        snapshot = db.session.execute(select(ProgressSnapshot.year_id, ProgressSnapshot.day).limit(1)).first()
        connection = db.session.connection()
        calls = [("tallies.refresh (1 assessment)", lambda: tallies.refresh([assessment], connection)),
                 ("figures.refresh (its branch)",
                  lambda: figures.refresh(connection, branch_ids=[branch], assessment_ids=[assessment]))]
        if snapshot is not None:
            calls.append(("figures.refresh_days (1 day)", lambda: figures.refresh_days(connection, *snapshot)))
        for label, call in calls:
            cpu = []
            compiled.clear()
            for n in range(rounds + 2):
                if n == 2:
                    compiled.clear()
                t0 = time.process_time()
                call()
                if n >= 2:
                    cpu.append((time.process_time() - t0) * 1000)
            print(f"{label:32} CPU {statistics.median(cpu):6.2f} ms (min {min(cpu):5.2f})  "
                  f"compiled {len(compiled)} of {rounds} calls", flush=True)
        db.session.rollback()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
