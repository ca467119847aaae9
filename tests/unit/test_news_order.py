"""The board's, the home pages' and the feed's live posts read one live state at a time in index order (issue #14,
migration h14n_01): the same posts in the same order as the single OR of the two states gave, and, on SQLite, a
plan that never sorts every post to find the first few."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.extensions import db
from portal.models import Branch, Post, PostCategory, PostStatus, utcnow
from portal.services import news

from ..factories import BranchFactory, UserFactory
from ..news_helpers import make_post


def _old_live(conditions=(), order=None, with_branch=False):
    """The live posts' ids as the one query before issue #14 ordered them: the OR of the two live states, sorted."""
    stmt = select(Post.id).where(news.live_clause(), *conditions)
    if with_branch:
        stmt = stmt.outerjoin(Branch, Branch.id == Post.branch_id)
    return list(db.session.scalars(stmt.order_by(*(order or news.board_order)(Post))))


def _mixed_board():
    """Posts in every state: pinned and not, published on the same instant (the id breaks the tie), scheduled with
    their time come and still to come, drafts, waiting, returned and unpublished ones, over two branches and two
    categories."""
    editor = UserFactory(role="editor")
    branches = [BranchFactory(name="明德路小学党支部"), BranchFactory(name="实验中学党支部")]
    now = utcnow().replace(microsecond=0)
    made = []
    for n in range(14):
        made.append(make_post(editor, title=f"事迹{n}", published_ago_days=n % 5, pinned=n in (3, 9),
                              branch_id=branches[n % 2].id,
                              category=(PostCategory.BRANCH_EXEMPLAR, PostCategory.MEMBER_EXEMPLAR)[n % 3 == 0]))
    same = now - timedelta(days=2)
    for post in made[:4]:
        post.published_at = same
    for days, pinned in ((-1, False), (-3, True), (2, False)):  # scheduled: due (twice), and a day still to come
        make_post(editor, title=f"定时{days}", status=PostStatus.SCHEDULED, publish_at=now + timedelta(days=days),
                  pinned=pinned, branch_id=branches[0].id)
    for status in (PostStatus.DRAFT, PostStatus.PENDING, PostStatus.RETURNED, PostStatus.UNPUBLISHED):
        make_post(editor, title=str(status), status=status, branch_id=branches[1].id)
    db.session.commit()
    return branches


def test_latest_board_and_feed_give_what_the_single_query_gave(app):
    branches = _mixed_board()
    everything = _old_live()
    assert len(everything) == 16  # 14 published and the two scheduled posts whose time has come
    for limit in (1, 3, 5, 16, 20):
        assert [post.id for post in news.latest(limit)] == everything[:limit]
    cases = [(news.BoardFilters(), ()),
             (news.BoardFilters(category=PostCategory.MEMBER_EXEMPLAR.value),
              (Post.category == PostCategory.MEMBER_EXEMPLAR,)),
             (news.BoardFilters(branch_id=branches[0].id), (Post.branch_id == branches[0].id,)),
             (news.BoardFilters(branch_q="明德"), (Branch.name.contains("明德"),))]
    for filters, conditions in cases:
        expected = _old_live(conditions, with_branch=bool(filters.branch_q))
        assert expected
        for per_page in (3, 5, 50):
            shown = []
            for page in range(1, -(-len(expected) // per_page) + 1):
                result = news.board(filters, page, per_page)
                assert result.window.total == len(expected)
                shown += [row.post.id for row in result.rows]
            assert shown == expected, (filters, per_page)
    newest = _old_live(order=lambda c: (c.published_at.desc(), c.id.desc()))
    assert [post.id for post, *_names in news.feed_posts(limit=6)] == newest[:6]
    members = _old_live((Post.category == PostCategory.MEMBER_EXEMPLAR,),
                        order=lambda c: (c.published_at.desc(), c.id.desc()))
    assert [post.id for post, *_names in news.feed_posts(PostCategory.MEMBER_EXEMPLAR.value, limit=30)] == members
    managed = list(db.session.scalars(
        select(Post.id).where(Post.status.in_(news.MANAGED))
        .order_by(Post.pinned.desc(), Post.published_at.desc().nulls_last(), Post.id.desc())))
    assert len(managed) == 18  # the live ones, the scheduled one still to come and the unpublished one
    for limit in (1, 4, 30):
        assert [row.post.id for row in news.managed(limit)] == managed[:limit]


def _plans_of(call) -> list[tuple[str, str]]:
    """(statement, SQLite's query plan) of the statements `call` runs that read posts, with their own parameters."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"FROM post\b", statement):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    raw = db.session.connection().connection.dbapi_connection
    return [(statement, "\n".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)))
            for statement, parameters in seen]


def test_the_first_live_posts_are_read_in_index_order(app):
    """Each state comes from ix_post_live_order (ix_post_status_published for the feed) and the read stops
    after the rows shown: no scan of the post table, and no sort of every live post (`USE TEMP B-TREE` over the
    OR of both states, as before)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plans")
    _mixed_board()
    plans = _plans_of(lambda: (news.latest(5), news.board(news.BoardFilters(), 2, 5), news.feed_posts(limit=5),
                               news.managed(5)))
    page_plans = [plan for statement, plan in plans if not statement.startswith("SELECT count(")]
    assert len(plans) == 5 and len(page_plans) == 4, plans
    for plan in page_plans:
        assert "MULTI-INDEX OR" not in plan, plan
        assert "SCAN post" not in plan, plan
        searches = [line for line in plan.splitlines() if "SEARCH post USING" in line and "(status=?)" in line]
        assert len(searches) in (2, 3), plan  # one ordered read per state (live: two; the editors' tools: three)
        assert all("ix_post_live_order" in line or "ix_post_status_published" in line for line in searches), plan
        lines = plan.splitlines()  # a sort only of the few rows the two reads gave, at the end
        assert [line for line in lines if "TEMP B-TREE" in line] == ["USE TEMP B-TREE FOR ORDER BY"], plan
        assert lines[-1] == "USE TEMP B-TREE FOR ORDER BY", plan
