"""News board services: sanitising, the workflow, optimistic locking, scheduling, read counts, covers."""
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.errors import Conflict, Invalid, NotAllowed
from portal.extensions import db
from portal.models import AuditEvent, Post, PostStatus, PostVersion, utcnow
from portal.services import images, markdown
from portal.services import news as news_service
from portal.services.search import highlight

from ..news_helpers import image_file, make_post

# Payloads that must never survive rendering as anything executable or htmx-active.
XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](javascript:alert(1))",
    '<a href="https://x" hx-get="/logout" hx-trigger="load">x</a>',
    '<div hx-post="/news/1/publish" hx-trigger="load">x</div>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<form action="/logout" method="post"><button>x</button></form>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<object data=x></object><embed src=x>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '[x](https://ok.example "title" onclick="alert(1)")',
    "<<script>script>alert(1)<</script>/script>",
    '<details open ontoggle=alert(1)>',
    '<body onload=alert(1)>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
]
ALLOWED_TAGS = markdown.ALLOWED_TAGS


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML (escaped text is not one)."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_markdown_payloads_are_made_harmless(payload):
    parser = _Elements()
    parser.feed(markdown.render(payload))
    for tag, attrs in parser.found:
        assert tag in ALLOWED_TAGS, (payload, tag)
        for name, value in attrs.items():
            assert not name.startswith(("on", "hx-", "data-")), (payload, name)
            if name in ("href", "src"):
                scheme = (value or "").split(":", 1)[0].strip().lower()
                assert ":" not in (value or "") or scheme in ("http", "https", "mailto"), (payload, value)


@pytest.mark.parametrize("markdown_text, html_text, expected", [
    ("# 标题\n\n正文", "<h1>标题</h1><p>正文</p>", ["<h2>标题</h2>"]),
    ("# 一\n\n## 二\n\n### 三", "<h1>一</h1><h2>二</h2><h3>三</h3>", ["<h2>一</h2>", "<h3>二</h3>", "<h4>三</h4>"]),
    ("## 二\n\n### 三", "<h2>二</h2><h3>三</h3>", ["<h2>二</h2>", "<h3>三</h3>"]),
    ("# 一\n\n###### 六", "<h1>一</h1><h6>六</h6>", ["<h2>一</h2>", "<h4>六</h4>"]),
])
def test_markdown_and_pasted_html_headings_agree(markdown_text, html_text, expected):
    """`# 标题` was dropped to bare text while a pasted <h1> became an <h2>: both now shift to the same levels."""
    typed = markdown.render(markdown_text)
    pasted = markdown.render(markdown.from_html(html_text))
    assert typed == pasted
    assert re.findall(r"<h\d>[^<]*</h\d>", typed) == expected
    assert "<h1>" not in typed


def test_ordinary_markdown_survives():
    html = markdown.render("## 标题\n\n**加粗** 和 [链接](https://example.org)\n\n- 一\n- 二")
    assert "<h2>标题</h2>" in html and "<strong>加粗</strong>" in html
    assert 'href="https://example.org"' in html and "<li>一</li>" in html


def test_highlight_escapes_before_marking():
    marked = str(highlight('<script>支部</script> & 支部 "x"', ["支部"]))
    assert "<script>" not in marked
    assert marked.count("<mark>支部</mark>") == 2
    assert "&amp;" in marked and "&lt;script&gt;" in marked
    # A term never matches inside the entity that escaping produced.
    assert str(highlight("a & b", ["amp"])) == "a &amp; b"
    assert str(highlight("<b>", ["<b>"])) == "<mark>&lt;b&gt;</mark>"


def _input(**overrides):
    data = {"category": "branch_exemplar", "title": "党员先锋岗", "summary": "摘要", "body_md": "正文 **很好**"}
    data.update(overrides)
    return news_service.PostInput(**data)


def test_draft_submit_publish_keeps_versions_and_audits(app, secretary, editor):
    post = news_service.create_post(secretary, _input())
    assert post.status == PostStatus.DRAFT and post.version == 1
    assert "<strong>很好</strong>" in post.body_html
    news_service.update_post(secretary, post, _input(body_md="第二稿"), "1")
    news_service.submit_post(secretary, post)
    assert post.status == PostStatus.PENDING and post.submitted_at
    news_service.publish_post(editor, post)
    assert post.status == PostStatus.PUBLISHED and post.published_at
    versions = db.session.scalars(select(PostVersion.version).where(PostVersion.post_id == post.id)).all()
    assert sorted(versions) == [1, 2]
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == post.id,
                                                                      AuditEvent.object_type == "post")))
    assert {"post.create", "post.edit", "post.submit", "post.publish"} <= actions


def test_member_cannot_publish(app, member):
    post = make_post(member, status=PostStatus.PENDING)
    with pytest.raises(NotAllowed):
        news_service.publish_post(member, post)


