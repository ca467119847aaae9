"""Response headers that every page carries."""
from __future__ import annotations

from flask import current_app

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


# (name, value) of the headers every answer carries unless its view set its own; the name lower-cased as well.
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # Keeps the Referer on same-origin posts, which Flask-WTF's HTTPS referrer check needs.
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
PRODUCTION_HEADERS = (*HEADERS, ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))


def set_security_headers(response):
    """after_request: HEADERS (and in production HSTS) where the response has none of its own; a page (HTML) also
    varies on HX-Request and is not stored. Each header's presence looked up in one pass over the response's
    headers (werkzeug's `setdefault` scans them twice and raises an exception for each header missing)."""
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    for name, value in PRODUCTION_HEADERS if current_app.config.get("PORTAL_ENV") == "production" else HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
        if "cache-control" not in present:
            headers.add("Cache-Control", "no-store")
    return response
