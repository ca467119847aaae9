"""Session lifetimes, login rate limiting, and the audit of logins and refusals."""
import os
import socket
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent

from ..conftest import PortalClient, make_app
from ..factories import PASSWORD


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


def test_denied_access_is_audited(client, member):
    client.login(member)
    assert client.get("/checklist/branch/999999").status_code in (403, 404)
    client.get("/checklist/member/999999")
    # A real refusal: a member opening the coverage of their own branch (secretaries only).
    response = client.get(f"/checklist/branch/{member.branch_id}/members")
    assert response.status_code == 403
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.denied"))
    assert event is not None and event.actor_id == member.id and "members" in event.after["path"]


def _limited_app(database_url, upload_root, storage="memory://"):
    app = make_app(database_url, upload_root, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute",
                   RATELIMIT_STORAGE_URI=storage)
    app.test_client_class = PortalClient
    return app


def _hammer(app, username):
    client = app.test_client()
    codes = []
    for _ in range(5):
        token = client.csrf_token()
        codes.append(client.post("/login", data={"username": username, "password": "wrong-password",
                                                 "csrf_token": token}).status_code)
    return codes, client


def test_login_is_rate_limited_with_a_translated_message(app, database_url, upload_root, member):
    limited = _limited_app(database_url, upload_root)
    with limited.app_context():
        codes, client = _hammer(limited, member.username)
        assert codes[:3] == [401, 401, 401] and codes[3] == 429
        token = client.csrf_token()
        response = client.post("/login", data={"username": member.username, "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 429
        assert "尝试次数过多" in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.rate_limited")) is not None


# CI (.ci/run) names the Redis it has through PORTAL_TEST_REDIS: then an unreachable Redis fails the test
# instead of skipping it. Elsewhere the test runs when a Redis answers on the default port.
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS") or "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    url = urlsplit(REDIS_URL)
    try:
        socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_rate_limit_is_shared_through_redis(app, database_url, upload_root, member):
    """Two app instances (as two gunicorn workers) share the count through Redis."""
    import uuid

    if not _redis_up():
        if os.environ.get("PORTAL_TEST_REDIS"):
            pytest.fail(f"PORTAL_TEST_REDIS={REDIS_URL} is set but Redis does not answer")
        pytest.skip("no Redis on 127.0.0.1:6379 (set PORTAL_TEST_REDIS to require one)")
    storage = REDIS_URL
    first = _limited_app(database_url, upload_root, storage)
    second = _limited_app(database_url, upload_root, storage)
    prefix = f"test-{uuid.uuid4().hex}"
    for instance in (first, second):
        instance.config["RATELIMIT_KEY_PREFIX"] = prefix
    from portal.extensions import limiter

    with first.app_context():
        limiter.reset()
        codes_first, _ = _hammer(first, member.username)
    with second.app_context():
        codes_second, _ = _hammer(second, member.username)
    assert 429 in codes_first and set(codes_second) == {429}
