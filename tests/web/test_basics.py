"""Health check, languages, error pages, headers, the home page per role."""
import pytest
from sqlalchemy.exc import OperationalError

from portal.extensions import db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_does_not_answer(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_language_switch_is_remembered(client):
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and 'lang="en"' in page
    assert "登录" in client.get("/login?lang=zh").get_data(as_text=True)


def test_language_link_switches_the_session_not_the_stored_choice(client, member):
    client.login(member)
    assert 'lang="en"' in client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    db.session.refresh(member)
    assert member.locale is None  # stored only by a POST from the account page (tests/web/test_security.py)


def test_unknown_language_is_ignored_with_a_note(client):
    page = client.get("/login?lang=xx")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "未知的语言" in text and 'lang="zh-CN"' in text


@pytest.mark.parametrize("lang,needle", [("zh", "页面不存在"), ("en", "Page not found")])
def test_404_page_in_both_languages(client, lang, needle):
    response = client.get(f"/no-such-page?lang={lang}")
    assert response.status_code == 404
    assert needle in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "HX-Request" in response.headers["Vary"]


def test_no_cdn_and_vendored_htmx(client):
    page = client.get("/login").get_data(as_text=True)
    assert "/static/vendor/htmx-4.0.1.min.js" in page
    assert "cdn" not in page.lower()
    assert client.get("/static/vendor/htmx-4.0.1.min.js").status_code == 200


@pytest.mark.parametrize("role_fixture,needle", [
    ("secretary", "五个好自评进度"),
    ("member", "我的五带头自评"),
    ("leader", "已提交五个好自评的支部"),
    ("admin", "已提交五个好自评的支部"),
    ("editor", "条稿件等待您审核"),
])
def test_home_page_per_role(client, request, role_fixture, needle):
    user = request.getfixturevalue(role_fixture)
    client.login(user)
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert needle in text
    assert user.display_name in text
    assert 'role="progressbar"' in text or "<progress" in text or role_fixture == "editor"
