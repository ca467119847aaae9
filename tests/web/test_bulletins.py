"""通报 through the web: drafting from the figures, issuing, downloads, the feed, refusals and read-only issue."""
from __future__ import annotations

import io

import pytest
from flask_babel import to_user_timezone
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AssessmentStatus, AuditEvent, Bulletin, BulletinStatus, Post, Result, utcnow

from ..checklist_helpers import make_assessment
from ..factories import BranchFactory
from ..fingerprint import changed, fingerprint

FORM = {"title": "关于活动开展情况的通报", "heading": ["一、总体情况", "二、下一步工作"],
        "body": ["各支部进展顺利。\n第二段。", "继续推进。"], "copy_to": "区委组织部"}


def _create(client, **extra) -> Bulletin:
    response = client.form_post("/bulletins", {**FORM, **extra})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return db.session.scalar(select(Bulletin).order_by(Bulletin.id.desc()))


def test_leader_drafts_from_the_figures_previews_and_issues(client, leader):
    branch = BranchFactory()
    make_assessment(branch, status=AssessmentStatus.REVIEWED, answer_all=Result.MET)
    client.login(leader)
    page = client.get("/bulletins/new").get_data(as_text=True)
    assert "一、总体情况" in page and "1个基层党组织" in page and branch.name in page
    bulletin = _create(client)
    assert bulletin.status == BulletinStatus.DRAFT and bulletin.sections[1] == {"heading": "二、下一步工作",
                                                                                "body": "继续推进。"}
    preview = client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    assert "（印发时编号）" in preview and "第二段。" in preview and branch.name in preview
    # Numbered by the calendar year of issue, not the campaign year the bulletin is about (as the confirmation).
    today = to_user_timezone(utcnow()).year
    assert f"印发当年（今天印发即{today}年）的下一个发文字号" in preview and "2012年度的下一个发文字号" not in preview
    # Issuing goes through a confirmation page that names the number and says it cannot be undone.
    number = f"沪卢教党〔{to_user_timezone(utcnow()).year}〕1号"  # the calendar year of issue
    confirm_url = f"/bulletins/{bulletin.id}/issue?version={bulletin.version}"
    assert f'href="{confirm_url}"' in preview
    confirm = client.get(confirm_url).get_data(as_text=True)
    assert f"将以{number}印发" in confirm and "不可撤销" in confirm and f"确认印发为{number}" in confirm
    response = client.form_post(f"/bulletins/{bulletin.id}/issue", {"version": str(bulletin.version)})
    assert response.status_code == 303
    db.session.expire_all()
    bulletin = db.session.get(Bulletin, bulletin.id)
    assert bulletin.document_number == number and bulletin.figures["branches"] == 1
    archive = client.get("/bulletins").get_data(as_text=True)
    assert number in archive
    assert f"/bulletins/{bulletin.id}.docx" in archive and f"/bulletins/{bulletin.id}.pdf" in archive
    docx = client.get(f"/bulletins/{bulletin.id}.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    pdf = client.get(f"/bulletins/{bulletin.id}.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    feed = client.get("/news/feed.atom?category=bulletin").get_data(as_text=True)
    assert number in feed


def test_everyone_logged_in_downloads_an_issued_bulletin(client, leader, member):
    client.login(leader)
    bulletin = _create(client)
    client.form_post(f"/bulletins/{bulletin.id}/issue", {"version": "1"})
    other = client.application.test_client()
    other.login(member)
    assert other.get(f"/bulletins/{bulletin.id}.docx").status_code == 200
    assert other.get("/bulletins").status_code == 403


@pytest.mark.parametrize("role", ["secretary", "member", "editor"])
def test_branch_people_and_editors_cannot_draft_or_issue(client, leader, secretary, member, editor, role):
    person = {"secretary": secretary, "member": member, "editor": editor}[role]
    lead = client.application.test_client()
    lead.login(leader)
    draft = _create(lead)
    client.login(person)
    before = fingerprint()
    answers = [client.get("/bulletins").status_code, client.get("/bulletins/new").status_code,
               client.get(f"/bulletins/{draft.id}").status_code,
               client.get(f"/bulletins/{draft.id}.pdf").status_code,
               client.form_post("/bulletins", FORM).status_code,
               client.form_post(f"/bulletins/{draft.id}/edit", {**FORM, "version": "1"}).status_code,
               client.form_post(f"/bulletins/{draft.id}/issue", {"version": "1"}).status_code]
    assert answers == [403] * 7
    assert changed(before, fingerprint()) == []
    assert db.session.get(Bulletin, draft.id).status == BulletinStatus.DRAFT


def test_an_issued_bulletin_cannot_be_edited_or_issued_again(client, leader):
    client.login(leader)
    bulletin = _create(client)
    client.form_post(f"/bulletins/{bulletin.id}/issue", {"version": "1"})
    before = fingerprint()
    assert client.get(f"/bulletins/{bulletin.id}/edit").status_code == 409
    edit = client.form_post(f"/bulletins/{bulletin.id}/edit", {**FORM, "title": "改", "version": "2"})
    assert edit.status_code == 409
    assert client.form_post(f"/bulletins/{bulletin.id}/issue", {"version": "2"}).status_code == 409
    assert changed(before, fingerprint()) == []
    assert db.session.scalar(select(func.count(Post.id))) == 1
    # A correction is a new bulletin naming it.
    page = client.get(f"/bulletins/new?corrects={bulletin.id}").get_data(as_text=True)
    assert f"关于{bulletin.document_number}通报的更正" in page
    correction = _create(client, corrects=str(bulletin.id), title="更正")
    assert correction.corrects_id == bulletin.id


def test_bad_input_re_renders_the_form_and_writes_nothing(client, leader):
    client.login(leader)
    before = fingerprint()
    response = client.form_post("/bulletins", {"title": "", "heading": ["x" * 61], "body": [""]})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "请填写通报标题。" in body and "标题最多 60 个字" in body
    response = client.form_post("/bulletins", {"title": "t", "heading": ["a", "b"], "body": ["only one"]})
    assert response.status_code == 422
    assert changed(before, fingerprint()) == []
    assert client.get("/bulletins/new?year=1999").status_code == 200  # an unknown year means the current one
    assert client.get("/bulletins/new?corrects=abc").status_code == 404
    assert client.get("/bulletins/999999.pdf").status_code == 404
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.object_type == "bulletin")) == 0


