"""One-time activation codes: how a person whose account the organisation section made (a roster import, a
re-issue) sets their own password, so that nobody else ever chooses or sees it.

A code is 12 characters from an alphabet without look-alikes (about 59 bits): guessing it is hopeless within
the sign-in throttle, so it is stored as a plain SHA-256 (GOTCHAS: no slow hash per row; 5,000 codes are issued
in milliseconds). Codes are single-use, expire after ACTIVATION_CODE_DAYS, and issuing a new one replaces the
old one. Every issue and every use is audited (never the code itself).

Slips are printed in batches (models.SlipBatch) shown from a GET address, so that a reload or the back button
shows the same sheet and never issues codes again: a batch's codes are derived from its secret, the server's
SECRET_KEY and each account, and the secret is wiped after PRINTABLE_HOURS. A slip whose code has since been
used or replaced is left off the sheet.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Branch, SlipBatch, User, utcnow
from ..text import canonical_username
from . import accounts, audit, throttle

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
LENGTH = 12
# An account made for an activation code has no password anyone could type: Werkzeug reads this as no match.
NO_PASSWORD = "!activation"  # noqa: S105  # nosec B105 - not a password: a hash no password matches
BATCH = 500
PRINTABLE_HOURS = 12  # a jammed printer can be fixed the same day; after that the sheet cannot be shown again


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


def _derived(secret: str, user_id: int) -> str:
    """The code of `user_id` in a batch: HMAC-SHA-256 under the batch's secret and SECRET_KEY, read as LENGTH
    letters of ALPHABET (32 letters: 5 bits each, no bias). A copy of the database alone cannot print it."""
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"activation-batch:" + secret.encode(),
                   hashlib.sha256).digest()
    number = int.from_bytes(hmac.new(key, str(user_id).encode(), hashlib.sha256).digest(), "big")
    letters = []
    for _ in range(LENGTH):
        number, rest = divmod(number, len(ALPHABET))
        letters.append(ALPHABET[rest])
    return "".join(letters)


def pending_codes(user_ids: list[int]) -> int:
    """How many of these accounts hold an unused code already (printed earlier): printing again replaces them."""
    count = 0
    for start in range(0, len(user_ids), 900):
        count += db.session.scalar(select(func.count(User.id)).where(
            User.id.in_(user_ids[start:start + 900]), User.activation_hash.isnot(None))) or 0
    return int(count)


def issue(actor, user_ids: list[int], reason: str = "reissue", import_id: int | None = None) -> SlipBatch:
    """A fresh code for each account (replacing any earlier one), in short batches, as one printable SlipBatch.
    The codes are never stored: `slips(batch)` derives them again while the batch is printable."""
    expires = utcnow() + timedelta(days=current_app.config.get("ACTIVATION_CODE_DAYS", 30))
    now = utcnow()
    batch = SlipBatch(import_id=import_id, user_ids=list(user_ids), secret=secrets.token_hex(32),
                      created_by_id=getattr(actor, "id", None), created_at=now,
                      printable_until=now + timedelta(hours=PRINTABLE_HOURS))
    db.session.add(batch)
    db.session.flush()
    for start in range(0, len(user_ids), BATCH):
        chunk = user_ids[start:start + BATCH]
        values = [{"uid": uid, "hash": digest(_derived(batch.secret, uid)), "expires": expires} for uid in chunk]
        table = User.__table__  # Core: one executemany, no ORM bookkeeping per row
        db.session.execute(update(table).where(table.c.id == bindparam("uid")).values(
            activation_hash=bindparam("hash"), activation_expires_at=bindparam("expires")), values)
        audit.record(actor, "user.activation_issued", None,
                     after={"users": chunk, "reason": reason, "expires": expires.isoformat(), "batch": batch.id})
        db.session.commit()  # one short write per batch
    if not user_ids:
        db.session.commit()
    return batch


def get_batch(batch_id: int) -> SlipBatch:
    batch = db.session.get(SlipBatch, batch_id)
    if batch is None:
        raise NotFound()
    return batch


def slips(batch: SlipBatch) -> list[Slip]:
    """The batch's slips whose codes still work (not used, not replaced), ordered by branch and name; [] once
    the printing time is over (the secret is then wiped)."""
    if batch.secret and utcnow() > batch.printable_until:
        forget_batch_secrets()
    if not batch.secret:
        return []
    result: list[Slip] = []
    ids = list(batch.user_ids or [])
    for start in range(0, len(ids), 900):
        for user_id, username, name, branch, held, expires in db.session.execute(
                select(User.id, User.username, User.display_name, Branch.name, User.activation_hash,
                       User.activation_expires_at)
                .outerjoin(Branch, Branch.id == User.branch_id).where(User.id.in_(ids[start:start + 900]))):
            code = _derived(batch.secret, user_id)
            if held and hmac.compare_digest(held, digest(code)):
                result.append(Slip(user_id, username, name, branch or "", code, expires))
    from ..collation import in_pinyin_order, sort_key

    return in_pinyin_order(sorted(result, key=lambda s: s.username), lambda s: s.display_name,
                           before=lambda s: sort_key(s.branch), person=True)


def forget_batch_secrets() -> int:
    """Wipe the secrets of slip batches whose printing time is over (also run nightly). Returns how many."""
    count = db.session.execute(update(SlipBatch).where(
        SlipBatch.secret.isnot(None), SlipBatch.printable_until < utcnow()).values(secret=None)).rowcount
    db.session.commit()
    return count


def state(user: User) -> str:
    """The account's activation state: "activated" (has a password of its own), "none" (no code issued yet),
    "pending" (a code that works until activation_expires_at) or "expired"."""
    if user.activation_hash is None:
        return "none" if user.password_hash == NO_PASSWORD else "activated"
    if user.activation_expires_at is None or user.activation_expires_at < utcnow():
        return "expired"
    return "pending"


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


# Wrong activation codes are counted apart from wrong passwords (throttle scopes "activate" and "act-name"), never
# in the username's or the address's sign-in counts, which would lock the owner, or everybody behind the same NAT
# (the admin too), out of signing in. Per address, generously (ACTIVATION_FAILURES_PER_ADDRESS, 300 per window):
# a school of 300 staff activating behind one address, each mistyping a code or two, makes ~600 refusals over an
# afternoon. Per username too (ACTIVATION_FAILURES_PER_ACCOUNT, 10 per window): a guesser behind a shared address
# cannot spend the address's allowance on one account, and the person who mistypes their own code is told to wait
# or to ask for a new slip. The code's ~2^59 values are the protection; the counts only slow floods.
def _limits() -> tuple[int, int, int]:
    config = current_app.config
    return (config["ACTIVATION_FAILURES_PER_ADDRESS"], config["ACTIVATION_FAILURES_PER_ACCOUNT"],
            config["LOGIN_THROTTLE_WINDOW_SECONDS"])


def activate(username: str, code: str, new: str | None, repeat: str | None, address: str = "") -> User:
    """The person's own first password, set with their code; the code is used up. Raises Invalid, or
    throttle.Throttled when the address, or anyone for this username, typed too many wrong codes within the
    window (ACTIVATION_FAILURES_PER_ADDRESS, ACTIVATION_FAILURES_PER_ACCOUNT in the config)."""
    per_address, per_account, window = _limits()
    name = throttle.account_key(username)
    throttle.check_refusals("activate", address, per_address, window)
    throttle.check_refusals("act-name", name, per_account, window, message=str(_l(
        "The activation code for the username “%(name)s” was typed wrongly %(n)s times. Check the username and the "
        "code on your slip and try again later; if the slip is lost or its code does not work, ask the "
        "organisation section for a new one.", name=(username or "")[:64], n=per_account)))
    user = find(username, code)
    errors: dict = {}
    if user is None:
        audit.record(None, "auth.activation_failed", None, after={"username": (username or "")[:64]})
        throttle.record_refusal("activate", address, window)  # commits
        throttle.record_refusal("act-name", name, window)
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
