"""The demo's history is in the audit log, written through the audit recorder at the times it happened."""
from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AssessmentEvent, AuditEvent, Bulletin, utcnow
from portal.services import auditlog, demo


def test_the_demo_history_is_audited_at_its_own_times(app):
    demo.seed(branches=3, members_per_branch=3)
    moves = db.session.scalar(select(func.count(AssessmentEvent.id)))
    audited = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("checklist.%")))
    assert moves > 0 and audited == moves  # every submit, return and review of every year
    # Times as they happened: the finished years in their own year, not on the day of seeding.
    years = {at.year for at in db.session.scalars(select(AuditEvent.at).where(AuditEvent.action.like("checklist.%")))}
    assert {2010, 2011} <= years
    issued = {b.id: b.issued_at for b in db.session.scalars(select(Bulletin))}
    for bulletin_id, at in issued.items():
        [event_at] = db.session.scalars(select(AuditEvent.at).where(AuditEvent.action == "bulletin.issue",
                                                                    AuditEvent.object_id == bulletin_id))
        assert event_at == at and event_at < utcnow() - timedelta(days=1)
    # Every event reads in words, with whose it is.
    events = list(db.session.scalars(select(AuditEvent)))
    assert [e.action for e in events if auditlog.unlabelled(e)] == []
    with app.test_request_context():
        page = auditlog.page_of(auditlog.Filters(kind="checklist.review"))
        assert page.total > 0 and all("自评" in line.obj or "self-assessment" in line.obj for line in page.lines)
