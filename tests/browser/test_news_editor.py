"""The news editor's rich-text field in Chromium under the portal's strict CSP: formatting, a picture uploaded
from the toolbar, the post saved as Markdown; no script refused by the CSP on the way."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Post, PostImage

from ..factories import PASSWORD
from ..news_helpers import image_file
from .conftest import ARTIFACTS, login, screenshot

pytestmark = pytest.mark.browser


def test_secretary_writes_with_the_rich_editor_and_inserts_a_picture(page, live_server, secretary):
    violations = []
    page.on("console", lambda message: violations.append((page.url, message.text, message.location))
            if "Content Security Policy" in message.text else None)
    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/news/new")
    editor = page.locator(".pell-content")
    editor.wait_for()
    assert not page.locator("#body_md").is_visible()
    page.select_option("#category", "branch_exemplar")
    page.fill("#title", "书香支部的一年")
    editor.click()
    page.keyboard.type("全体党员带头读书。")
    page.keyboard.press("Enter")
    page.click("button[title='加粗']")
    page.keyboard.type("每月一次读书会")
    ARTIFACTS.mkdir(exist_ok=True)
    picture = ARTIFACTS / "editor-picture.png"
    image_file(size=(120, 80)).save(str(picture))
    page.locator(".rich-editor ~ input[type=file]").set_input_files(str(picture))
    page.wait_for_selector(".pell-content img[src^='/news/images/']")
    screenshot(page, "news-rich-editor")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{live_server}/news/*")
    db.session.rollback()
    post = db.session.scalar(select(Post))
    stored = db.session.scalar(select(PostImage.stored_name))
    assert "全体党员带头读书。" in post.body_md and "**每月一次读书会**" in post.body_md
    assert f"/news/images/{stored}" in post.body_md and "<strong>每月一次读书会</strong>" in post.body_html
    assert page.locator(f".news-post__body img[src='/news/images/{stored}']").count() == 1
    # No script is refused (everything runs from files). Chromium's own editing commands (execCommand) may
    # write a style attribute into the editable text: the CSP blocks applying it, which is harmless, and the
    # server drops every style attribute anyway.
    assert [v for v in violations if "script-src" in v[1]] == []


def test_what_was_typed_in_the_editor_comes_back_after_a_413(page, live_server, secretary):
    """A send refused as too large (a summary of 6 MB) leaves the page; the way back to the form offers the
    title and the editor's text again (issue 18, second round: the editor's HTML is a field of the page,
    kept as a draft in this browser like any other)."""
    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/news/new")
    page.locator(".pell-content").wait_for()
    page.fill("#title", "我的长文标题")
    page.click(".pell-content")
    page.keyboard.type("这是我在编辑器里输入的正文。")
    page.evaluate("() => { document.getElementById('summary').value = '长'.repeat(2 * 1024 * 1024); }")
    page.evaluate("() => document.getElementById('body_md').form.requestSubmit()")
    page.wait_for_selector("text=提交的内容过大")
    page.click("text=返回表单")
    page.locator(".pell-content").wait_for()
    page.wait_for_function("() => document.querySelector('.pell-content').innerText.includes('编辑器里输入的正文')")
    assert page.input_value("#title") == "我的长文标题"
    screenshot(page, "news-after-413")
