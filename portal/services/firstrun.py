"""The first-run checklist of the organisation section: from an empty install to a running district.

Each step is computed from the state of the database (one SELECT of scalar counts, never a loop over rows), so it
ticks itself as soon as the work is done, whoever did it and however (by hand, by an import).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, bindparam, case, select

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


def _any(stmt):
    # Whether a row exists, not how many: the answer stops at the first row, so the admin's home page does not
    # count a district's tens of thousands of people on every view.
    return stmt.exists()


def steps(today: date | None = None) -> list[Step]:
    """The six steps, each with whether it is done (one query of EXISTS tests)."""
    return _steps(_done(today))


def pending_steps(today: date | None = None) -> list[Step]:
    """The six steps while one is not done; none once all are (the organisation section's home page): the texts are
    translated only when shown."""
    found = _done(today)
    return [] if all(found) else _steps(found)


def _done(today: date | None) -> tuple[bool, ...]:
    """Whether each step is done, in `_steps` order: one statement of EXISTS tests, built once."""
    return tuple(bool(n) for n in db.session.execute(_done_statement(), {"today": today or local_today()}).one())


@cache
def _done_statement():
    current = select(CampaignYear.id).where(CampaignYear.is_current.is_(True)).scalar_subquery()
    roster_done = select(RosterImport.id).where(RosterImport.status == ImportStatus.DONE)
    people = _any(select(User.id).where(User.active.is_(True), User.role.in_([Role.MEMBER, Role.SECRETARY])))
    imports = case((people, True), else_=_any(roster_done))
    # Only looked for in the audit log (hundreds of thousands of events) while no roster is in: CASE stops at
    # the first branch that holds, on SQLite and PostgreSQL alike.
    templates = case((people, True), (_any(roster_done), True),
                     else_=_any(select(AuditEvent.id).where(AuditEvent.action == "roster.template")))
    return select(
        # Dates are set when the current year's calendar has not run out: a phase today or still to come.
        _any(select(Phase.id).where(Phase.year_id == current, Phase.ends_on >= bindparam("today", type_=Date))),
        _any(select(Branch.id).where(Branch.active.is_(True))),
        templates, imports,
        _any(select(User.id).where(User.active.is_(True), User.role == Role.LEADER)),
        _any(select(SubmissionRequest.id).where(SubmissionRequest.year_id == current)),
    )


def _steps(found: tuple[bool, ...]) -> list[Step]:
    """The six steps with their texts in the request's language and whether each is `found` done."""
    phases, branches, templates_done, roster_done_or_people, leaders, requests = found
    return [
        Step("calendar", str(_l("Set the campaign year and its phase dates")),
             str(_l("Choose the current year, then give its five phases dates that run from now on, or open the "
                    "first phase today.")), "campaign.years", phases),
        Step("branches", str(_l("Create the units and their branches")),
             str(_l("One line per school or office and its Party branch.")),
             "admin.branches", branches, also=(str(_l("Or import them from a file")), "admin.branch_import")),
        Step("template", str(_l("Download the roster template")),
             str(_l("Fill in one row per person: username, name, role, branch, post.")),
             "admin.roster", templates_done),  # a district with people needs no template
        Step("roster", str(_l("Import the roster and print the activation slips")),
             str(_l("Check the file, see every change, import; then hand out the slips.")),
             "admin.roster", roster_done_or_people),
        Step("leaders", str(_l("Name the leading group")),
             str(_l("Give the members of the district's leading group (领导小组) their accounts, in the roster or "
                    "one by one.")), "admin.users", leaders, {"role": Role.LEADER.value}),
        Step("request", str(_l("Issue the first submission request (报送)")),
             str(_l("Ask the branches for their leading group and implementation plan.")),
             "campaign.submissions", requests),
    ]


def is_done(found: list[Step] | None = None) -> bool:
    return all(step.done for step in (found if found is not None else steps()))



