"""Nominations, 公示, objections and decisions through HTTP: permissions and status codes."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Nomination, NominationStatus, Objection, Post, utcnow

from ..news_helpers import make_nomination


def _as(app, user):
    client = app.test_client()
    client.login(user)
    return client


def test_secretary_nominates_with_attachment(app, secretary, member):
    client = _as(app, secretary)
    page = client.get("/commendation")
    assert page.status_code == 200 and 'id="nominate"' in page.get_data(as_text=True)
    pdf = (io.BytesIO(b"%PDF-1.4\n" + b"1" * 300), "事迹材料.pdf")
    response = client.form_post("/commendation/nominations",
                                {"member_id": str(member.id), "deeds": "带头服务师生", "files": pdf},
                                content_type="multipart/form-data")
    assert response.status_code == 303
    nomination = db.session.scalar(select(Nomination))
    detail = client.get(f"/commendation/nominations/{nomination.id}")
    assert "事迹材料.pdf" in detail.get_data(as_text=True)
    attachment_url = f"/commendation/nominations/{nomination.id}/files/"
    from portal.models import Attachment

    file_id = db.session.scalar(select(Attachment.id))
    download = client.get(attachment_url + str(file_id))
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    # Nobody outside the branch and the district roles reads a nomination that is not yet public.
    assert _as(app, member).get(f"/commendation/nominations/{nomination.id}").status_code == 403
    assert _as(app, member).get(attachment_url + str(file_id)).status_code == 403


def test_invalid_nomination_is_422_with_messages(app, secretary, other_member):
    client = _as(app, secretary)
    response = client.form_post("/commendation/nominations", {"member_id": str(other_member.id), "deeds": ""})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="deeds-error"' in text and 'id="member_id-error"' in text
    bad = (io.BytesIO(b"#!/bin/sh\nrm -rf /\n" * 10), "a.pdf")
    response = client.form_post("/commendation/nominations", {"deeds": "事迹", "files": bad},
                                content_type="multipart/form-data")
    assert response.status_code == 422 and 'id="files-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Nomination.id))) == 0


@pytest.mark.parametrize("who", ["editor", "member", "leader", "admin"])
def test_only_secretaries_nominate(app, request, who):
    response = _as(app, request.getfixturevalue(who)).form_post("/commendation/nominations", {"deeds": "x"})
    assert response.status_code == 403


def test_other_branch_secretary_cannot_read(app, secretary, other_secretary):
    nomination = make_nomination(secretary)
    assert _as(app, other_secretary).get(f"/commendation/nominations/{nomination.id}").status_code == 403


@pytest.mark.parametrize("who", ["secretary", "editor", "admin", "member"])
def test_only_leaders_decide(app, request, secretary, who):
    nomination = make_nomination(secretary)
    client = _as(app, request.getfixturevalue(who))
    for action, data in (("shortlist", {}), ("notice", {"days": "7"}), ("commend", {"level": "district"}),
                         ("reject", {"note": "x"})):
        assert client.form_post(f"/commendation/nominations/{nomination.id}/{action}", data).status_code == 403
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).status == NominationStatus.SUBMITTED


def seen(nomination) -> dict:
    """The version the nomination's page shows now (its decision forms carry it)."""
    db.session.refresh(nomination)
    return {"version": str(nomination.version)}


