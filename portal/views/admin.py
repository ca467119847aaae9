"""Administration by the organisation section (组织科): users, units and branches, the roster import."""
from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import Invalid
from ..forms import admin as forms
from ..forms import run_form, validated
from ..forms.fields import shown
from ..htmx import redirect_back, render
from ..input_guard import parse_int
from ..models import Branch, User
from ..permissions import require
from ..services import auditlog, intents
from ..services import roster as roster_service
from ..services import users as user_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _me():
    return current_user._get_current_object()


def _users_page(errors=None, status=200, form=None):
    args = request.args
    page = parse_int(args.get("page", "1"), low=1, high=99_999) or 1
    users, total = user_service.list_users(args.get("q", ""), args.get("role", ""), args.get("branch", ""), page)
    return render("admin/users.html", status=status, users=users, total=total, page=page,
                  page_size=user_service.PAGE_SIZE, branches=user_service.all_branches(), errors=errors or {},
                  form=shown(form))


@bp.get("/users")
@require("admin.manage")
def users():
    return _users_page()


@bp.post("/users")
@require("admin.manage")
def create_user():
    form = forms.UserCreateForm()
    done, refusal = run_form(form, lambda: intents.run_once(_me(), form.form_token.data, User, lambda: (
        user_service.create(_me(), username=form.username.data, display_name=form.display_name.data,
                            password=form.password.data or "", role=form.role.data,
                            branch_id=str(form.branch.data or ""), post_title=form.post_title.data,
                            email=form.email.data))),
        lambda errors, status, _c: _users_page(errors, status, form))
    if refusal:
        return refusal
    flash(_("The account “%(name)s” has been created.", name=user_service.get_user(done[0]).username), "success")
    return redirect_back(url_for("admin.users"))


def _user_page(user, errors=None, status=200, failed=None, conflict=None, form=None):
    return render("admin/user.html", status=status, user=user, branches=user_service.all_branches(),
                  errors=errors or {}, failed=failed, form=shown(form), conflict=conflict)


@bp.get("/users/<int:user_id>")
@require("admin.manage")
def user(user_id: int):
    return _user_page(user_service.get_user(user_id))


@bp.post("/users/<int:user_id>")
@require("admin.manage")
def update_user(user_id: int):
    target = user_service.get_user(user_id)
    form = forms.UserEditForm()
    _done, refusal = run_form(form, lambda: user_service.update(
        _me(), target, display_name=form.display_name.data, role=form.role.data,
        branch_id=str(form.branch.data or ""), post_title=form.post_title.data, version=form.version.data,
        email=form.email.data),
        lambda errors, status, conflict: _user_page(target, errors, status, failed="edit", conflict=conflict,
                                                    form=form),
        {"display_name": _("Name"), "post_title": _("Post")})
    if refusal:
        return refusal
    flash(_("The account has been saved."), "success")
    return redirect_back(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/active")
@require("admin.manage")
def set_user_active(user_id: int):
    target = user_service.get_user(user_id)
    active = validated(forms.ActiveForm()).active.data == "1"
    user_service.set_active(_me(), target, active)
    flash(_("The account is enabled again.") if active else
          _("The account is disabled; its open sessions have ended."), "success")
    return redirect_back(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/password")
@require("admin.manage")
def reset_password(user_id: int):
    target = user_service.get_user(user_id)
    form = forms.PasswordResetForm()
    _done, refusal = run_form(form, lambda: user_service.reset_password(
        _me(), target, form.password.data or "", form.confirm.data or ""),
        lambda errors, status, _c: _user_page(target, errors, status, failed="password", form=form))
    if refusal:
        return refusal
    flash(_("The password has been reset; the user must log in again with it."), "success")
    return redirect_back(url_for("admin.user", user_id=target.id))


# --- units and branches -----------------------------------------------------------------------

def _branches_page(errors=None, status=200, failed=None, form=None):
    return render("admin/branches.html", status=status, rows=user_service.branch_overview(), errors=errors or {},
                  failed=failed, form=shown(form))


@bp.get("/branches")
@require("admin.manage")
def branches():
    return _branches_page()


@bp.post("/branches")
@require("admin.manage")
def create_branch():
    form = forms.BranchForm()
    done, refusal = run_form(form, lambda: intents.run_once(
        _me(), form.form_token.data, Branch, lambda: user_service.create_branch(_me(), **form.service_fields())),
        lambda errors, status, _c: _branches_page(errors, status, failed="new", form=form))
    if refusal:
        return refusal
    flash(_("The branch “%(name)s” has been added.", name=user_service.get_branch(done[0]).name), "success")
    return redirect_back(url_for("admin.branches"))


@bp.post("/branches/<int:branch_id>")
@require("admin.manage")
def update_branch(branch_id: int):
    branch = user_service.get_branch(branch_id)
    form = forms.BranchForm()
    _done, refusal = run_form(form, lambda: user_service.update_branch(_me(), branch, **form.service_fields()),
                              lambda errors, status, _c: _branches_page(errors, status, failed=branch.id, form=form))
    if refusal:
        return refusal
    flash(_("The branch has been saved."), "success")
    return redirect_back(url_for("admin.branches"))


@bp.post("/branches/<int:branch_id>/active")
@require("admin.manage")
def set_branch_active(branch_id: int):
    branch = user_service.get_branch(branch_id)
    user_service.set_branch_active(_me(), branch, validated(forms.ActiveForm()).active.data == "1")
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
        preview = roster_service.preview(forms.RosterFileForm().file.data)
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
        count, generated = roster_service.import_rows(_me(), forms.RosterImportForm().token.data)
    except Invalid as error:
        return render("admin/roster.html", preview=None, errors=error.field_errors, result=None, status=422)
    return render("admin/roster.html", preview=None, errors={}, result={"count": count, "generated": generated})


# --- the audit log ---------------------------------------------------------------------------------------

@bp.get("/audit")
@require("audit.log")
def audit():
    """The audit log for the organisation section: ?user=, branch, kind, start, end, page."""
    filters = auditlog.parse_filters(request.args)
    page = parse_int(request.args.get("page", "1"), low=1, high=99_999) or 1
    return render("admin/audit.html", status=422 if filters.errors else 200, filters=filters,
                  listing=auditlog.page_of(filters, page), branches=user_service.all_branches(),
                  kinds=auditlog.kind_options())


@bp.get("/audit.csv")
@require("audit.log")
def audit_csv():
    from flask import Response

    filters = auditlog.parse_filters(request.args)
    response = Response(auditlog.csv_text(filters), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = "attachment; filename=audit-log.csv"
    return response
