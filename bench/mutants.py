"""Deliberate bugs, one at a time: does the suite catch them? `.venv/bin/python -m bench.mutants [NAME...]`.

Each mutant is a textual patch to the code that decides access (permissions, CSRF), figures (progress,
tallies, the dashboard's sort) or writes (a service's commit), paired with the test files that should catch it.
The script applies one patch, runs only those tests (`pytest -x -q -p no:xdist`), puts the file back, and prints
a table: caught (the tests failed) or SURVIVED (they passed: a gap in the suite). Not part of `make test`: it
runs the chosen tests once per mutant. Exit status 1 when any mutant survived.

The originals are restored in a `finally`, and the working tree is checked clean of the patch afterwards; run it
on a clean checkout (it refuses when a file it patches has uncommitted changes)."""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = [str(ROOT / ".venv" / "bin" / "pytest"), "-x", "-q", "-p", "no:xdist", "--no-header", "-p", "no:cacheprovider"]


@dataclass
class Mutant:
    name: str
    what: str
    path: str
    old: str
    new: str
    tests: list[str]


MUTANTS = [
    # --- access ---------------------------------------------------------------------------------------
    Mutant("csrf-off-but-auth", "CSRF exempted for every blueprint but login/logout",
           "portal/__init__.py", "        app.register_blueprint(module.bp)\n",
           "        app.register_blueprint(module.bp)\n        if module is not auth:\n"
           "            from .extensions import csrf\n            csrf.exempt(module.bp)\n",
           ["tests/web/test_csrf.py"]),
    Mutant("csrf-off-checklist", "CSRF exempted for the checklist blueprint only",
           "portal/__init__.py", "        app.register_blueprint(module.bp)\n",
           "        app.register_blueprint(module.bp)\n        if module is checklist:\n"
           "            from .extensions import csrf\n            csrf.exempt(module.bp)\n",
           ["tests/web/test_csrf.py"]),
    Mutant("editor-sees-any-branch-checklist", "branch.view and assessment.view lose the same-branch condition",
           "portal/permissions.py", "        _all(_is_branch_assessment, _same_branch),\n",
           "        _is_branch_assessment,\n",
           ["tests/unit/test_permissions.py", "tests/web/test_access_matrix.py::test_access[checklist.branch]"]),
    Mutant("secretary-edits-other-branch", "a secretary may edit any branch's checklist",
           "portal/permissions.py", '_secretary_here = _all(_role(Role.SECRETARY), _same_branch)',
           '_secretary_here = _role(Role.SECRETARY)',
           ["tests/web/test_access_matrix.py::test_access[checklist.set_result]"]),
    Mutant("admin-manage-for-leaders", "leaders may administer accounts",
           "portal/permissions.py", '    "admin.manage": _role(Role.ADMIN),', '    "admin.manage": _leadership,',
           ["tests/unit/test_permissions.py", "tests/web/test_access_matrix.py::test_access[admin.create_user]"]),
    # --- figures --------------------------------------------------------------------------------------
    Mutant("progress-over-answered-criteria", "overall progress summed over criteria with an answer only",
           "portal/services/progress.py", "    return sum(per_criterion.values(), Tally())",
           "    return sum((t for t in per_criterion.values() if t.assessed), Tally())",
           ["tests/web/test_figures.py"]),
    Mutant("criterion-meter-stuck-at-0", "every per-criterion meter shows 0 %",
           "portal/views/checklist_rows.py", "    progress = tally.progress\n",
           '    progress = tally.progress if meter_id == "overall-meter" else 0.0\n',
           ["tests/web/test_figures.py"]),
    Mutant("partly-counts-as-met", "a partly result scores like met",
           "portal/services/progress.py", "(ItemResult.result == Result.PARTLY, Item.weight * 0.5),",
           "(ItemResult.result == Result.PARTLY, Item.weight * 1.0),", ["tests/web/test_figures.py"]),
    Mutant("na-counts-as-applicable", "n/a items stay in the denominator of progress",
           "portal/services/progress.py", "        return self.total - self.na", "        return self.total",
           ["tests/web/test_figures.py"]),
    Mutant("weights-ignored", "every item weighs 1 in the score",
           "portal/services/progress.py",
           "(ItemResult.result.in_([Result.MET, Result.PARTLY, Result.NOT_MET]), Item.weight), else_=0.0)), 0.0)",
           "(ItemResult.result.in_([Result.MET, Result.PARTLY, Result.NOT_MET]), 1.0), else_=0.0)), 0.0)",
           ["tests/web/test_figures.py"]),
    Mutant("other-years-theme-items", "theme items of every year count in every year's checklist",
           "portal/services/progress.py", "or_(Item.year_id.is_(None), Item.year_id == assessment_year_id_col),",
           "or_(Item.year_id.is_(None), Item.year_id.isnot(None)),", ["tests/web/test_figures.py"]),
    Mutant("score-sort-by-progress", "the dashboard's score column sorts by progress",
           "portal/services/dashboard.py", '        "score": lambda r: number(r.total.score),',
           '        "score": lambda r: r.total.progress,',
           ["tests/web/test_figures.py", "tests/unit/test_dashboard.py"]),
    Mutant("sort-ignores-direction", "descending sorts come out ascending",
           "portal/services/dashboard.py", "    return sorted(rows, key=key, reverse=filters.descending)",
           "    return sorted(rows, key=key)", ["tests/web/test_figures.py"]),
    # --- page or fragment -----------------------------------------------------------------------------
    Mutant("board-bare-fragment", "the news board answers any htmx request with a bare fragment",
           "portal/views/news.py", '    if request.args.get("more") and wants_fragment():',
           '    if request.headers.get("HX-Request"):',
           ["tests/web/test_page_or_fragment.py", "tests/web/test_news.py"]),
    Mutant("history-restore-gets-fragment", "a history restore is answered with a fragment",
           "portal/htmx.py", '        and headers.get("HX-History-Restore-Request") != "true"\n', "",
           ["tests/web/test_page_or_fragment.py"]),
    # --- writes ---------------------------------------------------------------------------------------
    Mutant("nomination-change-not-committed", "commendation decisions are never committed",
           "portal/services/commendation.py",
           "    audit.record(actor, action, nomination, before=before, after=_snapshot(nomination))\n"
           "    db.session.commit()\n",
           "    audit.record(actor, action, nomination, before=before, after=_snapshot(nomination))\n"
           "    db.session.flush()\n",
           ["tests/web/test_commendation.py"]),
]


