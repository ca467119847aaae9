"""The framework editor (organisation section): criteria, items and theme items of 五个好 / 五带头; answers keep
the wording they were given against; a started year changes only after a confirmation; a framework as an XLSX
file (export → edit → import round-trips, a preview first, all or nothing, bad files answered 422 in Chinese)."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, CampaignYear, Criterion, Framework, Item, ItemResult, Result, Subject
from portal.services import tallies

from ..checklist_helpers import current_year, items, make_assessment, year
from ..factories import BranchFactory

BRANCH_EDITOR = "/admin/frameworks/five_goods"


def framework(code="five_goods") -> Framework:
    return db.session.scalar(select(Framework).where(Framework.code == code))


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("framework.%"))))


def xlsx(data: bytes, name="framework.xlsx"):
    return {"file": (io.BytesIO(data), name)}


@pytest.fixture
def admin_client(client, admin):
    client.login(admin)
    return client


# --- who may ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["secretary", "member", "leader", "editor"])
def test_only_the_organisation_section_edits_frameworks(client, request, admin, who):
    client.login(request.getfixturevalue(who))
    item = items(Subject.BRANCH)[0]
    criterion_id = item.criterion_id
    assert client.get("/admin/frameworks").status_code == 403
    assert client.get(BRANCH_EDITOR).status_code == 403
    assert client.get(BRANCH_EDITOR + "/export.xlsx").status_code == 403
    assert client.form_post(f"/admin/frameworks/items/{item.id}", {"text": "改", "weight": "1"}).status_code == 403
    assert client.form_post(f"/admin/frameworks/items/{item.id}/active", {"active": "0"}).status_code == 403
    assert client.form_post("/admin/frameworks/items", {"criterion": str(criterion_id), "text": "新",
                                                        "weight": "1"}).status_code == 403
    assert client.form_post(f"/admin/frameworks/criteria/{criterion_id}", {"title": "改"}).status_code == 403
    assert fresh(item).text == item.text and fresh(item).active
    assert audit_actions() == []


def test_the_editor_shows_both_frameworks_in_chinese(admin_client):
    page = admin_client.get("/admin/frameworks?lang=zh").get_data(as_text=True)
    assert "五个好" in page and "五带头" in page
    page = admin_client.get(BRANCH_EDITOR + "?year=2012").get_data(as_text=True)
    assert "领导班子好" in page and "深入学习实践科学发展观" in page
    assert "总结有效做法,建立党建工作长效管理机制" in page  # 2012's theme item
    assert "添加条目" in page and "导出" in page
    assert admin_client.get("/admin/frameworks/nothing").status_code == 404


# --- editing with no assessment yet: no confirmation --------------------------------------------------------

def test_edit_an_item_before_any_assessment(admin_client):
    first, second = items(Subject.BRANCH)[:2]
    response = admin_client.form_post(f"/admin/frameworks/items/{second.id}?year=2012",
                                      {"version": "1", "text": "  新的表述  ", "weight": "2.5", "position": "1"})
    assert response.status_code == 303 and "year=2012" in response.headers["Location"]
    second, first = fresh(second), fresh(first)
    assert (second.text, second.weight, second.position, first.position) == ("新的表述", 2.5, 1, 2)
    assert framework().version == 1  # nothing had started: no new version
    assert audit_actions() == ["framework.item_update"]


def test_invalid_input_is_shown_beside_the_fields(admin_client):
    item = items(Subject.BRANCH)[0]
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}", {"version": "1",
                                                                             "text": "\u200b", "weight": "abc"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="i{item.id}-text-error"' in page and f'id="i{item.id}-weight-error"' in page
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}", {"version": "1",
                                                                             "text": "x", "weight": "101"})
    assert response.status_code == 422
    assert fresh(item).text == item.text


def test_add_items_for_every_year_and_theme_items_for_one(admin_client, branch, other_branch):
    criterion = db.session.get(Criterion, items(Subject.BRANCH)[0].criterion_id)
    response = admin_client.form_post("/admin/frameworks/items", {"criterion": str(criterion.id),
                                                                  "text": "每年都问的新条目", "weight": "1"})
    assert response.status_code == 303
    response = admin_client.form_post("/admin/frameworks/items", {"criterion": str(criterion.id),
                                                                  "text": "2012 年主题条目", "weight": "1",
                                                                  "year": "2012"})
    assert response.status_code == 303
    theme = db.session.scalar(select(Item).where(Item.text == "2012 年主题条目"))
    assert theme.year_id == year(2012).id and theme.position >= 100
    texts_2012 = [i.text for i in items(Subject.BRANCH, year(2012))]
    texts_2011 = [i.text for i in items(Subject.BRANCH, year(2011))]
    assert "2012 年主题条目" in texts_2012 and "2012 年主题条目" not in texts_2011
    assert "每年都问的新条目" in texts_2011
    response = admin_client.form_post("/admin/frameworks/items", {"criterion": str(criterion.id),
                                                                  "text": "x", "weight": "1", "year": "2099"})
    assert response.status_code == 422
    assert sorted(audit_actions()) == ["framework.item_add", "framework.item_add"]


def test_edit_a_criterion(admin_client):
    criteria = list(db.session.scalars(select(Criterion).where(Criterion.framework_id == framework().id)
                                       .order_by(Criterion.position)))
    response = admin_client.form_post(f"/admin/frameworks/criteria/{criteria[1].id}",
                                      {"version": "1",
                                       "title": "党员队伍建设好", "title_en": "Members", "official_text": "说明",
                                       "position": "1"})
    assert response.status_code == 303
    assert (fresh(criteria[1]).title, fresh(criteria[1]).position, fresh(criteria[0]).position) == (
        "党员队伍建设好", 1, 2)
    response = admin_client.form_post(f"/admin/frameworks/criteria/{criteria[1].id}", {"version": "2", "title": ""})
    assert response.status_code == 422


# --- a started year: old answers keep their wording; changes need confirmation -------------------------------

def test_old_answers_keep_their_wording_and_a_started_year_asks_for_confirmation(admin_client, branch,
                                                                                 other_branch):
    make_assessment(branch, answer_all=Result.MET)  # 2012 has started
    item = items(Subject.BRANCH)[0]
    old = item.text
    url = f"/admin/frameworks/items/{item.id}"
    response = admin_client.form_post(url, {"version": "1", "text": "新的表述", "weight": "1", "position": "1"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "2012" in page and 'name="confirm" value="1"' in page and 'value="新的表述"' in page
    assert fresh(item).text == old and audit_actions() == []  # nothing changed yet
    response = admin_client.form_post(url, {"version": "1",
                                            "text": "新的表述", "weight": "1", "position": "1", "confirm": "1"})
    assert response.status_code == 303
    assert fresh(item).text == "新的表述" and framework().version == 2
    answer = db.session.scalar(select(ItemResult).where(ItemResult.item_id == item.id))
    assert answer.item_text == old and answer.result == Result.MET
    # The answered checklist shows the wording it was answered against; an unanswered one, the new wording.
    answered = admin_client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    unanswered = admin_client.get(f"/checklist/branch/{other_branch.id}").get_data(as_text=True)
    assert old in answered and "新的表述" not in answered
    assert "新的表述" in unanswered
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "framework.item_update"))
    assert event.before["text"] == old and event.after["text"] == "新的表述" and event.after["version"] == 2
    assert tallies.differences() == []


def test_retiring_keeps_answered_items_and_leaves_them_out_of_new_checklists(admin_client, branch, other_branch):
    make_assessment(branch, answer_all=Result.MET)
    item = items(Subject.BRANCH)[0]
    url = f"/admin/frameworks/items/{item.id}/active"
    assert admin_client.form_post(url, {"active": "0"}).status_code == 409
    assert fresh(item).active
    assert admin_client.form_post(url, {"active": "0", "confirm": "1"}).status_code == 303
    assert not fresh(item).active
    assert f'id="item-{item.id}"' in admin_client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    assert f'id="item-{item.id}"' not in admin_client.get(f"/checklist/branch/{other_branch.id}").get_data(
        as_text=True)
    assert db.session.scalar(select(ItemResult.item_text).where(ItemResult.item_id == item.id)) == item.text
    assert tallies.differences() == []
    assert admin_client.form_post(url, {"active": "1", "confirm": "1"}).status_code == 303
    assert fresh(item).active and audit_actions() == ["framework.item_retire", "framework.item_restore"]


def test_a_weight_change_in_a_started_year_rebuilds_the_figures(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET)
    item = items(Subject.BRANCH)[0]
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}", {"version": "1",
                                                                             "text": item.text, "weight": "3",
                                                                             "confirm": "1"})
    assert response.status_code == 303 and fresh(item).weight == 3.0
    assert tallies.differences() == []


def test_a_theme_item_of_an_unstarted_year_needs_no_confirmation(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET, year_obj=year(2011))  # 2011 (finished) started, 2012 not
    criterion_id = items(Subject.BRANCH)[0].criterion_id
    theme = Item(criterion_id=criterion_id, year_id=year(2012).id, position=100, text="2012主题条目", weight=1.0)
    db.session.add(theme)
    db.session.commit()
    response = admin_client.form_post(f"/admin/frameworks/items/{theme.id}", {"version": "1",
                                                                              "text": "改过的2012主题条目",
                                                                              "weight": "1"})
    assert response.status_code == 303 and framework().version == 1


def test_the_confirmation_page_works_without_javascript(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET)
    criterion = db.session.get(Criterion, items(Subject.BRANCH)[0].criterion_id)
    response = admin_client.form_post("/admin/frameworks/items?year=2012",
                                      {"criterion": str(criterion.id), "text": "新条目", "weight": "1",
                                       "year": "2012"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'action="/admin/frameworks/items?year=2012"' in page and "<script" not in page.split("<main")[1]
    assert db.session.scalar(select(Item).where(Item.text == "新条目")) is None


# --- the framework as a file ---------------------------------------------------------------------------------

def test_export_then_import_unchanged_changes_nothing(admin_client):
    data = admin_client.get(BRANCH_EDITOR + "/export.xlsx").data
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["框架", "准则", "条目"] and book["框架"]["B1"].value == "five_goods"
    response = admin_client.post(BRANCH_EDITOR + "/import", data={"csrf_token": admin_client.csrf_token(),
                                                                   **xlsx(data)}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "没有需要修改的内容" in admin_client.get(BRANCH_EDITOR).get_data(as_text=True) or \
        "import-preview" in response.get_data(as_text=True)
    assert 'name="plan"' not in response.get_data(as_text=True)


def _edited(data: bytes) -> bytes:
    book = load_workbook(io.BytesIO(data))
    sheet = book["条目"]
    sheet["D2"] = "深入学习实践科学发展观,并用以指导工作"  # wording of the first item
    sheet["E3"] = 2  # weight of the second
    sheet.delete_rows(4)  # retire the third
    sheet.append(["", "leadership", 99, "新增:班子成员联系师生", 1, None])
    sheet.append(["", "membership", 1, "2012 年的新主题条目", 1.5, 2012])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _preview(client, data: bytes, name="framework.xlsx"):
    return client.post(BRANCH_EDITOR + "/import", data={"csrf_token": client.csrf_token(), **xlsx(data, name)},
                       content_type="multipart/form-data")


def _hidden(page: str, name: str) -> str:
    import html
    import re

    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


def test_import_previews_then_applies_all_changes_and_round_trips(admin_client, branch):
    before = {i.id: i.text for i in items(Subject.BRANCH)}
    first, second, third = items(Subject.BRANCH)[:3]
    data = _edited(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data)
    response = _preview(admin_client, data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for words in ("并用以指导工作", "新增:班子成员联系师生", "2012 年的新主题条目", third.text):
        assert words in page
    assert {i.id: i.text for i in items(Subject.BRANCH)} == before  # the preview wrote nothing
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply",
                                      {"plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint")})
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    assert fresh(first).text == "深入学习实践科学发展观,并用以指导工作"
    assert fresh(second).weight == 2.0 and not fresh(third).active
    assert db.session.scalar(select(Item).where(Item.text == "新增:班子成员联系师生")).year_id is None
    assert db.session.scalar(select(Item).where(Item.text == "2012 年的新主题条目")).year_id == year(2012).id
    assert audit_actions() == ["framework.import"]
    assert tallies.differences() == []
    # Round trip: what is exported now imports as "nothing to change".
    again = admin_client.get(BRANCH_EDITOR + "/export.xlsx").data
    rows = list(load_workbook(io.BytesIO(again))["条目"].iter_rows(values_only=True))
    assert any(r[3] == "新增:班子成员联系师生" for r in rows) and not any(r[3] == third.text for r in rows)
    assert 'name="plan"' not in _preview(admin_client, again).get_data(as_text=True)


def test_an_import_reaching_a_started_year_asks_for_confirmation(admin_client, branch):
    make_assessment(branch, answer_all=Result.MET)
    first = items(Subject.BRANCH)[0]
    old = first.text
    page = _preview(admin_client, _edited(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data)).get_data(
        as_text=True)
    assert 'name="confirm"' in page
    fields = {"plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint")}
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", fields)
    assert response.status_code == 409 and fresh(first).text == old
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {**fields, "confirm": "1"})
    assert response.status_code == 303 and framework().version == 2
    assert db.session.scalar(select(ItemResult.item_text).where(ItemResult.item_id == first.id)) == old


def test_an_import_is_refused_when_the_framework_changed_since_the_preview(admin_client):
    page = _preview(admin_client, _edited(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data)).get_data(
        as_text=True)
    item = items(Subject.BRANCH)[5]
    assert admin_client.form_post(f"/admin/frameworks/items/{item.id}", {"version": "1", "text": "中途改了",
                                                                         "weight": "1"}).status_code == 303
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {"plan": _hidden(page, "plan"),
                                                                        "fingerprint": _hidden(page, "fingerprint")})
    assert response.status_code == 409
    assert db.session.scalar(select(Item).where(Item.text == "新增:班子成员联系师生")) is None


def test_an_import_sent_twice_is_answered_as_saved(admin_client, branch):
    """The second send of one import (a double click, a resend after a slow answer) finds the framework already
    as the plan makes it: answered as saved (303 to the framework, success), never "changed since the
    preview"; nothing is applied twice."""
    page = _preview(admin_client, _edited(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data)).get_data(
        as_text=True)
    fields = {"plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint")}
    first = admin_client.form_post(BRANCH_EDITOR + "/import/apply", fields)
    assert first.status_code == 303
    version = framework().version
    again = admin_client.form_post(BRANCH_EDITOR + "/import/apply?lang=zh", fields)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert "文件已导入" in admin_client.get(again.headers["Location"]).get_data(as_text=True)
    assert framework().version == version and audit_actions() == ["framework.import"]
    assert db.session.scalar(select(func.count(Item.id)).where(Item.text == "新增:班子成员联系师生")) == 1


