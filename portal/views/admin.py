"""Administration by the organisation section (组织科): users, units and branches, the roster import."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import Conflict, Invalid
from ..forms import admin as forms
from ..forms import run_form, validated
from ..forms.fields import errors_of, shown
from ..htmx import redirect_back, render
from ..links import external_url
from ..models import Branch, User
from ..permissions import require
from ..services import activation, auditlog, branch_choice, firstrun, intents, paging, uploads
from ..services import branch_import as branch_files
from ..services import roster as roster_service
from ..services import users as user_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _me():
    return current_user._get_current_object()


def _users_page(errors=None, status=200, form=None):
    """The accounts, filtered by ?q=, role and branch (the branch picker's id, or its typed name: a name that
    fits no branch or several is said beside the field and the branch filter left out)."""
    args = request.args
    page = paging.requested_page(args.get("page"))
    branch_id, problem = branch_choice.read_filter(args, "branch", "all")
    users, window = user_service.list_users(args.get("q", ""), args.get("role", ""), str(branch_id or ""), page)
    return render("admin/users.html", status=status, users=users, window=window,
                  branches=branch_choice.choices("all"), errors=errors or {}, form=shown(form),
                  filter_branch=branch_id, filter_errors={"branch": problem} if problem else {})


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
    return render("admin/user.html", status=status, user=user, branches=branch_choice.choices("all"),
                  errors=errors or {}, failed=failed, form=shown(form), conflict=conflict,
                  activation_state=activation.state(user))


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


# --- the first-run checklist ----------------------------------------------------------------------

@bp.get("/setup")
@require("admin.manage")
def setup():
    return render("admin/setup.html", setup_steps=firstrun.steps())


# --- units and branches -----------------------------------------------------------------------

def _branches_page(errors=None, status=200, failed=None, form=None, conflict=None):
    """The registry, a page at a time (`q` searches, `page` pages); a refused edit shows its branch alone."""
    page = paging.requested_page(request.args.get("page"))
    query = request.args.get("q", "")[:120]
    rows, window = user_service.branch_overview(query, page, only=failed if isinstance(failed, int) else None)
    return render("admin/branches.html", status=status, rows=rows, window=window, query=query, errors=errors or {},
                  failed=failed, form=shown(form),
                  conflict=conflict)


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
        lambda errors, status, _c: _branches_page(errors, status, failed="new", form=form),
        check=lambda: user_service.branch_errors(**form.service_fields()))
    if refusal:
        return refusal
    flash(_("The branch “%(name)s” has been added.", name=user_service.get_branch(done[0]).name), "success")
    return redirect_back(url_for("admin.branches"))


@bp.post("/branches/<int:branch_id>")
@require("admin.manage")
def update_branch(branch_id: int):
    branch = user_service.get_branch(branch_id)
    form = forms.BranchEditForm()
    _done, refusal = run_form(
        form, lambda: user_service.update_branch(_me(), branch, version=form.version.data, **form.service_fields()),
        lambda errors, status, conflict: _branches_page(errors, status, failed=branch.id, form=form,
                                                        conflict=conflict),
        {"name": _("Branch"), "member_count": _("Members")},
        check=lambda: user_service.branch_errors(branch, **form.service_fields()))
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


# --- branches from a file ---------------------------------------------------------------------------

def _branch_import_page(preview=None, errors=None, status=200):
    return render("admin/branch_import.html", preview=preview, errors=errors or {}, status=status)


@bp.get("/branches/import")
@require("admin.manage")
def branch_import():
    return _branch_import_page()


@bp.get("/branches/template.<ext>")
@require("admin.manage")
def branch_template(ext: str):
    """The branch list template (Chinese headers, one example row), as CSV or XLSX."""
    if ext not in ("csv", "xlsx"):
        abort(404)
    kind = "text/csv; charset=utf-8" if ext == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(branch_files.template(ext), content_type=kind)
    response.headers["Content-Disposition"] = f"attachment; filename=branches-template.{ext}; " \
                                              f"filename*=UTF-8''%E6%94%AF%E9%83%A8%E6%A8%A1%E6%9D%BF.{ext}"
    return response


@bp.post("/branches/import")
@require("admin.manage")
def branch_import_preview():
    try:
        preview = branch_files.preview(forms.RosterFileForm().file.data, session.pop("branch_preview", ""))
    except Invalid as error:
        return _branch_import_page(errors=error.field_errors, status=422)
    if preview.ok:
        session["branch_preview"] = preview.token
    return _branch_import_page(preview=preview, status=200 if preview.ok else 422)


@bp.post("/branches/import/confirm")
@require("admin.manage")
def branch_import_confirm():
    form = validated(forms.BranchImportForm())
    try:
        made = branch_files.apply(_me(), form.token.data)
    except Invalid as error:
        return _branch_import_page(errors=error.field_errors, status=422)
    session.pop("branch_preview", None)
    flash(_("%(n)s branches have been imported.", n=made), "success")
    return redirect(url_for("admin.branches"), 303)


# --- roster import ------------------------------------------------------------------------------

def _roster_page(preview=None, errors=None, status=200):
    return render("admin/roster.html", preview=preview, errors=errors or {}, status=status,
                  imports=roster_service.latest_imports(), mass_disable=roster_service.MASS_DISABLE,
                  shown=roster_service.PREVIEW_SHOWN)


@bp.get("/roster")
@require("admin.manage")
def roster():
    return _roster_page()


@bp.get("/roster/template.<ext>")
@require("admin.manage")
def roster_template(ext: str):
    """The roster template (Chinese headers, one example row), as CSV or XLSX."""
    if ext not in ("csv", "xlsx"):
        abort(404)
    data = roster_service.template(ext)
    roster_service.note_template(_me(), ext)
    kind = "text/csv; charset=utf-8" if ext == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(data, content_type=kind)
    response.headers["Content-Disposition"] = uploads.content_disposition(f"花名册模板.{ext}", f"roster-template.{ext}")
    return response


@bp.post("/roster")
@require("admin.manage")
def roster_preview():
    form = forms.RosterFileForm()
    if not form.validate():  # e.g. two files for the one roster: refused, never cut to the first
        return _roster_page(errors=errors_of(form), status=422)
    try:
        preview = roster_service.preview(form.file.data, _me())
    except Invalid as error:
        return _roster_page(errors=error.field_errors, status=422)
    # The previous preview of this session is superseded: its rows (personal data) are removed now.
    roster_service.discard(session.pop("roster_preview", ""))
    if preview.ok:
        session["roster_preview"] = preview.token
    # A file with bad rows is answered 422 with the row-by-row report; nothing is kept for import.
    return _roster_page(preview=preview, status=200 if preview.ok else 422)


@bp.post("/roster/import")
@require("admin.manage")
def roster_import():
    form = forms.RosterImportForm()
    if not form.validate():
        return _roster_page(errors={"file": _("Upload the file again.")}, status=422)
    try:
        job = roster_service.start(_me(), form.token.data, form.fingerprint.data, form.disable_leavers.data == "1",
                                   form.filename.data, form.leavers_confirmed.data)
    except roster_service.AlreadyConfirmed as sent:  # a second send: answered as saved, with that import's page
        return redirect_back(url_for("admin.roster_job", import_id=sent.job.id))
    except Invalid as error:
        if {"disable_leavers", "leavers_confirmed"} & set(error.field_errors):  # the preview again, with the way out
            preview = roster_service.Preview(token=form.token.data, filename=form.filename.data,
                                             plan=roster_service.reread(form.token.data, _me()))
            return _roster_page(preview=preview, errors=error.field_errors, status=422)
        return _roster_page(errors=error.field_errors, status=422)
    return redirect_back(url_for("admin.roster_job", import_id=job.id))


@bp.get("/roster/preview/<kind>.csv")
@require("admin.manage")
def roster_changes(kind: str):
    """The whole list of one kind of change of a kept preview (`token`), as CSV: the page shows the first
    roster.PREVIEW_SHOWN of each kind."""
    if kind not in roster_service.CHANGE_LISTS:
        abort(404)
    plan = roster_service.reread(request.args.get("token", ""), _me())
    response = Response(roster_service.changes_csv(plan, kind), content_type="text/csv; charset=utf-8")
    name = _("Roster preview")
    response.headers["Content-Disposition"] = uploads.content_disposition(f"{name}-{kind}.csv",
                                                                          f"roster-preview-{kind}.csv")
    return response


@bp.get("/roster/imports/<int:import_id>")
@require("admin.manage")
def roster_job(import_id: int):
    """The import's progress (its block is polled while it runs), then what it did and the slips to print."""
    return _import_page(roster_service.get_import(import_id))


