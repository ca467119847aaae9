"""通报 services and documents: numbering per year, frozen figures, corrections, the empty year, and the
.docx / .pdf laid out to GB/T 9704-2012 with the dashboard's own figures."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime

import pytest
from flask_babel import to_user_timezone
from sqlalchemy import func, select

from portal.errors import Conflict, Invalid
from portal.extensions import db
from portal.models import (
    AssessmentStatus,
    AuditEvent,
    Bulletin,
    Post,
    PostCategory,
    PostStatus,
    Result,
    utcnow,
)
from portal.services import bulletins, dashboard, gongwen

from ..checklist_helpers import current_year, make_assessment, year
from ..factories import BranchFactory


@pytest.fixture
def ctx(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        yield


def _draft(actor, year_obj=None, **changes):
    year_obj = year_obj or current_year()
    data = bulletins.new_draft_input(year_obj)
    for name, value in changes.items():
        setattr(data, name, value)
    return bulletins.create_draft(actor, year_obj, data)


def _issue(actor, bulletin):
    return bulletins.issue(actor, bulletin, bulletin.version)


def _district():
    """Three branches: one finished and reviewed with every item met, one half-way, one not started."""
    done, half, idle = BranchFactory(), BranchFactory(), BranchFactory(name="一个名字非常非常长的学校" * 4 + "党支部")
    make_assessment(done, status=AssessmentStatus.REVIEWED, answer_all=Result.MET)
    make_assessment(half, answer_all=Result.PARTLY)
    return done, half, idle


def test_the_draft_is_written_from_the_dashboards_figures(ctx, leader):
    done, _half, idle = _district()
    figures = bulletins.figures_for(current_year())
    view = dashboard.overview({"year": str(current_year().year), "per_page": "all"})
    assert figures["branches"] == view.summary.branches == 3
    assert figures["submitted"] == view.summary.submitted == 1
    assert figures["reviewed"] == 1
    assert [c["score"] for c in figures["criteria"]] == [score for _c, score, _p in view.criterion_averages]
    assert figures["commend"] == [done.name]
    assert idle.name in figures["urge"]
    sections = bulletins.draft_sections(figures)
    text = "\n".join(s["heading"] + s["body"] for s in sections)
    assert sections[0]["heading"] == "一、总体情况"
    assert "3个基层党组织" in text and done.name in text


def test_issuing_numbers_per_year_freezes_figures_and_publishes(ctx, leader):
    _district()
    first = _draft(leader)
    second = _draft(leader)
    _issue(leader, second)
    _issue(leader, first)
    assert (second.number, first.number) == (1, 2)
    # Numbered by the calendar year of issue (the portal's time zone), whatever campaign year it is about.
    this_year = to_user_timezone(utcnow()).year
    assert first.document_number == f"沪卢教党〔{this_year}〕2号"
    old = _draft(leader, year(2011))
    _issue(leader, old)
    assert old.document_number == f"沪卢教党〔{this_year}〕3号"
    earlier = _draft(leader, year(2011))
    bulletins.issue(leader, earlier, earlier.version, at=datetime(2011, 12, 28, 2, 0))
    assert earlier.document_number == "沪卢教党〔2011〕1号"  # each calendar year counts from 1
    post = db.session.get(Post, first.post_id)
    assert (post.category, post.status) == (PostCategory.BULLETIN, PostStatus.PUBLISHED)
    assert first.document_number in post.title and f"/bulletins/{first.id}.pdf" in post.body_html
    # The figures stay as they were when issued, whatever happens next.
    frozen = dict(first.figures)
    make_assessment(BranchFactory(), status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    db.session.expire_all()
    assert db.session.get(Bulletin, first.id).figures == frozen
    assert bulletins.figures_for(current_year())["branches"] == frozen["branches"] + 1
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "bulletin")))
    assert actions == {"bulletin.create", "bulletin.issue"}


def test_an_issued_bulletin_is_read_only(ctx, leader):
    bulletin = _draft(leader)
    _issue(leader, bulletin)
    before = (bulletin.title, bulletin.version, bulletin.number)
    with pytest.raises(Conflict):
        bulletins.update_draft(leader, bulletin, bulletins.BulletinInput("新标题", bulletin.sections, ""),
                               bulletin.version)
    with pytest.raises(Conflict):
        _issue(leader, bulletin)
    db.session.rollback()
    db.session.expire_all()
    again = db.session.get(Bulletin, bulletin.id)
    assert (again.title, again.version, again.number) == before
    assert db.session.scalar(select(func.count(Post.id))) == 1


def test_a_correction_references_the_issued_one(ctx, leader):
    original = _draft(leader)
    with pytest.raises(Invalid):  # a draft cannot be corrected: it can still be edited
        bulletins.create_draft(leader, current_year(), bulletins.new_draft_input(current_year()), original.id)
    db.session.rollback()
    _issue(leader, original)
    data = bulletins.new_draft_input(current_year(), corrects=original)
    assert data.title == f"关于{original.document_number}通报的更正"  # not the corrected title again
    correction = bulletins.create_draft(leader, current_year(), data, original.id)
    _issue(leader, correction)
    assert correction.corrects_id == original.id and correction.number == original.number + 1
    assert [row.corrects for row in bulletins.archive() if row.bulletin.id == correction.id] == [
        original.document_number]


def test_a_stale_edit_is_a_conflict(ctx, leader):
    bulletin = _draft(leader)
    bulletins.update_draft(leader, bulletin, bulletins.BulletinInput("甲", bulletin.sections, ""), 1)
    with pytest.raises(Conflict):
        bulletins.update_draft(leader, bulletin, bulletins.BulletinInput("乙", bulletin.sections, ""), 1)
    db.session.rollback()
    assert db.session.get(Bulletin, bulletin.id).title == "甲"


def test_bad_input_is_refused_with_field_errors(ctx, leader):
    with pytest.raises(Invalid) as refused:
        bulletins.create_draft(leader, current_year(), bulletins.BulletinInput(" ", [{"heading": "", "body": ""}], ""))
    assert set(refused.value.field_errors) == {"title", "sections"}
    db.session.rollback()
    assert db.session.scalar(select(func.count(Bulletin.id))) == 0


def test_an_empty_year_makes_a_valid_document_saying_so(ctx, leader):
    bulletin = _draft(leader)
    assert len(bulletin.sections) == 1 and "暂无可通报的情况" in bulletin.sections[0]["body"]
    _issue(leader, bulletin)
    assert bulletin.figures["empty"] is True
    document = _open_docx(gongwen.docx_bytes(bulletin))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "尚未记录任何情况" in text and len(document.tables) == 1  # the 版记's table only
    assert "暂无可通报" in _pdf_text(gongwen.pdf_bytes(bulletin)).replace("\n", "")


def _open_docx(data: bytes):
    from docx import Document

    return Document(io.BytesIO(data))


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_docx_follows_gb_t_9704_and_carries_the_dashboards_figures(ctx, leader):
    from docx.shared import Pt

    _district()
    bulletin = _draft(leader)
    _issue(leader, bulletin)
    document = _open_docx(gongwen.docx_bytes(bulletin))
    section = document.sections[0]
    def mm(length) -> float:  # stored in twentieths of a point: compare to a tenth of a millimetre
        return round(length / 36000, 1)  # EMU per millimetre

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.left_margin)) == (37, 28)
    assert mm(section.page_width - section.left_margin - section.right_margin) == 156
    assert mm(section.page_height - section.top_margin - section.bottom_margin) == 225
    texts = [p.text for p in document.paragraphs]
    assert bulletin.document_number in texts and bulletin.title in texts
    title = next(p for p in document.paragraphs if p.text == bulletin.title)
    assert title.runs[0].font.size == Pt(22)
    east_asia = title.runs[0]._r.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
    assert east_asia == "方正小标宋简体"
    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16) and normal.element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋_GB2312"
    heading = next(p for p in document.paragraphs if p.text.startswith("一、"))
    assert heading.runs[0].font.name == "黑体" and heading.runs[0].font.size == Pt(16)
    # The figures: the criteria table equals the dashboard's averages, the branch table its rows.
    view = dashboard.overview({"year": str(current_year().year), "per_page": "all"})
    criteria, branches, imprint = document.tables  # the 版记 is a table floated to the foot of the last page
    assert [[c.text for c in row.cells] for row in criteria.rows[1:]] == [
        [c.title, gongwen.figure(score), gongwen.figure(progress)] for c, score, progress in view.criterion_averages]
    assert [row.cells[1].text for row in branches.rows[1:]] == [row.name for row in view.rows]
    assert [row.cells[3].text for row in branches.rows[1:]] == [gongwen.figure(row.total.score) for row in view.rows]
    for table in (criteria, branches):  # the header row repeats across pages
        assert table.rows[0]._tr.trPr.find(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
    # Page numbers are a PAGE field between dashes; the 版记 names the copy-to and the printing organ.
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "— " in footer_xml
    assert imprint.rows[0].cells[0].text.startswith("抄送：") and "印发" in imprint.rows[-1].cells[0].text


def test_the_pdf_is_a4_with_embedded_fonts_and_extractable_chinese(ctx, leader, tmp_path):
    from pypdf import PdfReader

    _district()
    bulletin = _draft(leader)
    _issue(leader, bulletin)
    data = gongwen.pdf_bytes(bulletin)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.28) < 1 and abs(height - 841.89) < 1  # A4 in points
    text = _pdf_text(data)
    assert bulletin.document_number in text.replace(" ", "") and "总体情况" in text
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            fonts.add(str(font["/BaseFont"]))
    assert any("CJK" in name for name in fonts)
    if shutil.which("pdftoppm"):  # page images to look at (make test installs poppler-utils)
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "2", "-", str(tmp_path / "page")],
                       input=data, check=True)  # nosec B603 B607 - fixed arguments, a test tool
        assert sorted(p.name for p in tmp_path.glob("page-*.png"))


def test_making_a_pdf_leaves_truncated_pictures_refused(ctx, leader):
    """WeasyPrint's import turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process; covers must still
    refuse a truncated picture after a bulletin's PDF was made."""
    from PIL import ImageFile

    bulletin = _draft(leader)
    gongwen.pdf_bytes(bulletin)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_big_districts_draft_names_some_branches_and_counts_the_rest(ctx, leader, monkeypatch):
    """At 2,000 branches hundreds are behind: the drafted section names the first ones and counts the others,
    so that the draft stays valid (the demo seed of a big district drafts one)."""
    monkeypatch.setattr(bulletins, "NAMES_LISTED", 2)
    make_assessment(BranchFactory(), status=AssessmentStatus.REVIEWED, answer_all=Result.MET)
    BranchFactory(), BranchFactory(), BranchFactory(), BranchFactory()  # four not started: all to be urged
    figures = bulletins.figures_for(current_year())
    urged = figures["urge"]
    assert len(urged) >= 4
    body = "\n".join(s["body"] for s in bulletins.draft_sections(figures))
    assert "、".join(urged[:2]) + f"等另外 {len(urged) - 2} 个" in body and urged[2] not in body
    _issue(leader, _draft(leader))  # valid
