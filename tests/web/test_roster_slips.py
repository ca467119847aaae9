"""Activation slips at district scale (issue 16, tester's findings 1, 2, 11, 12, 13, 16): a blank branch means
the people without a branch, never everybody; printing is POST-redirect-GET and asks before replacing codes;
one person's code from their account page; a failed import says why and leaves no account events behind;
previews do not linger."""
import os
import re
import time
from datetime import UTC
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, ImportStatus, Role, RosterImport, SlipBatch, User
from portal.services import figures, roster, uploads

from ..factories import BranchFactory, UserFactory
from .test_roster_import import HEADER, confirm, upload
from .test_roster_import import inline_queue as inline_queue  # the fixture

CODE = re.compile(r'id="slip-([a-z0-9]+)".*?data-code="([A-Z0-9]+)"', re.S)


def _imported(client, admin):
    branch = BranchFactory(name="书香路小学党支部")
    client.login(admin)
    page = upload(client, HEADER + f"wangli,王丽,支部书记,{branch.name},校长\nzhaoqiang,赵强,党员,{branch.name},"
                                   "教师\nloner,孤身,宣传科,,\nloner2,孤二,领导小组,,\n")
    assert page.status_code == 200, page.get_data(as_text=True)
    confirm(client, page)
    return branch, db.session.scalar(select(RosterImport))


def test_a_blank_branch_prints_the_people_without_a_branch_and_all_is_explicit(client, admin, inline_queue):
    branch, job = _imported(client, admin)
    page = client.get(f"/admin/roster/imports/{job.id}").get_data(as_text=True)
    assert 'name="branch" value="all"' in page and 'name="branch" value=""' in page
    made = client.form_post(f"/admin/roster/imports/{job.id}/slips", {"branch": ""})
    assert made.status_code == 303
    sheet = client.get(made.headers["Location"]).get_data(as_text=True)
    assert set(dict(CODE.findall(sheet))) == {"loner", "loner2"}  # never the branch's people
    # The branch's own button: only its people.
    sheet = client.get(client.form_post(f"/admin/roster/imports/{job.id}/slips", {"branch": str(branch.id)})
                       .headers["Location"]).get_data(as_text=True)
    assert set(dict(CODE.findall(sheet))) == {"wangli", "zhaoqiang"}
    # No scope at all is refused, not read as "everybody".
    assert client.form_post(f"/admin/roster/imports/{job.id}/slips", {}).status_code == 422


def test_a_reload_shows_the_same_codes_and_printing_again_asks_naming_how_many(client, admin, inline_queue):
    _branch, job = _imported(client, admin)
    made = client.form_post(f"/admin/roster/imports/{job.id}/slips", {"branch": "all"})
    first = client.get(made.headers["Location"]).get_data(as_text=True)
    again = client.get(made.headers["Location"]).get_data(as_text=True)  # reload / back: the same sheet
    codes = dict(CODE.findall(first))
    assert len(codes) == 4 and dict(CODE.findall(again)) == codes
    assert db.session.scalar(select(func.count(SlipBatch.id))) == 1
    # Printing the same people again: asked first, with the count; nothing is replaced meanwhile.
    asked = client.form_post(f"/admin/roster/imports/{job.id}/slips", {"branch": "all"})
    body = asked.get_data(as_text=True)
    assert asked.status_code == 409 and 'id="slips-confirm"' in body and "4" in body
    assert dict(CODE.findall(client.get(made.headers["Location"]).get_data(as_text=True))) == codes
    # A confirmation for another count (the people changed meanwhile) asks again.
    assert client.form_post(f"/admin/roster/imports/{job.id}/slips",
                            {"branch": "all", "confirm": "3"}).status_code == 409
    replaced = client.form_post(f"/admin/roster/imports/{job.id}/slips", {"branch": "all", "confirm": "4"})
    assert replaced.status_code == 303
    new = dict(CODE.findall(client.get(replaced.headers["Location"]).get_data(as_text=True)))
    assert set(new) == set(codes) and not set(new.values()) & set(codes.values())
    # The old sheet no longer shows codes that stopped working.
    assert CODE.findall(client.get(made.headers["Location"]).get_data(as_text=True)) == []


def test_the_account_page_shows_the_activation_state_and_reissues_one_slip(client, admin, branch):
    person = UserFactory(username="newbie", role=Role.MEMBER, branch=branch)
    person.password_hash = "!activation"
    db.session.commit()
    client.login(admin)
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert 'id="activation-state"' in page and 'id="reissue-activation"' in page
    made = client.form_post(f"/admin/users/{person.id}/activation", {})
    sheet = client.get(made.headers["Location"]).get_data(as_text=True)
    assert list(dict(CODE.findall(sheet))) == ["newbie"]
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    db.session.expire_all()
    expires = db.session.get(User, person.id).activation_expires_at  # UTC, shown in the portal's zone
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    end = expires.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d")
    assert end in page.split('id="activation-state"', 1)[1].split("</p>", 1)[0]


def test_a_failed_import_says_why_and_leaves_no_account_events(client, admin, inline_queue, monkeypatch):
    branch = BranchFactory(name="甲校党支部")
    client.login(admin)
    page = upload(client, HEADER + f"aa1,甲,党员,{branch.name},\nbb1,乙,党员,{branch.name},\n")
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)

    def broken(*_args, **_kwargs):
        raise roster.ImportFailed("磁盘已满")

    monkeypatch.setattr(roster, "_recheck_secretaries", broken)
    confirm(client, page)
    job = db.session.scalar(select(RosterImport))
    assert job.status == ImportStatus.FAILED and "磁盘已满" in job.error
    body = client.get(f"/admin/roster/imports/{job.id}").get_data(as_text=True)
    assert "磁盘已满" in body
    refused = client.form_post(f"/admin/roster/imports/{job.id}/slips", {"branch": "all"})
    assert refused.status_code == 422 and "磁盘已满" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id)).where(User.username.in_(["aa1", "bb1"]))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user.create")) == 0
    assert not (uploads.upload_dir(roster.UPLOAD_KIND) / token).exists()  # the rows are not kept
    # The branch's kept last activity forgets the undone accounts' events with them.
    assert figures.differences(db.session) == []


def test_previews_are_removed_when_superseded_and_after_a_day(client, admin, app):
    branch = BranchFactory(name="乙校党支部")
    client.login(admin)
    folder = uploads.upload_dir(roster.UPLOAD_KIND)
    first = re.search(r'name="token" value="([^"]+)"', upload(client, HEADER + f"cc1,丙,党员,{branch.name},\n")
                      .get_data(as_text=True)).group(1)
    second = re.search(r'name="token" value="([^"]+)"', upload(client, HEADER + f"dd1,丁,党员,{branch.name},\n")
                       .get_data(as_text=True)).group(1)
    assert not (folder / first).exists() and (folder / second).exists()
    assert roster.remove_stale_previews() == 0
    old = time.time() - 25 * 3600
    os.utime(folder / second, (old, old))
    assert roster.remove_stale_previews() == 1 and not (folder / second).exists()
    # The nightly task does it (and forgets the secrets of slip batches past their printing time).
    from portal import tasks

    assert tasks.forget_personal_leftovers.call_local(report=True) == {"previews": 0, "slip_batches": 0}