def _book(change) -> bytes:
    from portal.services.frameworks import export_xlsx

    book = load_workbook(io.BytesIO(export_xlsx(framework())))
    change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("data, name, words", [
    (b"not a workbook at all", "framework.xlsx", "文件"),
    (b"a,b\n", "framework.csv", "XLSX"),
    ("five_leads", "framework.xlsx", "五带头"),
    ("no_sheet", "framework.xlsx", "条目"),
    ("bad_rows", "framework.xlsx", "第 2 行"),
    ("bad_header", "framework.xlsx", "表述"),
    ("unknown_criterion", "framework.xlsx", "nosuch"),
])
def test_bad_files_are_refused_in_chinese(admin_client, data, name, words):
    def other_framework(book):
        book["框架"]["B1"] = "five_leads"

    def no_sheet(book):
        del book["条目"]

    def bad_rows(book):
        book["条目"]["D2"] = ""
        book["条目"]["E3"] = "很重"
        book["条目"]["F4"] = 1999

    def bad_header(book):
        book["条目"]["D1"] = "内容"

    def unknown_criterion(book):
        book["条目"]["B2"] = "nosuch"

    changes = {"five_leads": other_framework, "no_sheet": no_sheet, "bad_rows": bad_rows, "bad_header": bad_header,
               "unknown_criterion": unknown_criterion}
    if isinstance(data, str):
        data = _book(changes[data])
    before = {i.id: (i.text, i.weight, i.active) for i in db.session.scalars(select(Item))}
    response = admin_client.post(BRANCH_EDITOR + "/import?lang=zh",
                                 data={"csrf_token": admin_client.csrf_token(), **xlsx(data, name)},
                                 content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert words in page and 'id="import-file-error"' in page
    assert {i.id: (i.text, i.weight, i.active) for i in db.session.scalars(select(Item))} == before


def test_a_tampered_plan_is_checked_again(admin_client):
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {"plan": "{not json", "fingerprint": "x"})
    assert response.status_code in (409, 422)
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {"plan": "[]", "fingerprint": "x"})
    assert response.status_code in (409, 422)
    assert audit_actions() == []


