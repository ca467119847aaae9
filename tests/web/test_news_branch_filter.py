"""The news board's branch filter in a district too big for one menu: a field for part of the name."""
from __future__ import annotations

import re

from portal.services import branch_choice
from tests.news_helpers import make_post


def _ids(response):
    return [int(i) for i in re.findall(r'id="post-(\d+)"', response.get_data(as_text=True))]


def test_small_district_keeps_the_menu(client, secretary, other_secretary, member):
    client.login(member)
    page = client.get("/news").get_data(as_text=True)
    assert 'id="f-branch"' in page and 'name="branch_q"' not in page


def test_big_district_filters_by_part_of_the_name(client, monkeypatch, secretary, other_secretary, member):
    monkeypatch.setattr(branch_choice, "MENU_MAX", 1)
    mine = make_post(secretary, title="本支部")
    theirs = make_post(other_secretary, title="别的支部")
    client.login(member)
    page = client.get("/news").get_data(as_text=True)
    assert 'id="f-branch"' not in page and 'name="branch_q"' in page
    assert sorted(_ids(client.get("/news"))) == sorted([mine.id, theirs.id])
    name = other_secretary.branch.name
    assert _ids(client.get(f"/news?branch_q={name}")) == [theirs.id]
    assert _ids(client.get("/news?branch_q=%25")) == []  # a wildcard is text, not a pattern
    by_id = client.get(f"/news?branch={secretary.branch_id}")  # an old link by id still filters
    assert _ids(by_id) == [mine.id] and f'value="{secretary.branch.name}"' in by_id.get_data(as_text=True)
