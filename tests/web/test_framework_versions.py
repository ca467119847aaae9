"""The framework editor against a breaker's findings: a finished year keeps the weights and criterion names it was
scored and shown with; two tabs editing one item or criterion meet a 409, not a silent overwrite; duplicate or
blank names and wordings are refused; the import applies exactly the previewed file; a workbook is checked for size
before it is inflated, formulas and new theme items of a finished year are refused, and 编号 is checked."""
from __future__ import annotations

import io
import json
import re
import zipfile

from openpyxl import load_workbook
from sqlalchemy import select

from portal.extensions import db
from portal.models import Criterion, Framework, Item, ItemResult, KeptCriterionName, KeptItemWeight, Result, Subject
from portal.services import tallies

from ..checklist_helpers import items, year
from . import test_framework_editor as editor
from .test_framework_editor import (
    BRANCH_EDITOR,
    _agree_with_a_rebuild,
    _book,
    _hidden,
    _preview,
    _shown,
    audit_actions,
    fresh,
)

admin_client = editor.admin_client  # the fixtures of the editor's tests
finished_and_started = editor.finished_and_started


def _criteria() -> list[Criterion]:
    framework = db.session.scalar(select(Framework).where(Framework.code == "five_goods"))
    return list(db.session.scalars(select(Criterion).where(Criterion.framework_id == framework.id)
                                   .order_by(Criterion.position)))


def _error(page: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</', page, re.S)
    return found.group(1).strip() if found else ""


def _refusal(response) -> str:
    return _error(response.get_data(as_text=True), "import-file")


# --- 1. weights: a finished year keeps the weights it was scored with ------------------------------------------

def test_a_weight_change_leaves_a_finished_years_scores_as_they_were(admin_client, runner, branch, other_branch,
                                                                    finished_and_started):
    met, not_met = items(Subject.BRANCH, year(2011))[:2]
    answer = db.session.scalar(select(ItemResult).where(ItemResult.assessment_id == finished_and_started.id,
                                                        ItemResult.item_id == not_met.id))
    answer.result = Result.NOT_MET
    db.session.commit()
    before = _shown(admin_client, 2011, [branch, other_branch])
    response = admin_client.form_post(f"/admin/frameworks/items/{met.id}", {
        "version": str(met.version), "text": met.text, "weight": "5", "confirm": "1"})
    assert response.status_code == 303 and fresh(met).weight == 5.0
    assert _shown(admin_client, 2011, [branch, other_branch]) == before  # tallies, scores, pages, export
    assert db.session.get(KeptItemWeight, (year(2011).id, met.id)).weight == 1.0
    # The current year is scored with the new weight; a second change keeps 2011's first weight.
    response = admin_client.form_post(f"/admin/frameworks/items/{met.id}", {
        "version": str(fresh(met).version), "text": met.text, "weight": "2", "confirm": "1"})
    assert response.status_code == 303
    assert db.session.get(KeptItemWeight, (year(2011).id, met.id)).weight == 1.0
    assert _shown(admin_client, 2011, [branch, other_branch]) == before
    _agree_with_a_rebuild(runner)


def test_an_imported_weight_change_leaves_a_finished_year_as_it_was(admin_client, runner, branch, other_branch,
                                                                   finished_and_started):
    not_met = items(Subject.BRANCH, year(2011))[1]
    answer = db.session.scalar(select(ItemResult).where(ItemResult.assessment_id == finished_and_started.id,
                                                        ItemResult.item_id == not_met.id))
    answer.result = Result.NOT_MET
    db.session.commit()
    before = _shown(admin_client, 2011, [branch, other_branch])

    def heavier(book):
        book["条目"]["E2"] = 7

    page = _preview(admin_client, _book(heavier)).get_data(as_text=True)
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {
        "plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint"), "confirm": "1"})
    assert response.status_code == 303
    assert _shown(admin_client, 2011, [branch, other_branch]) == before
    _agree_with_a_rebuild(runner)


