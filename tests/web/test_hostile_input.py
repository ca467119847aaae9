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


@pytest.mark.parametrize("length", [2000, 4000])
def test_a_search_of_several_kilobytes_reaches_the_search_and_is_cut(reader, secretary, length):
    """2,000 Chinese characters are 18 KB percent-encoded: cut with the note, never the 414 page."""
    make_post(secretary, title="长长长的标题", body="正文")
    response = reader.get("/news/search", query_string={"q": "长" * length})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and ("只搜索了前" in page or "too long" in page)


def test_the_server_and_the_portal_agree_on_the_longest_url():
    """gunicorn lets every request line up to the portal's own limit through (0 = its 1 MB cap), so that
    the portal, not gunicorn's English page, answers a long search."""
    import runpy
    from pathlib import Path

    from portal.input_guard import MAX_URL

    limit = runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))["limit_request_line"]
    assert limit == 0 and MAX_URL < 1024 * 1024 or limit > MAX_URL + 100


def test_an_over_long_url_gets_the_portals_own_page(reader):
    response = reader.get("/news/search", query_string={"q": "长" * 8000})
    assert response.status_code == 414
    assert "地址过长" in response.get_data(as_text=True)


@pytest.mark.parametrize("who, url, data", [
    (None, "/login", {"username": "sec\x0001", "password": "x"}),
    ("secretary", "/checklist/branch/{branch}/items/{item}/note", {"note": "备注\x00"}),
    ("member", "/pledges", {"text": "承诺\x00", "items": "1"}),
    ("secretary", "/news", {"category": "branch_exemplar", "title": "标题", "summary": "", "body_md": "\x00"}),
])
def test_a_nul_anywhere_is_refused_before_the_database(app, secretary, member, branch, who, url, data):
    from portal.models import ItemResult, Pledge, Subject

    from ..checklist_helpers import items, make_assessment

    make_assessment(branch)
    item = items(Subject.BRANCH)[0]
    client = app.test_client()
    if who:
        client.login({"secretary": secretary, "member": member}[who])
    counts = [_count(m) for m in (AuditEvent, Post, ItemResult, Pledge)]
    response = client.form_post(url.format(branch=branch.id, item=item.id), data)
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    assert [_count(m) for m in (AuditEvent, Post, ItemResult, Pledge)] == counts


def _raw_request(base: str, request: bytes) -> bytes:
    """Send `request` as it is on a fresh connection and read the whole answer (the server closes it). The
    request is sent from a thread, so that an answer written before the server read all of it still
    arrives."""
    import contextlib
    import socket
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        def send():
            with contextlib.suppress(OSError):  # the server answered and closed before reading everything
                sock.sendall(request)

        sender = threading.Thread(target=send)
        sender.start()
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        sender.join()
    return answer


def test_what_gunicorn_refuses_itself_gets_the_portals_translated_page(database_url, upload_root):
    """Through gunicorn with ./gunicorn.conf.py: a 22 KB search reaches the portal (cut with its note), a
    72 KB URL too (the portal's 414 page); a request
    line over gunicorn's own 1 MB cap and a request with too many headers are refused by gunicorn, which
    then answers with the portal's page in Chinese rather than its English one."""
    import requests

    from ..liveserver import gunicorn

    with gunicorn(database_url, str(upload_root), workers=1) as base:
        response = requests.get(base + "/news/search", params={"q": "长" * 2500}, timeout=30,
                                allow_redirects=False)  # ~22 KB line: reaches the search (which asks to log in)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
        response = requests.get(base + "/news/search", params={"q": "长" * 8000}, timeout=30)  # ~72 KB line
        assert response.status_code == 414 and "地址过长" in response.text
        huge = b"GET /news/search?q=" + b"a" * (1024 * 1024 + 16) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        answer = _raw_request(base, huge)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414 ") and b"charset=utf-8" in head
        assert "地址过长" in body.decode() and "URI Too Long" not in body.decode()
        many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(200)) + b"\r\n"
        answer = _raw_request(base, many)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431 ") and "无法处理该请求" in body.decode()
        assert requests.get(base + "/healthz", timeout=10).status_code == 200  # the worker serves on


@pytest.mark.parametrize("data", [{"active": "2"}, {"active": "on"}, {}])
def test_a_switch_with_a_wrong_or_missing_value_changes_nothing(client, admin, member, branch, data):
    """A value that is not one of the switch's choices is refused (422), never read as "off"."""
    from portal.models import Branch, User

    client.login(admin)
    for url in (f"/admin/users/{member.id}/active", f"/admin/branches/{branch.id}/active"):
        assert client.form_post(url, data).status_code == 422, url
    db.session.expire_all()
    assert db.session.get(User, member.id).active and db.session.get(Branch, branch.id).active
