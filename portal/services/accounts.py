"""Logging in and out, and creating accounts."""
from __future__ import annotations

from flask import session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Invalid
from ..extensions import db
from ..input_guard import parse_int
from ..models import Branch, Role, User, utcnow
from . import audit

# Compared against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("portal-timing-equaliser")


MIN_PASSWORD_LENGTH = 8


class LoginFailed(Exception):
    """Wrong username, wrong password or disabled account: the user is never told which."""


def authenticate(username: str, password: str) -> User:
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        _record_failure(username, "unknown_user")
        raise LoginFailed
    if not user.check_password(password or ""):
        _record_failure(username, "wrong_password", user)
        raise LoginFailed
    if not user.active:
        _record_failure(username, "disabled", user)
        raise LoginFailed
    return user


def _record_failure(username: str, reason: str, user: User | None = None) -> None:
    audit.record(user, "auth.login_failed", user, after={"username": username[:64], "reason": reason})
    db.session.commit()


def start_session(user: User, remember: bool = False) -> None:
    """A fresh session at login (no fixation), remembering the language the visitor chose."""
    lang = session.get("lang")
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


def forget_session() -> None:
    """Log this browser out and clear its session, keeping the interface language it chose."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


def change_password(user: User, current: str | None, new: str | None, repeat: str | None) -> None:
    """The user's own password change: every other session of the user ends; this one goes on."""
    errors = {}
    if not user.check_password(current or ""):
        errors["current_password"] = _l("This is not your current password.")
    problem = password_error(new)
    if problem:
        errors["new_password"] = problem
    elif new != repeat:
        errors["repeat_password"] = _l("The two new passwords are not the same.")
    if errors:
        raise Invalid(str(_l("The password was not changed.")), errors)
    user.set_password(new)
    user.session_version += 1
    audit.record(user, "auth.password_changed", user)
    db.session.commit()
    login_user(user)  # re-issue this session with the new version


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the stored id must carry the user's current session version."""
    user_id, _, version = session_id.partition(":")
    if parse_int(user_id) is None or parse_int(version) is None:
        return None
    user = db.session.get(User, parse_int(user_id))
    if user is None or not user.active or user.session_version != parse_int(version):
        return None
    return user


def password_error(password: str | None):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return _l("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    return None


def branch_error(role: Role, branch: Branch | None):
    if role in (Role.SECRETARY, Role.MEMBER) and branch is None:
        return _l("Members and secretaries belong to a branch.")
    return None


def user_errors(*, username: str, password: str | None, role: Role, branch: Branch | None,
                username_taken: bool | None = None) -> dict:
    """The rules for a new account, as {field: message}; shared by the admin form and the roster import.
    `username_taken` may be given when the caller already looked it up (in bulk)."""
    errors = {}
    if not username or len(username) > 64:
        errors["username"] = _l("Enter a username of at most 64 characters.")
    else:
        if username_taken is None:
            username_taken = bool(db.session.scalar(select(User.id).where(User.username == username)))
        if username_taken:
            errors["username"] = _l("This username is already taken.")
    if message := password_error(password):
        errors["password"] = message
    if message := branch_error(role, branch):
        errors["branch"] = message
    return errors


def create_user(
    actor,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    branch: Branch | None = None,
    post_title: str = "",
) -> User:
    username = (username or "").strip()
    errors = user_errors(username=username, password=password, role=role, branch=branch)
    if errors:
        raise Invalid("invalid user", errors)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        branch_id=branch.id if branch else None,
        post_title=post_title,
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
