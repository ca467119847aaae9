"""The framework editor's pages as the admin and the checklists' people read them (breakers' findings): a refused
import's problems summarised at the top, every confirmation showing old → new, a stale import and a GET on a
confirmation address answered with a way back, a retired but answered item marked in the checklist, an item's
first year chosen when it is added, and file inputs in the page's language."""
from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.extensions import db
from portal.models import CampaignYear, Criterion, Item, Result, Subject

from ..checklist_helpers import items, make_assessment, year
from . import test_framework_editor as editor
from .test_framework_editor import BRANCH_EDITOR, _book, _edited, _hidden, _preview, fresh

finished_and_started = editor.finished_and_started  # 2011 finished, 2012 started (a fixture)

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def admin_client(client, admin):
    client.login(admin)
    return client


def _text(response) -> str:
    return response.get_data(as_text=True)


def _main(page: str) -> str:
    return page.split("<main", 1)[1]


# --- 6: a refused import's problems at the top ----------------------------------------------------------------

def test_a_refused_import_summarises_its_problems_at_the_top_linked_to_each(admin_client):
    def bad_rows(book):
        book["条目"]["D2"] = ""
        book["条目"]["E3"] = "很重"
        book["条目"]["F4"] = 1999

    response = _preview(admin_client, _book(bad_rows))
    assert response.status_code == 422
    page = _main(_text(response))
    summary = re.search(r'<section[^>]*id="error-summary"[^>]*>(.*?)</section>', page, re.S)
    assert summary and 'role="alert"' in summary.group(0) and "autofocus" in summary.group(0)
    # It comes before the framework's criteria; the details stay at the import form, each line linked.
    assert page.index('id="error-summary"') < page.index('id="criterion-') < page.index('id="import-file-error"')
    links = re.findall(r'href="#(import-problem-\d+)"', summary.group(1))
    assert len(links) == 3
    for anchor in links:
        assert f'id="{anchor}"' in page.split('id="import-file-error"')[1]
    assert "第 2 行" in summary.group(1) or "row 2" in summary.group(1)


def test_an_accepted_preview_shows_no_problem_summary(admin_client):
    response = _preview(admin_client, _edited(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data))
    assert response.status_code == 200 and 'id="error-summary"' not in _text(response)


# --- 8: an answered item retired this year is marked in the checklist -------------------------------------------

def test_an_answered_item_retired_this_year_is_marked_retired_in_the_checklist(client, admin, secretary, branch):
    make_assessment(branch, answer_all=Result.MET)
    retired, kept = items(Subject.BRANCH)[:2]
    client.login(admin)
    assert client.form_post(f"/admin/frameworks/items/{retired.id}/active",
                            {"active": "0", "confirm": "1"}).status_code == 303
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client.login(secretary)
    page = _text(client.get(f"/checklist/branch/{branch.id}?lang=zh"))
    row = re.search(rf'<li[^>]*id="item-{retired.id}".*?</li>\s*(?=<li|</ol|</ul)', page, re.S).group(0)
    assert "已停用" in row and "2012 年起不再列入" in row
    assert f'id="result-{retired.id}-met"' in row and 'aria-pressed="true"' in row  # the answer is still seen
    other = re.search(rf'<li[^>]*id="item-{kept.id}".*?</li>\s*(?=<li|</ol|</ul)', page, re.S).group(0)
    assert "已停用" not in other


# --- 9: confirmations show old → new; a stale import; GET on a confirmation address ---------------------------

def _changes(page: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table class="data confirm-changes">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    return [tuple(html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                  for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)) for row in rows]


def _v(record) -> str:
    """The version the record's edit form carries now (an edit without it is an outdated form, 400)."""
    db.session.refresh(record)
    return str(record.version)


def test_the_confirmation_of_an_item_edit_shows_each_changed_field_old_and_new(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET)  # 2012 has started
    item = items(Subject.BRANCH)[0]
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}?lang=zh",
                                      {"text": "新的表述", "weight": "2.5", "position": "1", "version": _v(item)})
    assert response.status_code == 409
    assert _changes(_text(response)) == [("表述", item.text, "新的表述"), ("权重", "1", "2.5")]


