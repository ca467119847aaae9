"""Forms: shared base and field types here; one module per blueprint beside it (portal/forms/<blueprint>.py)."""
from __future__ import annotations

from flask_wtf import FlaskForm

from ..errors import Conflict, Invalid
from ..extensions import db
from .fields import LocalPath, apply_errors, errors_of, unseen_error


class EmptyForm(FlaskForm):
    """A POST-only button still carries its CSRF token."""


class BackForm(FlaskForm):
    """Where a button on a list sends the person back to after its post (hidden `back`, a page of this
    site; None for anything else). Read beside the action's own form; the view checks the page is one it
    offers."""

    back = LocalPath()


def run_form(form: FlaskForm, call, refused, conflict_labels: dict | None = None,
             conflict_words: dict | None = None, check=None):
    """The one shape of a form post: validate `form`, call the service (`call()`), or answer a refusal.

    `refused(errors, status, conflict)` renders the form again: 422 with {field: message} for invalid
    input (the form's own errors, then the service's `Invalid` put beside the same fields; an invalid field
    the person cannot see, a Flag or hidden input, is a 422 with a message for the whole form instead,
    fields.unseen_error); 409 for a
    stale edit when `conflict_labels` ({attribute: label}) is given, with `conflict` = (message,
    [(label, the other person's saved text)]) while the person's own text stays in the form; a saved value
    that is a code (a status) is shown in words through `conflict_words` ({attribute: {value: words}}, e.g.
    labels.FOLLOW_UP_STATUS).
    `check()`, when given, is the service's own checks without writing ({field: message}): asked too when the
    form itself is invalid, so that one refusal lists every problem (a bad number and a taken name at once).
    Returns (what `call` returned, None) or (None, the refusal response). Other domain errors propagate.
    """
    if not form.validate():
        if message := unseen_error(form):  # nowhere beside a field to show it: the whole form's message
            raise Invalid(message, errors_of(form))
        errors = errors_of(form)
        if check is not None:
            for name, problem in check().items():
                errors.setdefault(name, problem)
        return None, refused(errors, 422, None)
    try:
        return call(), None
    except Invalid as error:
        db.session.rollback()
        return None, refused(apply_errors(form, error.field_errors), 422, None)
    except Conflict as error:
        if conflict_labels is None or not isinstance(error.current, dict):
            raise
        words = conflict_words or {}
        saved = [(str(label), _in_words(error.current.get(name), words.get(name)))
                 for name, label in conflict_labels.items()]
        return None, refused({}, 409, (error.message, saved))


def _in_words(value, words: dict | None) -> str:
    if value is None:
        return ""
    if words is not None and value in words:
        return str(words[value])
    return str(value)


def validated(form: FlaskForm) -> FlaskForm:
    """`form`, validated: for a small action form (a switch, a flag) that has no page of its own to show errors on.

    Raises Invalid (422, the first error as the message; the errors handler answers in the person's language)
    when a value is missing or not one of the choices, so a wrong value is never read as "off"."""
    if not form.validate():
        errors = errors_of(form)
        raise Invalid(unseen_error(form) or str(next(iter(errors.values()), "")), errors)
    return form
