"""Searching and paging the registry lists (a tester's findings): `%` and `_` are characters, not wildcards; a
query with a zero-width character finds what it shows; a page past the end shows the last page, with its pager,
in every paged list (services/paging.py, templates/_pager.html)."""
import re

from ..factories import BranchFactory, UnitFactory


def _branches(n):
    return [BranchFactory(unit=UnitFactory(name=f"第{i}学校"), name=f"第{i}党支部") for i in range(1, n + 1)]


def _names_on(body):
    return len(re.findall(r'<tr id="branch-\d+"', body))


def test_like_wildcards_match_themselves(client, admin):
    _branches(3)
    BranchFactory(unit=UnitFactory(name="百分百学校"), name="100%党支部")
    client.login(admin)
    assert _names_on(client.get("/admin/branches?q=%25").get_data(as_text=True)) == 1
    assert _names_on(client.get("/admin/branches?q=_").get_data(as_text=True)) == 0
    users = client.get("/admin/users?q=%25").get_data(as_text=True)
    assert "admin" not in users.split("<tbody>", 1)[-1].split("</tbody>", 1)[0]


def test_a_zero_width_character_in_the_query_is_ignored(client, admin):
    _branches(3)
    client.login(admin)
    body = client.get("/admin/branches?q=第\u200b2党").get_data(as_text=True)
    assert _names_on(body) == 1 and "第2党支部" in body


def test_a_page_past_the_end_is_the_last_page(client, admin):
    _branches(120)  # 3 pages of 50
    client.login(admin)
    body = client.get("/admin/branches?page=99999").get_data(as_text=True)
    assert "第 3 页，共 3 页" in body and _names_on(body) == 20
    assert 'rel="prev"' in body and 'rel="next"' not in body


def test_a_search_page_past_its_end_shows_the_matches(client, admin):
    _branches(120)
    client.login(admin)
    body = client.get("/admin/branches?q=第1&page=2&lang=en").get_data(as_text=True)  # 第1, 第10-19, 第100-120
    assert "No branch matches." not in body and _names_on(body) == 32
    assert "32 branches" in body and "Page 1 of 1" not in body  # one page: no pager


def test_every_paged_list_clamps(client, admin):
    client.login(admin)
    for url in ("/admin/users?page=99999", "/admin/audit?page=99999", "/notifications?page=99999"):
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_news_board_past_its_end_shows_its_last_page(client, member):
    from portal.services import news as news_service

    client.login(member)
    board = news_service.board(news_service.BoardFilters(), 99_999)
    assert board.page == 1 and board.pages == 1 and not board.has_more
    assert client.get("/news?page=99999").status_code == 200
