"""Running the campaign: years and phases, submission requests (报送), pledges (公开承诺),
brands and projects, and supervision (督察). Views parse, authorise, call one service, render."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import select

from .. import labels
from ..clock import local_today
from ..errors import Conflict
from ..extensions import db
from ..forms import BackForm, EmptyForm, run_form, validated
from ..forms import campaign as forms
from ..forms.fields import shown
from ..htmx import redirect_back, render, wants_fragment
from ..i18n import per_language, when
from ..input_guard import parse_int
from ..links import url_parts
from ..models import CampaignYear, FollowUp, Milestone, Pledge, PledgeEntry, Project, Role, Subject, SubmissionRequest
from ..models import Inspection as InspectionRecord
from ..permissions import authorize, can, require
from ..refusals import note_error
from ..services import branch_choice, intents, paging
from ..services import campaign as campaign_service
from ..services import inspections as inspection_service
from ..services import pledges as pledge_service
from ..services import projects as project_service
from ..services import submissions as submission_service

bp = Blueprint("campaign", __name__)


def _year() -> CampaignYear:
    """The year asked for (?year=2011, read-only history) or the current one."""
    asked = request.args.get("year", "")
    if parse_int(asked) is not None:
        year = db.session.scalar(select(CampaignYear).where(CampaignYear.year == parse_int(asked)))
        if year is None:
            abort(404)
        return year
    year = campaign_service.current_year()
    if year is None:
        abort(404)
    return year


def _me():
    return current_user._get_current_object()


# --- years and phases --------------------------------------------------------------------------

def _years_page(errors=None, failed_id=None, status=200, form=None, conflict=None):
    return render("campaign/years.html", years=campaign_service.list_years(), errors=errors or {},
                  failed_id=failed_id, status=status, form=shown(form), today=local_today(), conflict=conflict,
                  next_phase=campaign_service.next_phase, next_phase_defaults=campaign_service.next_phase_defaults)


@bp.get("/campaign/years")
@require("campaign.manage")
def years():
    return _years_page()


@bp.post("/campaign/years")
@require("campaign.manage")
def create_year():
    form = forms.YearForm()
    _done, refusal = run_form(form, lambda: intents.run_once(
        _me(), form.form_token.data, CampaignYear,
        lambda: campaign_service.create_year(_me(), str(form.year.data or ""), form.theme.data,
                                                 form.start.data)),
        lambda errors, status, _c: _years_page(errors, "new", status, form))
    if refusal:
        return refusal
    flash(_("The campaign year has been added."), "success")
    return redirect_back(url_for("campaign.years"))


@bp.post("/campaign/years/<int:year_id>")
@require("campaign.manage")
def update_year(year_id: int):
    year = db.session.get(CampaignYear, year_id) or abort(404)
    form = forms.year_update_form()

    def save():
        dates = {kind: (form[f"{kind}_start"].data, form[f"{kind}_end"].data) for kind in
                 (k.value for k in campaign_service.PHASE_ORDER)}
        campaign_service.update_year(_me(), year, form.theme.data, form.description.data, dates,
                                     version=form.version.data)

    _done, refusal = run_form(form, save, lambda errors, status, conflict: _years_page(
        errors, year_id, status, form, conflict), {"theme": _("Theme")})
    if refusal:
        return refusal
    flash(_("The year %(year)s has been saved.", year=year.year), "success")
    return redirect_back(url_for("campaign.years"))


@bp.post("/campaign/years/<int:year_id>/next-phase")
@require("campaign.manage")
def open_next_phase(year_id: int):
    """开启下一阶段: today's phase closes, the next opens (its dates as typed)."""
    year = db.session.get(CampaignYear, year_id) or abort(404)
    form = forms.NextPhaseForm()
    before = {p.kind: (p.starts_on, p.ends_on) for p in year.phases}
    done, refusal = run_form(form, lambda: campaign_service.open_next_phase(
        _me(), year, form.start.data, form.end.data, opens=form.opens.data, version=form.version.data),
        lambda errors, status, _c: _years_page(errors, f"next-{year_id}", status, form))
    if refusal:
        return refusal
    if done.starts_on > local_today():  # chosen to begin later: say when, not that it is open (today's goes on)
        flash(_("The phase “%(phase)s” begins on %(day)s; until then the current phase goes on.",
                phase=labels.PHASE[done.kind], day=done.starts_on.isoformat()), "success")
    else:
        flash(_("The phase “%(phase)s” is open.", phase=labels.PHASE[done.kind]), "success")
    moved = [_("“%(phase)s” now runs from %(start)s to %(end)s.", phase=labels.PHASE[p.kind],
               start=p.starts_on.isoformat(), end=p.ends_on.isoformat())
             for p in year.phases if p.kind != done.kind and before.get(p.kind) != (p.starts_on, p.ends_on)]
    if moved:  # the other phases whose dates the opening changed: never silently
        flash(" ".join(str(line) for line in moved), "info")
    return redirect_back(url_for("campaign.years"))


