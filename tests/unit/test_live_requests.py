"""Requests that follow what a person types or chooses (live search, suggestions, filters) answer the last state
of the field: an element whose hx-get fires on `input` or `change` synchronises with hx-sync "…:replace", so that a
newer request aborts the one still on its way. htmx's default ("queue first") keeps only the first request that
waits and drops every later one, so the results could stay on an earlier query than the one on screen
(tests/browser/test_dashboard.py shows it in a browser)."""
from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TAG = re.compile(r"<(?:input|select|textarea|form)\b[^>]*>", re.S)


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\s{re.escape(name)}="([^"]*)"', tag)
    return found.group(1) if found else None


def test_live_gets_answer_the_last_state_of_the_field():
    live = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for tag in TAG.findall(path.read_text(encoding="utf-8")):
            trigger = _attribute(tag, "hx-trigger") or ""
            if _attribute(tag, "hx-get") is None or not re.search(r"\b(input|change)\b", trigger):
                continue
            live.append(path.name)
            sync = _attribute(tag, "hx-sync") or ""
            assert sync.endswith(":replace") or sync == "replace", f"{path.relative_to(TEMPLATES)}: {tag[:200]}"
    assert {"overview.html", "search.html", "_branch_picker.html"} <= set(live)  # the check found them
