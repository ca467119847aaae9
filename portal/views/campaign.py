"""Running the campaign: years and phases, submission requests (报送), pledges (公开承诺),
brands and projects, and supervision (督察). Views parse, authorise, call one service, render."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import Invalid
from ..extensions import db
from ..htmx import redirect_back, render, wants_fragment
from ..models import CampaignYear, Pledge, Role, Subject
from ..permissions import authorize, can, require
from ..services import campaign as campaign_service
from ..services import inspections as inspection_service
from ..services import pledges as pledge_service
from ..services import projects as project_service
from ..services import submissions as submission_service
from ..services import users as user_service

bp = Blueprint("campaign", __name__)


def _year() -> CampaignYear:
    """The year asked for (?year=2011, read-only history) or the current one."""
    asked = request.args.get("year", "")
    if asked.isdigit():
        year = db.session.scalar(select(CampaignYear).where(CampaignYear.year == int(asked)))
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

@bp.get("/campaign/years")
@require("campaign.manage")
def years():
    return render("campaign/years.html", years=campaign_service.list_years(), errors={}, failed_id=None)


@bp.post("/campaign/years")
@require("campaign.manage")
def create_year():
    try:
        campaign_service.create_year(_me(), request.form.get("year"), request.form.get("theme"))
    except Invalid as error:
        return render("campaign/years.html", years=campaign_service.list_years(), errors=error.field_errors,
                      failed_id="new", status=422)
    flash(_("The campaign year has been added."), "success")
    return redirect_back(url_for("campaign.years"))


@bp.post("/campaign/years/<int:year_id>")
@require("campaign.manage")
def update_year(year_id: int):
    year = db.session.get(CampaignYear, year_id) or abort(404)
    form = request.form
    dates = {kind: (form.get(f"{kind}_start"), form.get(f"{kind}_end")) for kind in
             (k.value for k in campaign_service.PHASE_ORDER)}
    try:
        campaign_service.update_year(_me(), year, form.get("theme"), form.get("description"), dates)
    except Invalid as error:
        db.session.rollback()
        return render("campaign/years.html", years=campaign_service.list_years(), errors=error.field_errors,
                      failed_id=year_id, status=422)
    flash(_("The year %(year)s has been saved.", year=year.year), "success")
    return redirect_back(url_for("campaign.years"))


@bp.post("/campaign/years/<int:year_id>/current")
@require("campaign.manage")
def make_current(year_id: int):
    year = db.session.get(CampaignYear, year_id) or abort(404)
    campaign_service.make_current(_me(), year)
    flash(_("%(year)s is now the current campaign year.", year=year.year), "success")
    return redirect_back(url_for("campaign.years"))


# --- submission requests (报送) ------------------------------------------------------------------

def _submissions_page(errors=None, status=200):
    year = _year()
    me = _me()
    context = {"year": year, "errors": errors or {}, "form": request.form}
    if me.role == Role.SECRETARY:
        context["due"] = submission_service.due_for_branch(year, me.branch_id) if me.branch_id else []
    else:
        context["overview"] = submission_service.requests_overview(year)
        if can(me, "submission.request"):
            context["branches"] = user_service.all_branches(active_only=True)
    return render("campaign/submissions.html", status=status, **context)


@bp.get("/submissions")
@require("submission.list")
def submissions():
    return _submissions_page()


@bp.post("/submissions")
@require("submission.request")
def create_request():
    year = campaign_service.current_year()
    try:
        created = submission_service.create_request(
            _me(), year, kind=request.form.get("kind", ""), title=request.form.get("title", ""),
            description=request.form.get("description", ""), deadline=request.form.get("deadline", ""),
            branch_ids=request.form.getlist("branches"))
    except Invalid as error:
        return _submissions_page(error.field_errors, 422)
    flash(_("The request has been sent to the branches."), "success")
    return redirect_back(url_for("campaign.request_page", request_id=created.id))


@bp.get("/submissions/<int:request_id>")
@login_required
def request_page(request_id: int):
    req = submission_service.get_request(request_id)
    me = _me()
    if me.role == Role.SECRETARY:
        submission = submission_service.submission_for(req, me.branch_id)
        return redirect(url_for("campaign.submission", submission_id=submission.id))
    authorize("submission.list")
    rows = submission_service.grid(req)
    return render("campaign/request.html", req=req, rows=rows, counts=submission_service.count_states(rows),
                  errors={}, failed_id=None)


def _submission_page(submission, errors=None, status=200):
    req = submission_service.get_request(submission.request_id)
    return render("campaign/submission.html", status=status, req=req, submission=submission,
                  group=submission_service.leading_group(submission), errors=errors or {}, form=request.form,
                  branch=project_service.get_branch(submission.branch_id))


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
    form = request.form
    try:
        submission_service.submit(_me(), item, note=form.get("note", ""), document=request.files.get("document"),
                                  group=(form.getlist("group_role"), form.getlist("group_name"),
                                         form.getlist("group_post")))
    except Invalid as error:
        db.session.rollback()
        return _submission_page(item, error.field_errors, 422)
    if item.is_late:
        flash(_("Submitted after the deadline: it is accepted but marked late."), "warning")
    else:
        flash(_("Submitted. The organisation section will check it."), "success")
    return redirect_back(url_for("campaign.submission", submission_id=item.id))


def _decided(item, errors=None, status=200):
    """After accept/return: the grid row for htmx, else back to the grid."""
    if wants_fragment():
        req = submission_service.get_request(item.request_id)
        rows = submission_service.grid(req)
        return render("campaign/request.html", block="grid_update", status=status, req=req, rows=rows,
                      counts=submission_service.count_states(rows),
                      row=next(r for r in rows if r.submission_id == item.id), errors=errors or {},
                      failed_id=item.id if errors else None)
    if errors:
        return _submission_page(item, errors, status)
    return redirect_back(url_for("campaign.request_page", request_id=item.request_id))


@bp.post("/submission/<int:submission_id>/accept")
@login_required
def accept(submission_id: int):
    item = submission_service.get_submission(submission_id)
    authorize("submission.request", item)
    submission_service.accept(_me(), item)
    return _decided(item)


@bp.post("/submission/<int:submission_id>/return")
@login_required
def return_submission(submission_id: int):
    item = submission_service.get_submission(submission_id)
    authorize("submission.request", item)
    try:
        submission_service.return_for_revision(_me(), item, request.form.get("reason", ""))
    except Invalid as error:
        return _decided(item, error.field_errors, 422)
    return _decided(item)


@bp.get("/submission/<int:submission_id>/document")
@login_required
def submission_document(submission_id: int):
    item = submission_service.get_submission(submission_id)
    authorize("submission.view", item)
    return submission_service.serve_document(item)


# --- pledges (公开承诺) --------------------------------------------------------------------------

def _pledges_page(errors=None, status=200, failed=None):
    year = _year()
    me = _me()
    mine = pledge_service.mine(me, year)
    awaiting = pledge_service.awaiting(me, year)
    published = pledge_service.published(year, None if me.role in (Role.ADMIN, Role.LEADER, Role.EDITOR)
                                         else me.branch_id)
    ids = [p.id for p, _b, _m in mine + awaiting + published]
    return render("campaign/pledges.html", status=status, year=year, mine=mine, awaiting=awaiting,
                  published=published, tags=pledge_service.tags_for(ids), errors=errors or {}, failed=failed,
                  form=request.form, branch_items=pledge_service.items_for(Subject.BRANCH, year),
                  member_items=pledge_service.items_for(Subject.MEMBER, year))


@bp.get("/pledges")
@require("pledge.list")
def pledges():
    return _pledges_page()


@bp.post("/pledges")
@login_required
def create_pledge():
    for_branch = request.form.get("for") == "branch"
    authorize("pledge.create_branch" if for_branch else "pledge.create_member")
    try:
        pledge = pledge_service.create(_me(), campaign_service.current_year(), for_branch=for_branch,
                                       text=request.form.get("text", ""), item_ids=request.form.getlist("items"))
    except Invalid as error:
        return _pledges_page(error.field_errors, 422, failed="branch" if for_branch else "member")
    flash(_("The pledge is saved as a draft. Send it for approval when it is ready."), "success")
    return redirect_back(url_for("campaign.pledge", pledge_id=pledge.id))


def _pledge_or_404(pledge_id: int) -> Pledge:
    return pledge_service.get(pledge_id)


def _pledge_page(pledge, errors=None, status=200, failed=None):
    year = db.session.get(CampaignYear, pledge.year_id)
    subject = Subject.MEMBER if pledge.member_id else Subject.BRANCH
    return render("campaign/pledge.html", status=status, pledge=pledge, year=year,
                  branch=project_service.get_branch(pledge.branch_id), member=pledge_service.member_of(pledge),
                  tags=pledge_service.tags_for([pledge.id])[pledge.id], chosen=set(pledge_service.tags(pledge.id)),
                  entries=pledge_service.entries_for([pledge.id])[pledge.id],
                  items=pledge_service.items_for(subject, year), errors=errors or {}, failed=failed,
                  form=request.form)


@bp.get("/pledges/<int:pledge_id>")
@login_required
def pledge(pledge_id: int):
    item = _pledge_or_404(pledge_id)
    authorize("pledge.view", item)
    return _pledge_page(item)


def _pledge_action(pledge_id: int, action: str, call, failed: str, done_message: str):
    item = _pledge_or_404(pledge_id)
    authorize(action, item)
    try:
        call(item)
    except Invalid as error:
        db.session.rollback()
        return _pledge_page(item, error.field_errors, 422, failed=failed)
    flash(done_message, "success")
    return redirect_back(request.form.get("back") if request.form.get("back") == url_for("campaign.pledges")
                         else url_for("campaign.pledge", pledge_id=item.id))


@bp.post("/pledges/<int:pledge_id>")
@login_required
def update_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.edit", lambda p: pledge_service.update(
        _me(), p, text=request.form.get("text", ""), item_ids=request.form.getlist("items")), "edit",
        _("The pledge has been saved."))


@bp.post("/pledges/<int:pledge_id>/submit")
@login_required
def submit_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.edit", lambda p: pledge_service.submit(_me(), p), "edit",
                          _("The pledge has been sent for approval."))


@bp.post("/pledges/<int:pledge_id>/approve")
@login_required
def approve_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.approve", lambda p: pledge_service.approve(_me(), p), "decide",
                          _("The pledge is approved and published."))


@bp.post("/pledges/<int:pledge_id>/return")
@login_required
def return_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.approve", lambda p: pledge_service.return_for_revision(
        _me(), p, request.form.get("reason", "")), "decide", _("The pledge has been returned for revision."))


@bp.post("/pledges/<int:pledge_id>/entries")
@login_required
def add_pledge_entry(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.edit", lambda p: pledge_service.add_entry(
        _me(), p, text=request.form.get("text", ""), happened_on=request.form.get("happened_on", "")), "entry",
        _("The fulfilment entry has been logged."))


@bp.post("/pledges/<int:pledge_id>/evaluate")
@login_required
def evaluate_pledge(pledge_id: int):
    return _pledge_action(pledge_id, "pledge.approve", lambda p: pledge_service.evaluate(
        _me(), p, rating=request.form.get("rating", ""), comment=request.form.get("comment", "")), "evaluate",
        _("The review of how the pledge was kept has been saved."))


# --- brands and projects ------------------------------------------------------------------------

@bp.get("/brands")
@require("brand.view")
def brands():
    year = _year()
    return render("campaign/brands.html", year=year, rows=project_service.brands(year))


def _brand_page(branch, errors=None, status=200, failed=None):
    year = _year()
    projects = project_service.branch_projects(branch.id, year)
    published = pledge_service.published(year, branch.id)
    return render("campaign/brand.html", status=status, year=year, branch=branch, projects=projects,
                  progress_of=project_service.progress_of, published=published,
                  tags=pledge_service.tags_for([p.id for p, _b, _m in published]),
                  errors=errors or {}, failed=failed, form=request.form)


@bp.get("/brands/<int:branch_id>")
@require("brand.view")
def brand(branch_id: int):
    return _brand_page(project_service.get_branch(branch_id))


@bp.post("/brands/<int:branch_id>")
@login_required
def update_brand(branch_id: int):
    branch = project_service.get_branch(branch_id)
    authorize("brand.edit", branch)
    try:
        project_service.update_brand(_me(), branch, name=request.form.get("brand_name", ""),
                                     slogan=request.form.get("brand_slogan", ""),
                                     description=request.form.get("brand_description", ""))
    except Invalid as error:
        db.session.rollback()
        return _brand_page(branch, error.field_errors, 422, failed="brand")
    flash(_("The brand has been saved."), "success")
    return redirect_back(url_for("campaign.brand", branch_id=branch.id))


@bp.post("/brands/<int:branch_id>/projects")
@login_required
def create_project(branch_id: int):
    branch = project_service.get_branch(branch_id)
    authorize("project.edit", branch)
    try:
        project_service.create_project(_me(), branch, campaign_service.current_year(),
                                       title=request.form.get("title", ""), goal=request.form.get("goal", ""))
    except Invalid as error:
        return _brand_page(branch, error.field_errors, 422, failed="project")
    flash(_("The project has been added. Now give it measurable milestones."), "success")
    return redirect_back(url_for("campaign.brand", branch_id=branch.id))


@bp.post("/projects/<int:project_id>/milestones")
@login_required
def add_milestone(project_id: int):
    project = project_service.get_project(project_id)
    authorize("project.edit", project)
    try:
        project_service.add_milestone(_me(), project, title=request.form.get("title", ""),
                                      measure=request.form.get("measure", ""), due_on=request.form.get("due_on", ""))
    except Invalid as error:
        return _brand_page(project_service.get_branch(project.branch_id), error.field_errors, 422,
                           failed=f"project-{project.id}")
    flash(_("The milestone has been added."), "success")
    return redirect_back(url_for("campaign.brand", branch_id=project.branch_id))


@bp.post("/milestones/<int:milestone_id>")
@login_required
def update_milestone(milestone_id: int):
    milestone = project_service.get_milestone(milestone_id)
    project = project_service.get_project(milestone.project_id)
    authorize("project.edit", project)
    try:
        project_service.set_milestone(_me(), milestone, done=request.form.get("done") == "1",
                                      evidence=request.form.get("evidence", ""))
    except Invalid as error:
        db.session.rollback()
        if wants_fragment():
            return render("campaign/brand.html", block="milestone_row", status=422, m=milestone, project=project,
                          branch=project_service.get_branch(project.branch_id), errors=error.field_errors,
                          failed=f"milestone-{milestone.id}", year=db.session.get(CampaignYear, project.year_id))
        return _brand_page(project_service.get_branch(project.branch_id), error.field_errors, 422,
                           failed=f"milestone-{milestone.id}")
    if wants_fragment():
        return _milestone_changed(milestone, project)
    return redirect_back(url_for("campaign.brand", branch_id=project.branch_id))


def _milestone_changed(milestone, project):
    """The milestone's row and, with it, its project's progress bar (an htmx partial)."""
    from jinja2_fragments.flask import render_block
    from markupsafe import Markup

    year = db.session.get(CampaignYear, project.year_id)
    row = render_block("campaign/brand.html", "milestone_row", m=milestone, project=project,
                       branch=project_service.get_branch(project.branch_id), errors={}, failed=None, year=year)
    milestones = next(ms for p, ms in project_service.branch_projects(project.branch_id, year) if p.id == project.id)
    return render("campaign/_milestone_changed.html", row_html=Markup(row), project=project,  # noqa: S704 - rendered by Jinja
                  progress=project_service.progress_of(milestones))


# --- supervision (督察) --------------------------------------------------------------------------

def _inspections_page(errors=None, status=200):
    year = _year()
    listed = inspection_service.list_for(year)
    return render("campaign/inspections.html", status=status, year=year, listed=listed,
                  branches_of=inspection_service.branches_of([i.id for i, _o, _d in listed]),
                  overdue=inspection_service.overdue_follow_ups(year),
                  branches=user_service.all_branches(active_only=True), errors=errors or {}, form=request.form)


@bp.get("/inspections")
@require("inspection.view")
def inspections():
    return _inspections_page()


@bp.post("/inspections")
@require("inspection.manage")
def create_inspection():
    try:
        created = inspection_service.create(
            _me(), campaign_service.current_year(), kind=request.form.get("kind", ""),
            held_on=request.form.get("held_on", ""), title=request.form.get("title", ""),
            findings=request.form.get("findings", ""), branch_ids=request.form.getlist("branches"))
    except Invalid as error:
        return _inspections_page(error.field_errors, 422)
    flash(_("The visit has been recorded. Add its follow-up actions."), "success")
    return redirect_back(url_for("campaign.inspection", inspection_id=created.id))


def _inspection_page(inspection, errors=None, status=200):
    return render("campaign/inspection.html", status=status, inspection=inspection,
                  year=db.session.get(CampaignYear, inspection.year_id),
                  visited=inspection_service.branches_of([inspection.id])[inspection.id],
                  follow_ups=inspection_service.follow_ups(inspection), errors=errors or {}, form=request.form,
                  today=date.today())


@bp.get("/inspections/<int:inspection_id>")
@require("inspection.view")
def inspection(inspection_id: int):
    return _inspection_page(inspection_service.get(inspection_id))


@bp.post("/inspections/<int:inspection_id>/follow-ups")
@require("inspection.manage")
def add_follow_up(inspection_id: int):
    item = inspection_service.get(inspection_id)
    try:
        inspection_service.add_follow_up(_me(), item, branch_id=request.form.get("branch_id", ""),
                                         action=request.form.get("action", ""), owner=request.form.get("owner", ""),
                                         due_on=request.form.get("due_on", ""))
    except Invalid as error:
        return _inspection_page(item, error.field_errors, 422)
    flash(_("The follow-up action has been added."), "success")
    return redirect_back(url_for("campaign.inspection", inspection_id=item.id))


@bp.post("/follow-ups/<int:follow_up_id>/status")
@require("inspection.manage")
def follow_up_status(follow_up_id: int):
    follow_up = inspection_service.get_follow_up(follow_up_id)
    inspection_service.set_follow_up_status(_me(), follow_up, request.form.get("status", ""))
    if wants_fragment():
        item = inspection_service.get(follow_up.inspection_id)
        row = next(r for r in inspection_service.follow_ups(item) if r[0].id == follow_up.id)
        return render("campaign/inspection.html", block="follow_up_row", fu=row[0], branch_name=row[1],
                      inspection=item, year=db.session.get(CampaignYear, item.year_id),
                      today=date.today())
    return redirect_back(url_for("campaign.inspection", inspection_id=follow_up.inspection_id))