def test_a_weight_alone_asks_only_about_years_whose_figures_change(admin_client, branch):
    """A finished year keeps the weights it was scored with, so a weight change does not reach it: with only a
    finished year started it is saved at once; with the current year started, only that year is named."""
    from portal.models import AssessmentStatus

    from ..checklist_helpers import make_assessment

    make_assessment(branch, status=AssessmentStatus.REVIEWED, year_obj=year(2011), answer_all=Result.MET)
    item = items(Subject.BRANCH, year(2011))[0]
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}", {
        "version": str(item.version), "text": item.text, "weight": "4"})
    assert response.status_code == 303 and fresh(item).weight == 4.0  # no confirmation: no figures change
    assert db.session.get(KeptItemWeight, (year(2011).id, item.id)).weight == 1.0

    def heavier(book):
        book["条目"]["E2"] = 6

    page = _preview(admin_client, _book(heavier)).get_data(as_text=True)
    assert "导入将生成框架的新版本" not in page  # the preview names no started year to confirm
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {
        "plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint")})
    assert response.status_code == 303 and fresh(item).weight == 6.0

    make_assessment(branch, answer_all=Result.MET)  # the current year starts: its scores would change
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}", {
        "version": str(fresh(item).version), "text": item.text, "weight": "2"})
    confirm = response.get_data(as_text=True).split("<main")[1]
    assert response.status_code == 409 and "2012" in confirm and "2011" not in confirm
    assert fresh(item).weight == 6.0


# --- 2. criterion names: no duplicates or blanks; a finished year keeps its headings ---------------------------

def test_duplicate_and_blank_criterion_names_are_refused_beside_the_field(admin_client):
    first, second = _criteria()[:2]
    url = f"/admin/frameworks/criteria/{second.id}?lang=zh"
    for title in (first.title, f"  {first.title} ", first.title.replace("好", "好\u3000")[:40]):
        response = admin_client.form_post(url, {"version": str(second.version), "title": title,
                                                "title_en": "", "official_text": "", "position": "2"})
        assert response.status_code == 422, title
        assert "已有名为" in _error(response.get_data(as_text=True), f"c{second.id}-title")
    response = admin_client.form_post(url, {"version": str(second.version), "title": "\u3000 ", "position": "2"})
    assert response.status_code == 422 and _error(response.get_data(as_text=True), f"c{second.id}-title")
    assert fresh(second).title == second.title and audit_actions() == []


def test_an_import_with_two_criteria_of_one_name_is_refused(admin_client):
    first_title = _criteria()[0].title

    def same_name(book):
        book["准则"]["C3"] = first_title

    response = _preview(admin_client, _book(same_name))
    assert response.status_code == 422
    assert "第 3 行" in _refusal(response) or "row 3" in _refusal(response)


def test_a_renamed_and_moved_criterion_keeps_its_old_name_in_a_finished_year(admin_client, runner, branch,
                                                                            other_branch, finished_and_started):
    first, second = _criteria()[:2]
    old_first, old_second = first.title, second.title
    before = _shown(admin_client, 2011, [branch, other_branch])
    response = admin_client.form_post(f"/admin/frameworks/criteria/{first.id}", {
        "version": str(first.version), "title": "新的准则名称", "title_en": "", "official_text": "",
        "position": "2", "confirm": "1"})
    assert response.status_code == 303
    assert (fresh(first).title, fresh(first).position) == ("新的准则名称", 2)
    finished_page = admin_client.get(f"/checklist/branch/{branch.id}?year=2011").get_data(as_text=True)
    assert old_first in finished_page and "新的准则名称" not in finished_page
    assert finished_page.index(old_first) < finished_page.index(old_second)  # its own order
    overview = admin_client.get("/dashboard?year=2011").get_data(as_text=True)
    assert old_first in overview and "新的准则名称" not in overview
    branch_page = admin_client.get(f"/branches/{branch.id}?year=2011").get_data(as_text=True)
    assert old_first in branch_page and "新的准则名称" not in branch_page
    current = admin_client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    assert "新的准则名称" in current and current.index(old_second) < current.index("新的准则名称")
    assert _shown(admin_client, 2011, [branch, other_branch]) == before
    kept = db.session.get(KeptCriterionName, (year(2011).id, first.id))
    assert (kept.title, kept.position) == (old_first, 1)
    # A second rename keeps 2011's first name.
    response = admin_client.form_post(f"/admin/frameworks/criteria/{first.id}", {
        "version": str(fresh(first).version), "title": "又改的名称", "position": "2", "confirm": "1"})
    assert response.status_code == 303
    assert db.session.get(KeptCriterionName, (year(2011).id, first.id)).title == old_first
    _agree_with_a_rebuild(runner)


