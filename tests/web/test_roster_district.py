"""A district larger than one file (a tester's findings): the preview's weight does not grow with the district,
the leavers are the people of the file's branches (the whole district only when the file names every branch),
a confirmation sent twice is answered as saved, full-width typing is matched as half-width, and a long username
is told the username rule."""
import csv
import io
import re

from sqlalchemy import func, insert, select

from portal import tasks
from portal.extensions import db
from portal.models import Branch, ImportStatus, Role, RosterImport, Unit, UnitKind, User, utcnow

from ..factories import PASSWORD_HASH, BranchFactory, UnitFactory, UserFactory
from .test_roster_breaker_findings import upload
from .test_roster_import import inline_queue  # noqa: F401 - a fixture

HEADER = "用户名,姓名,角色,支部,职务\n"


def confirm_data(page, **extra) -> dict:
    body = page.get_data(as_text=True)
    return {"token": re.search(r'name="token" value="([^"]+)"', body).group(1),
            "fingerprint": re.search(r'name="fingerprint" value="([^"]+)"', body).group(1),
            "filename": "r.csv"} | extra


def people(branch: Branch, n: int, prefix: str) -> None:
    """`n` active members of `branch`, written in one statement."""
    db.session.execute(insert(User), [
        {"username": f"{prefix}{i:05d}", "display_name": f"教师{i}", "password_hash": PASSWORD_HASH,
         "role": Role.MEMBER, "branch_id": branch.id, "active": True, "session_version": 1, "created_at": utcnow(),
         "email": "", "post_title": "", "email_preference": "digest", "must_change_password": False}
        for i in range(n)])
    db.session.commit()


def test_the_preview_lists_the_first_200_of_a_kind_and_downloads_the_whole_list(client, admin):
    branch = BranchFactory(name="大校党支部")
    people(branch, 260, "p")
    client.login(admin)
    page = upload(client, HEADER + f"p00000,教师0,党员,{branch.name},\nnewone,新人,党员,{branch.name},\n")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert body.count('id="change-disable-') == 200  # the first 200 of the 259 not in the file
    assert "259" in body and 'id="download-disable"' in body
    link = re.search(r'id="shown-disable">.*?href="([^"]+)" id="download-disable"', body, re.S).group(1)
    download = client.get(link.replace("&amp;", "&"))
    assert download.status_code == 200 and download.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert len(rows) == 1 + 259 and rows[1][3] == branch.name
    assert client.get("/admin/roster/preview/disable.csv?token=nope.csv").status_code == 404
    assert client.get("/admin/roster/preview/other.csv?token=x").status_code == 404


def test_the_leavers_are_the_people_of_the_files_branches(client, admin, inline_queue):  # noqa: F811
    """A file of one school disables, with the tick, that school's people who are not in it, never another
    school's nor people without a branch: a district larger than one file is imported file by file."""
    here, there = BranchFactory(name="甲校党支部"), BranchFactory(name="乙校党支部")
    left = UserFactory(username="left", role=Role.MEMBER, branch=here)
    elsewhere = UserFactory(username="elsewhere", role=Role.MEMBER, branch=there)
    unplaced = UserFactory(username="unplaced", role=Role.MEMBER, branch=None)
    client.login(admin)
    page = upload(client, HEADER + f"stays,留下,党员,{here.name},\n")
    body = page.get_data(as_text=True)
    assert 'data-scope="branches"' in body and "elsewhere" not in body and "unplaced" not in body
    assert client.form_post("/admin/roster/import", confirm_data(page, disable_leavers="1")).status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, left.id).active
    assert db.session.get(User, elsewhere.id).active and db.session.get(User, unplaced.id).active
    # A file naming every active branch is the whole district's roster: everyone it leaves out has left.
    page = upload(client, HEADER + f"stays,留下,党员,{here.name},\nelse2,新人,党员,{there.name},\n")
    body = page.get_data(as_text=True)
    assert 'data-scope="district"' in body and "elsewhere" in body and "unplaced" in body
    assert client.form_post("/admin/roster/import", confirm_data(page, disable_leavers="1")).status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, elsewhere.id).active and not db.session.get(User, unplaced.id).active


def test_a_confirmation_sent_twice_is_answered_with_its_import(client, admin, monkeypatch):
    branch = BranchFactory(name="丙校党支部")
    monkeypatch.setattr(tasks, "import_roster", lambda import_id: None)  # queued, not yet begun
    client.login(admin)
    page = upload(client, HEADER + f"twice,两次,党员,{branch.name},\n")
    data = confirm_data(page)
    first = client.form_post("/admin/roster/import", data)
    assert first.status_code == 303
    again = client.form_post("/admin/roster/import", data)  # while it is queued
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    job = db.session.scalar(select(RosterImport))
    from portal.services import roster

    roster.run(job.id)
    db.session.expire_all()
    assert db.session.get(RosterImport, job.id).status == ImportStatus.DONE
    after = client.form_post("/admin/roster/import", data)  # after it finished (its kept rows are gone)
    assert after.status_code == 303 and after.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count(RosterImport.id))) == 1
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "twice")) == 1


def test_full_width_branch_names_and_counts_are_matched_as_half_width(client, admin, inline_queue):  # noqa: F811
    branch = BranchFactory(name="卢湾区第3职业学校党支部")
    people(branch, 22, "w")
    client.login(admin)
    page = upload(client, HEADER + "quanjiao,全角,党员,卢湾区第３职业学校党支部,\n")
    assert page.status_code == 200, page.get_data(as_text=True)
    done = client.form_post("/admin/roster/import",
                            confirm_data(page, disable_leavers="1", leavers_confirmed="２２"))
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(User.branch_id).where(User.username == "quanjiao")) == branch.id
    assert db.session.scalar(select(func.count(User.id)).where(User.branch_id == branch.id,
                                                               User.active.is_(False))) == 22


def test_a_branch_file_matches_full_width_names_of_registered_branches_and_units(client, admin):
    unit = UnitFactory(name="卢湾区第3职业学校", kind=UnitKind.VOCATIONAL)
    BranchFactory(unit=unit, name="卢湾区第3职业学校党支部")
    client.login(admin)
    header = "单位,单位类型,支部名称,支部类型,党员数\n"
    taken = upload(client, header + "卢湾区第３职业学校,职业学校,卢湾区第３职业学校党支部,党支部,１２\n",
                   url="/admin/branches/import")
    assert taken.status_code == 422 and "已有" in taken.get_data(as_text=True)
    page = upload(client, header + "卢湾区第３职业学校,职业学校,卢湾区第３职业学校团支部,党支部,１２\n",
                  url="/admin/branches/import")
    assert page.status_code == 200, page.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.form_post("/admin/branches/import/confirm", {"token": token}).status_code == 303
    assert db.session.scalar(select(func.count(Unit.id))) == 1  # the branch joined the registered school
    assert db.session.scalar(select(Branch.member_count).where(Branch.name.like("%团支部"))) == 12


def test_a_long_username_is_told_the_username_rule(client, admin):
    branch = BranchFactory()
    client.login(admin)
    page = upload(client, HEADER + f"{'a' * 300},长名,党员,{branch.name},\n")
    row = page.get_data(as_text=True).split('id="roster-row-2"', 1)[1].split("</tr>", 1)[0]
    assert page.status_code == 422
    assert "40" in row and "200" not in row