def test_the_confirmation_of_a_criterion_edit_shows_old_and_new(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET)
    criterion = db.session.get(Criterion, items(Subject.BRANCH)[0].criterion_id)
    response = admin_client.form_post(f"/admin/frameworks/criteria/{criterion.id}?lang=zh",
                                      {"title": "班子建设好", "title_en": criterion.title_en or "",
                                       "official_text": criterion.official_text or "", "position": "2",
                                       "version": _v(criterion)})
    assert response.status_code == 409
    changes = _changes(_text(response))
    assert changes[0] == ("标准", criterion.title, "班子建设好") and changes[1][0] == "序号"
    assert changes[1][1:] == ("1", "2")


def test_the_confirmation_of_a_new_item_and_of_a_retirement_show_what_they_make(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET)
    item = items(Subject.BRANCH)[0]
    response = admin_client.form_post("/admin/frameworks/items?lang=zh", {
        "criterion": str(item.criterion_id), "text": "新条目", "weight": "1"})
    assert response.status_code == 409
    changes = _changes(_text(response))
    assert changes[0] == ("表述", "(无)", "新条目") and changes[-1][0] == "适用年度" and "2012" in changes[-1][2]
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}/active?lang=zh", {"active": "0"})
    assert response.status_code == 409 and _changes(_text(response)) == [("状态", "列入自评", "2012 年起停用")]


def test_the_confirmation_of_an_import_lists_its_changes(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET)
    page = _text(_preview(admin_client, _edited(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data)))
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply?lang=zh", {
        "plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint")})
    assert response.status_code == 409
    confirm = _main(_text(response))
    assert "深入学习实践科学发展观,并用以指导工作" in confirm and "新增:班子成员联系师生" in confirm
    assert "<del>" in confirm and "<ins>" in confirm and 'name="confirm" value="1"' in confirm


def test_a_stale_import_says_what_happened_and_links_back_to_the_import(admin_client):
    page = _text(_preview(admin_client, _edited(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data)))
    item = items(Subject.BRANCH)[5]
    assert admin_client.form_post(f"/admin/frameworks/items/{item.id}", {"text": "中途改了", "weight": "1",
                                                                         "version": _v(item)}).status_code == 303
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply?lang=zh", {
        "plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint")})
    assert response.status_code == 409
    stale = _main(_text(response))
    assert 'role="alert"' in stale and "重新上传" in stale
    assert f'href="{BRANCH_EDITOR}#import"' in stale and f'href="{BRANCH_EDITOR}"' in stale


@pytest.mark.parametrize("address, anchor", [
    ("/admin/frameworks/items/{item}", "#item-{item}"),
    ("/admin/frameworks/items/{item}/active", "#item-{item}"),
    ("/admin/frameworks/criteria/{criterion}", "#criterion-{criterion}"),
    ("/admin/frameworks/five_goods/import", "#import"),
    ("/admin/frameworks/five_goods/import/apply", "#import"),
])
def test_a_get_on_a_confirmation_address_goes_back_to_the_framework(admin_client, address, anchor):
    item = items(Subject.BRANCH)[0]
    ids = {"item": item.id, "criterion": item.criterion_id}
    response = admin_client.get(address.format(**ids))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(BRANCH_EDITOR + anchor.format(**ids))


def test_a_get_on_the_add_address_goes_to_the_frameworks(admin_client):
    response = admin_client.get("/admin/frameworks/items")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/frameworks")


# --- an item's first year, chosen when it is added -----------------------------------------------------------