@bp.post("/roster/imports/<int:import_id>/cancel")
@require("admin.manage")
def roster_cancel(import_id: int):
    """Cancel an import the task queue has not begun (its consumer may not be running); 409 once it has."""
    job = roster_service.get_import(import_id)
    try:
        roster_service.cancel(_me(), job)
    except Conflict as error:
        flash(str(error), "error")
        return _import_page(job, status=409)
    flash(_("The import was cancelled: nothing was imported."), "info")
    return redirect(url_for("admin.roster"), 303)


def _import_page(job, status=200, replaces=None, scope=None):
    return render("admin/roster_import.html", "progress", status=status, job=job,
                  branches=roster_service.pending_by_branch(job) if job.status.value == "done" else [],
                  replaces=replaces, scope=scope, stalled=roster_service.waiting_too_long(job))


@bp.post("/roster/imports/<int:import_id>/slips")
@require("admin.manage")
def roster_slips(import_id: int):
    """Issue fresh activation codes to the import's people who have not activated yet (of one branch, of those
    without a branch, or of all: `branch` = id, "" or "all"), then show the sheet from its own address
    (POST-redirect-GET: a reload or the back button never issues codes again). When some of them hold codes
    printed earlier, the admin is asked first, with how many will stop working."""
    job = roster_service.get_import(import_id)
    form = validated(forms.SlipsForm())
    try:
        batch = roster_service.issue_slips(_me(), job, form.branch.data, form.confirm.data)
    except roster_service.ReplacesCodes as asked:
        return _import_page(job, 409, replaces=asked.count, scope=form.branch.data)
    return redirect(url_for("admin.slips", batch_id=batch.id), 303)