def test_leader_runs_the_pipeline(app, secretary, member, leader, editor):
    nomination = make_nomination(secretary, member=member)
    boss = _as(app, leader)
    url = f"/commendation/nominations/{nomination.id}"
    first = seen(nomination)
    assert boss.form_post(url + "/shortlist", first).status_code == 303
    assert boss.form_post(url + "/shortlist", first).status_code == 409  # already done
    assert boss.form_post(url + "/notice", {"days": "abc", **seen(nomination)}).status_code == 422
    assert boss.form_post(url + "/notice", {"days": "5", **seen(nomination)}).status_code == 303
    # Anyone logged in sees the notice and may object; only leaders read objections.
    reader = _as(app, member)
    index = reader.get("/commendation").get_data(as_text=True)
    assert f'id="nomination-{nomination.id}"' in index
    assert reader.form_post(url + "/objections", {"text": ""}).status_code == 422
    assert reader.form_post(url + "/objections", {"text": "我有异议：材料夸大"}).status_code == 303
    assert "材料夸大" not in reader.get(url).get_data(as_text=True)
    assert "材料夸大" not in _as(app, secretary).get(url).get_data(as_text=True)
    assert "材料夸大" not in _as(app, editor).get(url).get_data(as_text=True)
    assert "材料夸大" in boss.get(url).get_data(as_text=True)
    assert boss.form_post(url + "/commend", {"level": "district", **seen(nomination)}).status_code == 409  # notice runs
    # The notice ends: objections are refused with a clear 409, the leader commends.
    db.session.get(Nomination, nomination.id).notice_ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    late = reader.form_post(url + "/objections", {"text": "晚了"})
    assert late.status_code == 409 and "公示" in late.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Objection.id))) == 1
    assert boss.form_post(url + "/commend", {"level": "", **seen(nomination)}).status_code == 422
    assert boss.form_post(url + "/commend", {"level": "system", **seen(nomination)}).status_code == 303
    honour = f'id="honour-{nomination.id}"'
    assert honour in reader.get("/commendation/honours").get_data(as_text=True)
    assert honour in reader.get("/commendation/honours?level=system").get_data(as_text=True)
    assert honour not in reader.get("/commendation/honours?level=school").get_data(as_text=True)
    assert honour not in reader.get("/commendation/honours?year=1999").get_data(as_text=True)
    # One click: a featured post on the board.
    assert reader.form_post(url + "/feature").status_code == 403
    made = _as(app, editor).form_post(url + "/feature")
    assert made.status_code == 303
    post = db.session.scalar(select(Post))
    assert post.featured and made.headers["Location"].endswith(f"/news/{post.id}")
    assert _as(app, editor).form_post(url + "/feature").status_code == 409
    assert f'id="post-{post.id}"' in reader.get("/news").get_data(as_text=True)


def test_reject_needs_reason(app, secretary, leader):
    nomination = make_nomination(secretary)
    boss = _as(app, leader)
    url = f"/commendation/nominations/{nomination.id}/reject"
    assert boss.form_post(url, {"note": "", **seen(nomination)}).status_code == 422
    db.session.refresh(nomination)
    assert nomination.status == NominationStatus.SUBMITTED
    assert boss.form_post(url, {"note": "事迹不够突出", **seen(nomination)}).status_code == 303
    db.session.refresh(nomination)
    assert (nomination.status, nomination.decision_note) == (NominationStatus.REJECTED, "事迹不够突出")


def test_unknown_nomination_is_404(app, leader):
    assert _as(app, leader).get("/commendation/nominations/99999").status_code == 404


def test_pages_need_login(client):
    for url in ("/commendation", "/commendation/honours"):
        assert client.get(url).status_code in (302, 401)


def test_the_deeds_page_renders_markdown_as_sanitised_html(app, client, secretary, member, leader):
    """Issue 18: the 事迹 page showed the raw Markdown; it renders it, and nothing executable survives."""
    from portal.services import commendation as service
    from portal.services.campaign import current_year

    deeds = "## 主要事迹\n\n**带头**服务师生。\n\n<script>alert(1)</script>[x](javascript:alert(1))"
    nomination = service.nominate(secretary, current_year(), str(member.id), deeds)
    client.login(leader)
    page = client.get(f"/commendation/nominations/{nomination.id}").get_data(as_text=True)
    assert "<h2>主要事迹</h2>" in page and "<strong>带头</strong>" in page
    assert "## 主要事迹" not in page and "<script>alert" not in page and "href=\"javascript:" not in page
