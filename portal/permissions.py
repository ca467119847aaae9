"""Every access rule of the portal, in one place.

`can(user, action, obj)` answers; views use `require(action)` / `authorize(action, obj)`, templates call
`can(...)` with the same names. Rules are small named predicates combined per action.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from .models import Assessment, Branch, Role, Subject

Rule = Callable[[Any, Any], bool]


def _role(*roles: Role) -> Rule:
    return lambda user, obj: user.role in roles


def _branch_id_of(obj: Any) -> int | None:
    if isinstance(obj, Branch):
        return obj.id
    return getattr(obj, "branch_id", None)


def _same_branch(user, obj) -> bool:
    branch_id = _branch_id_of(obj)
    return branch_id is not None and user.branch_id == branch_id


def _any(*rules: Rule) -> Rule:
    return lambda user, obj: any(rule(user, obj) for rule in rules)


def _all(*rules: Rule) -> Rule:
    return lambda user, obj: all(rule(user, obj) for rule in rules)


def _is_member_assessment_of_self(user, obj) -> bool:
    return isinstance(obj, Assessment) and obj.member_id == user.id


def _is_branch_assessment(user, obj) -> bool:
    return isinstance(obj, Assessment) and obj.subject == Subject.BRANCH


def _is_member_assessment(user, obj) -> bool:
    return isinstance(obj, Assessment) and obj.subject == Subject.MEMBER


_anyone: Rule = lambda user, obj: True  # noqa: E731 - a named predicate reads best as a lambda
_leadership = _role(Role.LEADER, Role.ADMIN)
_secretary_here = _all(_role(Role.SECRETARY), _same_branch)

RULES: dict[str, Rule] = {
    "home.view": _anyone,
    "dashboard.view": _leadership,
    "audit.view": _leadership,
    "admin.manage": _role(Role.ADMIN),
    # A branch's own page: leadership sees every branch, others their own.
    "branch.view": _any(_leadership, _role(Role.EDITOR), _same_branch),
    # Assessments: leadership reads all; a branch's people read their branch's checklist;
    # a member reads their own answers; the secretary reads every member's answers of the branch.
    "assessment.view": _any(
        _leadership,
        _secretary_here,
        _all(_is_branch_assessment, _same_branch),
        _is_member_assessment_of_self,
    ),
    "assessment.edit": _any(
        _all(_is_branch_assessment, _secretary_here),
        _all(_is_member_assessment, _is_member_assessment_of_self),
    ),
    "assessment.review": _any(
        _all(_is_branch_assessment, _leadership),
        _all(_is_member_assessment, _secretary_here),
    ),
    "member_coverage.view": _any(_leadership, _secretary_here),
    # The checklist entry in the navigation: people who belong to a branch.
    "checklist.own": _all(_role(Role.SECRETARY, Role.MEMBER), lambda user, obj: user.branch_id is not None),
    # --- checklist (self-assessment) rules end here ---
    # --- dashboard rules end here ---
    # News board.
    "post.create": _role(Role.MEMBER, Role.SECRETARY, Role.EDITOR),
    "post.moderate": _role(Role.EDITOR),
    # Commendation.
    "nomination.create": _role(Role.SECRETARY),
    "nomination.decide": _role(Role.LEADER),
    "objection.create": _anyone,
    "objection.view": _leadership,
    # --- news board and commendation rules end here ---
    # Campaign administration.
    "campaign.manage": _role(Role.ADMIN),
    "submission.request": _role(Role.ADMIN),
    "submission.submit": _secretary_here,
    "pledge.approve_branch": _role(Role.ADMIN),
    "pledge.approve_member": _secretary_here,
    "inspection.manage": _leadership,
    # --- campaign and administration rules end here ---
}


def can(user, action: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    rule = RULES.get(action)
    if rule is None:
        raise KeyError(f"unknown permission: {action}")
    return bool(rule(user, obj))


def authorize(action: str, obj: Any = None) -> None:
    """Abort with 403 unless the current user may do `action` (on `obj`)."""
    if not can(current_user, action, obj):
        abort(403)


def require(action: str):
    """View decorator for object-less actions; login is checked first (401/redirect)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from .extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            authorize(action)
            return view(*args, **kwargs)

        return wrapped

    return decorator
