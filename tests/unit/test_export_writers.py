"""Every CSV and XLSX the portal writes for people goes through services/export.py (formula-like text neutralised):
a scan of the source finds writers that bypass it; the roster template, the one the tester caught, is checked too."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# Constructors of CSV and XLSX writers; only services/export.py may call them, except lines that say why not.
WRITERS = re.compile(r"\bcsv\.(writer|DictWriter)\(|\bxlsxwriter\.Workbook\(|\bWorkbook\(\)|openpyxl.*\bWorkbook\b")
ALLOWED = "# internal:"  # a file the portal reads back itself, never opened in a spreadsheet


def test_no_csv_or_xlsx_writer_bypasses_the_neutralising_helper():
    bypassing = []
    for path in PORTAL.rglob("*.py"):
        if path.relative_to(PORTAL).as_posix() == "services/export.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if WRITERS.search(line) and ALLOWED not in line:
                bypassing.append(f"{path.relative_to(PORTAL)}:{number}: {line.strip()}")
    assert bypassing == [], "write CSV/XLSX through services/export.py (csv_writer, new_workbook, write_row)"


@pytest.mark.parametrize("name", ["+SUM(1)学校", "=1+1", "-2", "@A1", "＝HYPERLINK(1)"])
def test_the_roster_template_is_formula_safe_and_reads_back_as_typed(app, name):
    from openpyxl import load_workbook

    from portal.extensions import db
    from portal.services import roster

    from ..factories import BranchFactory

    BranchFactory(name=name)
    db.session.commit()
    rows = list(csv.reader(io.StringIO(roster.template("csv").decode("utf-8-sig"))))
    assert rows[1][3] == "'" + name
    assert roster._read_table(roster.template("csv"), "csv")[1][3] == name  # the import takes it back off
    book = load_workbook(io.BytesIO(roster.template("xlsx")))
    cell = book.worksheets[0]["D2"]
    assert cell.value == name and cell.data_type == "s" and cell.quotePrefix
