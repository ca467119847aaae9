"""Campaign years and phases as the rest of the portal asks about them, and the guard that keeps
past years read-only."""
from __future__ import annotations

from datetime import date, datetime
from functools import cache

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_babel import to_utc
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import labels
from ..clock import local_today
from ..errors import Conflict, Invalid
from ..extensions import db
from ..input_guard import parse_int
from ..models import PHASE_ORDER, CampaignYear, Phase, PhaseKind, Role
from ..text import EARLIEST, LATEST
from . import audit
from .bulk import insert_dicts
from .items import in_checklist
from .versions import check_version


def current_year() -> CampaignYear | None:
    """The year marked current (or the latest). Asked many times per request (header, guards,
    services), so a request remembers the answer; a change of the current year takes effect on the
    next request, which is always a redirect after the change."""
    if has_request_context() and "current_year" in g:
        return g.current_year
    marked, latest = _current_year_statements()
    year = db.session.scalars(marked).unique().first()
    if year is None:  # nothing marked current: fall back to the latest year
        year = db.session.scalars(latest).unique().first()
    if has_request_context():
        g.current_year = year
    return year


def remember_current_year(year: CampaignYear) -> None:
    """`year`, read as the one marked current (with its phases) by a statement that read more (the person's, in
    accounts.load_user): what `current_year()` answers for the rest of the request."""
    if has_request_context():
        g.current_year = year


@cache
def _current_year_statements():
    """The year marked current, and the latest year: each with its phases in the same statement (the header shows
    the current phase; one statement, not two), built once (every request that draws a page asks)."""
    with_phases = joinedload(CampaignYear.phases)
    return (select(CampaignYear).options(with_phases).where(CampaignYear.is_current.is_(True)),
            select(CampaignYear).options(with_phases).order_by(CampaignYear.year.desc()).limit(1))


def current_phase(year: CampaignYear | None, today: date | None = None) -> Phase | None:
    if year is None:
        return None
    return year.phase_on(today or local_today())


def ensure_writable(year_id: int) -> CampaignYear:
    """The one guard for campaign work: only the current year may be written; others are history (409)."""
    year = db.session.get(CampaignYear, year_id)
    if year is None or not year.is_current:
        label = year.year if year is not None else "?"
        raise Conflict(str(_l("%(year)s is not the current campaign year: its records are read-only.",
                              year=label)))
    return year


def _plausible(day: date, field: str, errors: dict) -> bool:
    """Dates outside the campaign's plausible range are typing mistakes (and year 1 breaks time zones)."""
    if EARLIEST <= day <= LATEST:
        return True
    errors[field] = _l("Enter a date between 2000-01-01 and 2100-12-31.")
    return False


def parse_date(value: str | date | None, field: str, errors: dict, required: bool = True) -> date | None:
    """An ISO date from a form field (or a date a form already read); a translated message in
    `errors[field]` when it is not one or lies outside 2000 … 2100."""
    if isinstance(value, date):
        return value if _plausible(value, field, errors) else None
    value = (value or "").strip()
    if not value:
        if required:
            errors[field] = _l("Enter a date.")
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[field] = _l("Enter a date as YYYY-MM-DD.")
        return None
    return day if _plausible(day, field, errors) else None


def parse_datetime(value: str | datetime | None, field: str, errors: dict) -> datetime | None:
    """A local date and time from a form field (or a naive local datetime a form already read), in UTC."""
    if isinstance(value, datetime):
        value = value.isoformat()
    value = (value or "").strip()
    if not value:
        errors[field] = _l("Enter a date and time.")
        return None
    try:
        entered = datetime.fromisoformat(value).replace(tzinfo=None, second=0, microsecond=0)
    except ValueError:
        errors[field] = _l("Enter a date and time as YYYY-MM-DD HH:MM.")
        return None
    if not _plausible(entered.date(), field, errors):
        return None
    # People enter local time (the portal's time zone); everything is stored in UTC.
    return to_utc(entered)


# --- years and phases -------------------------------------------------------------------------

def phase_span(year: CampaignYear, today: date | None = None) -> tuple[date, date]:
    """Where a year's phases may plausibly lie: from the year before it (preparation) to two years after
    (the rectification and summing-up of a long campaign); anything else is a typing mistake. A year run
    now under an earlier number (a new install's built-in year, the first-run walk opening its phases
    today) may also lie around today."""
    this_year = (today or local_today()).year
    return date(min(year.year, this_year) - 1, 1, 1), date(max(year.year, this_year) + 2, 12, 31)


