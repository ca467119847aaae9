"""The framework editor of the organisation section (组织科): 五个好 / 五带头 criteria, items and theme items,
and the framework as a file. Every change that reaches a started campaign year asks for confirmation on a page
of its own (a plain form, no script needed) before it is made."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import Conflict, Invalid
from ..forms import admin as forms
from ..forms import run_form
from ..forms.fields import errors_of, shown
from ..htmx import redirect_back, render
from ..input_guard import parse_int
from ..permissions import require
from ..services import framework_proposals as proposals
from ..services import frameworks as service
from ..services.campaign import is_past
from ..services.frameworks import NeedsConfirmation

bp = Blueprint("frameworks", __name__, url_prefix="/admin/frameworks")


def _me():
    return current_user._get_current_object()


def _year_arg():
    """?year=N: the campaign year whose theme items are shown (default: none, the framework's own items)."""
    return service.year_by_number(parse_int(request.args.get("year", ""), low=2000, high=2100))


def _editor_url(framework, year=None, anchor: str = "") -> str:
    return url_for("frameworks.edit", code=framework.code, year=year.year if year else None) + anchor


def _editor_page(framework, year=None, *, errors=None, failed=None, status=200, form=None, preview=None,
                 conflict=None):
    return render("admin/framework.html", status=status, framework=framework, year=year, years=service.all_years(),
                  theme_years=service.theme_years(), frameworks=service.all_frameworks(),
                  sections=service.editor(framework, year),
                  started=service.started_years(framework, {year.id} if year else None),
                  first_year=service.first_year(framework), year_finished=year is not None and is_past(year),
                  errors=errors or {}, failed=failed, form=shown(form), preview=preview, conflict=conflict)


def _confirm_page(error: NeedsConfirmation, framework, year, what: str, changes=(), import_changes=(),
                  back: str = ""):
    """409: what the change is (each changed field's value now and after: `changes`, or an import's
    `import_changes`), which started years it reaches, and the same form again with confirm=1."""
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in ("csrf_token", "confirm")]
    return render("admin/framework_confirm.html", status=409, framework=framework, year=year, message=error.message,
                  years=error.years, finished=service.finished_of(error.years), what=what,
                  action=request.path + (f"?year={year.year}" if year else ""),
                  fields=fields, back=back or _editor_url(framework, year), changes=changes,
                  import_changes=import_changes)


def _attempt(framework, year, form, call, failed, what, changes=lambda: (), saved=None):
    """Validate `form`, make the change, and answer: 303 back to the editor, 422 with the errors beside the
    fields, 409 with the confirmation page showing `changes()` (old → new), or (`saved`: {attribute: label} of
    an edit's saved values) 409 for a stale edit, the saved values above the person's own, kept in the form."""
    try:
        done, refusal = run_form(form, call, lambda errors, status, conflict: _editor_page(
            framework, year, errors=errors, failed=failed, status=status, form=form, conflict=conflict), saved)
    except NeedsConfirmation as error:
        return _confirm_page(error, framework, year, what, changes())
    if refusal:
        return refusal
    flash(_("The framework has been saved.") if done is not False else _("Nothing was changed."),
          "success")
    return redirect_back(_editor_url(framework, year, f"#{failed}" if isinstance(failed, str) else ""))


@bp.get("")
@require("framework.manage")
def index():
    return render("admin/frameworks.html", frameworks=service.all_frameworks())


@bp.get("/<code>")
@require("framework.manage")
def edit(code: str):
    return _editor_page(service.get_framework(code), _year_arg())


@bp.post("/criteria/<int:criterion_id>")
@require("framework.manage")
def update_criterion(criterion_id: int):
    criterion = service.get_criterion(criterion_id)
    framework, year = service.framework_of(criterion), _year_arg()
    form = forms.CriterionForm()
    return _attempt(framework, year, form, lambda: service.update_criterion(
        _me(), criterion, title=form.title.data, title_en=form.title_en.data,
        official_text=form.official_text.data, position=form.position.data, confirmed=form.confirm.data == "1",
        version=form.version.data),
        f"criterion-{criterion.id}", _("Edit the criterion “%(title)s”", title=criterion.title),
        lambda: proposals.criterion_changes(criterion, title=form.title.data, title_en=form.title_en.data,
                                            official_text=form.official_text.data, position=form.position.data),
        saved={"title": _("Criterion"), "title_en": _("English name"), "official_text": _("Official wording")})


@bp.post("/items")
@require("framework.manage")
def add_item():
    form = forms.ItemAddForm()
    if form.criterion.data is None:
        raise Invalid(_("Choose the criterion the item belongs to."), errors_of(form))
    criterion = service.get_criterion(form.criterion.data)
    framework = service.framework_of(criterion)
    year = service.year_by_number(form.year.data)
    valid_from = service.year_by_number(form.valid_from.data)
    for chosen, number in ((form.year, year), (form.valid_from, valid_from)):
        if chosen.data is not None and number is None:
            chosen.errors = [_("There is no campaign year %(year)s.", year=chosen.data)]
    if form.year.errors or form.valid_from.errors:
        return _editor_page(framework, _year_arg(), errors=errors_of(form), failed=f"add-{criterion.id}",
                            status=422, form=form)
    return _attempt(framework, year, form, lambda: service.add_item(
        _me(), criterion, text=form.text.data, weight=form.weight.data, year=year, valid_from=valid_from,
        confirmed=form.confirm.data == "1"), f"add-{criterion.id}",
        _("Add an item to “%(title)s”", title=criterion.title),
        lambda: proposals.new_item(text=form.text.data, weight=form.weight.data, year=year, valid_from=valid_from,
                                   first_year=service.first_year(framework)))


