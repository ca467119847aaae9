"""An issued 通报 as a 公文 (official document) laid out to GB/T 9704-2012 (党政机关公文格式), as .docx and .pdf.

The layout, from the standard: A4 (210 × 297 mm); top margin 37 mm, left (binding) margin 28 mm, text block
156 × 225 mm (so right 26 mm, bottom 35 mm), 22 lines of 28 characters; body text 3号仿宋 (16 pt), the title
2号小标宋 (22 pt), first-level headings 3号黑体; the 发文字号 (沪卢教党〔2012〕3号) under the issuing organ's
name in red with a red rule; the signature and the date (成文日期) at the end of the text; the 版记 (抄送, then the
printing organ and the printing date between rules) at the foot of the last page; page numbers "— 1 —" in 4号
(14 pt) at the foot, odd pages right and even pages left.

Font names are those of the offices' PCs (仿宋_GB2312, 方正小标宋简体, 黑体); the .docx names the common faces
(仿宋, 宋体, 黑体) as their alternatives so that Word and WPS without the GB2312 faces still show the right kind
of face. The .pdf embeds Debian's Noto CJK faces (serif for 仿宋 and 小标宋, sans for 黑体).
"""
from __future__ import annotations

import io
from datetime import date

from flask import render_template
from flask_babel import force_locale, gettext

from ..models import Bulletin
from . import bulletins

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
TOP_MM, LEFT_MM = 37, 28
BLOCK_WIDTH_MM, BLOCK_HEIGHT_MM = 156, 225
RIGHT_MM = PAGE_WIDTH_MM - LEFT_MM - BLOCK_WIDTH_MM  # 26
BOTTOM_MM = PAGE_HEIGHT_MM - TOP_MM - BLOCK_HEIGHT_MM  # 35
LINE_PT = 28.95  # 225 mm / 22 lines
BODY_PT, TITLE_PT, FOOTER_PT, TABLE_PT = 16, 22, 14, 12  # 3号, 2号, 4号; tables in 小四 to fit the block
FANGSONG, XIAOBIAOSONG, HEITI = "仿宋_GB2312", "方正小标宋简体", "黑体"
ALTERNATIVES = {FANGSONG: "仿宋", XIAOBIAOSONG: "宋体", HEITI: "SimHei"}
RED = "C00000"


def _status_label(value: str) -> str:
    from ..labels import ASSESSMENT_STATUS

    return str(ASSESSMENT_STATUS.get(value, "")) if value else gettext("Not started")


def document_context(bulletin: Bulletin) -> dict:
    """Everything both renderings show, in Chinese: number, title, sections, figures, signature and 版记."""
    figures = bulletins.bulletin_figures_now(bulletin)
    with force_locale("zh"):
        from ..models import AssessmentStatus

        statuses = {s.value: _status_label(s.value) for s in AssessmentStatus} | {"": _status_label("")}
        printed = bulletins.issue_date(bulletin)
        return {
            "bulletin": bulletin,
            "number": bulletin.document_number or gettext("(number assigned when issued)"),
            "issuer": bulletin.issuer or _config("BULLETIN_ISSUER"),
            "date": printed,
            "figures": figures,
            "statuses": statuses,
            "words": {
                "attachment": gettext("Attachment"),
                "attachment_note": gettext("Attachment: Figures of the Five Goods criteria and of every Party "
                                           "organisation"),
                "attachment_title": gettext("Figures of the Five Goods criteria and of every Party organisation"),
                "as_of": gettext("Figures as of %(day)s.", day=_day(figures["as_of"])),
                "criterion": gettext("Criterion"), "score": gettext("Average score"),
                "progress": gettext("Average progress, per cent"), "no": gettext("No."),
                "branch": gettext("Party organisation"), "branch_progress": gettext("Progress, per cent"),
                "branch_score": gettext("Score"), "status": gettext("Self-assessment"),
                "nothing": gettext("Nothing has been recorded yet."),
                "copy_to": gettext("Copy to:"),
                "printed": gettext("Printed %(day)s", day=printed),
                "corrects": gettext("This bulletin corrects %(number)s.", number=_corrected_number(bulletin)),
                "doc_title": gettext("Bulletin"),
                "draft_mark": gettext("Draft: not issued"),
            },
        }


def _config(name: str) -> str:
    from flask import current_app

    return current_app.config[name]