def test_the_current_year_is_the_default_for_new_checklists(admin_client, branch):
    assert current_year().year == 2012


# --- validity in years: a finished year keeps its checklists and figures ---------------------------------------

def _shown(client, number: int, branches) -> dict:
    """Everything a campaign year shows of its 五个好 checklists: the kept tallies and branch summaries, each
    branch's checklist (items and overall progress), and the XLSX item sheet of the year."""
    import re

    from portal.models import Assessment, AssessmentTally, BranchSummary
    from portal.services import progress

    the_year = year(number)
    tallies.apply_pending(summaries=True)
    kept = sorted(db.session.execute(
        select(AssessmentTally.assessment_id, AssessmentTally.criterion_id, *progress.tally_columns())
        .join(Assessment, Assessment.id == AssessmentTally.assessment_id)
        .where(Assessment.year_id == the_year.id)).all())
    summaries = sorted(db.session.execute(
        select(BranchSummary.branch_id, BranchSummary.total, BranchSummary.met, BranchSummary.progress,
               BranchSummary.score).where(BranchSummary.year_id == the_year.id)).all())
    pages = {}
    for branch in branches:
        page = client.get(f"/checklist/branch/{branch.id}?year={number}").get_data(as_text=True)
        pages[branch.id] = (re.findall(r'id="item-(\d+)" data-row', page), re.findall(r'aria-valuenow="([^"]*)"', page))
    book = load_workbook(io.BytesIO(client.get(f"/dashboard/items.xlsx?year={number}").data), read_only=True)
    sheet = list(book[book.sheetnames[-1]].iter_rows(values_only=True))
    return {"kept": kept, "summaries": summaries, "pages": pages, "sheet": sheet}


