"""Session lifetimes, sign-in throttling, and how logins and refusals are audited or counted."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, LoginFailure, RefusalTally, utcnow

from ..factories import PASSWORD, UserFactory


def test_idle_session_ends(client, member, monkeypatch):
    client.login(member)
    assert client.get("/").status_code == 200
    later = time.time() + 3 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.session_expired")) is not None


def test_absolute_session_lifetime_ends_even_an_active_session(client, member, monkeypatch):
    client.login(member)
    start = time.time()
    for hours in range(1, 12):  # active every hour: never idle
        monkeypatch.setattr(time, "time", lambda h=hours: start + h * 3600)
        assert client.get("/").status_code == 200
    monkeypatch.setattr(time, "time", lambda: start + 12 * 3600 + 120)
    assert client.get("/").status_code == 302


def test_denied_access_is_counted_not_audited(client, member):
    client.login(member)
    # A real refusal: a member opening the coverage of their own branch (secretaries only), twice.
    for _ in range(2):
        assert client.get(f"/checklist/branch/{member.branch_id}/members").status_code == 403
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.denied")) is None
    tally = db.session.get(RefusalTally, (utcnow().date(), "access.denied"))
    assert tally is not None and tally.count == 2


def _fail(client, username: str, address: str = "127.0.0.1", password: str = "wrong-password") -> int:
    token = client.csrf_token()
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_failed_logins_of_one_account_are_throttled_from_any_address(client, member):
    codes = [_fail(client, member.username, f"10.0.0.{n}") for n in range(1, 16)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    # Even the right password is refused while the account is throttled, with a translated message.
    token = client.csrf_token()
    response = client.post("/login", data={"username": member.username.upper(), "password": PASSWORD,
                                           "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in
    # Throttled attempts are counted, not audited: ten failures were audited, nothing more.
    failures = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert len(failures) == 10
    assert db.session.get(RefusalTally, (utcnow().date(), "auth.throttled")).count == 6


def test_successful_logins_do_not_count(app, member):
    for _ in range(30):
        client = app.test_client()
        assert client.login(member).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_failures_from_one_address_are_throttled_across_accounts(app, client, member):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = limit = 6  # each failure hashes a password: keep the run short
    codes = [_fail(client, f"nobody{n}", "10.9.9.9") for n in range(limit + 1)]
    assert codes[-1] == 429 and codes[:limit] == [401] * limit
    # Another address is not affected.
    assert _fail(client, member.username, "10.9.9.10", PASSWORD) == 303


def test_old_failures_are_forgotten(client, member, monkeypatch):
    from portal.services import throttle

    for n in range(10):
        _fail(client, member.username, f"10.0.0.{n}")
    assert _fail(client, member.username) == 429
    later = utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(throttle, "utcnow", lambda: later)
    assert _fail(client, member.username, password=PASSWORD) == 303


@pytest.mark.slow
def test_throttling_holds_across_gunicorn_workers_behind_a_proxy(database_url, upload_root, member):
    """Two workers, one trusted proxy: the count is shared (in the database) and follows the forwarded
    client address, so staff behind the proxy are all let in while guessing one account is stopped."""
    import requests

    from ..liveserver import CSRF_META, gunicorn

    staff = [UserFactory(branch=member.branch) for _ in range(24)]
    db.session.commit()

    def attempt(base, username, password, address):
        http = requests.Session()
        token = CSRF_META.search(http.get(base + "/login", timeout=10).text).group(1)
        return http.post(base + "/login", timeout=10, allow_redirects=False,
                         data={"username": username, "password": password, "csrf_token": token},
                         headers={"X-Forwarded-For": address}).status_code

    with gunicorn(database_url, str(upload_root), workers=2, PROXY_FIX_X_FOR="1",
                  LOGIN_FAILURES_PER_ADDRESS="5") as base:
        guesses = [attempt(base, member.username, "wrong-password", f"172.16.0.{n}") for n in range(1, 16)]
        assert guesses.count(401) == 10 and guesses[10:] == [429] * 5
        # 24 people behind the proxy, one address each, sign in within a minute: all let in, even
        # the one whose address has just failed four times (one short of its limit of five).
        assert [attempt(base, f"nobody{n}", "x", "192.168.1.1") for n in range(4)] == [401] * 4
        results = [attempt(base, person.username, PASSWORD, f"192.168.1.{n + 1}") for n, person in enumerate(staff)]
        assert results == [303] * 24


@pytest.mark.parametrize("path", ["/favicon.ico", "/no-such-page", "/login", "/healthz", "/static/css/portal.css"])
def test_a_request_that_changes_nothing_sends_no_session_cookie(app, member, path):
    """A browser sends some requests (its favicon, a prefetch) with the cookie it held before logging in, and
    their answers may arrive after the login's: any Set-Cookie on them would log the person straight out again
    (CI saw it: the favicon's 404 rewrote the session with Flask-Login's "_fresh")."""
    before_login = app.test_client()
    before_login.get("/login")  # the anonymous session with its CSRF token, as the login form leaves it
    cookie = before_login.get_cookie("session")
    assert cookie is not None
    assert before_login.get(path).headers.getlist("Set-Cookie") == []

    logged_in = app.test_client()
    logged_in.get("/login")
    assert logged_in.login(member).status_code == 303
    logged_in.get("/")  # the landing page shows (and so takes) the login's flashed message
    for url in (path, "/", "/news"):
        assert logged_in.get(url).headers.getlist("Set-Cookie") == []  # seen_at is refreshed once a minute
