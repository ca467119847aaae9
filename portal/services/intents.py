"""One record per intent: a create form carries a one-time token; the first POST with it makes the
record, a replay (double click, resend after a timeout) makes nothing and gets the same record back.

The token row is written in the same transaction as the record it made: the record's id is filled in
as the creating service flushes (an `after_flush` hook), so the pair commits or rolls back together.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import timedelta

from flask import has_request_context, request
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
_NOT_CONTENT = {"csrf_token", "form_token"}


def new_token() -> str:
    """A fresh token for one rendering of a create form."""
    return secrets.token_urlsafe(18)


def form_digest() -> str | None:
    """A hash of what the current request's form carries (every field but the tokens, and the uploaded
    files' names and sizes), or None outside a request: tells a true replay from the same token reused with
    other content."""
    if not has_request_context():
        return None
    digest = hashlib.sha256()
    fields = sorted((k, v) for k, v in request.form.items(multi=True) if k not in _NOT_CONTENT)
    files = []
    for key, upload in request.files.items(multi=True):
        stream = upload.stream
        position = stream.tell() if stream.seekable() else 0
        size = stream.seek(0, 2) if stream.seekable() else 0
        if stream.seekable():
            stream.seek(position)
        files.append((key, upload.filename or "", size))
    digest.update(json.dumps([fields, sorted(files)], ensure_ascii=False).encode())
    return digest.hexdigest()


def _replayed(actor, token: str, kind: str, digest: str | None = None) -> int | None:
    intent = db.session.scalar(select(FormIntent).where(FormIntent.token == token))
    if intent is None:
        return None
    if intent.user_id != actor.id or intent.kind != kind or intent.object_id is None:
        # Not this person's form, or another form's token: never answer with someone else's record.
        raise Conflict(str(_l("This form was already sent. Reload the page and try again.")))
    if intent.digest and digest and intent.digest != digest:
        # The same one-time token with other content: not a resend of the first, and not a new intent the
        # page drew. Say so rather than answer with the first record as if this had been saved.
        raise Conflict(str(_l("This form was already sent once with different content, so what you sent now "
                              "was not saved. Open the page again to send it as a new entry.")))
    return intent.object_id


class FormOutdated(DomainError):
    """A create form sent without its one-time token: not a form the portal drew (a page cached from before
    the token existed, or a hand-made request). Without the token a replay could not be recognised, so
    nothing is made; the person sends the form again from a freshly loaded page (their text is kept in the
    browser, see static/js/portal.js)."""

    status_code = 400


def run_once(actor, token: str | None, model, create) -> tuple[int, bool]:
    """Call `create()` (a service that makes and commits one `model` record) at most once per `token`.

    Returns (record id, replayed): replayed is True when the token was used before with the same content
    (form_digest), and then nothing is called. Domain errors from `create` roll the token back with
    everything else, so the corrected form can be sent again with it.
    Raises FormOutdated (400) without a well-formed token, Conflict (409) when the token belongs to another
    person's or another kind of form, or was sent before with different content.
    """
    if not token or not TOKEN.fullmatch(token):
        raise FormOutdated(str(_l("This form is out of date, so nothing was saved. Open the page again and "
                                  "send the form once more: what you typed is offered again.")))
    kind = model.__tablename__
    digest = form_digest()
    if (found := _replayed(actor, token, kind, digest)) is not None:
        return found, True
    db.session.execute(delete(FormIntent).where(FormIntent.user_id == actor.id,
                                                FormIntent.created_at < utcnow() - KEEP))
    db.session.add(FormIntent(token=token, user_id=actor.id, kind=kind, digest=digest))
    try:
        db.session.flush()  # a simultaneous twin waits here for the first, then finds its record
    except IntegrityError:
        db.session.rollback()
        if (found := _replayed(actor, token, kind, digest)) is not None:
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