@pytest.fixture
def finished_and_started(branch, other_branch):
    """2011 finished (branch reviewed, every item answered but the last; other_branch never started) and 2012
    (current) started by branch."""
    from portal.models import AssessmentStatus

    finished = make_assessment(branch, status=AssessmentStatus.REVIEWED, year_obj=year(2011))
    for item in items(Subject.BRANCH, year(2011))[:-1]:
        db.session.add(ItemResult(assessment_id=finished.id, item_id=item.id, result=Result.MET, item_text=item.text))
    db.session.commit()
    make_assessment(branch, answer_all=Result.MET)
    return finished


def _agree_with_a_rebuild(runner) -> None:
    from portal.services import figures

    assert tallies.differences() == [] and figures.differences(db.session) == []
    result = runner.invoke(args=["rebuild-figures"])
    assert result.exit_code == 0 and "0 differed" in result.output, result.output


def test_an_item_added_later_leaves_a_finished_year_as_it_was(admin_client, runner, branch, other_branch,
                                                             finished_and_started):
    before = _shown(admin_client, 2011, [branch, other_branch])
    assert before["pages"][branch.id][0] and before["summaries"]
    criterion = db.session.get(Criterion, items(Subject.BRANCH)[0].criterion_id)
    fields = {"criterion": str(criterion.id), "text": "新增的每年条目", "weight": "1"}
    page = admin_client.get(BRANCH_EDITOR + "?lang=zh").get_data(as_text=True)
    assert "2012 年起每个活动年度" in page and "2012 年之前各年度的自评表保持原样" in page
    response = admin_client.form_post("/admin/frameworks/items", fields)  # 2012 has started; 2011 is not reached
    assert response.status_code == 409 and "2011" not in response.get_data(as_text=True).split("<main")[1]
    assert admin_client.form_post("/admin/frameworks/items", {**fields, "confirm": "1"}).status_code == 303
    added = db.session.scalar(select(Item).where(Item.text == "新增的每年条目"))
    assert (added.valid_from, added.retired_from) == (2012, None)
    assert _shown(admin_client, 2011, [branch, other_branch]) == before  # progress, scores, pages, export
    # From 2012 on it is asked: the started checklist has one item more, not yet assessed.
    assert added.id in [i.id for i in items(Subject.BRANCH)] and added.id not in [
        i.id for i in items(Subject.BRANCH, year(2011))]
    assert f'id="item-{added.id}"' in admin_client.get(f"/checklist/branch/{other_branch.id}").get_data(
        as_text=True)
    now = _shown(admin_client, 2012, [branch])
    assert str(added.id) in now["pages"][branch.id][0]
    _agree_with_a_rebuild(runner)


