"""Session lifetimes: a session ends after a period of inactivity (idle) and, whatever the activity,
a fixed time after login (absolute). Logout, password change and disabling end sessions everywhere
through the user's session version (see services/accounts.load_user)."""
from __future__ import annotations

import time

from flask import Flask, current_app, flash, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_in

from .extensions import db


def register(app: Flask) -> None:
    app.session_interface = CookieSessions()
    user_logged_in.connect(_stamp_login, app)
    app.before_request(enforce_lifetimes)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions (the same cookies), their signing serializer made once per secret key and
    fallback keys instead of on every request."""

    _kept: tuple | None = None

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._kept
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]



def _stamp_login(sender, user, **extra) -> None:
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now


# Requests that never need to know who is asking: they must not load the user (and so ask the database),
# so that the stylesheet and the health check still answer while the database is down.
SESSIONLESS_ENDPOINTS = frozenset({"static", "main.healthz"})


def is_sessionless() -> bool:
    """True for a request of an endpoint in SESSIONLESS_ENDPOINTS (static files, /healthz)."""
    return request.endpoint in SESSIONLESS_ENDPOINTS


def enforce_lifetimes() -> None:
    if is_sessionless() or not current_user.is_authenticated:
        return
    now = int(time.time())
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    idle = current_app.config["SESSION_IDLE_SECONDS"]
    absolute = current_app.config["SESSION_ABSOLUTE_SECONDS"]
    expired = login_at is None or now - login_at > absolute or (seen_at is not None and now - seen_at > idle)
    if not expired:
        if now - (seen_at or 0) >= 60:  # refresh at most once a minute: fewer cookie rewrites
            session["seen_at"] = now
        return
    from .services import accounts, audit

    audit.record(current_user._get_current_object(), "auth.session_expired", current_user._get_current_object())
    db.session.commit()
    accounts.forget_session()
    flash(_l("Your session has expired. Please log in again."), "info")
