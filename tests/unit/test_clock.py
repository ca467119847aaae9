"""The portal's "today" is the day in PORTAL_TIMEZONE, never the server's UTC day (portal/clock.py)."""
import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from portal import clock

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _server_day_calls(path: Path) -> list[str]:
    """`date.today()`, `datetime.today()`, `datetime.now()` without a zone and `datetime.utcnow()` calls."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)):
            continue
        owner, name = node.func.value.id, node.func.attr
        if (owner in {"date", "datetime"} and name == "today") or (owner == "datetime" and name == "utcnow") \
                or (owner == "datetime" and name == "now" and not node.args and not node.keywords):
            found.append(f"{path.name}:{node.lineno}: {owner}.{name}()")
    return found


def test_no_code_asks_the_server_for_its_own_day():
    calls = [hit for path in sorted(PORTAL.rglob("*.py")) for hit in _server_day_calls(path)]
    assert calls == [], "use portal.clock.local_today()/local_now() (or models.utcnow for stored moments)"


class _Frozen(datetime):
    """17:30 UTC on 1 December: already 01:30 on 2 December in Shanghai."""

    @classmethod
    def now(cls, tz=None):
        moment = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
        return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)


def test_today_is_the_districts_day_after_16_utc(monkeypatch, app):
    monkeypatch.setattr(clock, "datetime", _Frozen)
    with app.app_context():
        assert clock.local_today() == date(2026, 12, 2)
        assert clock.local_now() == datetime(2026, 12, 2, 1, 30)
        app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
        try:
            assert clock.local_today() == date(2026, 12, 1)
        finally:
            app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Shanghai"


@pytest.mark.parametrize("source", ["x = date.today()", "x = datetime.now()", "x = datetime.utcnow()"])
def test_the_scan_finds_each_form(tmp_path, source):
    path = tmp_path / "probe.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert _server_day_calls(path)
