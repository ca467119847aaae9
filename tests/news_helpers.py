"""Helpers for the news board and commendation tests: posts and nominations in a given state."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from werkzeug.datastructures import FileStorage

from portal.extensions import db
from portal.models import Nomination, NominationStatus, Post, PostCategory, PostStatus, utcnow
from portal.services import markdown
from portal.services.campaign import current_year


def make_post(author, *, title="支部风采", body="## 先锋\n\n党员示范岗。", status=PostStatus.PUBLISHED,
              category=PostCategory.BRANCH_EXEMPLAR, summary="", pinned=False, published_ago_days=1,
              branch_id=None, publish_at=None) -> Post:
    now = utcnow()
    published = now - timedelta(days=published_ago_days) if status == PostStatus.PUBLISHED else publish_at
    year = current_year()
    post = Post(category=category, title=title, summary=summary, body_md=body, body_html=markdown.render(body),
                author_id=author.id if author else None,
                branch_id=branch_id if branch_id is not None else getattr(author, "branch_id", None),
                status=status, pinned=pinned, published_at=published, publish_at=publish_at,
                submitted_at=now - timedelta(days=published_ago_days), year_id=year.id if year else None)
    db.session.add(post)
    db.session.commit()
    return post


def make_nomination(secretary, *, member=None, status=NominationStatus.SUBMITTED, notice_days_left=None,
                    deeds="扎根教学一线，带头服务师生。") -> Nomination:
    now = utcnow()
    nomination = Nomination(year_id=current_year().id, branch_id=secretary.branch_id,
                            member_id=member.id if member else None, nominated_by_id=secretary.id,
                            deeds=deeds, status=status)
    if notice_days_left is not None:
        nomination.notice_starts_at = now - timedelta(days=7)
        nomination.notice_ends_at = now + timedelta(days=notice_days_left)
    db.session.add(nomination)
    db.session.commit()
    return nomination


def image_file(name="cover.png", size=(800, 600), fmt="PNG", mode="RGB") -> FileStorage:
    buffer = io.BytesIO()
    Image.new(mode, size, "red").save(buffer, fmt)
    buffer.seek(0)
    return FileStorage(stream=buffer, filename=name)


def image_bytes(**kwargs) -> tuple[io.BytesIO, str]:
    file = image_file(**kwargs)
    return io.BytesIO(file.stream.read()), file.filename


POST_FORM = {"category": "member_exemplar", "title": "守护留守儿童的周末妈妈", "summary": "五年如一日。",
             "body_md": "## 事迹\n\n每个周末陪伴留守儿童学习。"}
