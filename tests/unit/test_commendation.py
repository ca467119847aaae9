"""Nomination transitions: nominate → shortlist → 公示 → commend or reject; objections; featured posts."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.errors import Conflict, Invalid, NotAllowed
from portal.extensions import db
from portal.models import (
    Attachment,
    AuditEvent,
    CommendationLevel,
    Nomination,
    NominationStatus,
    Objection,
    Post,
    PostStatus,
    utcnow,
)
from portal.services import commendation as service
from portal.services.campaign import current_year

from ..news_helpers import image_file, make_nomination


def _pdf(name="事迹.pdf"):
    return FileStorage(stream=io.BytesIO(b"%PDF-1.4\n" + b"0" * 200), filename=name)


def test_secretary_nominates_member_of_own_branch_with_files(app, secretary, member, upload_root):
    nomination = service.nominate(secretary, current_year(), str(member.id), "带头服务师生。",
                                  [_pdf(), image_file()])
    assert nomination.status == NominationStatus.SUBMITTED and nomination.member_id == member.id
    files = db.session.scalars(select(Attachment).where(Attachment.nomination_id == nomination.id)).all()
    assert sorted(f.content_type for f in files) == ["application/pdf", "image/png"]
    assert all((upload_root / service.ATTACHMENT_KIND / f.stored_name).exists() for f in files)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "nomination.create"))


def test_nominating_someone_elsewhere_or_twice_is_refused(app, secretary, other_member, member):
    with pytest.raises(Invalid) as error:
        service.nominate(secretary, current_year(), str(other_member.id), "事迹")
    assert "member_id" in error.value.field_errors
    with pytest.raises(Invalid) as error:
        service.nominate(secretary, current_year(), "", "  ")
    assert "deeds" in error.value.field_errors
    service.nominate(secretary, current_year(), str(member.id), "事迹")
    with pytest.raises(Invalid):
        service.nominate(secretary, current_year(), str(member.id), "再次")


def test_a_bad_attachment_leaves_nothing_behind(app, secretary, upload_root):
    bad = FileStorage(stream=io.BytesIO(b"MZ\x90\x00 an executable" * 20), filename="事迹.pdf")
    folder = upload_root / service.ATTACHMENT_KIND
    before = set(folder.glob("*")) if folder.exists() else set()
    with pytest.raises(Invalid):
        service.nominate(secretary, current_year(), "", "事迹", [_pdf(), bad])
    assert set(folder.glob("*")) == before
    assert db.session.scalar(select(Nomination.id)) is None


def test_editor_cannot_nominate(app, editor):
    with pytest.raises(NotAllowed):
        service.nominate(editor, current_year(), "", "事迹")


def test_full_pipeline_to_commendation_and_featured_post(app, secretary, member, leader, editor):
    nomination = service.nominate(secretary, current_year(), str(member.id), "## 事迹\n\n带头学习提高。")
    with pytest.raises(Conflict):
        service.start_notice(leader, nomination, "7")  # must be shortlisted first
    service.shortlist(leader, nomination)
    with pytest.raises(Invalid):
        service.start_notice(leader, nomination, "0")
    with pytest.raises(Invalid):
        service.start_notice(leader, nomination, "31")
    service.start_notice(leader, nomination, "7")
    assert nomination.status == NominationStatus.NOTICE
    assert nomination.notice_ends_at - nomination.notice_starts_at == timedelta(days=7)
    service.object_to(member, nomination, "有不同意见")
    with pytest.raises(Conflict):
        service.commend(leader, nomination, "district")  # not before the notice ends
    nomination.notice_ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(Conflict):
        service.object_to(member, nomination, "太晚了")
    with pytest.raises(Invalid):
        service.commend(leader, nomination, "galactic")
    service.commend(leader, nomination, "district", "公示无异议")
    assert nomination.status == NominationStatus.COMMENDED and nomination.level == CommendationLevel.DISTRICT
    roll = service.honour_roll()
    assert [(g.year, g.level) for g in roll] == [(current_year().year, CommendationLevel.DISTRICT)]
    post = service.feature(editor, nomination)
    assert post.status == PostStatus.PUBLISHED and post.featured and nomination.post_id == post.id
    assert member.display_name in post.title
    with pytest.raises(Conflict):
        service.feature(editor, nomination)
    assert db.session.scalar(select(Objection.text)) == "有不同意见"


def test_only_leaders_decide(app, secretary, editor, admin):
    nomination = make_nomination(secretary)
    for someone in (secretary, editor, admin):
        with pytest.raises(NotAllowed):
            service.shortlist(someone, nomination)


def test_reject_needs_a_reason_and_closes(app, secretary, leader):
    nomination = make_nomination(secretary, status=NominationStatus.SHORTLISTED)
    with pytest.raises(Invalid):
        service.reject(leader, nomination, "")
    service.reject(leader, nomination, "材料不足")
    assert nomination.status == NominationStatus.REJECTED
    with pytest.raises(Conflict):
        service.shortlist(leader, nomination)


def test_objection_only_while_the_notice_runs(app, secretary, member):
    submitted = make_nomination(secretary)
    with pytest.raises(Conflict):
        service.object_to(member, submitted, "x")
    running = make_nomination(secretary, member=member, status=NominationStatus.NOTICE, notice_days_left=2)
    with pytest.raises(Invalid):
        service.object_to(member, running, "   ")
    service.object_to(member, running, "意见")
    assert [r.nomination.id for r in service.notices()] == [running.id]


def test_featured_post_needs_a_commendation(app, secretary, editor):
    nomination = make_nomination(secretary, status=NominationStatus.NOTICE, notice_days_left=1)
    with pytest.raises(Conflict):
        service.feature(editor, nomination)
    assert db.session.scalar(select(Post.id)) is None
