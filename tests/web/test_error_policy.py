"""The portal's one error policy: htmx errors are never swapped over the work and say where they belong;
the 500 and 503 pages (database down included) are the portal's own, translated."""
import pytest

from portal.models import Subject

from ..checklist_helpers import items
from ..conftest import PortalClient, make_app

HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/checklist/branch/1?year=2012"}


def test_row_error_for_htmx_is_not_swapped_and_says_row(client, member, other_branch):
    client.login(member)
    response = client.form_post(f"/checklist/branch/{other_branch.id}/items/{items(Subject.BRANCH)[0].id}/result",
                                {"result": "met"}, htmx=True)
    assert response.status_code == 403
    assert response.headers["HX-Reswap"] == "none"
    assert 'data-scope="row"' in response.get_data(as_text=True)


def test_stale_form_token_is_a_page_problem_with_a_reload(client, secretary, branch):
    client.login(secretary)
    response = client.post(f"/checklist/branch/{branch.id}/items/{items(Subject.BRANCH)[0].id}/result",
                           data={"result": "met"}, headers={**HX, "X-CSRFToken": "stale"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and response.headers["HX-Reswap"] == "none"
    assert 'data-scope="page"' in body and "data-reload" in body and "重新加载本页" in body


def test_expired_session_offers_a_login_that_comes_back(client, secretary, branch):
    response = client.post(f"/checklist/branch/{branch.id}/items/1/result", data={"result": "met"},
                           headers={**HX, "X-CSRFToken": client.csrf_token()})
    body = response.get_data(as_text=True)
    assert response.status_code == 401 and "HX-Redirect" not in response.headers
    assert 'href="/login?next=/checklist/branch/1?year%3D2012"' in body and "重新登录" in body


@pytest.fixture
def failing_app(database_url, upload_root):
    """An app whose one extra route fails, with exceptions handled as in production."""
    app = make_app(database_url, upload_root, PROPAGATE_EXCEPTIONS=False)
    app.test_client_class = PortalClient

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    return app


def test_server_error_page_is_translated_and_styled(failing_app):
    response = failing_app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "系统出现错误" in body
    assert "Internal Server Error" not in body and "portal.css" in body


def test_database_down_is_a_translated_503_page_and_fragment(app, database_url, upload_root, secretary, tmp_path):
    client = app.test_client()
    client.login(secretary)
    cookie = client.get_cookie("session")
    # The same portal with its database gone (the file's folder does not exist).
    down = make_app(f"sqlite:///{tmp_path}/missing/portal.sqlite3", upload_root, PROPAGATE_EXCEPTIONS=False)
    browser = down.test_client()
    browser.set_cookie("session", cookie.value)
    page = browser.get("/checklist")
    body = page.get_data(as_text=True)
    assert page.status_code == 503
    assert "暂时无法连接数据库" in body and "Internal Server Error" not in body and "portal.css" in body
    fragment = browser.get("/checklist", headers=HX)
    assert fragment.status_code == 503 and fragment.headers["HX-Reswap"] == "none"
    assert 'data-scope="page"' in fragment.get_data(as_text=True)
    assert down.test_client().get("/healthz").status_code == 503


def test_server_error_for_htmx_is_a_page_problem_that_swaps_nothing(failing_app):
    response = failing_app.test_client().get("/boom", headers=HX)
    assert response.status_code == 500 and response.headers["HX-Reswap"] == "none"
    body = response.get_data(as_text=True)
    assert 'data-scope="page"' in body and "<html" not in body and "data-reload" in body


@pytest.mark.markup
def test_error_pages_are_valid_html(app, failing_app, client, member, other_branch, database_url, upload_root,
                                    tmp_path):
    """The Nu Html Checker on every error page shape (the crawl only reaches pages that work)."""
    import json
    import shutil
    import subprocess
    from pathlib import Path

    vnu = Path(__file__).parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not vnu.exists() or not shutil.which("java"):
        pytest.fail("vnu-jar or Java is missing: run `make test` (it runs npm ci).")
    client.login(member)
    pages = {"404": client.get("/no/such/page"), "403": client.get(f"/checklist/branch/{other_branch.id}"),
             "500": failing_app.test_client().get("/boom")}
    down = make_app(f"sqlite:///{tmp_path}/missing/portal.sqlite3", upload_root, PROPAGATE_EXCEPTIONS=False)
    browser = down.test_client()
    browser.set_cookie("session", client.get_cookie("session").value)
    pages["503"] = browser.get("/checklist")
    for name, response in pages.items():
        assert response.status_code == int(name), name
        (tmp_path / f"{name}.html").write_text(response.get_data(as_text=True), encoding="utf-8")
    result = subprocess.run(["java", "-jar", str(vnu), "--errors-only", "--format", "json",
                             *[str(tmp_path / f"{name}.html") for name in pages]],
                            capture_output=True, text=True, timeout=120)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    errors = [f"{Path(m.get('url', '')).name}: {m['message']}" for m in messages
              if m.get("type") == "error" and "hx-" not in m["message"]]
    assert errors == []


def test_with_the_database_down_static_files_and_healthz_still_answer_a_logged_in_browser(
        app, client, secretary, upload_root, tmp_path):
    """The stylesheet of the 503 page and the health check never ask the database who is logged in."""
    client.login(secretary)
    down = make_app(f"sqlite:///{tmp_path}/missing/portal.sqlite3", upload_root, PROPAGATE_EXCEPTIONS=False)
    browser = down.test_client()
    browser.set_cookie("session", client.get_cookie("session").value)
    css = browser.get("/static/css/portal.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    health = browser.get("/healthz")
    assert health.status_code == 503 and health.is_json
    assert health.get_json() == {"status": "error", "database": "unavailable"}


def test_a_removed_sqlite_file_is_not_silently_replaced_by_an_empty_one(upload_root, tmp_path):
    """While serving, a missing database file means the database is down (503), never a new empty database
    that answers "nothing here" and an "ok" health check."""
    path = tmp_path / "portal.sqlite3"
    served = make_app(f"sqlite:///{path}", upload_root, PROPAGATE_EXCEPTIONS=False)
    with served.app_context():
        from flask_migrate import upgrade

        upgrade()
    assert served.test_client().get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    with served.app_context():
        from portal.extensions import db

        db.engine.dispose()
    path.unlink()
    health = served.test_client().get("/healthz")
    assert health.status_code == 503 and health.get_json()["database"] == "unavailable"
    assert not path.exists()


def test_an_empty_database_is_not_healthy(upload_root, tmp_path):
    empty = make_app(f"sqlite:///{tmp_path}/empty.sqlite3", upload_root, PROPAGATE_EXCEPTIONS=False)
    with empty.app_context():
        from portal.extensions import db

        db.session.execute(db.text("CREATE TABLE unrelated (id INTEGER)"))
        db.session.commit()
    health = empty.test_client().get("/healthz")
    assert health.status_code == 503 and health.get_json()["database"] == "not initialised"


def test_a_deleted_session_cookie_is_reported_as_an_ended_session_not_a_stale_form(client, secretary, branch):
    client.login(secretary)
    token = client.csrf_token()
    client.delete_cookie("session")  # the person cleared cookies, or the browser dropped the session
    response = client.post(f"/checklist/branch/{branch.id}/items/{items(Subject.BRANCH)[0].id}/result",
                           data={"result": "met", "csrf_token": token}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 401 and 'data-scope="page"' in body and "/login?next=" in body
    page = client.post(f"/checklist/branch/{branch.id}/submit", data={"csrf_token": token})
    assert page.status_code == 401 and "重新登录" in page.get_data(as_text=True)
    # The log-in form itself keeps its own message: there the form is what is stale.
    login = client.post("/login", data={"username": "x", "password": "y", "csrf_token": "stale"})
    assert login.status_code == 400


def test_the_language_link_of_a_refused_form_leads_to_the_page_it_came_from(client, secretary, branch):
    client.login(secretary)
    page = f"/checklist/branch/{branch.id}?year=2012"
    client.get(page)
    response = client.post(f"/checklist/branch/{branch.id}/submit", data={"csrf_token": client.csrf_token()},
                           headers={"Referer": f"http://localhost{page}"})
    assert response.status_code == 422  # nothing is assessed yet: the submit is refused on the same page
    body = response.get_data(as_text=True)
    assert f'href="/checklist/branch/{branch.id}?year=2012&amp;lang=en"' in body
    assert "/submit?lang=" not in body