def _check_span(year: CampaignYear, field: str, day: date | None, errors: dict) -> None:
    first, last = phase_span(year)
    if day is not None and field not in errors and not first <= day <= last:
        errors[field] = _l("The phases of %(year)s lie between %(first)s and %(last)s.", year=year.year,
                           first=first.isoformat(), last=last.isoformat())


def year_span(year_id: int) -> tuple[date, date] | None:
    """The days a campaign year's work runs over: its first phase's start to its last phase's end (None
    when it has no phases). What belongs to the year (a project's milestones) is dated within it."""
    start, end = db.session.execute(select(func.min(Phase.starts_on), func.max(Phase.ends_on))
                                    .where(Phase.year_id == year_id)).one()
    return (start, end) if start and end else None


def list_years() -> list[CampaignYear]:
    return list(db.session.scalars(select(CampaignYear).order_by(CampaignYear.year.desc())))


def is_past(year: CampaignYear) -> bool:
    """True for a year before the current campaign year: finished, its records read-only."""
    current = current_year()
    return current is not None and year.year < current.year


def _ensure_not_past(year: CampaignYear) -> None:
    if is_past(year):
        raise Conflict(str(_l("%(year)s is a past campaign year: its records are read-only.", year=year.year)))


def update_year(actor, year: CampaignYear, theme: str, description: str, dates: dict[str, tuple[str, str]],
                version: int | None = None) -> None:
    """Edit a year's theme and its phases' dates, made on top of `version` (a stale save is a Conflict showing
    the saved theme). Phases lie within phase_span and follow each other without overlap."""
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
        _check_span(year, f"{kind.value}_start", start, errors)
        _check_span(year, f"{kind.value}_end", end, errors)
        if start and end and end < start:
            errors[f"{kind.value}_end"] = _l("A phase cannot end before it starts.")
        parsed[kind] = (start, end)
    _calendar_errors(parsed, errors)
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    check_version(year, version, shown=("theme",))
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


def _calendar_errors(parsed: dict, errors: dict) -> None:
    """The one rule of a year's calendar (the year form and "开启下一阶段" alike): every phase has both dates,
    none ends before it starts, and each starts after the previous one ends. Adds {field: message} to `errors`
    (fields named like the year form's: "<kind>_start", "<kind>_end")."""
    previous_end = None
    for kind in PHASE_ORDER:
        start, end = parsed[kind]
        if start and end and end < start and f"{kind.value}_end" not in errors:
            errors[f"{kind.value}_end"] = _l("A phase cannot end before it starts.")
        if start and previous_end and start <= previous_end and f"{kind.value}_start" not in errors:
            errors[f"{kind.value}_start"] = _l("A phase must start after the previous one ends.")
        previous_end = end or previous_end


class LastPhase(Conflict):
    """"开启下一阶段" while the last phase runs."""

    title = _l("This is already the last phase")


def next_phase_defaults(year: CampaignYear, today: date | None = None) -> tuple[date, date] | None:
    """The dates "开启下一阶段" proposes, valid under open_next_phase's rule: from today (even when today's phase
    began today); to the next phase's planned end, or as long as it was planned. None when there is no next
    phase."""
    today = today or local_today()
    target = next_phase(year, today)
    if target is None:
        return None
    start = today
    end = target.ends_on if target.ends_on >= start else start + (target.ends_on - target.starts_on)
    return start, end


def next_phase(year: CampaignYear, today: date | None = None) -> Phase | None:
    """The phase "开启下一阶段" opens: the one after today's phase; between phases, the next to come; when the
    whole calendar lies in the past (a rerun, or the built-in dates of a new install), the first."""
    today = today or local_today()
    phases = list(year.phases)
    if not phases:
        return None
    now = year.phase_on(today)
    if now is not None:
        later = [p for p in phases if p.position > now.position]
        return later[0] if later else None
    coming = [p for p in phases if p.starts_on > today]
    return coming[0] if coming else phases[0]


