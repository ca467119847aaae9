"""通报 (bulletins): the archive, drafting from the dashboard's figures, preview, issue, and the documents.
Views parse, authorise, call one service, render."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import Conflict
from ..extensions import db
from ..forms import bulletins as forms
from ..forms import run_form
from ..htmx import redirect_back, render
from ..models import Bulletin
from ..permissions import authorize, require
from ..services import bulletins as service
from ..services import gongwen, intents, uploads

bp = Blueprint("bulletins", __name__)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _me():
    return current_user._get_current_object()


@bp.get("/bulletins")
@require("bulletin.view")
def index():
    return render("bulletins/index.html", rows=service.archive(), years=service.dashboard.years())


def _form_page(data: service.BulletinInput, *, bulletin: Bulletin | None = None, year=None, corrects=None,
               errors: dict | None = None, status: int = 200, conflict=None):
    return render("bulletins/edit.html", data=data, bulletin=bulletin, year=year, corrects=corrects,
                  errors=errors or {}, status=status, max_sections=service.SECTIONS_MAX, conflict=conflict)


def _typed(form: forms.BulletinForm) -> service.BulletinInput:
    """What the person typed, as the refused form shows it again: the sections in the order sent, even when
    the headings and texts did not pair up."""
    sections = getattr(form, "sections", None) or form.typed_sections()
    return service.BulletinInput(request.form.get("title", ""), sections, request.form.get("copy_to", ""))


# What a 409 on a draft shows of the saved version beside the person's text (bulletins.update_draft's Conflict).
def _conflict_labels() -> dict:
    return {"title": _("Title"), "sections": _("Sections"), "copy_to": _("Copy to (抄送)")}


@bp.get("/bulletins/new")
@require("bulletin.draft")
def new():
    """起草通报: the form filled from the current figures of the year asked for (or of the current year), or
    from the text of the issued bulletin that `?corrects=` names."""
    corrects = None
    if request.args.get("corrects"):
        corrects = service.get_bulletin(_int_arg("corrects"))
        if not corrects.is_issued:
            abort(404)
    year = service.year_of(corrects) if corrects else service.choose_year(request.args.get("year"))
    return _form_page(service.new_draft_input(year, corrects), year=year, corrects=corrects)


def _int_arg(name: str) -> int:
    from ..input_guard import parse_int

    value = parse_int(request.args.get(name, ""), low=1)
    if value is None:
        abort(404)
    return value


@bp.post("/bulletins")
@require("bulletin.draft")
def create():
    form = forms.BulletinForm()
    year = service.choose_year(request.form.get("year"))
    corrects = service.find_bulletin(form.corrects.data) if form.corrects.data else None

    def refused(errors, status, _conflict):
        return _form_page(_typed(form), year=year, corrects=corrects, errors=errors, status=status)

    done, refusal = run_form(form, lambda: intents.run_once(_me(), form.form_token.data, Bulletin, lambda: (
        service.create_draft(_me(), year, form.as_input(), form.corrects.data))), refused)
    if refusal:
        return refusal
    flash(_("The draft has been saved. Check the preview, then issue it."), "success")
    return redirect_back(url_for("bulletins.show", bulletin_id=done[0]))


@bp.get("/bulletins/<int:bulletin_id>")
@require("bulletin.view")
def show(bulletin_id: int):
    """The bulletin as it reads (a draft's preview, with the year's current figures)."""
    bulletin = service.get_bulletin(bulletin_id)
    return render("bulletins/show.html", **gongwen.document_context(bulletin), figure=gongwen.figure,
                  year=service.year_of(bulletin),
                  issue_year=None if bulletin.is_issued else service.next_number()[0])


@bp.get("/bulletins/<int:bulletin_id>/edit")
@login_required
def edit(bulletin_id: int):
    bulletin = service.get_bulletin(bulletin_id)
    authorize("bulletin.edit", bulletin)
    service.ensure_draft(bulletin)
    data = service.BulletinInput(bulletin.title, bulletin.sections, bulletin.copy_to)
    return _form_page(data, bulletin=bulletin, year=service.year_of(bulletin))


@bp.post("/bulletins/<int:bulletin_id>/edit")
@login_required
def update(bulletin_id: int):
    bulletin = service.get_bulletin(bulletin_id)
    authorize("bulletin.edit", bulletin)
    form = forms.BulletinEditForm()

    def refused(errors, status, conflict):
        return _form_page(_typed(form), bulletin=bulletin, year=service.year_of(bulletin), errors=errors,
                          status=status, conflict=conflict)

    _done, refusal = run_form(form, lambda: service.update_draft(_me(), bulletin, form.as_input(),
                                                                 form.version.data), refused, _conflict_labels())
    if refusal:
        return refusal
    flash(_("The draft has been saved."), "success")
    return redirect_back(url_for("bulletins.show", bulletin_id=bulletin.id))


@bp.get("/bulletins/<int:bulletin_id>/issue")
@login_required
def confirm_issue(bulletin_id: int):
    """The confirmation step before issuing: the number the draft will get, and that it cannot be undone."""
    bulletin = service.get_bulletin(bulletin_id)
    authorize("bulletin.issue", bulletin)
    if bulletin.is_issued:
        return redirect_back(url_for("bulletins.show", bulletin_id=bulletin.id))
    return _confirm_page(bulletin, request.args.get("version") or bulletin.version)


def _confirm_page(bulletin: Bulletin, version, problem: str | None = None, status: int = 200):
    return render("bulletins/confirm.html", status=status, bulletin=bulletin, version=version, problem=problem,
                  number=service.preview_number(*service.next_number()), year=service.year_of(bulletin),
                  stale=str(version) != str(bulletin.version))


@bp.post("/bulletins/<int:bulletin_id>/issue")
@login_required
def issue(bulletin_id: int):
    bulletin = service.get_bulletin(bulletin_id)
    authorize("bulletin.issue", bulletin)
    form = forms.IssueForm()
    if not form.validate():
        return _confirm_page(bulletin, "", _("The confirmation was incomplete. Check the preview, then confirm "
                                             "again."), 422)
    try:
        service.issue(_me(), bulletin, form.version.data)
    except Conflict:
        db.session.rollback()
        db.session.refresh(bulletin)
        if bulletin.is_issued:
            return _confirm_page(bulletin, form.version.data, _(
                "This draft has been issued meanwhile, as %(number)s.", number=bulletin.document_number), 409)
        return _confirm_page(bulletin, form.version.data, _(
            "The draft was changed after you opened its preview, so it was not issued: what you checked is no "
            "longer what would be issued. Look at the current preview, then issue it from there."), 409)
    flash(_("Issued as %(number)s and published on the news board.", number=bulletin.document_number), "success")
    return redirect_back(url_for("bulletins.show", bulletin_id=bulletin.id))


def _document(bulletin_id: int, suffix: str, content_type: str, make) -> Response:
    bulletin = service.get_bulletin(bulletin_id)
    authorize("bulletin.download", bulletin)
    response = Response(make(bulletin), content_type=content_type)
    name = f"{bulletin.document_number}{bulletin.title}"[:120] + suffix
    fallback = (f"bulletin-{bulletin.number_year}-{bulletin.number}" if bulletin.is_issued
                else f"bulletin-draft-{bulletin.id}") + suffix
    response.headers["Content-Disposition"] = uploads.content_disposition(name, fallback)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/bulletins/<int:bulletin_id>.docx")
@login_required
def docx(bulletin_id: int):
    return _document(bulletin_id, ".docx", DOCX_TYPE, gongwen.docx_bytes)


@bp.get("/bulletins/<int:bulletin_id>.pdf")
@login_required
def pdf(bulletin_id: int):
    return _document(bulletin_id, ".pdf", "application/pdf", gongwen.pdf_bytes)
