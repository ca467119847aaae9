"""The pledges page and the brands page at district scale (issue #14): each shows a page of its rows (paging.window:
a page past the end is the last, bad numbers page 1), every row exactly once across the pages, filtered by branch
(a menu up to branch_choice.MENU_MAX branches, part of the name above), with counts of all that match, and the same
statements and rows whatever the district's size."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.collation import branch_order
from portal.extensions import db
from portal.models import Branch, Criterion, Framework, Item, Pledge, PledgeStatus, Subject, pledge_item, utcnow
from portal.services import branch_choice, pledges, projects

from ..checklist_helpers import current_year, year
from ..dashboard_helpers import count_statements
from ..factories import add_branches
from ..unit.test_home_queries import _plan

PLEDGE = re.compile(r'<li class="pledge" id="(?:published-)?pledge-(\d+)">')
BRAND = re.compile(r'<tr id="brand-(\d+)">')


def _section(page: str, name: str) -> str:
    """The HTML of the page's list `name` ("awaiting" or "published"), "" when the page has none."""
    return page.split(f'id="{name}"', 1)[1].split("</section>", 1)[0] if f'id="{name}"' in page else ""


def _sections(page: str) -> dict[str, list[int]]:
    """The pledge ids of the page's waiting and published lists, in order."""
    return {name: [int(i) for i in PLEDGE.findall(_section(page, name))] for name in ("awaiting", "published")}


def _district(count: int, start: int = 0) -> list[Branch]:
    """`count` branches, each with a branch pledge waiting for approval and a published one, both tagged; the
    latest changed first by branch number."""
    branches = add_branches(count, start=start)
    year_id = current_year().id
    item = db.session.scalar(select(Item.id).join(Criterion).join(Framework).where(
        Framework.subject == Subject.BRANCH).limit(1))
    now = utcnow()
    made = []
    for n, branch in enumerate(branches, start):
        for status in (PledgeStatus.PENDING, PledgeStatus.APPROVED):
            made.append(Pledge(year_id=year_id, branch_id=branch.id, text=f"承诺{n}{status.value}", status=status,
                               updated_at=now - timedelta(minutes=n)))
    db.session.add_all(made)
    db.session.flush()
    db.session.execute(pledge_item.insert(), [{"pledge_id": p.id, "item_id": item} for p in made])
    db.session.commit()
    return branches


def _ids(status: PledgeStatus, named: str = "") -> list[int]:
    """The year's branch pledges in `status` (of branches whose name contains `named`), the latest change first."""
    stmt = (select(Pledge.id).join(Branch, Branch.id == Pledge.branch_id)
            .where(Pledge.year_id == current_year().id, Pledge.status == status, Branch.name.contains(named))
            .order_by(Pledge.updated_at.desc(), Pledge.id.desc()))
    return list(db.session.scalars(stmt))


def _walk(client, url: str, section: str, param: str = "page") -> list[int]:
    """Every page of one list of the pledges page, in order."""
    first = _section(client.get(url).get_data(as_text=True), section)
    pages = int(m.group(1)) if (m := re.search(r"第 1 页，共 (\d+) 页", first)) else 1
    seen = []
    for number in range(1, pages + 1):
        seen += _sections(client.get(f"{url}&{param}={number}").get_data(as_text=True))[section]
    return seen


# --- the pledges page ------------------------------------------------------------------------------------

def test_every_pledge_once_across_the_pages_and_the_counts_of_all(client, admin):
    _district(pledges.PER_PAGE + 5)
    client.login(admin)
    page = client.get("/pledges").get_data(as_text=True)
    shown = _sections(page)
    assert len(shown["awaiting"]) == len(shown["published"]) == pledges.PER_PAGE
    waiting, approved = _ids(PledgeStatus.PENDING), _ids(PledgeStatus.APPROVED)
    assert f'<span class="badge badge--warn">{len(waiting)}</span>' in page  # all waiting, not the page's
    assert f"共 {len(approved)} 条已公开的承诺" in page
    assert _walk(client, "/pledges?x=1", "published") == approved
    assert _walk(client, "/pledges?x=1", "awaiting", "waiting_page") == waiting
    # Each list's pager keeps the other list's page; a page past the end shows the last one.
    second = client.get("/pledges?page=2&waiting_page=2").get_data(as_text=True)
    assert 'href="/pledges?page=1&amp;waiting_page=2#published"' in second
    assert 'href="/pledges?waiting_page=1&amp;page=2#awaiting"' in second
    assert _sections(client.get("/pledges?page=99999&waiting_page=99999").get_data(as_text=True)) == \
        _sections(second)