@bp.post("/campaign/years/<int:year_id>/current")
@require("campaign.manage")
def make_current(year_id: int):
    year = db.session.get(CampaignYear, year_id) or abort(404)
    if validated(forms.MakeCurrentForm()).confirm.data != "1":
        # Everybody's work moves to that year: asked first, saying what happens and how to switch back.
        return _years_page(failed_id=f"current-{year_id}", status=409)
    campaign_service.make_current(_me(), year)
    flash(_("%(year)s is now the current campaign year.", year=year.year), "success")
    return redirect_back(url_for("campaign.years"))


# --- submission requests (报送) ------------------------------------------------------------------

def _submissions_page(errors=None, status=200, form=None):
    year = _year()
    me = _me()
    context = {"year": year, "errors": errors or {}, "form": shown(form)}
    if me.role == Role.SECRETARY:
        context["due"] = submission_service.due_for_branch(year, me.branch_id) if me.branch_id else []
    else:
        context["overview"] = submission_service.requests_overview(year)
        if can(me, "submission.request"):
            context["branches"] = branch_choice.choices("active")
    return render("campaign/submissions.html", status=status, **context)


@bp.get("/submissions")
@require("submission.list")
def submissions():
    return _submissions_page()


@bp.post("/submissions")
@require("submission.request")
def create_request():
    year = campaign_service.current_year()
    form = forms.RequestForm()
    done, refusal = run_form(form, lambda: intents.run_once(
        _me(), form.form_token.data, SubmissionRequest, lambda: submission_service.create_request(
            _me(), year, kind=form.kind.data, title=form.title.data, description=form.description.data,
            deadline=form.deadline.data, branch_ids=form.branches.data)),
        lambda errors, status, _c: _submissions_page(errors, status, form))
    if refusal:
        return refusal
    flash(_("The request has been sent to the branches."), "success")
    return redirect_back(url_for("campaign.request_page", request_id=done[0]))


# A grid state's badge tone (the names: templates/campaign/_states.html, kept in step).
_STATE_TONES = {"pending": "", "overdue": "badge--bad", "submitted": "badge--ok", "late": "badge--warn",
                "returned": "badge--bad", "accepted": "badge--ok"}


@per_language
def _grid_texts() -> dict:
    """The grid rows' fixed texts in the request's language, translated (and escaped) once per language."""
    names = {"pending": _("Not submitted"), "overdue": _("Overdue"), "submitted": _("Handed in"),
             "late": _("Submitted late"), "returned": _("Returned"), "accepted": _("Accepted")}
    return {
        "badges": {state: (f'\n\n<span class="badge {_STATE_TONES[state]}" data-state="{state}">'
                           f"{escape(name)}</span>") for state, name in names.items()},
        "reason": escape(_("Reason: %(reason)s")), "accept": escape(_("Accept")),
        "returning": escape(_("Reason for returning")), "return": escape(_("Return")),
        "see": escape(_("See what was handed in")), "none": escape(_("No branch matches."))}


# A decision form's requests: one at a time per row, and its button disabled while its request is in flight, so a
# double click sends one decision. (Not hx-sync's "drop": static/js/portal.js counts a row's requests when htmx
# configures them, before the sync drops one, so the dropped click would count as the row's latest and the answer of
# the first would never be shown.)
_ROW_SYNC = 'hx-sync="closest tr:queue all" hx-disable="find button"'


