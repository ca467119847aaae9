"""Reading the audit log: the organisation section's page /admin/audit (rule "audit.log") and its CSV export.

Filters: a person (`user`: part of their username as recorded, so events of a removed account still match, or
of their name, in any case), a branch,
a kind of action (a whole area such as "checklist", or one action such as "checklist.return") and a date range
in the portal's local time zone. Newest first, paged in SQL. Each event is put in words: who, what (the
labels of labels.AUDIT_ACTION), which object, every value that changed as old → new, a return's reason, and
the client address.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, to_utc
from sqlalchemy import or_, select

from .. import labels
from ..extensions import db
from ..i18n import listed, when
from ..models import (
    Assessment,
    AuditEvent,
    Branch,
    Bulletin,
    CampaignYear,
    Inspection,
    Post,
    Project,
    SubmissionRequest,
    User,
)
from ..text import quoted
from . import branch_choice, paging
from .audit import COMMAND_LINE
from .export import csv_writer, local_time, zone_label

PER_PAGE = 50
EXPORT_LIMIT = 50_000  # rows in one CSV; narrow the filters for more

# The object an event names, in words ("Post" alone is also a person's job title: the context tells them apart).
OBJECT_TYPE = {
    "assessment": _l("Self-assessment"),
    "pledge": _l("Pledge"),
    "pledgeentry": _l("Pledge progress"),
    "submission": _l("Submission"),
    "submissionrequest": _l("Submission request"),
    "post": lazy_pgettext("news board", "Post"),
    "postimage": _l("Image in a post"),
    "bulletin": _l("Bulletin"),
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
    "rosterimport": _l("Roster import"),
}
# Objects shown with their name beside their number, and where the name is.
OBJECT_NAME = {
    "post": (Post.id, Post.title),
    "bulletin": (Bulletin.id, Bulletin.title),
    "submissionrequest": (SubmissionRequest.id, SubmissionRequest.title),
    "project": (Project.id, Project.title),
    "inspection": (Inspection.id, Inspection.title),
    "user": (User.id, User.display_name),
    "branch": (Branch.id, Branch.name),
}
# Records a recorded id (labels.AUDIT_REFERENCE) refers to, and where their names are.
REFERENCE_NAME = {
    "branch": (Branch.id, Branch.name),
    "user": (User.id, User.display_name),
    "username": (User.username, User.display_name),
    "post": (Post.id, Post.title),
}
MANY_SHOWN = 10  # names listed of a long list of ids ("and 40 more")
REASON_KEYS = ("reason", "return_reason", "comment")
CONTEXT_KEYS = labels.AUDIT_CONTEXT


@dataclass
class Filters:
    user: str = ""
    branch_id: int | None = None
    branch_q: str | None = None  # the branch picker's typed name (a district above branch_choice.MENU_MAX)
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
    branch_id, problem = branch_choice.read_filter(args, "branch", "all")
    if problem:
        errors["branch"] = problem
    kind = (args.get("kind") or "").strip()[:64]
    if kind and kind not in kind_values():
        errors["kind"] = str(_l("Choose a kind of action from the list."))
        kind = ""
    start, end = _day(args.get("start"), "start", errors), _day(args.get("end"), "end", errors)
    if start and end and end < start:
        errors["end"] = str(_l("The end date cannot be before the start date."))
        end = None
    return Filters(user=(args.get("user") or "").strip()[:64], branch_id=branch_id, kind=kind, start=start,
                   end=end, errors=errors, branch_q=args.get("branch_q") if problem else None)


def kind_values() -> list[str]:
    """Areas ("checklist") and single actions ("checklist.return") one may filter by."""
    actions = sorted(labels.AUDIT_ACTION)
    return sorted({a.split(".", 1)[0] for a in actions}) + actions


def kind_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """The kind filter's choices, by area in words: (area's name, [(value, label)]), the first choice of each area
    being the whole area ("All of them")."""
    areas: dict[str, list[tuple[str, str]]] = {}
    for action, label in labels.AUDIT_ACTION.items():
        areas.setdefault(action.split(".", 1)[0], []).append((action, str(label)))
    groups = []
    for area, actions in areas.items():
        name = str(labels.AUDIT_AREA.get(area, area))
        groups.append((name, [(area, _("All kinds in “%(area)s”", area=name)), *sorted(actions, key=lambda a: a[1])]))
    from ..collation import sort_key

    return sorted(groups, key=lambda group: sort_key(group[0]))


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
    changes: list[tuple[str, str | None, str]]  # (field, old or None when only set, new)
    reason: str

    actor_display: str = ""  # the person's name now (their account may be gone: then the username)

    @property
    def actor(self) -> str:
        """Who, in words: the person's name, or "command line" for a change made by a command."""
        if self.event.actor_name == COMMAND_LINE:
            return _("Command line")
        return self.actor_display or self.event.actor_name or ""

    @property
    def username(self) -> str:
        """The username as recorded (shown beside the name: a title attribute, a CSV column of its own)."""
        return "" if self.event.actor_name == COMMAND_LINE else (self.event.actor_name or "")


