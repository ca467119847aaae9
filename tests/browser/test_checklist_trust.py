"""The checklist keeps what people type and shows what the database holds (issue 11), in Chromium."""
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Evidence, ItemResult, Result, Subject

from ..checklist_helpers import items
from ..factories import PASSWORD
from .conftest import ARTIFACTS, login

pytestmark = pytest.mark.browser

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def screenshot(page, name: str) -> None:
    """What the person sees at that moment (the viewport, not the whole long page)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def saved(item_id: int) -> ItemResult | None:
    db.session.commit()  # end the test's read snapshot to see the server's writes
    return db.session.scalar(select(ItemResult).where(ItemResult.item_id == item_id))


def open_checklist(page, live_server, secretary, branch):
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" and "delete?" questions
    login(page, live_server, secretary.username, PASSWORD)
    page.goto(f"{live_server}/checklist/branch/{branch.id}")


def test_note_survives_a_result_click_and_an_upload_and_focus_stays(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    first, second = items(Subject.BRANCH)[:2]
    page.locator(f"#item-{first.id} summary").click()
    page.fill(f"#note-{first.id}", "已召开专题学习会")
    # Keyboard: Enter on a result button, without saving the note first.
    page.focus(f"#result-{first.id}-met")
    page.keyboard.press("Enter")
    page.locator(f"#result-{first.id}-met[aria-pressed=true]").wait_for()
    assert page.evaluate("document.activeElement.id") == f"result-{first.id}-met"
    assert page.input_value(f"#note-{first.id}") == "已召开专题学习会"
    assert "已保存" in page.inner_text(f"#note-{first.id}-state")
    page.locator("#announcer:has-text('已保存')").wait_for(state="attached")
    row = saved(first.id)
    assert row.result == Result.MET and row.note == "已召开专题学习会"
    # An upload carries the note typed beside it.
    page.locator(f"#item-{second.id} summary").click()
    page.fill(f"#note-{second.id}", "见附件照片")
    page.set_input_files(f"#file-{second.id}", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    page.click(f"#upload-{second.id}")
    page.locator(f"#item-{second.id} .evidence-list li").wait_for()
    assert page.input_value(f"#note-{second.id}") == "见附件照片"
    assert saved(second.id).note == "见附件照片"
    assert db.session.scalar(select(func.count(Evidence.id))) == 1
    # Leaving the field saves it too (debounced), with a visible saved state.
    page.fill(f"#note-{second.id}", "见附件照片（已补充）")
    page.focus(f"#result-{second.id}-partly")
    page.locator(f"#note-{second.id}-state[data-state=saved]").wait_for()
    assert saved(second.id).note == "见附件照片（已补充）"


def test_errors_keep_the_row_and_say_what_to_do(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    first, second = items(Subject.BRANCH)[:2]
    rows_before = page.locator("li.item").count()
    # A stale form token (logged in again in another tab): page alert with a reload, the row stays.
    page.evaluate("""() => {
        document.querySelector('meta[name=csrf-token]').content = 'stale';
        document.querySelectorAll('input[name=csrf_token]').forEach(input => { input.value = 'stale'; });
    }""")
    page.click(f"#result-{first.id}-met")
    page.locator("#page-alert [data-reload]").wait_for()
    assert page.locator(f"#item-{first.id} .item__text").is_visible()
    assert "未保存" in page.inner_text(f"#item-{first.id}-error")
    screenshot(page, "error-stale-token-zh")
    page.reload()
    # A server or proxy answering with its own bare error page: never swapped over the row.
    page.route(f"**/items/{second.id}/result*", lambda route: route.fulfill(
        status=500, body="<html><body><h1>Internal Server Error</h1></body></html>", content_type="text/html"))
    page.click(f"#result-{second.id}-met")
    page.locator(f"#item-{second.id}-error:has-text('未保存')").wait_for()
    assert "Internal Server Error" not in page.inner_text("main")
    assert page.locator(f"#result-{second.id}-met").is_visible()
    screenshot(page, "error-server-500-zh")
    page.unroute(f"**/items/{second.id}/result*")
    # A file over the size limit: answered in its row like any invalid upload.
    page.locator(f"#item-{second.id} summary").click()
    page.evaluate("""id => {  // 12 MB made in the page: quicker than sending it from the test
        const files = new DataTransfer();
        files.items.add(new File([new Uint8Array(12 * 1024 * 1024)], "大文件.pdf", {type: "application/pdf"}));
        document.getElementById(id).files = files.files;
    }""", f"file-{second.id}")
    page.click(f"#upload-{second.id}")
    page.locator(f"#item-{second.id}-error:has-text('10 MB')").wait_for()
    screenshot(page, "error-too-large-zh")
    assert page.locator("li.item").count() == rows_before  # no row was replaced by an error
    assert saved(second.id) is None  # nothing half-saved


def test_a_draft_survives_an_expired_session_and_comes_back_after_logging_in(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    third = items(Subject.BRANCH)[2]
    rows_before = page.locator("li.item").count()
    # The session ends while a note is being typed: a log-in link back here; the draft survives it.
    page.locator(f"#item-{third.id} summary").click()
    page.fill(f"#note-{third.id}", "会话过期前写的说明")
    db.session.commit()  # a fresh transaction: the test's read snapshot is older than the server's writes
    secretary.session_version += 1  # the session ends (as after its idle time, or a logout elsewhere)
    db.session.commit()
    page.click(f"#result-{third.id}-partly")
    link = page.locator("#page-alert a[href*='/login?next=']")
    link.wait_for()
    screenshot(page, "error-session-expired-zh")
    assert page.locator("li.item").count() == rows_before  # no row was replaced by an error
    link.click()
    page.fill("#username", secretary.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/checklist/branch/{branch.id}*")
    # The draft is back in its field, marked as restored and not saved: the person decides.
    page.locator(f"#note-{third.id}-state[data-state=restored]").wait_for()
    assert page.input_value(f"#note-{third.id}") == "会话过期前写的说明"
    assert saved(third.id) is None
    screenshot(page, "draft-restored-zh")
    page.click(f"#note-save-{third.id}")
    page.locator(f"#note-{third.id}-state[data-state=saved]").wait_for()
    assert saved(third.id).note == "会话过期前写的说明"


def slow_link(page, latency_ms: int = 400) -> None:
    """Every request and answer takes `latency_ms` longer, as on a slow school network."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency_ms,
                                                  "downloadThroughput": -1, "uploadThroughput": -1})