def test_the_branch_filter_of_a_big_district(client, admin, leader):
    _district(branch_choice.MENU_MAX + 1)
    client.login(admin)
    page = client.get("/pledges").get_data(as_text=True)
    assert 'id="f-branch-q"' in page and 'name="branch_q"' in page and 'role="combobox"' in page  # no menu of 61
    url = "/pledges?branch_q=%E7%AC%AC1"  # 第1: 第1, 第10…第19
    assert _walk(client, url, "published") == _ids(PledgeStatus.APPROVED, "第1")
    assert _walk(client, url, "awaiting", "waiting_page") == _ids(PledgeStatus.PENDING, "第1")
    assert len(_ids(PledgeStatus.APPROVED, "第1")) == 11
    filtered = client.get(url).get_data(as_text=True)
    assert 'value="第1"' in filtered and "共 11 条已公开的承诺" in filtered
    assert '<span class="badge badge--warn">11</span>' in filtered
    assert 'href="/pledges">清除筛选</a>' in filtered
    nothing = client.get("/pledges?branch_q=%25_").get_data(as_text=True)  # % and _ are text, not patterns
    assert _sections(nothing) == {"awaiting": [], "published": []} and "没有符合筛选条件的已公开承诺" in nothing
    client.login(leader)  # the leaders read the district's published pledges, filtered alike; they approve none
    shown = _sections(client.get(url).get_data(as_text=True))
    assert shown == {"awaiting": [], "published": _ids(PledgeStatus.APPROVED, "第1")[:pledges.PER_PAGE]}


def test_approving_from_a_page_of_the_list_comes_back_to_it(client, admin):
    _district(2 * pledges.PER_PAGE + 5)
    client.login(admin)
    url = "/pledges?branch_q=%E7%AC%AC&waiting_page=2"  # 第: every branch
    page = client.get(url).get_data(as_text=True)
    back = "/pledges?branch_q=%E7%AC%AC&amp;waiting_page=2#awaiting"
    assert f'name="back" value="{back}"' in page
    first = _sections(page)["awaiting"][0]
    response = client.form_post(f"/pledges/{first}/approve", {"back": back.replace("&amp;", "&")})
    assert response.status_code == 303 and response.headers["Location"].endswith(back.replace("&amp;", "&"))
    assert db.session.get(Pledge, first).status == PledgeStatus.APPROVED
    elsewhere = _sections(page)["awaiting"][1]  # a back to another page is not followed
    response = client.form_post(f"/pledges/{elsewhere}/approve", {"back": "/brands?page=2"})
    assert response.headers["Location"].endswith(f"/pledges/{elsewhere}")


def test_the_branch_menu_of_a_small_district(client, editor):
    branches = _district(3)
    client.login(editor)
    page = client.get("/pledges").get_data(as_text=True)
    assert 'id="f-branch" name="branch"' in page and "测试区第2学校党支部" in page
    shown = _sections(client.get(f"/pledges?branch={branches[1].id}").get_data(as_text=True))
    assert shown["published"] == _ids(PledgeStatus.APPROVED, "第1学校")
    assert _sections(client.get("/pledges?branch=abc").get_data(as_text=True))["published"] == \
        _ids(PledgeStatus.APPROVED)  # a malformed filter is ignored


def test_a_branch_reads_its_own_pledges_whatever_the_filter(client, secretary, member, branch):
    _district(5)
    now = utcnow()
    own = [Pledge(year_id=current_year().id, branch_id=branch.id, member_id=member.id, text=f"党员承诺{n}",
                  status=status, updated_at=now - timedelta(minutes=n))
           for n, status in enumerate([PledgeStatus.PENDING, PledgeStatus.APPROVED, PledgeStatus.APPROVED])]
    db.session.add_all(own)
    db.session.commit()
    client.login(secretary)
    page = client.get("/pledges?branch_q=%E7%AC%AC1").get_data(as_text=True)
    assert 'name="branch_q"' not in page and 'id="f-branch"' not in page  # no filter: one branch's lists
    assert _sections(page) == {"awaiting": [own[0].id], "published": [own[1].id, own[2].id]}
    client.login(member)
    assert _sections(client.get("/pledges").get_data(as_text=True)) == {"awaiting": [],
                                                                       "published": [own[1].id, own[2].id]}


@pytest.mark.parametrize("query", ["page=abc", "page=-1", "page=0", "page=99999999999999999999", "page=1.5",
                                   "waiting_page=abc", "waiting_page=-3", "branch=-1", "branch=99999999999",
                                   "branch_q=" + "长" * 500, "page=%EF%BC%92"])
def test_bad_query_parameters_give_a_normal_page(client, admin, query):
    _district(pledges.PER_PAGE + 1)
    client.login(admin)
    response = client.get(f"/pledges?{query}")
    assert response.status_code == 200
    assert client.get(f"/brands?{query}").status_code == 200


