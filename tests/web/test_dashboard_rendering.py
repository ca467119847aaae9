"""The dashboard and the branch page do a page's template work once, not once per row (issue #14): the rows'
links come from one url_for, their labels from one translation each; and the HTML stays what it was."""
# ruff: noqa: E501  (OLD_ROWS is the former template, kept verbatim with its long lines)
from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

import pytest
from jinja2 import pass_eval_context

from portal.models import Role
from portal.services.progress import Tally
from portal.views.dashboard import heat_cells

from ..dashboard_helpers import build_district
from ..factories import UserFactory

# The criterion cells as the overview's template wrote them before heat_cells.
OLD_CELLS = """
        {%- for c in criteria %}
        {%- set t = row.cells.get(c.id) %}
        {%- if t %}
        <td class="heat {{ band(t.score) }}"><span class="heat__score">{{ "%.0f"|format(t.score) \
if t.score is not none else "—" }}</span><span class="heat__progress">{{ "%.0f"|format(t.progress) }}%</span></td>
        {%- else %}
        <td class="heat heat-none"><span class="heat__score">—</span><span class="heat__progress">0%</span></td>
        {%- endif %}
        {%- endfor %}"""


class _Criterion:
    def __init__(self, id_):
        self.id = id_


class _Row:
    """The former template read a row's Tally cells; heat_cells reads the figures they give (progress, score)."""

    def __init__(self, cells):
        self.cells = cells
        self.figures = {cid: (tally.progress, tally.score) for cid, tally in cells.items()}


def test_heat_cells_write_what_the_template_wrote(app):
    from portal.services.dashboard import band

    criteria = [_Criterion(i) for i in range(1, 7)]
    rows = [
        _Row({}),
        _Row({1: Tally(total=4, met=4, weight_scored=4.0, weight_earned=4.0),
              2: Tally(total=5, na=1, partly=1, weight_scored=1.0, weight_earned=0.5),
              3: Tally(total=3),  # nothing assessed: score None
              4: Tally(total=2, na=2),  # all n/a: progress 100, no score
              6: Tally(total=7, met=2, partly=1, not_met=2, weight_scored=5.0, weight_earned=2.5)}),
        _Row({i: Tally(total=9, met=i, not_met=9 - i, weight_scored=9.0, weight_earned=float(i)) for i in range(1, 7)}),
    ]
    # Every band, its limits, and values that round up or down at the cell's precision.
    rows += [_Row({i + 1: Tally(total=1000, met=met, not_met=1000 - met, weight_scored=1000.0, weight_earned=float(met))
                   for i, met in enumerate(chunk)})
             for chunk in ((0, 1, 4, 5, 6), (494, 495, 499, 500, 501), (645, 649, 650, 795, 800),
                           (895, 899, 900, 995, 1000))]
    old = app.jinja_env.from_string(OLD_CELLS)
    for _ in range(2):  # the second time from the cache of cells
        for row in rows:
            assert str(heat_cells(row, criteria)) == old.render(row=row, criteria=criteria, band=band)


def _template_calls(app, client, url: str) -> Counter:
    """url_for and gettext calls of the templates while `url` is drawn."""
    calls: Counter = Counter()
    globals_ = app.jinja_env.globals
    url_for, gettext = globals_["url_for"], globals_["_"]

    def counted_url_for(endpoint, **values):
        calls["url_for"] += 1
        return url_for(endpoint, **values)

    @pass_eval_context
    def counted_gettext(eval_ctx, string, **variables):
        calls["gettext"] += 1
        return gettext(eval_ctx, string, **variables)

    globals_.update(url_for=counted_url_for, _=counted_gettext, gettext=counted_gettext)
    try:
        assert client.get(url).status_code == 200
    finally:
        globals_.update(url_for=url_for, _=gettext, gettext=gettext)
    return calls


