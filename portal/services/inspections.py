"""督察: leaders' forums, periodic inspections and one-day research visits, with follow-up actions."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, insert, select

from ..clock import local_today
from ..collation import branch_order
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..input_guard import parse_ids, parse_int
from ..links import path_for
from ..models import (
    Branch,
    CampaignYear,
    FollowUp,
    FollowUpStatus,
    Inspection,
    InspectionKind,
    inspection_branch,
    utcnow,
)
from . import audit, notifications
from .campaign import ensure_writable, parse_date
from .versions import check_version


def get(inspection_id: int) -> Inspection:
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound()
    return inspection


def get_follow_up(follow_up_id: int) -> FollowUp:
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound()
    return follow_up


def _branch_ids(values: list[str], errors: dict) -> list[int]:
    wanted = parse_ids(values) or set()
    found = set(db.session.scalars(select(Branch.id).where(Branch.id.in_(wanted)))) if wanted else set()
    if not wanted or found != wanted:
        errors["branches"] = _l("Choose at least one branch from the list.")
    return sorted(found)


def create(actor, year: CampaignYear, *, kind: str, held_on: str, title: str, findings: str,
           branch_ids: list[str], today: date | None = None) -> Inspection:
    ensure_writable(year.id)
    errors: dict = {}
    try:
        kind_value = InspectionKind(kind)
    except ValueError:
        errors["kind"] = _l("Choose the kind of visit.")
        kind_value = None
    day = parse_date(held_on, "held_on", errors)
    if day and day > (today or local_today()):
        errors["held_on"] = _l("Record a visit once it has taken place: the date cannot be in the future.")
    title, findings = (title or "").strip(), (findings or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _l("Enter a title of at most 200 characters.")
    if len(findings) > 10000:
        errors["findings"] = _l("The findings may have at most 10000 characters.")
    branches = _branch_ids(branch_ids, errors)
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    inspection = Inspection(year_id=year.id, kind=kind_value, held_on=day, title=title, findings=findings,
                            created_by_id=actor.id)
    db.session.add(inspection)
    db.session.flush()
    db.session.execute(insert(inspection_branch), [{"inspection_id": inspection.id, "branch_id": b}
                                                    for b in branches])
    audit.record(actor, "inspection.create", inspection,
                 after={"kind": kind_value.value, "held_on": str(day), "title": title, "branches": branches})
    db.session.commit()
    return inspection


def update(actor, inspection: Inspection, *, title: str, findings: str, version: int | None = None) -> None:
    """Save a visit's title and findings as edited on top of `version`; a stale edit is a Conflict carrying
    the saved text. Raises Invalid for an empty or over-long title, or findings over 10000 characters."""
    ensure_writable(inspection.year_id)
    title, findings = (title or "").strip(), (findings or "").strip()
    errors: dict = {}
    if not title or len(title) > 200:
        errors["title"] = _l("Enter a title of at most 200 characters.")
    if len(findings) > 10000:
        errors["findings"] = _l("The findings may have at most 10000 characters.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    check_version(inspection, version, shown=("title", "findings"))
    before = {"title": inspection.title, "findings": inspection.findings}
    inspection.title, inspection.findings = title, findings
    audit.record(actor, "inspection.update", inspection, before=before, after={"title": title, "findings": findings})
    db.session.commit()


def add_follow_up(actor, inspection: Inspection, *, branch_id: str, action: str, owner: str,
                  due_on: str) -> FollowUp:
    ensure_writable(inspection.year_id)
    errors: dict = {}
    action, owner = (action or "").strip(), (owner or "").strip()
    if not action or len(action) > 2000:
        errors["action"] = _l("Describe the action (at most 2000 characters).")
    if not owner or len(owner) > 64:
        errors["owner"] = _l("Name who is responsible (at most 64 characters).")
    due = parse_date(due_on, "due_on", errors)
    visited = set(branches_of([inspection.id])[inspection.id])
    branch = None
    if branch_id:
        branch = parse_int(branch_id)
        branch = -1 if branch is None else branch
        if branch not in {b for b, _ in visited}:
            errors["branch_id"] = _l("Choose one of the branches visited.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    follow_up = FollowUp(inspection_id=inspection.id, branch_id=branch, action=action, owner=owner, due_on=due)
    db.session.add(follow_up)
    db.session.flush()
    event = audit.record(actor, "follow_up.create", follow_up,
                         after={"action": action, "owner": owner, "due_on": str(due), "branch_id": branch})
    notifications.notify_event(event, notifications.secretaries_of(branch), "follow_up.assigned",
                               path_for("campaign.follow_up", follow_up_id=follow_up.id), what=action[:200],
                               due=str(due))
    db.session.commit()
    return follow_up


def answer_follow_up(actor, follow_up: FollowUp, response: str, done: bool, version: int | None = None) -> None:
    """The branch's secretary answers a follow-up assigned to the branch: what was done (required, at most
    5000 characters) and, when `done`, closes it, on top of the `version` the page was loaded with. Raises
    Invalid for an empty answer; Conflict when the follow-up is closed already or was changed meanwhile (its
    `current` holds the saved "response", "status" and "version"). Permission: rule "follow_up.answer"
    (portal/permissions.py)."""
    inspection = db.session.get(Inspection, follow_up.inspection_id)
    ensure_writable(inspection.year_id)
    response = (response or "").strip()
    if not response or len(response) > 5000:
        message = _l("Say what the branch has done (at most 5000 characters).")
        raise Invalid(str(message), {"response": message})
    if follow_up.status == FollowUpStatus.DONE:
        raise Conflict(str(_l("This follow-up is closed already.")))
    check_version(follow_up, version, shown=("response", "status"))
    before = {"response": follow_up.response, "status": follow_up.status.value}
    follow_up.response = response
    follow_up.answered_at = utcnow()
    if done:
        follow_up.status = FollowUpStatus.DONE
        follow_up.done_at = utcnow()
    audit.record(actor, "follow_up.answer", follow_up, before=before,
                 after={"response": response, "status": follow_up.status.value})
    db.session.commit()


def set_follow_up_status(actor, follow_up: FollowUp, status: str, version: int | None = None) -> None:
    """Mark a follow-up done or open it again, on top of the `version` the person's row was loaded with.

    Raises Invalid for an unknown status; Conflict when someone changed the follow-up meanwhile (its
    `current` holds the saved "status" and "version", for the page to show beside the person's click) or
    when it already has this status; Conflict for a past (read-only) year."""
    inspection = db.session.get(Inspection, follow_up.inspection_id)
    ensure_writable(inspection.year_id)
    try:
        value = FollowUpStatus(status)
    except ValueError:
        message = _l("Choose a status.")
        raise Invalid(str(message), {"status": message}) from None
    check_version(follow_up, version, shown=("status",))
    if follow_up.status == value:
        db.session.rollback()
        raise Conflict(str(_l("The follow-up already has this status.")))
    before = {"status": follow_up.status.value}
    follow_up.status = value
    follow_up.done_at = utcnow() if value == FollowUpStatus.DONE else None
    audit.record(actor, "follow_up.status", follow_up, before=before, after={"status": value.value})
    db.session.commit()


# --- reading --------------------------------------------------------------------------------------

def branches_of(inspection_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if inspection_ids:
        stmt = (select(inspection_branch.c.inspection_id, Branch.id, Branch.name)
                .join(Branch, Branch.id == inspection_branch.c.branch_id)
                .where(inspection_branch.c.inspection_id.in_(inspection_ids)).order_by(*branch_order()))
        for iid, bid, name in db.session.execute(stmt):
            out[iid].append((bid, name))
    return out


def list_for(year: CampaignYear, today: date | None = None) -> list[tuple[Inspection, int, int]]:
    """[(inspection, open follow-ups, overdue follow-ups)], newest first, in one GROUP BY query."""
    today = today or local_today()
    is_open = FollowUp.status == FollowUpStatus.OPEN
    stmt = (select(Inspection,
                   func.coalesce(func.sum(case((is_open, 1), else_=0)), 0),
                   func.coalesce(func.sum(case((and_(is_open, FollowUp.due_on < today), 1), else_=0)), 0))
            .outerjoin(FollowUp, FollowUp.inspection_id == Inspection.id)
            .where(Inspection.year_id == year.id)
            .group_by(Inspection.id).order_by(Inspection.held_on.desc(), Inspection.id.desc()))
    return [(i, int(o), int(d)) for i, o, d in db.session.execute(stmt)]


def follow_ups(inspection: Inspection) -> list[tuple[FollowUp, str | None]]:
    stmt = (select(FollowUp, Branch.name).outerjoin(Branch, Branch.id == FollowUp.branch_id)
            .where(FollowUp.inspection_id == inspection.id).order_by(FollowUp.due_on, FollowUp.id))
    return list(db.session.execute(stmt))


def overdue_follow_ups(year: CampaignYear, branch_id: int | None = None, today: date | None = None) -> list:
    """Open follow-ups past their due date: rows (id, inspection_id, inspection_title, kind, branch_id,
    branch_name, action, owner, due_on), oldest due first. For the dashboard and the branch page."""
    stmt = (select(FollowUp.id, Inspection.id.label("inspection_id"), Inspection.title.label("inspection_title"),
                   Inspection.kind, FollowUp.branch_id, Branch.name.label("branch_name"), FollowUp.action,
                   FollowUp.owner, FollowUp.due_on)
            .join(Inspection, Inspection.id == FollowUp.inspection_id)
            .outerjoin(Branch, Branch.id == FollowUp.branch_id)
            .where(Inspection.year_id == year.id, FollowUp.status == FollowUpStatus.OPEN,
                   FollowUp.due_on < (today or local_today())))
    if branch_id is not None:
        stmt = stmt.where(FollowUp.branch_id == branch_id)
    return list(db.session.execute(stmt.order_by(FollowUp.due_on, FollowUp.id)))