def test_the_pledges_page_costs_the_same_at_any_size(client, admin, leader, secretary, member, monkeypatch):
    """Statements and rows shown equal from a district of one page per list to one of many, past MENU_MAX (the
    filter's menu becomes a field); only the shown pledges' tags are read."""
    asked = []
    tags_for = pledges.tags_for
    monkeypatch.setattr(pledges, "tags_for", lambda ids: asked.append(len(ids)) or tags_for(ids))
    _district(2 * pledges.PER_PAGE + 1)  # a second page full
    people = {"admin": admin, "leader": leader, "secretary": secretary, "member": member}
    urls = ["/pledges", "/pledges?page=2&waiting_page=2", "/pledges?branch_q=%E7%AC%AC1"]

    def measure():
        found = {}
        for role, user in people.items():
            client.login(user)
            for url in urls:
                page = client.get(url).get_data(as_text=True)
                rows = {k: len(v) for k, v in _sections(page).items()} if "branch_q" not in url else None
                found[role, url] = (count_statements(client, url), rows)  # a filter finds more in a bigger one
        return found

    small = measure()
    _district(branch_choice.MENU_MAX * 2, start=2 * pledges.PER_PAGE + 1)
    assert measure() == small
    assert max(asked) <= 2 * pledges.PER_PAGE


def test_a_branchs_pages_are_read_from_its_own_rows(app):
    """SQLite's plan of a branch's page of pledges (a member's and a secretary's lists): the branch's rows in
    order from ix_pledge_branch_year, not the district's pledges of the year walked through ix_pledge_year_status
    (migration h14l_01)."""
    if db.engine.dialect.name != "sqlite":
        return
    for kind, by_branch in (("published", True), ("branch", False)):
        plan = _plan(pledges._list_statements(kind, by_branch, False)[1].params(
            year_id=1, own_branch=1, me=1, filter_branch=1, limit=20, offset=0))
        assert "ix_pledge_branch_year (branch_id=? AND year_id=? AND status=?)" in plan, plan
        assert "TEMP B-TREE" not in plan and "ix_pledge_year_status" not in plan, plan


# --- the brands page -------------------------------------------------------------------------------------

def _brands(client, url: str) -> list[int]:
    return [int(i) for i in BRAND.findall(client.get(url).get_data(as_text=True))]


def _branch_ids(named: str = "") -> list[int]:
    return list(db.session.scalars(select(Branch.id).where(Branch.active.is_(True), Branch.name.contains(named))
                                   .order_by(*branch_order())))


def test_every_branch_once_in_pinyin_order_across_the_pages(client, member):
    add_branches(projects.PER_PAGE + 7)
    add_branches(2, start=900, active=False)
    client.login(member)
    page = client.get("/brands").get_data(as_text=True)
    everything = _branch_ids()
    assert f"共 {len(everything)} 个党组织" in page and "第 1 页，共 2 页" in page
    assert _brands(client, "/brands") + _brands(client, "/brands?page=2") == everything
    assert _brands(client, "/brands?page=99999") == _brands(client, "/brands?page=2")  # the last page
    assert _brands(client, "/brands?page=abc") == _brands(client, "/brands")
    past = client.get("/brands?year=2011&branch_q=%E5%AD%A6").get_data(as_text=True)  # 学: every branch
    assert 'href="/brands?page=2&amp;branch_q=%E5%AD%A6&amp;year=2011"' in past
    assert '<input type="hidden" name="year" value="2011">' in past and year(2011) is not None


def test_finding_a_branch_in_the_brands_of_a_big_district(client, leader):
    add_branches(branch_choice.MENU_MAX + 1)
    client.login(leader)
    page = client.get("/brands").get_data(as_text=True)
    assert 'id="f-branch-q"' in page and 'role="combobox"' in page
    assert _brands(client, "/brands?branch_q=%E7%AC%AC1") == _branch_ids("第1")  # 第1, 第10…第19
    found = client.get("/brands?branch_q=%E7%AC%AC1").get_data(as_text=True)
    assert "共 11 个党组织" in found and "清除筛选" in found
    assert "没有符合筛选条件的党组织" in client.get("/brands?branch_q=%25").get_data(as_text=True)


def test_the_brands_page_costs_the_same_at_any_size(client, leader, member):
    add_branches(2 * projects.PER_PAGE + 1)  # a second page full
    urls = ["/brands", "/brands?page=2", "/brands?branch_q=%E7%AC%AC1"]

    def measure():
        found = {}
        for user in (leader, member):
            client.login(user)
            for url in urls:
                rows = len(_brands(client, url)) if "branch_q" not in url else None  # (a filter finds more)
                found[user.username, url] = (count_statements(client, url), rows)
        return found

    small = measure()
    add_branches(branch_choice.MENU_MAX * 3, start=2 * projects.PER_PAGE + 1)
    assert measure() == small
