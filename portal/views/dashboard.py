"""The leadership progress dashboard, its exports, and the branch page (drill-down / "our branch")."""
from __future__ import annotations

import click
from flask import Blueprint, Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from .. import labels
from ..clock import local_today
from ..errors import NotFound
from ..htmx import render
from ..i18n import day_writer, when
from ..links import page_pattern, url_pattern
from ..models import Role
from ..permissions import authorize, can, require
from ..services import charts, dashboard, export, grading, paging, uploads

bp = Blueprint("dashboard", __name__)


def checklist_pattern(kind: str, year: int):
    """`checklist_url(kind, owner_id, year)` for a long table: a function of the owner's id (one url_for),
    or None while that feature's endpoint does not exist."""
    endpoint = f"checklist.{kind}"
    return url_pattern(endpoint, "owner_id", year=year) if endpoint in current_app.view_functions else None


@bp.context_processor
def helpers() -> dict:
    def checklist_url(kind: str, owner_id: int, year: int) -> str | None:
        """Link to the self-assessment checklist, once that feature's endpoint exists."""
        endpoint = f"checklist.{kind}"
        if endpoint not in current_app.view_functions:
            return None
        return url_for(endpoint, owner_id=owner_id, year=year)

    return {"checklist_url": checklist_url, "checklist_pattern": checklist_pattern, "charts": charts,
            "bands": dashboard.BAND_LABELS, "url_pattern": url_pattern, "page_pattern": page_pattern,
            "day_writer": day_writer, "heat_cells": heat_cells, "page_numbers": paging.page_numbers,
            "table_rows": table_rows, "member_rows": member_rows, "audit_rows": audit_rows,
            "band": dashboard.band, "page_sizes": dashboard.PAGE_SIZES,
            "default_page_size": dashboard.DEFAULT_PAGE_SIZE}


_NO_CELL = ('\n        <td class="heat heat-none"><span class="heat__score">—</span>'
            '<span class="heat__progress">0%</span></td>')


def heat_cells(row: dashboard.Row, criteria) -> Markup:
    """A dashboard row's criterion cells (score and progress, coloured by the score's band), written in Python:
    the table's 250 cells a page cost more as template expressions. Numbers and class names only, so nothing
    here needs escaping; the HTML is the template's as it was (tests/web/test_dashboard_rendering.py)."""
    out = []
    for criterion in criteria:
        tally = row.cells.get(criterion.id)
        if tally is None:
            out.append(_NO_CELL)
            continue
        score = "—" if tally.score is None else f"{tally.score:.0f}"
        out.append(f'\n        <td class="heat {dashboard.band(tally.score)}"><span class="heat__score">{score}</span>'
                   f'<span class="heat__progress">{tally.progress:.0f}%</span></td>')
    return Markup("".join(out))  # noqa: S704  # nosec B704 - numbers and fixed class names


_STATUS_BADGES = {"draft": "plain", "submitted": "warn", "returned": "bad", "reviewed": "ok"}


