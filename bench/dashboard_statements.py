"""Per-statement wall time and page CPU time of the dashboard overview, in-process (issue #14).

    DATABASE_URL=sqlite:////path/to/copy.db .venv/bin/python -m bench.dashboard_statements [ROUNDS]

Logs in as `leader` with the Flask test client (CSRF off), requests each view ROUNDS times after two warm-ups and
prints, per view, the median page CPU time (time.process_time), the statement count and the slowest statements
(median wall ms each, timed with SQLAlchemy's before/after_cursor_execute events). Reads only: a copy of a
district is enough, but never point it at a database you care about being touched by the login.

Besides the slowest six, each view prints the statements of the district's aggregates that issue 14 follows (the
cards and chart, the criterion averages, the overdue submissions: whichever form they take, aggregated over the
summaries or read from the kept totals), marked `*`.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from collections import defaultdict

from sqlalchemy import event

from portal import create_app
from portal.extensions import db

VIEWS = ["/dashboard", "/dashboard?sort=-score&page=4", "/dashboard?sort=-progress",
         "/dashboard?kind=primary", "/dashboard?status=submitted&sort=-score", "/branches/1"]
# Markers of the district aggregates' statements (before h14k: GROUP BY over the summaries and tallies; after: the
# kept rows), matched in the statement's text.
AGGREGATES = {"cards": ("district_summary", "band_4", "SELECT count(*) AS count_1, coalesce(sum(CASE WHEN"),
              "criteria": ("district_criterion", "GROUP BY assessment_tally.criterion_id"),
              "overdue": ("request_tally", "* :param_1 - (SELECT count(submission.id)", "* ? - (SELECT count(")}


def main(rounds: int = 7) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"], "WTF_CSRF_ENABLED": False})
    timings: dict[str, list[float]] = defaultdict(list)
    started: dict[int, float] = {}
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            started[id(cursor)] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            timings[statement].append((time.perf_counter() - started.pop(id(cursor))) * 1000)

    client = app.test_client()
    response = client.post("/login", data={"username": "leader", "password": "portal-demo"})
    assert response.status_code in (302, 303), response.status_code
    for view in VIEWS:
        cpu, counts = [], []
        for n in range(rounds + 2):
            timings.clear()
            t0 = time.process_time()
            response = client.get(view)
            spent = (time.process_time() - t0) * 1000
            assert response.status_code == 200, (view, response.status_code)
            if n >= 2:
                cpu.append(spent)
                counts.append(sum(len(v) for v in timings.values()))
                if n == 2:
                    per_statement = defaultdict(list)
                for statement, values in timings.items():
                    per_statement[statement].extend(values)
        print(f"\n{view}: CPU {statistics.median(cpu):.1f} ms (median of {rounds}), statements {counts[0]}")
        slowest = sorted(per_statement.items(), key=lambda kv: -statistics.median(kv[1]))[:6]
        for statement, values in slowest:
            text = " ".join(statement.split())
            print(f"  {statistics.median(values):6.2f} ms  {text[:150]}")
        for name, markers in AGGREGATES.items():
            for statement, values in per_statement.items():
                if any(marker in statement for marker in markers):
                    text = " ".join(statement.split())
                    print(f"* {name}: {statistics.median(values):6.2f} ms  {text[:110]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