def test_a_theme_item_cannot_be_added_to_a_finished_year(admin_client, runner, branch, other_branch,
                                                          finished_and_started):
    """A finished year's checklists are read-only and reviewed: an item added to it could never be answered and
    would lower its figures (a breaker's finding). The form does not offer it; a crafted request is refused."""
    before = _shown(admin_client, 2011, [branch, other_branch])
    page = admin_client.get(BRANCH_EDITOR + "?lang=zh").get_data(as_text=True)
    assert "仅 2012 年度" in page and "仅 2011 年度" not in page
    criterion = db.session.get(Criterion, items(Subject.BRANCH)[0].criterion_id)
    response = admin_client.form_post("/admin/frameworks/items", {
        "criterion": str(criterion.id), "text": "给已结束年度的主题条目", "weight": "1", "year": "2011",
        "confirm": "1"})
    assert response.status_code == 422
    assert "2011 年是已结束的活动年度" in response.get_data(as_text=True)
    assert db.session.scalar(select(Item).where(Item.text == "给已结束年度的主题条目")) is None
    assert _shown(admin_client, 2011, [branch, other_branch]) == before
    _agree_with_a_rebuild(runner)


def test_an_item_retired_later_stays_in_a_finished_year(admin_client, runner, branch, other_branch,
                                                       finished_and_started):
    unanswered_2011 = items(Subject.BRANCH, year(2011))[-1]  # 2011 left it unanswered; 2012 answered it
    before = _shown(admin_client, 2011, [branch, other_branch])
    url = f"/admin/frameworks/items/{unanswered_2011.id}/active"
    assert admin_client.form_post(url, {"active": "0", "confirm": "1"}).status_code == 303
    assert fresh(unanswered_2011).retired_from == 2012 and not fresh(unanswered_2011).active
    assert _shown(admin_client, 2011, [branch, other_branch]) == before
    # 2012: the branch that answered it keeps it; a new checklist leaves it out.
    assert f'id="item-{unanswered_2011.id}"' in admin_client.get(f"/checklist/branch/{branch.id}").get_data(
        as_text=True)
    assert f'id="item-{unanswered_2011.id}"' not in admin_client.get(
        f"/checklist/branch/{other_branch.id}").get_data(as_text=True)
    assert "2012 年起停用" in admin_client.get(BRANCH_EDITOR + "?lang=zh").get_data(as_text=True)
    _agree_with_a_rebuild(runner)
    # Brought back in the same year: the item itself is asked again.
    assert admin_client.form_post(url, {"active": "1", "confirm": "1"}).status_code == 303
    assert fresh(unanswered_2011).active and _shown(admin_client, 2011, [branch, other_branch]) == before
    _agree_with_a_rebuild(runner)


