"""One record per intent: a create form carries a one-time token; the first POST with it makes the
record, a replay (double click, resend after a timeout) makes nothing and gets the same record back.

The token row is written in the same transaction as the record it made: the record's id is filled in
as the creating service flushes (an `after_flush` hook), so the pair commits or rolls back together.
"""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict, DomainError
from ..extensions import db
from ..models import FormIntent, utcnow

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEEP = timedelta(days=30)  # a form replayed later than this is a new intent (and the table stays small)
_PENDING = "form_intent"


def new_token() -> str:
    """A fresh token for one rendering of a create form."""
    return secrets.token_urlsafe(18)


def _replayed(actor, token: str, kind: str) -> int | None:
    intent = db.session.scalar(select(FormIntent).where(FormIntent.token == token))
    if intent is None:
        return None
    if intent.user_id != actor.id or intent.kind != kind or intent.object_id is None:
        # Not this person's form, or another form's token: never answer with someone else's record.
        raise Conflict(str(_l("This form was already sent. Reload the page and try again.")))
    return intent.object_id


class FormOutdated(DomainError):
    """A create form sent without its one-time token: not a form the portal drew (a page cached from before
    the token existed, or a hand-made request). Without the token a replay could not be recognised, so
    nothing is made; the person sends the form again from a freshly loaded page (their text is kept in the
    browser, see static/js/portal.js)."""

    status_code = 400


def run_once(actor, token: str | None, model, create) -> tuple[int, bool]:
    """Call `create()` (a service that makes and commits one `model` record) at most once per `token`.

    Returns (record id, replayed): replayed is True when the token was used before, and then nothing is
    called. Domain errors from `create` roll the token back with everything else, so the corrected form can
    be sent again with it.
    Raises FormOutdated (400) without a well-formed token, Conflict when the token belongs to another
    person's or another kind of form.
    """
    if not token or not TOKEN.fullmatch(token):
        raise FormOutdated(str(_l("This form is out of date, so nothing was saved. Open the page again and "
                                  "send the form once more: what you typed is offered again.")))
    kind = model.__tablename__
    if (found := _replayed(actor, token, kind)) is not None:
        return found, True
    db.session.execute(delete(FormIntent).where(FormIntent.user_id == actor.id,
                                                FormIntent.created_at < utcnow() - KEEP))
    db.session.add(FormIntent(token=token, user_id=actor.id, kind=kind))
    try:
        db.session.flush()  # a simultaneous twin waits here for the first, then finds its record
    except IntegrityError:
        db.session.rollback()
        if (found := _replayed(actor, token, kind)) is not None:
            return found, True
        raise
    db.session.info[_PENDING] = (token, model)
    try:
        created = create()
    except DomainError:
        db.session.rollback()
        raise
    finally:
        db.session.info.pop(_PENDING, None)
    return created.id, False


@event.listens_for(Session, "after_flush")
def _link_record(session, _context) -> None:
    """While a create form's token is pending, the first new `model` row flushed is the record it made."""
    pending = session.info.get(_PENDING)
    if pending is None:
        return
    token, model = pending
    made = next((obj for obj in session.new if isinstance(obj, model)), None)
    if made is None or made.id is None:
        return
    session.connection().execute(
        FormIntent.__table__.update().where(FormIntent.token == token).values(object_id=made.id))
    session.info.pop(_PENDING, None)
