"""What people type on the checklist is kept: notes saved with result clicks and uploads, conflicts keep
both texts; items are numbered; per-criterion figures count untouched items (computed by hand here)."""
import io
import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import Evidence, ItemResult, Result, Subject

from ..checklist_helpers import items, make_assessment

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def url(branch, item, action):
    return f"/checklist/branch/{branch.id}/items/{item.id}/{action}"


def saved(item) -> ItemResult:
    db.session.commit()
    return db.session.scalar(select(ItemResult).where(ItemResult.item_id == item.id))


def test_result_click_saves_the_note_typed_beside_it(client, secretary, branch):
    client.login(secretary)
    item = items(Subject.BRANCH)[0]
    response = client.form_post(url(branch, item, "result"), {"result": "met", "note": "见会议记录",
                                                              "note_version": "0"}, htmx=True)
    assert response.status_code == 200
    assert "已保存" in response.get_data(as_text=True)
    row = saved(item)
    assert row.result == Result.MET and row.note == "见会议记录" and row.note_version == 1
    # The same text sent again with the next click (the form's version is old by now) changes nothing.
    client.form_post(url(branch, item, "result"), {"result": "partly", "note": "见会议记录", "note_version": "0"},
                     htmx=True)
    row = saved(item)
    assert row.result == Result.PARTLY and row.note_version == 1


def test_upload_saves_the_note_typed_beside_it(client, secretary, branch):
    client.login(secretary)
    item = items(Subject.BRANCH)[1]
    response = client.form_post(url(branch, item, "evidence"), {"file": (io.BytesIO(PNG), "照片.png"),
                                                                "note": "附照片", "note_version": "0"},
                                htmx=True, content_type="multipart/form-data")
    assert response.status_code == 200
    assert saved(item).note == "附照片"
    assert db.session.scalar(select(Evidence.original_name)) == "照片.png"


def test_invalid_upload_still_saves_the_note(client, secretary, branch):
    client.login(secretary)
    item = items(Subject.BRANCH)[1]
    response = client.form_post(url(branch, item, "evidence"), {"note": "先写说明", "note_version": "0"},
                                htmx=True, content_type="multipart/form-data")
    assert response.status_code == 422
    assert saved(item).note == "先写说明"


def test_stale_note_is_409_with_both_texts_and_the_result_still_saved(client, secretary, branch):
    client.login(secretary)
    item = items(Subject.BRANCH)[2]
    client.form_post(url(branch, item, "note"), {"note": "对方先保存的文字", "note_version": "0"}, htmx=True)
    response = client.form_post(url(branch, item, "result"),
                                {"result": "not_met", "note": "我自己的文字", "note_version": "0"}, htmx=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    textarea = re.search(r'<textarea id="note-' + str(item.id) + r'"[^>]*>([^<]*)</textarea>', text)
    assert textarea.group(1) == "我自己的文字" and "data-unsaved" in textarea.group(0)  # own text stays
    assert "对方先保存的文字" in text.split("</textarea>", 1)[1]  # theirs beside it
    assert 'name="note_version" value="1"' in text  # saving again now replaces theirs knowingly
    row = saved(item)
    assert row.note == "对方先保存的文字" and row.result == Result.NOT_MET


def test_items_are_numbered_with_theme_items_last(client, secretary, branch):
    client.login(secretary)
    text = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    numbers = re.findall(r'<span class="item__number">([\d.]+)</span>', text)
    assert numbers[:2] == ["1.1", "1.2"] and len(numbers) == len(items(Subject.BRANCH))
    assert len(set(numbers)) == len(numbers)
    # Each criterion's theme items (the year's own) come after its built-in ones.
    rows = re.findall(r'<span class="item__number">(\d+)\.(\d+)</span>[^<]*(<span class="badge badge--phase">)?', text)
    for criterion in {c for c, _n, _t in rows}:
        kinds = [bool(theme) for c, _n, theme in rows if c == criterion]
        assert kinds == sorted(kinds), criterion
    assert any(theme for _c, _n, theme in rows), "the demo year has theme items"


def test_each_criterion_counts_its_untouched_items(client, secretary, branch):
    """Progress per criterion = assessed / (items − n/a), computed here by hand, with some criteria
    untouched and some items of a touched criterion left unanswered."""
    assessment = make_assessment(branch)
    all_items = items(Subject.BRANCH)
    by_criterion: dict[int, list] = {}
    for item in all_items:
        by_criterion.setdefault(item.criterion_id, []).append(item)
    first, second = list(by_criterion)[:2]
    answers = {by_criterion[first][0].id: Result.MET, by_criterion[first][1].id: Result.NOT_APPLICABLE,
               by_criterion[second][0].id: Result.PARTLY}
    for item_id, result in answers.items():
        item = next(i for i in all_items if i.id == item_id)
        db.session.add(ItemResult(assessment_id=assessment.id, item_id=item_id, result=result, item_text=item.text))
    db.session.commit()
    client.login(secretary)
    text = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    for criterion_id, its in by_criterion.items():
        results = [answers.get(i.id) for i in its]
        na = results.count(Result.NOT_APPLICABLE)
        assessed = sum(1 for r in results if r in (Result.MET, Result.PARTLY, Result.NOT_MET))
        expected = round(100 * assessed / (len(its) - na), 1)
        meter = text.split(f'id="criterion-{criterion_id}-meter"', 1)[1].split("</div>\n</div>", 1)[0]
        assert f'value="{expected}"' in meter, (criterion_id, expected)
        assert f"已评 {assessed} / {len(its) - na} 项" in meter
