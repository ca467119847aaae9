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

from .models import Assessment, Branch, Pledge, PledgeStatus, Role, Subject, User

Rule = Callable[[Any, Any], bool]


def _role(*roles: Role) -> Rule:
    return lambda user, obj: user.role in roles


def _member_of(obj: Any) -> User | None:
    from .extensions import db

    member_id = getattr(obj, "member_id", None)
    return db.session.get(User, member_id) if member_id else None


def _branch_id_of(obj: Any) -> int | None:
    """The branch an object belongs to now. A member's assessment and pledge follow the member's current
    branch, never the copy taken when they were made: after a move, the new secretary has them, the old one not."""
    if isinstance(obj, Branch):
        return obj.id
    if isinstance(obj, (Assessment, Pledge)) and obj.member_id is not None:
        member = _member_of(obj)
        return member.branch_id if member else None
    return getattr(obj, "branch_id", None)


def _same_branch(user, obj) -> bool:
    branch_id = _branch_id_of(obj)
    return branch_id is not None and user.branch_id == branch_id


def _not(rule: Rule) -> Rule:
    return lambda user, obj: not rule(user, obj)


def _any(*rules: Rule) -> Rule:
    return lambda user, obj: any(rule(user, obj) for rule in rules)


def _all(*rules: Rule) -> Rule:
    return lambda user, obj: all(rule(user, obj) for rule in rules)


def _not_own_work(user, obj) -> bool:
    """Nobody decides on their own work: `obj` is a person, or a record about one (`member_id`)."""
    subject_id = obj.id if isinstance(obj, User) else getattr(obj, "member_id", None)
    return subject_id is None or subject_id != user.id


def _of_a_secretary(user, obj) -> bool:
    """The record is about a branch secretary (their own pledge or 五带头 self-assessment): their
    branch has nobody above them, so the leading group or organisation section decides."""
    member = obj if isinstance(obj, User) else _member_of(obj)
    return member is not None and member.role == Role.SECRETARY


def _is_member_assessment_of_self(user, obj) -> bool:
    return isinstance(obj, Assessment) and obj.member_id == user.id


def _is_branch_assessment(user, obj) -> bool:
    return isinstance(obj, Assessment) and obj.subject == Subject.BRANCH


def _is_member_assessment(user, obj) -> bool:
    return isinstance(obj, Assessment) and obj.subject == Subject.MEMBER


def _is_branch_pledge(user, obj) -> bool:
    return isinstance(obj, Pledge) and obj.member_id is None


def _is_member_pledge(user, obj) -> bool:
    return isinstance(obj, Pledge) and obj.member_id is not None


def _is_own_pledge(user, obj) -> bool:
    return isinstance(obj, Pledge) and obj.member_id == user.id


def _is_published_pledge(user, obj) -> bool:
    return isinstance(obj, Pledge) and obj.status == PledgeStatus.APPROVED


def _post_status(obj) -> str:
    status = getattr(obj, "status", None)
    return getattr(status, "value", status) or ""


def _is_post_author(user, obj) -> bool:
    return getattr(obj, "author_id", None) is not None and obj.author_id == user.id


def _post_is_live(obj) -> bool:
    from .services.news import is_live

    return obj is not None and is_live(obj)


def _is_issued_bulletin(user, obj) -> bool:
    return getattr(obj, "is_issued", False) is True


def _is_plan(user, obj) -> bool:
    """A submission (or its request) of the 领导小组名单和实施方案 kind."""
    from .extensions import db
    from .models import RequestKind, Submission, SubmissionRequest

    if isinstance(obj, Submission):
        obj = db.session.get(SubmissionRequest, obj.request_id)
    return isinstance(obj, SubmissionRequest) and obj.kind == RequestKind.PLAN