def test_overview_template_work_does_not_grow_with_rows(app, client, leader):
    build_district(4)
    client.login(leader)
    few = _template_calls(app, client, "/dashboard")
    build_district(26, start=4)  # 30 rows: links, overdue badges, dates on every one
    many = _template_calls(app, client, "/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    assert page.count('<tr id="branch-row-') == 30
    assert many == few


def test_branch_page_template_work_does_not_grow_with_members(app, client, leader):
    built = build_district(1)
    branch = built.branches[0]
    client.login(leader)
    few = _template_calls(app, client, f"/branches/{branch.id}")
    for n in range(12):
        UserFactory(role=Role.MEMBER, branch=branch, display_name=f"党员<{n}>")
    many = _template_calls(app, client, f"/branches/{branch.id}")
    assert many == few
    page = client.get(f"/branches/{branch.id}").get_data(as_text=True)
    # Each member's name is escaped in the progress bar's label, as gettext escaped it.
    assert 'aria-label="党员&lt;3&gt; 的进度"' in page
    rows = re.findall(r'<tr id="member-(\d+)">\s*<th scope="row"><a href="([^"]+)">', page)
    assert len(rows) >= 13 and all(href.startswith(f"/checklist/member/{uid}?year=") for uid, href in rows)


# The overview's rows as its template wrote them before table_rows (the labels, links and dates set up once a page).
OLD_ROWS = """      {%- set kind_names = labels.resolved(labels.UNIT_KIND) %}
      {%- set status_names = labels.resolved(labels.ASSESSMENT_STATUS) %}
      {%- set rating_names = labels.resolved(labels.REVIEW_RATING) %}
      {%- set plan_names = labels.resolved(labels.SUBMISSION_STATUS) %}
      {%- set status_badges = {'draft': 'plain', 'submitted': 'warn', 'returned': 'bad', 'reviewed': 'ok'} %}
      {%- set not_started, no_activity, quiet = _("Not started"), _("none"), _("quiet 14+ days") %}
      {%- set grade_names, proposed_word = labels.resolved(labels.GRADE), _("proposed") %}
      {%- set row_texts = labels.resolved(labels.DASHBOARD_ROW) %}
      {%- set branch_url, local_day = url_pattern('dashboard.branch', 'branch_id', year=f.year.year), day_writer() %}
      {%- for row in view.page_rows %}
      {%- set progress, score = row.overall[0], row.overall[1] %}
      <tr id="branch-row-{{ row.branch_id }}">
        <th scope="row"><a href="{{ branch_url(row.branch_id) }}">{{ row.name }}</a>
          <span class="muted dashboard-table__kind">{{ kind_names[row.unit_kind] }}{% if row.brand_name %} · {{ row.brand_name }}{% endif %}</span></th>{{ heat_cells(row, view.criteria) }}
        <td class="num"><progress max="100" value="{{ progress }}" aria-hidden="true"></progress><span>{{ "%.0f"|format(progress) }}%</span></td>
        <td class="num"><strong>{{ "%.0f"|format(score) if score is not none else "—" }}</strong></td>
        <td>{% if row.status %}<span class="badge badge--{{ status_badges[row.status.value] }}">{{ status_names[row.status] }}</span>{% else %}<span class="muted">{{ not_started }}</span>{% endif %}</td>
        <td>{{ rating_names[row.rating] if row.rating else "—" }}</td>
        <td>{{ plan_names[row.plan_status] if row.plan_status else "—" }}{% if row.overdue %} <span class="badge badge--bad">{{ row_texts.overdue % {"count": row.overdue} }}</span>{% endif %}</td>
        <td class="num">{{ row.pledges }}</td>
        <td class="num">{{ row.posts }}</td>
        <td class="num">{{ row.members_done }} / {{ row.members_total }}</td>
        <td>{% if row.last_activity %}<time datetime="{{ row.last_activity.strftime('%Y-%m-%dT%H:%MZ') }}">{{ local_day(row.last_activity) }}</time>{% else %}<span class="muted">{{ no_activity }}</span>{% endif %}{% if row.inactive(view.now) %} <span class="badge badge--warn">{{ quiet }}</span>{% endif %}</td>
        {%- set v = verdicts.get(row.branch_id) %}
        <td class="num verdict-appraisal">{% if v and v.satisfaction is not none %}{{ "%.0f"|format(v.satisfaction) }}%<span class="muted small"> · {{ v.ballots }}</span>{% elif v and v.ballots %}<span class="muted small">{{ row_texts.ballots % {"n": v.ballots} }}</span>{% else %}—{% endif %}</td>
        <td class="verdict-grade">{% if v and v.grade %}{{ grade_names[v.grade] }}{% if not v.confirmed %} <span class="badge badge--warn">{{ proposed_word }}</span>{% endif %}{% else %}—{% endif %}</td>
      </tr>
      {%- endfor %}"""


def test_table_rows_write_what_the_template_wrote(app, leader):
    """Every kind of row: statuses, no status, overdue plans, no activity, appraisal figures, ballots too few to
    show, grades proposed and confirmed, none; names, brands and labels with markup in them are escaped."""
    from flask_login import login_user

    from portal.extensions import db
    from portal.services import dashboard
    from portal.services.grading import VerdictCell
    from portal.views.dashboard import table_rows

    built = build_district(12)
    built.branches[0].name = "<b>甲</b> & 乙"
    built.branches[1].brand_name = '"品牌" <script>'
    built.branches[2].brand_name = ""
    db.session.commit()
    with app.test_request_context("/dashboard"):
        login_user(leader)
        view = dashboard.overview({})
        rows = view.page_rows
        assert len(rows) == 12 and len({row.status for row in rows}) > 1 and any(row.overdue for row in rows)
        rows[3].last_activity = None
        rows[5].status, rows[6].plan_status, rows[7].overdue, rows[8].rating = None, None, 3, None
        rows[9].overall = (0.0, None, 0)
        verdicts = {rows[0].branch_id: VerdictCell(ballots=14, satisfaction=87.5, grade="advanced", confirmed=True),
                    rows[1].branch_id: VerdictCell(ballots=3, grade="lagging"),
                    rows[2].branch_id: VerdictCell(ballots=0, grade="ordinary", confirmed=True),
                    rows[4].branch_id: VerdictCell(ballots=20, satisfaction=60.0)}
        old = app.jinja_env.from_string(OLD_ROWS)
        context = {"view": view, "verdicts": verdicts, "f": view.filters}
        app.update_template_context(context)  # labels, url_pattern, day_writer, heat_cells as the page has them
        expected = old.render(context)
        written = str(table_rows(view, verdicts))
    assert written == expected
    assert "&lt;b&gt;甲&lt;/b&gt; &amp; 乙" in written and "&#34;品牌&#34; &lt;script&gt;" in written
    assert written.count('<tr id="branch-row-') == 12


# The branch page's member rows and recent changes as its template wrote them before member_rows and audit_rows.
OLD_MEMBER_ROWS = """<tbody>
    {#- A branch's 40 members: one url_for and one translation of each label for the whole table. #}
    {%- set member_url, member_texts = checklist_pattern('member', page.year.year), labels.resolved(labels.MEMBER_ROW) %}
    {%- set status_names = labels.resolved(labels.ASSESSMENT_STATUS) %}
    {% for m in page.members %}
      <tr id="member-{{ m.user_id }}">
        <th scope="row">{% set m_url = member_url(m.user_id) if member_url else none %}{% if m_url %}<a href="{{ m_url }}">{{ m.name }}</a>{% else %}{{ m.name }}{% endif %}
          {% if m.role.value == 'secretary' %}<span class="badge">{{ labels.ROLE[m.role] }}</span>{% endif %}</th>
        <td>{{ m.post_title }}</td>
        <td>{% if m.status %}{{ status_names[m.status] }}{% else %}<span class="badge badge--warn">{{ member_texts.not_started }}</span>{% endif %}</td>
        <td><progress max="100" value="{{ m.tally.progress }}" aria-label="{{ member_texts.progress % {"name": m.name} }}">{{ "%.0f"|format(m.tally.progress) }}%</progress> {{ "%.0f"|format(m.tally.progress) }}%</td>
      </tr>
    {% endfor %}
    </tbody>"""
NEW_MEMBER_ROWS = """<tbody>{# a branch's 40 people: written in Python (views/dashboard.member_rows) #}
    {{ member_rows(page) }}
    </tbody>"""
OLD_AUDIT_ROWS = """<tbody>
    {% for event in page.audit %}
      <tr id="audit-{{ event.id }}"><td><time datetime="{{ event.at.strftime('%Y-%m-%dT%H:%MZ') }}">{{ event.at|when }}</time></td><td>{{ event.actor_name or "—" }}</td><td>{{ labels.AUDIT_ACTION.get(event.action, event.action) }}</td></tr>
    {% endfor %}
    </tbody>"""
NEW_AUDIT_ROWS = """<tbody>
    {{ audit_rows(page.audit) }}
    </tbody>"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_member_and_audit_rows_write_what_the_template_wrote(app, leader, lang):
    """Every kind of member row (the secretary, statuses and none, no figures, a fraction of progress) and of
    change (an action with a label and without, no actor); names, posts and codes with markup are escaped."""
    from datetime import datetime

    from flask import session
    from flask_login import login_user

    from portal.models import AssessmentStatus
    from portal.services import dashboard

    built = build_district(2)
    branch = built.branches[0]
    UserFactory(role=Role.MEMBER, branch=branch, display_name='党员<b>"甲"</b> & 乙', post_title="宣传<委员>")
    with app.test_request_context(f"/branches/{branch.id}"):
        session["lang"] = lang
        login_user(leader)
        page = dashboard.branch_page(branch, {}, leader, with_members=True, with_audit=True)
        assert len(page.members) == 3 and page.audit
        first, second, third = page.members
        page.members = [
            first, second._replace(status=AssessmentStatus.SUBMITTED, tally=Tally(total=3, met=1, weight_scored=1.0,
                                                                                  weight_earned=1.0)),
            third._replace(status=None, tally=Tally()),
            third._replace(user_id=third.user_id + 1000, role=Role.SECRETARY, status=AssessmentStatus.RETURNED,
                           tally=Tally(total=4, na=4)),
            *(second._replace(status=status) for status in AssessmentStatus)]

        class Event(NamedTuple):
            id: int
            at: datetime
            actor_name: str
            action: str

        page.audit = [*page.audit, Event(7, datetime(2012, 11, 27, 9, 5), "", "branch.update"),
                      Event(8, datetime(2012, 11, 27, 23, 59), "<i>管理员</i>", "no.such<action>"),
                      Event(9, datetime(2012, 1, 1), "王五", "auth.login"),
                      Event(10, datetime(2012, 6, 30, 16, 0), "王五", "branch.update")]
        context = {"page": page}
        app.update_template_context(context)  # labels, checklist_pattern, member_rows as the page has them
        written = []
        for old, new in ((OLD_MEMBER_ROWS, NEW_MEMBER_ROWS), (OLD_AUDIT_ROWS, NEW_AUDIT_ROWS)):
            written.append(app.jinja_env.from_string(new).render(context))
            assert written[-1] == app.jinja_env.from_string(old).render(context)
    members, changes = written
    assert "党员&lt;b&gt;&#34;甲&#34;&lt;/b&gt; &amp; 乙" in members and "宣传&lt;委员&gt;" in members
    assert members.count('<tr id="member-') == 4 + len(AssessmentStatus)
    assert "no.such&lt;action&gt;" in changes and "&lt;i&gt;管理员&lt;/i&gt;" in changes and "—" in changes

# The overview's sortable column headers as its template wrote them before sort_headers (macro, then one call a column).
OLD_HEADERS = """      <tr>
        {% macro sort_header(column, label, extra="") %}
        {%- set href = url_for('dashboard.overview', **f.sort_args(column)) %}
        <th scope="col" class="{{ extra }}" {% if f.sort == column %}aria-sort="{{ 'descending' if f.descending else 'ascending' }}"{% endif %}>
          <a href="{{ href }}"
             hx-get="{{ href }}" hx-target="#dashboard"
             hx-swap="outerHTML" hx-push-url="true" class="sort-link" id="sort-{{ column }}">{{ label }}{% if f.sort == column %}<span aria-hidden="true">{{ " ▼" if f.descending else " ▲" }}</span>{% endif %}</a>
        </th>
        {% endmacro %}
        {{ sort_header("name", _("Branch")) }}
        {% for c in view.criteria %}{{ sort_header("c" ~ c.position, labels.criterion_title(c), "heat-col") }}{% endfor %}
        {{ sort_header("progress", _("Progress")) }}
        {{ sort_header("score", _("Score")) }}
        {{ sort_header("status", _("Status")) }}
        {{ sort_header("rating", _("Review")) }}
        {{ sort_header("plan", _("Plan")) }}
        {{ sort_header("pledges", _("Pledges")) }}
        {{ sort_header("posts", _("Exemplar posts")) }}
        {{ sort_header("coverage", _("Members self-assessed")) }}
        {{ sort_header("activity", _("Last activity")) }}
        <th scope="col">"""
NEW_HEADERS = """      <tr>
        {#- The sortable headers are written in Python (views/dashboard.sort_headers), one url_for for all. #}
        {{ sort_headers(view) }}
        <th scope="col">"""


@pytest.mark.parametrize("args", [
    {}, {"sort": "-name"}, {"sort": "score"}, {"sort": "-score", "page": "2", "per_page": "100"}, {"sort": "c2"},
    {"sort": "-c1", "kind": "primary", "status": "draft"}, {"sort": "activity", "q": '<b>"甲" & 乙 50%+1'},
    {"sort": "-coverage", "grade": "advanced", "appraisal": "few", "per_page": "all"}, {"year": "2011", "sort": "c3"},
    {"sort": "bogus"},
])
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_sort_headers_write_what_the_template_wrote(app, leader, args, locale):
    """Every sort, ascending and descending, with filters whose values need encoding in a URL and escaping in
    HTML, in both languages."""
    from flask_babel import force_locale
    from flask_login import login_user

    from portal.services import dashboard
    from portal.views.dashboard import sort_headers

    build_district(3)
    with app.test_request_context("/dashboard"), force_locale(locale):
        login_user(leader)
        view = dashboard.overview(args)
        context = {"view": view, "f": view.filters}
        app.update_template_context(context)
        expected = app.jinja_env.from_string(OLD_HEADERS).render(context)
        written = app.jinja_env.from_string(NEW_HEADERS).render(context)
        assert "sort_headers" in context and str(sort_headers(view)) in written
    assert written == expected
    assert written.count("<th scope=\"col\" class=") == 10 + len(view.criteria)
