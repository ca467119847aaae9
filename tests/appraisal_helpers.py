"""Test data for 群众评议: an open round of the current year, and codes."""
from datetime import date, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import CampaignYear
from portal.services import appraisal


def current_year() -> CampaignYear:
    return db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))


def open_round(actor=None, *, minimum: int = 10, groups=("staff", "members", "students", "parents", "community"),
               opens: date | None = None, closes: date | None = None):
    today = appraisal.local_today()
    return appraisal.save_round(actor, current_year(), appraisal.RoundSettings(
        groups=list(groups), min_ballots=minimum, opens_on=opens or today - timedelta(days=3),
        closes_on=closes or today + timedelta(days=10)))


def answers_for(round_, level: str = "satisfied", **overrides) -> dict[str, str]:
    """Form fields answering every question of the round with `level` (q<id>=level)."""
    return {f"q{q.id}": overrides.get(f"q{q.position}", level) for q in round_.questions}