def _day(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"


def _corrected_number(bulletin: Bulletin) -> str:
    if bulletin.corrects_id is None:
        return ""
    from ..extensions import db

    corrected = db.session.get(Bulletin, bulletin.corrects_id)
    return corrected.document_number if corrected else ""


def figure(value) -> str:
    """A figure as the documents print it: one decimal, "—" when there is none."""
    return "—" if value is None else f"{value:.1f}"


# --- .docx ---------------------------------------------------------------------------------------

def docx_bytes(bulletin: Bulletin) -> bytes:
    """The bulletin as a Word document (python-docx), laid out to GB/T 9704-2012."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
    from docx.shared import Mm, Pt, RGBColor

    ctx = document_context(bulletin)
    labels, figures = ctx["words"], ctx["figures"]
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(TOP_MM), Mm(BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(LEFT_MM), Mm(RIGHT_MM)
    section.header_distance, section.footer_distance = Mm(15), Mm(25)
    _grid(section)
    document.settings.odd_and_even_pages_header_footer = True

    normal = document.styles["Normal"]
    _font(normal.font, FANGSONG, BODY_PT)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE_PT)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.widow_control = False

    def paragraph(text="", *, face=FANGSONG, size=BODY_PT, align=None, indent=True, bold=False, color=None):
        p = document.add_paragraph()
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(BODY_PT * 2)  # 首行缩进二字
        if text:
            run = p.add_run(text)
            _font(run.font, face, size)
            run.font.bold = bold
            if color:
                run.font.color.rgb = RGBColor.from_string(color)
        return p

    if not bulletin.is_issued:  # a draft says so on every page, in the header, large and red
        _draft_mark(section, labels["draft_mark"])
    # 版头: the issuing organ's mark in red, the 发文字号, the red rule.
    mark = paragraph(ctx["issuer"] + labels["doc_title"], face=XIAOBIAOSONG, size=30, indent=False,
                     align=WD_ALIGN_PARAGRAPH.CENTER, color=RED)
    mark.paragraph_format.line_spacing = Pt(48)
    paragraph()
    number = paragraph(ctx["number"], indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _rule(number, "bottom", RED, 12)
    paragraph()
    title = paragraph(bulletin.title, face=XIAOBIAOSONG, size=TITLE_PT, indent=False,
                      align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(36)
    paragraph()
    if labels["corrects"] and bulletin.corrects_id:
        paragraph(labels["corrects"])
    for part in bulletin.sections:
        if part["heading"]:
            paragraph(part["heading"], face=HEITI)
        for line in part["body"].split("\n"):
            if line.strip():
                paragraph(line.strip())
    paragraph()
    paragraph(labels["attachment_note"])
    # Signature and date: right-aligned, the date four characters from the right (GB/T 9704 7.3.5.2).
    paragraph()
    signature = paragraph(ctx["issuer"], indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    signature.paragraph_format.right_indent = Pt(BODY_PT * 2)
    dated = paragraph(ctx["date"], indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    dated.paragraph_format.right_indent = Pt(BODY_PT * 4)

    # 附件 on a new page: the figures, in tables that stay inside the text block and repeat their header row.
    page_break = document.add_paragraph()
    page_break.add_run().add_break(WD_BREAK.PAGE)
    paragraph(labels["attachment"], face=HEITI, indent=False)
    paragraph(labels["attachment_title"], face=XIAOBIAOSONG, size=TITLE_PT, indent=False,
              align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph(labels["as_of"], indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    if figures["empty"]:
        paragraph(labels["nothing"])
    else:
        _table(document, [labels["criterion"], labels["score"], labels["progress"]],
               [[c["title"], figure(c["score"]), figure(c["progress"])] for c in figures["criteria"]],
               [76, 40, 40], WD_TABLE_ALIGNMENT.CENTER)
        paragraph()
        _table(document, [labels["no"], labels["branch"], labels["branch_progress"], labels["branch_score"],
                          labels["status"]],
               [[str(n), row["name"], figure(row["progress"]), figure(row["score"]), ctx["statuses"][row["status"]]]
                for n, row in enumerate(figures["branch_rows"], start=1)],
               [14, 70, 24, 20, 28], WD_TABLE_ALIGNMENT.CENTER)

    # 版记 (GB/T 9704 7.4) at the foot of the last page: a table floated to the bottom of the text block of the
    # page it is anchored on (w:tblpPr tblpYSpec="bottom" relative to the margins), anchored after the last
    # paragraph; its rules are the table's borders.
    _imprint(document, [f"{labels['copy_to']}{bulletin.copy_to}"] if bulletin.copy_to else [],
             ctx["issuer"], labels["printed"])

    _page_numbers(section)
    _font_alternatives(document)
    _properties(document.core_properties, bulletin, ctx["issuer"])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _properties(properties, bulletin: Bulletin, issuer: str) -> None:
    """The document's own properties, as an office's file has them: the committee as author, created and
    modified at the moment of issue (a draft: now), nothing of the library that wrote it."""
    from ..models import utcnow

    moment = bulletin.issued_at or utcnow()
    properties.title = f"{bulletin.document_number} {bulletin.title}".strip()
    properties.author = properties.last_modified_by = issuer
    properties.created = properties.modified = moment
    properties.comments = properties.keywords = properties.subject = properties.category = ""
    properties.revision = 1
    properties.last_printed = moment


def _draft_mark(section, text: str) -> None:
    """"草稿" at the top of every page of a draft (both the odd and the even pages' headers)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import RGBColor

    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        _font(run.font, HEITI, TITLE_PT)
        run.font.bold = True
        run.font.color.rgb = RGBColor.from_string(RED)


def _imprint(document, lines: list[str], issuer: str, printed: str) -> None:
    """The 版记 as a one-column table at the bottom of the last page's text block: 抄送 (if any), then the
    printing organ left and the printing date right; a thick rule above and below, a thin one between."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    table = document.add_table(rows=len(lines) + 1, cols=1)
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    place = OxmlElement("w:tblpPr")
    for name, value in (("leftFromText", "0"), ("rightFromText", "0"), ("topFromText", "0"),
                        ("bottomFromText", "0"), ("vertAnchor", "margin"), ("horzAnchor", "margin"),
                        ("tblpXSpec", "center"), ("tblpYSpec", "bottom")):
        place.set(qn(f"w:{name}"), value)
    tbl_pr.insert(0, place)
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(round(BLOCK_WIDTH_MM / 25.4 * 1440)))
    width.set(qn("w:type"), "dxa")
    tbl_pr.append(width)
    rows = table.rows
    for index, row in enumerate(rows):
        cell = row.cells[0]
        cell.width = Mm(BLOCK_WIDTH_MM)
        borders = OxmlElement("w:tcBorders")
        for side in ("top", "bottom"):
            edge = OxmlElement(f"w:{side}")
            first_or_last = (side == "top" and index == 0) or (side == "bottom" and index == len(rows) - 1)
            edge.set(qn("w:val"), "single")
            edge.set(qn("w:sz"), "8" if first_or_last else "4")
            edge.set(qn("w:color"), "000000")
            borders.append(edge)
        for side in ("left", "right"):
            edge = OxmlElement(f"w:{side}")
            edge.set(qn("w:val"), "nil")
            borders.append(edge)
        cell._tc.get_or_add_tcPr().append(borders)
        p = cell.paragraphs[0]
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(FOOTER_PT)
        p.paragraph_format.line_spacing = Pt(FOOTER_PT * 1.8)
        if index < len(lines):
            run = p.add_run(lines[index])
        else:
            p.paragraph_format.tab_stops.add_tab_stop(Mm(BLOCK_WIDTH_MM - 10), alignment=WD_ALIGN_PARAGRAPH.RIGHT)
            run = p.add_run(f"{issuer}\t{printed}")
        _font(run.font, FANGSONG, FOOTER_PT)
    document.add_paragraph()  # a floating table needs a paragraph after it to anchor on


def _font(font, face: str, size: float) -> None:
    """Set the run's (or style's) face for Chinese text via w:eastAsia, and for Latin text alike."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font.name = face
    font.size = Pt(size)
    rpr = font.element.get_or_add_rPr() if hasattr(font.element, "get_or_add_rPr") else font._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), face)
    fonts.set(qn("w:ascii"), face)
    fonts.set(qn("w:hAnsi"), face)


