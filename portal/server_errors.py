"""Requests gunicorn refuses before the portal sees them (a request line over gunicorn's 1 MB cap, too many
or too large headers, a malformed request line) are answered with the portal's own translated error page
instead of gunicorn's English one. gunicorn.conf.py installs this in every worker (`post_worker_init`).

Nothing of such a request can be read (neither its session cookie nor its Accept-Language), so the page is
in the portal's default language, Chinese."""
from __future__ import annotations

from flask import Flask, g

# A status gunicorn answers that the portal has no page of its own for gets the page of this one.
_SAME_AS = {431: 400, 417: 400, 501: 400}


def error_page(app: Flask, status: int) -> bytes:
    """The portal's full error page (UTF-8 HTML) for `status`, rendered for an anonymous visitor of "/".
    Raises whatever rendering raises; the caller then falls back to gunicorn's own page."""
    from .extensions import login_manager
    from .views.errors import error_response

    with app.test_request_context("/"):
        g._login_user = login_manager.anonymous_user()
        response = error_response(_SAME_AS.get(status, status))
        return response.get_data()


def install(worker) -> None:
    """Make `worker` (a gunicorn worker whose application is loaded) answer the requests gunicorn itself
    refuses with `error_page`: gunicorn writes them through `gunicorn.util.write_error`, which is replaced
    in this worker process. Status, reason and `Connection: close` stay gunicorn's; an application that is
    not a Flask app, or a page that cannot be rendered, leaves gunicorn's own page."""
    from gunicorn import util

    app = worker.wsgi
    if not isinstance(app, Flask):
        return
    gunicorns_own = util.write_error

    def write_error(sock, status_int, reason, mesg):
        try:
            body = error_page(app, status_int)
        except Exception:  # the page could not be rendered: gunicorn's own answer is still an answer
            worker.log.exception("could not render the portal's page for %s", status_int)
            return gunicorns_own(sock, status_int, reason, mesg)
        head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
                f"Content-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n")
        util.write_nonblock(sock, head.encode("latin-1") + body)
        return None

    util.write_error = write_error
