"""/grades and a request's grid write their rows in Python (views/appraisal.grade_rows, views/campaign.GridRows: issue
#14, h14lists3): the HTML is what the former templates wrote, kept here verbatim, for every kind of row (figures
present or not, confirmed or not, with a reason, refused with each kind of error; every grid state, returned with a
reason, a decision refused or overtaken), names and reasons that need escaping, in both languages."""
# ruff: noqa: E501  (OLD_GRADE_ROWS and OLD_GRID_ROW are the former templates, kept verbatim with their long lines)
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import render_template_string
from flask_babel import force_locale
from flask_login import login_user
from markupsafe import Markup

from portal.extensions import db
from portal.models import BranchLevel, GradeRecord, utcnow
from portal.services import submissions
from portal.services.grading import GradeRow
from portal.views.appraisal import grade_rows
from portal.views.campaign import GridRows

from ..appraisal_helpers import current_year
from ..factories import BranchFactory, UnitFactory
from ..unit.test_campaign import make_request

# templates/appraisal/grades.html's rows before grade_rows (with appraisal/_confirm.html, which member grades keep).
OLD_GRADE_ROWS = """{% for row in rows %}{% set r = row.record %}
    <tr id="grade-{{ r.id }}">
      <th scope="row"><a href="{{ url_for('dashboard.branch', branch_id=r.branch_id) }}">{{ row.name }}</a></th>
      <td class="num" data-label="{{ _("Self-assessment") }}">{{ r.self_score if r.self_score is not none else "—" }}</td><td class="num" data-label="{{ _("Leader review") }}">{{ r.review_score if r.review_score is not none else "—" }}</td>
      <td class="num" data-label="{{ _("Appraisal") }}">{{ r.appraisal_score if r.appraisal_score is not none else "—" }}</td><td class="num" data-label="{{ _("Satisfaction rate") }}">{% if r.satisfaction is not none %}{{ r.satisfaction }}&nbsp;%{% else %}—{% endif %}</td>
      <td class="num" data-label="{{ _("Composite") }}"><strong>{{ r.composite if r.composite is not none else "—" }}</strong></td>
      <td data-label="{{ _("Proposed") }}">{{ labels.GRADE[r.proposed] }}</td>
      <td class="grade-confirmed wide" data-label="{{ _("Confirmed") }}">{% if r.confirmed %}<strong>{{ labels.GRADE[r.confirmed] }}</strong>{% if r.reason %}<br><span class="small muted">{{ r.reason }}</span>{% endif %}{% else %}<span class="badge badge--warn">{{ _("Not confirmed") }}</span>{% endif %}</td>
      <td>{% if is_current and can("grading.confirm_branch", r) %}{% with choices = labels.GRADE, on_page = true %}{% include "appraisal/_confirm.html" %}{% endwith %}{% endif %}</td>
    </tr>
  {% endfor %}"""