def table_rows(view: dashboard.Overview, verdicts: dict) -> Markup:
    """The overview table's body rows (`view.page_rows`), written in Python for the same reason as `heat_cells`:
    at 50 rows a page, about forty template expressions a row were a fifth of the page's work. Every label is
    translated once a page, every link comes from one url_for, and every text is escaped (names, brands and
    labels alike). The HTML is what the template wrote (tests/web/test_dashboard_rendering.py keeps that
    template and compares)."""
    kind_names = labels.resolved(labels.UNIT_KIND)
    status_names = labels.resolved(labels.ASSESSMENT_STATUS)
    rating_names = labels.resolved(labels.REVIEW_RATING)
    plan_names = labels.resolved(labels.SUBMISSION_STATUS)
    grade_names = labels.resolved(labels.GRADE)
    row_texts = labels.resolved(labels.DASHBOARD_ROW)
    not_started, no_activity = escape(_("Not started")), escape(_("none"))
    quiet, proposed = escape(_("quiet 14+ days")), escape(_("proposed"))
    branch_url = url_pattern("dashboard.branch", "branch_id", year=view.filters.year.year)
    local_day, criteria, now = day_writer(), view.criteria, view.now
    out = []
    for row in view.page_rows:
        progress, score = row.overall[0], row.overall[1]
        brand = f" · {escape(row.brand_name)}" if row.brand_name else ""
        if row.status:
            status = (f'<span class="badge badge--{_STATUS_BADGES[row.status.value]}">'
                      f"{escape(status_names[row.status])}</span>")
        else:
            status = f'<span class="muted">{not_started}</span>'
        plan = f"{escape(plan_names[row.plan_status])}" if row.plan_status else "—"
        if row.overdue:
            plan += f' <span class="badge badge--bad">{escape(row_texts["overdue"] % {"count": row.overdue})}</span>'
        if row.last_activity:
            activity = (f'<time datetime="{row.last_activity.strftime("%Y-%m-%dT%H:%MZ")}">'
                        f"{escape(local_day(row.last_activity))}</time>")
        else:
            activity = f'<span class="muted">{no_activity}</span>'
        if row.inactive(now):
            activity += f' <span class="badge badge--warn">{quiet}</span>'
        v = verdicts.get(row.branch_id)
        if v and v.satisfaction is not None:
            appraisal = f'{v.satisfaction:.0f}%<span class="muted small"> · {v.ballots}</span>'
        elif v and v.ballots:
            appraisal = f'<span class="muted small">{escape(row_texts["ballots"] % {"n": v.ballots})}</span>'
        else:
            appraisal = "—"
        if v and v.grade:
            grade = f"{escape(grade_names[v.grade])}"
            if not v.confirmed:
                grade += f' <span class="badge badge--warn">{proposed}</span>'
        else:
            grade = "—"
        out.append(
            f'\n      <tr id="branch-row-{row.branch_id}">'
            f'\n        <th scope="row"><a href="{escape(branch_url(row.branch_id))}">{escape(row.name)}</a>'
            f'\n          <span class="muted dashboard-table__kind">{escape(kind_names[row.unit_kind])}{brand}</span>'
            f"</th>{heat_cells(row, criteria)}"
            f'\n        <td class="num"><progress max="100" value="{progress}" aria-hidden="true"></progress>'
            f"<span>{progress:.0f}%</span></td>"
            f'\n        <td class="num"><strong>{"—" if score is None else f"{score:.0f}"}</strong></td>'
            f"\n        <td>{status}</td>"
            f'\n        <td>{escape(rating_names[row.rating]) if row.rating else "—"}</td>'
            f"\n        <td>{plan}</td>"
            f'\n        <td class="num">{row.pledges}</td>'
            f'\n        <td class="num">{row.posts}</td>'
            f'\n        <td class="num">{row.members_done} / {row.members_total}</td>'
            f"\n        <td>{activity}</td>"
            f'\n        <td class="num verdict-appraisal">{appraisal}</td>'
            f'\n        <td class="verdict-grade">{grade}</td>'
            f"\n      </tr>")
    return Markup("".join(out))  # noqa: S704  # nosec B704 - every text above is escaped


def member_rows(page: dashboard.BranchPage) -> Markup:
    """The branch page's members table body (`page.members`: a branch's 40 people), written in Python as
    `table_rows` is: one url_for for the table (`checklist_pattern`), each label translated once, every text
    escaped. The HTML is what the template wrote (tests/web/test_dashboard_rendering.py keeps that template)."""
    member_url = checklist_pattern("member", page.year.year)
    texts = labels.resolved(labels.MEMBER_ROW)
    status_names = labels.resolved(labels.ASSESSMENT_STATUS)
    not_started = f'<span class="badge badge--warn">{escape(texts["not_started"])}</span>'
    secretary = f'<span class="badge">{escape(labels.ROLE[Role.SECRETARY])}</span>'
    out = []
    for m in page.members:
        name = escape(m.name)
        url = member_url(m.user_id) if member_url else None
        linked = f'<a href="{escape(url)}">{name}</a>' if url else name
        progress = m.tally.progress
        out.append(
            f'\n      <tr id="member-{m.user_id}">'
            f'\n        <th scope="row">{linked}'
            f'\n          {secretary if m.role == Role.SECRETARY else ""}</th>'
            f"\n        <td>{escape(m.post_title)}</td>"
            f"\n        <td>{escape(status_names[m.status]) if m.status else not_started}</td>"
            f'\n        <td><progress max="100" value="{progress}" aria-label="'
            f'{escape(texts["progress"] % {"name": m.name})}">{progress:.0f}%</progress> {progress:.0f}%</td>'
            f"\n      </tr>\n    ")
    return Markup("".join(out))  # noqa: S704  # nosec B704 - every text above is escaped


