"""Absolute links (feeds, e-mails, QR codes) built on the configured PORTAL_BASE_URL, never on the
request's Host header, which any client can forge."""
from __future__ import annotations

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """`PORTAL_BASE_URL` + the path of `endpoint` (e.g. "http://portal.school.local/news/12"), inside a request
    or outside one (a command, the task queue)."""
    path = url_for(endpoint, **values) if has_request_context() else path_for(endpoint, **values)
    return external_path(path)


def external_path(path: str) -> str:
    """`PORTAL_BASE_URL` + a path inside the portal that was stored earlier (a notification's link)."""
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def path_for(endpoint: str, **values) -> str:
    """The path of `endpoint` inside the portal (e.g. "/checklist/branch/3?year=2012"), inside a request or
    outside one (a command, the task queue): notifications store it, e-mails prefix PORTAL_BASE_URL."""
    return current_app.url_map.bind("portal.invalid").build(endpoint, values)