# --- 3. two tabs: the later save is a 409, never a silent overwrite -------------------------------------------

def _loaded_version(page: str, action: str) -> str:
    form = page[page.index(f'action="{action}'):]
    return re.search(r'name="version" value="(\d+)"', form[:form.index("</form>")]).group(1)


def test_a_stale_item_save_is_a_conflict_showing_the_saved_values(admin_client):
    item = items(Subject.BRANCH)[0]
    action = f"/admin/frameworks/items/{item.id}"
    page = admin_client.get(BRANCH_EDITOR).get_data(as_text=True)
    loaded = _loaded_version(page, action)
    first_tab = admin_client.form_post(action, {"version": loaded, "text": "第一个标签页的表述", "weight": "2"})
    assert first_tab.status_code == 303
    second_tab = admin_client.form_post(action + "?lang=zh", {"version": loaded, "text": "第二个标签页的表述",
                                                              "weight": "3"})
    assert second_tab.status_code == 409
    page = second_tab.get_data(as_text=True)
    assert "他人" in page or "别人" in page  # a message in Chinese
    assert "第一个标签页的表述" in page.split('class="conflict"')[1]  # the saved values
    assert ">第二个标签页的表述</textarea>" in page  # what was typed, kept in the form
    assert f'href="{BRANCH_EDITOR}#item-{item.id}"' in page  # a way back
    assert (fresh(item).text, fresh(item).weight) == ("第一个标签页的表述", 2.0)
    # Saved again from the conflict page (it carries the current version): the person's own text wins, knowingly.
    again = admin_client.form_post(action, {"version": _loaded_version(page, action), "text": "第二个标签页的表述",
                                            "weight": "3"})
    assert again.status_code == 303 and fresh(item).text == "第二个标签页的表述"


def test_a_stale_criterion_save_is_a_conflict(admin_client):
    criterion = _criteria()[0]
    action = f"/admin/frameworks/criteria/{criterion.id}"
    loaded = _loaded_version(admin_client.get(BRANCH_EDITOR).get_data(as_text=True), action)
    assert admin_client.form_post(action, {"version": loaded, "title": "第一个标签页"}).status_code == 303
    response = admin_client.form_post(action + "?lang=zh", {"version": loaded, "title": "第二个标签页"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "第一个标签页" in page.split('class="conflict"')[1] and 'value="第二个标签页"' in page
    assert fresh(criterion).title == "第一个标签页"


def test_a_form_without_its_version_saves_nothing(admin_client):
    item = items(Subject.BRANCH)[0]
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}", {"text": "没有版本号", "weight": "1"})
    assert response.status_code == 400 and fresh(item).text == item.text


# --- 4. the import applies exactly the previewed file ----------------------------------------------------------

def test_a_tampered_plan_with_the_previews_fingerprint_is_refused(admin_client):
    def reworded(book):
        book["条目"]["D2"] = "预览过的表述"

    page = _preview(admin_client, _book(reworded)).get_data(as_text=True)
    plan = json.loads(_hidden(page, "plan"))
    plan["items"][0]["text"] = "偷偷换掉的表述"
    plan["items"][1]["weight"] = 99
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply?lang=zh", {
        "plan": json.dumps(plan), "fingerprint": _hidden(page, "fingerprint")})
    assert response.status_code == 409
    assert "预览" in response.get_data(as_text=True)
    texts = set(db.session.scalars(select(Item.text)))
    assert "偷偷换掉的表述" not in texts and "预览过的表述" not in texts and audit_actions() == []
    # The untouched plan is applied.
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {
        "plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint")})
    assert response.status_code == 303
    assert db.session.scalar(select(Item).where(Item.text == "预览过的表述")) is not None


# --- 5. sizes from the zip directory; theme items of a finished year --------------------------------------------

