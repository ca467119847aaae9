"""CPU time of the district's aggregates that the overview and every branch page read (issue 14, h14k, h14f), each
way on the same database, unfiltered and under each filter of FILTERS: aggregated over the matching summaries (how they
were computed before h14k_01, and still are under a filter by name, grade or appraisal: `kept=False`) and read from the
kept totals (`district_summary`, `district_criterion`, `request_tally`; per unit kind and status, `district_group`,
`district_group_criterion`, `request_group`); and the page of rows (one way: the same statement).

    DATABASE_URL=sqlite:////path/to/copy.db .venv/bin/python -m bench.district_aggregates [ROUNDS]

`ONLY=<query>` (e.g. `ONLY=kind=primary`) times one filter.

Per aggregate (the cards and chart, the criterion averages, the overdue submissions), the median over ROUNDS (50)
of the CPU time (time.process_time: this process's, i.e. SQLite's own work; on PostgreSQL the server's is not in
it, so the wall time is printed too) after five warm-ups, and whether both ways give the same figures. Reads only.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

from sqlalchemy import select

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


FILTERS = ["", "kind=primary", "status=submitted", "kind=middle&status=draft", "status=none",
           "kind=office&status=returned", "q=小学", "grade=advanced", "appraisal=low", "appraisal=few"]


def main(rounds: int = 50) -> None:
    from werkzeug.datastructures import MultiDict

    from portal.models import CampaignYear, utcnow
    from portal.services import dashboard

    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"]})
    only = os.environ.get("ONLY")
    with app.test_request_context():
        all_years = dashboard.years()
        year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
        criteria = dashboard.criteria_as_in(year, dashboard.branch_criteria())
        now = utcnow()
        print(f"load {os.getloadavg()[0]:.1f}")
        for query in FILTERS:
            if only is not None and only != query:
                continue
            args = MultiDict([pair.split("=", 1) for pair in query.split("&") if pair])

            def filters(args=args):  # (afresh per call, as a request parses them)
                return dashboard.parse_filters(args, all_years, criteria)

            count = dashboard._aggregate(year, filters(), now).count
            calls = {
                "cards and chart": lambda kept: dashboard._aggregate(year, filters(), now, kept=kept),
                "criterion averages": lambda kept, n=count: dashboard._criterion_averages(year, filters(), criteria, n,
                                                                                           kept=kept),
                "overdue submissions": lambda kept, n=count: dashboard._overdue_total(year, now, filters(), n,
                                                                                      kept=kept),
                "page of rows": lambda kept: [row.branch_id for row in dashboard.summary_rows(
                    year, filters(), criteria, now)],
            }
            print(f"{query or '(unfiltered)'}: {count} matching branches")
            for name, call in calls.items():
                old_cpu, old_wall, old = _timed(lambda call=call: call(False), rounds)
                new_cpu, new_wall, new = _timed(lambda call=call: call(True), rounds)
                kept = "kept" if dashboard.parse_filters(args, all_years, criteria).is_kept else "(not kept)"
                print(f"  {name}: aggregated {old_cpu:.2f} ms CPU ({old_wall:.2f} wall), {kept} {new_cpu:.2f} ms CPU "
                      f"({new_wall:.2f} wall); same figures: {old == new}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
