"""Reading the audit log: the organisation section's page /admin/audit (rule "audit.log") and its CSV export.

Filters: a person (`user`: part of their username as recorded, so events of a removed account still match, or
of their name, in any case), a branch,
a kind of action (a whole area such as "checklist", or one action such as "checklist.return") and a date range
in the portal's local time zone. Newest first, paged in SQL. Each event is put in words: who, what (the
labels of labels.AUDIT_ACTION), which object, every value that changed as old → new, a return's reason, and
the client address.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, to_utc
from sqlalchemy import func, or_, select

from .. import labels
from ..extensions import db
from ..input_guard import parse_int
from ..models import AuditEvent, Branch, User
from .audit import COMMAND_LINE
from .export import local_time, neutralise_row, zone_label

PER_PAGE = 50
EXPORT_LIMIT = 50_000  # rows in one CSV; narrow the filters for more

# The object an event names, in words.
OBJECT_TYPE = {
    "assessment": _l("Self-assessment"),
    "pledge": _l("Pledge"),
    "pledgeentry": _l("Pledge progress"),
    "submission": _l("Submission"),
    "submissionrequest": _l("Submission request"),
    "post": lazy_pgettext("news post", "Post"),  # a news post, not a person's 职务 ("Post" of the user forms)
    "nomination": _l("Nomination"),
    "objection": _l("Objection"),
    "user": _l("Account"),
    "branch": _l("Branch"),
    "campaignyear": _l("Campaign year"),
    "project": _l("Project"),
    "milestone": _l("Milestone"),
    "inspection": _l("Inspection"),
    "followup": _l("Follow-up"),
    "appraisalround": _l("Appraisal round"),
    "graderecord": _l("Grade"),
    "gradingpolicy": _l("Grading rules"),
}
REASON_KEYS = ("reason", "return_reason", "comment")
# Recorded to say which item of whose self-assessment an event was about: shown with the object, not as changes.
CONTEXT_KEYS = ("item", "of", "item_id")


@dataclass
class Filters:
    user: str = ""
    branch_id: int | None = None
    kind: str = ""
    start: date | None = None  # local dates, both included
    end: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def args(self) -> dict:
        """The filters as query arguments (for paging and export links)."""
        out = {"user": self.user, "branch": self.branch_id or "", "kind": self.kind,
               "start": self.start.isoformat() if self.start else "", "end": self.end.isoformat() if self.end else ""}
        return {k: v for k, v in out.items() if v not in ("", None)}


def _day(value: str, name: str, errors: dict) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[name] = str(_l("Enter a date as YYYY-MM-DD."))
        return None
    if not 2000 <= day.year <= 2100:
        errors[name] = str(_l("Enter a date between 2000 and 2100."))
        return None
    return day


def parse_filters(args) -> Filters:
    """Filters from query arguments; a malformed value is dropped and named in `errors` (shown beside the
    field, the rest of the filters still apply)."""
    errors: dict[str, str] = {}
    branch_raw = (args.get("branch") or "").strip()
    branch_id = parse_int(branch_raw) if branch_raw else None
    if branch_raw and branch_id is None:
        errors["branch"] = str(_l("Choose a branch from the list."))
    kind = (args.get("kind") or "").strip()[:64]
    if kind and kind not in kind_values():
        errors["kind"] = str(_l("Choose a kind of action from the list."))
        kind = ""
    start, end = _day(args.get("start"), "start", errors), _day(args.get("end"), "end", errors)
    if start and end and end < start:
        errors["end"] = str(_l("The end date cannot be before the start date."))
        end = None
    return Filters(user=(args.get("user") or "").strip()[:64], branch_id=branch_id, kind=kind, start=start,
                   end=end, errors=errors)


def kind_values() -> list[str]:
    """Areas ("checklist") and single actions ("checklist.return") one may filter by."""
    actions = sorted(labels.AUDIT_ACTION)
    return sorted({a.split(".", 1)[0] for a in actions}) + actions


def kind_options() -> list[tuple[str, str]]:
    """(value, label) for the kind filter: each area, then each action in words."""
    areas = sorted({a.split(".", 1)[0] for a in labels.AUDIT_ACTION})
    def area(code: str) -> str:
        return str(labels.AUDIT_AREA.get(code, code))

    return [(a, _("All of “%(area)s”", area=area(a))) for a in areas] + [
        (a, f"{area(a.split('.', 1)[0])} · {label}") for a, label in sorted(labels.AUDIT_ACTION.items())]


def _statement(filters: Filters):
    stmt = select(AuditEvent, Branch.name).outerjoin(Branch, Branch.id == AuditEvent.branch_id)
    if filters.user:
        # Part of the username as recorded (a removed account's events still match) or of the person's name,
        # in any case: "SEC0" finds sec01 and sec02, "王" everyone called 王.
        names = select(User.id).where(User.display_name.icontains(filters.user, autoescape=True))
        stmt = stmt.where(or_(AuditEvent.actor_name.icontains(filters.user, autoescape=True),
                              AuditEvent.actor_id.in_(names)))
    if filters.branch_id is not None:
        stmt = stmt.where(AuditEvent.branch_id == filters.branch_id)
    if filters.kind:
        stmt = stmt.where(or_(AuditEvent.action == filters.kind, AuditEvent.action.like(f"{filters.kind}.%")))
    if filters.start:
        stmt = stmt.where(AuditEvent.at >= to_utc(datetime.combine(filters.start, time.min)).replace(tzinfo=None))
    if filters.end:
        stmt = stmt.where(AuditEvent.at < to_utc(datetime.combine(filters.end + timedelta(days=1), time.min))
                          .replace(tzinfo=None))
    return stmt


@dataclass
class Line:
    """One event in words."""

    event: AuditEvent
    branch_name: str | None
    action: str
    obj: str
    changes: list[tuple[str, str, str]]  # (field, old, new)
    reason: str

    @property
    def actor(self) -> str:
        """Who, in words: the username, or "command line" for a change made by a command."""
        if self.event.actor_name == COMMAND_LINE:
            return _("Command line")
        return self.event.actor_name or ""


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


# Recorded values that are codes, in words (a grade "advanced" is 先进; a rater group "parents" is 家长).
def _value_words(key: str, value):
    if key in ("proposed", "confirmed") and isinstance(value, str):
        return labels.GRADE.get(value) or labels.MEMBER_GRADE.get(value) or value
    if key == "group" and isinstance(value, str):
        return labels.RATER_GROUP.get(value) or (_("All groups") if value == "" else value)
    if key == "groups" and isinstance(value, str):
        return "、".join(str(labels.RATER_GROUP.get(g, g)) for g in value.split(",") if g)
    return value


def describe(event: AuditEvent, branch_name: str | None) -> Line:
    before, after = event.before or {}, event.after or {}
    changes = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in CONTEXT_KEYS:
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            name = str(labels.AUDIT_FIELD.get(key, key))
            changes.append((name, _text(_value_words(key, old)) if key in before else "",
                            _text(_value_words(key, new)) if key in after else ""))
    reason = ""
    if event.action.endswith((".return", ".reject", ".overridden")):
        reason = next((str(after[k]) for k in (*REASON_KEYS, "decision_note") if after.get(k)), "")
    kind = OBJECT_TYPE.get(event.object_type)
    obj = f"{kind or event.object_type} #{event.object_id}" if event.object_id is not None else (
        str(kind) if kind else event.object_type)
    # What the change was about, beside the object: "自评 #3 · 2012 · 晨曦路小学党支部 · 1.2 坚持…".
    obj = " · ".join([obj, *(str(after[k]) for k in ("of", "item") if after.get(k))])
    return Line(event, branch_name, str(labels.AUDIT_ACTION.get(event.action, event.action)), obj, changes, reason)


@dataclass
class AuditPage:
    lines: list[Line]
    page: int
    pages: int
    total: int


def page_of(filters: Filters, page: int = 1, per_page: int = PER_PAGE) -> AuditPage:
    """One page of matching events, newest first: a COUNT and one LIMIT/OFFSET query."""
    stmt = _statement(filters)
    total = int(db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.execute(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                              .limit(per_page).offset((page - 1) * per_page))
    return AuditPage([describe(event, name) for event, name in rows], page, pages, total)


def csv_text(filters: Filters) -> str:
    """The matching events (newest first, at most EXPORT_LIMIT) as CSV with a BOM for spreadsheet programs;
    every cell formula-neutralised like the other exports (services/export.py)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([_("Time (%(zone)s)", zone=zone_label()), _("Person"), _("Branch"), _("Action"),
                     _("Object"), _("Changes"), _("Reason"), _("Client address")])
    stmt = _statement(filters).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(EXPORT_LIMIT)
    for event, name in db.session.execute(stmt):
        line = describe(event, name)
        changes = "; ".join(f"{key}: {old} → {new}" for key, old, new in line.changes)
        writer.writerow(neutralise_row([local_time(event.at), line.actor, name or "", line.action, line.obj,
                                        changes, line.reason, event.ip]))
    return buffer.getvalue()

