"""The overview as spreadsheets (XLSX: one sheet per year; the item-level results apart) and as CSV.

The workbook is written by XlsxWriter in constant-memory mode: each row goes to disk as it is written and
is never held as cell objects, in one pass over the rows, into a temporary file that is then sent in
chunks; so 2,000 branches × three years cost the same little memory as 20. CSV is made line by line.
"""
from __future__ import annotations

import csv
import io
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC
from functools import lru_cache
from typing import BinaryIO

import xlsxwriter
from flask import current_app
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _

from .. import labels
from ..models import BranchSummary, CampaignYear, Criterion
from . import dashboard, grading
from .xlsx_rows import RowsWorksheet

HEADER_STYLE = {"bold": True, "bg_color": "#F0F2F5", "pattern": 1}
SECTION_STYLE = {"bold": True, "bg_color": "#FDECEA", "pattern": 1}
CHUNK_BYTES = 64 * 1024
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))
# A cell starting with one of these is read as a formula (or DDE command) by Excel, LibreOffice and
# Google Sheets; names and titles typed into the portal must stay text. Their full-width forms (＝＋－＠,
# typed with a Chinese input method) count too: a spreadsheet may fold them to these (NFKC).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value) -> bool:
    """Whether a spreadsheet could read `value` as a formula."""
    return isinstance(value, str) and value != "" and _starts_formula(value[0])


def markup_like(value) -> bool:
    """Whether XlsxWriter would write `value` into the sheet's XML unescaped: text that begins with `<r>` and ends
    with `</r>` is taken for its own form of a rich string (XlsxWriter 3.3.1, `_write_cell` in constant-memory
    mode and `_write_si` of the shared strings). A name typed like that must stay text, never markup."""
    return isinstance(value, str) and value.startswith("<r>") and value.endswith("</r>")


def _needs_own_cell(value) -> bool:
    return formula_like(value) or markup_like(value)


@lru_cache(maxsize=4096)
def _starts_formula(char: str) -> bool:
    """Whether text beginning with `char` is read as a formula (its NFKC form, once per character)."""
    return unicodedata.normalize("NFKC", char).startswith(FORMULA_START)


def neutralise(value):
    """A CSV cell value safe to open in a spreadsheet: text that would start a formula gets a leading
    apostrophe (shown as text, the OWASP advice); numbers, dates and other text are returned as they are.
    Every cell of every CSV export goes through here; XLSX cells go through `write_row`, which writes
    such text as it is, as a quote-prefixed string (no visible apostrophe)."""
    if formula_like(value):
        return "'" + value
    return value


def neutralise_row(values) -> list:
    return [neutralise(v) for v in values]


def unneutralise(value: str) -> str:
    """A cell read back from a CSV the portal wrote (a roster made from its template): the apostrophe
    `neutralise` put before formula-like text is taken off again."""
    return value[1:] if value.startswith("'") and formula_like(value[1:]) else value


class SafeCsvWriter:
    """`csv.writer` whose every cell goes through `neutralise`: the one way the portal writes CSV for people
    (exports, the audit log, the roster template). tests/unit/test_export_writers.py finds writers that bypass it."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, values) -> None:
        self._writer.writerow(neutralise_row(values))

    def writerows(self, rows) -> None:
        for values in rows:
            self.writerow(values)


def csv_writer(out, **options) -> SafeCsvWriter:
    return SafeCsvWriter(out, **options)


# Text is never read as a formula, URL or number (formula-like text is also quote-prefixed by write_row).
SAFE_WORKBOOK = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def new_workbook(out, **options) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook with SAFE_WORKBOOK's options: the one way the portal makes XLSX files; write its
    cells with `write_row` / `write_cell` and a `Formats` of the book."""
    return xlsxwriter.Workbook(out, {**options, **SAFE_WORKBOOK})


def zone_label() -> str:
    """The portal's time zone as the export's column header names it: 北京时间 in Chinese for
    Asia/Shanghai, otherwise the zone's name (PORTAL_TIMEZONE)."""
    zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC")
    if zone == "Asia/Shanghai" and str(get_locale() or "zh").startswith("zh"):
        return _("Beijing time")
    return zone


