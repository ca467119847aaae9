"""Administration routes: accounts, units and branches, roster import, and ending sessions."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Branch, Role, User


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id)))


@pytest.mark.parametrize("url", ["/admin/users", "/admin/branches", "/admin/roster", "/admin/users/1"])
@pytest.mark.parametrize("who", ["leader", "secretary", "member", "editor"])
def test_administration_is_for_the_organisation_section_only(client, request, admin, url, who):
    client.login(request.getfixturevalue(who))
    assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_create_and_edit_a_user(client, admin, branch, other_branch):
    client.login(admin)
    response = client.form_post("/admin/users", {"username": "", "password": "short", "role": "member"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="username-error"' in text and 'id="password-error"' in text and 'id="branch-error"' in text
    response = client.form_post("/admin/users", {"username": "teacher9", "display_name": "新老师",
                                                 "password": "longenough", "role": "member",
                                                 "branch": str(branch.id), "post_title": "语文教师"})
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "teacher9"))
    assert user.branch_id == branch.id
    assert "teacher9" in client.get("/admin/users?q=teacher").get_data(as_text=True)
    response = client.form_post(f"/admin/users/{user.id}", {"display_name": "新老师", "role": "secretary",
                                                            "branch": str(other_branch.id), "post_title": "书记",
                                                            "version": str(user.version)})
    assert response.status_code == 303
    db.session.refresh(user)
    assert (user.role, user.branch_id) == (Role.SECRETARY, other_branch.id)
    assert client.form_post(f"/admin/users/{user.id}", {"display_name": "x", "role": "member", "branch": "",
                                                        "version": str(user.version)}).status_code == 422


def test_disabling_a_user_ends_their_open_session_at_once(client, app, admin, member):
    client.login(member)
    assert client.get("/").status_code == 200
    admin_client = app.test_client()
    admin_client.login(admin)
    response = admin_client.form_post(f"/admin/users/{member.id}/active", {"active": "0"})
    assert response.status_code == 303
    # The member's very next request finds the session gone: back to the login page.
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.get("/pledges", headers={"HX-Request": "true"})
    assert response.status_code == 401 and 'href="/login' in response.get_data(as_text=True)
    # And they cannot log in again.
    assert client.login(member).status_code == 401
    admin_client.form_post(f"/admin/users/{member.id}/active", {"active": "1"})
    assert client.login(member).status_code == 303


def test_admin_cannot_disable_self(client, admin):
    client.login(admin)
    assert client.form_post(f"/admin/users/{admin.id}/active", {"active": "0"}).status_code == 409
    assert client.get("/").status_code == 200


def test_reset_password_ends_sessions_and_sets_the_new_one(client, app, admin, member):
    client.login(member)
    admin_client = app.test_client()
    admin_client.login(admin)
    assert admin_client.form_post(f"/admin/users/{member.id}/password",
                                  {"password": "x", "confirm": "x"}).status_code == 422
    assert admin_client.form_post(f"/admin/users/{member.id}/password",
                                  {"password": "brand-new-pass", "confirm": "brand-new-pass"}).status_code == 303
    assert client.get("/").status_code == 302
    assert client.login(member, "brand-new-pass").status_code == 303


def test_branches_crud_through_the_web(client, admin, branch, member):
    client.login(admin)
    fields = {"unit_name": "新建路小学", "unit_kind": "primary", "branch_name": "新建路小学党支部",
              "branch_kind": "branch", "member_count": "9"}
    assert client.form_post("/admin/branches", {**fields, "member_count": "many"}).status_code == 422
    assert client.form_post("/admin/branches", fields).status_code == 303
    created = db.session.scalar(select(Branch).where(Branch.name == "新建路小学党支部"))
    assert client.form_post(f"/admin/branches/{created.id}", {**fields, "branch_name": branch.name,
                                                              "version": created.version}).status_code == 422
    assert client.form_post(f"/admin/branches/{created.id}/active", {"active": "0"}).status_code == 303
    assert client.form_post(f"/admin/branches/{branch.id}/delete").status_code == 409
    assert client.form_post(f"/admin/branches/{created.id}/delete").status_code == 303
    assert "新建路小学" not in client.get("/admin/branches").get_data(as_text=True)


def test_roster_import_mixed_file_reports_rows_and_imports_nothing(client, admin, branch):
    client.login(admin)
    before = count_users()
    csv = ("用户名,姓名,角色,支部\n"
           f"ok01,好人,党员,{branch.name}\n"
           f"ok01,重复,党员,{branch.name}\n"
           "bad02,某人,校长,\n"
           "bad03,某人,党员,没有的支部\n").encode()
    response = client.form_post("/admin/roster", {"file": (io.BytesIO(csv), "名册.csv")},
                                content_type="multipart/form-data")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    for line in (3, 4, 5):
        assert f'id="roster-row-{line}" class="row--bad"' in text
    assert 'id="roster-row-2" class="row--bad"' not in text
    assert "与第 2 行重复" in text and "未知的角色" in text and "未知的支部" in text
    assert "/admin/roster/import" not in text  # no import button
    assert count_users() == before


def test_roster_import_good_file(client, admin, branch, monkeypatch):
    from portal import tasks

    monkeypatch.setattr(tasks.huey, "immediate", True)
    client.login(admin)
    csv = f"用户名,姓名,角色,支部,职务\nok01,好人,党员,{branch.name},体育教师\nok02,又一人,支部书记,{branch.name},\n"
    response = client.form_post("/admin/roster", {"file": (io.BytesIO(csv.encode()), "名册.csv")},
                                content_type="multipart/form-data")
    assert response.status_code == 200
    token = response.get_data(as_text=True).split('name="token" value="')[1].split('"')[0]
    fingerprint = response.get_data(as_text=True).split('name="fingerprint" value="')[1].split('"')[0]
    response = client.form_post("/admin/roster/import", {"token": token, "fingerprint": fingerprint})
    assert response.status_code == 303  # to the import's page, which follows the task
    assert "完成：2 个新账号" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(User.post_title).where(User.username == "ok01")) == "体育教师"
    again = client.form_post("/admin/roster/import", {"token": token, "fingerprint": fingerprint})
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]  # as saved, once
    assert db.session.scalar(select(func.count(User.id)).where(User.username.in_(["ok01", "ok02"]))) == 2


def test_roster_malformed_file(client, admin):
    client.login(admin)
    response = client.form_post("/admin/roster", {"file": (io.BytesIO(b"\x00\x01garbage"), "roster.exe")},
                                content_type="multipart/form-data")
    assert response.status_code == 422 and "CSV 或 XLSX" in response.get_data(as_text=True)


def test_a_stale_branch_form_is_refused_with_the_typed_text_kept(client, admin, branch):
    client.login(admin)
    loaded = {"unit_name": branch.unit.name, "unit_kind": branch.unit.kind.value, "branch_name": branch.name,
              "branch_kind": branch.kind.value, "member_count": "9", "version": branch.version}
    saved = client.form_post(f"/admin/branches/{branch.id}", {**loaded, "branch_name": "先保存的支部"})
    assert saved.status_code == 303
    response = client.form_post(f"/admin/branches/{branch.id}", {**loaded, "branch_name": "我后来输入的支部"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "我后来输入的支部" in page and "先保存的支部" in page
    assert client.form_post(f"/admin/branches/{branch.id}", {k: v for k, v in loaded.items()
                                                             if k != "version"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Branch, branch.id).name == "先保存的支部"
