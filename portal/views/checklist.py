"""Self-assessment checklists: the page, inline answers (htmx fragments or plain posts), evidence, workflow."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import Conflict, Invalid
from ..extensions import db
from ..forms import EmptyForm
from ..forms import checklist as forms
from ..forms.fields import apply_errors, errors_of
from ..htmx import redirect_back, render, respond, wants_fragment
from ..input_guard import parse_int
from ..models import Role, Subject
from ..permissions import authorize, can
from ..services import checklist as service
from ..services import notifications, uploads, workqueue
from .checklist_rows import RowWriter, item_answer, meter, overall_label, summary_counts

bp = Blueprint("checklist", __name__, url_prefix="/checklist")

SUBJECTS = {"branch": Subject.BRANCH, "member": Subject.MEMBER}
KIND_OF = {Subject.BRANCH: "branch", Subject.MEMBER: "member"}


@bp.context_processor
def bars() -> dict:
    """The checklist's meters and result counts, written in Python (checklist_rows)."""
    return {"meter": meter, "summary_counts": summary_counts, "overall_label": overall_label}


def _year_number() -> int | None:
    raw = request.values.get("year")
    if raw in (None, ""):
        return None
    number = parse_int(raw)
    if number is None:
        abort(404)
    return number


def _target(kind: str, owner_id: int) -> service.Target:
    year = service.resolve_year(_year_number())
    return service.target_for(SUBJECTS[kind], owner_id, year)


def page_url(target: service.Target, anchor: str = "") -> str:
    kind = KIND_OF[target.subject]
    owner = target.member.id if target.member else target.branch.id
    url = url_for(f"checklist.{kind}", owner_id=owner, year=target.year.year)
    return f"{url}#{anchor}" if anchor else url


@bp.get("")
@login_required
def index():
    """Send people to their own checklist: secretaries to the branch's, members to their own."""
    if current_user.branch_id is None or current_user.role not in (Role.SECRETARY, Role.MEMBER):
        if can(current_user, "dashboard.view"):
            return redirect(url_for("dashboard.overview"))
        abort(403)
    year = request.args.get("year") or None  # ?year= is kept: the checklist of that year
    if current_user.role == Role.SECRETARY:
        return redirect(url_for("checklist.branch", owner_id=current_user.branch_id, year=year))
    return redirect(url_for("checklist.member", owner_id=current_user.id, year=year))


@bp.get("/branch/<int:owner_id>", endpoint="branch", defaults={"kind": "branch"})
@bp.get("/member/<int:owner_id>", endpoint="member", defaults={"kind": "member"})
@login_required
def page(kind: str, owner_id: int):
    target = _target(kind, owner_id)
    authorize("assessment.view", target.permission_object())
    return _render_page(target)


def _render_page(target: service.Target, status: int = 200, errors: dict | None = None,
                 item_errors: dict | None = None, message: str | None = None, conflict: dict | None = None,
                 drafts: dict | None = None, show_missing: bool = False, form: FlaskForm | None = None):
    """The whole checklist; after a refused review or return, `form` holds what was typed (re-shown in
    the review forms) and `errors` {field: message} go beside its fields."""
    checklist = service.load(target)
    abilities = _abilities(target)
    return render("checklist/checklist.html", status=status, checklist=checklist, target=target,
                  kind=KIND_OF[target.subject], years=service.all_years(), errors=errors or {},
                  item_errors=item_errors or {}, message=message, conflict=conflict or {}, drafts=drafts or {},
                  show_missing=show_missing, review_form=form if isinstance(form, forms.ReviewForm) else None,
                  return_form=form if isinstance(form, forms.ReturnForm) else None,
                  item_row=_row_writer(target, abilities["can_edit"]), **abilities)


def _abilities(target: service.Target) -> dict:
    obj = target.permission_object()
    return {
        "can_edit": _can_edit(target, obj),
        "can_review": target.is_current_year and can(current_user, "assessment.review", obj),
        "can_see_members": target.subject == Subject.BRANCH and can(current_user, "member_coverage.view",
                                                                       target.branch),
    }


def _can_edit(target: service.Target, obj=None) -> bool:
    """Whether the person may change the checklist's answers now (its year current, the checklist a draft or
    returned, and rule "assessment.edit"); `obj`: its `permission_object()`, if already made."""
    editable = target.is_current_year and target.status in service.EDITABLE
    return editable and can(current_user, "assessment.edit", obj if obj is not None else target.permission_object())