def local_time(moment, zone=None):
    """A stored (naive UTC) time as the portal's local wall-clock time, naive (spreadsheets hold no zone).
    `zone`: the request's time zone (flask_babel.get_timezone), looked up once by a caller with many times."""
    if not moment:
        return None
    zone = zone or get_timezone()
    return zone.normalize(moment.replace(tzinfo=UTC).astimezone(zone)).replace(tzinfo=None, microsecond=0)


def header(criteria: list[Criterion]) -> list[str]:
    columns = [_("Branch"), _("Unit"), _("Unit type")]
    for criterion in criteria:
        title = labels.criterion_title(criterion)
        columns += [_("%(criterion)s score", criterion=title), _("%(criterion)s progress %%", criterion=title)]
    columns += [_("Overall progress %"), _("Overall score"), _("Items not met"), _("Assessment status"),
                _("Review rating"), _("Plan submission"), _("Overdue submissions"), _("Published pledges"),
                _("Exemplar posts"), _("Members self-assessed"), _("Members"),
                _("Last activity (%(zone)s)", zone=zone_label()),
                _("Appraisal ballots"), _("Appraisal score"), _("Satisfaction rate %"), _("Grade"),
                _("Grade confirmed")]
    return columns


class Names:
    """The labels an export writes, each translated once per export: a lazy label turned into text costs a
    translation lookup, and 2,000 branches × three years × six labels made that a second and a half."""

    def __init__(self):
        self.unit_kind = {k: str(v) for k, v in labels.UNIT_KIND.items()}
        self.status = {k: str(v) for k, v in labels.ASSESSMENT_STATUS.items()}
        self.rating = {k: str(v) for k, v in labels.REVIEW_RATING.items()}
        self.plan = {k: str(v) for k, v in labels.SUBMISSION_STATUS.items()}
        self.grade = {k: str(v) for k, v in labels.GRADE.items()}
        self.not_started, self.yes, self.no = _("Not started"), _("yes"), _("no")
        self.zone = get_timezone()  # looked up once, not per row


def verdict_values(cell, names: Names | None = None) -> list:
    """The appraisal and grade columns of one branch (a grading.VerdictCell): figures are blank below the round's
    minimum of ballots."""
    names = names or Names()
    grade = names.grade[cell.grade] if cell.grade else ""
    confirmed = (names.yes if cell.confirmed else names.no) if grade else ""
    return [cell.ballots, cell.score, cell.satisfaction, grade, confirmed]


TYPED_COLUMNS = (0, 1)  # of `row_values`: the branch's and the unit's names; the rest are figures, times and labels


def row_values(row: dashboard.Row, criteria: list[Criterion], names: Names | None = None) -> list:
    """The cells of one branch before its verdict's (`verdict_values`), from an export's row
    (`dashboard.summary_rows(figures=True)`): numbers as numbers, labels translated once (`names`)."""
    return _row_values(row, (row.figures.get(criterion.id, (None, None)) for criterion in criteria), names or Names())


def _row_values(row: dashboard.Row | dashboard.ExportRow, figures, names: Names) -> list:
    """`row_values` of a Row or a streamed ExportRow, its criteria's (progress, score) given in order."""
    values: list = [row.name, row.unit_name, names.unit_kind[row.unit_kind]]
    for progress, score in figures:
        values += [score, progress]
    values += [
        *row.overall,
        names.status[row.status] if row.status else names.not_started,
        names.rating[row.rating] if row.rating else "",
        names.plan[row.plan_status] if row.plan_status else "",
        row.overdue, row.pledges, row.posts, row.members_done, row.members_total,
        local_time(row.last_activity, names.zone),
    ]
    return values


def _sheet_title(text: str, used: set[str]) -> str:
    title = text.translate(_SHEET_FORBIDDEN)[:31] or "Sheet"
    base, n = title, 2
    while title in used:
        title = f"{base[:28]}({n})"
        n += 1
    used.add(title)
    return title


class Formats:
    """The workbook's cell formats, made once each: a style (HEADER_STYLE, SECTION_STYLE or none), with or
    without the quote prefix that keeps a formula-like string a string when Excel edits the cell."""

    def __init__(self, book):
        self.book, self.made = book, {}

    def get(self, style: dict | None, quoted: bool):
        key = (id(style), quoted)
        if key not in self.made:
            self.made[key] = (self.book.add_format({**(style or {}), "quote_prefix": True}) if quoted else
                              self.book.add_format(style) if style else None)
        return self.made[key]


