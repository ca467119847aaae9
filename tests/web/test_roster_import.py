"""The roster at district scale (issue 16): preview of every change, the import on the task queue in short
batches, activation slips, the first sign-in with a code, re-imports, the one-secretary rule."""
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal import tasks
from portal.extensions import db
from portal.models import AuditEvent, ImportStatus, Role, RosterImport, User
from portal.services import roster

from ..factories import BranchFactory, UserFactory

HEADER = "用户名,姓名,角色,支部,职务\n"


@pytest.fixture
def inline_queue(monkeypatch):
    """The task runs in place when it is enqueued (huey's immediate mode)."""
    monkeypatch.setattr(tasks.huey, "immediate", True)
    yield tasks.huey


def upload(client, text: str, name: str = "roster.csv"):
    return client.form_post("/admin/roster", {"file": (io.BytesIO(text.encode("utf-8")), name)},
                            content_type="multipart/form-data")


def confirm(client, page, disable_leavers=False):
    body = page.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', body).group(1)
    data = {"token": token, "fingerprint": fingerprint, "filename": "roster.csv"}
    if disable_leavers:
        data["disable_leavers"] = "1"
    return client.form_post("/admin/roster/import", data)


def test_import_runs_in_the_background_and_people_activate_with_their_codes(client, admin, inline_queue):
    branch = BranchFactory(name="书香路小学党支部")
    client.login(admin)
    page = upload(client, HEADER + f"wangli,王丽,支部书记,{branch.name},校长\nzhaoqiang,赵强,党员,{branch.name},教师\n")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "2 个新账号" in page.get_data(as_text=True) or "New account" in page.get_data(as_text=True)
    done = confirm(client, page)
    assert done.status_code == 303
    job_page = client.get(done.headers["Location"])
    body = job_page.get_data(as_text=True)
    assert 'data-status="done"' in body and 'value="100"' in body
    job = db.session.scalar(select(RosterImport))
    assert job.status == ImportStatus.DONE and job.summary["created"] == 2
    wangli = db.session.scalar(select(User).where(User.username == "wangli"))
    assert wangli.active and wangli.role == Role.SECRETARY and not wangli.check_password("")
    # The slips: one POST issues the codes, then the sheet is shown from its own address; nothing readable is
    # stored.
    made = client.form_post(f"/admin/roster/imports/{job.id}/slips", {"branch": "all"})
    assert made.status_code == 303
    sheet = client.get(made.headers["Location"])
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    text = sheet.get_data(as_text=True)
    codes = dict(re.findall(r'id="slip-([a-z]+)".*?data-code="([A-Z0-9]+)"', text, re.S))
    assert set(codes) == {"wangli", "zhaoqiang"} and "/activate" in text
    db.session.expire_all()
    assert db.session.get(User, wangli.id).activation_hash not in (None, codes["wangli"])
    # The first sign-in: the code typed as the password leads to the page that sets one's own password.
    client.form_post("/logout", {})
    answer = client.post("/login", data={"username": "wangli", "password": codes["wangli"],
                                         "csrf_token": client.csrf_token()})
    assert answer.status_code == 200 and "activate" in answer.get_data(as_text=True)
    weak = client.form_post("/activate", {"username": "wangli", "code": codes["wangli"],
                                          "new_password": "123", "repeat_password": "123"})
    assert weak.status_code == 422 and codes["wangli"] in weak.get_data(as_text=True)
    typed = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in codes["wangli"].lower())
    ok = client.form_post("/activate", {"username": "wangli", "code": typed,  # full-width, as an input method types
                                        "new_password": "书香路-我的密码-2012",
                                        "repeat_password": "书香路-我的密码-2012"})
    assert ok.status_code == 303
    assert client.get("/").status_code == 200
    db.session.expire_all()
    wangli = db.session.get(User, wangli.id)
    assert wangli.check_password("书香路-我的密码-2012") and wangli.activation_hash is None
    # Single use.
    client.form_post("/logout", {})
    again = client.form_post("/activate", {"username": "wangli", "code": codes["wangli"],
                                           "new_password": "another-good-pass-9",
                                           "repeat_password": "another-good-pass-9"})
    assert again.status_code == 422
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "auth.activated")) == 1


def test_reimport_previews_every_change_and_disables_leavers_only_when_ticked(client, admin, inline_queue):
    one, two = BranchFactory(name="甲校党支部"), BranchFactory(name="乙校党支部")
    stays = UserFactory(username="stays", display_name="旧名", role=Role.MEMBER, branch=one)
    leaves = UserFactory(username="leaves", role=Role.MEMBER, branch=one)
    client.login(admin)
    page = upload(client, HEADER + f"stays,新名,支部书记,{two.name},教师\nnewbie,新人,党员,{one.name},教师\n")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "旧名" in body and "新名" in body and "leaves" in body  # before → after, and who is not in the file
    confirm(client, page)
    db.session.expire_all()
    stays, leaves = db.session.get(User, stays.id), db.session.get(User, leaves.id)
    assert (stays.display_name, stays.role, stays.branch_id) == ("新名", Role.SECRETARY, two.id)
    assert leaves.active  # not ticked: kept
    page = upload(client, HEADER + f"stays,新名,支部书记,{two.name},教师\nnewbie,新人,党员,{one.name},教师\n")
    confirm(client, page, disable_leavers=True)
    db.session.expire_all()
    assert not db.session.get(User, leaves.id).active