class GridRows:
    """Writes a request's grid rows in Python (as views/dashboard.table_rows): at 50 rows a page, the row block with
    its state badge (an include importing the states' macro) and two forms was most of the page's work. Texts
    translated and escaped once per language, one url_for per kind of link, one CSRF token; every text escaped.
    `row(r)` is what the template's former `grid_row` block wrote, `body(rows)` the table body between its tags
    (tests/web/test_list_rows.py keeps that template and compares)."""

    def __init__(self, req, list_args: dict, errors: dict | None = None, failed_id=None, conflict=None):
        self.texts = _grid_texts()
        year = campaign_service.current_year()
        self.deciding = can(_me(), "submission.decide", req) and year is not None and req.year_id == year.id
        self.errors, self.failed_id, self.conflict = errors or {}, failed_id, conflict
        self.link = [str(escape(part)) for part in url_parts("campaign.submission", "submission_id")]
        if self.deciding:
            self.accept = [str(escape(part)) for part in url_parts("campaign.accept", "submission_id", **list_args)]
            self.give_back = [str(escape(part)) for part in
                              url_parts("campaign.return_submission", "submission_id", **list_args)]
            self.csrf = f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'

    def row(self, r) -> str:
        texts, sid = self.texts, r.submission_id
        returned = (f'<br><span class="muted">{texts["reason"] % {"reason": r.return_reason}}</span>'
                    if r.state == "returned" else "")
        decide = ""
        if self.deciding and r.state in submission_service.TO_DECIDE:
            accept, give_back = f"{self.accept[0]}{sid}{self.accept[1]}", f"{self.give_back[0]}{sid}{self.give_back[1]}"
            message = self.errors.get("reason") if self.failed_id == sid else None
            invalid = error = ""
            if message:
                anchor = f"s{sid}-reason-error"
                invalid = f'aria-invalid="true" aria-describedby="{anchor}"'
                note_error(anchor, message)
                error = f'<p class="field__error" id="{anchor}">{escape(message)}</p>'
            decide = (
                f'\n      <div class="decide">'
                f'\n        <form method="post" action="{accept}"'
                f'\n              hx-post="{accept}"'
                f'\n              hx-target="#submission-{sid}" hx-swap="outerHTML" {_ROW_SYNC}>'
                f'\n          {self.csrf}<input type="hidden" name="version" value="{r.version}">'
                f'\n          <button type="submit" class="button button--small button--primary">'
                f'{texts["accept"]}</button>'
                f"\n        </form>"
                f"\n        "
                f'\n        <form method="post" action="{give_back}"'
                f'\n              hx-post="{give_back}"'
                f'\n              hx-target="#submission-{sid}" hx-swap="outerHTML" {_ROW_SYNC} '
                f'class="return-form">'
                f'\n          {self.csrf}<input type="hidden" name="version" value="{r.version}">'
                f'\n          <label class="visually-hidden" for="reason-{sid}">{texts["returning"]}</label>'
                f'\n          <input id="reason-{sid}" name="reason" maxlength="1000" '
                f'placeholder="{texts["returning"]}" {invalid}>'
                f'\n          <button type="submit" class="button button--small">{texts["return"]}</button>'
                f"\n          {error}"
                f"\n        </form>"
                f"\n      </div>"
                f"\n      ")
        stale = ""
        if self.conflict and self.failed_id == sid:
            stale = (f'<p class="field__error" role="alert">{escape(self.conflict[0])} '
                     f'<a href="{self.link[0]}{sid}{self.link[1]}">{texts["see"]}</a></p>')
        return (
            f'\n  \n  \n  \n  <tr id="submission-{sid}">'
            f'\n    <td><a href="{self.link[0]}{sid}{self.link[1]}">{escape(r.branch_name)}</a></td>'
            f'\n    <td>{texts["badges"][r.state]}\n      {returned}</td>'
            f'\n    <td>{escape(when(r.submitted_at)) if r.submitted_at else "—"}</td>'
            f"\n    <td>\n      {decide}\n      {stale}\n    </td>\n  </tr>\n  ")

    def body(self, rows) -> Markup:
        if not rows:
            return Markup(f'<tr><td colspan="4">{self.texts["none"]}</td></tr>\n  ')  # noqa: S704  # nosec B704
        return Markup("".join(f"\n  {self.row(r)}\n  " for r in rows))  # noqa: S704  # nosec B704 - escaped


@bp.get("/submissions/<int:request_id>")
@login_required
def request_page(request_id: int):
    req = submission_service.get_request(request_id)
    me = _me()
    if me.role == Role.SECRETARY:
        submission = submission_service.submission_for(req, me.branch_id)
        return redirect(url_for("campaign.submission", submission_id=submission.id))
    authorize("submission.list")
    filters = submission_service.GridFilters.parse(request.args)
    result = submission_service.grid_page(req, filters)
    return render("campaign/request.html", req=req, result=result, rows=result.rows, counts=result.counts,
                  filters=filters, grid_body=GridRows(req, filters.query_args(result.page)).body(result.rows),
                  filter_states=submission_service.GRID_FILTERS, branches=branch_choice.choices("all"))


def _submission_page(submission, errors=None, status=200, conflict=None, failed="submit", form=None):
    """The submission; `failed` says which of its forms ("submit" or "decide") the errors and the conflict
    belong to, `form` the refused form whose typed values are shown again."""
    req = submission_service.get_request(submission.request_id)
    return render("campaign/submission.html", status=status, req=req, submission=submission,
                  group=submission_service.leading_group(submission), errors=errors or {}, form=shown(form),
                  branch=project_service.get_branch(submission.branch_id), conflict=conflict, failed=failed)


@bp.get("/submission/<int:submission_id>")
@login_required
def submission(submission_id: int):
    item = submission_service.get_submission(submission_id)
    authorize("submission.view", item)
    return _submission_page(item)