def test_last_click_wins_on_screen_and_in_the_database(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    item = items(Subject.BRANCH)[0]
    slow_link(page)
    page.click(f"#result-{item.id}-met")
    page.click(f"#result-{item.id}-not_met")
    # The latest click shows it is under way at once; the earlier one is no longer marked.
    assert page.get_attribute(f"#result-{item.id}-not_met", "aria-busy") == "true"
    assert page.get_attribute(f"#result-{item.id}-met", "aria-busy") is None
    page.locator(f"#item-{item.id}:not([aria-busy])").wait_for()
    page.locator(f"#result-{item.id}-not_met[aria-pressed=true]").wait_for()
    assert page.get_attribute(f"#result-{item.id}-met", "aria-pressed") == "false"
    assert saved(item.id).result == Result.NOT_MET


def test_two_tabs_editing_one_note_keep_both_texts(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    item = items(Subject.BRANCH)[3]
    other = page.context.new_page()
    other.goto(f"{live_server}/checklist/branch/{branch.id}")
    for tab, text in ((other, "另一页先保存的说明"), (page, "我在这一页写的说明")):
        tab.locator(f"#item-{item.id} summary").click()
        tab.fill(f"#note-{item.id}", text)
        tab.click(f"#note-save-{item.id}")
    page.locator(f"#note-{item.id}-theirs").wait_for()
    assert "另一页先保存的说明" in page.inner_text(f"#note-{item.id}-theirs")
    assert page.input_value(f"#note-{item.id}") == "我在这一页写的说明"  # own text stays in the field
    page.wait_for_timeout(800)  # longer than the autosave delay: a conflict is never saved over by itself
    assert saved(item.id).note == "另一页先保存的说明"
    page.locator(f"#item-{item.id}").scroll_into_view_if_needed()
    screenshot(page, "note-conflict-zh")
    page.click(f"#note-save-{item.id}")  # having seen theirs, saving again replaces it knowingly
    page.locator(f"#note-{item.id}-state[data-state=saved]").wait_for()
    assert saved(item.id).note == "我在这一页写的说明"


def test_a_double_clicked_create_form_is_sent_once(page, live_server, member):
    from portal.models import Pledge

    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, member.username, PASSWORD)
    page.goto(f"{live_server}/pledges")
    page.fill("#member-text", "每月为学生义务辅导一次")
    page.locator("input[name=items]").first.check()
    slow_link(page)
    # Note (in sessionStorage, which outlives the navigation) how many submits went out, and whether the
    # button was disabled just after the first.
    page.evaluate("""() => window.addEventListener("submit", evt => {
        if (evt.defaultPrevented) return;
        sessionStorage.setItem("sent", String(Number(sessionStorage.getItem("sent") || 0) + 1));
        setTimeout(() => sessionStorage.setItem("disabled",
            String(evt.target.querySelector("[type=submit]").disabled)), 20);
    })""")
    page.locator("form:has(#member-text) button[type=submit]").dblclick()
    page.wait_for_url("**/pledges/*")
    assert page.evaluate("() => [sessionStorage.getItem('sent'), sessionStorage.getItem('disabled')]") == ["1", "true"]
    db.session.commit()
    assert db.session.scalar(select(func.count(Pledge.id))) == 1


def test_on_a_phone_the_header_is_small_and_the_buttons_big(browser, live_server, secretary, branch):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    phone = context.new_page()
    login(phone, live_server, secretary.username, PASSWORD)
    header = phone.locator(".site-header").bounding_box()
    assert header["height"] <= 844 / 5
    next_step = phone.locator("main a.button").first.bounding_box()  # the person's own next action
    assert next_step["y"] + next_step["height"] <= 844
    phone.locator(".main-nav__toggle").click()  # the menu opens behind its button
    assert phone.get_by_role("link", name="自评", exact=True).is_visible()
    phone.goto(f"{live_server}/checklist/branch/{branch.id}")
    heights = phone.eval_on_selector_all(".result-button", "buttons => buttons.map(b => b.offsetHeight)")
    assert min(heights) >= 44
    context.close()


def test_a_stale_tab_that_never_typed_never_erases_a_saved_note(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    item = items(Subject.BRANCH)[4]
    other = page.context.new_page()
    other.goto(f"{live_server}/checklist/branch/{branch.id}")
    other.locator(f"#item-{item.id} summary").click()
    other.fill(f"#note-{item.id}", "另一页保存的说明")
    other.click(f"#note-save-{item.id}")
    other.locator(f"#note-{item.id}-state[data-state=saved]").wait_for()
    other.close()
    # This tab still shows the empty note it loaded; the person only ticks results and uploads.
    for result in ("met", "partly"):
        page.click(f"#result-{item.id}-{result}")
        page.locator(f"#result-{item.id}-{result}[aria-pressed=true]").wait_for()
        row = saved(item.id)
        assert row.result.value == result and row.note == "另一页保存的说明"
    assert page.locator(f"#item-{item.id} details[open]").count() == 1  # a saved note opens its details
    page.set_input_files(f"#file-{item.id}", files=[{"name": "照片.png", "mimeType": "image/png", "buffer": PNG}])
    page.click(f"#upload-{item.id}")
    page.locator(f"#item-{item.id} .evidence-list li").wait_for()
    assert saved(item.id).note == "另一页保存的说明"
    assert page.input_value(f"#note-{item.id}") == "另一页保存的说明"  # the row now shows what is saved


def test_saving_again_while_the_first_save_is_under_way_is_not_a_conflict(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    item = items(Subject.BRANCH)[5]
    page.locator(f"#item-{item.id} summary").click()
    slow_link(page, 600)
    page.fill(f"#note-{item.id}", "第一稿")
    page.click(f"#note-save-{item.id}")
    page.fill(f"#note-{item.id}", "第一稿，又补充了一句")  # typed on while the first save travels
    page.click(f"#result-{item.id}-met")  # queued behind it, carrying the longer text
    page.locator(f"#result-{item.id}-met[aria-pressed=true]").wait_for()
    page.locator(f"#item-{item.id}:not([aria-busy])").wait_for()
    assert page.locator(f"#note-{item.id}-theirs").count() == 0  # no conflict with one's own save
    row = saved(item.id)
    assert row.note == "第一稿，又补充了一句" and row.result == Result.MET


def test_a_draft_from_another_tab_is_offered_not_saved_by_itself(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    item = items(Subject.BRANCH)[6]
    page.locator(f"#item-{item.id} summary").click()
    page.fill(f"#note-{item.id}", "还在写的半句话")  # kept as a draft in this browser, not yet saved
    second = page.context.new_page()
    second.on("dialog", lambda dialog: dialog.accept())
    second.goto(f"{live_server}/checklist/branch/{branch.id}")
    second.locator(f"#note-{item.id}-state[data-state=restored]").wait_for()
    assert second.input_value(f"#note-{item.id}") == "还在写的半句话"
    second.focus(f"#note-{item.id}")
    second.focus(f"#result-{item.id}-met")  # leaving the restored field does not save it
    second.wait_for_timeout(900)
    assert saved(item.id) is None
    second.click(f"#result-{item.id}-met")  # nor does a click in its row
    second.locator(f"#result-{item.id}-met[aria-pressed=true]").wait_for()
    assert saved(item.id).note == ""
    second.click(f"[data-discard-draft=note-{item.id}]")
    assert second.input_value(f"#note-{item.id}") == ""
    second.close()
    # The first tab's own save is not a conflict with anything the second tab did.
    page.click(f"#note-save-{item.id}")
    page.locator(f"#note-{item.id}-state[data-state=saved]").wait_for()
    assert page.locator(f"#note-{item.id}-theirs").count() == 0
    assert saved(item.id).note == "还在写的半句话"


def test_a_refused_upload_stays_said_while_the_note_is_saved_and_the_row_is_announced(
        page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    first, item = items(Subject.BRANCH)[7:9]
    page.click(f"#result-{first.id}-met")  # an earlier announcement on the page
    page.locator(f"#result-{first.id}-met[aria-pressed=true]").wait_for()
    page.locator(f"#item-{item.id} summary").click()
    page.evaluate("""id => {
        const files = new DataTransfer();
        files.items.add(new File([new Uint8Array(11 * 1024 * 1024)], "太大.pdf", {type: "application/pdf"}));
        document.getElementById(id).files = files.files;
    }""", f"file-{item.id}")
    page.click(f"#upload-{item.id}")
    page.locator(f"#item-{item.id}-error:has-text('10 MB')").wait_for()
    page.fill(f"#note-{item.id}", "文件太大，改交纸质材料")
    page.focus(f"#result-{item.id}-partly")  # leaving the field saves the note and redraws the row
    page.locator(f"#note-{item.id}-state[data-state=saved]").wait_for()
    assert "10 MB" in page.inner_text(f"#item-{item.id}-error")
    page.click(f"#result-{item.id}-partly")
    page.locator(f"#result-{item.id}-partly[aria-pressed=true]").wait_for()
    number = page.inner_text(f"#item-{item.id} .item__number")
    # The redrawn row's own words, as a new line after the earlier ones (which are not cut off).
    page.locator(f"#announcer p:has-text('{number} 项：基本达标')").wait_for(state="attached")
    assert "10 MB" in page.inner_text("#announcer")


def test_unsent_text_in_any_form_warns_before_leaving(page, live_server, member):
    login(page, live_server, member.username, PASSWORD)
    page.goto(f"{live_server}/pledges")
    page.fill("#member-text", "每周家访一次")
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    page.evaluate("() => document.querySelector('a[href=\"/\"]').click()")
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert page.input_value("#member-text") == "每周家访一次"


def test_an_item_reached_from_the_missing_list_is_not_hidden_under_the_sticky_bar(page, live_server, secretary,
                                                                                   branch):
    open_checklist(page, live_server, secretary, branch)
    page.click(".checklist-bar .workflow-form button[type=submit]")  # nothing assessed: refused, with the list
    links = page.locator(".missing-items a")
    links.first.wait_for()
    links.nth(5).click()
    item_id = links.nth(5).get_attribute("href").lstrip("#")
    page.wait_for_timeout(300)
    bar = page.locator(".checklist-bar").bounding_box()
    item = page.locator(f"#{item_id}").bounding_box()
    assert item["y"] >= bar["y"] + bar["height"] - 1


def test_a_whole_page_form_keeps_its_text_through_an_expired_session(page, live_server, member):
    from portal.models import Pledge

    login(page, live_server, member.username, PASSWORD)
    page.goto(f"{live_server}/pledges")
    page.fill("#member-text", "每月为学生义务辅导一次，坚持一学年")
    page.locator("input[name=items]").first.check()
    db.session.commit()
    member.session_version += 1  # the session ends while the person types
    db.session.commit()
    page.locator("form:has(#member-text) button[type=submit]").click()
    page.wait_for_url("**/login?next=/pledges*")
    page.fill("#username", member.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/pledges")
    page.locator("#member-text-draft").wait_for()  # put back, with "discard" beside it
    assert page.input_value("#member-text") == "每月为学生义务辅导一次，坚持一学年"
    screenshot(page, "form-draft-restored-zh")
    db.session.commit()
    assert db.session.scalar(select(func.count(Pledge.id))) == 0
    page.locator("input[name=items]").first.check()
    page.locator("form:has(#member-text) button[type=submit]").click()
    page.wait_for_url("**/pledges/*")
    db.session.commit()
    assert db.session.scalar(select(Pledge.text)) == "每月为学生义务辅导一次，坚持一学年"
    page.goto(f"{live_server}/pledges")  # sent and taken: not offered again
    page.wait_for_timeout(200)
    assert page.locator("#member-text-draft").count() == 0 and page.input_value("#member-text") == ""


def test_a_note_conflict_stays_until_the_person_decides_whatever_else_they_click(page, live_server, secretary, branch):
    open_checklist(page, live_server, secretary, branch)
    item = items(Subject.BRANCH)[9]
    other = page.context.new_page()
    other.goto(f"{live_server}/checklist/branch/{branch.id}")
    for tab, text in ((other, "甲页保存的说明"), (page, "乙页写的说明")):
        tab.locator(f"#item-{item.id} summary").click()
        tab.fill(f"#note-{item.id}", text)
        tab.click(f"#note-save-{item.id}")
    other.close()
    page.locator(f"#note-{item.id}-theirs").wait_for()
    page.click(f"#result-{item.id}-not_met")  # another action in the row redraws it
    page.locator(f"#result-{item.id}-not_met[aria-pressed=true]").wait_for()
    assert page.locator(f"#note-{item.id}-theirs").is_visible()  # theirs still beside mine
    assert page.input_value(f"#note-{item.id}") == "乙页写的说明"
    assert saved(item.id).note == "甲页保存的说明"
    page.click(f"#note-save-{item.id}")  # one save replaces theirs, knowingly
    page.locator(f"#note-{item.id}-state[data-state=saved]").wait_for()
    row = saved(item.id)
    assert row.note == "乙页写的说明" and row.result == Result.NOT_MET
