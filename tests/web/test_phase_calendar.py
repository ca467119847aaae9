"""开启下一阶段 (issue 16, tester's findings 4, 5, 10): the proposed dates are always accepted, the resulting
calendar passes the year form's own rule or nothing is written (422, typed values kept), and a click while the
last phase runs is answered with a fitting title."""
import random
from datetime import date, timedelta

from sqlalchemy import select

from portal.clock import local_today
from portal.errors import Invalid
from portal.extensions import db
from portal.models import PHASE_ORDER, CampaignYear
from portal.services import campaign


def _current():
    return db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))

def _open_next(client, year, fields: dict, **kwargs):
    """POST 开启下一阶段 as the page would: with the year's version it showed (the one stored now)."""
    db.session.expire_all()
    version = db.session.get(type(year), year.id).version
    return client.form_post(f"/campaign/years/{year.id}/next-phase", {"version": str(version), **fields}, **kwargs)


def _set_calendar(year, first: date, lengths=(10, 10, 10, 10, 10), gap=0):
    day = first
    for phase, length in zip(year.phases, lengths, strict=True):
        phase.starts_on, phase.ends_on = day, day + timedelta(days=length - 1)
        day = phase.ends_on + timedelta(days=1 + gap)
    db.session.commit()


def _dates(year) -> list[tuple[date, date]]:
    """The year's calendar: (start, end) of each phase in order."""
    return [(p.starts_on, p.ends_on) for p in year.phases]


def _valid(year) -> bool:
    errors: dict = {}
    campaign._calendar_errors({p.kind: (p.starts_on, p.ends_on) for p in year.phases}, errors)
    return not errors


def test_the_proposed_dates_are_accepted_on_every_day_of_the_calendar(app, admin):
    """Whatever day it is (first day of a phase, its last, between phases, before or after the calendar), the
    dates the form proposes are dates the service accepts, and the result is a valid calendar."""
    year = _current()
    first = local_today() + timedelta(days=30)  # within the forms' horizon
    for offset in range(-3, 62, 2):
        for gap in (0, 3):
            _set_calendar(year, first, gap=gap)
            today = first + timedelta(days=offset)
            proposed = campaign.next_phase_defaults(year, today)
            if proposed is None:  # the last phase runs
                continue
            campaign.open_next_phase(admin, year, proposed[0], proposed[1], today=today)
            db.session.expire_all()
            year = _current()
            assert _valid(year), (offset, gap)
            # The next proposal (after opening) is accepted too, today again: the phase opened today is passed
            # over (its one day is yesterday), or, where that would squeeze an earlier phase out, refused whole.
            again = campaign.next_phase_defaults(year, today)
            if again is None:
                continue
            before = _dates(year)
            try:
                campaign.open_next_phase(admin, year, again[0], again[1], today=today)
            except Invalid:
                db.session.rollback()
                db.session.expire_all()
                assert _dates(_current()) == before
                continue
            db.session.expire_all()
            year = _current()
            assert _valid(year), (offset, gap)


def test_the_next_phase_opens_on_the_day_the_current_one_began(client, admin):
    """A phase opened today (by mistake, or its work done at once): the next opens today too, not tomorrow; the
    phase passed over keeps one day, the day before, and the one before it closes the day before that."""
    client.login(admin)
    year = _current()
    today = local_today()
    _set_calendar(year, today - timedelta(days=30), lengths=(31, 10, 10, 10, 10))
    first, second, third = year.phases[:3]
    assert _open_next(client, year, {
        "start": today.isoformat(), "end": (today + timedelta(days=9)).isoformat(),
        "opens": second.kind.value}).status_code == 303
    page = client.get("/campaign/years").get_data(as_text=True)
    assert f'id="next-start-{year.id}" name="start" value="{today.isoformat()}"' in page  # today, not tomorrow
    assert f'name="opens" value="{third.kind.value}"' in page
    fields = {"start": today.isoformat(), "end": (today + timedelta(days=9)).isoformat(), "opens": third.kind.value}
    assert _open_next(client, year, fields).status_code == 303
    db.session.expire_all()
    year = _current()
    assert year.phase_on(today).kind == third.kind and _valid(year)
    day = timedelta(days=1)
    assert _dates(year)[:3] == [
        (today - 30 * day, today - 2 * day), (today - day, today - day), (today, today + 9 * day)]
    from portal.models import AuditEvent
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign_year.next_phase")
                              .order_by(AuditEvent.id.desc()))
    assert event.after["opened"] == third.kind.value and event.before[second.kind.value][0] == today.isoformat()
    # The same form sent again opens nothing more: the phase after it is not opened by a repeated click.
    calendar = _dates(year)
    assert _open_next(client, year, fields).status_code == 409
    db.session.expire_all()
    assert _dates(_current()) == calendar


