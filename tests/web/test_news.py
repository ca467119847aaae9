"""The news board through HTTP: every permission and status code, the workflow, the board, the feed."""
import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Post, PostCategory, PostStatus, PostVersion, utcnow

from ..news_helpers import POST_FORM, image_bytes, make_post

ATOM = "{http://www.w3.org/2005/Atom}"


def _as(app, user):
    client = app.test_client()
    client.login(user)
    return client


def _ids(response, prefix="post"):
    return [int(i) for i in re.findall(rf'id="{prefix}-(\d+)"', response.get_data(as_text=True))]


# --- who may do what ----------------------------------------------------------------------------

def test_board_needs_login_but_the_feed_does_not(client, secretary):
    make_post(secretary, title="公开的文章")
    assert client.get("/news").status_code in (302, 401)
    feed = client.get("/news/feed.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    assert "公开的文章" in feed.get_data(as_text=True)


@pytest.mark.parametrize("who", ["leader", "admin"])
def test_district_roles_cannot_write_posts(app, request, who):
    client = _as(app, request.getfixturevalue(who))
    assert client.get("/news/new").status_code == 403
    assert client.form_post("/news", POST_FORM).status_code == 403


@pytest.mark.parametrize("who", ["member", "secretary", "leader"])
def test_only_editors_moderate(app, request, secretary, who):
    post = make_post(secretary, status=PostStatus.PENDING)
    client = _as(app, request.getfixturevalue(who))
    assert client.get("/news/queue").status_code == 403
    for action in ("publish", "unpublish", "flag", "return", "schedule"):
        assert client.form_post(f"/news/{post.id}/{action}", {"reason": "x"}).status_code == 403
    assert client.get(f"/news/{post.id}/history").status_code == 403
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == PostStatus.PENDING


def test_unpublished_posts_are_private_to_author_and_editors(app, secretary, member, other_secretary, editor):
    draft = make_post(secretary, status=PostStatus.DRAFT, title="未发布草稿")
    assert _as(app, member).get(f"/news/{draft.id}").status_code == 403
    assert _as(app, other_secretary).get(f"/news/{draft.id}").status_code == 403
    assert _as(app, secretary).get(f"/news/{draft.id}").status_code == 200
    assert _as(app, editor).get(f"/news/{draft.id}").status_code == 200
    assert _as(app, member).get("/news/999999").status_code == 404


def test_author_edits_only_while_draft_or_returned(app, secretary, member, editor):
    post = make_post(secretary, status=PostStatus.PENDING)
    author = _as(app, secretary)
    assert author.get(f"/news/{post.id}/edit").status_code == 403
    assert author.form_post(f"/news/{post.id}/submit").status_code == 403
    assert _as(app, member).get(f"/news/{post.id}/edit").status_code == 403
    assert _as(app, editor).get(f"/news/{post.id}/edit").status_code == 200


# --- the workflow ---------------------------------------------------------------------------------

def test_secretary_drafts_submits_editor_publishes(app, secretary, editor, member):
    author = _as(app, secretary)
    created = author.form_post("/news", POST_FORM)
    assert created.status_code == 303
    post = db.session.scalar(select(Post).where(Post.title == POST_FORM["title"]))
    assert post.status == PostStatus.DRAFT and post.author_id == secretary.id
    assert author.form_post(f"/news/{post.id}/submit").status_code == 303
    queue = _as(app, editor).get("/news/queue")
    assert f'id="post-{post.id}"' in queue.get_data(as_text=True)
    assert _as(app, editor).form_post(f"/news/{post.id}/publish").status_code == 303
    board = _as(app, member).get("/news")
    assert post.id in _ids(board)


def test_invalid_post_rerenders_form_with_messages(app, secretary):
    client = _as(app, secretary)
    response = client.form_post("/news", {"category": "", "title": "", "body_md": ""})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in text and "field__error" in text
    fragment = client.form_post("/news", {"title": "x"}, htmx=True)
    assert fragment.status_code == 422 and "<html" not in fragment.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Post.id))) == 0


def test_member_cannot_publish_own_post(app, member):
    client = _as(app, member)
    client.form_post("/news", POST_FORM)
    post = db.session.scalar(select(Post))
    client.form_post(f"/news/{post.id}/submit")
    assert client.form_post(f"/news/{post.id}/publish").status_code == 403
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == PostStatus.PENDING