@bp.get("/slips/<int:batch_id>")
@require("admin.manage")
def slips(batch_id: int):
    """A printed batch of activation slips, shown again on reload while it is printable (its codes still
    working); nothing is issued here."""
    batch = activation.get_batch(batch_id)
    items = activation.slips(batch)
    response = render("admin/slips.html", slips=items, groups=_by_branch(items), batch=batch,
                      printable=bool(batch.secret), activate_url=external_url("auth.activate"),
                      code_shown=activation.shown)
    response.headers["Cache-Control"] = "no-store"
    return response


def _by_branch(slips):
    groups: dict = {}
    for slip in slips:
        groups.setdefault(slip.branch, []).append(slip)
    return list(groups.items())


@bp.post("/users/<int:user_id>/activation")
@require("admin.manage")
def reissue_activation(user_id: int):
    """A new one-time code for one person (a lost slip, an expired code); the old one stops working (asked
    first when there is one). The slip is shown from the batch's address, as for an import."""
    target = user_service.get_user(user_id)
    form = validated(forms.ReissueForm())
    if activation.pending_codes([target.id]) and form.confirm.data != 1:
        return _user_page(target, status=409, failed="activation")
    batch = activation.issue(_me(), [target.id], reason="reissue")
    return redirect(url_for("admin.slips", batch_id=batch.id), 303)


# --- the audit log ---------------------------------------------------------------------------------------

@bp.get("/audit")
@require("audit.log")
def audit():
    """The audit log for the organisation section: ?user=, branch, kind, start, end, page."""
    return _audit_page(auditlog.parse_filters(request.args))


def _audit_page(filters):
    page = paging.requested_page(request.args.get("page"))
    return render("admin/audit.html", status=422 if filters.errors else 200, filters=filters,
                  listing=auditlog.page_of(filters, page), branches=branch_choice.choices("all"),
                  kinds=auditlog.kind_options())


@bp.get("/audit.csv")
@require("audit.log")
def audit_csv():
    """The same filters as the page, validated the same way: a malformed one answers the page with its error
    (422), never an export of the unfiltered log."""
    from flask import Response

    filters = auditlog.parse_filters(request.args)
    if filters.errors:
        return _audit_page(filters)
    response = Response(auditlog.csv_text(filters), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = uploads.content_disposition("audit-log.csv", "audit-log.csv")
    return response
