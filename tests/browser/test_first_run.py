"""From `flask --app wsgi init-db` on an empty database to a running district (issue 16): the organisation
section follows the first-run checklist (a current phase, a branch, the roster imported on the task queue) and a
secretary signs in for the first time with the code on their activation slip. Served by gunicorn beside a huey
consumer, as `make run` does."""
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from portal.clock import local_today

from ..liveserver import ROOT, gunicorn

FLASK = str(Path(sys.executable).with_name("flask"))
CONSUMER = str(Path(sys.executable).with_name("huey_consumer"))
ADMIN_PASSWORD = "first-admin-pass-2012"


@pytest.fixture
def empty_install(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}", SECRET_KEY="first-run",
               UPLOAD_FOLDER=str(tmp_path / "uploads"), TASK_QUEUE_URL=f"sqlite:///{tmp_path / 'tasks.sqlite3'}",
               PORTAL_BASE_URL="http://portal.school.local")
    env.pop("TEST_DATABASE_URL", None)
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True}
    subprocess.run([FLASK, "--app", "wsgi", "init-db"], **run)  # noqa: S603  # nosec B603 - fixed arguments
    subprocess.run([FLASK, "--app", "wsgi", "create-user", "--username", "zuzhike", "--display-name", "组织科",  # noqa: S603  # nosec B603
                    "--role", "admin", "--password", ADMIN_PASSWORD], **run)
    consumer = subprocess.Popen([CONSUMER, "portal.tasks.huey", "--workers", "1", "--worker-type", "thread",  # noqa: S603  # nosec B603
                                 "--no-periodic", "--delay", "0.1"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with gunicorn(env["DATABASE_URL"], env["UPLOAD_FOLDER"], workers=2,
                      TASK_QUEUE_URL=env["TASK_QUEUE_URL"], PORTAL_BASE_URL=env["PORTAL_BASE_URL"]) as base:
            yield base, tmp_path
    finally:
        consumer.terminate()
        consumer.wait(timeout=15)


def test_the_admin_follows_the_checklist_to_a_running_district(empty_install, page, context):
    base, tmp = empty_install
    shots = Path("/tmp/i16")
    shots.mkdir(exist_ok=True)
    page.goto(f"{base}/login")
    page.fill("#username", "zuzhike")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert page.locator("#setup-checklist").is_visible()
    assert page.locator("#setup-calendar").get_attribute("data-done") == "0"
    page.screenshot(path=str(shots / "home-empty.png"), full_page=True)
    # 1. The calendar: open the first phase today.
    page.click("#setup-calendar a")
    with page.expect_navigation():
        page.click("#open-next-phase")
    assert page.locator(".phase--current").count() == 1
    # 2. A unit and its branch.
    page.goto(f"{base}/admin/setup")
    page.click("#setup-branches a")
    page.fill("#new-unit_name", "书香路小学")
    page.fill("#new-branch_name", "书香路小学党支部")
    with page.expect_navigation():
        page.click("form[method=post][action$='/admin/branches'] button[type=submit]")
    page.screenshot(path=str(shots / "branch-added.png"), full_page=True)
    assert "书香路小学党支部" in page.locator("table.data").inner_text(), page.locator("main").inner_text()[-800:]
    # 3. The template, then the roster (a secretary, a member, a leader).
    page.goto(f"{base}/admin/setup")
    page.click("#setup-template a")
    with page.expect_download() as download:
        page.click("#template-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    roster = tmp / "名册.csv"
    roster.write_text("用户名,姓名,角色,支部,职务\nwangli,王丽,支部书记,书香路小学党支部,校长\n"
                      "zhaoqiang,赵强,党员,书香路小学党支部,教师\nlingdao,李领导,领导小组,,组长\n", encoding="utf-8")
    page.set_input_files("#file", str(roster))
    with page.expect_navigation():
        page.click("form[action$='/admin/roster'] button[type=submit]")
    page.click("#roster-confirm button[type=submit]")
    page.wait_for_selector("#import-progress[data-status='done']", timeout=30_000)
    page.screenshot(path=str(shots / "import-done.png"), full_page=True)
    with context.expect_page() as sheet_page:
        page.click("#print-all-slips")
    sheet = sheet_page.value
    sheet.wait_for_load_state()
    sheet.screenshot(path=str(shots / "slips.png"), full_page=True)
    code = sheet.locator("#slip-wangli code").get_attribute("data-code")
    assert "portal.school.local/activate" in sheet.locator("#slip-wangli").inner_text()
    sheet.close()
    # 4. The first 报送 request.
    page.goto(f"{base}/submissions")
    page.fill("#title", "报送领导小组名单和实施方案")
    page.fill("#deadline", f"{local_today() + timedelta(days=30):%Y-%m-%d}T17:00")  # within the next three years
    with page.expect_navigation():
        page.locator("form[action$='/submissions'] button[type=submit]").first.click()
    page.goto(f"{base}/admin/setup")
    page.screenshot(path=str(shots / "setup-done.png"), full_page=True)
    assert page.locator(".setup-step[data-done='0']").count() == 0, page.locator("#setup-checklist").inner_text()
    # The secretary's first sign-in: the code from the slip, then a password of their own.
    page.click("form[action$='/logout'] button")
    page.goto(f"{base}/login")
    page.click("#activate-link")
    page.fill("#username", "wangli")
    page.fill("#code", code)
    page.fill("#new_password", "书香路-王丽-密码")
    page.fill("#repeat_password", "书香路-王丽-密码")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "王丽" in page.locator("h1").inner_text()
    assert re.search("书香路小学党支部", page.content())
