"""A constant-memory XlsxWriter worksheet that writes a plain row of values as one piece of XML (issue #14).

XlsxWriter's `write_row` costs about 6 µs a cell in Python: per cell a type dispatch, a dimension check, a cell
tuple stored and read back, an attribute list escaped and a write to its row file (whose text wrapper resets its
decoder on every write). The dashboard's export writes 155,000 cells at 2,000 branches, a second of CPU in
XlsxWriter alone. `RowsWorksheet.write_values` writes the same XML for a row of unformatted numbers, text and
times in one write: the XML is byte for byte what XlsxWriter writes for `write_row(row, col, values)` without a
format (tests/unit/test_xlsx_rows.py compares the sheets), and anything else — a format, a boolean, a date
without a time, a Decimal, NaN, a rich or over-long string, a row with its own settings — goes through
XlsxWriter's own `write_row`, so the fast path only ever skips work, never decides differently.

It relies on XlsxWriter's constant-memory internals (`previous_row`, `table`, `_write_single_row`,
`_check_dimensions`, the row file `fh`), pinned in requirements.txt (XlsxWriter 3.3.1): the test above fails if an
upgrade changes what they write.
"""
from __future__ import annotations

import datetime
from math import isfinite

from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

MAX_FAST_STRING = 16383  # XlsxWriter's cheap length bound (half of Excel's 32,767 UTF-16 units); longer: its path
_CACHE_LIMIT = 256  # text cells remembered per sheet (labels repeat on every row, names do not): small, bounded


class RowsWorksheet(Worksheet):
    """An XlsxWriter worksheet (pass as `worksheet_class` to `add_worksheet` of a constant-memory workbook) with
    `write_values`, a faster `write_row` for unformatted rows."""

    def __init__(self):
        super().__init__()
        self._text_cells: dict[str, str | None] = {}
        self._columns: list[str] = []
        self._fast_last = -1  # the last row written here in one piece

    def write_values(self, row: int, first: int, values: list) -> None:
        """Write `values` into `row` (zero-based) from column `first`, as XlsxWriter's `write_row(row, first,
        values)` with no format would: None and "" write nothing, int and float a number, str an inline string,
        a datetime.datetime a number in the workbook's default date format. Any other value, or a row the fast
        path does not cover, is written by `write_row` itself. Raises what `write_row` raises."""
        if not self._fast_row(row, first, len(values)):
            self.write_row(row, first, values)
            return
        if row > self.previous_row and any(value is not None and value != "" for value in values):
            # The row before first, if XlsxWriter's own path left it in its table: formats get their numbers in
            # the order their cells are written.
            self._write_single_row(row)
        line = str(row + 1)
        columns = self._column_names(first + len(values))
        parts = [f'<row r="{line}">']
        low = high = None
        for column, value in enumerate(values, start=first):
            kind = value.__class__
            if value is None or value == "":
                continue
            if kind is str:
                tail = self._text_cell(value)
                if tail is None:
                    break
                parts.append(f'<c r="{columns[column]}{line}"{tail}')
            elif kind is int or (kind is float and isfinite(value)):
                parts.append(f'<c r="{columns[column]}{line}"><v>{value:.16G}</v></c>')
            elif kind is datetime.datetime and self.default_date_format is not None:
                number = self._convert_date_time(value)
                parts.append(f'<c r="{columns[column]}{line}" s="{self.default_date_format._get_xf_index()}">'
                             f'<v>{number:.16G}</v></c>')
            else:
                break
            low = column if low is None else low
            high = column
        else:
            if low is None:
                return  # nothing to write: XlsxWriter writes no <row> either
            self.previous_row = self._fast_last = row
            self._check_dimensions(row, low)
            self._check_dimensions(row, high)
            parts.append("</row>")
            self.fh.write("".join(parts))
            return
        self.write_row(row, first, values)  # a value the fast path does not write: XlsxWriter's own path

    def _fast_row(self, row: int, first: int, count: int) -> bool:
        """Whether the row may be written in one piece: constant memory, a row after every row written so far (or
        the first; each row once), inside the sheet, without row settings, column formats, comments or the
        Excel 2010 row attributes."""
        if not self.constant_memory or self.excel_version != 2007 or row <= self._fast_last:
            return False
        if row >= self.xls_rowmax or first < 0 or first + count > self.xls_colmax:
            return False
        if row < self.previous_row or (row == self.previous_row and self.table.get(row)):
            return False
        if row in self.row_info or row in self.comments:
            return False
        return not any(info.column_format is not None for info in self.col_info.values())

    def _column_names(self, count: int) -> list[str]:
        while len(self._columns) < count:
            self._columns.append(xl_col_to_name(len(self._columns)))
        return self._columns

    def _text_cell(self, text: str) -> str | None:
        """What follows `<c r="A1"` for the inline string `text`, as XlsxWriter's `_write_cell` writes it; None for
        what it writes otherwise (a rich string, or one it may truncate)."""
        found = self._text_cells.get(text, False)
        if found is not False:
            return found
        tail = None
        if len(text) <= MAX_FAST_STRING:
            escaped = self._escape_control_characters(text)
            if not (escaped.startswith("<r>") and escaped.endswith("</r>")):
                preserve = ' xml:space="preserve"' if _preserve_whitespace(escaped) else ""
                tail = f' t="inlineStr"><is><t{preserve}>{self._escape_data(escaped)}</t></is></c>'
        if len(self._text_cells) >= _CACHE_LIMIT:
            self._text_cells.clear()
        self._text_cells[text] = tail
        return tail
