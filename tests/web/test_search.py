"""Search in Chinese on either database: one, two and many characters, highlighting, only live posts."""
import re

import pytest

from portal.models import PostStatus

from ..news_helpers import make_post


def _ids(response):
    return [int(i) for i in re.findall(r'id="post-(\d+)"', response.get_data(as_text=True))]


@pytest.fixture
def posts(app, secretary):
    return {
        "brand": make_post(secretary, title="“红烛先锋”党员示范岗", body="支部以党员示范岗为抓手，推动师德建设。"),
        "teacher": make_post(secretary, title="扎根课堂二十年的青年教师导师", body="她带出的八位青年教师已成骨干。",
                             summary="青年教师的引路人"),
        "english": make_post(secretary, title="Brand building in 100% practice", body="Learning_by_doing, 50%."),
        "draft": make_post(secretary, title="支部草稿不应被搜到", status=PostStatus.DRAFT),
    }


@pytest.fixture
def reader(app, member):
    client = app.test_client()
    client.login(member)
    return client


@pytest.mark.parametrize("query, expected", [
    ("师", {"brand", "teacher"}),                 # one character
    ("支部", {"brand"}),                          # two characters, body only
    ("教师", {"teacher"}),                        # two characters, title and body
    ("示范岗", {"brand"}),                        # three: the trigram index
    ("青年教师导师", {"teacher"}),                # many
    ("党员 师德", {"brand"}),                     # every term must match
    ("青年 示范", set()),
    ("brand", {"english"}),                       # case-insensitive latin
    ("100%", {"english"}),                        # LIKE wildcards are literal
    ("g_b", {"english"}),
    ("50%", {"english"}),
    ('"引号', set()),                              # FTS syntax characters are literal too
    ("不存在的词语", set()),
])
def test_search_finds_chinese_of_any_length(reader, posts, query, expected):
    response = reader.get("/news/search", query_string={"q": query})
    assert response.status_code == 200
    assert set(_ids(response)) == {posts[k].id for k in expected}


def test_search_ignores_unpublished_posts(reader, posts):
    assert _ids(reader.get("/news/search?q=草稿")) == []
    # The draft's title has 支部 too: only the published post that has it is found.
    assert _ids(reader.get("/news/search?q=支部")) == [posts["brand"].id]


def test_matches_are_highlighted_and_escaped(app, secretary, reader):
    make_post(secretary, title="<img src=x onerror=alert(1)>支部", body="正文")
    text = reader.get("/news/search?q=支部").get_data(as_text=True)
    assert "<mark>支部</mark>" in text
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_search_fragment_for_htmx_and_empty_query(reader, posts):
    fragment = reader.get("/news/search?q=支部", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and 'id="search-results"' in fragment.get_data(as_text=True)
    empty = reader.get("/news/search?q=")
    assert empty.status_code == 200 and _ids(empty) == []
    assert "一两个汉字即可" in empty.get_data(as_text=True)
    # An over-long query is cut to the field's length, not an error: it finds what its first words find.
    long = reader.get("/news/search?q=" + "长" * 500)
    assert long.status_code == 200 and _ids(long) == []
    assert _ids(reader.get("/news/search?q=支部" + " " * 200 + "无关")) == [posts["brand"].id]


def test_search_index_follows_edits(app, secretary, reader, posts):
    from portal.extensions import db

    post = posts["brand"]
    post.body_md = "全新的内容：银杏树下的课堂"
    post.title = "改过的标题"
    db.session.commit()
    assert _ids(reader.get("/news/search?q=银杏树下")) == [post.id]
    assert _ids(reader.get("/news/search?q=示范岗")) == []


def test_search_needs_login(client):
    assert client.get("/news/search?q=支部").status_code in (302, 401)


@pytest.mark.parametrize("stored, query", [
    ("２０１２年度创先争优", "2012"),
    ("2012年度创先争优", "２０１２"),
    ("第3次推进会", "第３次"),
    ("第３次推进会", "第3次"),
    ("ＰＤＦ材料", "pdf"),
    ("年终总结", "年终\u3000总结"),  # an ideographic space separates terms like a space
])
def test_search_folds_full_and_half_width(reader, secretary, stored, query):
    make_post(secretary, title=stored, body="正文")
    response = reader.get("/news/search", query_string={"q": query})
    assert len(_ids(response)) == 1, (stored, query)
    assert "<mark>" in response.get_data(as_text=True)


def test_editing_a_post_refolds_its_search_text(app, reader, secretary):
    from portal.extensions import db

    post = make_post(secretary, title="普通标题", body="正文")
    post.title = "第３次推进会"
    db.session.commit()
    assert _ids(reader.get("/news/search", query_string={"q": "第3次"})) == [post.id]


def test_search_follows_unpublishing_deleting_and_scheduling(app, secretary, reader, posts):
    """What search finds follows the post's state and existence: the FTS index and the live states agree after
    each change (two characters through LIKE, three or more through the index)."""
    from datetime import timedelta

    from portal.extensions import db
    from portal.models import utcnow

    post = posts["brand"]
    for query in ("支部", "示范岗"):
        assert _ids(reader.get("/news/search", query_string={"q": query})) == [post.id]
    post.status = PostStatus.UNPUBLISHED
    db.session.commit()
    for query in ("支部", "示范岗"):
        assert _ids(reader.get("/news/search", query_string={"q": query})) == []
    post.status, post.publish_at = PostStatus.SCHEDULED, utcnow() + timedelta(hours=1)
    db.session.commit()
    assert _ids(reader.get("/news/search", query_string={"q": "示范岗"})) == []
    post.publish_at = utcnow() - timedelta(minutes=1)  # its time has come: live without a job
    db.session.commit()
    assert _ids(reader.get("/news/search", query_string={"q": "示范岗"})) == [post.id]
    db.session.delete(post)
    db.session.commit()
    for query in ("支部", "示范岗", "党员示范"):
        assert _ids(reader.get("/news/search", query_string={"q": query})) == []
    later = make_post(secretary, title="新的党员示范岗", body="支部")
    assert _ids(reader.get("/news/search", query_string={"q": "党员示范 支部"})) == [later.id]