def test_a_workbook_that_inflates_past_the_limit_is_refused_before_reading(admin_client):
    from portal.services import frameworks

    exported = admin_client.get(BRANCH_EDITOR + "/export.xlsx").data
    source = zipfile.ZipFile(io.BytesIO(exported))
    assert "xl/sharedStrings.xml" in source.namelist()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as packed:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/sharedStrings.xml":
                big = "甲" * (frameworks.MEMBER_MAX // 3 + 10)
                data = data.replace(b"</sst>", f"<si><t>{big}</t></si></sst>".encode())
            packed.writestr(info.filename, data)
    assert len(out.getvalue()) < 1024 * 1024  # small on the wire
    response = _preview(admin_client, out.getvalue())
    assert response.status_code == 422
    refusal = _refusal(response)
    assert "MB" in refusal and str(frameworks.MEMBER_MAX // 1024 // 1024) in refusal


def test_an_import_cannot_add_a_theme_item_to_a_finished_year(admin_client, branch, finished_and_started):
    def finished_theme(book):
        book["条目"].append(["", "leadership", 1, "给已结束年度的主题条目", 1, 2011])

    response = _preview(admin_client, _book(finished_theme))
    assert response.status_code == 422
    assert "2011" in _refusal(response) and "已结束" in _refusal(response)
    assert db.session.scalar(select(Item).where(Item.text == "给已结束年度的主题条目")) is None


# --- 7. formulas are named, not "required" ---------------------------------------------------------------------

def test_a_formula_cell_is_refused_by_name(admin_client):
    def formula(book):
        book["条目"]["D3"] = '=CONCATENATE("a","b")'

    response = _preview(admin_client, _book(formula))
    assert response.status_code == 422
    refusal = _refusal(response)
    assert "D3" in refusal and "公式" in refusal and "必填" not in refusal


# --- 10. duplicate wordings; 编号 given twice or belonging elsewhere --------------------------------------------

def test_an_item_worded_like_another_of_its_criterion_is_refused(admin_client):
    first, second = items(Subject.BRANCH)[:2]
    response = admin_client.form_post("/admin/frameworks/items?lang=zh", {
        "criterion": str(first.criterion_id), "text": f" {first.text} ", "weight": "1"})
    assert response.status_code == 422
    assert "表述相同" in _error(response.get_data(as_text=True), f"a{first.criterion_id}-text")
    response = admin_client.form_post(f"/admin/frameworks/items/{second.id}?lang=zh", {
        "version": str(second.version), "text": first.text, "weight": "1"})
    assert response.status_code == 422 and _error(response.get_data(as_text=True), f"i{second.id}-text")
    assert fresh(second).text == second.text
    assert len(list(db.session.scalars(select(Item).where(Item.text == first.text)))) == 1


def test_an_import_with_a_repeated_wording_or_item_number_is_refused_by_row(admin_client):
    other = db.session.scalar(select(Item).join(Criterion).join(Framework).where(
        Framework.subject == Subject.MEMBER))

    def repeated_wording(book):
        sheet = book["条目"]
        sheet.append(["", sheet["B2"].value, 99, sheet["D2"].value, 1, None])

    def repeated_number(book):
        sheet = book["条目"]
        sheet["A3"] = sheet["A2"].value

    def foreign_number(book):
        book["条目"]["A2"] = other.id

    for change, row in ((repeated_wording, None), (repeated_number, 3), (foreign_number, 2)):
        before = {i.id: (i.text, i.weight, i.retired_from) for i in db.session.scalars(select(Item))}
        response = _preview(admin_client, _book(change))
        assert response.status_code == 422, change.__name__
        refusal = _refusal(response)
        if row is None:
            assert "表述与同一准则第 2 行相同" in refusal
        else:
            assert f"第 {row} 行" in refusal and "编号" in refusal
        assert {i.id: (i.text, i.weight, i.retired_from) for i in db.session.scalars(select(Item))} == before


def test_the_editor_page_and_tallies_still_agree(admin_client):
    assert load_workbook(io.BytesIO(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data))
    assert tallies.differences() == []


def test_bringing_back_an_item_worded_like_an_active_one_is_refused(admin_client):
    """Retire an item, add another worded alike, then bring the first back: refused as an add or edit with that
    wording is, and the item stays retired."""
    first = items(Subject.BRANCH)[0]
    assert admin_client.form_post(f"/admin/frameworks/items/{first.id}/active", {"active": "0"}).status_code == 303
    assert not fresh(first).active
    assert admin_client.form_post("/admin/frameworks/items", {
        "criterion": str(first.criterion_id), "text": f" {first.text} ", "weight": "1"}).status_code == 303
    response = admin_client.form_post(f"/admin/frameworks/items/{first.id}/active?lang=zh", {"active": "1"})
    assert response.status_code == 422
    assert "该准则下已有表述相同的条目" in response.get_data(as_text=True)
    assert not fresh(first).active