@bp.post("/items/<int:item_id>")
@require("framework.manage")
def update_item(item_id: int):
    item = service.get_item(item_id)
    framework, year = service.framework_of(service.get_criterion(item.criterion_id)), _year_arg()
    form = forms.ItemForm()
    return _attempt(framework, year, form, lambda: service.update_item(
        _me(), item, text=form.text.data, weight=form.weight.data, position=form.position.data,
        confirmed=form.confirm.data == "1", version=form.version.data), f"item-{item.id}",
        _("Edit the item “%(text)s”", text=item.text),
        lambda: proposals.item_changes(item, text=form.text.data, weight=form.weight.data,
                                       position=form.position.data),
        saved={"text": _("Wording"), "weight": _("Weight")})


@bp.post("/items/<int:item_id>/active")
@require("framework.manage")
def set_item_active(item_id: int):
    item = service.get_item(item_id)
    framework, year = service.framework_of(service.get_criterion(item.criterion_id)), _year_arg()
    form = forms.ItemActiveForm()
    active = form.active.data == "1"
    what = _("Bring back the item “%(text)s”", text=item.text) if active else \
        _("Retire the item “%(text)s”", text=item.text)
    return _attempt(framework, year, form, lambda: service.set_item_active(
        _me(), item, active, confirmed=form.confirm.data == "1"), f"item-{item.id}", what,
        lambda: proposals.active_change(item, active, service.first_year(framework)))


@bp.get("/<code>/export.xlsx")
@require("framework.manage")
def export(code: str):
    framework = service.get_framework(code)
    response = Response(service.export_xlsx(framework),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = (f"attachment; filename={framework.code}-v{framework.version}.xlsx; "
                                               f"filename*=UTF-8''{framework.code}-v{framework.version}.xlsx")
    return response


@bp.post("/<code>/import")
@require("framework.manage")
def import_preview(code: str):
    """Check the file and show every change it would make; nothing is written yet."""
    framework = service.get_framework(code)
    form = forms.FrameworkFileForm()
    if not form.validate():
        return _editor_page(framework, errors=errors_of(form), failed="import", status=422)
    try:
        preview = service.preview_import(framework, form.file.data)
    except Invalid as error:
        return _editor_page(framework, errors=error.field_errors or {"file": error.message}, failed="import",
                            status=422)
    return _editor_page(framework, preview=preview)


@bp.post("/<code>/import/apply")
@require("framework.manage")
def import_apply(code: str):
    framework = service.get_framework(code)
    form = forms.FrameworkImportForm()
    try:
        done, refusal = run_form(form, lambda: service.apply_import(
            _me(), framework, form.plan.data, form.fingerprint.data, confirmed=form.confirm.data == "1"),
            lambda errors, status, _c: _editor_page(framework, errors={"file": next(iter(errors.values()), "")},
                                                    failed="import", status=status))
    except NeedsConfirmation as error:
        return _confirm_page(error, framework, None, _("Import the framework file"),
                             import_changes=service.planned_changes(framework, form.plan.data),
                             back=_editor_url(framework, anchor="#import"))
    except Conflict as error:  # the framework changed after the preview: upload the file again
        return render("admin/framework_stale.html", status=409, framework=framework, message=error.message,
                      back=_editor_url(framework, anchor="#import"))
    if refusal:
        return refusal
    if done is None:  # a second send of an import already made: answered as saved
        flash(_("The file has been imported."), "success")
    else:
        flash(_("The file has been imported: %(n)s changes.", n=done) if done else _("Nothing was changed."),
              "success")
    return redirect_back(_editor_url(framework))


# A confirmation or an import is answered on the page of the POST; reloading that address later, or following it
# from the history, asks it with GET: back to the framework, where the change can be made again.
@bp.get("/criteria/<int:criterion_id>")
@require("framework.manage")
def criterion_page(criterion_id: int):
    criterion = service.get_criterion(criterion_id)
    return redirect(_editor_url(service.framework_of(criterion), _year_arg(), f"#criterion-{criterion.id}"), 303)


@bp.get("/items")
@require("framework.manage")
def items_page():
    return redirect(url_for("frameworks.index"), 303)


@bp.get("/items/<int:item_id>")
@bp.get("/items/<int:item_id>/active")
@require("framework.manage")
def item_page(item_id: int):
    item = service.get_item(item_id)
    framework = service.framework_of(service.get_criterion(item.criterion_id))
    return redirect(_editor_url(framework, _year_arg(), f"#item-{item.id}"), 303)


@bp.get("/<code>/import")
@bp.get("/<code>/import/apply")
@require("framework.manage")
def import_page(code: str):
    return redirect(_editor_url(service.get_framework(code), anchor="#import"), 303)