def write_row(ws, line: int, values: list, formats: Formats, style: dict | None = None, first: int = 0,
              typed: tuple[int, ...] | None = None) -> None:
    """One row of an XLSX sheet from column `first`: formula-like text written as a string (write_string) with
    the quote-prefix format, as typed and without a visible apostrophe; every other value as it is (numbers as
    numbers, times as dates), by XlsxWriter's own `write_row`.

    `typed`: the positions in `values` of the text a person typed (names, titles, wordings); only those are
    checked, the figures, times and labels the portal makes never starting a formula. None checks every value.
    A row with formula-like or markup-like text is written cell by cell (`write_cell`); an unstyled row of a
    `RowsWorksheet` (the dashboard's exports) in one piece, as XlsxWriter would write it
    (`RowsWorksheet.write_values`)."""
    positions = range(len(values)) if typed is None else typed
    if any(_needs_own_cell(values[index]) for index in positions):
        for column, value in enumerate(values, start=first):
            write_cell(ws, line, column, value, formats, style)
    elif style is None and isinstance(ws, RowsWorksheet):
        ws.write_values(line, first, values)
    else:
        ws.write_row(line, first, values, formats.get(style, False))


def write_cell(ws, line: int, column: int, value, formats: Formats, style: dict | None = None) -> None:
    """One cell: formula-like text as a quote-prefixed string; markup-like text (`markup_like`) as a rich string of
    three plain pieces, which XlsxWriter escapes (the cell reads as the same text); anything else by `write`."""
    if markup_like(value):
        fragments = [value[:1], value[1:2], value[2:]]  # write_rich_string needs more than two pieces
        cell_format = formats.get(style, False)
        ws.write_rich_string(line, column, *fragments, *([cell_format] if cell_format is not None else []))
    elif formula_like(value):
        ws.write_string(line, column, value, formats.get(style, True))
    else:
        ws.write(line, column, value, formats.get(style, False))


def years_for_export(overview: dashboard.Overview) -> list[CampaignYear]:
    """The chosen year first, then the others, newest first."""
    chosen = overview.filters.year
    return [chosen] + [y for y in overview.years if y.id != chosen.id] if chosen else []


def _export_book(out: BinaryIO) -> xlsxwriter.Workbook:
    """A workbook in constant-memory mode (one row in memory), its temporary files in the system's folder."""
    return new_workbook(out, constant_memory=True, in_memory=False, tmpdir=tempfile.gettempdir(),
                        default_date_format="yyyy-mm-dd hh:mm:ss")


def write_workbook(overview: dashboard.Overview, out: BinaryIO) -> None:
    """XLSX into `out`: a sheet per campaign year (same filters and sort), the chosen year first. The chosen
    year's item results are their own download (`write_item_workbook`), linked beside this one.

    Each year's rows are read in one statement and streamed (`dashboard.export_rows`, the verdicts among its
    columns: `grading.verdict_columns`), and every row is written as it is read (constant-memory mode keeps one
    row in memory), in one piece (`RowsWorksheet`): memory stays flat whatever the size of the district. Text is
    never read as a formula, URL or number, and formula-like text in the names people type is a quote-prefixed
    string (`write_row`). Labels are translated and the time zone looked up once (`Names`). Per year: one query
    of the rows, whatever the size of the district; `overview.rows` is not read."""
    criteria = overview.criteria
    book = _export_book(out)
    formats = Formats(book)
    used: set[str] = set()
    names = Names()
    head = header(criteria)
    for year in years_for_export(overview):
        ws = book.add_worksheet(_sheet_title(f"{year.year} {year.theme}", used), worksheet_class=RowsWorksheet)
        ws.freeze_panes(1, 1)
        ws.set_column(0, 0, 30)
        ws.set_column(1, 1, 24)
        write_row(ws, 0, head, formats, HEADER_STYLE)
        columns, verdict = grading.verdict_columns(year, BranchSummary.branch_id)
        rows = dashboard.export_rows(year, replace(overview.filters, year=year, page=1, per_page=None), criteria,
                                     overview.now, extra=columns)
        for index, row in enumerate(rows, start=1):
            write_row(ws, index, _row_values(row, row.figures, names) + verdict_values(verdict(row.extra), names),
                      formats, typed=TYPED_COLUMNS)
    book.close()


