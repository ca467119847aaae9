"""Domain errors raised by services; the web layer maps each onto a status code."""
from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    title = None  # a heading fitting this refusal; None: the status code's (views/errors.TITLES)

    def __init__(self, message: str = "", field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class NotAllowed(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The record changed state (locked, edited meanwhile) so the action no longer applies."""

    status_code = 409

    def __init__(self, message: str = "", current: object = None, **kwargs):
        super().__init__(message, **kwargs)
        self.current = current


class Invalid(DomainError):
    status_code = 422