def test_a_start_that_would_make_the_calendar_overlap_is_refused_and_nothing_changes(client, admin):
    """Between phases, a start before earlier phases' starts used to squeeze them into overlapping days."""
    client.login(admin)
    year = _current()
    today = local_today()
    _set_calendar(year, today - timedelta(days=12), gap=5)  # today lies between the first and second phase
    assert year.phase_on(today) is None
    before = _dates(year)
    early = today - timedelta(days=30)  # before the calendar: the first phase would end before it starts
    response = _open_next(client, year, {
        "start": early.isoformat(), "end": (early + timedelta(days=5)).isoformat()})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and f'value="{early.isoformat()}"' in body
    db.session.expire_all()
    assert _dates(_current()) == before


def test_random_starts_either_refused_or_leave_a_valid_calendar(app, admin):
    rng = random.Random(16)
    year = _current()
    first = local_today() + timedelta(days=30)  # within the forms' horizon
    for _ in range(60):
        _set_calendar(year, first, gap=rng.choice((0, 4)))
        before = _dates(year)
        today = first + timedelta(days=rng.randrange(-5, 70))
        start = first + timedelta(days=rng.randrange(-20, 80))
        end = start + timedelta(days=rng.randrange(0, 20))
        try:
            campaign.open_next_phase(admin, year, start, end, today=today)
        except Invalid:
            db.session.rollback()
            db.session.expire_all()
            year = _current()
            assert _dates(year) == before
            continue
        except campaign.LastPhase:
            db.session.rollback()
            continue
        db.session.expire_all()
        year = _current()
        assert _valid(year), (today, start, end)


def test_next_phase_while_the_last_phase_runs_has_a_fitting_title(client, admin):
    client.login(admin)
    year = _current()
    today = local_today()
    _set_calendar(year, today - timedelta(days=45), lengths=(10, 10, 10, 10, 30))
    assert year.phase_on(today).kind == PHASE_ORDER[-1]
    response = _open_next(client, year, {
        "start": today.isoformat(), "end": (today + timedelta(days=3)).isoformat()})
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This record has changed" not in body and "该记录已发生变化" not in body
    assert "This is already the last phase" in body or "已是最后一个阶段" in body


def test_a_next_phase_chosen_to_begin_later_is_announced_for_its_day(client, admin):
    """The tester's finding: a start tomorrow was answered 「“公开承诺”阶段已开启。」 while the page still showed
    today's phase as current; the answer says when the next phase begins."""
    client.login(admin)
    year = _current()
    today = local_today()
    _set_calendar(year, today - timedelta(days=5), lengths=(10, 10, 10, 10, 10))
    second = year.phases[1]
    tomorrow = today + timedelta(days=1)
    answer = _open_next(client, year, {
        "start": tomorrow.isoformat(), "end": (today + timedelta(days=9)).isoformat(),
        "opens": second.kind.value}, follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert f"begins on {tomorrow.isoformat()}" in text or f"{tomorrow.isoformat()} 开始" in text
    assert "is open" not in text and "已开启" not in text


def test_a_tab_left_open_cannot_undo_the_next_phase_chosen_in_another(client, admin):
    """Breaker round 2: tab 1 chose tomorrow for the next phase; tab 2, loaded before, sent today's default and
    silently moved it. The form carries the year's version: the stale send is a 409 and nothing changes."""
    client.login(admin)
    year = _current()
    today = local_today()
    _set_calendar(year, today - timedelta(days=5), lengths=(10, 10, 10, 10, 10))
    second = year.phases[1]
    page = client.get("/campaign/years").get_data(as_text=True)
    shown = page.split(f'id="next-phase-{year.id}"')[1].split('name="version" value="')[1].split('"')[0]
    end = (today + timedelta(days=9)).isoformat()
    tomorrow = (today + timedelta(days=1)).isoformat()
    first_tab = {"start": tomorrow, "end": end, "opens": second.kind.value, "version": shown}
    assert client.form_post(f"/campaign/years/{year.id}/next-phase", first_tab).status_code == 303
    db.session.expire_all()
    calendar = _dates(_current())
    second_tab = {"start": today.isoformat(), "end": end, "opens": second.kind.value, "version": shown}
    answer = client.form_post(f"/campaign/years/{year.id}/next-phase", second_tab)
    assert answer.status_code == 409
    assert "阶段日期已在此期间被修改" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert _dates(_current()) == calendar


def test_phases_moved_by_an_opening_are_named(client, admin):
    """Opening the next phase on the day the current one began moves the phases before it: the answer says so."""
    client.login(admin)
    year = _current()
    today = local_today()
    _set_calendar(year, today - timedelta(days=30), lengths=(31, 10, 10, 10, 10))
    second = year.phases[1]
    answer = _open_next(client, year, {
        "start": today.isoformat(), "end": (today + timedelta(days=9)).isoformat(), "opens": second.kind.value},
        follow_redirects=True)
    first = _current().phases[0]
    assert f"“部署动员”阶段现为 {first.starts_on.isoformat()} 至 {first.ends_on.isoformat()}。" in \
        answer.get_data(as_text=True)