def _nomination_is_public(obj) -> bool:
    return _post_status(obj) in ("notice", "commended")


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
    # Reviews: leadership reviews branches and secretaries' own 五带头; a secretary the branch's members.
    "assessment.review": _all(_not_own_work, _any(
        _all(_is_branch_assessment, _leadership),
        _all(_is_member_assessment, _of_a_secretary, _leadership),
        _all(_is_member_assessment, _secretary_here, _not(_of_a_secretary)),
    )),
    "member_coverage.view": _any(_leadership, _secretary_here),
    # The checklist entry in the navigation: people who belong to a branch.
    "checklist.own": _all(_role(Role.SECRETARY, Role.MEMBER), lambda user, obj: user.branch_id is not None),
    # --- checklist (self-assessment) rules end here ---
    # Dashboard: "our branch" for the people of a branch; a branch's recent changes for leadership
    # and that branch's secretary.
    "dashboard.own_branch": _all(_role(Role.SECRETARY, Role.MEMBER), lambda user, obj: user.branch_id is not None),
    "branch.audit.view": _any(_leadership, _secretary_here),
    # --- dashboard rules end here ---
    # News board.
    "post.create": _role(Role.MEMBER, Role.SECRETARY, Role.EDITOR),
    "post.moderate": _role(Role.EDITOR),
    # Commendation.
    "nomination.create": _role(Role.SECRETARY),
    # Whom a secretary may nominate: a person of their own branch other than themself.
    "nomination.nominee": _all(_secretary_here, _not_own_work),
    "nomination.decide": _role(Role.LEADER),
    "objection.create": _anyone,
    "objection.view": _role(Role.LEADER),  # 领导小组 only, as the notice page promises
    # Posts, object-level: the public sees live posts; authors and editors see the rest. An author
    # edits and submits while the post is a draft or returned; editors may edit at any stage.
    "post.view": lambda user, obj: _post_is_live(obj) or _is_post_author(user, obj) or user.role in (
        Role.EDITOR, Role.LEADER, Role.ADMIN),
    "post.edit": lambda user, obj: user.role == Role.EDITOR or (
        _is_post_author(user, obj) and _post_status(obj) in ("draft", "returned")),
    "post.submit": lambda user, obj: _is_post_author(user, obj) and _post_status(obj) in ("draft", "returned"),
    "post.history": _role(Role.EDITOR),
    "post.mine": _role(Role.MEMBER, Role.SECRETARY, Role.EDITOR),
    # Nominations: leaders and editors follow all; a secretary their own branch's; a nomination under
    # (or past) public notice is public to everyone logged in, objections excepted.
    "nomination.list": _role(Role.LEADER, Role.ADMIN, Role.EDITOR, Role.SECRETARY),
    "nomination.view": lambda user, obj: user.role in (Role.LEADER, Role.ADMIN, Role.EDITOR) or (
        user.role == Role.SECRETARY and _same_branch(user, obj)) or _nomination_is_public(obj),
    "nomination.feature": _role(Role.LEADER, Role.EDITOR),
    "honours.view": _anyone,
    # --- news board and commendation rules end here ---
    # Campaign administration.
    "campaign.manage": _role(Role.ADMIN),
    # The framework editor (五个好 / 五带头: criteria, items, theme items, import and export).
    "framework.manage": _role(Role.ADMIN),
    "submission.request": _role(Role.ADMIN),
    # Who accepts or returns what a branch handed in: the leading group approves the implementation plans
    # (实施方案, DESIGN.md: "Leader … approves plans"); the organisation section, which asked, everything else.
    "submission.decide": _any(_all(_is_plan, _role(Role.LEADER)), _all(_not(_is_plan), _role(Role.ADMIN))),
    "submission.submit": _secretary_here,
    "pledge.approve_branch": _role(Role.ADMIN),
    "pledge.approve_member": _all(_secretary_here, _not_own_work, _not(_of_a_secretary)),
    "inspection.manage": _leadership,
    # Submissions: leadership follows every branch; a secretary sees their own branch's only.
    "submission.list": _role(Role.ADMIN, Role.LEADER, Role.SECRETARY),
    "submission.view": _any(_leadership, _secretary_here),
    # Pledges: everyone writes their own; a branch's pledges are written by its secretary. Approval
    # (and 评诺) goes to the organisation section for branch pledges and secretaries' own, and to the
    # branch's secretary for members' pledges; never to the pledge's own author.
    "pledge.list": _anyone,
    "pledge.create_branch": _role(Role.SECRETARY),
    "pledge.create_member": _role(Role.MEMBER, Role.SECRETARY),
    "pledge.edit": _any(_all(_is_member_pledge, _is_own_pledge), _all(_is_branch_pledge, _secretary_here)),
    "pledge.view": _any(_is_published_pledge, _leadership, _secretary_here, _all(_is_member_pledge, _is_own_pledge),
                        _all(_is_branch_pledge, _same_branch)),
    "pledge.approve": _any(
        _all(_is_branch_pledge, _role(Role.ADMIN)),
        _all(_is_member_pledge, _of_a_secretary, _role(Role.ADMIN)),
        _all(_is_member_pledge, _secretary_here, _not_own_work, _not(_of_a_secretary)),
    ),
    # Brands and projects: the district list is public; a branch's secretary keeps its brand and projects.
    "brand.view": _anyone,
    "brand.edit": _any(_secretary_here, _role(Role.ADMIN)),
    "project.edit": _secretary_here,
    "inspection.view": _leadership,
    # An inspection follow-up assigned to a branch: leadership follows all; the branch's secretary opens
    # and answers their branch's (the follow-up only, not the findings about other branches).
    "follow_up.view": _any(_leadership, _secretary_here),
    "follow_up.answer": _secretary_here,
    # --- campaign and administration rules end here ---
    # 群众评议: the organisation section runs rounds; a branch's codes are issued by its secretary or the
    # organisation section; results go to leadership and the branch's secretary; members of a branch appraise
    # each other (民主评议党员) and the secretary sees who has taken part.
    "appraisal.manage": _role(Role.ADMIN),
    "appraisal.hub": _role(Role.ADMIN, Role.LEADER, Role.SECRETARY, Role.MEMBER),
    "appraisal.codes": _any(_role(Role.ADMIN), _secretary_here),
    "appraisal.results": _any(_leadership, _secretary_here),
    "appraisal.take_part": _all(_role(Role.MEMBER, Role.SECRETARY), lambda user, obj: user.branch_id is not None),
    # 分类定级: the organisation section sets the policy; leadership has proposals computed; the leading group
    # confirms branch grades; a member's grade is confirmed by the branch's secretary (a secretary's own by
    # the leading group), never by the person graded.
    "grading.policy": _role(Role.ADMIN),
    "grading.propose": _leadership,
    "grading.view": _any(_leadership, _secretary_here),
    "grading.confirm_branch": _role(Role.LEADER),
    "grading.confirm_member": _all(_not_own_work, _any(
        _all(_of_a_secretary, _role(Role.LEADER)),
        _all(_secretary_here, _not(_of_a_secretary)),
    )),
    # --- appraisal and grading rules end here ---
    # 通报 (bulletins): the leading group and the organisation section draft, edit (drafts only: the service
    # refuses an issued one) and issue them; an issued bulletin is published, so everyone logged in may
    # download its documents.
    "bulletin.view": _leadership,
    "bulletin.draft": _leadership,
    "bulletin.edit": _leadership,
    "bulletin.issue": _leadership,
    "bulletin.download": _any(_leadership, _is_issued_bulletin),
    # --- bulletin rules end here ---
    # 党务公开栏 sheets: a branch's sheet for its secretary, the leading group and the organisation section;
    # the 公示 sheet for those who put up notices (secretaries, the publicity section, leadership).
    "noticeboard.view": _any(_leadership, _secretary_here),
    "notice_sheet.view": _role(Role.SECRETARY, Role.EDITOR, Role.LEADER, Role.ADMIN),
    # --- notice board rules end here ---
    # Work queues and notifications: everyone reads their own notifications (services/notifications.py
    # only ever loads the reader's own); a secretary reminds a member of their own branch, not themself.
    "notification.view": _anyone,
    "member.remind": _all(_secretary_here, _not_own_work),
    # The full audit log (every branch, every person) is the organisation section's.
    "audit.log": _role(Role.ADMIN),
    # Searching branches by name for a picker (services/branch_choice.py; obj: the scope). Active branches are
    # named on the news board's filter, to everyone logged in; deactivated ones too only on the organisation
    # section's pages (accounts, the audit log).
    "branch.pick": _any(_role(Role.ADMIN), lambda user, scope: scope != "all"),
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
