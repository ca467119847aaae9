"""Sign-in throttling that holds across workers and instances: failed sign-ins are counted in the
database, per account and per client address, over a sliding window.

Only failures count (ASVS 5.0 V6.3.1: limit guessing, not use): 24 staff signing in from behind one
proxy within a minute are all let in, while 15 wrong passwords for one account from 15 addresses are
refused. The client address is the one Werkzeug's ProxyFix derives when `PROXY_FIX_X_FOR` is set.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from ..extensions import db
from ..models import LoginFailure, RefusalTally, utcnow
from ..text import canonical_username


class Throttled(Exception):
    """Too many failed sign-ins for this account or from this address; `retry_after` in seconds. `message`:
    what the person is told instead of the sign-in's wording (None: that wording)."""

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(retry_after)
        self.retry_after = retry_after
        self.message = message


def account_key(username: str | None) -> str:
    """The name a failure is counted under: NFKC, case-folded, stripped, at most 128 characters, so
    that `SEC01` and `ｓｅｃ０１` count against the same account."""
    return (canonical_username(username) or (username or ""))[:128]


def _limits() -> tuple[timedelta, int, int]:
    config = current_app.config
    return (timedelta(seconds=config["LOGIN_THROTTLE_WINDOW_SECONDS"]),
            config["LOGIN_FAILURES_PER_ACCOUNT"], config["LOGIN_FAILURES_PER_ADDRESS"])


def check(username: str | None, address: str) -> None:
    """Raise Throttled when the account or the address reached its limit of failures in the window.

    One query (two conditional counts). Reads only; the caller decides what to write."""
    window, per_account, per_address = _limits()
    since = utcnow() - window
    key = account_key(username)
    row = db.session.execute(
        select(
            func.count().filter(LoginFailure.scope == "account", LoginFailure.key == key),
            func.count().filter(LoginFailure.scope == "address", LoginFailure.key == address[:128]),
            func.min(LoginFailure.at).filter(LoginFailure.scope == "account"),
            func.min(LoginFailure.at).filter(LoginFailure.scope == "address"),
        ).where(LoginFailure.at >= since,
                ((LoginFailure.scope == "account") & (LoginFailure.key == key))
                | ((LoginFailure.scope == "address") & (LoginFailure.key == address[:128])))
    ).one()
    by_account, by_address, oldest_account, oldest_address = row
    # The wait ends when the oldest failure of each exhausted scope leaves the window; the later one counts.
    ends = [oldest + window for count, limit, oldest in ((by_account, per_account, oldest_account),
                                                         (by_address, per_address, oldest_address))
            if count >= limit and oldest is not None]
    if ends:
        raise Throttled(max(int((max(ends) - utcnow()).total_seconds()) + 1, 1))


def record_failure(username: str | None, address: str) -> None:
    """Count one failed sign-in under the account and the address, and forget failures older than the
    window. Added to the current transaction; the caller commits."""
    window, _, _ = _limits()
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - window))
    db.session.add_all([LoginFailure(scope="account", key=account_key(username)),
                        LoginFailure(scope="address", key=address[:128])])


def tally_refusal(kind: str, commit: bool = True) -> bool:
    """Count one refused (403) or throttled (429) request, or a repeated fault, for today (UTC).

    `kind` is an audit-style action name ("access.denied", "auth.throttled") or another key of at most
    32 characters. An UPDATE first; the row for a new day is inserted once, and a concurrent insert of the
    same row is retried as an update. Commits unless `commit` is false. Returns True for the day's first
    count of `kind` (exactly one caller per day and kind sees True, even under concurrency)."""
    from sqlalchemy.exc import IntegrityError

    day = utcnow().date()
    bump = update(RefusalTally).where(RefusalTally.day == day, RefusalTally.kind == kind).values(
        count=RefusalTally.count + 1)
    first = False
    if db.session.execute(bump).rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.add(RefusalTally(day=day, kind=kind, count=1))
            first = True
        except IntegrityError:
            db.session.execute(bump)
    if commit:
        db.session.commit()
    return first



def check_refusals(scope: str, key: str, limit: int, window_seconds: int, message: str | None = None) -> None:
    """Raise Throttled (with `message`) when `key` (a client address, or an account's name: `account_key`) had
    `limit` refused attempts of `scope` (≤ 8 characters, e.g. "ballot") within the last `window_seconds`. Only
    refusals are counted, never successful uses: a school's staff voting from behind one proxy are not slowed,
    while guessing codes is (ASVS 5.0 V6.3.1)."""
    since = utcnow() - timedelta(seconds=window_seconds)
    count, oldest = db.session.execute(
        select(func.count(), func.min(LoginFailure.at)).where(
            LoginFailure.scope == scope, LoginFailure.key == key[:128], LoginFailure.at >= since)).one()
    if count >= limit and oldest is not None:
        wait = oldest + timedelta(seconds=window_seconds) - utcnow()
        raise Throttled(max(int(wait.total_seconds()) + 1, 1), message)


def record_refusal(scope: str, key: str, window_seconds: int) -> None:
    """Count one refused attempt of `scope` under `key` (a client address, or an account's name) and forget older
    ones, in its own commit (the refused request's own work was rolled back)."""
    db.session.execute(delete(LoginFailure).where(
        LoginFailure.scope == scope, LoginFailure.at < utcnow() - timedelta(seconds=window_seconds)))
    db.session.add(LoginFailure(scope=scope, key=key[:128]))
    db.session.commit()
