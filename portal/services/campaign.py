"""Campaign years and phases as the rest of the portal asks about them."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import CampaignYear, Phase


def current_year() -> CampaignYear | None:
    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    if year is None:  # nothing marked current: fall back to the latest year
        year = db.session.scalar(select(CampaignYear).order_by(CampaignYear.year.desc()).limit(1))
    return year


def current_phase(year: CampaignYear | None, today: date | None = None) -> Phase | None:
    if year is None:
        return None
    return year.phase_on(today or date.today())


def all_years() -> list[CampaignYear]:
    return list(db.session.scalars(select(CampaignYear).order_by(CampaignYear.year)))
