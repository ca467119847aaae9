"""On a phone (390×844) the data tables become stacked cards (table.stacked, static/css/portal.css) and no page
scrolls sideways: the years' phase dates, the branch registry, the framework editor with an item's edit form open.
With the keyboard, a refused framework edit puts focus on the error summary at the top."""
from __future__ import annotations

import pytest

from ..factories import BranchFactory, UnitFactory
from .conftest import login, screenshot

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _look(page, name: str) -> None:
    """The whole page and the first screen of it (test-artifacts/), to look at."""
    screenshot(page, name)
    page.screenshot(path=str(screenshot(page, name).with_name(f"{name}-screen.png")))


def _fits(page) -> None:
    widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_wide_tables_fit_a_phone(app, phone, live_server, admin):
    from portal.models import Subject

    from ..checklist_helpers import items

    for n in range(1, 51):
        BranchFactory(unit=UnitFactory(name=f"第{n}实验学校"), name=f"第{n}实验学校党支部", member_count=40)
    item = items(Subject.BRANCH)[0]
    login(phone, live_server, admin.username, None)

    phone.goto(live_server + "/campaign/years")
    _fits(phone)
    phase = phone.locator("table.phase-dates tbody th").first
    assert phase.bounding_box()["height"] < 60  # 部署动员 on one line, not one character a line
    _look(phone, "phone-years")

    phone.goto(live_server + "/admin/branches")
    _fits(phone)
    name = phone.locator("tbody tr[id^=branch-] th").first
    assert name.bounding_box()["width"] > 250  # the branch's name has the card's width
    _look(phone, "phone-branches")
    phone.locator("tbody tr[id^=branch-]").first.screenshot(path=str(screenshot(phone, "phone-branches").with_name(
        "phone-branch-row.png")))

    phone.goto(f"{live_server}/admin/frameworks/five_goods#item-{item.id}")
    row = phone.locator(f"#item-{item.id}")
    row.locator("summary").first.click()
    _fits(phone)
    save = row.locator("button[type=submit]").first
    box = save.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    row.screenshot(path=str(screenshot(phone, "phone-framework-edit").with_name("phone-framework-edit-row.png")))
    assert phone.locator(f"#item-{item.id} td[data-label]").first.evaluate(
        "td => getComputedStyle(td, '::before').content").strip('"') == "序号"


def test_a_refused_framework_edit_focuses_its_error_summary(app, browser, live_server, admin):
    from portal.models import Subject

    from ..checklist_helpers import items

    item = items(Subject.BRANCH)[0]
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    login(page, live_server, admin.username, None)
    page.goto(f"{live_server}/admin/frameworks/five_goods")
    row = page.locator(f"#item-{item.id}")
    row.locator("summary").first.click()
    row.locator("input[name=weight]").fill("abc")
    row.locator("button[type=submit]").first.click()
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary").is_visible()
    _fits(page)
    _look(page, "phone-framework-refused")
    page.locator("#error-summary a").first.click()
    assert page.evaluate("document.activeElement.id") == f"i{item.id}-weight"
    context.close()


PHONE_PAGES = ["/admin/audit", "/submissions", "/admin/users", "/admin/branches", "/campaign/years", "/admin/roster",
               "/admin/frameworks", "/admin/setup", "/notifications", "/news"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_admin_page_scrolls_sideways_on_a_phone(app, browser, live_server, admin, language):
    """The kind, over the organisation section's pages in both languages (the audit log and the English 报送 page
    were 859 and 515 px wide): every data table stacks, nothing is wider than the screen."""
    from datetime import timedelta

    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import CampaignYear, utcnow
    from portal.services import accounts, submissions

    branch = BranchFactory(unit=UnitFactory(name="第1实验学校"), name="第1实验学校党支部", member_count=40)
    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    submissions.create_request(admin, year, kind="plan", title="报送领导小组名单和实施方案", description="",
                               deadline=(utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
                               branch_ids=[str(branch.id)])
    accounts.set_locale(admin, language)
    db.session.commit()
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    login(page, live_server, admin.username, None)
    wide = []
    for path in PHONE_PAGES:
        page.goto(live_server + path)
        widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1]:
            wide.append((path, widths))
    context.close()
    assert wide == []