def open_next_phase(actor, year: CampaignYear, start: date | None, end: date | None,
                    today: date | None = None, opens: str | None = None, version: int | None = None) -> Phase:
    """Close today's phase and open the next from `start` (default: next_phase_defaults) to `end`: earlier phases
    end the day before `start`, and later phases that would overlap move on, keeping their lengths. The whole
    resulting calendar must pass the year form's rule (_calendar_errors).

    Opening the next phase on the day today's phase began (it was opened by mistake, or its work was done at once)
    is allowed: today's phase is passed over, kept as the one day before `start`, and the phases before it end
    before that (refused when that would squeeze one of them out). `opens`: the phase kind the form was shown
    for; when another phase would open (the form was sent twice, or someone opened it meanwhile) nothing changes
    (Conflict), so that a repeated click never passes over a phase. `version`: the year's version the page showed;
    a calendar changed since (another tab chose other dates, the year form was saved) is a Conflict and nothing
    changes (None, a script: not compared). Audited with the calendar before and after.
    Raises Invalid (field errors on `start` and `end`), LastPhase or Conflict."""
    from datetime import timedelta

    _ensure_not_past(year)
    today = today or local_today()
    target = next_phase(year, today)
    if target is None:
        raise LastPhase(str(_l("The last phase, “%(phase)s”, is running: there is no next phase to open. Its end "
                               "date can be changed in the year's form above.",
                               phase=labels.PHASE[year.phase_on(today).kind] if year.phase_on(today) else "")))
    if version is not None and version != year.version:
        raise Conflict(str(_l("The calendar was changed meanwhile (in another tab, or by someone else): nothing was "
                              "changed. Check the dates below before opening the next phase.")))
    if opens and opens != target.kind.value:
        raise Conflict(str(_l("The phase was opened already: “%(phase)s” is the next one now. Nothing was changed; "
                              "check the dates below before opening it.", phase=labels.PHASE[target.kind])))
    defaults = next_phase_defaults(year, today)
    start = start or defaults[0]
    errors: dict = {}
    if end is None:
        errors["end"] = _l("Enter a date.")
    elif end < start:
        errors["end"] = _l("A phase cannot end before it starts.")
    _check_span(year, "start", start, errors)
    _check_span(year, "end", end, errors)
    current = year.phase_on(today)
    if current is not None and start < current.starts_on:
        errors["start"] = _l("The next phase cannot start before the current one began (%(day)s).",
                             day=current.starts_on.isoformat())
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    # The resulting calendar, computed first and checked with the year form's rule before anything is written.
    planned = {p.kind: [p.starts_on, p.ends_on] for p in year.phases}
    limit = start - timedelta(days=1)
    for phase in sorted((p for p in year.phases if p.position < target.position), key=lambda p: -p.position):
        # Each earlier phase closes before the next one starts (today's phase: yesterday, when opening today).
        # Today's phase, opened on `start`'s day, is passed over: its one day is the day before.
        planned[phase.kind][1] = min(planned[phase.kind][1], limit)
        if phase is current and planned[phase.kind][0] > limit:
            planned[phase.kind][0] = limit
        limit = min(limit, planned[phase.kind][0] - timedelta(days=1))
    planned[target.kind] = [start, end]
    previous_end = end
    for phase in year.phases:
        if phase.position > target.position and planned[phase.kind][0] <= previous_end:
            length = phase.ends_on - phase.starts_on
            planned[phase.kind] = [previous_end + timedelta(days=1), previous_end + timedelta(days=1) + length]
        if phase.position > target.position:
            previous_end = planned[phase.kind][1]
    calendar: dict = {}
    _calendar_errors({kind: tuple(planned.get(kind, (None, None))) for kind in PHASE_ORDER}, calendar)
    if calendar:
        first = next(kind for kind in PHASE_ORDER if {f"{kind.value}_start", f"{kind.value}_end"} & set(calendar))
        errors["start"] = _l("From %(day)s the phases would overlap (“%(phase)s” would have to start before it "
                             "ends or before the previous phase ends). Choose a later date, or change the year's "
                             "dates in the form above.", day=start.isoformat(), phase=labels.PHASE[first])
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    before = {p.kind.value: [str(p.starts_on), str(p.ends_on)] for p in year.phases}
    check_version(year, version)  # claims the next version: of two simultaneous sends, one changes the calendar
    for phase in year.phases:
        phase.starts_on, phase.ends_on = planned[phase.kind]
    audit.record(actor, "campaign_year.next_phase", year, before=before,
                 after={p.kind.value: [str(p.starts_on), str(p.ends_on)] for p in year.phases} | {
                     "opened": target.kind.value})
    db.session.commit()
    return target


def new_year_start(number: int, today: date | None = None) -> date:
    """Where a new year's first phase starts by default: today for this year (or a later year already begun),
    else the plan's usual 10 June of that year."""
    today = today or local_today()
    return today if number <= today.year else date(number, 6, 10)


