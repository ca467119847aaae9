"""From an empty install to a running district (issue 16): the first-run checklist, phases one can run, the
branch registry and its one secretary, and refused forms that keep what was typed."""
from datetime import timedelta

from sqlalchemy import select

from portal.clock import local_today
from portal.extensions import db
from portal.models import CampaignYear, Phase, PhaseKind, Role, User
from portal.services import campaign, firstrun

from ..factories import BranchFactory, UserFactory


def _current():
    return db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))

def _open_next(client, year, fields: dict, **kwargs):
    """POST 开启下一阶段 as the page would: with the year's version it showed (the one stored now)."""
    db.session.expire_all()
    version = db.session.get(type(year), year.id).version
    return client.form_post(f"/campaign/years/{year.id}/next-phase", {"version": str(version), **fields}, **kwargs)


def test_the_checklist_ticks_itself_from_the_state(client, admin):
    client.login(admin)
    home = client.get("/").get_data(as_text=True)
    assert 'id="setup-checklist"' in home and 'id="setup-calendar"' in home
    assert [s.done for s in firstrun.steps()] == [False] * 6  # built-in 2012 dates are all past
    BranchFactory()
    UserFactory(username="ld1", role=Role.LEADER)
    done = {s.key for s in firstrun.steps() if s.done}
    assert done == {"branches", "leaders"}
    client.get("/admin/roster/template.xlsx")
    assert "template" in {s.key for s in firstrun.steps() if s.done}
    page = client.get("/admin/setup").get_data(as_text=True)
    assert 'id="setup-branches" class="setup-step setup-step--done"' in page


def test_a_district_with_people_needs_no_template(client, admin):
    """People already in the portal (imported, or added one by one): the template step is behind them."""
    UserFactory(username="m1", role=Role.MEMBER, branch=BranchFactory())
    done = {s.key for s in firstrun.steps() if s.done}
    assert {"template", "roster"} <= done


def test_open_the_next_phase_today_from_a_calendar_in_the_past(client, admin):
    client.login(admin)
    year = _current()
    today = local_today()
    response = _open_next(client, year,
                                {"start": today.isoformat(), "end": (today + timedelta(days=20)).isoformat()})
    assert response.status_code == 303
    db.session.expire_all()
    year = _current()
    assert year.phase_on(today).kind == PhaseKind.MOBILISE
    phases = list(year.phases)
    assert all(b.starts_on > a.ends_on for a, b in zip(phases, phases[1:], strict=False))  # no overlap
    page = client.get("/campaign/years").get_data(as_text=True)
    assert 'class="phase--current" aria-current="step"' in page
    assert "calendar" in {s.key for s in firstrun.steps() if s.done}
    # The next click closes today's phase and opens the next one.
    tomorrow = today + timedelta(days=1)
    response = _open_next(client, year,
                                {"start": tomorrow.isoformat(), "end": (today + timedelta(days=40)).isoformat()})
    assert response.status_code == 303
    db.session.expire_all()
    year = _current()
    mobilise, pledge = list(year.phases)[:2]
    assert mobilise.ends_on == today and pledge.starts_on == tomorrow


def test_a_refused_next_phase_keeps_the_typed_dates(client, admin):
    client.login(admin)
    year = _current()
    response = _open_next(client, year, {"start": "2030-05-10", "end": "2030-05-01"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'value="2030-05-10"' in body and 'value="2030-05-01"' in body


def test_a_refused_year_form_shows_the_typed_dates_not_the_stored_ones(client, admin):
    client.login(admin)
    year = _current()
    data = {"theme": "我输入的主题", "description": "我的说明", "version": year.version}
    for n, kind in enumerate(campaign.PHASE_ORDER):
        data[f"{kind.value}_start"] = f"2031-0{n + 1}-01"
        data[f"{kind.value}_end"] = f"2031-0{n + 1}-20"
    data["pledge_start"] = "2031-01-10"  # overlaps the first phase
    response = client.form_post(f"/campaign/years/{year.id}", data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'value="2031-01-10"' in body and 'value="我输入的主题"' in body and "我的说明" in body
    stored = db.session.scalar(select(Phase).where(Phase.year_id == year.id, Phase.kind == PhaseKind.PLEDGE))
    assert f'value="{stored.starts_on.isoformat()}"' not in body


def test_one_active_secretary_per_branch_in_the_services(client, admin, branch, secretary):
    client.login(admin)
    refused = client.form_post("/admin/users", {"username": "second", "display_name": "第二书记",
                                                "password": "long-enough-42", "role": "secretary",
                                                "branch": str(branch.id)})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert secretary.display_name in body and 'value="second"' in body and 'value="第二书记"' in body
    member = UserFactory(username="mem9", role=Role.MEMBER, branch=branch)
    promoted = client.form_post(f"/admin/users/{member.id}", {"display_name": member.display_name, "role": "secretary",
                                                             "branch": str(branch.id), "post_title": "",
                                                             "version": str(member.version)})
    assert promoted.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, member.id).role == Role.MEMBER
    # Disabled, the old secretary no longer counts; enabling them again beside a new one is refused.
    client.form_post(f"/admin/users/{secretary.id}/active", {"active": "0"})
    assert client.form_post(f"/admin/users/{member.id}", {"display_name": member.display_name, "role": "secretary",
                                                         "branch": str(branch.id), "post_title": "",
                                                             "version": str(member.version)}).status_code == 303
    assert client.form_post(f"/admin/users/{secretary.id}/active", {"active": "1"}).status_code == 409


def test_the_branch_registry_shows_secretary_kind_members_and_status(client, admin, branch, secretary, member):
    empty = BranchFactory(name="阿里山小学党支部")
    client.login(admin)
    body = client.get("/admin/branches").get_data(as_text=True)
    row = body.split(f'id="branch-{branch.id}"')[1].split("</tr>")[0]
    assert secretary.display_name in row and "2 人有账号" in row or "2 with accounts" in row
    assert "没有书记" in body.split(f'id="branch-{empty.id}"')[1].split("</tr>")[0] or "No secretary" in body
    # Pinyin order: 阿 (a) before anything later in the alphabet.
    assert body.index(f'id="branch-{empty.id}"') < body.index(f'id="branch-{branch.id}"') or branch.name < "a"


def test_a_refused_branch_form_keeps_what_was_typed_and_zero_members_is_a_number(client, admin):
    BranchFactory(name="已有党支部")
    client.login(admin)
    refused = client.form_post("/admin/branches", {"unit_name": "新学校甲", "unit_kind": "middle",
                                                   "branch_name": "已有党支部", "branch_kind": "branch",
                                                   "member_count": "0"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True).split("new-unit_name")[2]
    assert 'value="新学校甲"' in body and 'value="已有党支部"' in body
    assert '<option value="middle" selected>' in body.replace("  ", " ")
    ok = client.form_post("/admin/branches", {"unit_name": "新学校乙", "unit_kind": "primary",
                                              "branch_name": "新学校乙党支部", "branch_kind": "branch",
                                              "member_count": "0"})
    assert ok.status_code == 303