def test_a_file_giving_a_branch_two_secretaries_is_refused_naming_the_rows(client, admin):
    branch = BranchFactory(name="丙校党支部")
    client.login(admin)
    page = upload(client, HEADER + f"a1,甲,支部书记,{branch.name},\nb1,乙,党员,{branch.name},\n"
                                   f"c1,丙,支部书记,{branch.name},\n")
    body = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "2和4" in body and branch.name in body
    assert db.session.scalar(select(func.count(User.id)).where(User.username.in_(["a1", "b1", "c1"]))) == 0


def test_a_file_naming_a_second_secretary_beside_the_one_there_is_refused(client, admin):
    branch = BranchFactory(name="丁校党支部")
    UserFactory(username="oldsec", display_name="老书记", role=Role.SECRETARY, branch=branch)
    client.login(admin)
    page = upload(client, HEADER + f"oldsec,老书记,支部书记,{branch.name},\nnewsec,新书记,支部书记,{branch.name},\n")
    assert page.status_code == 422
    assert "老书记" in page.get_data(as_text=True)


def test_a_secretary_who_left_is_replaced_with_the_leavers_tick(client, admin, inline_queue):
    """The one-secretary rule counts the planned changes: the old secretary is not in the file, so the tick
    that disables leavers resolves it; the preview is offered and says so; without the tick the import is
    refused (422) naming the tick, with the preview kept."""
    branch = BranchFactory(name="戊校党支部")
    old = UserFactory(username="oldsec", display_name="老书记", role=Role.SECRETARY, branch=branch)
    client.login(admin)
    page = upload(client, HEADER + f"newsec,新书记,支部书记,{branch.name},\n")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="needs-tick"' in body and "老书记" in body
    refused = confirm(client, page)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="needs-tick"' in text and 'id="roster-confirm"' in text
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "newsec")) == 0
    done = confirm(client, page, disable_leavers=True)
    assert done.status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, old.id).active
    new = db.session.scalar(select(User).where(User.username == "newsec"))
    assert new.active and new.role == Role.SECRETARY


def test_an_old_secretary_given_another_role_in_the_file_needs_no_tick(client, admin, inline_queue):
    branch = BranchFactory(name="己校党支部")
    old = UserFactory(username="oldsec", display_name="老书记", role=Role.SECRETARY, branch=branch)
    client.login(admin)
    page = upload(client, HEADER + f"oldsec,老书记,党员,{branch.name},\nnewsec,新书记,支部书记,{branch.name},\n")
    assert page.status_code == 200 and 'id="needs-tick"' not in page.get_data(as_text=True)
    assert confirm(client, page).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, old.id).role == Role.MEMBER


def test_the_template_downloads_with_chinese_headers_and_one_example_row(client, admin):
    BranchFactory(name="示范学校党支部")
    client.login(admin)
    csv_file = client.get("/admin/roster/template.csv")
    assert csv_file.status_code == 200
    lines = csv_file.get_data().decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "用户名,姓名,角色,支部,职务,邮箱" and len(lines) == 2 and "示范学校党支部" in lines[1]
    xlsx = client.get("/admin/roster/template.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.get_data())).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("用户名", "姓名", "角色") and len(rows) == 2
    # The template as downloaded is read, and its example row is refused: it is nobody's account.
    page = client.form_post("/admin/roster", {"file": (io.BytesIO(xlsx.get_data()), "t.xlsx")},
                            content_type="multipart/form-data")
    assert page.status_code == 422 and 'id="roster-row-2"' in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "zhangsan")) == 0


def test_the_xlsx_row_limit_is_checked_while_reading(app, monkeypatch):
    monkeypatch.setattr(roster, "MAX_ROWS", 10)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["用户名", "姓名", "角色"])
    for n in range(50):
        sheet.append([f"u{n}", "某", "党员"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = []

    def rows(iterator):
        for row in iterator:
            read.append(row)
            yield row

    original = roster._bounded
    monkeypatch.setattr(roster, "_bounded", lambda it: original(rows(it)))
    with pytest.raises(roster.Invalid):
        roster._read_table(buffer.getvalue(), "xlsx")
    assert len(read) <= 12  # stopped at the first row past the limit


def test_reissued_code_replaces_the_old_one(client, admin, member):
    client.login(admin)
    first = client.get(client.form_post(f"/admin/users/{member.id}/activation", {}).headers["Location"])
    code1 = re.search(r'data-code="([A-Z0-9]+)"', first.get_data(as_text=True)).group(1)
    asked = client.form_post(f"/admin/users/{member.id}/activation", {})
    assert asked.status_code == 409 and 'id="reissue-confirm"' in asked.get_data(as_text=True)
    second = client.get(client.form_post(f"/admin/users/{member.id}/activation", {"confirm": "1"})
                        .headers["Location"])
    code2 = re.search(r'data-code="([A-Z0-9]+)"', second.get_data(as_text=True)).group(1)
    assert code1 != code2
    client.form_post("/logout", {})
    old = client.form_post("/activate", {"username": member.username, "code": code1,
                                         "new_password": "a-fine-pass-2012", "repeat_password": "a-fine-pass-2012"})
    assert old.status_code == 422
    new = client.form_post("/activate", {"username": member.username, "code": code2,
                                         "new_password": "a-fine-pass-2012", "repeat_password": "a-fine-pass-2012"})
    assert new.status_code == 303


def test_two_roster_files_are_refused_never_cut_to_the_first(client, admin):
    client.login(admin)
    one = (io.BytesIO("用户名,姓名,角色\nzhang01,张一,党员\n".encode()), "a.csv")
    two = (io.BytesIO("用户名,姓名,角色\nli01,李一,党员\n".encode()), "b.csv")
    response = client.form_post("/admin/roster", {"file": [one, two]}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "2" in response.get_data(as_text=True) and "zhang01" not in response.get_data(as_text=True)
