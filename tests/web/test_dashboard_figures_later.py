"""The overview under a filter that the kept totals do not serve (a name search, a grade): the page shows its rows
and their count at once and leaves its figures (cards and charts) to a second request, which htmx makes when the
page is shown (services/dashboard.py `figures_later`, issue #14). The figures are the same as the page would have
shown with them; without script the placeholder links to the whole page with its figures."""
from __future__ import annotations

import re

import pytest

from portal.services import dashboard

from ..dashboard_helpers import build_district

HX = {"HX-Request": "true"}
CARDS = re.compile(r'<div class="stat-cards" id="(figures-[0-9a-f]{8})">(.*?)</div>', re.S)

@pytest.fixture
def district(app):
    return build_district(12)

def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]

def test_a_name_search_shows_its_rows_now_and_asks_for_its_figures(client, leader, district):
    client.login(leader)
    page = client.get("/dashboard?q=%E6%B5%8B%E8%AF%9500").get_data(as_text=True)
    placeholder = re.search(r'<div class="stat-cards stat-cards--later" id="(figures-[0-9a-f]{8})" aria-busy="true"\s+'
                            r'hx-get="([^"]+)" hx-trigger="load" hx-swap="outerHTML">', page)
    assert placeholder, "the cards are left for a second request"
    key, url = placeholder.groups()
    assert url.startswith("/dashboard/figures?") and "q=" in url
    assert f'<div class="chart-grid" id="{key}-charts" aria-busy="true"></div>' in page
    assert "正在统计这" in page and "显示统计数据" in page  # and a link for a browser without script
    assert 'class="stat-card"' not in page and "chart-criteria" not in page

def test_the_second_request_fills_the_page_with_the_figures_the_page_would_have_had(client, leader, district):
    client.login(leader)
    query = "q=%E6%B5%8B%E8%AF%95&kind=primary"  # 测试 (every branch), of one kind
    page = client.get(f"/dashboard?{query}").get_data(as_text=True)
    key = re.search(r'id="(figures-[0-9a-f]{8})" aria-busy', page).group(1)
    fragment = client.get(f"/dashboard/figures?{query}", headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    text = fragment.get_data(as_text=True)
    assert "<html" not in text
    cards = CARDS.search(text)
    assert cards and cards.group(1) == key  # swapped in place of the placeholder
    assert f'<div class="chart-grid" id="{key}-charts" hx-swap-oob="true">' in text  # the charts, out of band
    # The same figures as the whole page (without script: the placeholder's link) and the service drawing them
    # with the page.
    whole = client.get(f"/dashboard/figures?{query}").get_data(as_text=True)
    assert "<html" in whole and "stat-cards--later" not in whole
    assert CARDS.search(whole).group(2) == cards.group(2)
    assert _between(whole, 'class="chart-grid"', "chart-timeline") == _between(text, 'class="chart-grid"',
                                                                               "chart-timeline").replace(
        ' hx-swap-oob="true"', "")
    with client.application.test_request_context():
        view = dashboard.overview({"q": "测试", "kind": "primary"})
    assert f"{view.summary.submitted} / {view.summary.branches}" in cards.group(2)
    assert view.summary.branches == 4  # kinds cycle over three: branches 0, 3, 6, 9

def test_filters_the_kept_totals_serve_draw_their_figures_with_the_page(client, leader, district):
    client.login(leader)
    for query in ("", "kind=middle", "status=submitted&kind=primary", "q=%E6%B5%8B%E8%AF%95&per_page=all"):
        page = client.get(f"/dashboard?{query}").get_data(as_text=True)
        assert "stat-cards--later" not in page and CARDS.search(page), query
        assert "hx-swap-oob" not in page

def test_no_match_needs_no_second_request(client, leader, district):
    client.login(leader)
    page = client.get("/dashboard?q=%E6%B2%A1%E6%9C%89").get_data(as_text=True)  # 没有: none
    assert "没有符合筛选条件的党组织" in page and "stat-cards--later" not in page and "hx-get=\"/dashboard/figures" \
        not in page

def test_an_answer_meant_for_other_filters_finds_no_place(client, leader, district):
    """The ids carry the filters: an answer still on its way when the filters changed fills nothing of the newer
    page (htmx swaps out of band by id)."""
    client.login(leader)
    keys = set()
    for query in ("q=%E6%B5%8B%E8%AF%95", "q=%E6%B5%8B%E8%AF%95&grade=advanced", "q=%E6%B5%8B",
                  "q=%E6%B5%8B%E8%AF%95&sort=-score&page=1"):
        page = client.get(f"/dashboard?{query}").get_data(as_text=True)
        keys.add(re.search(r'id="(figures-[0-9a-f]{8})"', page).group(1))
    assert len(keys) == 3  # the order and page do not change the figures

@pytest.mark.parametrize("who", ["secretary", "member"])
def test_the_figures_are_for_leadership_only(client, request, district, who):
    client.login(request.getfixturevalue(who))
    assert client.get("/dashboard/figures?q=%E6%B5%8B%E8%AF%95", headers=HX).status_code == 403

def test_unknown_values_are_a_note_not_an_error(client, leader, district):
    client.login(leader)
    response = client.get("/dashboard/figures?q=%E6%B5%8B%E8%AF%95&kind=castle&page=x", headers=HX)
    assert response.status_code == 200 and CARDS.search(response.get_data(as_text=True))