# templates/campaign/request.html's grid rows before GridRows (the `grid_row` block in its loop).
OLD_GRID_ROWS = """{% from "campaign/_forms.html" import invalid, error, csrf %}
  {% for row in rows %}
  {% block grid_row scoped %}
  {# comment #}
  {% if csrf is not defined %}{% from "campaign/_forms.html" import invalid, error, csrf %}{% endif %}
  {% set stale = conflict if failed_id == row.submission_id else none %}
  <tr id="submission-{{ row.submission_id }}">
    <td><a href="{{ url_for('campaign.submission', submission_id=row.submission_id) }}">{{ row.branch_name }}</a></td>
    <td>{% set state = row.state %}{% include "campaign/_state.html" %}
      {% if row.state == "returned" %}<br><span class="muted">{{ _("Reason: %(reason)s", reason=row.return_reason) }}</span>{% endif %}</td>
    <td>{{ row.submitted_at|when if row.submitted_at else "—" }}</td>
    <td>
      {% if row.state in ("submitted", "late") and can("submission.decide", req) and req.year_id == current_year.id %}
      <div class="decide">
        <form method="post" action="{{ url_for('campaign.accept', submission_id=row.submission_id, **list_args) }}"
              hx-post="{{ url_for('campaign.accept', submission_id=row.submission_id, **list_args) }}"
              hx-target="#submission-{{ row.submission_id }}" hx-swap="outerHTML" hx-sync="closest tr:queue all" hx-disable="find button">
          {{ csrf() }}<input type="hidden" name="version" value="{{ row.version }}">
          <button type="submit" class="button button--small button--primary">{{ _("Accept") }}</button>
        </form>
        {% set e = errors if failed_id == row.submission_id else {} %}
        <form method="post" action="{{ url_for('campaign.return_submission', submission_id=row.submission_id, **list_args) }}"
              hx-post="{{ url_for('campaign.return_submission', submission_id=row.submission_id, **list_args) }}"
              hx-target="#submission-{{ row.submission_id }}" hx-swap="outerHTML" hx-sync="closest tr:queue all" hx-disable="find button" class="return-form">
          {{ csrf() }}<input type="hidden" name="version" value="{{ row.version }}">
          <label class="visually-hidden" for="reason-{{ row.submission_id }}">{{ _("Reason for returning") }}</label>
          <input id="reason-{{ row.submission_id }}" name="reason" maxlength="1000" placeholder="{{ _('Reason for returning') }}" {{ invalid(e, 'reason', 's%s-'|format(row.submission_id)) }}>
          <button type="submit" class="button button--small">{{ _("Return") }}</button>
          {{ error(e, 'reason', 's%s-'|format(row.submission_id)) }}
        </form>
      </div>
      {% endif %}
      {% if stale %}<p class="field__error" role="alert">{{ stale[0] }} <a href="{{ url_for('campaign.submission', submission_id=row.submission_id) }}">{{ _("See what was handed in") }}</a></p>{% endif %}
    </td>
  </tr>
  {% endblock %}
  {% else %}<tr><td colspan="4">{{ _("No branch matches.") }}</td></tr>
  {% endfor %}"""

TRICKY = '<b>"甲&乙"</b>'


def _grade_rows() -> list[GradeRow]:
    year = current_year()
    shapes = [  # (self, review, appraisal, satisfaction, composite, proposed, confirmed, reason)
        (None, None, None, None, None, BranchLevel.ORDINARY, None, ""),
        (75.0, 100.0, 88.25, 91.5, 85.7, BranchLevel.ADVANCED, BranchLevel.ADVANCED, ""),
        (60.0, None, 70.0, 0.0, 64.0, BranchLevel.ORDINARY, BranchLevel.LAGGING, TRICKY + " 理由足够长的说明"),
        (12.5, 0.0, None, 55.0, 10.0, BranchLevel.LAGGING, None, TRICKY),
    ]
    rows = []
    for i, (own, review, appraised, satisfaction, score, proposed, confirmed, reason) in enumerate(shapes):
        branch = BranchFactory(unit=UnitFactory(name=f"行{i}学校"), name=f"{TRICKY}{i}")
        record = GradeRecord(year_id=year.id, branch_id=branch.id, self_score=own, review_score=review,
                             appraisal_score=appraised, satisfaction=satisfaction, composite=score, proposed=proposed,
                             confirmed=confirmed, reason=reason)
        db.session.add(record)
        db.session.flush()
        rows.append(GradeRow(record, branch.name))
    db.session.commit()
    return rows


