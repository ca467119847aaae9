"""Friendly error pages in both languages; a fragment for htmx requests."""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..extensions import db
from ..htmx import render, wants_fragment

TITLES = {
    400: lambda: _("The request could not be understood"),
    401: lambda: _("Please log in"),
    403: lambda: _("You do not have access to this page"),
    404: lambda: _("Page not found"),
    405: lambda: _("This action is not available here"),
    409: lambda: _("This record has changed"),
    413: lambda: _("The file is too large"),
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
    413: lambda: _("Files may be at most 10 MB."),
    414: lambda: _("Please shorten what you searched for, or go back and use the links on the page."),
    422: lambda: _("Some of what you entered is not valid."),
    429: lambda: _("Too many attempts in a short time. Please wait a minute and try again."),
    500: lambda: _("The error has been logged. Please try again later."),
    503: lambda: _("Please try again in a few minutes. If it persists, tell the organisation section."),
}


def error_response(status: int, message: str | None = None):
    template = "errors/_message.html" if wants_fragment() else "errors/error.html"
    return render(
        template,
        status=status,
        code=status,
        title=TITLES.get(status, TITLES[400])(),
        message=message or MESSAGES.get(status, MESSAGES[400])(),
    )


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(400, _("The form has expired or was not sent from the portal. "
                                     "Please reload the page and try again."))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return error_response(error.status_code, error.message or None)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Unhandled exceptions reach here as InternalServerError (and propagate in tests).
        if error.code in (301, 302, 303, 307, 308):
            return error
        if (error.code or 500) >= 500:
            db.session.rollback()
        if error.code == 403:
            _count_refusal()
        return error_response(error.code or 500)


def _count_refusal() -> None:
    """Refused requests are counted per day, not each audited: a flood must not fill the audit log."""
    from ..services import throttle

    db.session.rollback()
    throttle.tally_refusal("access.denied")
