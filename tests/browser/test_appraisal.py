"""群众评议 in Chromium: a secretary prints slips whose QR codes scan (zbarimg) to the ballot; a parent votes on a
390 px wide phone without logging in; the leading group confirms and overrides a grade."""
import shutil
import subprocess  # nosec B404 - runs zbarimg, a fixed local program, on a file this test wrote
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal.extensions import db
from portal.models import AuditEvent, Ballot, GradeRecord
from portal.services import appraisal, grading

from ..appraisal_helpers import close_round, current_year, open_round
from ..conftest import make_app
from ..factories import PASSWORD
from .conftest import ARTIFACTS, login, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def portal_server(app, database_url, upload_root):
    """A live server whose PORTAL_BASE_URL is its own address, so that the slips' QR codes lead back to it."""
    served = make_app(database_url, upload_root, TESTING=False)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    served.config["PORTAL_BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=5)
    with served.app_context():
        db.engine.dispose()


def _zbarimg(path) -> list[str]:
    binary = shutil.which("zbarimg")
    if binary is None:
        pytest.fail("zbarimg is not installed: run `make browser` (it installs Debian's zbar-tools).")
    result = subprocess.run([binary, "--quiet", "--raw", str(path)], capture_output=True, text=True,  # nosec B603
                            timeout=30, check=False)
    return [line for line in result.stdout.splitlines() if line]


def test_slips_scan_to_the_ballot_and_a_parent_votes_on_a_phone(browser, portal_server, branch, secretary):
    round_ = open_round(secretary)
    db.session.commit()
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 1400}, device_scale_factor=2)
    page = desk.new_page()
    login(page, portal_server, secretary.username, PASSWORD)
    page.goto(f"{portal_server}/appraisal/branch/{branch.id}/codes")
    page.select_option("#group", "parents")
    page.fill("#count", "6")
    page.click("button:has-text('生成并显示评议票')")
    page.wait_for_selector("#slips")
    assert page.locator(".slip").count() == 6
    screenshot(page, "appraisal-slips-sheet")
    page.emulate_media(media="print")
    screenshot(page, "appraisal-slips-print")
    page.emulate_media(media="screen")
    codes = [text.strip() for text in page.locator(".slip__code code").all_inner_texts()]
    # Every slip's QR code decodes to the ballot address with that slip's code.
    for index in (0, 5):
        path = ARTIFACTS / f"appraisal-slip-{index + 1}.png"
        page.locator(".slip").nth(index).screenshot(path=str(path))
        # The code rides in the fragment, which the browser never sends to the server (no log, no Referer).
        assert _zbarimg(path) == [f"{portal_server}/appraisal#code={codes[index]}"]
    scanned = _zbarimg(ARTIFACTS / "appraisal-slip-1.png")[0]
    desk.close()

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=3, is_mobile=True,
                                has_touch=True)
    parent = phone.new_page()
    parent.goto(scanned)  # no login
    assert parent.locator("#code").input_value() == scanned.split("#code=", 1)[1]  # filled in by ballot.js
    assert "#" not in parent.url  # and dropped from the address bar
    parent.click("button:has-text('下一步')")
    assert parent.locator(".ballot__whom").inner_text().startswith("您正在评议")
    assert branch.name in parent.locator(".ballot__whom").inner_text()
    assert parent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    questions = parent.locator("fieldset.ballot__question")
    assert questions.count() == len(round_.questions)
    # One unanswered question: refused in place, nothing counted.
    for index in range(questions.count() - 1):
        questions.nth(index).locator("label.ballot__choice", has_text="比较满意").tap()
    parent.click("button:has-text('提交评议')")
    assert parent.locator("fieldset[aria-invalid=true]").count() == 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
    parent.locator("fieldset[aria-invalid=true] label.ballot__choice", has_text="满意").first.tap()
    screenshot(parent, "appraisal-ballot-phone")
    parent.click("button:has-text('提交评议')")
    parent.wait_for_url("**/appraisal/thanks")
    assert "感谢您参加评议" in parent.locator("h1").inner_text()
    screenshot(parent, "appraisal-ballot-thanks-phone")
    db.session.commit()
    ballot = db.session.scalar(select(Ballot))
    assert (ballot.branch_id, ballot.rater_group) == (branch.id, "parents")
    # The same slip again: refused with a Chinese message.
    parent.goto(scanned)
    parent.click("button:has-text('下一步')")
    assert "已使用过" in parent.locator("#ballot-refusal").inner_text()
    screenshot(parent, "appraisal-ballot-used-phone")
    phone.close()


