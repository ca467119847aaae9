"""`RowsWorksheet.write_values` writes exactly what XlsxWriter's own `write_row` writes (issue #14): the same
workbook, file by file, for rows of every kind of value it takes itself and of those it hands back to XlsxWriter,
mixed with styled rows written by XlsxWriter. An XlsxWriter upgrade that changes its cells' XML fails here."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from xlsxwriter.worksheet import Worksheet

from portal.services import export
from portal.services.xlsx_rows import RowsWorksheet

ROWS = [
    ["第一中学党支部", "第一中学", "小学", 12, 3.5, 0.1, 1 / 3, 2 ** 60, -7, None, "", 0, 0.0],
    [None, None, "只有第三列", None],
    [],  # nothing: no <row> at all
    [None, "", None],
    ["  leading space", "trailing space ", "tab\tinside", "a & b < c > d \"quoted\"", "line\nbreak"],
    ["control \x01 char", "_x0041_ escaped-looking", "\ufffe non-character", "<r><t>rich</t></r>", "<r>half"],
    [datetime(2012, 3, 4, 5, 6, 7), datetime(1999, 12, 31), "after a time", 1e-9, 1e20, 123456789.123456789],
    [True, False, "booleans: XlsxWriter's path"],
    [date(2012, 5, 6), Decimal("1.5"), "a date and a Decimal: XlsxWriter's path"],
    ["x" * 20000, "an over-long string: XlsxWriter's path"],
    ["重复的标签"] * 30,
]


def _constant_memory_book(buffer, folder, **options):
    """A workbook as the dashboard's exports make it (XlsxWriter's `in_memory` would turn constant memory off)."""
    return export.new_workbook(buffer, constant_memory=True, in_memory=False, tmpdir=str(folder), **options)


HANDED_BACK = 4  # rows of ROWS that write_values leaves to XlsxWriter: rich text, booleans, a date, over-long text


def _book(fast: bool, rows: list[list], folder, handed_back: list | None = None) -> bytes:
    buffer = io.BytesIO()
    book = _constant_memory_book(buffer, folder, default_date_format="yyyy-mm-dd hh:mm:ss")
    book.set_properties({"created": datetime(2012, 1, 1)})  # the same core.xml in both books
    ws = book.add_worksheet("年份", worksheet_class=RowsWorksheet if fast else Worksheet)
    calls: list = []  # XlsxWriter's own write_row, spied on
    own = ws.write_row
    ws.write_row = lambda row, col, values, *args: calls.append(values) or own(row, col, values, *args)
    ws.set_column(0, 0, 30)
    formats = export.Formats(book)
    export.write_row(ws, 0, ["表头", "Header", 1], formats, export.HEADER_STYLE)
    line = 1
    for values in rows:
        if fast:
            called = len(calls)
            ws.write_values(line, 1 if line % 4 == 0 else 0, values)
            if handed_back is not None and len(calls) > called:
                handed_back.append(values)
        else:
            ws.write_row(line, 1 if line % 4 == 0 else 0, values)
        line += 1
        if line % 5 == 0:  # a styled row between plain ones: XlsxWriter's own path, its table flushed in turn
            export.write_row(ws, line, ["小节", None, 2.5], formats, export.SECTION_STYLE)
            line += 1
    export.write_row(ws, line, ["=1+1", "formula-like text, quoted"], formats)
    assert ws.constant_memory
    book.close()
    return buffer.getvalue()


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], ROWS[6:7] * 3, [[None]], ROWS[::-1]],
                         ids=["all", "one", "times", "empty", "reversed"])
def test_write_values_writes_what_xlsxwriter_writes(rows, tmp_path):
    fast, slow = _files(_book(True, rows, tmp_path)), _files(_book(False, rows, tmp_path))
    assert fast.keys() == slow.keys()
    for name in slow:
        assert fast[name] == slow[name], name


def test_write_values_writes_most_rows_itself(tmp_path):
    handed_back: list = []
    _book(True, ROWS, tmp_path, handed_back)
    assert len(handed_back) == HANDED_BACK  # the rest were written in one piece (and equal XlsxWriter's: above)


def test_rows_out_of_order_are_left_to_xlsxwriter(tmp_path):
    buffer = io.BytesIO()
    book = _constant_memory_book(buffer, tmp_path)
    ws = book.add_worksheet("s", worksheet_class=RowsWorksheet)
    ws.write_values(3, 0, ["three"])
    ws.write_values(1, 0, ["before"])  # an earlier row: XlsxWriter ignores it in constant memory, and so do we
    ws.write_values(5, 0, ["five"])
    book.close()
    sheet = _files(buffer.getvalue())["xl/worksheets/sheet1.xml"].decode()
    assert '<row r="4"><c r="A4" t="inlineStr"><is><t>three</t></is></c></row>' in sheet
    assert "before" not in sheet and '<row r="6">' in sheet


@pytest.mark.parametrize("constant_memory", [True, False])
def test_markup_like_text_is_written_as_text(constant_memory):
    """`export.write_row` / `write_cell` keep text like `<r>…</r>` text in both of XlsxWriter's modes (inline
    strings and shared strings), with or without a style."""
    from openpyxl import load_workbook

    values = ["<r><t>注入</t></r>", "<r></r>", "=1+1", "平常"]
    out = io.BytesIO()
    book = export.new_workbook(out, constant_memory=constant_memory, in_memory=True)
    sheet = book.add_worksheet("s", worksheet_class=RowsWorksheet)
    formats = export.Formats(book)
    export.write_row(sheet, 0, values, formats)
    export.write_row(sheet, 1, values, formats, {"bold": True})
    export.write_cell(sheet, 2, 0, values[0], formats)
    book.close()
    read = load_workbook(io.BytesIO(out.getvalue()))["s"]
    assert [c.value for c in read[1]] == values and [c.value for c in read[2]] == values
    assert read["A3"].value == values[0]
