"""Values a person typed never come back as markup inside a translated message: each message that echoes
input is sent markup and must show it escaped (issue 12: a lazy string counts as safe markup in Jinja)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Evidence, Nomination, Post, Role

from ..factories import UserFactory
from .test_access_matrix import PNG, build_world

MARK = "<b>x</b>"
ESCAPED = "&lt;b&gt;x&lt;/b&gt;"
BROKEN_PNG = PNG[:24] + b"\x00" * 64  # sniffs as PNG, does not decode


def _assert_escaped(response) -> None:
    page = response.get_data(as_text=True)
    assert MARK not in page, "the value came back as markup"
    assert ESCAPED in page, "the message did not echo the value at all"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(app):
    return build_world()


def _client(app, user):
    client = app.test_client()
    assert client.login(user).status_code == 303
    return client


def test_an_unknown_language_is_echoed_escaped(app, member):
    client = _client(app, member)
    response = client.get("/news", query_string={"lang": MARK}, follow_redirects=True)
    assert response.status_code == 200
    _assert_escaped(response)


@pytest.mark.parametrize("case", ["cover_not_an_image_type", "cover_unreadable", "attachment", "evidence"])
def test_field_errors_echo_file_names_and_values_escaped(app, world, case):
    secretary = world.users["secretary"]
    client = _client(app, secretary)
    nominee = UserFactory(username="nominee", role=Role.MEMBER, branch=world.branch)
    before = (_count(Post), _count(Nomination), _count(Evidence), _count(AuditEvent))
    post = {"category": "branch_exemplar", "title": "标题", "summary": "", "body_md": "正文",
            "branch_id": str(world.branch.id)}
    items = f"/checklist/branch/{world.branch.id}/items/{world.item_id}"
    url, data = {
        "cover_not_an_image_type": ("/news", {**post, "cover": (io.BytesIO(b"plain text"), MARK + ".png")}),
        "cover_unreadable": ("/news", {**post, "cover": (io.BytesIO(BROKEN_PNG), MARK + ".png")}),
        "attachment": ("/commendation/nominations", {"member_id": str(nominee.id), "deeds": "事迹",
                                                     "files": (io.BytesIO(b"plain text"), MARK + ".pdf")}),
        "evidence": (items + "/evidence", {"file": (io.BytesIO(b"plain text"), MARK + ".pdf")}),
    }[case]
    response = client.form_post(url, data, content_type="multipart/form-data")
    assert response.status_code == 422
    _assert_escaped(response)
    assert (_count(Post), _count(Nomination), _count(Evidence), _count(AuditEvent)) == before


def test_an_unknown_result_is_refused_without_echoing_it(app, world):
    """The checklist's result form (forms/checklist.py) refuses a value it does not offer with its own
    message, which names no typed value at all."""
    client = _client(app, world.users["secretary"])
    before = (_count(Evidence), _count(AuditEvent))
    response = client.form_post(f"/checklist/branch/{world.branch.id}/items/{world.item_id}/result",
                                {"result": MARK}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "不是有效的评定结果" in page
    assert MARK not in page and ESCAPED not in page
    assert (_count(Evidence), _count(AuditEvent)) == before


def test_the_roster_upload_echoes_its_file_name_escaped(app, admin):
    client = _client(app, admin)
    response = client.form_post("/admin/roster", {"file": (io.BytesIO(b"not a workbook"), MARK + ".xlsx")},
                                content_type="multipart/form-data")
    assert response.status_code == 422
    _assert_escaped(response)


def test_the_csp_refuses_forms_posting_elsewhere(client):
    assert "form-action 'self'" in client.get("/login").headers["Content-Security-Policy"]