def _grid(section) -> None:
    """The document grid of 22 lines to the page (w:docGrid linePitch in twentieths of a point)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PT * 20)))


def _rule(paragraph, side: str, color: str, size_eighths: int) -> None:
    """A rule above or below the paragraph (w:pBdr), `size_eighths` in eighths of a point."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(size_eighths))
    edge.set(qn("w:space"), "1")
    edge.set(qn("w:color"), color)
    borders.append(edge)


def _table(document, header: list[str], rows: list[list[str]], widths_mm: list[int], alignment) -> None:
    """A grid table exactly as wide as the text block (fixed layout: long names wrap inside their cell), whose
    first row is a header row repeated on every page (w:tblHeader)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    table = document.add_table(rows=1, cols=len(header))
    table.style = document.styles["Table Grid"]
    table.alignment = alignment
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(round(BLOCK_WIDTH_MM / 25.4 * 1440)))
    width.set(qn("w:type"), "dxa")
    for old in tbl_pr.findall(qn("w:tblW")):
        tbl_pr.remove(old)
    tbl_pr.append(width)
    header_row = table.rows[0]
    tr_pr = header_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for values, bold in [(header, True)] + [(row, False) for row in rows]:
        cells = header_row.cells if bold else table.add_row().cells
        for index, (cell, value) in enumerate(zip(cells, values, strict=True)):
            cell.width = Mm(widths_mm[index])
            p = cell.paragraphs[0]
            p.paragraph_format.first_line_indent = Pt(0)
            p.paragraph_format.line_spacing = Pt(TABLE_PT * 1.5)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER if (bold or index != 1 or len(values) == 3 and index == 0) \
                else WD_ALIGN_PARAGRAPH.LEFT
            run = p.add_run(value)
            _font(run.font, HEITI if bold else FANGSONG, TABLE_PT)
    for column, width_mm in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width_mm)


def _page_numbers(section) -> None:
    """"— 1 —" in 4号 at the foot: odd pages on the right, even pages on the left, one character in."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer,
                                                                       WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        p.paragraph_format.first_line_indent = Pt(0)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(FOOTER_PT)
        else:
            p.paragraph_format.left_indent = Pt(FOOTER_PT)
        _number_runs(p)