def test_stale_edit_is_409_with_current_text(app, secretary, editor):
    author = _as(app, secretary)
    author.form_post("/news", POST_FORM)
    post = db.session.scalar(select(Post))
    ed = _as(app, editor)
    saved = ed.form_post(f"/news/{post.id}/edit", {**POST_FORM, "body_md": "编辑的新版本", "version": "1"})
    assert saved.status_code == 303
    response = author.form_post(f"/news/{post.id}/edit", {**POST_FORM, "body_md": "作者的旧版本", "version": "1"})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "编辑的新版本" in text and "作者的旧版本" in text  # current text shown, the author's kept
    assert 'name="version" value="2"' in text
    db.session.expire_all()
    assert db.session.get(Post, post.id).body_md == "编辑的新版本"
    history = ed.get(f"/news/{post.id}/history")
    assert history.status_code == 200 and "编辑的新版本" in history.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PostVersion.id))) == 2


def test_editor_returns_with_reason_then_author_sees_it(app, secretary, editor):
    post = make_post(secretary, status=PostStatus.PENDING)
    ed = _as(app, editor)
    assert ed.form_post(f"/news/{post.id}/return", {"reason": ""}).status_code == 422
    assert ed.form_post(f"/news/{post.id}/return", {"reason": "请补充照片"}).status_code == 303
    page = _as(app, secretary).get(f"/news/{post.id}")
    assert "请补充照片" in page.get_data(as_text=True)


def test_wrong_state_action_is_409(app, secretary, editor):
    post = make_post(secretary, status=PostStatus.DRAFT)
    assert _as(app, editor).form_post(f"/news/{post.id}/publish").status_code == 409


