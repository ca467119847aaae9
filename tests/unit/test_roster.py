"""Roster import: a file with any invalid row imports nothing, and every bad row is reported."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal import tasks
from portal.errors import Invalid, NotFound
from portal.extensions import db
from portal.models import AuditEvent, Role, User
from portal.services import activation, roster


@pytest.fixture(autouse=True)
def inline_queue(monkeypatch):
    """The import task runs in place when it is enqueued (huey's immediate mode)."""
    monkeypatch.setattr(tasks.huey, "immediate", True)


def import_now(actor, preview, disable_leavers=False):
    """Confirm a preview as the page does: the task runs at once; the import's record is returned."""
    return roster.start(actor, preview.token, preview.plan.fingerprint(), disable_leavers)

HEADER = "用户名,姓名,角色,支部,职务,初始密码\n"


def upload(text: str, name: str = "roster.csv", encoding: str = "utf-8") -> FileStorage:
    return FileStorage(stream=io.BytesIO(text.encode(encoding)), filename=name)


def xlsx(rows: list[list]) -> FileStorage:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return FileStorage(stream=out, filename="名册.xlsx")


def users() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_mixed_good_and_bad_rows_report_every_bad_row_and_import_nothing(admin, branch, secretary):
    text = HEADER + "\n".join([
        f"zhang01,张老师,党员,{branch.name},语文教师,longpassword1",  # 2 ok
        f"li02,李老师,支部书记,{branch.name},,",  # 3 ok (password generated)
        f"zhang01,张老师重复,党员,{branch.name},,",  # 4 duplicate of row 2
        "wang03,王老师,党员,不存在的支部,,",  # 5 unknown branch
        "zhao04,赵老师,校长,,,",  # 6 unknown role
        f"{secretary.username},已有账号,党员,{branch.name},,",  # 7 an existing account: updated (no longer secretary)
        f"sun05,孙老师,党员,{branch.name},,short",  # 8 ok: the password column is ignored
        "qian06,钱老师,党员,,,",  # 9 a member needs a branch
        "zhou07,周老师,领导小组,,,",  # 10 ok
    ]) + "\n"
    before = users()
    preview = roster.preview(upload(text))
    bad = {row.line: " ".join(row.errors) for row in preview.bad_rows}
    assert set(bad) == {4, 5, 6, 9}
    assert "第 2 行" in bad[4] or "row 2" in bad[4]
    assert "不存在的支部" in bad[5]
    assert "校长" in bad[6]
    assert not preview.ok
    with pytest.raises(NotFound):  # nothing was kept to import
        import_now(admin, preview)
    assert users() == before
    assert not db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "roster.import"))


def test_valid_csv_imports_every_row_with_audit(admin, branch):
    text = HEADER + f"zhang01,张老师,党员,{branch.name},语文教师,longpassword1\nzhou07,周老师,leader,,,\n"
    preview = roster.preview(upload(text))
    assert preview.ok and len(preview.rows) == 2
    assert preview.passwords_ignored
    job = import_now(admin, preview)
    db.session.expire_all()
    assert job.summary == {"created": 2, "updated": 0, "disabled": 0, "unchanged": 0}
    zhang = db.session.scalar(select(User).where(User.username == "zhang01"))
    assert (zhang.role, zhang.branch_id, zhang.post_title) == (Role.MEMBER, branch.id, "语文教师")
    # Nobody's password comes from the file or is made up: the person activates with a code.
    assert not zhang.check_password("longpassword1") and zhang.password_hash == activation.NO_PASSWORD
    zhou = db.session.scalar(select(User).where(User.username == "zhou07"))
    assert zhou.role == Role.LEADER and zhou.active and zhou.roster_import_id == job.id
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user.create")) == 2
    with pytest.raises(roster.AlreadyConfirmed) as sent:  # a second confirmation: answered with the first import
        import_now(admin, preview)
    assert sent.value.job.id == job.id
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user.create")) == 2


