"""Hostile input in URLs and forms answers 4xx with the portal's own translated page and writes nothing:
ids no column can hold, NUL and control characters, over-long URLs and search queries."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Post

from ..news_helpers import make_post


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def reader(app, member):
    client = app.test_client()
    client.login(member)
    return client


@pytest.mark.parametrize("url", [
    "/news/99999999999999999999",
    "/news/2147483648",
    "/checklist/branch/2147483648",
    "/admin/users/99999999999999999999",
    "/news/-1",
    "/news/%00",
])
def test_ids_out_of_range_are_not_found(reader, url):
    before = _count(AuditEvent)
    response = reader.get(url)
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True) or response.status_code == 404
    assert _count(AuditEvent) == before


@pytest.mark.parametrize("query", [{"q": "\x00"}, {"q": "支部\x01"}, {"page": "\x00"}, {"lang": "\x00"},
                                   {"\x00": "x"}])
def test_control_characters_in_the_query_string_are_refused(reader, query):
    before = _count(AuditEvent)
    response = reader.get("/news/search", query_string=query)
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    assert _count(AuditEvent) == before


def test_a_nul_in_a_form_value_is_refused_and_nothing_is_written(app, secretary):
    client = app.test_client()
    client.login(secretary)
    posts, events = _count(Post), _count(AuditEvent)
    response = client.form_post("/news", {"category": "branch_exemplar", "title": "标题\x00", "summary": "",
                                          "body_md": "正文"})
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    assert (_count(Post), _count(AuditEvent)) == (posts, events)


def test_a_long_search_is_cut_with_a_note(reader, secretary):
    make_post(secretary, title="支部风采展示", body="正文")
    response = reader.get("/news/search", query_string={"q": "支部 " + "长" * 800})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "只搜索了前" in page or "too long" in page


def test_an_over_long_url_gets_the_portals_own_page(reader):
    response = reader.get("/news/search", query_string={"q": "长" * 4000})
    assert response.status_code == 414
    assert "地址过长" in response.get_data(as_text=True)
