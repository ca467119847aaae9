"""XLSX and CSV exports of the overview, checked cell by cell against the database."""
import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, Criterion, Framework, ItemResult, Subject
from portal.services import progress

from ..dashboard_helpers import build_district, year

RESULT_ZH = {"met": "达标", "partly": "基本达标", "not_met": "未达标", "na": "不适用", "not_assessed": "未评"}


@pytest.fixture
def district(app):
    return build_district(5)


def _expected():
    """{branch name: (criterion tallies by position, overall)} straight from progress.py."""
    criteria = list(db.session.scalars(select(Criterion).join(Framework).where(
        Framework.subject == Subject.BRANCH).order_by(Criterion.position)))
    assessments = list(db.session.execute(select(Assessment.id, Assessment.branch_id).where(
        Assessment.year_id == year().id, Assessment.member_id.is_(None))))
    tallies = progress.tallies([a for a, _ in assessments])
    from portal.models import Branch

    names = dict(db.session.execute(select(Branch.id, Branch.name)).all())
    return criteria, {names[b]: tallies[a] for a, b in assessments}


def _xlsx(client, query="", download="export"):
    response = client.get(f"/dashboard/{download}.xlsx{query}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data), read_only=True)


def test_xlsx_has_a_sheet_per_year_and_item_results(client, leader, district):
    client.login(leader)
    book = _xlsx(client)
    names = book.sheetnames
    assert names[0].startswith("2012") and names[1].startswith("2011") and names[2].startswith("2010")
    assert len(names) == 3
    response = client.get("/dashboard/items.xlsx")  # the item results are their own download
    assert response.headers["Content-Disposition"].endswith("dashboard-2012-items.xlsx")
    assert load_workbook(io.BytesIO(response.data), read_only=True).sheetnames == ["2012 年逐项结果"]


def test_the_dashboard_offers_both_downloads_translated(client, leader, district):
    client.login(leader)
    page = client.get("/dashboard?kind=primary").get_data(as_text=True)
    assert "导出 Excel（XLSX）" in page and "逐项结果导出 Excel（XLSX）" in page
    assert 'href="/dashboard/items.xlsx?year=2012&amp;kind=primary" download' in page
    english = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Item results to Excel (XLSX)" in english


def test_xlsx_cells_match_the_database(client, leader, district):
    client.login(leader)
    book = _xlsx(client)
    rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    criteria, expected = _expected()
    assert header[:3] == ("党组织", "单位", "单位类型")
    assert header[3] == f"{criteria[0].title} 得分" and header[4] == f"{criteria[0].title} 进度 %"
    assert "总体进度 %" in header and "自评状态" in header
    assert len(body) == 5
    col = {name: i for i, name in enumerate(header)}
    for line in body:
        tallies = expected[line[0]]
        for criterion in criteria:
            tally = tallies[criterion.id]
            assert line[col[f"{criterion.title} 得分"]] == tally.score
            assert line[col[f"{criterion.title} 进度 %"]] == tally.progress
        overall = progress.overall(tallies)
        assert line[col["总体进度 %"]] == overall.progress
        assert line[col["总体得分"]] == overall.score
        assert line[col["未达标项"]] == overall.not_met
    by_name = {line[0]: line for line in body}
    second = by_name[district.branches[1].name]
    assert second[col["自评状态"]] == "已提交"
    assert second[col["已公开承诺"]] == 1 and second[col["典型宣传"]] == 1
    assert second[col["实施方案报送"]] == "未报送" and second[col["逾期未报送"]] == 1
    first = by_name[district.branches[0].name]
    assert first[col["党员已自评"]] == 1 and first[col["党员人数"]] == 2


def test_xlsx_item_sheet_keeps_the_framework(client, leader, district):
    client.login(leader)
    book = _xlsx(client, download="items")
    rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("标准", "序号", "指标")
    branch_cols = {name: i for i, name in enumerate(header) if i >= 3}
    assert set(branch_cols) == {b.name for b in district.branches}
    criteria, _ = _expected()
    headings = [r[0] for r in rows[1:] if r[1] in ("", None)]
    assert headings == [f"{c.position}. {c.title}" for c in criteria]
    answers = list(db.session.execute(
        select(Assessment.branch_id, ItemResult.item_text, ItemResult.result)
        .join(Assessment, Assessment.id == ItemResult.assessment_id)))
    names = {b.id: b.name for b in district.branches}
    by_text = {r[2]: r for r in rows[1:] if r[1]}
    for branch_id, text, result in answers:
        assert by_text[text][branch_cols[names[branch_id]]] == RESULT_ZH[result.value]
    last = district.branches[0]  # answered 3 items only: the rest are 未评
    assert sum(1 for r in by_text.values() if r[branch_cols[last.name]] == "未评") == len(by_text) - 3


def test_xlsx_follows_filters_and_sort(client, leader, district):
    client.login(leader)
    book = _xlsx(client, "?status=submitted")
    body = list(book[book.sheetnames[0]].iter_rows(values_only=True))[1:]
    assert [r[0] for r in body] == [district.branches[1].name]
    book = _xlsx(client, "?sort=-name")
    body = list(book[book.sheetnames[0]].iter_rows(values_only=True))[1:]
    assert [r[0] for r in body] == sorted((b.name for b in district.branches), reverse=True)


def test_xlsx_other_year_first(client, leader, district):
    client.login(leader)
    book = _xlsx(client, "?year=2011")
    assert book.sheetnames[0].startswith("2011") and book.sheetnames[1].startswith("2012")
    assert _xlsx(client, "?year=2011", download="items").sheetnames == ["2011 年逐项结果"]


def test_csv_matches_the_overview(client, leader, district):
    client.login(leader)
    response = client.get("/dashboard/export.csv?sort=-score")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    criteria, expected = _expected()
    assert len(body) == 5
    col = header.index("总体得分")
    scores = [float(r[col]) if r[col] else None for r in body]
    assert scores == sorted(scores, reverse=True)
    for line in body:
        assert float(line[header.index("总体进度 %")]) == progress.overall(expected[line[0]]).progress


def test_export_in_english(client, leader, district):
    client.login(leader)
    client.get("/dashboard?lang=en")
    text = client.get("/dashboard/export.csv").get_data(as_text=True)
    assert "Overall progress %" in text and "Branch" in text


def test_export_unknown_values_do_not_fail(client, leader, district):
    client.login(leader)
    assert client.get("/dashboard/export.csv?year=abc&sort=nope&kind=x").status_code == 200
    assert client.get("/dashboard/export.xlsx?year=1900").status_code == 200


# --- hostile names and local times (issue 12) ---------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "＝SUM(1)", "＠A1", "－1"]


def _hostile_branches():
    from portal.models import Assessment as A
    from portal.models import AssessmentStatus

    from ..factories import BranchFactory, UnitFactory

    framework_id = db.session.scalar(select(Framework.id).where(Framework.subject == Subject.BRANCH))
    for name in FORMULAS:
        branch = BranchFactory(unit=UnitFactory(name=name + "单位"), name=name)
        db.session.add(A(year_id=year().id, framework_id=framework_id, subject=Subject.BRANCH, branch_id=branch.id,
                         status=AssessmentStatus.DRAFT))
    db.session.commit()


def test_csv_and_xlsx_neutralise_formula_like_cells(client, leader):
    _hostile_branches()
    client.login(leader)
    response = client.get("/dashboard/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].lower().count("charset") == 1
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row[:2]]
    assert sorted(c for c in cells if c[:1] == "'") == sorted(["'" + f for f in FORMULAS]
                                                             + ["'" + f + "单位" for f in FORMULAS])
    assert not [c for c in cells if c[:1] in "=+-@\t\r"]
    book = _xlsx(client)
    quoted = []
    for download in ("export", "items"):  # read-only cells have no style
        styled = load_workbook(io.BytesIO(client.get(f"/dashboard/{download}.xlsx").data))
        for sheet in styled.sheetnames:
            for row in styled[sheet].iter_rows():
                for cell in row:  # formula-like text is a string cell, quote-prefixed, never a formula
                    assert cell.data_type != "f", (sheet, cell.value)
                    if isinstance(cell.value, str) and cell.value[:1] in "=+-@\t\r＝＋－＠":
                        assert cell.data_type == "s" and cell.quotePrefix, (sheet, cell.value)
                        quoted.append(cell.value)
    # every hostile branch and unit name on each of the three years' sheets, and each branch once more as a column
    # of the item results
    typed = [f for f in FORMULAS if "\r" not in f]  # a leading CR is read back as a line feed
    assert sorted(q for q in quoted if "\n" not in q) == sorted(typed * 4 + [f + "单位" for f in typed] * 3)
    names = {row[0] for row in book[book.sheetnames[0]].iter_rows(min_row=2, values_only=True)}
    assert {f for f in FORMULAS if "\r" not in f} <= names  # as typed: no visible apostrophe
    assert not {n for n in names if isinstance(n, str) and n.startswith("'")}


def test_exports_give_last_activity_in_local_time_with_the_zone_named(client, leader):
    from datetime import datetime

    from portal.models import Assessment as A
    from portal.models import AssessmentStatus

    from ..factories import BranchFactory

    framework_id = db.session.scalar(select(Framework.id).where(Framework.subject == Subject.BRANCH))
    branch = BranchFactory(name="晚间活动支部")
    # 20:30 UTC is 04:30 the next morning in Beijing: the export shows the dashboard's day.
    db.session.add(A(year_id=year().id, framework_id=framework_id, subject=Subject.BRANCH, branch_id=branch.id,
                     status=AssessmentStatus.DRAFT, updated_at=datetime(2012, 11, 5, 20, 30)))
    db.session.commit()
    client.login(leader)
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    last = rows[0].index("最近活动（北京时间）")  # the appraisal and grade columns follow it
    assert [r[last] for r in rows[1:] if r[0] == "晚间活动支部"] == ["2012-11-06 04:30:00"]
    book = _xlsx(client)
    sheet = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    last = sheet[0].index("最近活动（北京时间）")
    assert [r[last] for r in sheet[1:] if r[0] == "晚间活动支部"] == [datetime(2012, 11, 6, 4, 30)]
    english = client.get("/dashboard/export.csv?lang=en").get_data(as_text=True)
    assert "Last activity (Asia/Shanghai)" in english.splitlines()[0]


MARKUP = ["<r><t>注入</t></r>", "<r><rPr><b/></rPr><t>粗体</t></r>", "<r></r>"]


def test_names_written_like_xlsx_markup_stay_text(client, leader):
    """XlsxWriter writes text of the form `<r>…</r>` into the sheet's XML unescaped (its own rich-string form): a
    branch named so must come back as the same text, in both downloads, never as markup or a broken file."""
    from ..factories import BranchFactory, UnitFactory

    framework_id = db.session.scalar(select(Framework.id).where(Framework.subject == Subject.BRANCH))
    for name in MARKUP:
        branch = BranchFactory(unit=UnitFactory(name=name), name=name)
        db.session.add(Assessment(year_id=year().id, framework_id=framework_id, subject=Subject.BRANCH,
                                  branch_id=branch.id))
    db.session.commit()
    client.login(leader)
    book = _xlsx(client)
    names = {row[0] for row in book[book.sheetnames[0]].iter_rows(min_row=2, values_only=True)}
    units = {row[1] for row in book[book.sheetnames[0]].iter_rows(min_row=2, values_only=True)}
    assert set(MARKUP) <= names and set(MARKUP) <= units
    items = _xlsx(client, download="items")
    header = next(items[items.sheetnames[0]].iter_rows(max_row=1, values_only=True))
    assert set(MARKUP) <= set(header)
