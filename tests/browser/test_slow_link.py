"""A page that follows work in the background on a slow link (a school PC on a busy intranet): every answer that
arrives moves the page on, however long the round trip; an ended session stops the asking and says so without
claiming that anything typed was kept."""
from pathlib import Path

import pytest
from sqlalchemy import update

from portal.extensions import db
from portal.models import ImportStatus, RosterImport

from .conftest import login

pytestmark = pytest.mark.browser
TEMPLATES = Path(__file__).parents[2] / "templates"


def test_no_page_polls_on_a_clock():
    """`hx-trigger="every …"` asks again on a clock: on a link slower than the interval each answer is overtaken
    by the next question and thrown away (portal.js keeps only the latest answer of an element), so the page
    never moves. Polls ask again a moment after each answer instead (`load delay:…`)."""
    clocked = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
               if 'hx-trigger="every' in path.read_text(encoding="utf-8")]
    assert clocked == []


def _queued_import(admin) -> int:
    job = RosterImport(token="1" * 32 + ".csv", filename="roster.csv", status=ImportStatus.QUEUED,
                       created_by_id=admin.id)
    db.session.add(job)
    db.session.commit()
    return job.id


def _slow(context, page, latency_ms: int) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency_ms,
                                                  "downloadThroughput": -1, "uploadThroughput": -1})


def test_the_import_page_moves_on_a_link_slower_than_its_polling(live_server, page, context, admin):
    job_id = _queued_import(admin)
    login(page, live_server, admin.username, None)
    page.goto(f"{live_server}/admin/roster/imports/{job_id}")
    assert page.locator("#import-progress").get_attribute("data-status") == "queued"
    assert "0 / 0" not in page.locator("#import-progress").inner_text()  # no count before there is one
    _slow(context, page, 1500)  # a round trip longer than the 1 s between questions
    db.session.execute(update(RosterImport).where(RosterImport.id == job_id).values(
        status=ImportStatus.DONE, total=3, done=3,
        summary={"created": 0, "updated": 3, "disabled": 0, "unchanged": 0}))
    db.session.commit()
    page.wait_for_selector('#import-progress[data-status="done"]', timeout=15_000)
    assert page.locator("#import-summary").is_visible()


def test_an_ended_session_stops_the_polling_and_claims_nothing_was_kept(live_server, page, context, admin):
    job_id = _queued_import(admin)
    login(page, live_server, admin.username, None)
    page.goto(f"{live_server}/admin/roster/imports/{job_id}")
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/roster/imports/" in request.url else None)
    context.clear_cookies()
    alert = page.locator(".portal-error[data-status='401']").first
    alert.wait_for(timeout=10_000)
    text = page.locator("body").inner_text()
    assert "重新登录" in text
    assert "保存在本浏览器" not in text and "未保存" not in text  # a page that only reads: nothing to keep
    settled = len(asked)
    page.wait_for_timeout(3000)
    assert len(asked) == settled  # the 401 was not swapped in: nobody asks again
