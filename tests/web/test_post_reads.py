"""Reading a post: a person's repeated reads count once, and a read changes nothing in the Atom feed."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Post, PostRead, utcnow

from ..news_helpers import make_post


def _updated(feed: str, post_id: int) -> str:
    entry = feed[feed.index(f"/news/{post_id}"):]
    return re.search(r"<updated>([^<]+)</updated>", entry).group(1)


def test_repeated_reads_count_once_and_leave_the_feed_alone(app, secretary, member, other_member):
    post = make_post(secretary, title="只读一次")
    post.updated_at = utcnow() - timedelta(days=3)
    db.session.commit()
    before_updated = db.session.get(Post, post.id).updated_at
    anonymous = app.test_client()
    feed_before = anonymous.get("/news/feed.atom").get_data(as_text=True)
    reader = app.test_client()
    reader.login(member)
    for _ in range(3):
        assert reader.get(f"/news/{post.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Post, post.id).read_count == 1
    other = app.test_client()
    other.login(other_member)
    assert other.get(f"/news/{post.id}").status_code == 200
    db.session.expire_all()
    stored = db.session.get(Post, post.id)
    assert stored.read_count == 2
    assert stored.updated_at == before_updated
    assert db.session.scalar(select(func.count()).select_from(PostRead)) == 2
    feed_after = anonymous.get("/news/feed.atom").get_data(as_text=True)
    assert _updated(feed_after, post.id) == _updated(feed_before, post.id)


def test_a_draft_read_by_its_author_counts_nothing(app, secretary):
    from portal.models import PostStatus

    post = make_post(secretary, title="草稿", status=PostStatus.DRAFT)
    client = app.test_client()
    client.login(secretary)
    assert client.get(f"/news/{post.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Post, post.id).read_count == 0
    assert db.session.scalar(select(func.count()).select_from(PostRead)) == 0
