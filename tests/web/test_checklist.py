"""Checklist routes: pages, fragments, every status code, the no-JavaScript fallback."""
import io

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Assessment,
    AssessmentStatus,
    Evidence,
    ItemResult,
    Result,
    Review,
    ReviewRating,
    Role,
    Subject,
)

from ..checklist_helpers import items, make_assessment
from ..factories import UserFactory

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def result_url(branch, item, value_year=None):
    return f"/checklist/branch/{branch.id}/items/{item.id}/result" + (f"?year={value_year}" if value_year else "")


def first_item():
    return items(Subject.BRANCH)[0]


def test_secretary_is_sent_to_the_branch_checklist(client, secretary, branch):
    client.login(secretary)
    response = client.get("/checklist")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/checklist/branch/{branch.id}")


def test_member_is_sent_to_own_checklist(client, member):
    client.login(member)
    assert client.get("/checklist").headers["Location"].endswith(f"/checklist/member/{member.id}")


def test_checklist_page_shows_criteria_items_and_progress(client, secretary, branch):
    client.login(secretary)
    page = client.get(f"/checklist/branch/{branch.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for title in ("领导班子好", "党员队伍好", "工作机制好", "工作业绩好", "师生反映好"):
        assert title in text
    assert "深入学习实践科学发展观" in text
    assert text.count("<progress") >= 6
    assert 'aria-pressed="true"' in text  # 未评 is pressed on every row


def test_tick_as_htmx_returns_row_and_out_of_band_progress(client, secretary, branch):
    client.login(secretary)
    item = first_item()
    response = client.form_post(result_url(branch, item), {"result": "met"}, htmx=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in text
    assert "HX-Request" in response.headers["Vary"]
    assert f'id="item-{item.id}"' in text
    assert 'id="overall-meter" hx-swap-oob="outerHTML"' in text
    assert f'id="criterion-{item.criterion_id}-meter" hx-swap-oob="outerHTML"' in text
    assert db.session.scalar(select(ItemResult.result)) == Result.MET


def test_tick_without_javascript_redirects_back(client, secretary, branch):
    client.login(secretary)
    item = first_item()
    response = client.form_post(result_url(branch, item), {"result": "partly"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#item-{item.id}")
    assert db.session.scalar(select(ItemResult.result)) == Result.PARTLY


def test_unknown_result_is_422_beside_the_item(client, secretary, branch):
    client.login(secretary)
    item = first_item()
    response = client.form_post(result_url(branch, item), {"result": "excellent"}, htmx=True)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f'id="item-{item.id}-error"' in text and "不是有效的评定结果" in text
    page = client.form_post(result_url(branch, item), {"result": "excellent"})
    assert page.status_code == 422 and "<html" in page.get_data(as_text=True)


def test_other_branch_secretary_and_member_get_403(client, other_secretary, other_member, branch):
    make_assessment(branch)
    item = first_item()
    for user in (other_secretary, other_member):
        client.login(user)
        assert client.get(f"/checklist/branch/{branch.id}").status_code == 403
        assert client.form_post(result_url(branch, item), {"result": "met"}, htmx=True).status_code == 403
        assert client.get(f"/checklist/branch/{branch.id}/members").status_code == 403
        client.form_post("/logout")
    assert db.session.scalar(select(func.count(ItemResult.id))) == 0


def test_member_of_the_branch_can_read_but_not_tick(client, member, branch):
    client.login(member)
    assert client.get(f"/checklist/branch/{branch.id}").status_code == 200
    assert client.form_post(result_url(branch, first_item()), {"result": "met"}).status_code == 403


def test_unknown_item_branch_and_year_are_404(client, secretary, branch):
    client.login(secretary)
    assert client.form_post(f"/checklist/branch/{branch.id}/items/99999/result", {"result": "met"}).status_code == 404
    assert client.get("/checklist/branch/99999").status_code == 404
    assert client.get(f"/checklist/branch/{branch.id}?year=1999").status_code == 404
    assert client.get(f"/checklist/branch/{branch.id}?year=abc").status_code == 404


def test_locked_assessment_answers_409_with_reason(client, secretary, branch):
    make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(secretary)
    response = client.form_post(result_url(branch, first_item()), {"result": "partly"}, htmx=True)
    assert response.status_code == 409
    assert "已提交" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ItemResult.id)).where(ItemResult.result == Result.PARTLY)) == 0


def test_past_year_is_read_only(client, secretary, branch):
    client.login(secretary)
    page = client.get(f"/checklist/branch/{branch.id}?year=2010")
    assert page.status_code == 200 and "只读" in page.get_data(as_text=True)
    item = items(Subject.BRANCH)[0]
    response = client.form_post(result_url(branch, item, 2010), {"result": "met"}, htmx=True)
    assert response.status_code == 409


def test_note_conflict_shows_the_current_text(client, secretary, branch):
    client.login(secretary)
    item = first_item()
    url = f"/checklist/branch/{branch.id}/items/{item.id}/note"
    assert client.form_post(url, {"note": "第一位书记的说明", "note_version": "0"}, htmx=True).status_code == 200
    response = client.form_post(url, {"note": "第二位书记的说明", "note_version": "0"}, htmx=True)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "第一位书记的说明" in text and "这条说明刚刚已在别处修改（另一个窗口或其他人）" in text
    assert db.session.scalar(select(ItemResult.note)) == "第一位书记的说明"


def test_evidence_upload_download_and_delete(client, secretary, branch, other_secretary):
    client.login(secretary)
    item = first_item()
    url = f"/checklist/branch/{branch.id}/items/{item.id}/evidence"
    response = client.form_post(url, {"file": (io.BytesIO(PNG), "照片.png")}, htmx=True,
                                content_type="multipart/form-data")
    assert response.status_code == 200
    evidence = db.session.scalar(select(Evidence))
    download = client.get(f"/checklist/evidence/{evidence.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%85%A7%E7%89%87.png" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    client.form_post("/logout")
    client.login(other_secretary)
    assert client.get(f"/checklist/evidence/{evidence.id}").status_code == 403
    assert client.form_post(f"/checklist/evidence/{evidence.id}/delete").status_code == 403
    client.form_post("/logout")
    client.login(secretary)
    assert client.form_post(f"/checklist/evidence/{evidence.id}/delete", htmx=True).status_code == 200
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_disguised_file_is_422(client, secretary, branch):
    client.login(secretary)
    url = f"/checklist/branch/{branch.id}/items/{first_item().id}/evidence"
    response = client.form_post(url, {"file": (io.BytesIO(b"<?php echo 1; ?>" * 50), "report.pdf")}, htmx=True,
                                content_type="multipart/form-data")
    assert response.status_code == 422
    assert "不是允许上传的文件类型" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_oversized_file_is_413(client, secretary, branch, app):
    app.config["MAX_UPLOAD_BYTES"] = 1024
    client.login(secretary)
    url = f"/checklist/branch/{branch.id}/items/{first_item().id}/evidence"
    big = PNG + b"\x00" * 4096
    response = client.form_post(url, {"file": (io.BytesIO(big), "big.png")}, htmx=True,
                                content_type="multipart/form-data")
    assert response.status_code == 413
    assert "10 MB" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_submit_return_and_review_through_the_web(client, secretary, leader, branch):
    make_assessment(branch, answer_all=Result.MET)
    client.login(secretary)
    assert client.form_post(f"/checklist/branch/{branch.id}/submit").status_code == 303
    client.form_post("/logout")
    client.login(leader)
    response = client.form_post(f"/checklist/branch/{branch.id}/return", {"reason": ""})
    assert response.status_code == 422 and "请说明退回的原因" in response.get_data(as_text=True)
    assert client.form_post(f"/checklist/branch/{branch.id}/return", {"reason": "补充材料"}).status_code == 303
    client.form_post("/logout")
    client.login(secretary)
    page = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    assert "补充材料" in page
    assert client.form_post(f"/checklist/branch/{branch.id}/submit").status_code == 303
    client.form_post("/logout")
    client.login(leader)
    assert client.form_post(f"/checklist/branch/{branch.id}/review",
                            {"rating": "fairly_good", "comment": "较好", "improvements": ""}).status_code == 303
    text = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    assert "较好" in text and "已点评" in text


def test_secretary_cannot_review_branch_and_leader_cannot_tick(client, secretary, leader, branch):
    make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(secretary)
    assert client.form_post(f"/checklist/branch/{branch.id}/review", {"rating": "good", "comment": "x"}).status_code \
        == 403
    client.form_post("/logout")
    client.login(leader)
    assert client.form_post(result_url(branch, first_item()), {"result": "not_met"}).status_code == 403
    # Neither refusal left a trace: no review, every result still as the secretary set it.
    assert db.session.scalar(select(func.count(Review.id))) == 0
    assert set(db.session.scalars(select(ItemResult.result))) == {Result.MET}


def test_secretary_reviews_a_member(client, secretary, member, branch):
    make_assessment(branch, member=member, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(secretary)
    coverage = client.get(f"/checklist/branch/{branch.id}/members").get_data(as_text=True)
    assert member.display_name in coverage
    assert client.get(f"/checklist/member/{member.id}").status_code == 200
    assert client.form_post(f"/checklist/member/{member.id}/review",
                            {"rating": "good", "comment": "带头作用明显"}).status_code == 303
    review = db.session.scalar(select(Review))
    assert (review.member_id, review.reviewer_id, review.rating, review.comment) == (
        member.id, secretary.id, ReviewRating.GOOD, "带头作用明显")
    assert db.session.scalar(select(Assessment.status).where(Assessment.member_id == member.id)) \
        == AssessmentStatus.REVIEWED
    assert "带头作用明显" in client.get(f"/checklist/member/{member.id}").get_data(as_text=True)


def test_coverage_lists_who_still_owes_first_then_by_pinyin(client, secretary, branch):
    people = {name: UserFactory(username=f"c{n}", display_name=name, role=Role.MEMBER, branch=branch)
              for n, name in enumerate(["赵敏", "安然", "曾巩", "白露"])}
    make_assessment(branch, member=people["安然"], status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(secretary)
    text = client.get(f"/checklist/branch/{branch.id}/members").get_data(as_text=True)
    positions = [text.index(name) for name in ("白露", "曾巩", "赵敏", "安然")]  # bai, zeng, zhao; then done
    assert positions == sorted(positions)


def test_member_fills_own_five_leads(client, member, secretary):
    client.login(member)
    item = items(Subject.MEMBER)[0]
    url = f"/checklist/member/{member.id}/items/{item.id}/result"
    assert client.form_post(url, {"result": "met"}, htmx=True).status_code == 200
    other = f"/checklist/member/{secretary.id}/items/{item.id}/result"
    assert client.form_post(other, {"result": "met"}, htmx=True).status_code == 403


@pytest.mark.parametrize("path", ["/checklist", "/checklist/branch/1", "/checklist/member/1"])
def test_anonymous_goes_to_login(client, path):
    assert client.get(path).status_code == 302


def test_a_members_checklist_links_to_their_branch_in_words_a_leader_can_read(client, leader, member, branch):
    """On a member's checklist the link to the branch's 五个好 reads 所在支部的 (the member's branch), not 本支部 (our
    branch), which a leader or a secretary of the district would misread (found by the fresh-eyes check)."""
    client.login(leader)
    page = client.get(f"/checklist/member/{member.id}").get_data(as_text=True)
    assert f'/checklist/branch/{branch.id}?year=' in page and "所在支部的五个好自评" in page
    assert "本支部五个好自评" not in page
