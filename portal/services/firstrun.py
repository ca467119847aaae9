"""The first-run checklist of the organisation section: from an empty install to a running district.

Each step is computed from the state of the database (one SELECT of scalar counts, never a loop over rows), so it
ticks itself as soon as the work is done, whoever did it and however (by hand, by an import).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..clock import local_today
from ..extensions import db
from ..models import (
    AuditEvent,
    Branch,
    CampaignYear,
    ImportStatus,
    Phase,
    Role,
    RosterImport,
    SubmissionRequest,
    User,
)


@dataclass
class Step:
    key: str
    title: str
    hint: str
    endpoint: str
    done: bool
    args: dict | None = None
    also: tuple[str, str] | None = None  # another way to do it: (words, endpoint)


def _count(stmt):
    return select(func.count()).select_from(stmt.subquery()).scalar_subquery()


def steps(today: date | None = None) -> list[Step]:
    """The six steps, each with whether it is done (one query)."""
    today = today or local_today()
    current = select(CampaignYear.id).where(CampaignYear.is_current.is_(True)).scalar_subquery()
    roster_done = select(RosterImport.id).where(RosterImport.status == ImportStatus.DONE)
    counts = db.session.execute(select(
        # Dates are set when the current year's calendar has not run out: a phase today or still to come.
        _count(select(Phase.id).where(Phase.year_id == current, Phase.ends_on >= today)),
        _count(select(Branch.id).where(Branch.active.is_(True))),
        _count(select(AuditEvent.id).where(AuditEvent.action == "roster.template")),
        _count(roster_done),
        _count(select(User.id).where(User.active.is_(True), User.role.in_([Role.MEMBER, Role.SECRETARY]))),
        _count(select(User.id).where(User.active.is_(True), User.role == Role.LEADER)),
        _count(select(SubmissionRequest.id).where(SubmissionRequest.year_id == current)),
    )).one()
    phases, branches, templates, imports, people, leaders, requests = (int(n or 0) for n in counts)
    return [
        Step("calendar", str(_l("Set the campaign year and its phase dates")),
             str(_l("Choose the current year, then give its five phases dates that run from now on, or open the "
                    "first phase today.")), "campaign.years", phases > 0),
        Step("branches", str(_l("Create the units and their branches")),
             str(_l("One line per school or office and its Party branch.")),
             "admin.branches", branches > 0, also=(str(_l("Or import them from a file")), "admin.branch_import")),
        Step("template", str(_l("Download the roster template")),
             str(_l("Fill in one row per person: username, name, role, branch, post.")),
             "admin.roster", templates > 0 or imports > 0 or people > 0),  # a district with people needs no template
        Step("roster", str(_l("Import the roster and print the activation slips")),
             str(_l("Check the file, see every change, import; then hand out the slips.")),
             "admin.roster", imports > 0 or people > 0),
        Step("leaders", str(_l("Name the leading group")),
             str(_l("Give the members of the district's leading group (领导小组) their accounts, in the roster or "
                    "one by one.")), "admin.users", leaders > 0, {"role": Role.LEADER.value}),
        Step("request", str(_l("Issue the first submission request (报送)")),
             str(_l("Ask the branches for their leading group and implementation plan.")),
             "campaign.submissions", requests > 0),
    ]


def is_done(found: list[Step] | None = None) -> bool:
    return all(step.done for step in (found if found is not None else steps()))



