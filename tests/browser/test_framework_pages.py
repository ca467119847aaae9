"""The framework editor in Chromium (breakers' findings that only a browser shows): the file input speaks the
page's language (Chromium's own control says "Choose File / No file chosen"), is reached by keyboard and shows the
chosen file's name; a refused import takes focus to its problem summary at the top; these pages and the
confirmation page pass axe-core."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ..checklist_helpers import make_assessment
from .conftest import login, screenshot

pytestmark = pytest.mark.browser
AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
EDITOR = "/admin/frameworks/five_goods"


def _serious(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.help)")


def _bad_workbook(tmp_path: Path) -> Path:
    from portal.services.frameworks import export_xlsx, get_framework

    book = load_workbook(io.BytesIO(export_xlsx(get_framework("five_goods"))))
    book["条目"]["D2"] = ""
    book["条目"]["E3"] = "很重"
    path = tmp_path / "框架.xlsx"
    book.save(path)
    return path


def test_the_file_input_is_chinese_keyboard_reachable_and_names_the_chosen_file(app, browser, live_server, admin,
                                                                                tmp_path):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    login(page, live_server, admin.username, None)
    page.goto(live_server + EDITOR)
    button = page.locator("label.file-input__button[for=import-file]")
    assert button.inner_text() == "选择文件" and button.is_visible()
    assert page.locator("#import-file + label + [data-file-chosen]").inner_text() == "未选择文件"
    box = page.locator("#import-file").bounding_box()
    assert box["width"] <= 1 and box["height"] <= 1  # Chromium's English control is not shown
    # Keyboard: Tab from the field before it reaches the (hidden) input, whose focus ring shows on the button.
    page.locator("#import-file").focus()
    assert page.evaluate("document.activeElement.id") == "import-file"
    outline = button.evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline != "none"
    screenshot(page, "framework-file-input")
    page.set_input_files("#import-file", str(_bad_workbook(tmp_path)))
    assert page.locator("[data-file-chosen]").first.inner_text() == "框架.xlsx"
    # A refused import: its problems at the top, in focus, each linked to its line at the form.
    page.click("#import button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary").is_visible()
    assert "文件未导入" in page.locator("#error-summary h2").inner_text()
    links = page.locator("#error-summary li a")
    assert links.count() == 2
    screenshot(page, "framework-import-refused")
    assert _serious(page) == []
    links.nth(1).click()
    assert page.locator("#import-problem-2").is_visible()
    context.close()


def test_the_confirmation_page_shows_old_and_new_and_passes_axe(app, browser, live_server, admin, branch):
    from portal.models import Result, Subject

    from ..checklist_helpers import items

    make_assessment(branch, answer_all=Result.MET)
    item = items(Subject.BRANCH)[0]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    login(page, live_server, admin.username, None)
    page.goto(f"{live_server}{EDITOR}#item-{item.id}")
    row = page.locator(f"#item-{item.id}")
    row.locator("summary").click()
    row.locator("textarea[name=text]").fill("新的表述:学习实践科学发展观")
    row.locator("input[name=weight]").fill("2")
    row.locator("button[type=submit]").first.click()
    page.wait_for_selector("table.confirm-changes")
    assert page.locator("table.confirm-changes ins").all_inner_texts() == ["新的表述:学习实践科学发展观", "2"]
    screenshot(page, "framework-confirm")
    assert _serious(page) == []
    context.close()
