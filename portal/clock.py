"""The portal's clock: what day and time it is where the district is.

The server keeps UTC (`models.utcnow`, naive UTC datetimes in the database). A *day* the user means (a phase's
start, a visit's date, "today" on the dashboard) is a day in the portal's time zone, PORTAL_TIMEZONE
(config `BABEL_DEFAULT_TIMEZONE`, default Asia/Shanghai, UTC+8): between 16:00 and 24:00 UTC Shanghai is already
on the next day, so `date.today()` on a UTC server is the wrong day for a third of every day. Every "today" in
the portal comes from here (tests/unit/test_clock.py refuses `date.today()` elsewhere).
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def zone() -> ZoneInfo:
    """The portal's time zone: the app's BABEL_DEFAULT_TIMEZONE, or Asia/Shanghai outside an app context."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def local_now() -> datetime:
    """Now in the portal's time zone, naive (wall-clock time there, as a typed `datetime-local` reads)."""
    return datetime.now(zone()).replace(tzinfo=None)


def local_today(_form=None) -> date:
    """Today in the portal's time zone. `_form` is ignored: the function doubles as a WTForms bound callable."""
    return datetime.now(zone()).date()