def _row_writer(target: service.Target, can_edit: bool) -> RowWriter:
    """The checklist's item rows (checklist_rows: written in Python, as the template `_item.html` wrote them)."""
    return RowWriter(target, KIND_OF[target.subject], can_edit, current_user.id)


# --- one item: result, note, evidence -----------------------------------------------------------------------

def _item_response(target: service.Target, item_id: int, status: int = 200, error: str | None = None,
                   conflict: dict | None = None, form: FlaskForm | None = None):
    """After an item changed (or failed to): the row plus out-of-band progress for htmx; else the page.

    On failure the note the person sent (`form`'s cleaned note) stays in the field, marked unsaved,
    beside the other person's text when the failure is a conflict."""
    typed = form.typed_note() if isinstance(form, forms.ItemForm) else None
    draft = typed if status >= 400 else None
    if not wants_fragment():
        if status < 400:
            return redirect_back(page_url(target, f"item-{item_id}"))
        return _render_page(target, status=status, item_errors={item_id: error}, conflict={item_id: conflict},
                            drafts={item_id: draft})
    if status >= 400:
        # A refusal may come after part of the click was saved (a stale note's Conflict is raised after the
        # result it came with was written, by a statement that left this session's loaded answers as they were
        # read): the row and the progress are read afresh, as the page after a reload shows them.
        db.session.expire_all()
    fresh = target if status < 400 and target.assessment is not None else service.target_for(
        target.subject, target.member.id if target.member else target.branch.id, target.year)  # as written
    checklist = service.load(fresh, only_item_id=item_id)  # the row; the tallies still cover every item
    section = checklist.section_of(item_id)
    note_saved = status < 400 and typed is not None
    body = item_answer(_row_writer(fresh, _can_edit(fresh)), checklist, section, checklist.row_of(item_id),
                       item_error=error, conflict=conflict, draft_note=draft, announce=status < 400,
                       note_saved=note_saved)
    return respond(body, status)


def _editable_target(kind: str, owner_id: int) -> service.Target:
    target = _target(kind, owner_id)
    authorize("assessment.edit", target.permission_object())
    return target


def _run_item_change(target: service.Target, item_id: int, form_class, change):
    """Read `form_class`, then `change(form)`: the one service call. A refused form or an `Invalid` is 422
    beside the item (its first error, in the person's language), a stale note 409 with both texts, an
    over-long upload 413; nothing is written by a refused form."""
    try:
        form = form_class()  # reading the body of a multipart post may already find it too long
        if not form.validate():
            return _item_response(target, item_id, 422, error=next(iter(errors_of(form).values())), form=form)
        change(form)
    except Invalid as error:
        return _item_response(target, item_id, 422, error=error.message, form=form)
    except Conflict as error:
        return _item_response(target, item_id, 409, error=error.message, conflict=error.current, form=form)
    except RequestEntityTooLarge:
        return _item_response(target, item_id, 413, error=_("Files may be at most 10 MB."))
    return _item_response(target, item_id, form=form)


@bp.post("/<any(branch,member):kind>/<int:owner_id>/items/<int:item_id>/result")
@login_required
def set_result(kind: str, owner_id: int, item_id: int):
    target = _editable_target(kind, owner_id)
    return _run_item_change(target, item_id, forms.ResultForm, lambda form: service.answer_item(
        current_user, target, item_id, result=form.result.data, note=form.typed_note(),
        note_version=form.note_version.data))


@bp.post("/<any(branch,member):kind>/<int:owner_id>/items/<int:item_id>/note")
@login_required
def set_note(kind: str, owner_id: int, item_id: int):
    target = _editable_target(kind, owner_id)
    return _run_item_change(target, item_id, forms.NoteForm, lambda form: service.set_note(
        current_user, target, item_id, form.note.data, form.note_version.data))


@bp.post("/<any(branch,member):kind>/<int:owner_id>/items/<int:item_id>/evidence")
@login_required
def add_evidence(kind: str, owner_id: int, item_id: int):
    target = _editable_target(kind, owner_id)
    return _run_item_change(target, item_id, forms.EvidenceForm, lambda form: service.answer_item(
        current_user, target, item_id, upload=form.file.data, note=form.typed_note(),
        note_version=form.note_version.data))


