"""Concurrency at size: 8 clients, 80 % reads (dashboard, sorted pages, branch pages) and 20 % ticks by
secretaries of branches whose checklist is open, for CONCURRENCY_SECONDS (30). Reports 5xx answers and the
read p99 under load against the p99 of one client alone (the aim: no 5xx, at most 4×)."""
from __future__ import annotations

import os
import random
import statistics
import threading
import time

from sqlalchemy import select

from .harness import Client, District

READS = ["/dashboard", "/dashboard?sort=-score&page=3", "/dashboard?status=submitted", "/dashboard?sort=coverage"]


def _open_branches(district: District, count: int) -> list[tuple[str, int, int]]:
    """(secretary username, branch id, first item id) of branches whose checklist is open this year."""
    from portal.extensions import db
    from portal.models import Assessment, AssessmentStatus, CampaignYear, Criterion, Framework, Item, Subject, User

    with district.app.app_context():
        locked = select(Assessment.branch_id).join(CampaignYear, CampaignYear.id == Assessment.year_id).where(
            CampaignYear.is_current.is_(True), Assessment.member_id.is_(None),
            Assessment.status.in_([AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED]))
        rows = db.session.execute(select(User.username, User.branch_id).where(
            User.role == "secretary", User.branch_id.not_in(locked)).order_by(User.branch_id).limit(count)).all()
        item = db.session.scalar(select(Item.id).join(Criterion).join(Framework).where(
            Framework.subject == Subject.BRANCH, Item.year_id.is_(None)).order_by(Criterion.position, Item.position))
    return [(name, branch_id, item) for name, branch_id in rows]


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else (values[0] if values else 0.0)


def run(base: str, district: District, clients: int = 8) -> dict:
    seconds = float(os.environ.get("CONCURRENCY_SECONDS", 30))
    tickers = _open_branches(district, clients)
    branch_pages = [f"/branches/{branch_id}" for _n, branch_id, _i in tickers]
    reads = READS + branch_pages

    solo = Client(base, "leader")
    alone = []
    for n in range(40):
        started = time.perf_counter()
        solo.send("GET", reads[n % len(reads)], None, False)
        alone.append(time.perf_counter() - started)

    lock = threading.Lock()
    loaded, errors, ticks = [], [], [0]

    def worker(index: int) -> None:
        rng = random.Random(index)
        reader = Client(base, "leader")
        name, branch_id, item = tickers[index % len(tickers)]
        writer = Client(base, name)
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            if rng.random() < 0.2:
                response = writer.send("POST", f"/checklist/branch/{branch_id}/items/{item}/result",
                                       {"result": "met" if n % 2 else "partly"}, True)
                with lock:
                    ticks[0] += 1
            else:
                started = time.perf_counter()
                response = reader.send("GET", rng.choice(reads), None, False)
                with lock:
                    loaded.append(time.perf_counter() - started)
            if response.status_code >= 500:
                with lock:
                    errors.append(response.status_code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"clients": clients, "seconds": seconds, "reads": len(loaded), "ticks": ticks[0],
            "errors_5xx": len(errors), "p99_alone_ms": _p99(alone) * 1000, "p99_loaded_ms": _p99(loaded) * 1000,
            "p99_ratio": _p99(loaded) / _p99(alone) if alone else 0.0}