def test_schedule_pin_feature_unpublish(app, secretary, editor, member):
    post = make_post(secretary, status=PostStatus.PENDING, title="定时发布")
    ed = _as(app, editor)
    assert ed.form_post(f"/news/{post.id}/schedule", {"publish_at": "2000-01-01T08:00"}).status_code == 422
    later = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert ed.form_post(f"/news/{post.id}/schedule", {"publish_at": later}).status_code == 303
    reader = _as(app, member)
    assert post.id not in _ids(reader.get("/news"))
    assert reader.get(f"/news/{post.id}").status_code == 403
    assert "定时发布" not in reader.get("/news/feed.atom").get_data(as_text=True)
    db.session.get(Post, post.id).publish_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert post.id in _ids(reader.get("/news"))
    assert ed.form_post(f"/news/{post.id}/flag", {"flag": "pinned", "value": "1"}).status_code == 303
    assert ed.form_post(f"/news/{post.id}/flag", {"flag": "featured", "value": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Post, post.id).pinned and db.session.get(Post, post.id).featured
    assert ed.form_post(f"/news/{post.id}/unpublish").status_code == 303
    assert post.id not in _ids(reader.get("/news"))


# --- the board ----------------------------------------------------------------------------------

def test_board_filters_and_pagination_with_and_without_htmx(app, secretary, other_secretary, member):
    mine = [make_post(secretary, title=f"本支部{i}", published_ago_days=i + 1) for i in range(12)]
    theirs = make_post(other_secretary, title="别的支部", category="bulletin", published_ago_days=30)
    client = _as(app, member)
    first = client.get("/news")
    assert _ids(first) == [p.id for p in mine[:10]]
    assert "/news?page=2" in first.get_data(as_text=True)
    second = client.get("/news?page=2")  # plain pagination, no JavaScript
    assert _ids(second) == [p.id for p in mine[10:]] + [theirs.id]
    more = client.get("/news?page=2&more=1", headers={"HX-Request": "true"})
    assert "<html" not in more.get_data(as_text=True) and _ids(more) == _ids(second)
    assert "HX-Request" in more.headers.get("Vary", "")
    assert _ids(client.get(f"/news?branch={other_secretary.branch_id}")) == [theirs.id]
    assert _ids(client.get("/news?category=bulletin")) == [theirs.id]
    assert client.get("/news?year=1999").status_code == 200 and _ids(client.get("/news?year=1999")) == []
    assert client.get("/news?category=<script>&page=abc").status_code == 200


def test_post_page_counts_reads_and_isolates_the_body(app, secretary, member):
    post = make_post(secretary, body="## 标题\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))")
    client = _as(app, member)
    text = client.get(f"/news/{post.id}").get_data(as_text=True)
    client.get(f"/news/{post.id}")
    db.session.expire_all()
    assert db.session.get(Post, post.id).read_count == 1  # a person's repeated reads count once (issue 12)
    assert "<script>alert" not in text, text[text.find("<script>alert") - 200:text.find("<script>alert") + 50]
    assert 'href="javascript:' not in text and "&lt;script&gt;alert(1)" in text
    assert re.search(r'<div class="news-post__body" hx-ignore>', text)


def test_home_links_latest_exemplars(app, secretary, member):
    post = make_post(secretary, title="首页可见")
    make_post(secretary, title="首页不可见", status=PostStatus.PENDING)
    text = _as(app, member).get("/").get_data(as_text=True)
    assert f'href="/news/{post.id}"' in text and "首页不可见" not in text


# --- covers -----------------------------------------------------------------------------------------

def test_cover_upload_and_bad_image(app, secretary, member):
    client = _as(app, secretary)
    stream, name = image_bytes(size=(1200, 800), fmt="JPEG", name="封面.jpg")
    assert client.form_post("/news", {**POST_FORM, "cover": (stream, name)},
                            content_type="multipart/form-data").status_code == 303
    post = db.session.scalar(select(Post))
    cover = client.get(f"/news/{post.id}/cover")
    thumb = client.get(f"/news/{post.id}/cover/thumb")
    assert cover.status_code == 200 and cover.mimetype == "image/jpeg" and thumb.status_code == 200
    assert _as(app, member).get(f"/news/{post.id}/cover").status_code == 403  # still a draft
    import io

    bad = client.form_post("/news", {**POST_FORM, "cover": (io.BytesIO(b"GIF89a" + b"\x00" * 50), "x.gif")},
                           content_type="multipart/form-data")
    assert bad.status_code == 422 and "cover-error" in bad.get_data(as_text=True)
    big = client.form_post("/news", {**POST_FORM, "cover": (io.BytesIO(b"\xff\xd8\xff" + b"0" * (11 << 20)), "b.jpg")},
                           content_type="multipart/form-data")
    assert big.status_code == 413
    assert db.session.scalar(select(func.count(Post.id))) == 1


# --- the feed ---------------------------------------------------------------------------------

def test_feed_is_valid_atom_with_published_posts_only(client, secretary):
    live = make_post(secretary, title='标题 <b>&"', body="<script>x</script>正文")
    make_post(secretary, title="草稿不出现", status=PostStatus.DRAFT)
    bulletin = make_post(secretary, title="通报", category="bulletin")
    response = client.get("/news/feed.atom")
    root = ET.fromstring(response.get_data())
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert set(titles) == {live.title, bulletin.title}
    content = root.find(f"{ATOM}entry/{ATOM}content")
    assert content.get("type") == "html"
    assert all("<script" not in (e.findtext(f"{ATOM}content") or "") for e in root.findall(f"{ATOM}entry"))
    per_category = ET.fromstring(client.get("/news/feed.atom?category=bulletin").get_data())
    assert [e.findtext(f"{ATOM}title") for e in per_category.findall(f"{ATOM}entry")] == ["通报"]
    assert client.get("/news/feed.atom?category=nope").status_code == 404


def test_editor_edit_keeps_the_member_the_post_is_about(app, secretary, member, editor):
    author = _as(app, secretary)
    author.form_post("/news", {**POST_FORM, "member_id": str(member.id)})
    post = db.session.scalar(select(Post))
    assert post.member_id == member.id and post.branch_id == secretary.branch_id
    ed = _as(app, editor)
    form = ed.get(f"/news/{post.id}/edit").get_data(as_text=True)
    assert f'<option value="{member.id}" selected>' in form
    assert ed.form_post(f"/news/{post.id}/edit", {**POST_FORM, "title": "编辑改了标题", "version": "1",
                                                  "branch_id": str(post.branch_id),
                                                  "member_id": str(member.id)}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Post, post.id).member_id == member.id


def test_board_with_htmx_but_without_more_is_a_whole_page(app, member, secretary):
    make_post(secretary)
    post = make_post(secretary, title="通知：党课安排", category=PostCategory.BULLETIN)
    response = _as(app, member).get("/news?category=bulletin", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in text
    assert f'id="post-{post.id}"' in text  # the filter applied: the bulletin is listed, the exemplar not
    assert re.findall(r'id="post-(\d+)"', text) == [str(post.id)]


def test_the_publicity_section_publishes_its_own_posts_directly(client, editor, secretary):
    """Issue 18: an editor's own draft needs no review by itself; another author's draft still goes through
    submission first."""
    from portal.models import PostStatus

    from ..news_helpers import make_post

    own = make_post(editor, title="宣传科稿件", status=PostStatus.DRAFT)
    theirs = make_post(secretary, title="支部草稿", status=PostStatus.DRAFT)
    client.login(editor)
    assert "立即发布" in client.get(f"/news/{own.id}").get_data(as_text=True)
    assert "立即发布" not in client.get(f"/news/{theirs.id}").get_data(as_text=True)
    assert client.form_post(f"/news/{own.id}/publish").status_code == 303
    assert client.form_post(f"/news/{theirs.id}/publish").status_code == 409
    db.session.expire_all()
    assert db.session.get(Post, own.id).status == PostStatus.PUBLISHED
    assert db.session.get(Post, theirs.id).status == PostStatus.DRAFT