@bp.post("/submission/<int:submission_id>/submit")
@login_required
def submit(submission_id: int):
    item = submission_service.get_submission(submission_id)
    authorize("submission.submit", item)
    form = forms.SubmitForm()
    _done, refusal = run_form(form, lambda: submission_service.submit(
        _me(), item, note=form.note.data, document=form.document.data,
        group=(form.group_role.data, form.group_name.data, form.group_post.data), version=form.version.data),
        lambda errors, status, conflict: _submission_page(item, errors, status, conflict, form=form),
        {"note": _("Note")})
    if refusal:
        return refusal
    if item.is_late:
        flash(_("Submitted after the deadline: it is accepted but marked late."), "warning")
    else:
        flash(_("Submitted. The organisation section will check it."), "success")
    return redirect_back(url_for("campaign.submission", submission_id=item.id))


OOB = Markup(' hx-swap-oob="true"')  # an element of a page sent again out of band (templates/campaign/request.html)


def _decided(item, errors=None, status=200, conflict=None):
    """After accept/return: the grid row for htmx (or, when the decision took it out of the list's state filter, no
    row and the row that now ends the page: page 2 then starts where it should; the table's "no branch matches" when
    it was the page's last row), with the counts out of band; when the page it was on is gone, a 204 whose
    HX-Redirect leads htmx to the list's last page (a redirect status would be followed by the browser's fetch
    itself, and htmx would swap that whole page into the table). Else back to the grid's page the decision was sent
    from (its filters and page are the post's query string). Refused: the row (htmx) or the submission's page with
    the errors, or with the branch's newer note and document beside the decision. A decision refused because the
    submission is no longer handed in (decided in another tab) is `settled`: its row as it is now, with the
    refusal, or, when that state is out of the filter, handled as a decision that left it."""
    filters = submission_service.GridFilters.parse(request.args)  # the page of the grid the row was on
    if wants_fragment():
        req = submission_service.get_request(item.request_id)
        rows = GridRows(req, filters.query_args(filters.page), errors, item.id if status != 200 else None, conflict)
        row = submission_service.grid_row(item)
        settled = status == 200 or row.state not in submission_service.TO_DECIDE
        if settled and filters.state and row.state not in filters.states:
            # The row left the filtered list: the page as it is now (its last row is the one the list moved up).
            result = submission_service.grid_page(req, filters)
            if result.page != filters.page:  # its page emptied: the list's last page now, whole
                response = make_response("", 204)
                response.headers["HX-Redirect"] = url_for("campaign.request_page", request_id=req.id,
                                                          **filters.query_args(result.page))
                return response
            full = len(result.rows) == result.window.per_page
            appended = rows.row(result.rows[-1]) if full else rows.body([]) if not result.rows else ""
            return render("campaign/request.html", block="grid_left", req=req, result=result, rows=result.rows,
                          counts=result.counts, filters=filters, filter_states=submission_service.GRID_FILTERS, oob=OOB,
                          decided=item.id, appended=Markup(appended))  # noqa: S704  # nosec B704 - escaped
        return render("campaign/request.html", block="grid_update", status=status, req=req,
                      counts=submission_service.grid_counts(req), filters=filters,
                      filter_states=submission_service.GRID_FILTERS, oob=OOB,
                      grid_row=Markup(rows.row(row)))  # noqa: S704  # nosec B704
    if status != 200:
        return _submission_page(item, errors, status, conflict, failed="decide")
    return redirect_back(url_for("campaign.request_page", request_id=item.request_id,
                                 **filters.query_args(filters.page)))


_DECISION_SHOWN = {"note": _l("Note"), "document_name": _l("Document")}


def _decide(item, form, call):
    """Run a decision's form (accept or return) and answer with `_decided`. A Conflict without the saved values
    (services/submissions._decide: not handed in any more, decided elsewhere) is, for htmx, the row as it is now;
    a plain post keeps the error page."""
    try:
        _done, refusal = run_form(form, call, lambda errors, status, conflict: _decided(item, errors, status, conflict),
                                  _DECISION_SHOWN)
    except Conflict as error:
        if not wants_fragment():
            raise
        db.session.rollback()  # `item` is read again: its state now
        return _decided(item, status=409, conflict=(error.message, []))
    return refusal or _decided(item)


@bp.post("/submission/<int:submission_id>/accept")
@login_required
def accept(submission_id: int):
    item = submission_service.get_submission(submission_id)
    authorize("submission.decide", item)
    form = forms.DecisionForm()
    return _decide(item, form, lambda: submission_service.accept(_me(), item, version=form.version.data))


@bp.post("/submission/<int:submission_id>/return")
@login_required
def return_submission(submission_id: int):
    item = submission_service.get_submission(submission_id)
    authorize("submission.decide", item)
    form = forms.SubmissionReturnForm()
    return _decide(item, form, lambda: submission_service.return_for_revision(
        _me(), item, form.reason.data, version=form.version.data))


@bp.get("/submission/<int:submission_id>/document")
@login_required
def submission_document(submission_id: int):
    item = submission_service.get_submission(submission_id)
    authorize("submission.view", item)
    return submission_service.serve_document(item)


# --- pledges (公开承诺) --------------------------------------------------------------------------

