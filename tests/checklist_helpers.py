"""Shared helpers for checklist tests: find items, make assessments."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Assessment,
    AssessmentStatus,
    CampaignYear,
    Criterion,
    Framework,
    Item,
    ItemResult,
    Result,
    Subject,
)
from portal.services.items import in_checklist


def current_year() -> CampaignYear:
    return db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))


def year(number: int) -> CampaignYear:
    return db.session.scalar(select(CampaignYear).where(CampaignYear.year == number))


def items(subject: Subject, year_obj: CampaignYear | None = None) -> list[Item]:
    """The items a new checklist of the year (default: the current one) holds, in order."""
    year_obj = year_obj or current_year()
    return list(db.session.scalars(
        select(Item).join(Criterion).join(Framework)
        .where(Framework.subject == subject, in_checklist(year_obj.id, year_obj.year))
        .order_by(Criterion.position, Item.position)))


def make_assessment(branch, member=None, status=AssessmentStatus.DRAFT, year_obj=None,
                    answer_all: Result | None = None):
    year_obj = year_obj or current_year()
    subject = Subject.MEMBER if member else Subject.BRANCH
    framework = db.session.scalar(select(Framework).where(Framework.subject == subject))
    assessment = Assessment(year_id=year_obj.id, framework_id=framework.id, subject=subject, branch_id=branch.id,
                            member_id=member.id if member else None, status=status)
    db.session.add(assessment)
    db.session.flush()
    if answer_all is not None:
        for item in items(subject, year_obj):
            db.session.add(ItemResult(assessment_id=assessment.id, item_id=item.id, result=answer_all,
                                      item_text=item.text))
    db.session.commit()
    return assessment


def make_pledge(branch, member, status=None, text: str = "每月读一本书"):
    """A member's own pledge in the current year (a draft unless `status` says otherwise)."""
    from portal.models import Pledge, PledgeStatus

    pledge = Pledge(year_id=current_year().id, branch_id=branch.id, member_id=member.id, author_id=member.id,
                    text=text, status=status or PledgeStatus.DRAFT)
    db.session.add(pledge)
    db.session.commit()
    return pledge
