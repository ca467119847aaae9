"""通报 (bulletins): the archive, drafting from the dashboard's figures, preview, issue, and the documents.
Views parse, authorise, call one service, render."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..forms import bulletins as forms
from ..forms import run_form
from ..htmx import redirect_back, render
from ..models import Bulletin
from ..permissions import authorize, require
from ..services import bulletins as service
from ..services import gongwen, intents

bp = Blueprint("bulletins", __name__)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _me():
    return current_user._get_current_object()


@bp.get("/bulletins")
@require("bulletin.view")
def index():
    return render("bulletins/index.html", rows=service.archive(), years=service.dashboard.years())


def _form_page(data: service.BulletinInput, *, bulletin: Bulletin | None = None, year=None, corrects=None,
               errors: dict | None = None, status: int = 200):
    return render("bulletins/edit.html", data=data, bulletin=bulletin, year=year, corrects=corrects,
                  errors=errors or {}, status=status, max_sections=service.SECTIONS_MAX)


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
    corrects = service.get_bulletin(form.corrects.data) if form.corrects.data else None

    def refused(errors, status, _conflict):
        shown = service.BulletinInput(request.form.get("title", ""), getattr(form, "sections", []),
                                      request.form.get("copy_to", ""))
        return _form_page(shown, year=year, corrects=corrects, errors=errors, status=status)

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
                  year=service.year_of(bulletin))


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

    def refused(errors, status, _conflict):
        shown = service.BulletinInput(request.form.get("title", ""), getattr(form, "sections", []),
                                      request.form.get("copy_to", ""))
        return _form_page(shown, bulletin=bulletin, year=service.year_of(bulletin), errors=errors, status=status)

    _done, refusal = run_form(form, lambda: service.update_draft(_me(), bulletin, form.as_input(),
                                                                 form.version.data), refused)
    if refusal:
        return refusal
    flash(_("The draft has been saved."), "success")
    return redirect_back(url_for("bulletins.show", bulletin_id=bulletin.id))


@bp.post("/bulletins/<int:bulletin_id>/issue")
@login_required
def issue(bulletin_id: int):
    bulletin = service.get_bulletin(bulletin_id)
    authorize("bulletin.issue", bulletin)
    form = forms.IssueForm()
    if not form.validate():
        abort(409)
    service.issue(_me(), bulletin, form.version.data)
    flash(_("Issued as %(number)s and published on the news board.", number=bulletin.document_number), "success")
    return redirect_back(url_for("bulletins.show", bulletin_id=bulletin.id))


def _document(bulletin_id: int, suffix: str, content_type: str, make) -> Response:
    bulletin = service.get_bulletin(bulletin_id)
    authorize("bulletin.download", bulletin)
    response = Response(make(bulletin), content_type=content_type)
    name = f"{bulletin.document_number}{bulletin.title}"[:120] + suffix
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
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