def _page_asked(name: str = "page") -> int:
    """A list's page number from the query string: 1 when it is missing or not a page number (the service clamps
    the rest: paging.window)."""
    return paging.requested_page(request.args.get(name))


def _pledges_page(errors=None, status=200, failed=None, form=None):
    year = _year()
    me = _me()
    # The organisation section, the leaders and the editors read the district's pledges, filtered by branch; the
    # others their own branch's.
    district = me.role in (Role.ADMIN, Role.LEADER, Role.EDITOR)
    filters = branch_choice.BranchFilter.parse(request.args) if district else branch_choice.BranchFilter()
    mine = pledge_service.mine(me, year)
    awaiting = pledge_service.awaiting_page(me, year, filters, _page_asked("waiting_page"))
    published = pledge_service.published_page(
        year, filters if district else branch_choice.BranchFilter(me.branch_id), _page_asked())
    ids = [p.id for p, _b, _m in mine + awaiting.rows + published.rows]
    return render("campaign/pledges.html", status=status, year=year, mine=mine, awaiting=awaiting,
                  published=published, filters=filters if district else None,
                  branches=branch_choice.choices("active") if district else None,
                  tags=pledge_service.tags_for(ids), errors=errors or {}, failed=failed,
                  form=shown(form), branch_items=_items_if(me, year, "pledge.create_branch", Subject.BRANCH),
                  member_items=_items_if(me, year, "pledge.create_member", Subject.MEMBER))


def _items_if(me, year, action: str, subject: Subject) -> list:
    """The items a new pledge may be tagged with, when the page shows the form that writes one (the current year,
    a person of a branch who may write it: templates/campaign/pledges.html); else none are read."""
    return pledge_service.items_for(subject, year) if year.is_current and me.branch_id and can(me, action) else []


@bp.get("/pledges")
@require("pledge.list")
def pledges():
    return _pledges_page()


@bp.post("/pledges")
@login_required
def create_pledge():
    form = forms.PledgeCreateForm()
    for_branch = form["for"].data == "branch"
    authorize("pledge.create_branch" if for_branch else "pledge.create_member")
    done, refusal = run_form(form, lambda: intents.run_once(_me(), form.form_token.data, Pledge, lambda: (
        pledge_service.create(_me(), campaign_service.current_year(), for_branch=for_branch, text=form.text.data,
                              item_ids=form.items.data))),
        lambda errors, status, _c: _pledges_page(errors, status, failed="branch" if for_branch else "member",
                                                   form=form))
    if refusal:
        return refusal
    flash(_("The pledge is saved as a draft. Send it for approval when it is ready."), "success")
    return redirect_back(url_for("campaign.pledge", pledge_id=done[0]))


def _pledge_or_404(pledge_id: int) -> Pledge:
    return pledge_service.get(pledge_id)


def _pledge_page(pledge, errors=None, status=200, failed=None, conflict=None, form=None):
    year = db.session.get(CampaignYear, pledge.year_id)
    subject = Subject.MEMBER if pledge.member_id else Subject.BRANCH
    return render("campaign/pledge.html", status=status, pledge=pledge, year=year,
                  branch=project_service.get_branch(pledge.branch_id), member=pledge_service.member_of(pledge),
                  tags=pledge_service.tags_for([pledge.id])[pledge.id], chosen=set(pledge_service.tags(pledge.id)),
                  entries=pledge_service.entries_for([pledge.id])[pledge.id],
                  items=pledge_service.items_for(subject, year), errors=errors or {}, failed=failed,
                  form=shown(form), conflict=conflict)


@bp.get("/pledges/<int:pledge_id>")
@login_required
def pledge(pledge_id: int):
    item = _pledge_or_404(pledge_id)
    authorize("pledge.view", item)
    return _pledge_page(item)


def _pledge_action(pledge_id: int, action: str, call, failed: str, done_message: str, form_class=EmptyForm,
                   conflict_labels=None, form_for=None):
    """Authorise, read the form, call the service with (pledge, form), answer: 422 beside the fields, or
    409 with the saved text beside the person's own when `conflict_labels` are given. `form_for(pledge)`
    builds a form bound to the pledge (its dates), instead of `form_class()`."""
    item = _pledge_or_404(pledge_id)
    authorize(action, item)
    form = form_for(item) if form_for is not None else form_class()
    _done, refusal = run_form(form, lambda: call(item, form), lambda errors, status, conflict: _pledge_page(
        item, errors, status, failed=failed, conflict=conflict, form=form), conflict_labels)
    if refusal:
        return refusal
    flash(done_message, "success")
    # Back to the list the button was on (its filter and pages kept), or to the pledge.
    back, listing = BackForm().back.data or "", url_for("campaign.pledges")
    return redirect_back(back if back == listing or back.startswith((listing + "?", listing + "#"))
                         else url_for("campaign.pledge", pledge_id=item.id))


