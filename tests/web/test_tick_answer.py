"""The answer to a tick (its row and the progress swapped out of band) is what a freshly drawn checklist page shows
for that row and those bars, whatever the tick found: a first answer, a changed one, one with a note or evidence,
the same answer again. A tick builds its answer from what it read and wrote in its own transaction (issue #14):
this catches an answer drawn from a stale read."""
import io
import re

from portal.models import Subject

from ..checklist_helpers import items

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _row(text: str, item_id: int) -> str:
    """The row of the item, without what only the answer to a change carries (the spoken announcement, the note's
    "Saved" state) and the CSRF tokens; blanks folded."""
    start = text.index(f'id="item-{item_id}"')
    start = text.rindex("<li", 0, start)
    end = text.index('<p class="item__meta', start)
    end = text.index("</li>", end) + len("</li>")
    row = text[start:end]
    row = re.sub(r'\s*data-announce="[^"]*"', "", row)
    row = re.sub(r'name="csrf_token" value="[^"]*"', "", row)  # (signed with the time)
    row = re.sub(r'(data-save-state id="note-\d+-state" data-state=")[^"]*(">)[^<]*', r"\1\2", row)
    return re.sub(r"\s+", " ", row).replace(" >", ">")


def _block(text: str, element_id: str, end: str) -> str:
    start = text.rindex("<", 0, text.index(f'id="{element_id}"'))
    return text[start:text.index(end, start) + len(end)].replace(' hx-swap-oob="outerHTML"', "")


def _same_as_the_page(client, branch, item, fragment: str) -> None:
    page = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    assert _row(fragment, item.id) == _row(page, item.id)
    for element_id, end in (("overall-meter", "</p>\n</div>"), (f"criterion-{item.criterion_id}-meter", "</p>\n</div>"),
                            ("result-counts", "</ul>")):
        assert _block(fragment, element_id, end) == _block(page, element_id, end), element_id


def test_the_answer_to_a_tick_is_what_the_page_shows(client, secretary, branch):
    client.login(secretary)
    first, second = items(Subject.BRANCH)[:2]
    url = f"/checklist/branch/{branch.id}/items/{{}}/result"

    def tick(item, **data) -> str:
        response = client.form_post(url.format(item.id), data, htmx=True)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    steps = [
        (first, {"result": "met"}),  # the checklist's first answer (the assessment is created)
        (second, {"result": "partly"}),
        (first, {"result": "not_met"}),  # a changed answer
        (first, {"result": "not_met"}),  # the same again: nothing written
        (second, {"result": "met", "note": "", "note_version": "0"}),  # sent with the (empty) note, as the page does
        (second, {"result": "na", "note": "有会议记录", "note_version": "0"}),  # a new note saved with the click
    ]
    for item, data in steps:
        fragment = tick(item, **data)
        _same_as_the_page(client, branch, item, fragment)
    upload = client.form_post(f"/checklist/branch/{branch.id}/items/{first.id}/evidence",
                              {"file": (io.BytesIO(PNG), "记录.png")}, htmx=True,
                              content_type="multipart/form-data")
    assert upload.status_code == 200
    fragment = tick(first, result="met", note="", note_version="0")  # an answer with evidence
    assert "记录.png" in fragment
    _same_as_the_page(client, branch, first, fragment)


def test_a_click_whose_note_is_stale_answers_the_result_it_saved(client, secretary, branch):
    """Someone else saved the note meanwhile: the click's result is saved all the same (checklist.answer_item), and
    the answer (409, the note's conflict beside the row) shows that result and the progress and counts it moved, as
    the page shows them after a reload; the note typed stays in the field, unsaved."""
    client.login(secretary)
    item = items(Subject.BRANCH)[1]
    base = f"/checklist/branch/{branch.id}/items/{item.id}"
    assert client.form_post(f"{base}/result", {"result": "partly"}, htmx=True).status_code == 200
    assert client.form_post(f"{base}/note", {"note": "另一位的说明", "note_version": "0"}, htmx=True).status_code == 200
    stale = client.form_post(f"{base}/result", {"result": "na", "note": "我的说明", "note_version": "0"}, htmx=True)
    assert stale.status_code == 409
    fragment = stale.get_data(as_text=True)
    assert "另一位的说明" in fragment and "我的说明" in fragment
    page = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    shown = re.search(r'value="na"[^>]*aria-pressed="(\w+)"|aria-pressed="(\w+)"[^>]*value="na"',
                      fragment[fragment.index(f'id="item-{item.id}"'):])
    assert shown and "true" in shown.groups(), "the row shows the result saved"
    for element_id, end in (("overall-meter", "</p>\n</div>"), ("result-counts", "</ul>")):
        assert _block(fragment, element_id, end) == _block(page, element_id, end), element_id