def test_a_long_branch_name_wraps_inside_the_pdf_text_block(client, leader):
    from pypdf import PdfReader

    long_name = "上海市某某区某某路第一百二十三号某某实验学校附属幼儿园" * 3 + "党支部"
    branch = BranchFactory(name=long_name)
    make_assessment(branch, answer_all=Result.MET)
    client.login(leader)
    bulletin = _create(client)
    client.form_post(f"/bulletins/{bulletin.id}/issue", {"version": "1"})
    reader = PdfReader(io.BytesIO(client.get(f"/bulletins/{bulletin.id}.pdf").data))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert long_name in text


def test_a_stale_edit_keeps_the_typed_text_and_shows_the_saved_one(client, leader):
    client.login(leader)
    bulletin = _create(client)
    client.form_post(f"/bulletins/{bulletin.id}/edit", {**FORM, "title": "别人保存的标题", "version": "1"})
    response = client.form_post(f"/bulletins/{bulletin.id}/edit", {
        **FORM, "title": "我的标题", "heading": ["一、我的部分"], "body": ["我刚输入的很长的正文。"], "version": "1"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'value="我的标题"' in page and "我刚输入的很长的正文。" in page  # the person's text stays in the form
    assert "别人保存的标题" in page and "有人保存了这份草稿" in page  # the other version, and what happened
    assert f'href="/bulletins/{bulletin.id}"' in page and 'name="version" value="2"' in page
    # Saving again keeps the person's version.
    again = client.form_post(f"/bulletins/{bulletin.id}/edit", {
        **FORM, "title": "我的标题", "heading": ["一、我的部分"], "body": ["我刚输入的很长的正文。"], "version": "2"})
    assert again.status_code == 303
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).title == "我的标题"


def test_issuing_from_an_outdated_preview_says_so_with_the_way_back(client, leader):
    client.login(leader)
    bulletin = _create(client)
    client.form_post(f"/bulletins/{bulletin.id}/edit", {**FORM, "title": "改过", "version": "1"})
    before = fingerprint()
    stale_confirm = client.get(f"/bulletins/{bulletin.id}/issue?version=1").get_data(as_text=True)
    assert "草稿已被修改" in stale_confirm and "确认印发为" not in stale_confirm
    response = client.form_post(f"/bulletins/{bulletin.id}/issue", {"version": "1"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "未印发" in page and "最新预览" in page and f'href="/bulletins/{bulletin.id}"' in page
    assert changed(before, fingerprint()) == []


@pytest.mark.parametrize(("form", "message"), [
    ({"heading": ["一", "二", "三"], "body": ["只有一段"]}, "收到了 3 个标题、1 段正文"),
    ({"corrects": "abc"}, "要更正的通报不是平台上的通报"),
    ({"corrects": "999999"}, "只能更正已印发"),
    ({"title": "关于\u202e报通的"}, "title-error"),  # bidi controls: refused by the shared text field (i12r)
    ({"heading": ["一、\u202e情况", "二"]}, "sections-error"),
])
def test_forged_bulletin_posts_get_a_message_that_fits(client, leader, form, message):
    client.login(leader)
    before = fingerprint()
    response = client.form_post("/bulletins", {**FORM, **form})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'class="field__error"' in page
    assert changed(before, fingerprint()) == []


def test_correcting_a_draft_is_refused_beside_the_field(client, leader):
    client.login(leader)
    draft = _create(client)
    response = client.form_post("/bulletins", {**FORM, "corrects": str(draft.id)})
    assert response.status_code == 422 and "只能更正已印发" in response.get_data(as_text=True)


def test_issued_bulletins_say_yinfa_and_appraisal_codes_keep_their_word(client, leader):
    client.login(leader)
    bulletin = _create(client)
    client.form_post(f"/bulletins/{bulletin.id}/issue", {"version": "1"})
    assert "已印发" in client.get("/bulletins").get_data(as_text=True)
    assert "已印发" in client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    with client.application.test_request_context("/"):
        from flask_babel import force_locale, gettext, pgettext

        with force_locale("zh"):
            assert gettext("Issued") == "已生成" and pgettext("bulletin status", "Issued") == "已印发"