def _make_current(number: int) -> None:
    for other in db.session.scalars(select(CampaignYear)):
        other.is_current = False
    db.session.flush()
    year(number).is_current = True
    db.session.commit()


def test_bringing_back_an_item_retired_in_an_earlier_year_asks_a_new_version(admin_client, admin, runner, branch,
                                                                            other_branch, finished_and_started):
    from portal.services import frameworks

    item = items(Subject.BRANCH, year(2011))[-1]
    _make_current(2011)
    assert frameworks.set_item_active(admin, item, False, confirmed=True)
    assert fresh(item).retired_from == 2011  # 2011 was the current year: asked no more from 2011 on
    _make_current(2012)
    before = _shown(admin_client, 2011, [branch, other_branch])
    assert frameworks.set_item_active(admin, fresh(item), True, confirmed=True)
    again = db.session.scalar(select(Item).where(Item.text == item.text, Item.id != item.id))
    assert fresh(item).retired_from == 2011 and (again.valid_from, again.retired_from) == (2012, None)
    assert again.position == fresh(item).position + 1
    assert _shown(admin_client, 2011, [branch, other_branch]) == before  # 2011 still without it
    assert again.id in [i.id for i in items(Subject.BRANCH)]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "framework.item_restore"))
    assert event.after["asked_again_as"] == again.id
    _agree_with_a_rebuild(runner)


