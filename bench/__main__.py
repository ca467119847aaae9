"""Run every bench_*.py: `python -m bench` (or `make bench`).

Environment: BENCH_SIZES (branches of each district, default "20,300,2000"), BENCH_MEMBERS (40),
BENCH_ROUNDS (25), BENCH_WORKERS (gunicorn workers, 2), BENCH_DATABASE_URL (a PostgreSQL server to use
instead of SQLite files; given a database name, e.g. …/h14p_bench, the districts are h14p_bench_300x40 and so
on), BENCH_ONLY (substrings of case names, comma-separated: a case runs if its name holds one, e.g.
"checklist page,tick one"), BENCH_DATA (where seeded SQLite districts are kept and reused
while the code they depend on is unchanged; default bench-data/), BENCH_REUSE=any
(reuse the district seeded last whatever code seeded it, e.g. to compare a change on the same data),
CONCURRENCY_SECONDS (30; 0 skips the 8-client run at the largest size).

Prints one table: per page, its median time as a ratio to /healthz in the same run at every size, its SQL
query count at every size (they must be equal), and the bytes of the largest district's answer; then, for the
cases marked `cpu`, the server's median CPU time per request measured in-process at every size.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import sys
from pathlib import Path

from . import concurrency, harness


def load_modules() -> list:
    folder = str(Path(__file__).parent)
    names = sorted(m.name for m in pkgutil.iter_modules([folder]) if m.name.startswith("bench_"))
    return [importlib.import_module(f"bench.{name}") for name in names]


def load_cases(modules) -> list[harness.Case]:
    only = [part for part in os.environ.get("BENCH_ONLY", "").split(",") if part]
    return [c for module in modules for c in module.CASES if not only or any(part in c.name for part in only)]


def main() -> int:
    work = harness.workdir()
    try:
        return run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # working copies of the districts (the kept ones stay)


def run(work: Path) -> int:
    from tests.liveserver import gunicorn

    sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "20,300,2000").split(",")]
    members = int(os.environ.get("BENCH_MEMBERS", 40))
    rounds = int(os.environ.get("BENCH_ROUNDS", 25))
    workers = int(os.environ.get("BENCH_WORKERS", 2))
    modules = load_modules()
    cases = load_cases(modules)
    for case in cases:
        case.rounds = min(case.rounds, rounds)

    def prepare(district):
        for module in modules:  # extra data a module measures at size (e.g. 5,000 posts)
            if hasattr(module, "prepare"):
                module.prepare(district)

    districts = []
    for n in sizes:
        print(f"District of {n} branches × {members} members ...", flush=True)
        district = harness.District(n, members).build(work, prepare)
        seconds = district.extra["seed_seconds"]
        print(f"  seeded in {seconds:.1f} s" if seconds is not None else "  reused (seeded before by this code)",
              flush=True)
        districts.append(district)

    queries = {case.name: [harness.count_queries(case, d) for d in districts] for case in cases}
    cpu = {case.name: [harness.cpu_ms(case, d, min(case.rounds, 5)) for d in districts] for case in cases if case.cpu}
    timed: dict[str, list[dict]] = {case.name: [] for case in cases}
    load = None
    for district in districts:
        log = harness.data_folder() / f"gunicorn-{district.branches}.log"  # tracebacks of any 5xx
        log.parent.mkdir(parents=True, exist_ok=True)
        with gunicorn(district.url, str(work / "uploads"), workers=workers, log=str(log)) as base:
            for case in cases:
                timed[case.name].append(harness.time_case(base, case, district))
            if district is districts[-1] and os.environ.get("CONCURRENCY_SECONDS") != "0":
                load = concurrency.run(base, district)

    ratio_heads = " ".join(f"{'×@' + str(n):>8}" for n in sizes)
    query_heads = " ".join(f"{'q@' + str(n):>7}" for n in sizes)
    header = (f"{'page':<40} {ratio_heads} {'ms@' + str(sizes[-1]):>9} {query_heads} "
              f"{'bytes':>9} {'vs page':>8}")
    print()
    print(header)
    print("-" * len(header))
    unstable = []
    for case in cases:
        counts, rows = queries[case.name], timed[case.name]
        if len(set(counts)) > 1:
            unstable.append(case.name)
        last = rows[-1]
        share = f"{100 * last['bytes'] / last['page_bytes']:.0f}%" if last.get("page_bytes") else ""
        ratios = " ".join(f"{row['ratio']:>8.1f}" for row in rows)
        counted = " ".join(f"{count:>7}" for count in counts)
        failed = [f"{code}@{n}" for n, row in zip(sizes, rows, strict=True) for code in row.get("failures", [])]
        print(f"{case.name:<40} {ratios} {last['ms']:>9.1f} {counted} {last['bytes']:>9} {share:>8}"
              + (f"  failed: {' '.join(sorted(set(failed)))}" if failed else ""))
    for name, times in cpu.items():
        sizes_ms = ", ".join(f"{ms:.0f} ms @{n}" for n, ms in zip(sizes, times, strict=True))
        print(f"in-process CPU, {name}: {sizes_ms}")
    health = " ".join(f"{rows['healthz_ms']:.2f}" for rows in timed[cases[0].name]) if cases else ""
    print(f"\n/healthz median ms at each size (first case's run): {health}")
    for district in districts:
        if district.extra["seed_seconds"] is not None:
            print(f"seed-demo {district.branches} × {members}: {district.extra['seed_seconds']:.1f} s")
    if load:
        print(f"concurrency at {sizes[-1]} branches: {load['clients']} clients for {load['seconds']:.0f} s, "
              f"{load['reads']} reads and {load['ticks']} ticks, {load['errors_5xx']} answers 5xx; read p99 "
              f"{load['p99_loaded_ms']:.0f} ms under load against {load['p99_alone_ms']:.0f} ms alone "
              f"({load['p99_ratio']:.1f}×)")
    print()
    if unstable:
        print("Query count grows with the district for: " + ", ".join(unstable))
        return 1
    print(f"Query counts are the same at {', '.join(map(str, sizes))} branches for every page.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
