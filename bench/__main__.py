"""Run every bench_*.py: `python -m bench` (or `make bench`).

Environment: BENCH_BRANCHES (default 300), BENCH_MEMBERS (40), BENCH_SMALL (10), BENCH_ROUNDS (25),
BENCH_DATABASE_URL (a PostgreSQL server to use instead of SQLite files), BENCH_ONLY (substring of case names).
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

from . import harness


def load_modules() -> list:
    folder = str(Path(__file__).parent)
    names = sorted(m.name for m in pkgutil.iter_modules([folder]) if m.name.startswith("bench_"))
    return [importlib.import_module(f"bench.{name}") for name in names]


def load_cases(modules) -> list[harness.Case]:
    only = os.environ.get("BENCH_ONLY")
    return [c for module in modules for c in module.CASES if not only or only in c.name]


def main() -> int:
    from tests.liveserver import gunicorn

    big_n = int(os.environ.get("BENCH_BRANCHES", 300))
    small_n = int(os.environ.get("BENCH_SMALL", 10))
    members = int(os.environ.get("BENCH_MEMBERS", 40))
    rounds = int(os.environ.get("BENCH_ROUNDS", 25))
    modules = load_modules()
    cases = load_cases(modules)
    for case in cases:
        case.rounds = min(case.rounds, rounds)
    work = harness.workdir()
    print(f"Seeding districts of {small_n} and {big_n} branches × {members} members in {work} ...", flush=True)
    small = harness.District(small_n, members).build(work)
    big = harness.District(big_n, members).build(work)
    for district in (small, big):
        for module in modules:  # extra data a module measures at size (e.g. 5,000 posts)
            if hasattr(module, "prepare"):
                module.prepare(district)
    print(f"  seeded {big_n} branches in {big.extra['seed_seconds']:.1f} s", flush=True)

    queries = {case.name: (harness.count_queries(case, small), harness.count_queries(case, big)) for case in cases}
    rows = []
    with gunicorn(big.url, str(work / "uploads"), workers=1) as base:
        for case in cases:
            rows.append((case, harness.time_case(base, case, big)))

    header = (f"{'page':<38} {'median ms':>10} {'healthz ms':>10} {'ratio':>7} "
              f"{'queries@' + str(small_n):>11} {'queries@' + str(big_n):>12} {'bytes':>9} {'vs page':>9}")
    print()
    print(header)
    print("-" * len(header))
    unstable = []
    for case, row in rows:
        q_small, q_big = queries[case.name]
        if q_small != q_big:
            unstable.append(case.name)
        share = f"{100 * row['bytes'] / row['page_bytes']:.0f}%" if row.get("page_bytes") else ""
        print(f"{case.name:<38} {row['ms']:>10.1f} {row['healthz_ms']:>10.2f} {row['ratio']:>7.1f} "
              f"{q_small:>11} {q_big:>12} {row['bytes']:>9} {share:>9}")
    print()
    if unstable:
        print("Query count grows with the district for: " + ", ".join(unstable))
        return 1
    print(f"Query counts are the same at {small_n} and {big_n} branches for every page.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