def test_an_item_asked_every_year_can_start_in_a_coming_year_but_not_a_finished_one(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET)  # in use: items start in 2012 (current) by default
    db.session.add(CampaignYear(year=2013, theme="下一年", description="", is_current=False))
    db.session.commit()
    criterion_id = items(Subject.BRANCH)[0].criterion_id
    page = _text(admin_client.get(BRANCH_EDITOR + "?lang=zh"))
    choices = re.search(rf'<select id="a{criterion_id}-valid_from"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'value="(\d*)"', choices) == ["2012", "2013"]
    response = admin_client.form_post("/admin/frameworks/items", {
        "criterion": str(criterion_id), "text": "明年起的条目", "weight": "1", "valid_from": "2013"})
    assert response.status_code == 303  # 2013 has not started: no confirmation
    added = db.session.scalar(select(Item).where(Item.text == "明年起的条目"))
    assert (added.valid_from, added.year_id) == (2013, None)
    assert added.id not in [i.id for i in items(Subject.BRANCH)]  # not asked in 2012
    response = admin_client.form_post("/admin/frameworks/items?lang=zh", {
        "criterion": str(criterion_id), "text": "去年起的条目", "weight": "1", "valid_from": "2011", "confirm": "1"})
    assert response.status_code == 422 and "2011 年是已结束的活动年度" in _text(response)
    assert f'id="a{criterion_id}-valid_from-error"' in _text(response)
    assert db.session.scalar(select(Item).where(Item.text == "去年起的条目")) is None
    assert fresh(added).valid_from == 2013


# --- 10: file inputs in the page's language ----------------------------------------------------------------------

FILE_PAGES = [BRANCH_EDITOR, "/admin/roster", "/admin/branches/import"]


@pytest.mark.parametrize("address", FILE_PAGES)
def test_file_inputs_have_a_chinese_button_over_a_hidden_native_control(admin_client, address):
    page = _text(admin_client.get(address + "?lang=zh"))
    inputs = re.findall(r'<input[^>]*type="file"[^>]*>', page)
    assert inputs
    for tag in inputs:
        field_id = re.search(r'id="([^"]+)"', tag).group(1)
        assert "visually-hidden" in tag and "data-file-input" in tag
        assert re.search(rf'<label for="{field_id}" class="button file-input__button"[^>]*>选择文件</label>', page)
    assert "未选择文件" in page


def test_the_round_trip_workbook_still_reads(admin_client):
    """The file input's markup changed, not the upload: a preview of an exported file still works."""
    data = admin_client.get(BRANCH_EDITOR + "/export.xlsx").data
    assert load_workbook(io.BytesIO(data))["条目"]["A1"].value == "编号"
    assert _preview(admin_client, data).status_code == 200


# --- the wording valid in a finished year ------------------------------------------------------------------------

def _item_text(page: str, item_id: int) -> str:
    row = re.search(rf'<li[^>]*id="item-{item_id}".*?<div class="item__text">\s*<p>(.*?)</p>', page, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", row.split("</span>", 1)[1])).strip().split("\n")[0].strip()


@pytest.mark.usefixtures("finished_and_started")
def test_a_finished_year_shows_the_wording_valid_then_where_it_left_an_item_unanswered(admin_client, branch,
                                                                                      other_branch):
    asked_2011 = items(Subject.BRANCH, year(2011))
    answered, unanswered = asked_2011[0], asked_2011[-1]  # the branch answered 2011 but for the last item
    was = {answered.id: answered.text, unanswered.id: unanswered.text}
    for item in (answered, unanswered):
        assert admin_client.form_post(f"/admin/frameworks/items/{item.id}", {
            "text": f"2012 年改过的表述 {item.id}", "weight": "1", "confirm": "1",
            "version": _v(item)}).status_code == 303
    for owner in (branch, other_branch):  # other_branch never started 2011: every item unanswered
        page = _text(admin_client.get(f"/checklist/branch/{owner.id}?year=2011"))
        assert {i: _item_text(page, i) for i in was} == was
    page = _text(admin_client.get(f"/checklist/branch/{other_branch.id}"))  # 2012, current: the new wording
    assert _item_text(page, unanswered.id) == f"2012 年改过的表述 {unanswered.id}"


def test_an_edit_made_while_a_year_was_current_is_that_years_wording(admin_client, admin, branch, other_branch):
    from portal.services import campaign

    item = items(Subject.BRANCH)[0]
    original = item.text
    campaign.make_current(admin, year(2011))
    assert admin_client.form_post(f"/admin/frameworks/items/{item.id}", {
        "text": "2011 年中改的表述", "weight": "1", "confirm": "1", "version": _v(item)}).status_code == 303
    campaign.make_current(admin, year(2012))
    assert admin_client.form_post(f"/admin/frameworks/items/{item.id}", {
        "text": "2012 年改的表述", "weight": "1", "confirm": "1", "version": _v(item)}).status_code == 303
    shown = {number: _item_text(_text(admin_client.get(f"/checklist/branch/{other_branch.id}?year={number}")),
                                item.id) for number in (2010, 2011, 2012)}
    assert shown == {2010: original, 2011: "2011 年中改的表述", 2012: "2012 年改的表述"}
