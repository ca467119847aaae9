"""The portal's one policy for errors: friendly pages in both languages, and for htmx a message that
never replaces the content it was about.

A page request gets the whole error page. An htmx request gets a small message marked with its scope
and the header `HX-Reswap: none`, so htmx swaps nothing over the row the person was working in;
static/js/portal.js puts the message where it belongs: inside the row for a problem with that row
(403, 404, 409, 413, 422), in the page's alert region with the next step for a problem with the whole
page (expired session, stale form token, too many requests, server or database down).
"""
from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from flask import Flask, g, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..database import is_locked_error
from ..errors import DomainError
from ..extensions import db
from ..htmx import render, wants_fragment
from ..services.uploads import FileMissing

TITLES = {
    400: lambda: _("The request could not be understood"),
    401: lambda: _("Please log in"),
    403: lambda: _("You do not have access to this page"),
    404: lambda: _("Page not found"),
    405: lambda: _("This action is not available here"),
    409: lambda: _("This record has changed"),
    413: lambda: _("What was sent is too large"),
    414: lambda: _("The address is too long"),
    422: lambda: _("Please check what you entered"),
    429: lambda: _("Too many attempts"),
    500: lambda: _("Something went wrong on our side"),
    503: lambda: _("The service is unavailable for a moment"),
}
MESSAGES = {
    400: lambda: _("Please go back and try again."),
    401: lambda: _("Your session has ended. Please log in again."),
    403: lambda: _("Your role does not allow this. If you think it should, contact the organisation section."),
    404: lambda: _("The page or record you asked for does not exist (any more)."),
    405: lambda: _("Please use the buttons on the page."),
    409: lambda: _("Someone changed this record meanwhile. Reload the page to see its current state."),
    413: lambda: _("What was sent is too large."),
    414: lambda: _("Please shorten what you searched for, or go back and use the links on the page."),
    422: lambda: _("Some of what you entered is not valid."),
    429: lambda: _("Too many attempts in a short time. Please wait a minute and try again."),
    500: lambda: _("The error has been logged. Please try again later."),
    503: lambda: _("Please try again in a few minutes. If it persists, tell the organisation section."),
}
# Forms a person sends without being logged in: a token problem there is the form's, not the session's.
PUBLIC_FORMS = frozenset({"auth.login", "auth.activate"})
# Problems with the whole page rather than with the row acted on: shown in the page's alert region.
PAGE_SCOPE = {401, 429, 500, 502, 503, 504}


def current_page() -> str | None:
    """The page the person is looking at: for htmx the browser's address (the request itself may be a
    POST of a fragment); for a whole-page form the page it was sent from (the Referer); else the requested
    page itself when it is a GET. Only a path on this site, else None."""
    from .auth import safe_next

    if request.headers.get("HX-Request") == "true":
        address = request.headers.get("HX-Current-URL", "")
    elif request.method == "GET":
        return request.full_path.rstrip("?")
    else:
        address = request.referrer or ""
    current = urlsplit(address)
    if current.netloc != request.host:
        return None
    return safe_next(current.path + (f"?{current.query}" if current.query else ""))


def login_url() -> str:
    back = current_page()
    return url_for("auth.login", next=back) if back else url_for("auth.login")


def wants_json() -> bool:
    """A caller that asked for JSON (the rich-text editor's fetch) and not for a page: errors answer it as
    {"error": reason, "status": code}, never an HTML page it cannot show."""
    accepted = request.accept_mimetypes
    return (request.headers.get("HX-Request") != "true"
            and accepted.best_match(["text/html", "application/json"]) == "application/json"
            and accepted["application/json"] > accepted["text/html"])


def error_response(status: int, message: str | None = None, page_scope: bool | None = None,
                   title: str | None = None):
    """The error as a page, or for htmx as a message that is not swapped over the target.

    `page_scope` marks a problem with the whole page (default: by status, see PAGE_SCOPE)."""
    if wants_json():
        from flask import jsonify

        body = jsonify(error=message or MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])(),
                       status=status)
        return body, status
    fragment = wants_fragment()  # a boosted, history-restore or full htmx request gets the whole page
    scope = "page" if (status in PAGE_SCOPE if page_scope is None else page_scope) else "row"
    response = render(
        "errors/_message.html" if fragment else "errors/error.html",
        status=status,
        code=status,
        scope=scope,
        title=title or TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])(),
        message=message or MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])(),
        login_url=login_url() if status == 401 else None,
        reload_url=current_page(),
    )
    if fragment:
        response.headers["HX-Reswap"] = "none"  # never swap an error over the person's work
    return response