class Names:
    """The names of the records a page of events refers to, fetched once per kind of record (one query each)."""

    def __init__(self, events: list[AuditEvent]):
        wanted: dict[str, set] = {}
        for event in events:
            if event.actor_id is not None:
                wanted.setdefault("user", set()).add(event.actor_id)
            if event.object_id is not None and event.object_type in (*OBJECT_NAME, "assessment"):
                wanted.setdefault(f"object:{event.object_type}", set()).add(event.object_id)
            for values in (event.before or {}, event.after or {}):
                for key, value in values.items():
                    kind = _reference(event.object_type, key)
                    if kind and value not in (None, ""):
                        ids = value if isinstance(value, list) else [value]
                        wanted.setdefault(kind, set()).update(i for i in ids[:MANY_SHOWN] if isinstance(i, (int, str)))
        self.found: dict[str, dict] = {}
        for kind, ids in wanted.items():
            if kind == "object:assessment":
                self.found[kind] = _assessment_names(ids)
                continue
            found = OBJECT_NAME.get(kind[7:]) if kind.startswith("object:") else REFERENCE_NAME.get(kind)
            if found is None:  # a record without a name of its own (an appraisal round): shown by its number
                continue
            key, name = found
            ids = {i for i in ids if isinstance(i, str) == (key.type.python_type is str)}
            rows = db.session.execute(select(key, name).where(key.in_(ids))).tuples().all() if ids else []
            self.found[kind] = dict(rows)

    def get(self, kind: str, value):
        return self.found.get(kind, {}).get(value)


def _assessment_names(ids: set) -> dict[int, str]:
    """Self-assessments named by whose and which year ("蔡思远的2012年度五带头自评"), in one query."""
    rows = db.session.execute(
        select(Assessment.id, Assessment.member_id, User.display_name, Branch.name, CampaignYear.year)
        .join(CampaignYear, CampaignYear.id == Assessment.year_id)
        .join(Branch, Branch.id == Assessment.branch_id)
        .outerjoin(User, User.id == Assessment.member_id)
        .where(Assessment.id.in_({i for i in ids if isinstance(i, int)}))).tuples().all()
    names = {}
    for assessment_id, member_id, member_name, branch_name, year in rows:
        if member_id is not None:
            names[assessment_id] = _("%(who)s's %(year)s Five Leads self-assessment", who=member_name, year=year)
        else:
            names[assessment_id] = _("%(who)s's %(year)s Five Goods self-assessment", who=branch_name, year=year)
    return names


def _reference(object_type: str, key: str) -> str | None:
    return labels.AUDIT_REFERENCE.get(f"{object_type}.{key}", labels.AUDIT_REFERENCE.get(key))