def test_gbk_csv_and_english_headers(admin, branch):
    text = f"username,display_name,role,branch\nma08,马老师,党员,{branch.name}\n"
    preview = roster.preview(upload(text, encoding="gb18030"))
    assert preview.ok and preview.rows[0].display_name == "马老师"


def test_xlsx_roster_with_a_bad_row(admin, branch):
    preview = roster.preview(xlsx([["用户名", "姓名", "角色", "支部"], ["a1", "甲", "党员", branch.name],
                                   ["a2", "乙", "党员", "没有这个支部"], ["a1", "甲", "党员", branch.name]]))
    assert {row.line for row in preview.bad_rows} == {3, 4}


@pytest.mark.parametrize("name,data,needle", [
    ("roster.csv", b"", "文件是空的"),
    ("roster.csv", "姓名,支部\n张三,一支部\n".encode(), "缺少：用户名和角色"),
    ("roster.csv", "用户名,姓名,角色\n".encode(), "没有数据行"),
    ("roster.xlsx", b"PK\x03\x04 not really a workbook", "不是允许上传的文件类型"),
    ("roster.txt", b"username\n", "CSV 或 XLSX"),
    ("roster.csv", b"\xff\xfe\x00\x00\x81\x30", "不是可读的文本"),
])
def test_malformed_files_are_refused_with_a_message(admin, name, data, needle):
    with pytest.raises(Invalid) as error:
        roster.preview(FileStorage(stream=io.BytesIO(data), filename=name))
    assert "file" in error.value.field_errors
    assert needle in error.value.message, error.value.message


def test_token_is_checked(admin):
    with pytest.raises(NotFound):
        roster.load("../../etc/passwd")


def test_initial_passwords_in_the_file_never_reach_the_disk(admin, branch, app):
    """What the preview keeps until the import is the checked rows, without the password column."""
    from pathlib import Path

    text = HEADER + f"zhang01,张老师,党员,{branch.name},语文教师,Secret-in-the-file-1\n"
    preview = roster.preview(upload(text))
    kept = (Path(app.config["UPLOAD_FOLDER"]) / roster.UPLOAD_KIND / preview.token).read_text(encoding="utf-8")
    assert "Secret-in-the-file-1" not in kept and "zhang01" in kept
    roster.discard(preview.token)


def test_look_alike_usernames_are_one_name(admin, branch, secretary):
    """Full-width, capitals and zero-width spaces spell the same canonical name: taken, or a duplicate row."""
    taken = "Ｓ" + secretary.username[1:].upper() + "\u200b"
    text = HEADER + (f"{taken},甲,党员,{branch.name},,longpassword1\n"
                     f"ｗａｎｇ０１,乙,党员,{branch.name},,longpassword1\n"
                     f"WANG01,丙,党员,{branch.name},,longpassword1\n")
    preview = roster.preview(upload(text))
    assert {row.line for row in preview.bad_rows} == {4}  # row 2 updates the existing account
    assert [row.username for row in preview.rows] == [secretary.username, "wang01", "wang01"]


@pytest.mark.parametrize("bad_cell", ['<c r="A2" t="inlineStr"><is><t>&#x1;</t></is></c>',
                                      '<c r="A2" t="d"><v>notadate</v></c>', '<c r="A2"'])
def test_a_workbook_whose_sheet_is_broken_is_refused_with_a_message(admin, bad_cell):
    """openpyxl reads a read-only sheet while the rows are iterated: the failure comes there, not at load."""
    import zipfile

    source = io.BytesIO(xlsx([["用户名", "姓名", "角色", "支部"], ["a1", "甲", "党员", "一支部"]]).read())
    broken = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index('<c r="A2"')
                end = text.index("</c>", start) + len("</c>")
                data = (text[:start] + bad_cell + text[end:]).encode()
            copy.writestr(info, data)
    broken.seek(0)
    with pytest.raises(Invalid) as error:
        roster.preview(FileStorage(stream=broken, filename="roster.xlsx"))
    assert "Excel" in str(error.value.message) or "file" in error.value.field_errors
