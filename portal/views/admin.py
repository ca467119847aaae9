"""Administration by the organisation section (组织科): users, units and branches, the roster import."""
from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import Invalid
from ..extensions import db
from ..htmx import redirect_back, render
from ..input_guard import parse_int
from ..permissions import require
from ..services import roster as roster_service
from ..services import users as user_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _me():
    return current_user._get_current_object()


def _users_page(errors=None, status=200):
    args = request.args
    page = parse_int(args.get("page", "1"), low=1, high=99_999) or 1
    users, total = user_service.list_users(args.get("q", ""), args.get("role", ""), args.get("branch", ""), page)
    return render("admin/users.html", status=status, users=users, total=total, page=page,
                  page_size=user_service.PAGE_SIZE, branches=user_service.all_branches(), errors=errors or {},
                  form=request.form)


@bp.get("/users")
@require("admin.manage")
def users():
    return _users_page()


@bp.post("/users")
@require("admin.manage")
def create_user():
    form = request.form
    try:
        user = user_service.create(_me(), username=form.get("username", ""), display_name=form.get("display_name", ""),
                                   password=form.get("password", ""), role=form.get("role", ""),
                                   branch_id=form.get("branch", ""), post_title=form.get("post_title", ""))
    except Invalid as error:
        return _users_page(error.field_errors, 422)
    flash(_("The account “%(name)s” has been created.", name=user.username), "success")
    return redirect_back(url_for("admin.users"))


def _user_page(user, errors=None, status=200, failed=None):
    return render("admin/user.html", status=status, user=user, branches=user_service.all_branches(),
                  errors=errors or {}, failed=failed, form=request.form)


@bp.get("/users/<int:user_id>")
@require("admin.manage")
def user(user_id: int):
    return _user_page(user_service.get_user(user_id))


@bp.post("/users/<int:user_id>")
@require("admin.manage")
def update_user(user_id: int):
    target = user_service.get_user(user_id)
    form = request.form
    try:
        user_service.update(_me(), target, display_name=form.get("display_name", ""), role=form.get("role", ""),
                            branch_id=form.get("branch", ""), post_title=form.get("post_title", ""))
    except Invalid as error:
        db.session.rollback()
        return _user_page(target, error.field_errors, 422, failed="edit")
    flash(_("The account has been saved."), "success")
    return redirect_back(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/active")
@require("admin.manage")
def set_user_active(user_id: int):
    target = user_service.get_user(user_id)
    active = request.form.get("active") == "1"
    user_service.set_active(_me(), target, active)
    flash(_("The account is enabled again.") if active else
          _("The account is disabled; its open sessions have ended."), "success")
    return redirect_back(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/password")
@require("admin.manage")
def reset_password(user_id: int):
    target = user_service.get_user(user_id)
    try:
        user_service.reset_password(_me(), target, request.form.get("password", ""), request.form.get("confirm", ""))
    except Invalid as error:
        return _user_page(target, error.field_errors, 422, failed="password")
    flash(_("The password has been reset; the user must log in again with it."), "success")
    return redirect_back(url_for("admin.user", user_id=target.id))


# --- units and branches -----------------------------------------------------------------------

def _branch_fields(form) -> dict:
    return {"unit_name": form.get("unit_name", ""), "unit_kind": form.get("unit_kind", ""),
            "branch_name": form.get("branch_name", ""), "branch_kind": form.get("branch_kind", ""),
            "member_count": form.get("member_count", "")}


def _branches_page(errors=None, status=200, failed=None):
    return render("admin/branches.html", status=status, rows=user_service.branch_overview(), errors=errors or {},
                  failed=failed, form=request.form)


@bp.get("/branches")
@require("admin.manage")
def branches():
    return _branches_page()


@bp.post("/branches")
@require("admin.manage")
def create_branch():
    try:
        branch = user_service.create_branch(_me(), **_branch_fields(request.form))
    except Invalid as error:
        return _branches_page(error.field_errors, 422, failed="new")
    flash(_("The branch “%(name)s” has been added.", name=branch.name), "success")
    return redirect_back(url_for("admin.branches"))


@bp.post("/branches/<int:branch_id>")
@require("admin.manage")
def update_branch(branch_id: int):
    branch = user_service.get_branch(branch_id)
    try:
        user_service.update_branch(_me(), branch, **_branch_fields(request.form))
    except Invalid as error:
        db.session.rollback()
        return _branches_page(error.field_errors, 422, failed=branch.id)
    flash(_("The branch has been saved."), "success")
    return redirect_back(url_for("admin.branches"))


@bp.post("/branches/<int:branch_id>/active")
@require("admin.manage")
def set_branch_active(branch_id: int):
    branch = user_service.get_branch(branch_id)
    user_service.set_branch_active(_me(), branch, request.form.get("active") == "1")
    flash(_("The branch has been saved."), "success")
    return redirect_back(url_for("admin.branches"))


@bp.post("/branches/<int:branch_id>/delete")
@require("admin.manage")
def delete_branch(branch_id: int):
    branch = user_service.get_branch(branch_id)
    user_service.delete_branch(_me(), branch)
    flash(_("The branch has been deleted."), "success")
    return redirect_back(url_for("admin.branches"))


# --- roster import ------------------------------------------------------------------------------

@bp.get("/roster")
@require("admin.manage")
def roster():
    return render("admin/roster.html", preview=None, errors={}, result=None)


@bp.post("/roster")
@require("admin.manage")
def roster_preview():
    try:
        preview = roster_service.preview(request.files.get("file"))
    except Invalid as error:
        return render("admin/roster.html", preview=None, errors=error.field_errors, result=None, status=422)
    # A file with bad rows is answered 422 with the row-by-row report; nothing is kept for import.
    if not preview.ok:
        roster_service.discard(preview.token)
    return render("admin/roster.html", preview=preview, errors={}, result=None, status=200 if preview.ok else 422)


@bp.post("/roster/import")
@require("admin.manage")
def roster_import():
    try:
        count, generated = roster_service.import_rows(_me(), request.form.get("token", ""))
    except Invalid as error:
        return render("admin/roster.html", preview=None, errors=error.field_errors, result=None, status=422)
    return render("admin/roster.html", preview=None, errors={}, result={"count": count, "generated": generated})
