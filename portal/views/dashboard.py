"""The leadership progress dashboard, its exports, and the branch page (drill-down / "our branch")."""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import click
from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from .. import labels
from ..clock import local_today
from ..errors import NotFound
from ..htmx import render, respond, wants_fragment
from ..i18n import day_writer, per_language, when
from ..links import page_pattern, text_pattern, url_parts, url_pattern
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
            "sort_headers": sort_headers, "filter_texts": filter_texts,
            "band": dashboard.band, "page_sizes": dashboard.PAGE_SIZES,
            "default_page_size": dashboard.DEFAULT_PAGE_SIZE}


_NO_CELL = ('\n        <td class="heat heat-none"><span class="heat__score">—</span>'
            '<span class="heat__progress">0%</span></td>')


@lru_cache(maxsize=4096)
def _heat_cell(progress: float, score: float | None) -> str:
    """One criterion cell of a (progress, score): the same few hundred pairs recur on every page."""
    shown = "—" if score is None else f"{score:.0f}"
    return (f'\n        <td class="heat {dashboard.band(score)}"><span class="heat__score">{shown}</span>'
            f'<span class="heat__progress">{progress:.0f}%</span></td>')


def _cells(figures: dict, criterion_ids: list[int]) -> str:
    return "".join([_heat_cell(*figures[cid]) if cid in figures else _NO_CELL for cid in criterion_ids])


def heat_cells(row: dashboard.Row, criteria) -> Markup:
    """A dashboard row's criterion cells (score and progress, coloured by the score's band) from its `figures`,
    written in Python: the table's 250 cells a page cost more as template expressions. Numbers and class names
    only, so nothing here needs escaping; the HTML is the template's as it was
    (tests/web/test_dashboard_rendering.py)."""
    return Markup(_cells(row.figures, [criterion.id for criterion in criteria]))  # noqa: S704  # nosec B704


_STATUS_BADGES = {"draft": "plain", "submitted": "warn", "returned": "bad", "reviewed": "ok"}


def _escaped(mapping: dict) -> dict:
    """`labels.resolved(mapping)` with every label escaped for HTML (translated to text first: a lazy string's
    `__html__` would let it through unescaped)."""
    return {key: str(escape(value)) for key, value in labels.resolved(mapping).items()}


class _Texts(NamedTuple):
    """The fixed texts `table_rows` and `sort_headers` write, in one language, translated and escaped."""

    kind_names: dict
    status_names: dict  # the status's badge
    rating_names: dict
    plan_names: dict
    grade_names: dict
    row_texts: dict  # not escaped: they take a number first
    not_started: str
    no_activity: str
    quiet: str
    proposed: str
    headers: dict  # sort column → its header's label
    # The filters' choices and the colour key, [(value, label)] and [label]: the catalogue's text as the template
    # wrote the lazy labels (Markup: not escaped, as a lazy string's `__html__` gave it).
    kinds: list
    statuses: list
    grades: list
    bands: list


@per_language
def _texts() -> _Texts:
    """The page's fixed texts in the request's language (or `force_locale`'s), written once per language: some forty
    labels a page, each a look-up of the request's locale and catalogue when translated one by one."""
    return _Texts(
        kind_names=_escaped(labels.UNIT_KIND),
        status_names={status: f'<span class="badge badge--{_STATUS_BADGES[status.value]}">{name}</span>'
                      for status, name in _escaped(labels.ASSESSMENT_STATUS).items()},
        rating_names=_escaped(labels.REVIEW_RATING), plan_names=_escaped(labels.SUBMISSION_STATUS),
        grade_names=_escaped(labels.GRADE), row_texts=labels.resolved(labels.DASHBOARD_ROW),
        not_started=f'<span class="muted">{escape(_("Not started"))}</span>',
        no_activity=f'<span class="muted">{escape(_("none"))}</span>',
        quiet=f' <span class="badge badge--warn">{escape(_("quiet 14+ days"))}</span>',
        proposed=f' <span class="badge badge--warn">{escape(_("proposed"))}</span>',
        headers={column: str(escape(label)) for column, label in (
            ("name", _("Branch")), ("progress", _("Progress")), ("score", _("Score")), ("status", _("Status")),
            ("rating", _("Review")), ("plan", _("Plan")), ("pledges", _("Pledges")),
            ("posts", _("Exemplar posts")), ("coverage", _("Members self-assessed")),
            ("activity", _("Last activity")))},
        kinds=_trusted(labels.UNIT_KIND), statuses=_trusted(labels.ASSESSMENT_STATUS),
        grades=_trusted(labels.GRADE),
        bands=[Markup(str(label)) for label in dashboard.BAND_LABELS])  # noqa: S704  # nosec B704 - catalogue


def _trusted(mapping: dict) -> list:
    """[(key, label)] of a mapping of lazy labels, each the catalogue's text as Markup (as the template showed it)."""
    return [(key, Markup(value)) for key, value in labels.resolved(mapping).items()]  # noqa: S704  # nosec B704


def filter_texts() -> _Texts:
    """`_texts` for the overview's template: its filters' choices and colour key, translated once per language."""
    return _texts()