def _number_runs(p) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run(text: str = ""):
        r = p.add_run(text)
        _font(r.font, "宋体", FOOTER_PT)
        return r

    run("— ")
    for kind, code in (("begin", None), (None, " PAGE "), ("separate", None)):
        r = run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            r._r.append(char)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = code
            r._r.append(instr)
    run("1")
    end = run()
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), "end")
    end._r.append(char)
    run(" —")


def _font_alternatives(document) -> None:
    """Name each office face's common alternative in the font table (w:altName), so that a PC without
    仿宋_GB2312 or 方正小标宋简体 substitutes 仿宋 or 宋体 rather than a Latin default."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    part = next((rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.FONT_TABLE), None)
    if part is None:
        return
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
        f'<w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>' for name, alt in ALTERNATIVES.items())
    table = parse_xml(part.blob)
    for entry in parse_xml(f"<w:fonts {nsdecls('w')}>{entries}</w:fonts>"):
        table.append(entry)
    from lxml import etree

    part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)


# --- .pdf ----------------------------------------------------------------------------------------

def document_html(bulletin: Bulletin) -> str:
    """The print HTML of the bulletin (templates/bulletins/document.html), also WeasyPrint's input."""
    return render_template("bulletins/document.html", figure=figure, page={
        "width": PAGE_WIDTH_MM, "height": PAGE_HEIGHT_MM, "top": TOP_MM, "left": LEFT_MM, "right": RIGHT_MM,
        "bottom": BOTTOM_MM, "line": LINE_PT, "body": BODY_PT, "title": TITLE_PT, "footer": FOOTER_PT,
        "table": TABLE_PT}, **document_context(bulletin))


def _keep_pillow_strict() -> None:
    """Importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES, which would let a truncated
    upload pass as a picture (images.store_cover refuses those); the bulletin draws no image, so it is reset."""
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False


def pdf_bytes(bulletin: Bulletin) -> bytes:
    """The bulletin as PDF (WeasyPrint): the same layout, Noto CJK faces embedded, text selectable. The
    template's stylesheet is inline and it loads nothing: no URL is fetched while rendering."""
    from weasyprint import HTML

    _keep_pillow_strict()

    def refuse(url: str, *args, **kwargs):
        raise ValueError("the bulletin document loads no resources")

    return HTML(string=document_html(bulletin), url_fetcher=refuse).write_pdf()
