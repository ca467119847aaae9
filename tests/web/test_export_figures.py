"""The export's lean paths give what the pages' paths give: its rows' figures (no Tally made) are the Tally figures of
every year, its appraisal and grade columns (one GROUP BY per year) are `appraisal.results`' and the grade records',
and a row checked only in its typed columns is still formula-safe."""
from __future__ import annotations

import io
from dataclasses import replace

import pytest
from flask import current_app
from openpyxl import load_workbook

from portal.extensions import db
from portal.models import GradeRecord
from portal.services import appraisal, dashboard, export, grading

from ..appraisal_helpers import close_round, current_year, open_round
from ..dashboard_helpers import build_district


def _tally_rows(view, year):
    """The rows of `year` as the dashboard page reads them (Tally cells)."""
    return dashboard.summary_rows(year, replace(view.filters, year=year, page=1, per_page=None), view.criteria,
                                  view.now)


def test_export_rows_have_the_figures_of_the_tally_rows_in_every_year(app):
    district = build_district(6)
    with app.test_request_context("/dashboard/export.xlsx"):
        app.preprocess_request()
        view = dashboard.rows_only({})
        assert [row.branch_id for row in view.rows] == [row.branch_id for row in _tally_rows(view, view.filters.year)]
        assert len(view.rows) == 6 and view.filters.per_page is None
        checked = 0
        for year in view.years:
            lean = dashboard.summary_rows(year, replace(view.filters, year=year, page=1, per_page=None),
                                          view.criteria, view.now, figures=True)
            full = _tally_rows(view, year)
            assert [row.branch_id for row in lean] == [row.branch_id for row in full]
            for mine, theirs in zip(lean, full, strict=True):
                assert not mine.cells  # no Tally made
                assert mine.overall == (theirs.total.progress, theirs.total.score, theirs.total.not_met)
                assert mine.figures == {cid: (t.progress, t.score) for cid, t in theirs.cells.items()}
                checked += len(theirs.cells)
        assert checked  # the district has answers: the comparison compared figures
        assert district.branches


def _streamed_verdicts(year) -> dict:
    """{branch id: VerdictCell} of every branch as the export streams them (`dashboard.export_rows` with the
    columns of `grading.verdict_columns`)."""
    from portal.models import BranchSummary

    with current_app.test_request_context("/dashboard/export.xlsx"):
        current_app.preprocess_request()
        view = dashboard.rows_only({}, rows=False)
        columns, verdict = grading.verdict_columns(year, BranchSummary.branch_id)
        found = {row.branch_id: verdict(row.extra) for row in dashboard.export_rows(
            year, replace(view.filters, year=year), view.criteria, view.now, extra=columns)}
    return found


@pytest.mark.parametrize("query", [{}, {"sort": "-score"}, {"sort": "c2", "kind": "primary"},
                                   {"sort": "-activity", "status": "submitted"}, {"q": "测试00"}],
                         ids=["by-name", "by-score", "criterion-primary", "activity-submitted", "search"])
def test_streamed_export_rows_are_the_summary_rows_of_every_year(app, query):
    """The years' sheets read each year in one streamed statement (`dashboard.export_rows`): the same rows in the
    same order, with the same figures and overdue submissions, as `summary_rows(figures=True)` gave them."""
    build_district(7)
    with app.test_request_context("/dashboard/export.xlsx"):
        app.preprocess_request()
        view = dashboard.rows_only(query)
        compared = 0
        for year in view.years:
            filters = replace(view.filters, year=year, page=1, per_page=None)
            rows = dashboard.summary_rows(year, filters, view.criteria, view.now, figures=True)
            streamed = list(dashboard.export_rows(year, filters, view.criteria, view.now))
            assert [row.branch_id for row in streamed] == [row.branch_id for row in rows]
            for mine, theirs in zip(streamed, rows, strict=True):
                assert mine.figures == [theirs.figures.get(c.id, (None, None)) for c in view.criteria]
                assert (mine.name, mine.unit_name, mine.unit_kind, mine.status, mine.rating, mine.plan_status,
                        mine.pledges, mine.posts, mine.members_total, mine.members_done, mine.last_activity,
                        mine.overall, mine.overdue, mine.extra) == (
                    theirs.name, theirs.unit_name, theirs.unit_kind, theirs.status, theirs.rating,
                    theirs.plan_status, theirs.pledges, theirs.posts, theirs.members_total, theirs.members_done,
                    theirs.last_activity, theirs.overall, theirs.overdue, ())
                compared += 1
        assert compared or query.get("q")
        assert any(row.overdue for row in dashboard.summary_rows(
            view.filters.year, replace(view.filters, page=1, per_page=None), view.criteria, view.now,
            figures=True)) or query


def test_the_years_workbook_runs_the_same_statements_at_any_size(client, leader):
    """One statement per year sheet, whatever the number of branches (the rows streamed, the verdicts among its
    columns)."""
    from ..dashboard_helpers import count_statements
    from ..factories import BranchFactory

    build_district(3)
    client.login(leader)
    small = count_statements(client, "/dashboard/export.xlsx")
    build_district(6, start=3)
    BranchFactory.create_batch(4)
    assert count_statements(client, "/dashboard/export.xlsx") == small