@bp.post("/pledges/<int:pledge_id>")
@login_required
def update_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.edit", lambda p, f: pledge_service.update(
        _me(), p, text=f.text.data, item_ids=f.items.data, version=f.version.data), "edit",
        _("The pledge has been saved."), forms.PledgeForm, {"text": _("Pledge")})


@bp.post("/pledges/<int:pledge_id>/submit")
@login_required
def submit_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.edit", lambda p, _f: pledge_service.submit(_me(), p), "edit",
                          _("The pledge has been sent for approval."))


@bp.post("/pledges/<int:pledge_id>/approve")
@login_required
def approve_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.approve", lambda p, _f: pledge_service.approve(_me(), p), "decide",
                          _("The pledge is approved and published."))


@bp.post("/pledges/<int:pledge_id>/return")
@login_required
def return_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.approve", lambda p, f: pledge_service.return_for_revision(
        _me(), p, f.reason.data), "decide", _("The pledge has been returned for revision."), forms.ReasonForm)


@bp.post("/pledges/<int:pledge_id>/entries")
@login_required
def add_pledge_entry(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.edit", lambda p, f: intents.run_once(
        _me(), f.form_token.data, PledgeEntry, lambda: pledge_service.add_entry(
            _me(), p, text=f.text.data, happened_on=f.happened_on.data)), "entry",
        _("The fulfilment entry has been logged."), form_for=forms.pledge_entry_form)


@bp.post("/pledges/<int:pledge_id>/evaluate")
@login_required
def evaluate_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.approve", lambda p, f: pledge_service.evaluate(
        _me(), p, rating=f.rating.data, comment=f.comment.data), "evaluate",
        _("The review of how the pledge was kept has been saved."), forms.PledgeReviewForm)


# --- brands and projects ------------------------------------------------------------------------

@bp.get("/brands")
@require("brand.view")
def brands():
    year = _year()
    filters = branch_choice.BranchFilter.parse(request.args)
    return render("campaign/brands.html", year=year, listing=project_service.brands(year, filters, _page_asked()),
                  filters=filters, branches=branch_choice.choices("active"))


def _brand_page(branch, errors=None, status=200, failed=None, conflict=None, form=None):
    year = _year()
    projects = project_service.branch_projects(branch.id, year)
    published = pledge_service.published(year, branch.id)
    return render("campaign/brand.html", status=status, year=year, branch=branch, projects=projects,
                  progress_of=project_service.progress_of, published=published,
                  tags=pledge_service.tags_for([p.id for p, _b, _m in published]),
                  errors=errors or {}, failed=failed, form=shown(form), conflict=conflict)


@bp.get("/brands/<int:branch_id>")
@require("brand.view")
def brand(branch_id: int):
    return _brand_page(project_service.get_branch(branch_id))


@bp.post("/brands/<int:branch_id>")
@login_required
def update_brand(branch_id: int):
    branch = project_service.get_branch(branch_id)
    authorize("brand.edit", branch)
    form = forms.BrandForm()
    _done, refusal = run_form(form, lambda: project_service.update_brand(
        _me(), branch, name=form.brand_name.data, slogan=form.brand_slogan.data,
        description=form.brand_description.data, version=form.version.data),
        lambda errors, status, conflict: _brand_page(branch, errors, status, failed="brand", conflict=conflict,
                                                     form=form),
        {"brand_name": _("Brand name"), "brand_slogan": _("Slogan"), "brand_description": _("Story")})
    if refusal:
        return refusal
    flash(_("The brand has been saved."), "success")
    return redirect_back(url_for("campaign.brand", branch_id=branch.id))


@bp.post("/brands/<int:branch_id>/projects")
@login_required
def create_project(branch_id: int):
    branch = project_service.get_branch(branch_id)
    authorize("project.edit", branch)
    form = forms.ProjectForm()
    _done, refusal = run_form(form, lambda: intents.run_once(
        _me(), form.form_token.data, Project, lambda: project_service.create_project(
            _me(), branch, campaign_service.current_year(), title=form.title.data, goal=form.goal.data)),
        lambda errors, status, _c: _brand_page(branch, errors, status, failed="project", form=form))
    if refusal:
        return refusal
    flash(_("The project has been added. Now give it measurable milestones."), "success")
    return redirect_back(url_for("campaign.brand", branch_id=branch.id))


@bp.post("/projects/<int:project_id>")
@login_required
def update_project(project_id: int):
    project = project_service.get_project(project_id)
    authorize("project.edit", project)
    form = forms.ProjectEditForm()
    branch = project_service.get_branch(project.branch_id)
    _done, refusal = run_form(form, lambda: project_service.update_project(
        _me(), project, title=form.title.data, goal=form.goal.data, version=form.version.data),
        lambda errors, status, conflict: _brand_page(branch, errors, status, failed=f"edit-{project.id}",
                                                     conflict=conflict, form=form),
        {"title": _("Title"), "goal": _("Goal and measurable targets")})
    if refusal:
        return refusal
    flash(_("The project has been saved."), "success")
    return redirect_back(url_for("campaign.brand", branch_id=project.branch_id))


