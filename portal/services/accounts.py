"""Logging in and out, and creating accounts."""
from __future__ import annotations

import re
import unicodedata
from functools import cache

from flask import has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..errors import Invalid
from ..extensions import db
from ..htmx import wants_fragment
from ..input_guard import parse_int
from ..models import Branch, CampaignYear, EmailPreference, Role, User, utcnow
from ..text import canonical_username, password_text_error, username_error, username_skeleton
from . import audit, campaign, notifications, throttle

# Compared against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("portal-timing-equaliser")


MIN_PASSWORD_LENGTH = 8


class LoginFailed(Exception):
    """Wrong username, wrong password or disabled account: the user is never told which."""


def authenticate(username: str, password: str, address: str = "") -> User:
    """The active user with this username and password.

    `address` is the client address (after ProxyFix). Raises throttle.Throttled before looking at the
    password when the account or the address has too many recent failures, and LoginFailed (counted
    and audited) on a wrong username, wrong password or disabled account."""
    username = (username or "").strip()
    throttle.check(username, address)
    # The name as typed, else its canonical spelling (full-width, capitals) when that is a name the rule
    # allows (text.USERNAME, the form's Identifier): accounts made before names were canonical, or before
    # the rule, keep logging in as they are, new ones with any look-alike of their name.
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    name = canonical_username(username)
    if user is None and name != username and username_error(name) is None:
        user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        _record_failure(username, address, "unknown_user")
        raise LoginFailed
    if not user.check_password(password or ""):
        _record_failure(username, address, "wrong_password", user)
        raise LoginFailed
    if not user.active:
        _record_failure(username, address, "disabled", user)
        raise LoginFailed
    return user


def _record_failure(username: str, address: str, reason: str, user: User | None = None) -> None:
    throttle.record_failure(username, address)
    audit.record(user, "auth.login_failed", user, after={"username": username[:64], "reason": reason})
    db.session.commit()


def start_session(user: User, remember: bool = False) -> None:
    """A fresh session at login (no fixation). The person's stored language wins; without one, the
    language the visitor chose before logging in stays (a shared PC must not pass one person's on)."""
    lang = user.locale or session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(user, remember=remember)
    user.last_login_at = utcnow()
    audit.record(user, "auth.login", user)
    db.session.commit()


def end_session(user: User) -> None:
    """Log out here and everywhere else: the bumped session version ends the user's other sessions."""
    user.session_version += 1
    audit.record(user, "auth.logout", user)
    db.session.commit()
    forget_session()
    if user.locale and session.get("lang") == user.locale:
        session.pop("lang")  # their stored preference is not handed to the next person at this PC


def forget_session() -> None:
    """Log this browser out and clear its session, keeping the interface language it chose."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


def change_password(user: User, current: str | None, new: str | None, repeat: str | None,
                    address: str = "") -> None:
    """The user's own password change: every other session of the user ends; this one goes on.

    A wrong current password counts as a failed sign-in of the account (from `address`), so a borrowed
    session cannot guess it without limit: raises throttle.Throttled like a sign-in. The new password must
    differ from the current one (a password someone else chose is really replaced). Raises Invalid."""
    errors = {}
    throttle.check(user.username, address)
    if not user.check_password(current or ""):
        throttle.record_failure(user.username, address)
        db.session.commit()
        errors["current_password"] = _l("This is not your current password.")
    problem = password_error(new, user.username)
    if not problem and new and user.check_password(new):
        problem = _l("Choose a password different from your current one.")
    if problem:
        errors["new_password"] = problem
    elif new != repeat:
        errors["repeat_password"] = _l("The two new passwords are not the same.")
    if errors:
        raise Invalid(str(_l("The password was not changed.")), errors)
    user.set_password(new)
    user.must_change_password = False
    user.session_version += 1
    audit.record(user, "auth.password_changed", user)
    db.session.commit()
    login_user(user)  # re-issue this session with the new version


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the stored id must carry the user's current session version.

    One statement, built once: the person (with their branch and its unit, as the model loads them) and the
    campaign year marked current with its phases, which nearly every request asks for next
    (`campaign.current_year`, remembered for the request); for a request answered with a whole page (a GET, not an
    htmx fragment) also the person's unread notifications, which its header shows (`notifications.unread_count`,
    kept for the request until it writes)."""
    user_id, _, version = session_id.partition(":")
    user_id, version = parse_int(user_id), parse_int(version)
    if user_id is None or version is None:
        return None
    with_count = _draws_the_header()
    row = db.session.execute(_person_and_year(with_count), {"user_id": user_id}).unique().first()
    if row is None:
        return None
    user, year = row[0], row[1]
    if year is not None:
        campaign.remember_current_year(year)
    if not user.active or user.session_version != version:
        return None
    if with_count:
        notifications.keep_unread_count(user.id, row[2])
    return user


def _draws_the_header() -> bool:
    """Whether this request is likely answered with a whole page, whose header shows the unread count (a GET or
    HEAD that is not an htmx fragment's). Only a guess that saves a statement: a page drawn otherwise counts then."""
    return has_request_context() and request.method in ("GET", "HEAD") and not wants_fragment()


@cache
def _person_and_year(with_unread_count: bool = False):
    from sqlalchemy.orm import joinedload

    columns = (User, CampaignYear, notifications.unread_subquery()) if with_unread_count else (User, CampaignYear)
    return (select(*columns).outerjoin(CampaignYear, CampaignYear.is_current.is_(True))
            .options(joinedload(CampaignYear.phases)).where(User.id == bindparam("user_id")))


