"""The 通报's documents as an office files them (issue 18, second round): the 版记 at the foot of the last
page (GB/T 9704 7.4), a draft marked 草稿 on every page, the Word file's own properties those of the committee
and the moment of issue, download names readable by every client."""
from __future__ import annotations

import io
from datetime import datetime

import pypdf
import pytest
from docx import Document
from docx.oxml.ns import qn

from portal.services import bulletins, gongwen, uploads

from .test_bulletins import _draft, _issue


@pytest.fixture
def ctx(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        yield


def _positions(page) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():  # the text's baseline in page space: the text matrix within the current matrix
            found.append((text.strip(), tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))

    page.extract_text(visitor_text=visit)
    return found


@pytest.mark.parametrize("rows", [1, 40])  # a short annex, and one that runs over several pages
def test_the_imprint_sits_at_the_foot_of_the_last_page_of_the_pdf(ctx, leader, rows):
    from ..factories import BranchFactory

    for _n in range(rows):
        BranchFactory()
    bulletin = _draft(leader)
    _issue(leader, bulletin)
    reader = pypdf.PdfReader(io.BytesIO(gongwen.pdf_bytes(bulletin)))
    for page in reader.pages[:-1]:
        assert "印发" not in page.extract_text() or "抄送" not in page.extract_text()
    last = _positions(reader.pages[-1])
    height = float(reader.pages[-1].mediabox.height)
    imprint = [y for text, y in last if "抄送" in text or text.endswith("印发")]
    assert len(imprint) == 2, last
    bottom_of_block = gongwen.BOTTOM_MM / 25.4 * 72
    # Both lines within the lowest three lines of the text block (35 mm from the page's foot), above the number.
    assert all(bottom_of_block <= y <= bottom_of_block + 3 * gongwen.LINE_PT for y in imprint), (imprint, height)


def test_the_docx_imprint_is_a_table_floated_to_the_foot_of_the_text_block(ctx, leader):
    bulletin = _draft(leader)
    _issue(leader, bulletin)
    document = Document(io.BytesIO(gongwen.docx_bytes(bulletin)))
    imprint = document.tables[-1]
    place = imprint._tbl.tblPr.find(qn("w:tblpPr"))
    assert place is not None and place.get(qn("w:tblpYSpec")) == "bottom" and place.get(qn("w:vertAnchor")) == "margin"
    texts = [row.cells[0].text for row in imprint.rows]
    assert texts[0].startswith("抄送：") and texts[-1].endswith("印发")


def test_docx_properties_are_the_committees_and_the_moment_of_issue(ctx, leader):
    bulletin = _draft(leader)
    bulletins.issue(leader, bulletin, bulletin.version, at=datetime(2011, 12, 28, 2, 0))
    properties = Document(io.BytesIO(gongwen.docx_bytes(bulletin))).core_properties
    assert properties.author == bulletin.issuer and properties.last_modified_by == bulletin.issuer
    assert properties.created.replace(tzinfo=None) == datetime(2011, 12, 28, 2, 0) == \
        properties.modified.replace(tzinfo=None)
    assert "python-docx" not in (properties.comments + properties.author + properties.keywords)
    assert properties.title == f"{bulletin.document_number} {bulletin.title}"


def test_a_drafts_documents_are_marked_as_drafts(ctx, leader):
    draft = _draft(leader)
    reader = pypdf.PdfReader(io.BytesIO(gongwen.pdf_bytes(draft)))
    assert all("草" in page.extract_text() and "稿" in page.extract_text() for page in reader.pages)
    document = Document(io.BytesIO(gongwen.docx_bytes(draft)))
    section = document.sections[0]
    assert "草稿" in section.header.paragraphs[0].text and "草稿" in section.even_page_header.paragraphs[0].text
    _issue(leader, draft)
    issued = Document(io.BytesIO(gongwen.docx_bytes(draft)))
    assert "草稿" not in issued.sections[0].header.paragraphs[0].text
    assert "草" not in pypdf.PdfReader(io.BytesIO(gongwen.pdf_bytes(draft))).pages[0].extract_text()[:40]


def test_download_names_have_an_ascii_fallback_and_full_quoting():
    header = uploads.content_disposition('沪卢教党〔2012〕1号 关于"创先";争优,通报.pdf', "bulletin-2012-1.pdf")
    assert header.startswith('attachment; filename="bulletin-2012-1.pdf"; filename*=UTF-8\'\'')
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert all(c.isalnum() or c in "%_.-~" for c in encoded), encoded
    assert uploads.content_disposition("x.csv", '../a b"c.csv').split(";")[1] == ' filename="a_b_c.csv"'


def test_bulletin_downloads_send_both_names(client, leader):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Bulletin

    client.login(leader)
    client.form_post("/bulletins", {"title": "关于“活动”的通报", "heading": ["一、情况"], "body": ["正文"],
                                    "copy_to": ""})
    bulletin = db.session.scalar(select(Bulletin))
    response = client.get(f"/bulletins/{bulletin.id}.pdf")
    disposition = response.headers["Content-Disposition"]
    assert f'filename="bulletin-draft-{bulletin.id}.pdf"' in disposition and "filename*=UTF-8''" in disposition