def test_verdict_columns_are_the_appraisal_results_and_grades(app, admin):
    district = build_district(5)
    branches = district.branches
    round_ = open_round(admin, minimum=3)
    levels = [["satisfied", "fairly", "dissatisfied", "basically"], ["basically"] * 3, ["satisfied"] * 2]
    for branch, answers in zip(branches, levels, strict=False):  # the last two branches: no ballot
        for group in ("parents", "students"):  # groups add up to the total
            for code, level in zip(appraisal.generate_codes(admin, round_, branch, group, len(answers)), answers,
                                   strict=True):
                appraisal.cast_ballot(code, {q.id: level for q in round_.questions})
    year = current_year()
    db.session.add(GradeRecord(year_id=year.id, branch_id=branches[0].id, proposed="advanced", composite=90.0))
    db.session.add(GradeRecord(year_id=year.id, branch_id=branches[1].id, proposed="ordinary", confirmed="lagging",
                               composite=50.0, reason="复核后调整为后进"))
    db.session.commit()
    ids = [branch.id for branch in branches]

    def expected(closed: bool) -> dict:
        found = appraisal.results(round_, ids, overall_only=True)
        out = {}
        for branch_id in ids:
            result, record = found[branch_id], db.session.scalar(
                db.select(GradeRecord).where(GradeRecord.branch_id == branch_id, GradeRecord.member_id.is_(None)))
            out[branch_id] = grading.VerdictCell(
                ballots=result.ballots,
                satisfaction=result.total.overall.satisfaction if result.shown else None,
                score=result.total.overall.score if result.shown else None,
                grade=record.grade if record else None, confirmed=bool(record and record.confirmed))
        assert any(cell.ballots for cell in out.values())
        assert all(cell.score is None for cell in out.values()) or closed  # figures only once closed
        return out

    assert grading.verdict_cells(year, ids) == expected(closed=False)
    assert _streamed_verdicts(year) == expected(closed=False)  # every branch of the district: these five
    close_round(round_)
    want = expected(closed=True)
    assert _streamed_verdicts(year) == want  # the columns of the export's one statement per year
    assert [want[i].score is not None for i in ids] == [True, True, True, False, False]  # 8, 6, 4 ballots ≥ 3
    assert grading.verdict_cells(year, ids) == want
    district_wide = grading.verdict_cells(year)  # the whole district: a branch with no ballot and no grade is absent
    assert {i: district_wide.get(i, grading.VerdictCell()) for i in ids} == want and ids[-1] not in district_wide
    assert grading.verdict_cells(year, []) == {}


def test_a_row_checked_in_its_typed_columns_keeps_formula_like_text_text():
    from portal.services.export import Formats, new_workbook, write_row

    buffer = io.BytesIO()
    book = new_workbook(buffer, constant_memory=True)
    sheet, formats = book.add_worksheet(), Formats(book)
    write_row(sheet, 0, ["支部", "=1+1", 3.5, None, "达标"], formats, typed=(0, 1))
    write_row(sheet, 1, ["＝HYPERLINK(1)", "单位", 2, None, "未评"], formats, typed=(0, 1))
    write_row(sheet, 2, ["平常的支部", "学校", 1, None, "不适用"], formats, typed=(0, 1))
    book.close()
    rows = list(load_workbook(io.BytesIO(buffer.getvalue()))["Sheet1"].iter_rows())
    assert [[c.value for c in row] for row in rows] == [["支部", "=1+1", 3.5, None, "达标"],
                                                       ["＝HYPERLINK(1)", "单位", 2, None, "未评"],
                                                       ["平常的支部", "学校", 1, None, "不适用"]]
    assert rows[0][1].data_type == "s" and rows[0][1].quotePrefix
    assert rows[1][0].data_type == "s" and rows[1][0].quotePrefix
    assert rows[0][2].data_type == "n" and not rows[2][0].quotePrefix  # numbers as numbers; plain text plain
    assert export.formula_like("－1") and export.formula_like("\t") and not export.formula_like("")
    assert not export.formula_like(12) and not export.formula_like(None)


def test_the_labels_written_unchecked_never_start_a_formula(app):
    """`write_row` checks only the typed columns of an export's rows: every label it writes beside them (unit types,
    statuses, ratings, plan submissions, grades, yes/no, results) is text of the portal's own, in either language."""
    from flask_babel import force_locale

    from portal import labels

    for language in ("zh", "en"):
        with app.test_request_context("/dashboard"), force_locale(language):
            names = export.Names()
            written = [*names.unit_kind.values(), *names.status.values(), *names.rating.values(),
                       *names.plan.values(), *names.grade.values(), names.not_started, names.yes, names.no,
                       *(str(label) for label in labels.RESULT.values())]
            assert (names.yes == "yes") == (language == "en")
            assert written and not [label for label in written if export.formula_like(label)], language
