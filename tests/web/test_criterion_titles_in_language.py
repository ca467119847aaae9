"""Criteria are named in the reader's language wherever the dashboard names them (labels.criterion_title): the
overview's column headers and chart, the branch page's table, the CSV and XLSX exports. In English, a criterion's
English title (Criterion.title_en); in Chinese, its own; a criterion without an English title keeps its own."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from portal.extensions import db
from portal.models import Criterion, Framework, Subject


def _criteria() -> list[Criterion]:
    return list(db.session.scalars(select(Criterion).join(Framework).where(Framework.subject == Subject.BRANCH)
                                   .order_by(Criterion.position)))


def test_english_pages_and_exports_name_criteria_in_english(client, leader, branch):
    criteria = _criteria()
    criteria[1].title_en = ""  # no English title: its own
    db.session.commit()
    english = [c.title_en for c in criteria if c.title_en]
    assert english and all(e for e in english)
    client.login(leader)
    client.get("/dashboard?lang=en")
    for url in ("/dashboard", f"/branches/{branch.id}"):
        page = client.get(url).get_data(as_text=True)
        assert all(title in page for title in english), url
        assert criteria[0].title not in page and criteria[1].title in page, url
    csv_text = client.get("/dashboard/export.csv").get_data(as_text=True)
    assert f"{english[0]} score" in csv_text and criteria[0].title not in csv_text
    book = openpyxl.load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx").get_data()), read_only=True)
    first_row = [cell for cell in next(book.worksheets[0].iter_rows(values_only=True)) if cell]
    assert f"{english[0]} score" in first_row

    client.get("/dashboard?lang=zh")
    page = client.get("/dashboard").get_data(as_text=True)
    assert all(c.title in page for c in criteria) and english[0] not in page
