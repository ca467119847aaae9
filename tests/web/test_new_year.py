"""A new campaign year (issue 16, tester's finding 9): its phases start with the first one at the chosen day
(today by default), not in its last phase; making another year current is confirmed first and can be undone."""

from sqlalchemy import select

from portal.clock import local_today
from portal.extensions import db
from portal.models import PHASE_ORDER, CampaignYear


def _year(number):
    return db.session.scalar(select(CampaignYear).where(CampaignYear.year == number))


def test_a_new_year_starts_with_its_first_phase_today(client, admin):
    client.login(admin)
    today = local_today()
    number = today.year + 1 if _year(today.year) else today.year
    page = client.get("/campaign/years").get_data(as_text=True)
    assert f'name="start" type="date" value="{today.isoformat()}"' in page
    assert client.form_post("/campaign/years", {"year": str(number), "theme": "新的一年",
                                                "start": today.isoformat()}).status_code == 303
    year = _year(number)
    assert year.phase_on(today).kind == PHASE_ORDER[0]
    phases = list(year.phases)
    assert all(b.starts_on > a.ends_on for a, b in zip(phases, phases[1:], strict=False))


def test_a_first_phase_in_the_past_is_refused_with_the_typed_values_kept(client, admin):
    client.login(admin)
    today = local_today()
    response = client.form_post("/campaign/years", {"year": str(today.year + 2), "theme": "回到过去",
                                                     "start": "2001-01-01"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="2001-01-01"' in body and 'value="回到过去"' in body


def test_making_another_year_current_is_confirmed_and_can_be_switched_back(client, admin):
    client.login(admin)
    old = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    client.form_post("/campaign/years", {"year": str(old.year + 1), "theme": "下一年",
                                         "start": local_today().isoformat()})
    new = _year(old.year + 1)
    asked = client.form_post(f"/campaign/years/{new.id}/current", {})
    assert asked.status_code == 409 and f'id="confirm-current-{new.id}"' in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CampaignYear, old.id).is_current  # nothing changed yet
    assert client.form_post(f"/campaign/years/{new.id}/current", {"confirm": "1"}).status_code == 303
    page = client.get("/campaign/years").get_data(as_text=True)
    assert f'id="make-current-{old.id}"' in page  # the way back
    client.form_post(f"/campaign/years/{old.id}/current", {"confirm": "1"})
    db.session.expire_all()
    assert db.session.get(CampaignYear, old.id).is_current and not db.session.get(CampaignYear, new.id).is_current
