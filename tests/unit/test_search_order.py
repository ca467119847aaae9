"""News search at size (issue #14): the matching posts read in the board's order one live state at a time from
ix_post_live_order and stopped after the page, giving the same posts, in the same order and pages, as the single
query that matched every live post and sorted them all."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Post, PostStatus, utcnow
from portal.models.news import search_form
from portal.services import news, search

from ..factories import BranchFactory, UserFactory
from ..news_helpers import make_post
from .test_news_order import _plans_of

WORDS = ["支部", "党员", "志愿服务", "示范岗", "师德"]


def _board_with_words():
    """Posts in every state, pinned and not, several on the same instant (the id breaks the tie), scheduled ones due
    and to come, each with some of WORDS in its title, summary or body, some in full-width forms."""
    editor = UserFactory(role="editor")
    branches = [BranchFactory(name="明德路小学党支部"), BranchFactory(name="实验中学党支部")]
    now = utcnow().replace(microsecond=0)
    made = []
    for n in range(30):
        words = [WORDS[(n + k) % len(WORDS)] for k in range(1 + n % 3)]
        place = n % 3
        made.append(make_post(editor, title=f"事迹{n}" + ("".join(words) if place == 0 else ""),
                              summary="、".join(words) if place == 1 else "",
                              body=f"第{n}篇。" + ("，".join(words) if place == 2 else "２０２６年") + "。",
                              published_ago_days=n % 7, pinned=n in (4, 11, 17), branch_id=branches[n % 2].id))
    for post in made[:5]:
        post.published_at = now - timedelta(days=3)
    for days in (-1, -2, 3):
        make_post(editor, title=f"定时支部志愿服务{days}", status=PostStatus.SCHEDULED,
                  publish_at=now + timedelta(days=days), pinned=days == -2)
    for status in (PostStatus.DRAFT, PostStatus.PENDING, PostStatus.UNPUBLISHED):
        make_post(editor, title=f"支部志愿服务{status}", status=status)
    db.session.commit()


def _old_search(terms):
    """The ids the one query before issue #14 found, in its order: every live post holding every term, sorted."""
    stmt = select(Post.id).where(news.live_clause(),
                                 *(Post.search_text.ilike(search._like_pattern(t), escape="\\") for t in terms))
    return list(db.session.scalars(stmt.order_by(*news.board_order(Post))))


@pytest.mark.parametrize("query", ["支部", "师", "志愿服务", "支部 党员", "志愿服务 示范岗 师德", "2026", "２０２６",
                                   "示范岗 第1", "不存在"])
def test_search_pages_give_what_the_single_query_gave(app, query):
    _board_with_words()
    terms = search.terms_of(query)
    expected = _old_search(terms)
    for per_page in (1, 4, 20):
        shown, page = [], 1
        while True:
            result = search.search(query, page, per_page)
            assert result.page == page
            shown += [hit.post.id for hit in result.hits]
            assert result.has_more == (len(shown) < len(expected)), (query, per_page, page)
            if not result.has_more:
                break
            page += 1
        assert shown == expected, (query, per_page)
    if query != "不存在":
        assert expected


@pytest.mark.parametrize("query", ["支部", "志愿服务", "志愿服务 支部"])
def test_search_reads_live_posts_in_index_order(app, query):
    """Each live state is read in order from ix_post_live_order and only the rows found are sorted: no sort of
    every matching post (`MULTI-INDEX OR` and a temporary B-tree over all of them, as before)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plans")
    _board_with_words()
    plans = _plans_of(lambda: search.search(query, 2, 3))
    assert len(plans) == 1, plans
    plan = plans[0][1]
    assert "MULTI-INDEX OR" not in plan and "SCAN post\n" not in plan + "\n", plan
    searches = [line for line in plan.splitlines() if "SEARCH post USING" in line and "(status=?)" in line]
    assert len(searches) == 2 and all("ix_post_live_order" in line for line in searches), plan
    assert [line for line in plan.splitlines() if "TEMP B-TREE" in line] == ["USE TEMP B-TREE FOR ORDER BY"], plan


def test_search_text_is_what_search_matches(app):
    """The search text is the title, summary and body in NFKC (search_form), so the rows compared above are what
    the index and LIKE see."""
    make_post(UserFactory(role="editor"), title="２０１２年", summary="ＰＤＦ", body="第３次")
    assert db.session.scalar(select(Post.search_text)) == search_form("２０１２年 ＰＤＦ 第３次")