def _typed(grade, reason):
    return SimpleNamespace(grade=SimpleNamespace(data=grade), reason=SimpleNamespace(data=reason))


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_grade_rows_write_what_the_template_wrote(app, leader, admin, locale):
    rows = _grade_rows()
    failed = rows[2].record.id
    cases = [  # (viewer, current year, list_args, errors, failed id, failed form)
        (leader, True, {}, {}, None, None),
        (leader, True, {"state": "unconfirmed", "branch_q": "中&学", "page": 3}, {}, None, None),
        (leader, False, {}, {}, None, None),
        (admin, True, {}, {}, None, None),
        (leader, True, {"grade": "lagging"}, {"reason": "理由<太短>"}, failed, _typed("advanced", TRICKY)),
        (leader, True, {}, {"grade": "不能 & 先进"}, failed, _typed("", None)),
        (leader, True, {}, {"grade": "a", "reason": "b"}, failed, _typed("lagging", "x")),
        (leader, True, {}, {"version": Markup("<i>changed</i>")}, failed, _typed(None, "")),
    ]
    old = OLD_GRADE_ROWS
    seen = ""
    for viewer, is_current, list_args, errors, failed_id, failed_form in cases:
        with app.test_request_context("/grades"), force_locale(locale):
            login_user(viewer)
            from flask_wtf.csrf import generate_csrf

            generate_csrf()
            expected = render_template_string(old, rows=rows, is_current=is_current, list_args=list_args,
                                              errors=errors, failed_id=failed_id, failed_form=failed_form)
            confirming = is_current and viewer is leader
            written = grade_rows(rows, list_args=list_args, confirming=confirming, errors=errors,
                                 failed_id=failed_id, failed_form=failed_form)
            assert str(written) == expected
            seen += expected
    # Every kind of row was drawn: forms with the list's arguments, refusals beside their fields, escaped texts.
    for part in ('action="/grades?state=unconfirmed&amp;branch_q=%E4%B8%AD%26%E5%AD%A6&amp;page=3"',
                 f'aria-describedby="grade-error-{failed}" autofocus', "理由&lt;太短&gt;", "<i>changed</i>",
                 "&lt;b&gt;&#34;甲&amp;乙&#34;&lt;/b&gt;", 'value="&lt;b&gt;', "&nbsp;%", "<br><span class"):
        assert part in seen, part


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_grid_rows_write_what_the_template_wrote(app, leader, admin, locale):
    branches = [BranchFactory(unit=UnitFactory(name=f"格{i}学校"), name=f"{TRICKY}{i}") for i in range(6)]
    req = make_request(admin, branches)
    at = datetime(2012, 11, 27, 9, 30)
    states = ["pending", "overdue", "submitted", "late", "returned", "accepted"]
    rows = [submissions.GridRow(100 + i, b.id, b.name, state, at if i % 2 else None,
                                TRICKY if state == "returned" else "", i + 1)
            for i, (b, state) in enumerate(zip(branches, states, strict=True))]
    late = rows[3].submission_id
    old_year = SimpleNamespace(id=req.id + 1000, year_id=req.year_id + 1000, kind=req.kind)
    cases = [  # (viewer, request, list_args, errors, failed id, conflict, rows)
        (leader, req, {}, {}, None, None, rows),
        (leader, req, {"state": "to_decide", "branch_q": "中&学", "page": 2}, {}, None, None, rows),
        (admin, req, {}, {}, None, None, rows),
        (leader, old_year, {}, {}, None, None, rows),
        (leader, req, {}, {"reason": "说清楚 <要改什么>"}, late, None, rows),
        (leader, req, {}, {}, late, ("有人<改过>了", {}), rows),
        (leader, req, {}, {}, None, None, []),
    ]
    seen = ""
    for viewer, request_, list_args, errors, failed_id, conflict, shown in cases:
        with app.test_request_context("/submissions"), force_locale(locale):
            login_user(viewer)
            expected = render_template_string(OLD_GRID_ROWS, rows=shown, req=request_, list_args=list_args,
                                              errors=errors, failed_id=failed_id, conflict=conflict)
            written = GridRows(request_, list_args, errors, failed_id, conflict)
            prefix = '\n  '
            assert prefix + str(written.body(shown)) == expected
            for row in shown:
                assert written.row(row) in expected
            seen += expected
    for part in ("state=to_decide&amp;branch_q=%E4%B8%AD%26%E5%AD%A6&amp;page=2", 'id="s103-reason-error"',
                 "说清楚 &lt;要改什么&gt;", "有人&lt;改过&gt;了", "&lt;b&gt;&#34;甲&amp;乙&#34;&lt;/b&gt;",
                 "2012-11-27", 'data-state="overdue"', 'colspan="4"'):
        assert part in seen, part


def test_grid_row_answer_after_a_decision_is_the_row(client, leader, admin):
    """The htmx answer of an inline decision is the row GridRows writes, with the summary out of band."""
    branches = [BranchFactory(unit=UnitFactory(name=f"答{i}学校"), name=f"{TRICKY}{i}") for i in range(2)]
    req = make_request(admin, branches, deadline=utcnow() + timedelta(days=3))
    submission = db.session.scalars(db.select(submissions.Submission).where(
        submissions.Submission.request_id == req.id)).first()
    submission.status, submission.submitted_at = submissions.SubmissionStatus.SUBMITTED, utcnow()
    db.session.commit()
    client.login(leader)
    response = client.post(f"/submission/{submission.id}/accept?branch_q=x", data={
        "csrf_token": client.csrf_token(), "version": submission.version}, headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text.startswith(f'\n  \n  \n  \n  <tr id="submission-{submission.id}">')
    assert 'data-state="accepted"' in text and "&lt;b&gt;&#34;甲&amp;乙&#34;&lt;/b&gt;" in text
    assert 'id="grid-summary" hx-swap-oob="true"' in text
