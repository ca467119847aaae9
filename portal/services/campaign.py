"""Campaign years and phases as the rest of the portal asks about them, and the guard that keeps
past years read-only."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import PHASE_ORDER, CampaignYear, Phase, PhaseKind, Role
from . import audit


def current_year() -> CampaignYear | None:
    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    if year is None:  # nothing marked current: fall back to the latest year
        year = db.session.scalar(select(CampaignYear).order_by(CampaignYear.year.desc()).limit(1))
    return year


def current_phase(year: CampaignYear | None, today: date | None = None) -> Phase | None:
    if year is None:
        return None
    return year.phase_on(today or date.today())


def ensure_writable(year_id: int) -> CampaignYear:
    """The one guard for campaign work: only the current year may be written; others are history (409)."""
    year = db.session.get(CampaignYear, year_id)
    if year is None or not year.is_current:
        label = year.year if year is not None else "?"
        raise Conflict(str(_l("%(year)s is not the current campaign year: its records are read-only.",
                              year=label)))
    return year


def parse_date(value: str | None, field: str, errors: dict, required: bool = True) -> date | None:
    """An ISO date from a form field; a translated message in `errors[field]` when it is not one."""
    value = (value or "").strip()
    if not value:
        if required:
            errors[field] = _l("Enter a date.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = _l("Enter a date as YYYY-MM-DD.")
        return None


def parse_datetime(value: str | None, field: str, errors: dict) -> datetime | None:
    value = (value or "").strip()
    if not value:
        errors[field] = _l("Enter a date and time.")
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None, second=0, microsecond=0)
    except ValueError:
        errors[field] = _l("Enter a date and time as YYYY-MM-DD HH:MM.")
        return None


# --- years and phases -------------------------------------------------------------------------

def list_years() -> list[CampaignYear]:
    return list(db.session.scalars(select(CampaignYear).order_by(CampaignYear.year.desc())))


def _ensure_not_past(year: CampaignYear) -> None:
    current = current_year()
    if current is not None and year.year < current.year:
        raise Conflict(str(_l("%(year)s is a past campaign year: its records are read-only.", year=year.year)))


def update_year(actor, year: CampaignYear, theme: str, description: str, dates: dict[str, tuple[str, str]]) -> None:
    """Edit a year's theme and its phases' dates. Phases must follow each other without overlap."""
    _ensure_not_past(year)
    errors: dict = {}
    theme = (theme or "").strip()
    if not theme or len(theme) > 120:
        errors["theme"] = _l("Enter a theme of at most 120 characters.")
    parsed: dict[PhaseKind, tuple[date | None, date | None]] = {}
    for kind in PHASE_ORDER:
        start_raw, end_raw = dates.get(kind.value, ("", ""))
        start = parse_date(start_raw, f"{kind.value}_start", errors)
        end = parse_date(end_raw, f"{kind.value}_end", errors)
        if start and end and end < start:
            errors[f"{kind.value}_end"] = _l("A phase cannot end before it starts.")
        parsed[kind] = (start, end)
    previous_end = None
    for kind in PHASE_ORDER:
        start, end = parsed[kind]
        if start and previous_end and start <= previous_end and f"{kind.value}_start" not in errors:
            errors[f"{kind.value}_start"] = _l("A phase must start after the previous one ends.")
        previous_end = end or previous_end
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    phases = {phase.kind: phase for phase in year.phases}
    before = {"theme": year.theme, "phases": {p.kind.value: [str(p.starts_on), str(p.ends_on)] for p in year.phases}}
    year.theme = theme
    year.description = (description or "").strip()
    for position, kind in enumerate(PHASE_ORDER, start=1):
        start, end = parsed[kind]
        phase = phases.get(kind)
        if phase is None:
            phase = Phase(year_id=year.id, kind=kind, position=position, starts_on=start, ends_on=end)
            db.session.add(phase)
        phase.starts_on, phase.ends_on = start, end
    audit.record(actor, "campaign_year.update", year, before=before,
                 after={"theme": theme, "phases": {k.value: [str(s), str(e)] for k, (s, e) in parsed.items()}})
    db.session.commit()


def create_year(actor, year_no: str, theme: str) -> CampaignYear:
    errors: dict = {}
    try:
        number = int((year_no or "").strip())
        if not 2000 <= number <= 2100:
            raise ValueError
    except ValueError:
        errors["year"] = _l("Enter a year such as 2013.")
        number = 0
    theme = (theme or "").strip()
    if not theme or len(theme) > 120:
        errors["theme"] = _l("Enter a theme of at most 120 characters.")
    if number and db.session.scalar(select(CampaignYear.id).where(CampaignYear.year == number)):
        errors["year"] = _l("This year already exists.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    from .builtin import default_phases

    year = CampaignYear(year=number, theme=theme, description="", is_current=False)
    db.session.add(year)
    db.session.flush()
    for position, (kind, (start, end)) in enumerate(zip(PHASE_ORDER, default_phases(number), strict=True), 1):
        db.session.add(Phase(year_id=year.id, kind=kind, position=position, starts_on=start, ends_on=end))
    audit.record(actor, "campaign_year.create", year, after={"year": number, "theme": theme})
    db.session.commit()
    return year


def make_current(actor, year: CampaignYear) -> None:
    """Exactly one year is current (a partial unique index guards it): clear the old one first."""
    old = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    if old is not None and old.id == year.id:
        return
    if old is not None:
        old.is_current = False
        db.session.flush()
    year.is_current = True
    audit.record(actor, "campaign_year.make_current", year, before={"current": old.year if old else None},
                 after={"current": year.year})
    db.session.commit()


# --- what each role must do in the current phase ------------------------------------------------

PHASE_TASKS: dict[PhaseKind, dict[Role, list]] = {
    PhaseKind.MOBILISE: {
        Role.ADMIN: [(_l("Issue the request for leading groups and implementation plans."), "campaign.submissions")],
        Role.LEADER: [(_l("Hold the mobilisation meeting and follow the branches' plans."), "campaign.submissions")],
        Role.SECRETARY: [(_l("Submit the branch's leading group and implementation plan."), "campaign.submissions"),
                         (_l("Register the branch's brand and its projects."), "campaign.brands")],
        Role.MEMBER: [(_l("Take part in the branch's mobilisation and read the campaign plan."), None)],
        Role.EDITOR: [(_l("Publicise the campaign's launch on the news board."), None)],
    },
    PhaseKind.PLEDGE: {
        Role.ADMIN: [(_l("Approve or return the branches' public pledges."), "campaign.pledges")],
        Role.LEADER: [(_l("Follow the branches' pledges and visit branches."), "campaign.inspections")],
        Role.SECRETARY: [(_l("Write the branch's pledges and send them for approval."), "campaign.pledges"),
                         (_l("Approve or return your members' pledges."), "campaign.pledges")],
        Role.MEMBER: [(_l("Write your public pledge and send it to your secretary."), "campaign.pledges")],
        Role.EDITOR: [(_l("Publish approved pledges and good examples on the news board."), None)],
    },
    PhaseKind.REVIEW: {
        Role.ADMIN: [(_l("Check the submissions that are due and the open follow-ups."), "campaign.submissions")],
        Role.LEADER: [(_l("Review the branches and record inspections and their follow-ups."),
                       "campaign.inspections")],
        Role.SECRETARY: [(_l("Review every member, log how pledges are kept and finish the checklist."),
                          "campaign.pledges")],
        Role.MEMBER: [(_l("Log how you keep your pledge and finish your self-assessment."), "campaign.pledges")],
        Role.EDITOR: [(_l("Report on the leader reviews on the news board."), None)],
    },
    PhaseKind.APPRAISAL: {
        Role.ADMIN: [(_l("Collect the public appraisal of every branch."), None)],
        Role.LEADER: [(_l("Follow the public appraisal and the open follow-ups."), "campaign.inspections")],
        Role.SECRETARY: [(_l("Organise the appraisal by teachers, students and parents."), None)],
        Role.MEMBER: [(_l("Take part in the public appraisal."), None)],
        Role.EDITOR: [(_l("Publicise how the appraisal works."), None)],
    },
    PhaseKind.COMMEND: {
        Role.ADMIN: [(_l("Prepare the commendation and review how pledges were kept."), "campaign.pledges")],
        Role.LEADER: [(_l("Decide the commendations."), None)],
        Role.SECRETARY: [(_l("Nominate exemplars and summarise the branch's year."), None)],
        Role.MEMBER: [(_l("Review how you kept your pledge this year."), "campaign.pledges")],
        Role.EDITOR: [(_l("Publish the commended exemplars."), None)],
    },
}


def phase_tasks(user, phase: Phase | None) -> list[tuple[str, str | None]]:
    """[(task text, endpoint or None)] for the user's role in the phase; empty between phases."""
    if phase is None or user is None:
        return []
    return [(str(text), endpoint) for text, endpoint in PHASE_TASKS.get(phase.kind, {}).get(user.role, [])]