def write_item_workbook(overview: dashboard.Overview, out: BinaryIO) -> None:
    """XLSX into `out`: the chosen year's item results, one sheet, a column per branch of the overview (same
    filters and sort). Rows in the framework's order (criterion heading, then its items); an item whose answers
    were given against different wordings has a row per wording."""
    book = _export_book(out)
    formats = Formats(book)
    year = overview.filters.year
    grid = dashboard.item_grid(year)
    ids = [row.branch_id for row in overview.rows]
    ws = book.add_worksheet(_sheet_title(_("%(year)s item results", year=year.year), set()),
                            worksheet_class=RowsWorksheet)
    ws.freeze_panes(1, 3)
    ws.set_column(2, 2, 50)
    write_row(ws, 0, [_("Criterion"), _("No."), _("Item")] + [row.name for row in overview.rows], formats,
              HEADER_STYLE)
    result_label = {result: str(label) for result, label in labels.RESULT.items()}  # translate once
    result_label[None] = ""  # an answer given against another wording: on that wording's line
    line = 1
    numbers = grid.numbers()  # as the checklist numbers them
    for criterion, items in grid.criteria:
        title = labels.criterion_title(criterion)
        write_row(ws, line, [f"{criterion.position}. {title}", "", ""], formats, SECTION_STYLE)
        line += 1
        for item in items:  # a line per wording answered, each answer beside its own (ItemGrid.lines)
            for wording, cells in grid.lines(item, ids):
                write_row(ws, line, [title, numbers[item.id], wording]
                          + [result_label[result] for result in map(cells.get, ids)], formats, typed=(0, 1, 2))
                line += 1
    book.close()


def workbook(overview: dashboard.Overview, items: bool = False) -> bytes:
    """The XLSX as bytes, the years' sheets or (`items`) the item results (tests and small callers; the
    download streams `xlsx` instead)."""
    buffer = io.BytesIO()
    (write_item_workbook if items else write_workbook)(overview, buffer)
    return buffer.getvalue()


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    """The file's bytes in CHUNK_BYTES pieces; the (temporary) file is closed, and so removed, at the end or
    when the client goes away."""
    try:
        handle.seek(0)
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


def csv_lines(overview: dashboard.Overview) -> Iterator[str]:
    """The chosen year's overview as CSV (UTF-8 with a byte-order mark, so Excel reads Chinese)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header(overview.criteria))
    yield "\ufeff" + flush()
    verdicts = grading.verdict_cells(overview.filters.year, [row.branch_id for row in overview.rows])
    names = Names()
    for row in overview.rows:
        values = row_values(row, overview.criteria, names) + verdict_values(verdicts[row.branch_id], names)
        writer.writerow(["" if v is None else v.isoformat(sep=" ") if hasattr(v, "isoformat") else v
                         for v in values])
        yield flush()


def filename(overview: dashboard.Overview, extension: str, suffix: str = "") -> str:
    return f"dashboard-{overview.filters.year.year}{suffix}.{extension}"


def _every_row(args, rows: bool = True) -> dashboard.Overview:
    """The overview of the query-string `args` with every matching row (an export is not paged), their figures
    only (`dashboard.rows_only`); without `rows`, its filters, years and criteria alone."""
    return dashboard.rows_only(args, rows=rows)


def xlsx(args, items: bool = False) -> tuple[str, Iterator[bytes]] | None:
    """(file name, the workbook's bytes in chunks) of the overview for the query-string `args`: its years' sheets,
    or with `items` the chosen year's item results; None without a year. The workbook is written in full (in
    this request, which the labels and time zone need) to a temporary file that the chunks then read and
    remove: memory stays flat whatever the district's size."""
    overview = _every_row(args, rows=items)  # the years' sheets stream their own rows
    if overview.filters.year is None:
        return None
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _chunks when the download ends
    try:
        (write_item_workbook if items else write_workbook)(overview, handle)
    except BaseException:
        handle.close()
        raise
    return filename(overview, "xlsx", "-items" if items else ""), _chunks(handle)


def csv_export(args) -> tuple[str, Iterator[str]] | None:
    overview = _every_row(args)
    if overview.filters.year is None:
        return None
    return filename(overview, "csv"), csv_lines(overview)
