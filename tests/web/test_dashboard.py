"""The overview and the branch page through HTTP: permissions, filters, sorting, htmx, notes, empty states."""
import re

import pytest

from portal.extensions import db
from portal.models import AuditEvent, Role

from ..dashboard_helpers import branch_items, build_district, count_statements, year
from ..factories import BranchFactory, UnitFactory, UserFactory

ROW = re.compile(r'<tr id="branch-row-(\d+)">')


def _row_ids(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


@pytest.fixture
def district(app):
    return build_district(4)


# --- who may see what ----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["secretary", "member", "editor"])
def test_overview_is_forbidden_below_leadership(client, request, who):
    client.login(request.getfixturevalue(who))
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/export.xlsx").status_code == 403
    assert client.get("/dashboard/items.xlsx").status_code == 403
    assert client.get("/dashboard/export.csv").status_code == 403


def test_overview_needs_login(client):
    response = client.get("/dashboard")
    assert response.status_code in (302, 401)


@pytest.mark.parametrize("who", ["leader", "admin"])
def test_leadership_sees_every_branch(client, request, district, who):
    client.login(request.getfixturevalue(who))
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert sorted(_row_ids(response)) == sorted(b.id for b in district.branches)
    text = response.get_data(as_text=True)
    assert "领导班子好" in text and "<progress" in text and "heat-" in text
    assert 'role="img"' in text  # the charts
    assert "style=" not in text


def test_nav_shows_dashboard_for_leaders_and_our_branch_for_members(client, leader, member):
    client.login(leader)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/dashboard"' in home and 'href="/our-branch"' not in home
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client._logged_in = False
    client.login(member)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/our-branch"' in home and 'href="/dashboard"' not in home


# --- filters and sorting -------------------------------------------------------------------------

@pytest.mark.parametrize("query,expected", [
    ("kind=middle", [1]),
    ("kind=kindergarten", [2]),
    ("status=draft", [0]),
    ("status=submitted", [1]),
    ("status=reviewed", [2]),
    ("status=returned", [3]),
    ("status=none", []),
    ("q=测试003", [3]),
    ("q=品牌000", [0]),
    ("kind=primary&status=returned", [3]),
])
def test_each_filter(client, leader, district, query, expected):
    client.login(leader)
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 200
    assert _row_ids(response) == [district.branches[i].id for i in expected]
    text = response.get_data(as_text=True)
    assert "未知" not in text
    if not expected:
        assert "没有符合筛选条件的党组织" in text


@pytest.mark.parametrize("column", ["name", "c1", "c2", "c3", "c4", "c5", "progress", "score", "status",
                                    "rating", "plan", "pledges", "posts", "coverage", "activity"])
def test_each_sort_column_both_ways(client, leader, district, column):
    client.login(leader)
    up = client.get(f"/dashboard?sort={column}")
    down = client.get(f"/dashboard?sort=-{column}")
    assert up.status_code == down.status_code == 200
    assert 'aria-sort="ascending"' in up.get_data(as_text=True)
    assert 'aria-sort="descending"' in down.get_data(as_text=True)
    assert sorted(_row_ids(up)) == sorted(_row_ids(down)) == sorted(b.id for b in district.branches)


def test_branches_are_listed_by_pinyin(client, leader):
    names = ["中山路小学党支部", "北京路中学党总支", "长安街小学党支部", "阿里山路小学党支部"]
    ids = {name: BranchFactory(unit=UnitFactory(name=name[:-4]), name=name).id for name in names}
    client.login(leader)
    expected = [ids[n] for n in ("阿里山路小学党支部", "北京路中学党总支", "长安街小学党支部", "中山路小学党支部")]
    assert _row_ids(client.get("/dashboard")) == expected
    assert _row_ids(client.get("/dashboard?sort=-name")) == expected[::-1]


def test_branch_page_lists_the_secretary_then_members_by_pinyin(client, leader, branch):
    for username, name, role in [("m1", "赵敏", Role.MEMBER), ("m2", "安然", Role.MEMBER),
                                 ("s1", "周书记", Role.SECRETARY), ("m3", "曾巩", Role.MEMBER)]:
        UserFactory(username=username, display_name=name, role=role, branch=branch)
    client.login(leader)
    text = client.get(f"/branches/{branch.id}").get_data(as_text=True)
    members = text[text.index('id="branch-members"'):]
    positions = [members.index(name) for name in ("周书记", "安然", "曾巩", "赵敏")]  # an, zeng, zhao
    assert positions == sorted(positions)


def test_sort_by_status_orders_rows(client, leader, district):
    client.login(leader)
    ids = _row_ids(client.get("/dashboard?sort=-status"))
    # reviewed (2) > submitted (1) > returned (3) > draft (0)
    assert ids == [district.branches[i].id for i in (2, 1, 3, 0)]
    ids = _row_ids(client.get("/dashboard?sort=-activity"))
    assert ids[0] == district.branches[0].id  # the newest activity first


def test_sort_links_keep_filters_and_toggle(client, leader, district):
    client.login(leader)
    text = client.get("/dashboard?kind=primary&sort=score").get_data(as_text=True)
    link = re.search(r'id="sort-score"', text)
    assert link
    assert "/dashboard?year=2012&amp;kind=primary&amp;sort=-score" in text  # clicking again reverses
    assert "/dashboard/export.xlsx?year=2012&amp;kind=primary&amp;sort=score" in text
    assert "/dashboard/items.xlsx?year=2012&amp;kind=primary&amp;sort=score" in text  # the item results apart


@pytest.mark.parametrize("query,note", [
    ("year=1999", "没有“1999”这个活动年度"),
    ("year=%3Cb%3E", "没有“&lt;b&gt;”这个活动年度"),
    ("kind=castle", "未知的单位类型“castle”"),
    ("status=lost", "未知的状态“lost”"),
    ("sort=salary", "未知的排序列“salary”"),
])
def test_unknown_values_are_ignored_with_a_visible_note(client, leader, district, query, note):
    client.login(leader)
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert note in text
    assert len(_row_ids(response)) == 4


def test_htmx_request_gets_the_fragment(client, leader, district):
    client.login(leader)
    response = client.get("/dashboard?status=reviewed", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text.lstrip().startswith('<div id="dashboard"') and "<html" not in text
    assert _row_ids(response) == [district.branches[2].id]
    assert "HX-Request" in response.headers["Vary"]
    full = client.get("/dashboard?status=reviewed").get_data(as_text=True)
    assert 'hx-push-url="true"' in full and 'method="get"' in full  # bookmarkable, works without JS


def test_other_year(client, leader, district):
    client.login(leader)
    text = client.get("/dashboard?year=2011").get_data(as_text=True)
    assert 'value="2011" selected' in text
    assert text.count("未开始") >= 4


def test_empty_district_says_what_to_do_next(client, leader):
    client.login(leader)
    response = client.get("/dashboard")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "本区还没有党组织" in text and "下一步" in text
    assert client.get("/dashboard/export.csv").status_code == 200


def test_summary_cards(client, leader, district):
    client.login(leader)
    text = client.get("/dashboard").get_data(as_text=True)
    assert "2 / 4" in text  # submitted + reviewed of four


# --- the branch page -----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["leader", "admin", "editor"])
def test_district_roles_open_any_branch(client, request, district, who):
    client.login(request.getfixturevalue(who))
    for branch in district.branches[:2]:
        response = client.get(f"/branches/{branch.id}")
        assert response.status_code == 200
        assert branch.name in response.get_data(as_text=True)


def test_secretary_sees_own_branch_against_district_not_others(client, district):
    secretary = district.secretaries[1]
    client.login(secretary)
    own = client.get(f"/branches/{district.branches[1].id}")
    assert own.status_code == 200
    text = own.get_data(as_text=True)
    assert "区平均" in text
    assert "dmem1" not in text and district.members[1].display_name in text  # the member coverage list
    assert 'id="branch-audit"' in text
    for other in (district.branches[0], district.branches[2]):
        assert other.name not in text
        assert client.get(f"/branches/{other.id}").status_code == 403
    ours = client.get("/our-branch").get_data(as_text=True)
    assert district.branches[1].name in ours and 'id="branch-members"' in ours
    assert 'href="/our-branch" aria-current="page"' in ours


def test_member_sees_own_progress_not_others(client, district):
    member = district.members[0]
    client.login(member)
    text = client.get("/our-branch").get_data(as_text=True)
    assert 'id="own-progress"' in text
    assert 'id="branch-members"' not in text and 'id="branch-audit"' not in text
    assert client.get(f"/branches/{district.branches[1].id}").status_code == 403


def test_branch_page_shows_history_reviews_pledges_posts(client, leader, district):
    client.login(leader)
    text = client.get(f"/branches/{district.branches[2].id}").get_data(as_text=True)
    assert "扎实有序" in text  # the review
    assert 'id="branch-audit"' in text and "checklist.tick" in text
    text = client.get(f"/branches/{district.branches[1].id}").get_data(as_text=True)
    assert "承诺1" in text and "风采1" in text


def test_branch_page_says_in_words_what_changed(client, leader, district):
    branch = district.branches[0]
    db.session.add(AuditEvent(actor_name="dsec0", action="checklist.set_result", branch_id=branch.id,
                              object_type="assessment", object_id=1))
    db.session.commit()
    client.login(leader)
    text = client.get(f"/branches/{branch.id}").get_data(as_text=True)
    assert "评定了一个清单条目" in text and "checklist.set_result" not in text
    assert "时间（UTC）" not in text  # times are shown in local time


def test_branch_page_links_to_the_checklist(client, app, leader, district):
    client.login(leader)
    text = client.get(f"/branches/{district.branches[0].id}?year=2012").get_data(as_text=True)
    assert f"/checklist/branch/{district.branches[0].id}?year=2012" in text


def test_unknown_branch_is_404_and_unknown_year_a_note(client, leader, district):
    client.login(leader)
    assert client.get("/branches/999999").status_code == 404
    response = client.get(f"/branches/{district.branches[0].id}?year=abc")
    assert response.status_code == 200 and "没有“abc”这个活动年度" in response.get_data(as_text=True)


def test_our_branch_needs_a_branch(client, app, leader):
    lonely = UserFactory(username="lonely", role=Role.MEMBER)
    client.login(leader)
    assert client.get("/our-branch").status_code == 403
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client._logged_in = False
    client.login(lonely)
    assert client.get("/our-branch").status_code == 403


# --- constant number of queries ------------------------------------------------------------------

def test_query_counts_are_the_same_at_3_and_30_branches(client, app, leader):
    """Every dashboard page, the branch pages and a tick cost the same statements whatever the district's size."""
    small = build_district(3)
    first, secretary = small.branches[0], small.secretaries[0]
    pages = ["/dashboard", "/dashboard?sort=-score&page=1", "/dashboard?status=submitted&sort=-c2&kind=middle",
             "/dashboard?per_page=all", "/dashboard?sort=activity&per_page=100", "/dashboard?grade=advanced",
             "/dashboard?q=%E6%B5%8B%E8%AF%95", f"/branches/{first.id}"]  # (q=测试: every branch)
    item = branch_items(year())[6]  # not among the answers build_district gives branch 0

    def counts() -> list[int]:
        client.login(leader)
        found = [count_statements(client, url) for url in pages]
        found.append(count_statements(client, "/dashboard?kind=middle", htmx=True))
        found.append(count_statements(client, "/dashboard/figures?q=%E6%B5%8B%E8%AF%95", htmx=True))
        client.login(secretary)
        found.append(count_statements(client, "/our-branch"))
        for result in ("met", "partly"):  # the first tick of a run may create what later ticks find
            found.append(count_statements(client, f"/checklist/branch/{first.id}/items/{item.id}/result",
                                          method="POST", data={"result": result}))
        return found

    client.login(secretary)  # the item answered once before counting: every counted tick then changes an answer
    assert client.post(f"/checklist/branch/{first.id}/items/{item.id}/result", data={"result": "na"},
                       headers={"HX-Request": "true", "X-CSRFToken": client.csrf_token()}).status_code == 200
    client.login(leader)  # (on PostgreSQL a first answer takes one statement fewer than a changed one)
    client.get("/dashboard")
    at_3 = counts()
    build_district(27, start=3)
    assert counts() == at_3



def test_overview_and_branch_page_in_english(client, leader, district):
    client.login(leader)
    text = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Progress dashboard" in text and "Average progress" in text and "Export to CSV" in text
    text = client.get(f"/branches/{district.branches[0].id}").get_data(as_text=True)
    assert "District average" in text and "Workflow history" in text
