"""The framework editor against a breaker's second round: a finished year keeps the order and numbers of its items
(KeptItemPosition) after a move in the form or the import; a finished year's theme items are read-only; the import
preview shows moves and refuses a bad 序号; the dashboard export numbers items as the checklist does."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Item, KeptItemPosition, Subject

from ..checklist_helpers import items, year
from . import test_framework_editor as editor
from .test_framework_editor import BRANCH_EDITOR, _agree_with_a_rebuild, _book, _hidden, _preview, _shown, fresh

admin_client = editor.admin_client  # the fixtures of the editor's tests
finished_and_started = editor.finished_and_started


def _own_items_of_first_criterion() -> list[Item]:
    first = items(Subject.BRANCH)[0]
    return [i for i in items(Subject.BRANCH) if i.criterion_id == first.criterion_id and i.year_id is None]


def _numbers(page: str) -> list[str]:
    return re.findall(r'<span class="item__number">([^<]*)</span>', page)


def _rows(page: str) -> list[str]:
    return re.findall(r'id="item-(\d+)" data-row', page)


def _refusal(response) -> str:
    found = re.search(r'id="import-file-error"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    return found.group(1) if found else ""


# --- 1. a move leaves a finished year's order and numbers as they were ----------------------------------------

def test_a_moved_item_keeps_its_place_in_a_finished_year(admin_client, runner, branch, other_branch,
                                                         finished_and_started):
    first, _second, third = _own_items_of_first_criterion()[:3]
    before = _shown(admin_client, 2011, [branch, other_branch])
    page = admin_client.get(f"/checklist/branch/{branch.id}?year=2011").get_data(as_text=True)
    assert _rows(page)[0] == str(first.id)
    fields = {"version": str(third.version), "text": third.text, "weight": "1", "position": "1"}
    response = admin_client.form_post(f"/admin/frameworks/items/{third.id}", fields)
    assert response.status_code == 409
    confirm = response.get_data(as_text=True)
    assert "2011" in confirm  # the finished year is named as keeping its order, not renumbered
    assert admin_client.form_post(f"/admin/frameworks/items/{third.id}",
                                  {**fields, "confirm": "1"}).status_code == 303
    assert _shown(admin_client, 2011, [branch, other_branch]) == before  # pages, numbers, export sheet
    assert db.session.get(KeptItemPosition, (year(2011).id, first.id)).position == 1
    current = admin_client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    assert _rows(current)[0] == str(third.id)  # the current year asks the new order
    _agree_with_a_rebuild(runner)


def test_an_imported_swap_keeps_a_finished_years_order(admin_client, runner, branch, other_branch,
                                                       finished_and_started):
    first, second = _own_items_of_first_criterion()[:2]
    before = _shown(admin_client, 2011, [branch, other_branch])

    def swap(book):
        sheet = book["条目"]
        sheet["C2"], sheet["C3"] = 2, 1

    response = _preview(admin_client, _book(swap))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # The preview names the move and shows 序号 old → new.
    assert "调整顺序" in page and f"1. {first.text}" in page and f"2. {first.text}" in page
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {
        "plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint"), "confirm": "1"})
    assert response.status_code == 303
    assert fresh(second).position < fresh(first).position
    assert _shown(admin_client, 2011, [branch, other_branch]) == before
    _agree_with_a_rebuild(runner)


# --- 2. a finished year's theme items are read-only ------------------------------------------------------------

def _finished_theme_item() -> Item:
    return db.session.scalar(select(Item).where(Item.year_id == year(2011).id).order_by(Item.id))


def test_a_finished_years_theme_item_cannot_be_edited_or_retired(admin_client, finished_and_started):
    theme = _finished_theme_item()
    text, weight = theme.text, theme.weight
    response = admin_client.form_post(f"/admin/frameworks/items/{theme.id}?year=2011", {
        "version": str(theme.version), "text": "改过的", "weight": "5", "confirm": "1"})
    assert response.status_code == 422 and "已结束" in response.get_data(as_text=True)
    response = admin_client.form_post(f"/admin/frameworks/items/{theme.id}/active?year=2011",
                                      {"active": "0", "confirm": "1"})
    assert response.status_code == 422 and "已结束" in response.get_data(as_text=True)
    assert (fresh(theme).text, fresh(theme).weight, fresh(theme).active) == (text, weight, True)
    page = admin_client.get(BRANCH_EDITOR + "?year=2011").get_data(as_text=True)
    row = page[page.index(f'id="item-{theme.id}"'):]
    row = row[:row.index("</tr>")]
    assert "/active" not in row and "<form" not in row  # no edit or retire controls
    assert "只读" in page


def test_an_import_cannot_change_a_finished_years_theme_item(admin_client, finished_and_started):
    theme = _finished_theme_item()

    def reweigh(book):
        for line in book["条目"].iter_rows(min_row=2):
            if line[0].value == theme.id:
                line[4].value = 7
                return line[0].row
        raise AssertionError("the theme item is not in the file")

    response = _preview(admin_client, _book(reweigh))
    assert response.status_code == 422
    refusal = _refusal(response)
    assert "2011" in refusal and "已结束" in refusal and "行" in refusal
    assert fresh(theme).weight != 7


# --- 3. the preview: a bad 序号 is refused; an unknown 编号 is said to be new ----------------------------------

def test_a_bad_order_number_is_refused_by_row(admin_client):
    for bad in ("二", -3, 1e9, None):
        def change(book, bad=bad):
            book["条目"]["C2"] = bad

        response = _preview(admin_client, _book(change))
        assert response.status_code == 422, bad
        assert "序号" in _refusal(response) and "第 2 行" in _refusal(response), bad


def test_a_bad_criterion_order_number_is_refused_by_row(admin_client):
    for bad in ("二", -3, 1.5, 1e9, None):
        def change(book, bad=bad):
            book["准则"]["B2"] = bad

        response = _preview(admin_client, _book(change))
        assert response.status_code == 422, bad
        refusal = _refusal(response)
        assert "准则" in refusal and "第 2 行" in refusal and "序号" in refusal, bad


def test_an_unknown_item_number_is_a_new_item_said_so(admin_client):
    def unknown(book):
        book["条目"]["A2"], book["条目"]["D2"] = 9999, "编号不属于本框架的新条目"

    page = _preview(admin_client, _book(unknown)).get_data(as_text=True)
    assert "编号 9999 不是本框架的条目，将作为新条目导入" in page


def test_an_unknown_item_number_is_not_matched_by_wording(admin_client, admin):
    from portal.errors import Invalid
    from portal.services import frameworks

    first = items(Subject.BRANCH)[0]
    before = frameworks.fingerprint(editor.framework())

    def unknown(book):  # row 2 keeps the first item's wording under a 编号 of no item here
        assert book["条目"]["D2"].value == first.text
        book["条目"]["A2"] = 9999

    response = _preview(admin_client, _book(unknown))
    assert response.status_code == 422
    refusal = _refusal(response)
    assert "第 2 行" in refusal and "编号 9999 不是本框架的条目" in refusal and f"编号 {first.id}" in refusal
    # Applying the same plan (signed as a preview would sign it) is refused alike: nothing is matched or retired.
    framework = editor.framework()
    plan = json.dumps(frameworks._plan_from_sheets(framework, frameworks._read_sheets(_book(unknown))))
    signed = frameworks._signed(framework, before, plan)
    with pytest.raises(Invalid):
        frameworks.apply_import(admin, framework, plan, signed, confirmed=True)
    db.session.rollback()
    assert frameworks.fingerprint(editor.framework()) == before and fresh(first).active


# --- 4. the dashboard export numbers items as the checklist does ----------------------------------------------

def test_the_export_numbers_theme_items_as_the_checklist(admin_client, branch, finished_and_started):
    theme = _finished_theme_item()
    page = admin_client.get(f"/checklist/branch/{branch.id}?year=2011").get_data(as_text=True)
    shown = dict(zip(_rows(page), _numbers(page), strict=True))
    sheet = _shown(admin_client, 2011, [branch])["sheet"]
    numbers = [row[1] for row in sheet[1:] if row[1]]
    assert shown[str(theme.id)] in numbers
    assert sorted(numbers) == sorted(shown.values())
    assert not any(int(n.split(".")[1]) >= 100 for n in numbers)


# --- 5. small ones ---------------------------------------------------------------------------------------------

def test_a_confirmation_sent_twice_is_answered_as_saved(admin_client, branch):
    from ..checklist_helpers import make_assessment

    make_assessment(branch)  # 2012 has started: a change is confirmed
    item = _own_items_of_first_criterion()[0]
    fields = {"version": str(item.version), "text": "确认两次的表述", "weight": "2", "position": "1", "confirm": "1"}
    assert admin_client.form_post(f"/admin/frameworks/items/{item.id}", fields).status_code == 303
    again = admin_client.form_post(f"/admin/frameworks/items/{item.id}", fields)
    assert again.status_code == 303 and fresh(item).text == "确认两次的表述"
    # Another change on the old version is still a conflict, its weight shown as the editor shows it.
    stale = admin_client.form_post(f"/admin/frameworks/items/{item.id}", {**fields, "text": "另一个表述"})
    assert stale.status_code == 409
    saved = stale.get_data(as_text=True).split('class="conflict"')[1]
    assert "2.0" not in saved and ">2<" in saved.replace(" ", "")


def test_the_checklist_address_keeps_the_year(client, member, secretary):
    client.login(member)
    response = client.get("/checklist?year=2011")
    assert response.status_code == 302 and response.location.endswith(f"/checklist/member/{member.id}?year=2011")
    client.login(secretary)
    assert client.get("/checklist?year=2011").location.endswith("?year=2011")


def test_a_pledge_tag_of_a_retired_item_is_marked(client, branch, member):
    from portal.models import PledgeStatus, pledge_item

    from ..checklist_helpers import current_year, make_pledge

    item = _own_items_of_first_criterion()[0]
    pledge = make_pledge(branch, member, status=PledgeStatus.APPROVED)
    db.session.execute(pledge_item.insert().values(pledge_id=pledge.id, item_id=item.id))
    item.retired_from = current_year().year
    db.session.commit()
    client.login(member)
    for page in (client.get(f"/pledges/{pledge.id}"), client.get("/pledges")):
        assert page.status_code == 200
        assert f"{item.text}(已停用)" in page.get_data(as_text=True).replace(" (", "(")
