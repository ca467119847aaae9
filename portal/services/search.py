"""Searching the news board in Chinese.

Both sides are width-folded (NFKC): the index holds `Post.search_text` (title, summary and body in NFKC,
migration i12h_01) and the query is folded the same way, so ２０１２ finds 2012 and 第3次 finds 第３次.
SQLite: an FTS5 table with the trigram tokenizer answers terms of three or more characters; shorter
terms (支部, 党) have no trigram, so they fall back to LIKE. PostgreSQL: ILIKE (LIKE for a term without cased
letters) on the column that the pg_trgm GIN index covers (3+ characters use the index; shorter ones still match, by
scanning). Every term must match. The matching posts are read in the board's order from its index and the reading
stops after the page (issue #14): a common term costs what the page shows, a rare one what the live posts hold.
Results highlight the terms, escaping first.
"""
from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

import nh3
from markupsafe import Markup, escape
from sqlalchemy import select, text

from ..extensions import db
from ..models import Branch, Post
from ..models.news import search_form
from .news import _first_live, board_order

MAX_TERMS = 5
MAX_QUERY = 100
SNIPPET = 80
_MARK, _MARK_END = Markup("<mark>"), Markup("</mark>")


def terms_of(query: str) -> list[str]:
    """The search terms of `query`: its first MAX_QUERY characters folded (search_form) and split at whitespace
    (an ideographic space too), a repeated term (ignoring case) once, at most MAX_TERMS."""
    words = search_form((query or "")[:MAX_QUERY]).split()
    seen: list[str] = []
    for word in words:
        if word.lower() not in (w.lower() for w in seen):
            seen.append(word)
    return seen[:MAX_TERMS]


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


@dataclass
class Hit:
    post: Post
    branch_name: str
    title: Markup
    snippet: Markup


@dataclass
class Results:
    query: str
    terms: list[str]
    hits: list[Hit]
    has_more: bool
    page: int
    cut: bool = False  # the query was longer than MAX_QUERY and only its start was searched


def search(query: str, page: int = 1, per_page: int = 20) -> Results:
    """Live posts matching every term of `query` (at most MAX_TERMS terms from its first MAX_QUERY
    characters; a longer query is cut and `cut` says so), `per_page` per page (`page` within 1..1000), in the
    board's order: pinned first, then newest (a scheduled post's moment), then the newer id (news.board_order).
    `has_more` says whether a later page has posts. Each hit's title and snippet are highlighted markup."""
    query = query or ""
    cut = len(query) > MAX_QUERY
    query = query[:MAX_QUERY]
    terms = terms_of(query)
    page = max(1, min(page, 1000))
    if not terms:
        return Results(query=query, terms=[], hits=[], has_more=False, page=1, cut=cut)
    offset = (page - 1) * per_page
    # The first matching posts in the board's order, read from ix_post_live_order one live state at a time and
    # stopped after the rows this page needs (news._first_live); the outer query sorts only those. Matching every
    # live post and sorting them all cost 20-30 ms at 5,000 posts when a term was common (issue #14).
    live = _first_live(_matching(terms), first=offset + per_page + 1)
    stmt = (select(Post, Branch.name).join(live, live.c.id == Post.id).outerjoin(Branch, Branch.id == Post.branch_id)
            .order_by(*board_order(live.c)).offset(offset).limit(per_page + 1))
    rows = list(db.session.execute(stmt))
    hits = [Hit(post=p, branch_name=b or "", title=highlight(p.title, terms),
                snippet=highlight(snippet(p, terms), terms)) for p, b in rows[:per_page]]
    return Results(query=query, terms=terms, hits=hits, has_more=len(rows) > per_page, page=page, cut=cut)


def _matching(terms: list[str]) -> list:
    """SQL conditions on Post: every term is in its search text. SQLite: one FTS5 MATCH of the terms of three or
    more characters (the trigram index), LIKE for shorter ones; PostgreSQL: ILIKE, which the pg_trgm index serves
    for three or more characters, or LIKE for a term without cased letters (Chinese, digits): the same rows, since
    lowercasing never makes such a character out of another, for about 40 % less where no index serves (a short
    term scans the search texts)."""
    if db.engine.dialect.name != "sqlite":
        return [Post.search_text.like(_like_pattern(t), escape="\\") if _uncased(t)
                else Post.search_text.ilike(_like_pattern(t), escape="\\") for t in terms]
    conditions = []
    long_terms = [t for t in terms if len(t) >= 3]
    if long_terms:
        match = " AND ".join(_fts_phrase(t) for t in long_terms)
        conditions.append(Post.id.in_(select(text("rowid")).select_from(text("post_fts"))
                                      .where(text("post_fts MATCH :match").bindparams(match=match))))
    conditions.extend(Post.search_text.like(_like_pattern(t), escape="\\") for t in terms if len(t) < 3)
    return conditions


def _uncased(term: str) -> bool:
    """No character of `term` has a lower or upper case form other than itself."""
    return all(char.lower() == char == char.upper() for char in term)


def plain_text(post: Post) -> str:
    """The text of the post's body as a reader sees it: its sanitised HTML without tags or entities, whitespace
    collapsed to single spaces."""
    return " ".join(html.unescape(nh3.clean(post.body_html or "", tags=set())).split())


def snippet(post: Post, terms: list[str]) -> str:
    """The summary, or a window of the body around the first term found that the summary lacks (`terms` as
    `terms_of` gives them). A summary that holds every term is the snippet as it stands, without reading the body's
    text (nh3 over the body's HTML: about a tenth of the page's CPU, issue #14)."""
    summary = search_form(post.summary).lower()
    if post.summary and all(term.lower() in summary for term in terms):
        return post.summary
    body = plain_text(post)
    lowered = search_form(body).lower()
    for term in terms:
        at = lowered.find(term.lower())
        if at >= 0 and term.lower() not in summary:
            start = max(0, at - SNIPPET // 2)
            piece = body[start:start + SNIPPET]
            return ("…" if start else "") + piece + ("…" if start + SNIPPET < len(body) else "")
    return post.summary or body[:SNIPPET]


@functools.lru_cache(maxsize=64)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern:
    """Any of `terms`, the longest first, ignoring case."""
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)


def highlight(value: str, terms: list[str]) -> Markup:
    """`value` escaped, with the (folded) terms found in its folded text wrapped in <mark>: user text never
    becomes markup, a term can never match inside an entity such as &amp;, and ２０１２ is marked for the query
    2012. `terms` as `terms_of` gives them (already folded).

    Text that NFKC leaves as it is (nearly all of it) is its own folded form, character by character as well, so
    only other text is folded one character at a time, remembering where each folded character came from."""
    value = value or ""
    if not terms:
        return escape(value)
    origin = None
    folded = value
    if not unicodedata.is_normalized("NFKC", value):
        pieces, origin = [], []
        for index, char in enumerate(value):
            for piece in search_form(char):
                pieces.append(piece)
                origin.append(index)
        folded = "".join(pieces)
    out, done = [], 0
    for match in _terms_pattern(tuple(terms)).finditer(folded):
        if match.end() == match.start():
            continue
        start, end = match.span() if origin is None else (origin[match.start()], origin[match.end() - 1] + 1)
        if start < done:
            continue
        out += (escape(value[done:start]), _MARK, escape(value[start:end]), _MARK_END)
        done = end
    out.append(escape(value[done:]))
    return Markup().join(out)