@bp.get("/evidence/<int:evidence_id>")
@login_required
def evidence(evidence_id: int):
    record, target, _item_id = service.evidence_with_target(evidence_id)
    authorize("assessment.view", target.permission_object())
    return uploads.serve(service.EVIDENCE_KIND, record.stored_name, record.original_name, record.content_type)


@bp.post("/evidence/<int:evidence_id>/delete")
@login_required
def delete_evidence(evidence_id: int):
    record, target, item_id = service.evidence_with_target(evidence_id)
    authorize("assessment.edit", target.permission_object())
    return _run_item_change(target, item_id, EmptyForm,
                            lambda _form: service.delete_evidence(current_user, target, record, item_id))


# --- workflow -------------------------------------------------------------------------------------------------

def _workflow(target: service.Target, form: FlaskForm, change, done_message: str, show_missing: bool = False,
              then=None):
    """Validate `form`, call `change()`, answer: the page again with the errors beside the fields (422) or
    the reason it cannot change now (409); else a flash and back (303) to the page, or to `then()`."""
    if not form.validate():
        return _render_page(target, status=422, errors=errors_of(form), form=form, show_missing=show_missing)
    try:
        change()
    except Invalid as error:
        db.session.rollback()
        return _render_page(target, status=422, errors=apply_errors(form, error.field_errors),
                            message=error.message, form=form, show_missing=show_missing)
    except Conflict as error:
        return _render_page(target, status=409, message=error.message, form=form)
    flash(done_message, "success")
    return redirect_back(then() if then else page_url(target))


@bp.post("/<any(branch,member):kind>/<int:owner_id>/submit")
@login_required
def submit(kind: str, owner_id: int):
    target = _editable_target(kind, owner_id)
    return _workflow(target, EmptyForm(), lambda: service.submit(current_user, target),
                     _("Submitted. It is locked until it is reviewed or returned."), show_missing=True)


@bp.post("/<any(branch,member):kind>/<int:owner_id>/return")
@login_required
def return_(kind: str, owner_id: int):
    target = _target(kind, owner_id)
    authorize("assessment.review", target.permission_object())
    form = forms.ReturnForm()
    return _workflow(target, form, lambda: service.return_for_revision(current_user, target, form.reason.data),
                     _("Returned with your reason; it can be edited again."))


@bp.post("/<any(branch,member):kind>/<int:owner_id>/review")
@login_required
def review(kind: str, owner_id: int):
    target = _target(kind, owner_id)
    authorize("assessment.review", target.permission_object())
    reviewed_id = target.assessment.id if target.assessment else None

    def next_on_queue() -> str:
        """"保存并打开下一个": the oldest other self-assessment on the queue, else the queue itself."""
        return (workqueue.next_review_url(target.year, reviewed_id)
                or url_for("main.home", _anchor="review-queue"))

    form = forms.ReviewForm()
    then = next_on_queue if form.next.data == "1" else None
    return _workflow(target, form, lambda: service.review(current_user, target, form.rating.data, form.comment.data,
                                                          form.improvements.data),
                     _("Your review has been saved."), then=then)


@bp.post("/member/<int:owner_id>/remind")
@login_required
def remind(owner_id: int):
    """The secretary's 提醒: notify a member of the branch who has not submitted their self-assessment."""
    target = _target("member", owner_id)
    authorize("member.remind", target.member)
    try:
        reminded = notifications.remind_self_assessment(current_user, target.member, target.year)
    except Conflict as error:
        # The home page was older than the member's submission: say so there, not on an error page.
        flash(str(error), "info")
        return redirect_back(url_for("main.home", _anchor="members-queue"))
    if reminded:
        flash(_("%(name)s has been reminded.", name=target.member.display_name), "success")
    else:
        flash(_("%(name)s has already been reminded today.", name=target.member.display_name), "info")
    return redirect_back(url_for("main.home", _anchor="members-queue"))


# --- the branch's members ------------------------------------------------------------------------------------

@bp.get("/branch/<int:owner_id>/members")
@login_required
def coverage(owner_id: int):
    target = _target("branch", owner_id)
    authorize("member_coverage.view", target.branch)
    rows = service.member_coverage(target.year, target.branch)
    return render("checklist/coverage.html", target=target, rows=rows)
