"""The overview's pages of branches, and the per-branch figures it keeps between requests."""
import csv
import io
import re

import pytest

from portal.models import Subject

from ..checklist_helpers import items
from ..dashboard_helpers import build_district, count_statements

ROW = re.compile(r'<tr id="branch-row-(\d+)">')
BRANCHES = 55  # more than one page of 50


def _row_ids(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


@pytest.fixture
def district(app):
    return build_district(BRANCHES)


# --- pages -----------------------------------------------------------------------------------------

def test_first_page_lists_fifty_and_says_how_many_there_are(client, leader, district):
    client.login(leader)
    response = client.get("/dashboard")
    text = response.get_data(as_text=True)
    ids = _row_ids(response)
    assert len(ids) == 50
    assert "第 1–50 个，共 55 个党组织" in text
    assert 'aria-current="page">1<' in text
    assert 'href="/dashboard?year=2012&amp;page=2"' in text
    submitted = sum(1 for i in range(BRANCHES) if i % 4 in (1, 2))  # submitted or reviewed (see build_district)
    assert f"{submitted} / {BRANCHES}" in text  # the summary covers every branch, not only this page


def test_second_page_continues_the_sorted_list(client, leader, district):
    client.login(leader)
    everything = _row_ids(client.get("/dashboard?sort=-score&per_page=all"))
    assert len(everything) == BRANCHES
    first = _row_ids(client.get("/dashboard?sort=-score"))
    second = client.get("/dashboard?sort=-score&page=2")
    assert first + _row_ids(second) == everything
    text = second.get_data(as_text=True)
    assert "第 51–55 个，共 55 个党组织" in text
    # Sorting again starts on page 1; the filters and the sort are kept by the page links.
    assert 'href="/dashboard?year=2012&amp;sort=-score"' in text
    assert 'href="/dashboard?year=2012&amp;sort=score"' in text


def test_page_size_is_kept_by_filters_and_sorting(client, leader, district):
    client.login(leader)
    response = client.get("/dashboard?per_page=100")
    text = response.get_data(as_text=True)
    assert len(_row_ids(response)) == BRANCHES
    assert '<input type="hidden" name="per_page" value="100">' in text
    assert 'href="/dashboard?year=2012&amp;sort=-progress&amp;per_page=100"' in text
    assert "page=2" not in text  # one page only


def test_show_all_for_printing(client, leader, district):
    client.login(leader)
    text = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/dashboard?year=2012&amp;per_page=all"' in text and "显示全部 55 个党组织以便打印" in text
    response = client.get("/dashboard?per_page=all")
    assert len(_row_ids(response)) == BRANCHES
    assert "显示全部 55 个党组织以便打印" not in response.get_data(as_text=True)


def test_htmx_page_link_gets_the_fragment(client, leader, district):
    client.login(leader)
    response = client.get("/dashboard?page=2", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="dashboard"') and "<html" not in text
    assert len(_row_ids(response)) == BRANCHES - 50
    assert 'hx-get="/dashboard?year=2012"' in text and 'hx-push-url="true"' in text


@pytest.mark.parametrize("query,note,rows", [
    ("page=abc", "未知的页码“abc”", 50),
    ("page=0", "未知的页码“0”", 50),
    ("page=-2", "未知的页码“-2”", 50),
    ("page=99", "没有第 99 页", BRANCHES - 50),
    ("per_page=7", "未知的每页条数“7”", 50),
    ("per_page=%3Cb%3E", "未知的每页条数“&lt;b&gt;”", 50),
])
def test_bad_page_values_are_ignored_with_a_note(client, leader, district, query, note, rows):
    client.login(leader)
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 200
    assert note in response.get_data(as_text=True)
    assert len(_row_ids(response)) == rows


def test_exports_list_every_matching_branch_whatever_the_page(client, leader, district):
    client.login(leader)
    body = client.get("/dashboard/export.csv?page=2&per_page=50").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))) == BRANCHES + 1


# --- figures kept in the database (branch_summary), read a page at a time -----------------------

@pytest.fixture
def small(app):
    return build_district(3)


def test_sorting_filtering_and_paging_cost_what_the_overview_costs(client, app, leader, small):
    client.login(leader)
    client.get("/dashboard")
    plain = count_statements(client, "/dashboard")
    assert count_statements(client, "/dashboard?sort=-score&kind=primary&page=1") == plain
    # A name search's page: its rows and their count, its figures left for the second request (four fewer: the
    # cards and averages, the timeline, the overdue follow-ups, the round); that request reads no row and no count
    # (seven fewer than the overview).
    assert count_statements(client, "/dashboard?sort=-c2&q=%E6%B5%8B%E8%AF%95&page=2") == plain - 4
    assert count_statements(client, "/dashboard/figures?q=%E6%B5%8B%E8%AF%95", htmx=True) == plain - 7
    assert count_statements(client, "/dashboard?per_page=all&sort=activity") == plain


def test_figures_are_recomputed_at_once_after_a_tick(client, leader, small):
    progress = re.compile(
        rf'<tr id="branch-row-{small.branches[0].id}">.*?<progress [^>]*></progress><span>(\d+)%</span>', re.S)
    client.login(leader)
    before = int(progress.search(client.get("/dashboard").get_data(as_text=True)).group(1))

    client.login(small.secretaries[0])
    item = items(Subject.BRANCH)[5]  # branch 0 has answered the first three
    url = f"/checklist/branch/{small.branches[0].id}/items/{item.id}/result"
    assert client.form_post(url, {"result": "met"}, htmx=True).status_code == 200

    client.login(leader)
    after = int(progress.search(client.get("/dashboard").get_data(as_text=True)).group(1))
    assert after > before  # at once, not when the kept figures expire