def password_error(password: str | None, username: str | None = None):
    """Why `password` may not be used, or None (OWASP ASVS 5.0 V6.2: at least 8 characters, no
    composition rules, not a common password, not containing the account's name).

    "Common" is zxcvbn's list of the 30,000 most used passwords, or anything zxcvbn guesses in under
    a thousand tries (repeats, keyboard rows, sequences such as `aaaaaaaa`)."""
    password = password or ""
    if message := password_text_error(password):
        return message
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    folded = unicodedata.normalize("NFKC", password).casefold()
    name = canonical_username(username)
    if len(name) >= 3 and name in folded:  # a two-letter name (li) would rule out too many passwords
        return _l("The password must not contain the username.")
    # zxcvbn refuses more than 72 characters; a longer passphrase is judged by its beginning.
    if folded in _common_passwords() or zxcvbn(password[:72])["score"] == 0:
        return _l("This password is one of the most common ones and easy to guess. Choose another.")
    return None


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def branch_error(role: Role, branch: Branch | None):
    if role in (Role.SECRETARY, Role.MEMBER) and branch is None:
        return _l("Members and secretaries belong to a branch.")
    return None


def secretary_error(role: Role | None, branch_id: int | None, user_id: int | None = None):
    """A branch has one active secretary: why `user_id` (None: a new account) cannot be its secretary, or None."""
    if role != Role.SECRETARY or not branch_id:
        return None
    stmt = select(User.display_name, User.username).where(
        User.branch_id == branch_id, User.role == Role.SECRETARY, User.active.is_(True))
    if user_id is not None:
        stmt = stmt.where(User.id != user_id)
    other = db.session.execute(stmt.limit(1)).first()
    if other is None:
        return None
    return _l("This branch already has a secretary: %(name)s (%(username)s). A branch has one secretary: give "
              "that person another role first.", name=other.display_name, username=other.username)


def user_errors(*, username: str, password: str | None, role: Role, branch: Branch | None,
                username_taken: bool | None = None) -> dict:
    """The rules for a new account, as {field: message}; shared by the admin form and the roster import.
    `password` None: the caller generates one. `username_taken` may be given when the caller already
    looked it up (in bulk)."""
    errors = {}
    if message := username_error(username):  # the one username rule (2 to 40 characters), one message
        errors["username"] = message
    else:
        if username_taken is None:
            username_taken = username_exists(username)
        if username_taken:
            errors["username"] = _l("This username is already taken (or one that differs from it only by dots, "
                                    "hyphens or underscores).")
    if password is not None and (message := password_error(password, username)):
        errors["password"] = message
    if message := branch_error(role, branch):
        errors["branch"] = message
    return errors


def username_exists(username: str) -> bool:
    """Whether `username` or a look-alike of it is already an account's name: the same canonical spelling
    (older accounts may have capitals), or the same name but for its dots, hyphens and underscores
    (`sec.01` beside `sec01`, text.username_skeleton)."""
    return bool(usernames_taken([username]))


def skeleton_of(column):
    """SQL for text.username_skeleton of a stored name (lower case, separators removed)."""
    return func.replace(func.replace(func.replace(func.lower(column), ".", ""), "-", ""), "_", "")


def usernames_taken(names: list[str]) -> set[str]:
    """Which of `names` (canonical spellings) an account already has, or a look-alike of (see
    username_exists); one query for a whole roster."""
    canonical = {canonical_username(name): username_skeleton(name) for name in names if name}
    if not canonical:
        return set()
    skeletons = set(canonical.values())
    found = set()
    for stored, in db.session.execute(select(User.username).where(or_(
            User.username.in_(canonical), func.lower(User.username).in_(canonical),
            skeleton_of(User.username).in_(skeletons)))):
        found.add(username_skeleton(stored))
    return {name for name, skeleton in canonical.items() if skeleton in found}


def create_user(
    actor,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    branch: Branch | None = None,
    post_title: str = "",
    must_change_password: bool = False,
    email: str = "",
) -> User:
    """A new account; `must_change_password` when someone other than its owner chose the password.
    Raises Invalid({field: message}) on a taken username, weak password or missing branch."""
    username = canonical_username(username)
    errors = user_errors(username=username, password=password, role=role, branch=branch)
    if "branch" not in errors and (message := secretary_error(role, branch.id if branch else None)):
        errors["role"] = message
    if errors:
        raise Invalid("invalid user", errors)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        branch_id=branch.id if branch else None,
        post_title=post_title,
        must_change_password=must_change_password,
        email=email,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor, "user.create", user,
        after={"username": username, "role": role.value, "branch_id": user.branch_id},
        branch_id=user.branch_id,
    )
    db.session.commit()
    return user


def set_locale(user: User, locale: str) -> None:
    if user.locale == locale:
        return
    audit.record(user, "user.set_locale", user, before={"locale": user.locale}, after={"locale": locale})
    user.locale = locale
    db.session.commit()


# An address the mail server can be given: one local part, one domain with a dot, nothing that would let a
# header be split or a second address slip in (RFC 5322 allows more; a school intranet needs no more).
EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}\.[A-Za-z]{2,24}$")


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


def email_error(email: str) -> str | None:
    """None for an empty (no e-mail) or plausible address; else the message for the field."""
    if email and (len(email) > 254 or not EMAIL.fullmatch(email)):
        return str(_l("Enter an e-mail address such as name@school.edu.cn, or leave it empty."))
    return None


def set_email_preference(user: User, preference: str) -> None:
    """The person's own choice of how notifications reach them by e-mail: none, immediate, or a daily digest.
    Raises Invalid for a value outside EmailPreference."""
    if preference not in EmailPreference._value2member_map_:
        message = _l("Choose how you want to be told.")
        raise Invalid(str(message), {"email_preference": message})
    if user.email_preference == preference:
        return
    audit.record(user, "user.email_preference", user, before={"email_preference": user.email_preference},
                 after={"email_preference": preference})
    user.email_preference = preference
    db.session.commit()
