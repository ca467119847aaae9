"""Official documents in Chromium: a leader drafts, previews and issues a 通报 and downloads its PDF (its pages
rendered to images to look at); a secretary prints the branch's 党务公开栏 and its QR codes lead to the pages."""
from __future__ import annotations

import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
from flask_babel import to_user_timezone
from sqlalchemy import select

from portal.extensions import db
from portal.models import AssessmentStatus, Bulletin, BulletinStatus, Result, utcnow

from ..checklist_helpers import current_year, make_assessment
from ..factories import PASSWORD, BranchFactory
from ..noticeboard_helpers import build_noticeboard
from .conftest import ARTIFACTS, login, screenshot

pytestmark = pytest.mark.browser


def test_leader_drafts_previews_and_issues_a_bulletin(page, live_server, leader):
    for n in range(4):
        make_assessment(BranchFactory(), status=AssessmentStatus.REVIEWED if n == 0 else AssessmentStatus.DRAFT,
                        answer_all=Result.MET if n < 2 else Result.PARTLY)
    login(page, live_server, leader.username, PASSWORD)
    page.click("nav.main-nav >> text=通报")
    page.wait_for_url(f"{live_server}/bulletins")
    page.click("button:has-text('起草通报')")
    page.wait_for_url(f"{live_server}/bulletins/new?year={current_year().year}")
    assert page.input_value("#heading-1") == "一、总体情况"
    assert "4个基层党组织" in page.input_value("#body-1")
    page.fill("#title", "关于创先争优活动阶段性进展情况的通报")
    page.fill("#body-4", page.input_value("#body-4") + "\n请各支部于月底前完成自评。")
    page.click("button:has-text('保存并预览')")
    page.wait_for_selector(".gongwen__title")
    assert page.inner_text(".gongwen__title") == "关于创先争优活动阶段性进展情况的通报"
    assert "（印发时编号）" in page.inner_text(".gongwen__number")
    screenshot(page, "bulletin-preview")
    page.click("a:has-text('印发…')")  # the confirmation step names the number and says it is final
    number = f"沪卢教党〔{to_user_timezone(utcnow()).year}〕1号"  # numbered by the calendar year of issue
    page.wait_for_selector("text=此操作不可撤销")
    screenshot(page, "bulletin-confirm")
    page.click(f"button:has-text('确认印发为{number}')")
    page.wait_for_selector("text=已印发")
    assert page.inner_text(".gongwen__number") == number
    db.session.rollback()  # end the test's read transaction: see what the server wrote
    bulletin = db.session.scalar(select(Bulletin))
    assert bulletin.status == BulletinStatus.ISSUED and bulletin.document_number == number
    assert "请各支部于月底前完成自评。" in bulletin.sections[3]["body"]
    # The PDF, downloaded as the person would, and its pages as images to look at.
    with page.expect_download() as download:
        page.click("a.button:has-text('PDF')")
    pdf = ARTIFACTS / "bulletin.pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    download.value.save_as(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(ARTIFACTS / "bulletin-page")],
                       check=True)  # nosec B603 B607 - fixed arguments, a test tool
        assert (ARTIFACTS / "bulletin-page-1.png").exists()


