"""The dashboard and the branch page do a page's template work once, not once per row (issue #14): the rows'
links come from one url_for, their labels from one translation each; and the HTML stays what it was."""
from __future__ import annotations

import re
from collections import Counter

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
    def __init__(self, cells):
        self.cells = cells


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
    old = app.jinja_env.from_string(OLD_CELLS)
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
