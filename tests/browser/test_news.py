"""A secretary drafts a post, the editor publishes it, and it appears on the board and in the feed."""
import pytest

from ..factories import PASSWORD
from ..news_helpers import make_post
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_secretary_drafts_editor_publishes_board_and_feed(app, browser, live_server, secretary, editor, member):
    # A few published stories so that the board looks like the board.
    make_post(secretary, title="“红烛先锋”党员示范岗：让每一盏灯都亮起来",
              summary="支部以党员示范岗为抓手，推动师德建设。", pinned=True, published_ago_days=5)
    make_post(secretary, title="扎根课堂二十年的青年教师导师", summary="她带出的八位青年教师已成为骨干。",
              category="member_exemplar", published_ago_days=3)

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    # The plain Markdown field, as where the rich-text editor does not load (its own test: test_news_editor.py).
    page.route("**/vendor/pell-*.js*", lambda route: route.abort())
    login(page, live_server, secretary.username, PASSWORD)
    page.click("nav.main-nav a[href='/news']")
    page.click("a[href='/news/new']")
    page.select_option("#category", "experience")
    page.fill("#title", "“三会一课”进课堂：把党课上到教研组")
    page.fill("#summary", "党员教师轮流主讲，党课与教研相结合。")
    page.fill("#body_md", "## 做法\n\n- 每月一次主题党课\n- 党员教师轮流主讲\n\n<script>alert('x')</script>")
    page.check("input[name=criteria] >> nth=0")
    page.click("#post-form button[type=submit]")
    page.wait_for_selector("text=草稿已保存")
    post_url = page.url
    page.click("button:has-text('提交审核')")
    page.wait_for_selector("text=已提交")
    context.close()

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    login(page, live_server, editor.username, PASSWORD)
    page.click("nav.main-nav a[href='/news/queue']")
    page.click("text=“三会一课”进课堂")
    assert page.url == post_url
    page.click("button:has-text('立即发布')")
    page.wait_for_selector("text=已在新闻栏目发布")
    context.close()

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, live_server, member.username, PASSWORD)
    page.goto(live_server + "/news")
    titles = page.locator(".news-card__title").all_inner_texts()
    assert titles[0].startswith("“红烛先锋”")  # pinned first
    assert "“三会一课”进课堂：把党课上到教研组" in titles[1]  # then newest
    screenshot(page, "news-board")
    page.click("text=“三会一课”进课堂：把党课上到教研组")
    assert "阅读 2 次" in page.locator(".news-post__byline").inner_text()  # the editor landed on it, then us
    assert page.locator(".news-post__body h2").inner_text() == "做法"
    assert "alert" in page.locator(".news-post__body").inner_text() and not dialogs  # shown, never run
    screenshot(page, "news-post")
    page.goto(live_server + "/news/search?q=党课")
    assert page.locator("mark").first.inner_text() == "党课"
    screenshot(page, "news-search")
    context.close()

    feed = browser.new_context().request.get(live_server + "/news/feed.atom")
    assert feed.ok and "“三会一课”进课堂：把党课上到教研组" in feed.text()