def audit_rows(events) -> Markup:
    """The branch page's recent changes (`BranchPage.audit`: up to 20 rows), written in Python like
    `member_rows`, each kind of change translated once; an action without a label shows as its code."""
    actions: dict[str, str] = {}
    out = []
    for event in events:
        action = actions.get(event.action)
        if action is None:
            action = actions[event.action] = escape(labels.AUDIT_ACTION.get(event.action, event.action))
        out.append(
            f'\n      <tr id="audit-{event.id}"><td><time datetime="{event.at.strftime("%Y-%m-%dT%H:%MZ")}">'
            f'{escape(when(event.at))}</time></td><td>{escape(event.actor_name or "—")}</td>'
            f"<td>{action}</td></tr>\n    ")
    return Markup("".join(out))  # noqa: S704  # nosec B704 - every text above is escaped


@bp.get("/dashboard")
@require("dashboard.view")
def overview():
    data = dashboard.overview(request.args)
    verdicts = grading.verdict_cells(data.filters.year, [row.branch_id for row in data.page_rows]) \
        if data.filters.year else {}
    return render("dashboard/overview.html", block="dashboard", view=data, filters=data.filters, verdicts=verdicts)


def _download(name: str, body, content_type: str) -> Response:
    response = Response(body, content_type=content_type)  # as given: `mimetype=` would add a charset
    suffix = name.rpartition(".")[2]
    response.headers["Content-Disposition"] = uploads.content_disposition(name, f"dashboard-export.{suffix}")
    response.headers["Cache-Control"] = "no-store"
    return response


def _xlsx_download(items: bool) -> Response:
    result = export.xlsx(request.args, items=items)
    if result is None:
        raise NotFound()
    name, body = result
    return _download(name, body, export.XLSX_TYPE)


@bp.get("/dashboard/export.xlsx")
@require("dashboard.view")
def export_xlsx():
    return _xlsx_download(items=False)


@bp.get("/dashboard/items.xlsx")
@require("dashboard.view")
def export_items_xlsx():
    """The chosen year's item results, a column per branch: apart from the years' workbook, so that each
    download is written in about half the time the years' sheets and the item grid took together."""
    return _xlsx_download(items=True)


@bp.get("/dashboard/export.csv")
@require("dashboard.view")
def export_csv():
    result = export.csv_export(request.args)
    if result is None:
        raise NotFound()
    name, lines = result
    # Joined while the request (locale, session) is alive: a few hundred short lines.
    return _download(name, "".join(lines), export.CSV_TYPE)


def _branch_view(branch):
    authorize("branch.view", branch)
    user = current_user._get_current_object()  # the proxy looks the user up again on every attribute read
    page = dashboard.branch_page(
        branch, request.args, user,
        with_members=can(user, "member_coverage.view", branch),
        with_audit=can(user, "branch.audit.view", branch),
    )
    verdict = grading.branch_verdict(branch, page.year, with_results=can(user, "appraisal.results", branch),
                                     with_grades=can(user, "grading.view", branch)) if page else None
    return render("dashboard/branch.html", block="branch", page=page, branch=branch, verdict=verdict)


@bp.get("/branches/<int:branch_id>")
@login_required
def branch(branch_id: int):
    return _branch_view(dashboard.get_branch(branch_id))


@bp.get("/our-branch")
@require("dashboard.own_branch")
def own_branch():
    return _branch_view(dashboard.get_branch(current_user.branch_id))


@click.command("snapshot-progress")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to record (default: today).")
def snapshot_progress(day) -> None:
    """Record today's checklist progress and score of every branch of the current year (run daily by cron)."""
    from ..services.campaign import current_year

    year = current_year()
    if year is None:
        raise click.ClickException("There is no campaign year yet.")
    the_day = day.date() if day else None
    count = dashboard.take_snapshot(year, the_day)
    click.echo(f"Snapshot of {year.year} for {(the_day or local_today()).isoformat()}: {count} branches.")
