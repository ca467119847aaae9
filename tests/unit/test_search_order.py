"""News search at size (issue #14): the matching posts read in the board's order one live state at a time from
ix_post_live_order and stopped after the page, giving the same posts, in the same order and pages, as the single
query that matched every live post and sorted them all."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import Markup, escape
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
    make_post(editor, title="PDF材料汇编", body="ｐｄｆ，第２篇。")
    for days in (-1, -2, 3):
        make_post(editor, title=f"定时支部志愿服务{days}", status=PostStatus.SCHEDULED,
                  publish_at=now + timedelta(days=days), pinned=days == -2)
    for status in (PostStatus.DRAFT, PostStatus.PENDING, PostStatus.UNPUBLISHED):
        make_post(editor, title=f"支部志愿服务{status}", status=status)
    db.session.commit()


@pytest.mark.parametrize("term, uncased", [("支部", True), ("2012", True), ("第3次", True), ("%_", True),
                                           ("pdf", False), ("PDF材料", False), ("ß", False), ("é", False)])
def test_terms_without_cased_letters(term, uncased):
    """PostgreSQL matches such a term with LIKE, which finds what ILIKE finds for it."""
    assert search._uncased(term) is uncased


def _old_search(terms):
    """The ids the one query before issue #14 found, in its order: every live post holding every term, sorted."""
    stmt = select(Post.id).where(news.live_clause(),
                                 *(Post.search_text.ilike(search._like_pattern(t), escape="\\") for t in terms))
    return list(db.session.scalars(stmt.order_by(*news.board_order(Post))))


@pytest.mark.parametrize("query", ["支部", "师", "志愿服务", "支部 党员", "志愿服务 示范岗 师德", "2026", "２０２６",
                                   "示范岗 第1", "pdf材料", "Pd", "材料", "PDF 第2", "不存在"])
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


def _highlight_char_by_char(value: str, terms: list[str]) -> str:
    """highlight() as it was before issue #14: every character folded on its own, for any text."""
    folded, origin = [], []
    for index, char in enumerate(value):
        for piece in search_form(char):
            folded.append(piece)
            origin.append(index)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    out, done = Markup(""), 0
    for match in pattern.finditer("".join(folded)):
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        if start < done:
            continue
        out += escape(value[done:start]) + Markup("<mark>{}</mark>").format(value[start:end])
        done = end
    return out + escape(value[done:])


@pytest.mark.parametrize("value", [
    "支部党员示范岗，支部", "２０１２年度创先争优 2012", "第３次推进会", "ＰＤＦ材料 pdf", "<b>支部</b> & 'x' \"y\"",
    "café cafe\u0301 ﬁle", "ｶﾞｲﾄﾞ ガイド", "㍻ 平成", "Brand BRAND brand", "", "支部支部支部", "党支部部",
])
@pytest.mark.parametrize("query", ["支部", "2012", "pdf 材料", "cafe", "café", "file", "ガイド", "平成", "brand",
                                   "&", "b", "支部 部"])
def test_highlight_marks_what_folding_each_character_marked(value, query):
    """Text NFKC leaves as it is is read as its own folded form; other text is still folded character by character:
    the same marks and escaping as before either way (issue #14)."""
    terms = search.terms_of(query)
    assert str(search.highlight(value, terms)) == str(_highlight_char_by_char(value, terms))


@pytest.mark.parametrize("query", ["支部", "党员 支部", "示范岗", "师德 课堂", "无"])
@pytest.mark.parametrize("summary", ["", "支部、党员", "党员", "支部、党员、示范岗"])
def test_snippet_reads_the_body_only_when_the_summary_lacks_a_term(app, query, summary):
    body_md = "## 第一篇\n\n" + "，".join(WORDS * 6) + "。师德，课堂。"
    post = make_post(None, title="标题", summary=summary, body=body_md)
    terms = search.terms_of(query)
    body = search.plain_text(post)
    lowered, folded_summary = search_form(body).lower(), search_form(summary).lower()
    expected = summary or body[:search.SNIPPET]
    for term in terms:  # the rule as it was: a window around the first term the body has and the summary lacks
        at = lowered.find(term.lower())
        if at >= 0 and term.lower() not in folded_summary:
            start = max(0, at - search.SNIPPET // 2)
            expected = ("…" if start else "") + body[start:start + search.SNIPPET] + (
                "…" if start + search.SNIPPET < len(body) else "")
            break
    assert search.snippet(post, terms) == expected