def test_leader_confirms_and_overrides_grades(browser, portal_server, branch, other_branch, leader, admin):
    round_ = open_round(admin, minimum=3)
    for target, levels in ((branch, ["satisfied"] * 3), (other_branch, ["basically", "dissatisfied", "fairly"])):
        for code, level in zip(appraisal.generate_codes(admin, round_, target, "staff", 3), levels, strict=True):
            appraisal.cast_ballot(code, {q.id: level for q in round_.questions})
    close_round(round_)
    grading.propose(admin, current_year())
    records = {r.branch_id: r for r in db.session.scalars(select(GradeRecord).where(GradeRecord.member_id.is_(None)))}
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    login(page, portal_server, leader.username, PASSWORD)
    page.click("nav.main-nav >> text=分类定级")
    page.wait_for_selector("#grade-table")
    screenshot(page, "grades-before")
    mine = page.locator(f"#confirm-{records[branch.id].id}")
    mine.locator("button").click()
    page.wait_for_selector(".flash--success")
    other = page.locator(f"#confirm-{records[other_branch.id].id}")
    other.locator("select").select_option("ordinary")
    other.locator("input[name=reason]").fill("太短")
    other.locator("button").click()  # too short a reason: refused, beside the row, on /grades, as typed
    other = page.locator(f"#confirm-{records[other_branch.id].id}")
    assert "理由" in other.locator(".grade-error").inner_text()
    assert page.url.endswith("/grades")
    assert other.locator("select").input_value() == "ordinary"
    assert other.locator("input[name=reason]").input_value() == "太短"
    screenshot(page, "grades-refused")
    other.locator("input[name=reason]").fill("经复核，整改措施已经到位")
    other.locator("button").click()
    page.wait_for_selector(".flash--success")
    row = page.locator(f"#grade-{records[other_branch.id].id} .grade-confirmed")
    assert "一般" in row.inner_text() and "整改措施已经到位" in row.inner_text()
    screenshot(page, "grades-after")
    db.session.commit()
    for record in records.values():
        db.session.refresh(record)
    assert records[branch.id].confirmed == records[branch.id].proposed
    assert (records[other_branch.id].confirmed, records[other_branch.id].confirmed_by_id) == ("ordinary", leader.id)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "grading.overridden")) == 1
    assert records[other_branch.id].proposed == "lagging"  # 46.7: (60 + 0 + 80) / 3 on every question
    page.goto(f"{portal_server}/dashboard?grade=ordinary")
    assert other_branch.name in page.locator("table").inner_text()
    assert branch.name not in page.locator("table tbody").inner_text()
    context.close()


def test_grades_read_on_a_375_px_phone_in_english(browser, portal_server, branch, other_branch, leader, admin):
    """Headers broke letter by letter (S/a/t/i/s…) at 375 px: no header word is split, nothing overflows the page,
    and each branch's confirm form sits below its figures at the card's full width."""
    open_round(admin, minimum=3)
    grading.propose(admin, current_year())
    for width, lang in ((375, "en"), (375, "zh"), (1366, "en")):
        context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 800})
        page = context.new_page()
        login(page, portal_server, leader.username, PASSWORD)
        page.goto(f"{portal_server}/grades?lang={lang}")
        page.wait_for_selector("#grade-table")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # A header split inside a word is as tall as many lines while its widest word is cut: each visible
        # header's lines are at most its words.
        for box in page.evaluate("""[...document.querySelectorAll('#grade-table thead th')].map(th => {
            const r = th.getBoundingClientRect(), lh = parseFloat(getComputedStyle(th).lineHeight) || 20;
            return {visible: th.closest('thead').getBoundingClientRect().width > 2, text: th.textContent.trim(),
                    lines: Math.round((r.height - 14) / lh),
                    words: th.textContent.trim().split(/\\s+/).length,
                    wrap: getComputedStyle(th).overflowWrap}; })"""):
            assert box["wrap"] != "anywhere"
            if box["visible"]:
                assert box["lines"] <= box["words"] + 1, (width, lang, box)
        form = page.locator("#grade-table .grade-confirm").first.bounding_box()
        figures = page.locator("#grade-table tbody td.num").first.bounding_box()
        if width < 600:
            assert form["y"] >= figures["y"] + figures["height"] - 1 and form["width"] > width * 0.6
        screenshot(page, f"grades-{width}-{lang}")
        context.close()