def create_year(actor, year_no: str, theme: str, start: date | None = None, today: date | None = None) -> CampaignYear:
    """A new campaign year whose five phases follow each other from `start` (default new_year_start): today or
    later for a year not yet over."""
    errors: dict = {}
    today = today or local_today()
    number = parse_int(year_no, low=2000, high=2100)
    if number is None:
        errors["year"] = _l("Enter a year such as 2013.")
        number = 0
    if number and start is None:
        start = new_year_start(number, today)
    if start is not None and number >= today.year and start < today:
        errors["start"] = _l("The first phase starts today or later.")
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
    for position, (kind, (first, last)) in enumerate(zip(PHASE_ORDER, default_phases(number, start),
                                                          strict=True), 1):
        db.session.add(Phase(year_id=year.id, kind=kind, position=position, starts_on=first, ends_on=last))
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
        Role.ADMIN: [(_l("Collect the public appraisal of every branch."), "appraisal.round_settings")],
        Role.LEADER: [(_l("Follow the public appraisal and the open follow-ups."), "campaign.inspections"),
                      (_l("Confirm the branches' grades."), "appraisal.grades")],
        Role.SECRETARY: [(_l("Organise the appraisal by teachers, students and parents."), "appraisal.hub")],
        Role.MEMBER: [(_l("Take part in the public appraisal."), "appraisal.members")],
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


def tasks_for(user, year: CampaignYear) -> tuple[list[tuple[str, str | None]], int]:
    """For the home page: (the role's tasks in the current phase, submissions the user's branch owes)."""
    from .submissions import due_count

    due = due_count(year, user.branch_id) if user.role == Role.SECRETARY and user.branch_id else 0
    return phase_tasks(user, current_phase(year)), due


# --- demo data ------------------------------------------------------------------------------------