def _words(object_type: str, key: str, value, names: Names) -> str:
    """A recorded value in words: a code's label, 是/否, a record's name for its id, a time in the portal's time
    zone, "—" for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(labels.YES_NO[value])
    kind = _reference(object_type, key)
    if kind and isinstance(value, (int, str, list)) and not (isinstance(value, int) and key == "branches"):
        ids = value if isinstance(value, list) else [value]
        shown = [names.get(kind, i) or (f"#{i}" if isinstance(i, int) else str(i)) for i in ids[:MANY_SHOWN]]
        if kind == "username" and isinstance(value, str) and names.get(kind, value):
            shown = [f"{names.get(kind, value)} ({value})"]
        text = listed(shown)
        return text if len(ids) <= MANY_SHOWN else _("%(names)s and %(n)s more", names=text, n=len(ids) - MANY_SHOWN)
    if key in labels.AUDIT_TIME:
        return when(value)
    codes = labels.audit_value_labels(key, object_type)
    if codes:
        if key == "groups" and isinstance(value, str):
            return listed(str(codes.get(g, g)) for g in value.split(",") if g)
        if key == "group" and value == "":
            return _("All groups")
        if isinstance(value, str):
            return str(codes.get(value, value))
    if isinstance(value, list):
        return listed(_words(object_type, key, v, names) if not isinstance(v, list) else
                      " – ".join(map(str, v)) for v in value)
    if isinstance(value, dict):  # its keys are codes of this field (codes), or fields of their own
        return _("; ").join(_("%(field)s: %(value)s", field=codes.get(k) or labels.audit_field_label(k, object_type),
                              value=_words(object_type, k, v, names)) for k, v in value.items())
    return str(value)


def describe(event: AuditEvent, branch_name: str | None, names: Names | None = None) -> Line:
    names = names if names is not None else Names([event])
    before, after = event.before or {}, event.after or {}
    changes = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in CONTEXT_KEYS:
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            name = str(labels.audit_field_label(key, event.object_type))
            # A field the event only set (a creation) shows its value alone: old is None then.
            changes.append((name, _words(event.object_type, key, old, names) if key in before else None,
                            _words(event.object_type, key, new, names) if key in after else "—"))
    reason = ""
    if event.action.endswith((".return", ".reject", ".overridden")):
        reason = next((str(after[k]) for k in (*REASON_KEYS, "decision_note") if after.get(k)), "")
    kind = OBJECT_TYPE.get(event.object_type)
    obj = f"{kind or event.object_type} #{event.object_id}" if event.object_id is not None else (
        str(kind) if kind else event.object_type)
    title = names.get(f"object:{event.object_type}", event.object_id)
    context = ("of", "item")
    if title and event.object_type == "assessment":
        obj, context = title, ("item",)  # its name says whose and which year: the recorded "of" would repeat it
    elif title and event.object_type == "user":
        obj = f"{kind} {quoted(title)}"  # a person by name: the account's number means nothing to a reader
    elif title:
        obj = f"{obj} {quoted(title)}"
    # What the change was about, beside the object: "晨曦路小学党支部2012年度五个好自评 · 1.2 坚持…".
    obj = " · ".join([obj, *(str(after[k]) for k in context if after.get(k))])
    actor = names.get("user", event.actor_id) if event.actor_id is not None else None
    return Line(event, branch_name, str(labels.AUDIT_ACTION.get(event.action, event.action)), obj, changes, reason,
                actor or "")


def unlabelled(event: AuditEvent) -> list[str]:
    """The recorded fields and codes of `event` that have no words (tests: every event reads in words)."""
    missing = [] if event.action in labels.AUDIT_ACTION else [event.action]
    if event.object_type and event.object_type not in OBJECT_TYPE:
        missing.append(event.object_type)
    for values in (event.before or {}, event.after or {}):
        for key, value in values.items():
            if key in CONTEXT_KEYS:
                continue
            if labels.audit_field_label(key, event.object_type) == key:
                missing.append(key)
            codes = labels.audit_value_labels(key, event.object_type)
            if codes and isinstance(value, str) and value and key != "groups" and value not in codes:
                missing.append(f"{key}={value}")
            if codes and isinstance(value, dict):
                missing.extend(f"{key}.{k}" for k in value if k not in codes)
    return missing


@dataclass
class AuditPage(paging.Paged):
    lines: list[Line]
    window: paging.Window


def page_of(filters: Filters, page: int = 1, per_page: int = PER_PAGE) -> AuditPage:
    """One page of matching events, newest first: a COUNT and one LIMIT/OFFSET query."""
    stmt = _statement(filters)
    shown = paging.window_of(stmt, page, per_page)
    rows = list(db.session.execute(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                   .limit(per_page).offset(shown.offset)))
    names = Names([event for event, _name in rows])
    return AuditPage([describe(event, name, names) for event, name in rows], shown)


def csv_text(filters: Filters) -> str:
    """The matching events (newest first, at most EXPORT_LIMIT) as CSV with a BOM for spreadsheet programs;
    every cell formula-neutralised like the other exports (services/export.py)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv_writer(buffer)
    writer.writerow([_("Time (%(zone)s)", zone=zone_label()), _("Person"), _("Username"), _("Branch"), _("Action"),
                     _("Object"), _("Changes"), _("Reason"), _("Client address")])
    stmt = _statement(filters).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(EXPORT_LIMIT)
    rows = list(db.session.execute(stmt))
    for start in range(0, len(rows), 1000):  # names fetched a thousand events at a time
        chunk = rows[start:start + 1000]
        names = Names([event for event, _name in chunk])
        for event, name in chunk:
            _write_line(writer, describe(event, name, names), name)
    return buffer.getvalue()


def _write_line(writer, line: Line, name: str | None) -> None:
    event = line.event
    changes = _("; ").join(_("%(field)s: %(value)s", field=key, value=new) if old is None else
                           _("%(field)s: %(old)s → %(new)s", field=key, old=old, new=new)
                           for key, old, new in line.changes)
    writer.writerow([local_time(event.at), line.actor, line.username, name or "", line.action, line.obj, changes,
                     line.reason, event.ip])

