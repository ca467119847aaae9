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
    """The current year's round; a `minimum` below the service's floor (5) is written straight to the row, so that
    tests of the formulas need few ballots."""
    today = appraisal.local_today()
    round_ = appraisal.save_round(actor, current_year(), appraisal.RoundSettings(
        groups=list(groups), min_ballots=max(minimum, appraisal.MIN_BALLOTS_FLOOR),
        opens_on=opens or today - timedelta(days=3), closes_on=closes or today + timedelta(days=10)))
    if minimum < appraisal.MIN_BALLOTS_FLOOR:
        round_.min_ballots = minimum
        db.session.commit()
    return round_


def answers_for(round_, level: str = "satisfied", **overrides) -> dict[str, str]:
    """Form fields answering every question of the round with `level` (q<id>=level)."""
    return {f"q{q.id}": overrides.get(f"q{q.position}", level) for q in round_.questions}


def close_round(round_):
    """End the round yesterday (as time passing would), so that its results may be shown."""
    today = appraisal.local_today()
    round_.opens_on, round_.closes_on = today - timedelta(days=20), today - timedelta(days=1)
    db.session.commit()
    return round_