def seed_demo(today: date) -> None:
    """The demo's campaign work in the current year, dated around `today`: a plan request with every
    grid state, pledges in each status, a brand project with milestones, a visit with an overdue
    follow-up. Core bulk inserts; the caller commits."""
    from datetime import timedelta

    from sqlalchemy import insert

    from ..models import (
        Branch,
        Criterion,
        FollowUp,
        FollowUpStatus,
        Framework,
        GroupRole,
        Inspection,
        InspectionKind,
        Item,
        LeadingGroupMember,
        Milestone,
        Pledge,
        PledgeEntry,
        PledgeStatus,
        Project,
        RequestKind,
        Subject,
        Submission,
        SubmissionRequest,
        SubmissionStatus,
        User,
        inspection_branch,
        pledge_item,
    )

    year = current_year()
    branches = list(db.session.execute(select(Branch.id, Branch.brand_name).order_by(Branch.id)))
    if year is None or not branches:
        return
    admin_id = db.session.scalar(select(User.id).where(User.role == Role.ADMIN).order_by(User.id).limit(1))
    leader_id = db.session.scalar(select(User.id).where(User.role == Role.LEADER).order_by(User.id).limit(1))
    secretaries = dict(db.session.execute(select(User.branch_id, User.id).where(User.role == Role.SECRETARY)).all())

    def at(days: int, hour: int = 9) -> datetime:
        """`hour` o'clock local time (PORTAL_TIMEZONE), `days` from today, stored as UTC like every time: a
        deadline "at 17" is 17:00 in Beijing, not 01:00 at night."""
        day = today + timedelta(days=days)
        return to_utc(datetime(day.year, day.month, day.day, hour, 0)).replace(tzinfo=None)

    # 报送: the plan request, deadline five days ago, every state of the grid; and one due soon.
    db.session.execute(insert(SubmissionRequest), [
        {"year_id": year.id, "kind": RequestKind.PLAN, "title": "报送创先争优活动领导小组名单和实施方案",
         "description": "请各基层党组织报送领导小组名单(组长、副组长、成员及职务)和活动实施方案。",
         "deadline": at(-5, 17), "created_by_id": admin_id, "created_at": at(-25)},
        {"year_id": year.id, "kind": RequestKind.GENERAL, "title": "报送“向十八大献礼”主题活动小结",
         "description": "请各支部报送主题活动开展情况小结(不超过两页)。", "deadline": at(10, 17),
         "created_by_id": admin_id, "created_at": at(-2)},
    ])
    plan_id, general_id = db.session.scalars(select(SubmissionRequest.id).where(
        SubmissionRequest.year_id == year.id).order_by(SubmissionRequest.id)).all()[-2:]
    # Branch 1 still owes the plan (the demo secretary has work); branch 2 was returned.
    cycle = [SubmissionStatus.PENDING, SubmissionStatus.RETURNED, SubmissionStatus.ACCEPTED,
             SubmissionStatus.SUBMITTED, "late", SubmissionStatus.ACCEPTED, SubmissionStatus.PENDING]
    rows = []
    for index, (branch_id, _brand) in enumerate(branches):
        state = cycle[index % len(cycle)]
        late = state == "late"
        status = SubmissionStatus.SUBMITTED if late else state
        handed = status != SubmissionStatus.PENDING
        rows.append({"request_id": plan_id, "branch_id": branch_id, "status": status, "note": "",
                     "document_name": "", "document_stored": "", "is_late": late,
                     "submitted_by_id": secretaries.get(branch_id) if handed else None,
                     "submitted_at": (at(-3) if late else at(-8)) if handed else None,
                     "return_reason": "领导小组成员缺少职务,请补充后重新报送。" if status == SubmissionStatus.RETURNED
                     else "", "decided_at": at(-6) if status in (SubmissionStatus.RETURNED,
                                                                SubmissionStatus.ACCEPTED) else None})
    rows += [{"request_id": general_id, "branch_id": b, "status": SubmissionStatus.PENDING, "note": "",
              "document_name": "", "document_stored": "", "is_late": False, "return_reason": "",
              "submitted_by_id": None, "submitted_at": None, "decided_at": None} for b, _ in branches]
    insert_dicts(Submission.__table__, rows)  # Core rows (the ORM's bulk insert split them on every NULL)
    handed_ids = db.session.scalars(select(Submission.id).where(
        Submission.request_id == plan_id, Submission.status != SubmissionStatus.PENDING)).all()
    group = [(GroupRole.LEADER, "支部书记"), (GroupRole.DEPUTY, "校长"), (GroupRole.MEMBER, "教导主任"),
             (GroupRole.MEMBER, "工会主席")]
    names = ["林思远", "周若兰", "吴嘉怡", "徐子轩"]
    if handed_ids:  # an empty executemany would insert one row of defaults (a district of one branch)
        db.session.execute(insert(LeadingGroupMember), [
            {"submission_id": sid, "group_role": role, "name": names[i], "post_title": post, "position": i}
            for sid in handed_ids for i, (role, post) in enumerate(group)])

    # 公开承诺: branch pledges in every status; members' pledges, some waiting for their secretary.
    def items_of(subject) -> list[int]:
        return db.session.scalars(select(Item.id).join(Criterion).join(Framework).where(
            Framework.subject == subject, in_checklist(year.id, year.year), Item.year_id.is_(None))
            .order_by(Item.id)).all()

    item_ids = {None: items_of(Subject.BRANCH), "member": items_of(Subject.MEMBER)}
    branch_texts = ["开展“党员示范岗”活动,每名党员结对帮扶一名青年教师。", "每月组织一次主题党日,全年不少于十二次。",
                    "建立党员志愿服务队,全年服务社区不少于二十次。", "完善支部学习制度,每季度开展一次专题研讨。"]
    statuses = [PledgeStatus.APPROVED, PledgeStatus.PENDING, PledgeStatus.RETURNED, PledgeStatus.DRAFT]
    pledge_rows = []
    for index, (branch_id, _brand) in enumerate(branches):
        status = statuses[index % len(statuses)]
        pledge_rows.append({"year_id": year.id, "branch_id": branch_id, "member_id": None,
                            "author_id": secretaries.get(branch_id), "text": branch_texts[index % len(branch_texts)],
                            "status": status, "return_reason": "请写明可衡量的目标。" if status == PledgeStatus.RETURNED
                            else "", "approved_by_id": admin_id if status == PledgeStatus.APPROVED else None,
                            "approved_at": at(-40) if status == PledgeStatus.APPROVED else None,
                            "fulfilment_rating": "", "fulfilment_comment": "",
                            "created_at": at(-50), "updated_at": at(-40)})
    members = db.session.execute(select(User.id, User.branch_id).where(User.role == Role.MEMBER)
                                 .order_by(User.id)).all()
    member_texts = ["带头上好每一堂课,所带班级学业水平稳步提升。", "每学期开设一次公开课,帮带一名青年教师。",
                    "坚持每周家访一次,关心学困生成长。"]
    for index, (member_id, branch_id) in enumerate(members[: 3 * len(branches)]):
        status = [PledgeStatus.APPROVED, PledgeStatus.PENDING, PledgeStatus.APPROVED][index % 3]
        pledge_rows.append({"year_id": year.id, "branch_id": branch_id, "member_id": member_id, "author_id": member_id,
                            "text": member_texts[index % len(member_texts)], "status": status, "return_reason": "",
                            "approved_by_id": secretaries.get(branch_id) if status == PledgeStatus.APPROVED else None,
                            "approved_at": at(-38) if status == PledgeStatus.APPROVED else None,
                            "fulfilment_rating": "", "fulfilment_comment": "",
                            "created_at": at(-45), "updated_at": at(-38)})
    insert_dicts(Pledge.__table__, pledge_rows)  # Core rows (the ORM's bulk insert wrote them one by one)
    pledges = db.session.execute(select(Pledge.id, Pledge.status, Pledge.author_id, Pledge.member_id).where(
        Pledge.year_id == year.id).order_by(Pledge.id)).all()
    tags = [(pid, item_ids["member" if member else None]) for pid, _s, _a, member in pledges]
    db.session.execute(insert(pledge_item), [{"pledge_id": pid, "item_id": items[(pid * 7) % len(items)]}
                                             for pid, items in tags if items])
    db.session.execute(insert(PledgeEntry), [
        {"pledge_id": pid, "author_id": author, "text": text, "happened_on": today - timedelta(days=days),
         "created_at": at(-days)}
        for pid, status, author, _member in pledges if status == PledgeStatus.APPROVED
        for text, days in (("结对帮扶青年教师,完成听课评课四次。", 20), ("组织主题党日活动,党员参与率100%。", 6))])

    # 项目引领: branch 1's brand project with milestones, one met.
    first_branch, brand = branches[0]
    db.session.execute(insert(Project), [{"branch_id": first_branch, "year_id": year.id,
                                          "title": f"“{brand or '党员示范岗'}”党员示范岗建设",
                                          "goal": "全体党员亮身份、作表率;年内评出十名示范岗党员。",
                                          "created_at": at(-60)}])
    project_id = db.session.scalar(select(Project.id).where(Project.branch_id == first_branch)
                                   .order_by(Project.id.desc()).limit(1))
    db.session.execute(insert(Milestone), [
        {"project_id": project_id, "title": "党员示范岗挂牌", "measure": "全部党员挂牌上岗",
         "due_on": today - timedelta(days=30), "done": True, "done_at": at(-32), "evidence": "挂牌照片及名单已存档。"},
        {"project_id": project_id, "title": "示范课展示", "measure": "每名党员上一节示范课",
         "due_on": today + timedelta(days=15), "done": False, "done_at": None, "evidence": ""},
        {"project_id": project_id, "title": "评选示范岗党员", "measure": "评出十名示范岗党员",
         "due_on": today + timedelta(days=45), "done": False, "done_at": None, "evidence": ""},
    ])

    # 督察: a one-day research visit with an overdue follow-up, a done one and an open one.
    visited = [b for b, _ in branches[:2]]
    db.session.execute(insert(Inspection), [{"year_id": year.id, "kind": InspectionKind.RESEARCH_VISIT,
                                             "held_on": today - timedelta(days=15), "title": "一日调研:支部品牌建设",
                                             "findings": "支部品牌特色鲜明;个别支部实施方案尚未报送,"
                                                         "党员承诺公示不够及时。",
                                             "created_by_id": leader_id, "created_at": at(-15)}])
    inspection_id = db.session.scalar(select(Inspection.id).where(Inspection.year_id == year.id)
                                      .order_by(Inspection.id.desc()).limit(1))
    db.session.execute(insert(inspection_branch), [{"inspection_id": inspection_id, "branch_id": b} for b in visited])
    db.session.execute(insert(FollowUp), [
        {"inspection_id": inspection_id, "branch_id": visited[0], "action": "报送领导小组名单和实施方案",
         "owner": "支部书记", "due_on": today - timedelta(days=3), "status": FollowUpStatus.OPEN, "done_at": None},
        {"inspection_id": inspection_id, "branch_id": visited[-1], "action": "在校园网公示党员承诺",
         "owner": "支部宣传委员", "due_on": today - timedelta(days=8), "status": FollowUpStatus.DONE,
         "done_at": at(-9)},
        {"inspection_id": inspection_id, "branch_id": None, "action": "总结品牌建设经验,形成书面材料",
         "owner": "组织科", "due_on": today + timedelta(days=20), "status": FollowUpStatus.OPEN, "done_at": None},
    ])