def _dirty(path: str) -> bool:
    out = subprocess.run(["git", "status", "--porcelain", "--", path], cwd=ROOT, capture_output=True, text=True)
    return bool(out.stdout.strip())


def run(mutant: Mutant) -> tuple[str, float, str]:
    """("caught" | "SURVIVED" | "not applied", seconds, the first failing test)."""
    target = ROOT / mutant.path
    original = target.read_text(encoding="utf-8")
    if original.count(mutant.old) != 1:
        return "not applied", 0.0, f"the text to patch is not (once) in {mutant.path}"
    started = time.monotonic()
    try:
        target.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
        result = subprocess.run([*PYTEST, *mutant.tests], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    finally:
        target.write_text(original, encoding="utf-8")
    seconds = time.monotonic() - started
    failed = next((line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))), "")
    return ("caught" if result.returncode != 0 else "SURVIVED"), seconds, failed[:110]


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    dirty = sorted({m.path for m in chosen if _dirty(m.path)})
    if dirty:
        print(f"uncommitted changes in {', '.join(dirty)}: commit or stash them first", file=sys.stderr)
        return 2
    rows = []
    for mutant in chosen:
        outcome, seconds, detail = run(mutant)
        rows.append((mutant, outcome, seconds, detail))
        print(f"{outcome:<11} {seconds:6.0f}s  {mutant.name:<34} {detail}", flush=True)
    print("\n| mutant | deliberate bug | tests | outcome |\n|---|---|---|---|")
    for mutant, outcome, _seconds, _detail in rows:
        print(f"| {mutant.name} | {mutant.what} | {', '.join(mutant.tests)} | {outcome} |")
    assert not any(_dirty(m.path) for m in chosen), "a patched file was not restored"
    return 1 if any(outcome != "caught" for _m, outcome, _s, _d in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
