"""Login, logout, sessions, CSRF and the next= parameter."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Role

from ..factories import PASSWORD, UserFactory


@pytest.fixture
def user(app):
    return UserFactory(username="zhang", role=Role.MEMBER)


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.get_data(as_text=True)
    assert 'lang="zh-CN"' in page.get_data(as_text=True)


def test_login_success_redirects_home_and_renews_session(client, user):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    response = client.login(user)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "planted" not in session  # a new session at login
    assert client.get("/").status_code == 200
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login")) is not None


@pytest.mark.parametrize(("username", "password"), [("zhang", "wrong-password"), ("nobody", PASSWORD)])
def test_failures_share_one_generic_message(client, user, username, password):
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": client.csrf_token()})
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "用户名或密码不正确" in text
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert len(events) == 1


def test_disabled_user_cannot_log_in(client, user):
    user.active = False
    db.session.commit()
    response = client.login(user)
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)


def test_empty_fields_are_422_with_messages(client):
    response = client.post("/login", data={"username": "", "password": "", "csrf_token": client.csrf_token()})
    assert response.status_code == 422
    assert "请输入用户名" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_rejected(client, user):
    response = client.post("/login", data={"username": "zhang", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_login_with_forged_csrf_token_is_rejected(client, user):
    response = client.post("/login", data={"username": "zhang", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400


def test_logout_requires_post_and_csrf(client, user):
    client.login(user)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    response = client.form_post("/logout")
    assert response.status_code == 303
    assert client.get("/").status_code == 302


def test_anonymous_page_request_goes_to_login_with_next(client):
    response = client.get("/?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_anonymous_htmx_request_gets_a_login_link_back_to_its_page_and_swaps_nothing(client):
    response = client.get("/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/pledges?x=1"})
    assert response.status_code == 401
    assert "HX-Redirect" not in response.headers  # the page stays, with what the person typed
    assert response.headers["HX-Reswap"] == "none"
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'data-scope="page"' in body
    assert 'href="/login?next=/pledges?x%3D1"' in body


def test_next_is_followed_when_local(client, user):
    token = client.csrf_token()
    response = client.post("/login?next=/healthz", data={"username": "zhang", "password": PASSWORD,
                                                         "csrf_token": token})
    assert response.headers["Location"] == "/healthz"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
def test_next_off_site_is_refused(client, user, target):
    token = client.csrf_token()
    response = client.post("/login", query_string={"next": target},
                           data={"username": "zhang", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_off_site_next_gets_a_visible_note(client):
    page = client.get("/login", query_string={"next": "https://evil.example/"})
    assert "门户之外" in page.get_data(as_text=True)


def test_bumping_session_version_ends_sessions(client, user):
    client.login(user)
    assert client.get("/").status_code == 200
    user.session_version += 1
    db.session.commit()
    assert client.get("/").status_code == 302


def test_disabling_a_user_ends_their_session(client, user):
    client.login(user)
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_logout_ends_the_session_everywhere(app, user):
    here, elsewhere = app.test_client(), app.test_client()
    here.login(user)
    elsewhere.login(user)
    assert elsewhere.get("/").status_code == 200
    here.form_post("/logout")
    assert elsewhere.get("/").status_code == 302


def test_password_change(app, user):
    here, elsewhere = app.test_client(), app.test_client()
    here.login(user)
    elsewhere.login(user)
    assert here.get("/account/password").status_code == 200
    wrong = here.form_post("/account/password", {"current_password": "nope", "new_password": "new-secret-1",
                                                 "repeat_password": "new-secret-1"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    mismatch = here.form_post("/account/password", {"current_password": PASSWORD, "new_password": "new-secret-1",
                                                    "repeat_password": "new-secret-2"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.get_data(as_text=True)
    short = here.form_post("/account/password", {"current_password": PASSWORD, "new_password": "short",
                                                 "repeat_password": "short"})
    assert short.status_code == 422
    done = here.form_post("/account/password", {"current_password": PASSWORD, "new_password": "new-secret-1",
                                                "repeat_password": "new-secret-1"})
    assert done.status_code == 303
    assert here.get("/").status_code == 200  # this session goes on
    assert elsewhere.get("/").status_code == 302  # every other one ended
    assert app.test_client().login(user, "new-secret-1").status_code == 303
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.password_changed")) is not None
