"""评选表彰: nominations, the public notice (公示) with its objection channel, decisions and the
honour roll. Views parse, authorise, call one service, render."""
from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import labels
from ..forms import commendation as forms
from ..forms import run_form
from ..forms.fields import shown
from ..htmx import redirect_back, render
from ..input_guard import parse_int
from ..models import Nomination, Objection, Role
from ..permissions import authorize, can, require
from ..services import commendation as service
from ..services import intents, uploads
from ..services.campaign import current_year

bp = Blueprint("commendation", __name__)


def _me():
    return current_user._get_current_object()


def _index_page(errors=None, status=200, form=None):
    me = _me()
    year = current_year()
    context = {"year": year, "notices": service.notices(), "errors": errors or {}, "form": shown(form),
               "mine": [], "pipeline": None, "nominees": []}
    if year is not None and me.role == Role.SECRETARY and me.branch_id:
        context["mine"] = service.for_branch(me.branch_id, year)
        context["nominees"] = service.nominee_options(me)
    if year is not None and me.role in (Role.LEADER, Role.ADMIN, Role.EDITOR):
        context["pipeline"] = service.pipeline(year)
    return render("commendation/index.html", status=status, **context)


@bp.get("/commendation")
@require("home.view")
def index():
    return _index_page()


@bp.post("/commendation/nominations")
@require("nomination.create")
def nominate():
    form = forms.NominationForm()
    done, refusal = run_form(form, lambda: intents.run_once(_me(), form.form_token.data, Nomination, lambda: (
        service.nominate(_me(), current_year(), str(form.member_id.data or ""), form.deeds.data, form.files.data))),
        lambda errors, status, _c: _index_page(errors, status, form))
    if refusal:
        return refusal
    flash(_("The nomination has been sent to the leading group."), "success")
    return redirect_back(url_for("commendation.nomination", nomination_id=done[0]))


def _nomination_page(nomination, errors=None, status=200, form=None, conflict=None):
    """The nomination; after a refused form, its errors beside the fields and what was typed; after a
    decision on a stale page (409), the saved status and decision note beside it (`conflict`)."""
    show_objections = can(_me(), "objection.view", nomination)
    return render("commendation/nomination.html", status=status, row=service.row_for(nomination),
                  attachments=service.attachments(nomination),
                  objections=service.objections(nomination) if show_objections else [],
                  notice_running=service.notice_running(nomination), notice_over=service.notice_over(nomination),
                  errors=errors or {}, form=shown(form), conflict=conflict)


@bp.get("/commendation/nominations/<int:nomination_id>")
@login_required
def nomination(nomination_id: int):
    item = service.get_nomination(nomination_id)
    authorize("nomination.view", item)
    return _nomination_page(item)


@bp.get("/commendation/nominations/<int:nomination_id>/files/<int:attachment_id>")
@login_required
def attachment(nomination_id: int, attachment_id: int):
    item = service.get_nomination(nomination_id)
    authorize("nomination.view", item)
    file = service.get_attachment(item, attachment_id)
    return uploads.serve(service.ATTACHMENT_KIND, file.stored_name, file.original_name, file.content_type)


_DECISION_SHOWN = {"status": _l("Status"), "decision_note": _l("Decision note")}


def _decide(nomination_id: int, form_class, call, done_message: str):
    """A decision of the leading group: read `form_class`, call `call(item, form)`, answer 422 beside the
    fields, 409 with the saved status and note when the nomination changed since the page was loaded, or a
    flash and back to the nomination."""
    item = service.get_nomination(nomination_id)
    form = form_class()

    _done, refusal = run_form(form, lambda: call(item, form), lambda errors, status, conflict: _nomination_page(
        item, errors, status, form, conflict), _DECISION_SHOWN, {"status": labels.NOMINATION_STATUS})
    if refusal:
        return refusal
    flash(done_message, "success")
    return redirect_back(url_for("commendation.nomination", nomination_id=item.id))


@bp.post("/commendation/nominations/<int:nomination_id>/shortlist")
@require("nomination.decide")
def shortlist(nomination_id: int):
    return _decide(nomination_id, forms.DecisionForm, lambda item, form: service.shortlist(
        _me(), item, version=form.version.data), _("Shortlisted."))


@bp.post("/commendation/nominations/<int:nomination_id>/notice")
@require("nomination.decide")
def start_notice(nomination_id: int):
    return _decide(nomination_id, forms.NoticeForm, lambda item, form: service.start_notice(
        _me(), item, str(form.days.data), version=form.version.data), _("The public notice has started."))


@bp.post("/commendation/nominations/<int:nomination_id>/commend")
@require("nomination.decide")
def commend(nomination_id: int):
    return _decide(nomination_id, forms.CommendForm, lambda item, form: service.commend(
        _me(), item, form.level.data, form.note.data, version=form.version.data),
        _("Commended: the exemplar is on the honour roll."))


@bp.post("/commendation/nominations/<int:nomination_id>/reject")
@require("nomination.decide")
def reject(nomination_id: int):
    return _decide(nomination_id, forms.NoteForm, lambda item, form: service.reject(
        _me(), item, form.note.data, version=form.version.data),
        _("The nomination has been closed without commendation."))


@bp.post("/commendation/nominations/<int:nomination_id>/objections")
@login_required
def object_to(nomination_id: int):
    item = service.get_nomination(nomination_id)
    authorize("objection.create", item)
    authorize("nomination.view", item)
    form = forms.ObjectionForm()
    _done, refusal = run_form(form, lambda: intents.run_once(
        _me(), form.form_token.data, Objection, lambda: service.object_to(_me(), item, form.text.data)),
        lambda errors, status, _c: _nomination_page(item, errors, status, form))
    if refusal:
        return refusal
    flash(_("Your objection has been sent to the leading group, and only to them."), "success")
    return redirect_back(url_for("commendation.nomination", nomination_id=item.id))


@bp.post("/commendation/nominations/<int:nomination_id>/feature")
@login_required
def feature(nomination_id: int):
    item = service.get_nomination(nomination_id)
    authorize("nomination.feature", item)
    post = service.feature(_me(), item)
    flash(_("The featured post is published on the board."), "success")
    return redirect_back(url_for("news.post", post_id=post.id))


@bp.get("/commendation/honours")
@require("honours.view")
def honours():
    year = request.args.get("year", "")
    level = request.args.get("level", "")
    year_no = parse_int(year, low=1000, high=9999)
    return render("commendation/honours.html", groups=service.honour_roll(year_no, level),
                  years=service.honour_years(), chosen_year=year_no, chosen_level=level)
