"""CPU time of the district's aggregates that the overview and every branch page read (issue 14, h14k), each way
on the same database: aggregated over every active branch's summary (how they were computed before h14k_01, and
still are under a filter) and read from the kept totals (`district_summary`, `district_criterion`, `request_tally`).

    DATABASE_URL=sqlite:////path/to/copy.db .venv/bin/python -m bench.district_aggregates [ROUNDS]

Per aggregate (the cards and chart, the criterion averages, the overdue submissions), the median over ROUNDS (50)
of the CPU time (time.process_time: this process's, i.e. SQLite's own work; on PostgreSQL the server's is not in
it, so the wall time is printed too) after five warm-ups, and whether both ways give the same figures. Reads only.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

from sqlalchemy import select, true

from portal import create_app
from portal.extensions import db


def _timed(call, rounds: int) -> tuple[float, float, object]:
    for _ in range(5):
        result = call()
    cpu, wall = [], []
    for _ in range(rounds):
        c0, w0 = time.process_time(), time.perf_counter()
        result = call()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return statistics.median(cpu), statistics.median(wall), result


def main(rounds: int = 50) -> None:
    from portal.models import CampaignYear, utcnow
    from portal.services import dashboard

    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"]})
    with app.app_context():
        year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
        filters = dashboard.Filters(year=year)
        criteria = dashboard.criteria_as_in(year, dashboard.branch_criteria())
        now = utcnow()
        count = dashboard._aggregate(year, filters, now).count
        calls = {
            "cards and chart": lambda: dashboard._aggregate(year, filters, now),
            "criterion averages": lambda: dashboard._criterion_averages(year, filters, criteria, count),
            "overdue submissions": lambda: dashboard._overdue_total(year, now, filters, count),
        }
        matching = dashboard._matching
        print(f"{count} active branches, load {os.getloadavg()[0]:.1f}")
        for name, call in calls.items():
            dashboard._matching = lambda year, filters: [true()]  # the aggregate over every summary
            try:
                old_cpu, old_wall, old = _timed(call, rounds)
            finally:
                dashboard._matching = matching
            new_cpu, new_wall, new = _timed(call, rounds)
            print(f"  {name}: aggregated {old_cpu:.2f} ms CPU ({old_wall:.2f} wall), kept {new_cpu:.2f} ms CPU "
                  f"({new_wall:.2f} wall); same figures: {old == new}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