def _decode(image) -> list[str]:
    result = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True,
                            check=False)  # nosec B603 B607 - fixed arguments, a test tool
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="make test installs zbar-tools")
def test_noticeboard_prints_without_chrome_and_its_qr_codes_lead_to_the_pages(
        app, browser, live_server, branch, secretary, member, admin, editor):
    built = build_noticeboard(branch, secretary, member, admin, editor)
    # A printer's resolution, not a screen's: at 96 dpi a 28 mm code of a long address has under 4 px a module.
    context = browser.new_context(locale="zh-CN", viewport={"width": 900, "height": 1200}, device_scale_factor=3)
    page = context.new_page()
    base = app.config["PORTAL_BASE_URL"].rstrip("/")
    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/branches/{branch.id}/noticeboard")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".sheet-tools"):
        assert not page.locator(hidden).is_visible()
    sheet = page.locator("article.sheet")
    assert "尚未批准的承诺" not in sheet.inner_text()
    image = ARTIFACTS / "noticeboard-a4-print.png"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(image), full_page=True)
    # Each QR code alone (zbarimg reads them one by one most reliably), then all of them must decode.
    urls = []
    for index in range(page.locator(".sheet-entry__qr svg").count()):
        shot = ARTIFACTS / f"noticeboard-qr-{index}.png"
        page.locator(".sheet-entry__qr svg").nth(index).screenshot(path=str(shot))
        urls.extend(_decode(shot))
        shot.unlink()
    # The year's theme has no page of its own, so no code.
    expected = {f"{base}/brands/{branch.id}", f"{base}/brands/{branch.id}#project-{built['project']}",
                f"{base}/news/{built['post']}"} | {f"{base}/pledges/{pid}" for pid in built["pledges"]}
    assert set(urls) == expected
    page.emulate_media(media="screen")
    for url in sorted(urls):
        parts = urlsplit(url)
        response = page.goto(f"{live_server}{parts.path}")
        assert response.status == 200, url
        if parts.path.startswith("/pledges/"):
            assert page.locator("main").inner_text().count("每") >= 1
        if parts.fragment:
            assert page.locator(f"#{parts.fragment}").count() == 1
    page.goto(f"{live_server}/branches/{branch.id}/noticeboard?size=a3")
    page.emulate_media(media="print")
    screenshot(page, "noticeboard-a3-print")
    context.close()


def test_the_checklist_prints_on_a4_portrait_without_chrome(page, live_server, branch, secretary):
    import io
    import unicodedata

    from pypdf import PdfReader

    make_assessment(branch, answer_all=Result.MET)
    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/checklist/branch/{branch.id}")
    page.wait_for_selector("#checklist-bar")
    reader = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.28) < 1 and abs(float(box.height) - 841.89) < 1  # A4 portrait
    text = "".join(p.extract_text() for p in reader.pages)
    assert "退出" not in text and "创先争优活动平台" not in text  # the header (log-out button, portal name)
    # NFKC: Chromium's PDF text maps some characters to their Kangxi radical look-alikes (⼩ for 小).
    assert branch.name in unicodedata.normalize("NFKC", text).replace(" ", "").replace("\n", "")


def test_the_fullest_demo_branch_s_noticeboard_prints_on_one_a4_page(app, browser, live_server):
    """Branch 1 of the demo printed on two pages (the second held only the closing line): the fullest branch's
    sheet, printed by Chromium at the sheet's own page size, is one A4 page with the closing line on it."""
    import io

    from pypdf import PdfReader

    from portal.models import Branch
    from portal.services import demo, noticeboard

    demo.seed()
    year = current_year()

    def size(branch):
        sheet = noticeboard.branch_sheet(branch, year)
        entries = [sheet.theme, sheet.brand, sheet.exemplar, *sheet.pledges, *sheet.projects]
        return sum(1 + len(e.lines) + len(e.extra) for e in entries if e), sum(len(e.heading) for e in entries if e)

    branches = list(db.session.scalars(select(Branch).order_by(Branch.id)))
    fullest = max(branches, key=size)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    login(page, live_server, "leader", demo.DEMO_PASSWORD)
    for branch_id in sorted({branches[0].id, fullest.id}):  # the demo's branch 1 (ids go on across tests)
        assert page.goto(f"{live_server}/branches/{branch_id}/noticeboard").status == 200
        pdf = page.pdf(prefer_css_page_size=True)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"noticeboard-{branch_id}.pdf").write_bytes(pdf)  # to look at (pdftoppm -png)
        reader = PdfReader(io.BytesIO(pdf))
        box = reader.pages[0].mediabox
        assert abs(float(box.width) - 595.28) < 1 and abs(float(box.height) - 841.89) < 1  # A4 portrait
        assert "反映" in reader.pages[-1].extract_text()  # the closing line
        assert len(reader.pages) == 1, (branch_id, size(db.session.get(Branch, branch_id)), len(reader.pages))
    context.close()