def table_rows(view: dashboard.Overview, verdicts: dict) -> Markup:
    """The overview table's body rows (`view.page_rows`), written in Python for the same reason as `heat_cells`:
    at 50 rows a page, about forty template expressions a row were a fifth of the page's work. Every label is
    translated and escaped once per language (`_texts`), every link comes from one url_for (escaped once), and
    every text is escaped (names, brands and labels alike). The HTML is what the template wrote
    (tests/web/test_dashboard_rendering.py keeps that template and compares)."""
    texts = _texts()
    kind_names, status_names, rating_names = texts.kind_names, texts.status_names, texts.rating_names
    plan_names, grade_names, row_texts = texts.plan_names, texts.grade_names, texts.row_texts
    not_started, no_activity, quiet, proposed = texts.not_started, texts.no_activity, texts.quiet, texts.proposed
    overdue_badges: dict[int, str] = {}  # by count, written once each
    before, after = (str(escape(part)) for part in
                     url_parts("dashboard.branch", "branch_id", year=view.filters.year.year))
    local_day, now = day_writer(), view.now
    criterion_ids = [criterion.id for criterion in view.criteria]
    out = []
    for row in view.page_rows:
        progress, score = row.overall[0], row.overall[1]
        brand = f" · {escape(row.brand_name)}" if row.brand_name else ""
        plan = plan_names[row.plan_status] if row.plan_status else "—"
        if row.overdue:
            badge = overdue_badges.get(row.overdue)
            if badge is None:
                badge = overdue_badges[row.overdue] = (
                    f' <span class="badge badge--bad">{escape(row_texts["overdue"] % {"count": row.overdue})}</span>')
            plan += badge
        last = row.last_activity
        if last:
            activity = f'<time datetime="{last:%Y-%m-%dT%H:%MZ}">{escape(local_day(last))}</time>'
        else:
            activity = no_activity
        if row.inactive(now):
            activity += quiet
        v = verdicts.get(row.branch_id)
        if v and v.satisfaction is not None:
            appraisal = f'{v.satisfaction:.0f}%<span class="muted small"> · {v.ballots}</span>'
        elif v and v.ballots:
            appraisal = f'<span class="muted small">{escape(row_texts["ballots"] % {"n": v.ballots})}</span>'
        else:
            appraisal = "—"
        if v and v.grade:
            grade = grade_names[v.grade] if v.confirmed else grade_names[v.grade] + proposed
        else:
            grade = "—"
        out.append(
            f'\n      <tr id="branch-row-{row.branch_id}">'
            f'\n        <th scope="row"><a href="{before}{row.branch_id}{after}">{escape(row.name)}</a>'
            f'\n          <span class="muted dashboard-table__kind">{kind_names[row.unit_kind]}{brand}</span>'
            f"</th>{_cells(row.figures, criterion_ids)}"
            f'\n        <td class="num"><progress max="100" value="{progress}" aria-hidden="true"></progress>'
            f"<span>{progress:.0f}%</span></td>"
            f'\n        <td class="num"><strong>{"—" if score is None else f"{score:.0f}"}</strong></td>'
            f"\n        <td>{status_names[row.status] if row.status else not_started}</td>"
            f'\n        <td>{rating_names[row.rating] if row.rating else "—"}</td>'
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


_SORT_HEADER = ('\n        <th scope="col" class="{extra}" {sorted}>'
                '\n          <a href="{href}"'
                '\n             hx-get="{href}" hx-target="#dashboard"'
                '\n             hx-swap="outerHTML" hx-push-url="true" class="sort-link" id="sort-{column}">'
                '{label}{arrow}</a>'
                '\n        </th>\n        ')


def sort_headers(view: dashboard.Overview) -> Markup:
    """The overview table's sortable column headers (the branch, each criterion, then the row's figures), written in
    Python: twenty template macro calls with a url_for each were a tenth of the page's work. One url_for for every
    link (`links.text_pattern` of the `sort` argument); labels translated and escaped. The HTML is what the
    template's `sort_header` macro wrote (tests/web/test_dashboard_rendering.py keeps it and compares)."""
    f = view.filters
    href = text_pattern("dashboard.overview", "sort", **f.args(sort=dashboard.DEFAULT_SORT))
    sorted_as = 'aria-sort="descending"' if f.descending else 'aria-sort="ascending"'
    arrow = f'<span aria-hidden="true">{" ▼" if f.descending else " ▲"}</span>'

    labels_ = _texts().headers

    def header(column: str, label: str, extra: str = "") -> str:
        current = column == f.sort
        return _SORT_HEADER.format(extra=extra, sorted=sorted_as if current else "",
                                   href=escape(href(f.sort_link(column))), column=escape(column),
                                   label=label, arrow=arrow if current else "")

    # The criteria's headers were one line of the template (no whitespace between them), the others one a line.
    headers = [header("name", labels_["name"]),
               "".join(header(f"c{criterion.position}", escape(labels.criterion_title(criterion)), "heat-col")
                       for criterion in view.criteria),
               *(header(column, labels_[column]) for column in
                 ("progress", "score", "status", "rating", "plan", "pledges", "posts", "coverage", "activity"))]
    return Markup("".join("\n        " + cell for cell in headers))  # noqa: S704  # nosec B704 - escaped above


@bp.get("/dashboard")
@require("dashboard.view")
def overview():
    return _overview_page(dashboard.overview(request.args, later=True))


def _overview_page(data: dashboard.Overview):
    verdicts = grading.verdict_cells(data.filters.year, [row.branch_id for row in data.page_rows]) \
        if data.filters.year else {}
    return render("dashboard/overview.html", block="dashboard", view=data, filters=data.filters, verdicts=verdicts)


@bp.get("/dashboard/figures")
@require("dashboard.view")
def figures():
    """The overview's figures (cards and charts) under filters whose figures the page leaves for a second request
    (services/dashboard.py `figures_later`): to htmx, the fragment that fills the page's placeholders; to a browser
    without script (the placeholder's link), the whole page with its figures."""
    if not wants_fragment():
        return _overview_page(dashboard.overview(request.args))
    data = dashboard.overview(request.args, rows=False)
    return respond(render_template("dashboard/figures.html", view=data, filters=data.filters))


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