def test_an_imported_item_and_retirement_take_effect_from_the_current_year(admin_client, runner, branch,
                                                                           other_branch, finished_and_started):
    before = _shown(admin_client, 2011, [branch, other_branch])
    third = items(Subject.BRANCH)[2]
    page = _preview(admin_client, _edited(admin_client.get(BRANCH_EDITOR + "/export.xlsx").data)).get_data(
        as_text=True)
    response = admin_client.form_post(BRANCH_EDITOR + "/import/apply", {
        "plan": _hidden(page, "plan"), "fingerprint": _hidden(page, "fingerprint"), "confirm": "1"})
    assert response.status_code == 303
    added = db.session.scalar(select(Item).where(Item.text == "新增:班子成员联系师生"))
    assert added.valid_from == 2012 and fresh(third).retired_from == 2012
    theme = db.session.scalar(select(Item).where(Item.text == "2012 年的新主题条目"))
    assert theme.year_id == year(2012).id and theme.valid_from is None
    after = _shown(admin_client, 2011, [branch, other_branch])
    # The import also edited two items' wording (unanswered checklists of 2011 show the new wording) and a weight
    # (2011 keeps the weight it was scored with); the item added for every year and the retired one leave 2011
    # as it was.
    assert str(added.id) not in after["pages"][other_branch.id][0]
    assert str(third.id) in after["pages"][other_branch.id][0]
    assert str(third.id) in before["pages"][other_branch.id][0]
    _agree_with_a_rebuild(runner)


# --- the wording answered, wherever an answered item is named ---------------------------------------------------

def test_pledge_tags_and_the_item_sheet_show_the_wording_that_was_answered(admin_client, branch, other_branch,
                                                                          secretary):
    from sqlalchemy import insert

    from portal.models import Pledge, PledgeStatus, pledge_item
    from portal.services import pledges

    item = items(Subject.BRANCH)[0]
    old, title = item.text, db.session.get(Criterion, item.criterion_id).title
    make_assessment(branch, answer_all=Result.MET)  # 2012 answered it as it was worded then
    pledge = pledges.create(secretary, current_year(), for_branch=True, text="支部承诺", item_ids=[str(item.id)])
    earlier = Pledge(year_id=year(2011).id, branch_id=branch.id, author_id=secretary.id, text="2011 年的承诺",
                     status=PledgeStatus.APPROVED)  # 2011 never answered the item
    db.session.add(earlier)
    db.session.flush()
    db.session.execute(insert(pledge_item), [{"pledge_id": earlier.id, "item_id": item.id}])
    db.session.commit()
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}",
                                      {"version": "1",
                                       "text": "改过的表述", "weight": "1", "position": "1", "confirm": "1"})
    assert response.status_code == 303 and fresh(item).text == "改过的表述"

    # 2011 never answered it, but the edit was made in 2012: 2011 keeps the wording valid then.
    assert pledges.tags_for([pledge.id, earlier.id]) == {pledge.id: [f"{title} · {old}"],
                                                         earlier.id: [f"{title} · {old}"]}
    page = admin_client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert f"{title} · {old}" in page and "改过的表述" not in page
    book = load_workbook(io.BytesIO(admin_client.get("/dashboard/items.xlsx").data), read_only=True)
    sheet = list(book[book.sheetnames[-1]].iter_rows(values_only=True))
    # Each answer beside its own wording: the branch's answer on the old wording's line, the branch that has not
    # answered on the new wording's.
    lines = {row[2]: row for row in sheet if row[2] in (old, "改过的表述")}
    column = list(sheet[0]).index(branch.name)
    assert lines[old][column] == "达标" and lines["改过的表述"][column] in ("", None)
    # However 2012's other answers were given, a pledge keeps its own checklist's wording.
    other = make_assessment(other_branch)
    db.session.add(ItemResult(assessment_id=other.id, item_id=item.id, result=Result.MET, item_text="改过的表述"))
    third = make_assessment(BranchFactory())
    db.session.add(ItemResult(assessment_id=third.id, item_id=item.id, result=Result.PARTLY, item_text="改过的表述"))
    db.session.commit()
    assert pledges.tags_for([pledge.id])[pledge.id] == [f"{title} · {old}"]
