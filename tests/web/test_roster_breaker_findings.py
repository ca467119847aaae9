"""What a new committee's admin met importing branches and the roster (a breaker's findings, issue 16): every
refused file says what to change, in Chinese; a one-school file cannot disable the district with one tick; an
import the task queue never begins can be cancelled; the portal's own column headings are understood."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import tasks
from portal.extensions import db
from portal.models import AuditEvent, ImportStatus, Role, RosterImport, User, utcnow
from portal.services import roster

from ..dashboard_helpers import count_statements
from ..factories import BranchFactory, UserFactory

HEADER = "用户名,姓名,角色,支部,职务\n"


def upload(client, text: str, name: str = "roster.csv", url: str = "/admin/roster", data: bytes | None = None):
    payload = data if data is not None else text.encode("utf-8")
    return client.form_post(url, {"file": (io.BytesIO(payload), name)}, content_type="multipart/form-data")


def _confirm_data(page, **extra):
    body = page.get_data(as_text=True)
    data = {"token": re.search(r'name="token" value="([^"]+)"', body).group(1),
            "fingerprint": re.search(r'name="fingerprint" value="([^"]+)"', body).group(1), "filename": "r.csv"}
    return data | extra


@pytest.mark.parametrize(("header", "missing"), [("单位,支部名称", "单位类型"), ("unit;kind;branch", "单位类型")])
def test_a_branch_file_without_a_required_column_names_it_in_chinese(client, admin, header, missing):
    client.login(admin)
    page = upload(client, header + "\n示范小学,小学,示范小学党支部\n", "branches.csv", "/admin/branches/import")
    assert page.status_code == 422
    assert missing in page.get_data(as_text=True)


def test_a_roster_without_names_says_so_in_chinese(client, admin):
    client.login(admin)
    text = upload(client, "用户名,角色\nwangli,党员\n").get_data(as_text=True)
    assert "缺少：姓名" in text and "name" not in re.search(r"缺少：[^<]*", text).group(0)


@pytest.mark.parametrize("heading", ["党组织", "支部名称"])
def test_the_portals_own_branch_headings_are_understood(client, admin, heading):
    branch = BranchFactory(name="书香路小学党支部")
    client.login(admin)
    page = upload(client, f"用户名,姓名,角色,{heading}\nzhaoqiang,赵强,党员,{branch.name}\n")
    assert page.status_code == 200, page.get_data(as_text=True)


def test_the_branch_templates_example_row_is_refused(client, admin):
    client.login(admin)
    template = client.get("/admin/branches/template.csv").get_data()
    page = upload(client, "", "branches.csv", "/admin/branches/import", data=template)
    assert page.status_code == 422 and "示例" in page.get_data(as_text=True)


def test_a_workbook_named_csv_is_told_it_is_a_workbook(client, admin):
    client.login(admin)
    workbook = client.get("/admin/roster/template.xlsx").get_data()
    page = upload(client, "", "roster.csv", data=workbook)
    assert page.status_code == 422 and "Excel" in page.get_data(as_text=True)


def test_disabling_many_people_needs_their_number_typed(client, admin, monkeypatch):
    monkeypatch.setattr(tasks.huey, "immediate", True)
    branch, other = BranchFactory(), BranchFactory()
    people = [UserFactory(role=Role.MEMBER, branch=branch) for _ in range(22)]
    elsewhere = UserFactory(role=Role.MEMBER, branch=other)  # of a branch the file does not name: never a leaver
    client.login(admin)
    page = upload(client, HEADER + f"zhaoqiang,赵强,党员,{branch.name},教师\n")
    assert "不在文件里的人员（22 个账号" in page.get_data(as_text=True)
    assert 'name="leavers_confirmed"' in page.get_data(as_text=True)
    refused = client.form_post("/admin/roster/import", _confirm_data(page, disable_leavers="1"))
    assert refused.status_code == 422 and "22" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(RosterImport.id))) == 0
    assert all(db.session.get(User, p.id).active for p in people)
    done = client.form_post("/admin/roster/import", _confirm_data(page, disable_leavers="1", leavers_confirmed="22"))
    assert done.status_code == 303
    assert not any(db.session.get(User, p.id).active for p in people)
    assert db.session.get(User, elsewhere.id).active


def test_a_new_secretary_from_one_school_is_not_steered_to_disable_the_district(client, admin):
    branch = BranchFactory()
    UserFactory(role=Role.SECRETARY, branch=branch, display_name="李老书记")
    client.login(admin)
    text = upload(client, HEADER + f"wangli,王丽,支部书记,{branch.name},校长\n").get_data(as_text=True)
    assert "李老书记" in text and "其他角色" in text and "本文件所列支部" in text


def test_an_import_the_queue_never_begins_can_be_cancelled(client, admin, monkeypatch):
    monkeypatch.setattr(tasks.huey, "immediate", False)
    monkeypatch.setattr(tasks, "import_roster", lambda *args, **kwargs: None)  # no consumer runs
    branch = BranchFactory()
    client.login(admin)
    page = upload(client, HEADER + f"zhaoqiang,赵强,党员,{branch.name},教师\n")
    done = client.form_post("/admin/roster/import", _confirm_data(page))
    assert done.status_code == 303
    job = db.session.scalar(select(RosterImport))
    assert "import-stalled" not in client.get(done.headers["Location"]).get_data(as_text=True)
    job.created_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    waiting = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "import-stalled" in waiting and "任务队列" in waiting
    cancelled = client.form_post(f"/admin/roster/imports/{job.id}/cancel", {})
    assert cancelled.status_code == 303
    db.session.expire_all()
    assert db.session.get(RosterImport, job.id).status == ImportStatus.FAILED
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.cancelled")) is not None
    assert roster.run(job.id) == {}  # the queue, begun later, does nothing
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "zhaoqiang")) == 0
    again = client.form_post(f"/admin/roster/imports/{job.id}/cancel", {})
    assert again.status_code == 409 and "不能再取消" in again.get_data(as_text=True)


def test_an_import_with_only_changes_does_not_say_everyone_has_activated(client, admin, monkeypatch):
    monkeypatch.setattr(tasks.huey, "immediate", True)
    branch = BranchFactory()
    person = UserFactory(role=Role.MEMBER, branch=branch, username="zhaoqiang", display_name="赵强")
    client.login(admin)
    page = upload(client, HEADER + f"{person.username},赵强强,党员,{branch.name},教师\n")
    done = client.form_post("/admin/roster/import", _confirm_data(page))
    text = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "均已激活" not in text and "没有新建账号" in text


def test_a_refusal_that_says_why_has_a_fitting_title_and_a_way_back(client, admin):
    branch = BranchFactory()
    UserFactory(role=Role.MEMBER, branch=branch)
    client.login(admin)
    page = f"/admin/branches/{branch.id}"
    refused = client.form_post(f"/admin/branches/{branch.id}/delete", {}, headers={"Referer": f"http://localhost{page}"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409, text
    assert "该记录已发生变化" not in text and 'id="error-back"' in text


def test_the_branch_registry_pages_and_searches_in_sql(client, admin):
    client.login(admin)
    BranchFactory.create_batch(3)
    few = count_statements(client, "/admin/branches")
    made = [BranchFactory(name=f"第{i}中学党支部") for i in range(1, 56)]
    UserFactory(role=Role.SECRETARY, branch=made[1], display_name="王丽")
    assert count_statements(client, "/admin/branches") == few  # the page's cost does not grow with the district
    first = client.get("/admin/branches").get_data(as_text=True)
    assert "58 个支部" in first and first.count('<tr id="branch-') == 50 and 'rel="next"' in first
    assert first.index("第1中学党支部") < first.index("第2中学党支部") < first.index("第10中学党支部")
    second = client.get("/admin/branches?page=2").get_data(as_text=True)
    assert second.count('<tr id="branch-') == 8
    found = client.get("/admin/branches?q=第２中学").get_data(as_text=True)  # full-width digits fold
    assert found.count('<tr id="branch-') == 1 and "王丽" in found