@bp.post("/projects/<int:project_id>/milestones")
@login_required
def add_milestone(project_id: int):
    project = project_service.get_project(project_id)
    authorize("project.edit", project)
    form = forms.milestone_form(project)
    _done, refusal = run_form(form, lambda: intents.run_once(
        _me(), form.form_token.data, Milestone, lambda: project_service.add_milestone(
            _me(), project, title=form.title.data, measure=form.measure.data, due_on=form.due_on.data)),
        lambda errors, status, _c: _brand_page(project_service.get_branch(project.branch_id), errors, status,
                                               failed=f"project-{project.id}", form=form))
    if refusal:
        return refusal
    flash(_("The milestone has been added."), "success")
    return redirect_back(url_for("campaign.brand", branch_id=project.branch_id))


@bp.post("/milestones/<int:milestone_id>")
@login_required
def update_milestone(milestone_id: int):
    milestone = project_service.get_milestone(milestone_id)
    project = project_service.get_project(milestone.project_id)
    authorize("project.edit", project)
    form = forms.MilestoneDoneForm()

    def row(errors=None, status=200, conflict=None):
        return render("campaign/brand.html", block="milestone_row", status=status, m=milestone, project=project,
                      branch=project_service.get_branch(project.branch_id), errors=errors or {},
                      failed=f"milestone-{milestone.id}" if status != 200 else None,
                      year=db.session.get(CampaignYear, project.year_id), form=shown(form), conflict=conflict)

    def refused(errors, status, conflict):
        if wants_fragment():
            return row(errors, status, conflict)
        return _brand_page(project_service.get_branch(project.branch_id), errors, status,
                           failed=f"milestone-{milestone.id}", conflict=conflict, form=form)

    _done, refusal = run_form(form, lambda: project_service.set_milestone(
        _me(), milestone, done=form.done.data == "1", evidence=form.evidence.data, version=form.version.data),
        refused, {"evidence": _("Evidence")})
    if refusal:
        return refusal
    if wants_fragment():
        return _milestone_changed(milestone, project)
    return redirect_back(url_for("campaign.brand", branch_id=project.branch_id))


def _milestone_changed(milestone, project):
    """The milestone's row and, with it, its project's progress bar (an htmx partial)."""
    from jinja2_fragments.flask import render_block
    from markupsafe import Markup

    year = db.session.get(CampaignYear, project.year_id)
    row = render_block("campaign/brand.html", "milestone_row", m=milestone, project=project,
                       branch=project_service.get_branch(project.branch_id), errors={}, failed=None, year=year,
                       form=shown(), conflict=None)
    milestones = next(ms for p, ms in project_service.branch_projects(project.branch_id, year) if p.id == project.id)
    return render("campaign/_milestone_changed.html", row_html=Markup(row), project=project,  # noqa: S704  # nosec B704 - rendered by Jinja
                  progress=project_service.progress_of(milestones))


# --- supervision (督察) --------------------------------------------------------------------------

def _inspections_page(errors=None, status=200, form=None):
    year = _year()
    listed = inspection_service.list_for(year)
    return render("campaign/inspections.html", status=status, year=year, listed=listed,
                  branches_of=inspection_service.branches_of([i.id for i, _o, _d in listed]),
                  overdue=inspection_service.overdue_follow_ups(year),
                  branches=branch_choice.choices("active"), errors=errors or {}, form=shown(form))


@bp.get("/inspections")
@require("inspection.view")
def inspections():
    return _inspections_page()


@bp.post("/inspections")
@require("inspection.manage")
def create_inspection():
    form = forms.InspectionForm()
    done, refusal = run_form(form, lambda: intents.run_once(
        _me(), form.form_token.data, InspectionRecord, lambda: inspection_service.create(
            _me(), campaign_service.current_year(), kind=form.kind.data, held_on=form.held_on.data,
            title=form.title.data, findings=form.findings.data, branch_ids=form.branches.data)),
        lambda errors, status, _c: _inspections_page(errors, status, form))
    if refusal:
        return refusal
    flash(_("The visit has been recorded. Add its follow-up actions."), "success")
    return redirect_back(url_for("campaign.inspection", inspection_id=done[0]))


def _inspection_page(inspection, errors=None, status=200, failed=None, conflict=None, form=None):
    return render("campaign/inspection.html", status=status, inspection=inspection, failed=failed,
                  conflict=conflict,
                  year=db.session.get(CampaignYear, inspection.year_id),
                  visited=inspection_service.branches_of([inspection.id])[inspection.id],
                  follow_ups=inspection_service.follow_ups(inspection), errors=errors or {}, form=shown(form),
                  today=local_today())


