"""Hot-row contention of the kept district totals (issue 14, h14k) on PostgreSQL: TICKERS threads (8), each a
secretary ticking their own branch's checklist (branches drawn at random: two may share a slot) through the service
(`checklist.set_item_result`, the tick as the portal runs it: tallies, summary and, by trigger, the district's rows
of the year, in one transaction), for SECONDS (20), with the triggers of migration h14k_01, with them disabled
(ALTER TABLE … DISABLE TRIGGER), and with them again.

    DATABASE_URL=postgresql://…/a_copy .venv/bin/python -m bench.district_contention [SECONDS] [TICKERS]

Prints ticks per second, the median and p99 tick wall time, and the share of samples of pg_stat_activity (every
20 ms) in which some ticker waited on a lock (`wait_event_type = 'Lock'`: a row lock of the year's district row or
of a criterion's row). Writes to the database (ticks, audit events) and disables the triggers for a while: point it
at a copy only; the triggers are enabled again (and `rebuild-figures` run) at the end.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time

from sqlalchemy import select, text

from portal import create_app
from portal.extensions import db
from portal.models import DISTRICT_SLOTS

TABLES = ("branch_summary", "assessment_tally", "submission")


def _tickers(count: int) -> list[tuple[int, int, list[int]]]:
    """(secretary id, branch id, branch item ids) of `count` branches whose checklist is open this year."""
    from portal.models import (
        Assessment,
        AssessmentStatus,
        CampaignYear,
        Criterion,
        Framework,
        Item,
        Role,
        Subject,
        User,
    )
    from portal.services.items import in_checklist

    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    locked = select(Assessment.branch_id).where(
        Assessment.year_id == year.id, Assessment.member_id.is_(None),
        Assessment.status.in_([AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED]))
    rows = db.session.execute(select(User.id, User.branch_id).where(
        User.role == Role.SECRETARY, User.active.is_(True), User.branch_id.not_in(locked))
        .order_by(User.branch_id)).all()
    rows = random.Random(14).sample(rows, min(count, len(rows)))  # any branches: their slots (id % 16) may meet
    items = list(db.session.scalars(select(Item.id).join(Criterion).join(Framework).where(
        Framework.subject == Subject.BRANCH, in_checklist(year.id, year.year))))
    return [(user_id, branch_id, items) for user_id, branch_id in rows]


def _run(app, tickers, seconds: float) -> dict:
    from portal.models import CampaignYear, Subject, User
    from portal.services import checklist

    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    waits = [0, 0]  # samples with a ticker waiting on a lock, samples

    def tick(index: int) -> None:
        user_id, branch_id, items = tickers[index]
        rng = random.Random(index)
        with app.app_context():
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    user = db.session.get(User, user_id)
                    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
                    target = checklist.target_for(Subject.BRANCH, branch_id, year)
                    checklist.set_item_result(user, target, rng.choice(items), rng.choice(["met", "partly",
                                                                                           "not_met"]))
                    latencies.append((time.perf_counter() - t0) * 1000)
                except Exception as error:  # noqa: BLE001 (a bench: count and go on)
                    errors.append(type(error).__name__)
                    db.session.rollback()
                finally:
                    db.session.remove()

    def sample() -> None:
        with app.app_context():
            while time.monotonic() < stop:
                waiting = db.session.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"))
                db.session.rollback()
                waits[0] += 1 if waiting else 0
                waits[1] += 1
                time.sleep(0.02)

    threads = [threading.Thread(target=tick, args=(i,)) for i in range(len(tickers))]
    threads.append(threading.Thread(target=sample))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {"ticks/s": round(len(latencies) / elapsed, 1), "median ms": round(statistics.median(ordered), 1),
            "p99 ms": round(ordered[int(len(ordered) * 0.99) - 1], 1), "errors": len(errors),
            "lock-wait samples": f"{waits[0]}/{waits[1]}"}


def _triggers(enabled: bool) -> None:
    for table in TABLES:
        db.session.execute(text(f"ALTER TABLE {table} {'ENABLE' if enabled else 'DISABLE'} TRIGGER USER"))
    db.session.commit()


def main(seconds: float = 20, count: int = 8) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"],
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": count + 2}})
    with app.app_context():
        assert db.engine.dialect.name == "postgresql", "PostgreSQL only (SQLite has one writer anyway)"
        tickers = _tickers(count)
        assert len(tickers) == count, f"{len(tickers)} open branches"
        print("branches", sorted(branch for _user, branch, _items in tickers), "slots",
              sorted(branch % DISTRICT_SLOTS for _user, branch, _items in tickers))
    try:
        for enabled in (True, False, True):
            with app.app_context():
                _triggers(enabled)
            print(f"triggers {'on ' if enabled else 'off'}, {count} tickers, {seconds:.0f} s:",
                  _run(app, tickers, seconds), f"(load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        with app.app_context():
            from portal.services import figures

            _triggers(True)
            figures.rebuild_district(db.session.connection())
            db.session.commit()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20, int(sys.argv[2]) if len(sys.argv) > 2 else 8)
