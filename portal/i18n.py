"""Interface language: 简体中文 by default, English on request; `?lang=` switches it for the session, and a
person's stored preference (their account page) applies when they log in."""
from __future__ import annotations

from flask import flash, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

LANGUAGES = {"zh": "简体中文", "en": "English"}
DEFAULT = "zh"


def select_locale() -> str:
    if not has_request_context():  # commands and services called outside a request
        return DEFAULT
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    return DEFAULT


def apply_lang_parameter() -> None:
    """before_request: honour `?lang=xx`; an unknown code is ignored with a visible note."""
    lang = request.args.get("lang")
    if lang is None:
        return
    if lang not in LANGUAGES:
        flash(_l("Unknown language “%(code)s”; the interface stays as it was.", code=lang[:16]), "warning")
        return
    # Only this session: a GET changes nothing stored. The person's own preference is a POST from
    # their account page (auth.account_language).
    session["lang"] = lang
