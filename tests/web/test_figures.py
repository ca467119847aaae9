"""Figures checked by value: a checklist's progress and score per criterion and overall, and the dashboard's
order of rows, against numbers worked out by hand (not by the code under test).

progress = assessed / applicable items (n/a left out; everything n/a = 100 %); score = (met + ½ partly),
weighted, over the assessed items; nothing assessed = no score. The 2012 checklist has 21 items: 领导班子好 6,
党员队伍好 4, 工作机制好 4 + the 2012 theme item, 工作业绩好 3, 师生反映好 3 (the 2010 and 2011 theme items
are not part of it)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Criterion, Framework, ItemResult, Result, Role, Subject

from ..checklist_helpers import items, make_assessment
from ..factories import BranchFactory, UnitFactory, UserFactory

MET, PARTLY, NOT_MET, NA = Result.MET, Result.PARTLY, Result.NOT_MET, Result.NOT_APPLICABLE
METER = re.compile(r'id="(?P<id>[a-z0-9-]+-meter)"[^>]*>.*?<progress max="100" value="(?P<progress>[^"]+)".*?'
                   r'已评 (?P<done>\d+) / (?P<total>\d+) 项.*?<span class="score">得分：(?P<score>[^<]+)</span>',
                   re.DOTALL)
# criterion code: the results of its items in order (None: untouched; "theme": the year's theme item).
ANSWERS = {
    "leadership": [None] * 6,                       # untouched
    "membership": [NA, MET, PARTLY, None],          # n/a left out; 2 of 3 assessed
    "mechanism": [NOT_MET, None, None, None, MET],  # the last is the theme item, weight 2
    "performance": [NA, NA, NA],                    # everything n/a
    "reputation": [MET, MET, PARTLY],
}
# (progress value, done, applicable, score as shown), worked out by hand.
EXPECTED = {
    "leadership": ("0.0", 0, 6, "暂无"),
    "membership": ("66.7", 2, 3, "75"),        # (1 + .5) / 2
    "mechanism": ("40.0", 2, 5, "67"),         # 2 of 5; (0 + 2) / (1 + 2)
    "performance": ("100.0", 0, 0, "暂无"),
    "reputation": ("100.0", 3, 3, "83"),       # 2.5 / 3
    "overall": ("41.2", 7, 17, "75"),          # 7 of 21 - 4 n/a; (1.5 + 2 + 2.5) / (2 + 3 + 3)
}


def meters(html: str) -> dict[str, tuple]:
    return {m["id"]: (m["progress"], int(m["done"]), int(m["total"]), m["score"].strip())
            for m in METER.finditer(html)}


def criteria() -> dict[str, Criterion]:
    return {c.code: c for c in db.session.scalars(
        select(Criterion).join(Framework).where(Framework.subject == Subject.BRANCH))}


@pytest.fixture
def answered(secretary, branch):
    assessment = make_assessment(branch)
    by_criterion = {}
    for item in items(Subject.BRANCH):  # ordered by criterion, then position: the theme item (100) last
        by_criterion.setdefault(item.criterion_id, []).append(item)
    codes = criteria()
    for code, results in ANSWERS.items():
        its = by_criterion[codes[code].id]
        assert len(its) == len(results), code
        for item, result in zip(its, results, strict=True):
            if item.year_id is not None:
                item.weight = 2.0
            if result is not None:
                db.session.add(ItemResult(assessment_id=assessment.id, item_id=item.id, result=result,
                                          item_text=item.text))
    db.session.commit()
    return by_criterion


def _expected_ids() -> dict[str, tuple]:
    codes = criteria()
    return {("overall-meter" if code == "overall" else f"criterion-{codes[code].id}-meter"): figures
            for code, figures in EXPECTED.items()}


def test_checklist_figures_per_criterion_and_overall(client, secretary, branch, answered):
    client.login(secretary)
    shown = meters(client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True))
    assert shown == _expected_ids()


def test_a_tick_swaps_in_the_new_figures(client, secretary, branch, answered):
    codes = criteria()
    leadership = codes["leadership"].id
    first = answered[leadership][0]
    client.login(secretary)
    response = client.form_post(f"/checklist/branch/{branch.id}/items/{first.id}/result", {"result": "met"},
                                htmx=True)
    shown = meters(response.get_data(as_text=True))
    assert shown[f"criterion-{leadership}-meter"] == ("16.7", 1, 6, "100")
    assert shown["overall-meter"] == ("47.1", 8, 17, "78")  # 8 / 17; (6 + 1) / (8 + 1) = 77.8


# --- the dashboard's order ------------------------------------------------------------------------
# Four branches whose orders by name, progress and score all differ (21 items, weight 1 each):
#   阿里山 (a):     every item partly            progress 100   score 50   领导班子好 50
#   北京路 (bei):   4 partly, 6 not met          progress 47.6  score 20   领导班子好 33.3
#   东海路 (dong):  2 met                        progress 9.5   score 100  领导班子好 100
#   中山路 (zhong): nothing                      progress 0     no score   no score
DISTRICT = {"阿里山": [PARTLY] * 21, "北京路": [PARTLY] * 4 + [NOT_MET] * 6, "东海路": [MET] * 2, "中山路": []}
ORDERS = {  # ascending; rows without a score count as the lowest
    "name": ["阿里山", "北京路", "东海路", "中山路"],
    "progress": ["中山路", "东海路", "北京路", "阿里山"],
    "score": ["中山路", "北京路", "阿里山", "东海路"],
    "c1": ["中山路", "北京路", "阿里山", "东海路"],
}
ROW = re.compile(r'<tr id="branch-row-(\d+)">')


@pytest.fixture
def district(app):
    all_items = items(Subject.BRANCH)
    ids = {}
    for place, results in DISTRICT.items():
        branch = BranchFactory(unit=UnitFactory(name=f"{place}小学"), name=f"{place}小学党支部")
        assessment = make_assessment(branch)
        for item, result in zip(all_items, results, strict=False):
            db.session.add(ItemResult(assessment_id=assessment.id, item_id=item.id, result=result,
                                      item_text=item.text))
        ids[branch.id] = place
    db.session.commit()
    return ids


@pytest.mark.parametrize("column", sorted(ORDERS))
def test_dashboard_rows_in_the_order_worked_out_by_hand(client, district, column):
    client.login(UserFactory(role=Role.LEADER))
    for prefix, expected in (("", ORDERS[column]), ("-", ORDERS[column][::-1])):
        html = client.get(f"/dashboard?sort={prefix}{column}").get_data(as_text=True)
        assert [district[int(i)] for i in ROW.findall(html)] == expected, prefix + column