@bp.get("/inspections/<int:inspection_id>")
@require("inspection.view")
def inspection(inspection_id: int):
    return _inspection_page(inspection_service.get(inspection_id))


@bp.post("/inspections/<int:inspection_id>")
@require("inspection.manage")
def update_inspection(inspection_id: int):
    item = inspection_service.get(inspection_id)
    form = forms.InspectionEditForm()
    _done, refusal = run_form(form, lambda: inspection_service.update(
        _me(), item, title=form.title.data, findings=form.findings.data, version=form.version.data),
        lambda errors, status, conflict: _inspection_page(item, errors, status, failed="edit", conflict=conflict,
                                                         form=form),
        {"title": _("Title"), "findings": _("Findings")})
    if refusal:
        return refusal
    flash(_("The visit has been saved."), "success")
    return redirect_back(url_for("campaign.inspection", inspection_id=item.id))


@bp.post("/inspections/<int:inspection_id>/follow-ups")
@require("inspection.manage")
def add_follow_up(inspection_id: int):
    item = inspection_service.get(inspection_id)
    form = forms.follow_up_form(item.held_on)
    _done, refusal = run_form(form, lambda: intents.run_once(
        _me(), form.form_token.data, FollowUp, lambda: inspection_service.add_follow_up(
            _me(), item, branch_id=str(form.branch_id.data or ""), action=form.action.data, owner=form.owner.data,
            due_on=form.due_on.data)),
        lambda errors, status, _c: _inspection_page(item, errors, status, form=form))
    if refusal:
        return refusal
    flash(_("The follow-up action has been added."), "success")
    return redirect_back(url_for("campaign.inspection", inspection_id=item.id))


@bp.post("/follow-ups/<int:follow_up_id>/status")
@require("inspection.manage")
def follow_up_status(follow_up_id: int):
    follow_up = inspection_service.get_follow_up(follow_up_id)
    item = inspection_service.get(follow_up.inspection_id)
    form = forms.FollowUpStatusForm()

    def refused(errors, status, conflict):  # a stale click shows the status someone else saved, in words
        if wants_fragment():
            return _follow_up_row(item, follow_up, status, errors, conflict)
        return _inspection_page(item, errors, status, failed=f"follow-up-{follow_up.id}", conflict=conflict)

    _done, refusal = run_form(form, lambda: inspection_service.set_follow_up_status(
        _me(), follow_up, form.status.data or "", version=form.version.data), refused, {"status": _("Status")},
        {"status": labels.FOLLOW_UP_STATUS})
    if refusal:
        return refusal
    if wants_fragment():
        return _follow_up_row(item, follow_up)
    return redirect_back(url_for("campaign.inspection", inspection_id=follow_up.inspection_id))


def _follow_up_row(item, follow_up, status=200, errors=None, conflict=None):
    row = next(r for r in inspection_service.follow_ups(item) if r[0].id == follow_up.id)
    return render("campaign/inspection.html", block="follow_up_row", status=status, fu=row[0], branch_name=row[1],
                  inspection=item, year=db.session.get(CampaignYear, item.year_id), today=local_today(),
                  errors=errors or {}, failed=f"follow-up-{follow_up.id}" if status != 200 else None,
                  conflict=conflict)

def _follow_up_page(follow_up: FollowUp, errors=None, status=200, conflict=None):
    inspection = inspection_service.get(follow_up.inspection_id)
    return render("campaign/follow_up.html", status=status, follow_up=follow_up, inspection=inspection,
                  branch=project_service.get_branch(follow_up.branch_id) if follow_up.branch_id else None,
                  year=db.session.get(CampaignYear, inspection.year_id), errors=errors or {}, form=request.form,
                  today=local_today(), conflict=conflict)


@bp.get("/follow-ups/<int:follow_up_id>")
@login_required
def follow_up(follow_up_id: int):
    """One follow-up: leadership sees any; a secretary their own branch's, and answers it."""
    item = inspection_service.get_follow_up(follow_up_id)
    authorize("follow_up.view", item)
    return _follow_up_page(item)


@bp.post("/follow-ups/<int:follow_up_id>/answer")
@login_required
def answer_follow_up(follow_up_id: int):
    item = inspection_service.get_follow_up(follow_up_id)
    authorize("follow_up.answer", item)
    form = forms.FollowUpAnswerForm()
    _done, refusal = run_form(form, lambda: inspection_service.answer_follow_up(
        _me(), item, form.response.data, form.done.data == "1", version=form.version.data),
        lambda errors, status, conflict: _follow_up_page(item, errors, status, conflict),
        {"response": _("What the branch has done")})
    if refusal:
        return refusal
    flash(_("Your answer has been saved."), "success")
    return redirect_back(url_for("campaign.follow_up", follow_up_id=item.id))