def test_stale_version_is_a_conflict_and_nothing_is_overwritten(app, secretary, editor):
    post = news_service.create_post(secretary, _input(body_md="原稿"))
    news_service.update_post(editor, post, _input(body_md="编辑改过"), "1")
    with pytest.raises(Conflict) as error:
        news_service.update_post(secretary, post, _input(body_md="作者旧页面"), "1")
    assert error.value.current is post
    db.session.expire_all()
    assert db.session.get(Post, post.id).body_md == "编辑改过"
    assert db.session.get(Post, post.id).version == 2


def test_validation_messages_per_field(app, secretary, other_branch):
    with pytest.raises(Invalid) as error:
        news_service.create_post(secretary, _input(title="", body_md="", category="nonsense",
                                                   branch_id=str(other_branch.id)))
    assert {"title", "body_md", "category", "branch_id"} <= set(error.value.field_errors)


def test_return_needs_a_reason_and_author_can_edit_again(app, secretary, editor):
    post = make_post(secretary, status=PostStatus.PENDING)
    with pytest.raises(Invalid):
        news_service.return_post(editor, post, "  ")
    news_service.return_post(editor, post, "请补充数据")
    assert post.status == PostStatus.RETURNED and post.return_reason == "请补充数据"
    news_service.submit_post(secretary, post)
    assert post.status == PostStatus.PENDING and post.return_reason == ""


def test_wrong_state_is_a_conflict(app, secretary, editor):
    post = make_post(secretary, status=PostStatus.DRAFT)
    with pytest.raises(Conflict):
        news_service.publish_post(editor, post)
    with pytest.raises(Conflict):
        news_service.unpublish_post(editor, post)


def test_scheduled_post_goes_live_when_its_time_comes(app, secretary, editor):
    post = make_post(secretary, status=PostStatus.PENDING)
    with pytest.raises(Invalid):
        news_service.schedule_post(editor, post, "2001-01-01T10:00")
    with pytest.raises(Invalid):
        news_service.schedule_post(editor, post, "not a date")
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    news_service.schedule_post(editor, post, future)
    assert post.status == PostStatus.SCHEDULED
    board = news_service.board(news_service.BoardFilters())
    assert post.id not in [r.post.id for r in board.rows]
    # Time passes: the board shows it without any job promoting it.
    post.publish_at = post.published_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    board = news_service.board(news_service.BoardFilters())
    assert post.id in [r.post.id for r in board.rows]
    assert news_service.is_live(post)


def test_board_orders_pinned_first_then_newest_and_pages(app, secretary):
    old_pinned = make_post(secretary, title="置顶", pinned=True, published_ago_days=30)
    posts = [make_post(secretary, title=f"第{i}篇", published_ago_days=i) for i in range(1, 13)]
    make_post(secretary, title="草稿", status=PostStatus.DRAFT)
    first = news_service.board(news_service.BoardFilters(), 1, per_page=5)
    assert first.rows[0].post.id == old_pinned.id
    assert [r.post.id for r in first.rows[1:]] == [p.id for p in posts[:4]]
    assert first.has_more
    last = news_service.board(news_service.BoardFilters(), 3, per_page=5)
    assert not last.has_more and len(last.rows) == 3
    assert "草稿" not in [r.post.title for r in first.rows + last.rows]


def test_read_count_counts_live_posts_only(app, secretary, member):
    live = make_post(secretary)
    draft = make_post(secretary, status=PostStatus.DRAFT)
    news_service.read_post(live, member)
    news_service.read_post(db.session.get(Post, live.id), member)  # the same person again: counted once
    news_service.read_post(db.session.get(Post, live.id), secretary)
    news_service.read_post(draft, member)
    db.session.expire_all()
    assert db.session.get(Post, live.id).read_count == 2
    assert db.session.get(Post, draft.id).read_count == 0


def test_cover_is_reencoded_with_a_thumbnail(app, secretary, upload_root):
    post = news_service.create_post(secretary, _input(), image_file(size=(2400, 1800), fmt="JPEG", name="a.jpg"))
    assert post.cover_stored.endswith(".jpg") and post.cover_thumb_stored.endswith(".jpg")
    with Image.open(upload_root / images.COVER_KIND / post.cover_stored) as cover:
        assert max(cover.size) <= 1600
    with Image.open(upload_root / images.COVER_KIND / post.cover_thumb_stored) as thumb:
        assert thumb.size == images.THUMB_SIZE


def test_not_an_image_is_refused(app, secretary):
    import io

    fake = FileStorage(stream=io.BytesIO(b"%PDF-1.4 not a picture" * 10), filename="cover.png")
    with pytest.raises(Invalid) as error:
        news_service.create_post(secretary, _input(), fake)
    assert "cover" in error.value.field_errors
    # A truncated PNG: right magic bytes, unreadable picture.
    head = image_file().stream.read()[:60]
    with pytest.raises(Invalid):
        news_service.create_post(secretary, _input(), FileStorage(stream=io.BytesIO(head), filename="x.png"))
    assert db.session.scalar(select(Post.id)) is None