def too_large(error: HTTPException | None = None) -> tuple[str, str]:
    """(title, message) of a 413 that fits what was sent: a chosen file over the file limit; a request over
    the whole limit (files and text together); or a text too long to be read as a form field (the request
    itself was small enough: Werkzeug's limit on a form's text fields)."""
    from flask import current_app

    from ..services.uploads import FileTooLarge

    file_mb = current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
    if isinstance(error, FileTooLarge):
        return _("The file is too large"), _("Files may be at most %(mb)s MB.", mb=file_mb)
    total = request.content_length or 0
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    if limit and total > limit:
        if (request.mimetype or "") == "multipart/form-data":
            return TITLES[413](), _("What was sent is larger than %(total)s MB in all: a file may be at most %(mb)s "
                                    "MB, and the text and the files of one form together at most %(total)s MB. Go "
                                    "back: the text you typed is offered again in the form.",
                                    total=limit // (1024 * 1024), mb=file_mb)
        return TITLES[413](), _("What was sent is larger than %(total)s MB. Go back and shorten it: the text you "
                                "typed is offered again in the form.", total=limit // (1024 * 1024))
    return TITLES[413](), _("A text in the form is too long to be accepted. Go back and shorten it (a long text can "
                            "be split into several posts): the text you typed is offered again in the form.")


def _forget_user_while_database_is_down() -> None:
    """Rendering the error page must not ask the database again: treat the request as anonymous and
    remember that there is no current year."""
    from ..extensions import login_manager

    g._login_user = login_manager.anonymous_user()
    g.current_year = None
    g.database_down = True


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        from flask_login import current_user

        if request.endpoint not in PUBLIC_FORMS and not current_user.is_authenticated:
            # The session (which holds the form token) is gone, e.g. its cookie was deleted or it expired:
            # say so, with the log-in link back to this page, rather than blaming the form.
            return error_response(401)
        return error_response(400, _("The form has expired or was not sent from the portal. "
                                     "Please reload the page and try again: what you typed is kept in this "
                                     "browser and offered again in the form."), page_scope=True)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if isinstance(error, FileMissing):
            _audit_missing_file(error)
        title = str(error.title) if error.title else None
        if title is None and error.status_code == 409 and error.message and getattr(error, "current", None) is None:
            # A refusal that says why (a branch that still has people, a secretary's place taken): not "this record
            # has changed", which is the title of a stale edit.
            title = _("This cannot be done now")
        return error_response(error.status_code, error.message or None, title=title)

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError):
        app.logger.error("database unavailable: %s", error)
        with contextlib.suppress(Exception):  # the connection itself may be gone; the page must still render
            db.session.rollback()
        if not is_locked_error(error):
            # Only busy (another transaction held the write lock too long), the database still answers: the
            # page keeps the person's header and navigation. Down or broken: render without asking it again.
            _forget_user_while_database_is_down()
        if request.method == "GET":
            return error_response(503, _("The database cannot be reached at the moment. Please try again in a "
                                         "few minutes."))
        return error_response(503, _("The database cannot be reached at the moment. Nothing you typed was saved; "
                                     "please try again in a few minutes."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Unhandled exceptions reach here as InternalServerError (and propagate in tests).
        if error.code in (301, 302, 303, 307, 308):
            return error
        original = getattr(error, "original_exception", None)
        if isinstance(original, OperationalError):
            return database_down(original)
        if (error.code or 500) >= 500:
            db.session.rollback()
        if error.code == 403:
            _count_refusal()
        if error.code == 413:
            title, message = too_large(error)
            if _wants_json():  # the news editor's picture upload (fetch) shows the reason itself
                from flask import jsonify

                return jsonify(error=message), 413
            return error_response(413, message, title=title)
        return error_response(error.code or 500)


def _wants_json() -> bool:
    accepted = request.accept_mimetypes
    return accepted.best_match(["application/json", "text/html"]) == "application/json" and \
        accepted["application/json"] > accepted["text/html"]


def _audit_missing_file(error: FileMissing) -> None:
    """A row pointing at a file that is gone is a fault the organisation section must hear of."""
    from flask import request
    from flask_login import current_user

    from ..services import uploads

    actor = current_user._get_current_object() if current_user.is_authenticated else None
    uploads.record_missing(actor, error, request.path)


def _count_refusal() -> None:
    """Refused requests are counted per day, not each audited: a flood must not fill the audit log."""
    from ..services import throttle

    db.session.rollback()
    throttle.tally_refusal("access.denied")
