"""One-time activation codes: how a person whose account the organisation section made (a roster import, a
re-issue) sets their own password, so that nobody else ever chooses or sees it.

A code is 12 characters from an alphabet without look-alikes (about 59 bits): guessing it is hopeless within
the sign-in throttle, so it is stored as a plain SHA-256 (GOTCHAS: no slow hash per row; 5,000 codes are issued
in milliseconds). Codes are single-use, expire after ACTIVATION_CODE_DAYS, and issuing a new one replaces the
old one. Every issue and every use is audited (never the code itself).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update

from ..errors import Invalid
from ..extensions import db
from ..models import Branch, User, utcnow
from ..text import canonical_username
from . import accounts, audit, throttle

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
LENGTH = 12
# An account made for an activation code has no password anyone could type: Werkzeug reads this as no match.
NO_PASSWORD = "!activation"  # noqa: S105  # nosec B105 - not a password: a hash no password matches
BATCH = 500


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """As printed on a slip: three groups of four (K7QX-3MPA-9WTE)."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise(text: str | None) -> str:
    """What a person typed, as a code: capitals, without the spaces and dashes of the printed groups."""
    return "".join((text or "").split()).replace("-", "").replace("－", "").upper()


def digest(code: str) -> str:
    return hashlib.sha256(normalise(code).encode("ascii", "ignore")).hexdigest()


@dataclass
class Slip:
    """One printed slip: who, which branch, the code (shown once) and until when it works."""

    user_id: int
    username: str
    display_name: str
    branch: str
    code: str
    expires_at: datetime


def issue(actor, user_ids: list[int], reason: str = "reissue") -> list[Slip]:
    """A fresh code for each account (replacing any earlier one), in short batches; returns the slips, ordered
    by branch and name. The codes exist only in the return value."""
    expires = utcnow() + timedelta(days=current_app.config.get("ACTIVATION_CODE_DAYS", 30))
    slips: list[Slip] = []
    rows = db.session.execute(
        select(User.id, User.username, User.display_name, Branch.name)
        .outerjoin(Branch, Branch.id == User.branch_id).where(User.id.in_(user_ids))).all() if user_ids else []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        values = []
        for user_id, username, name, branch in chunk:
            code = new_code()
            values.append({"uid": user_id, "hash": digest(code), "expires": expires})
            slips.append(Slip(user_id, username, name, branch or "", code, expires))
        table = User.__table__  # Core: one executemany, no ORM bookkeeping per row
        db.session.execute(update(table).where(table.c.id == bindparam("uid")).values(
            activation_hash=bindparam("hash"), activation_expires_at=bindparam("expires")), values)
        audit.record(actor, "user.activation_issued", None,
                     after={"users": [row[0] for row in chunk], "reason": reason, "expires": expires.isoformat()})
        db.session.commit()  # one short write per batch
    from ..collation import sort_key

    slips.sort(key=lambda s: (sort_key(s.branch), sort_key(s.display_name), s.username))
    return slips


def pending(user: User) -> bool:
    """Whether the account waits for its owner to activate it with a code."""
    return user.activation_hash is not None


def find(username: str, code: str) -> User | None:
    """The active account whose unexpired code this is, or None."""
    username = canonical_username(username)
    if not username or not code:
        return None
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or user.activation_hash is None or not user.active:
        return None
    if not hmac.compare_digest(user.activation_hash, digest(code)):
        return None
    if user.activation_expires_at is None or user.activation_expires_at < utcnow():
        return None
    return user


def activate(username: str, code: str, new: str | None, repeat: str | None, address: str = "") -> User:
    """The person's own first password, set with their code; the code is used up. Raises Invalid (a wrong or
    expired code counts as a failed sign-in, throttled like one)."""
    throttle.check(username, address)
    user = find(username, code)
    errors: dict = {}
    if user is None:
        throttle.record_failure(username, address)
        audit.record(None, "auth.activation_failed", None, after={"username": (username or "")[:64]})
        db.session.commit()
        errors["code"] = _l("This code does not match the username, has expired or has been used. Ask the "
                            "organisation section for a new slip.")
        raise Invalid(str(errors["code"]), errors)
    if problem := accounts.password_error(new, user.username):
        errors["new_password"] = problem
    elif new != repeat:
        errors["repeat_password"] = _l("The two new passwords are not the same.")
    if errors:
        raise Invalid(str(_l("The password was not set.")), errors)
    user.set_password(new)
    user.activation_hash = None
    user.activation_expires_at = None
    user.must_change_password = False
    user.session_version += 1
    audit.record(user, "auth.activated", user)
    db.session.commit()
    return user
