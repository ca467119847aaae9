"""Findings of the outside-style security test (OWASP ASVS 5.0 L2), one test per kind: each asserts the
refusal and that nothing was written."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Nomination, Review, Role, User

from ..checklist_helpers import make_assessment
from ..conftest import CSRF_META
from ..factories import PASSWORD, UserFactory


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- passwords -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("weak", ["12345678", "password", "aaaaaaaa", "qazwsxedc", "mem-amem-a", "MEM-A-2012x"])
def test_common_or_personal_passwords_are_refused_on_change(client, member, weak):
    client.login(member)
    before = member.password_hash
    response = client.form_post("/account/password", {"current_password": PASSWORD, "new_password": weak,
                                                      "repeat_password": weak})
    assert response.status_code == 422
    db.session.refresh(member)
    assert member.password_hash == before


@pytest.mark.parametrize("weak", ["12345678", "password", "newbie-newbie"])
def test_admin_cannot_set_a_common_password(client, admin, branch, weak):
    client.login(admin)
    response = client.form_post("/admin/users", {"username": "newbie", "display_name": "新人", "password": weak,
                                                 "role": "member", "branch": str(branch.id)})
    assert response.status_code == 422
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None


def test_a_password_chosen_by_the_admin_is_replaced_at_first_login(client, admin, branch):
    client.login(admin)
    assert client.form_post("/admin/users", {"username": "newbie", "display_name": "新人",
                                             "password": "Given-by-admin-77", "role": "member",
                                             "branch": str(branch.id)}).status_code == 303
    newbie = db.session.scalar(select(User).where(User.username == "newbie"))
    assert newbie.must_change_password
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    assert client.login("newbie", "Given-by-admin-77").status_code == 303
    # Every page sends them to the password form; htmx requests are redirected as a whole page.
    page = client.get("/news")
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/password")
    assert client.get("/news", headers={"HX-Request": "true"}).headers["HX-Redirect"].endswith("/account/password")
    form = client.get("/account/password")
    assert form.status_code == 200
    token = CSRF_META.search(form.get_data(as_text=True)).group(1)
    assert client.post("/account/password", data={"current_password": "Given-by-admin-77", "csrf_token": token,
                                                  "new_password": "My-own-secret-2012",
                                                  "repeat_password": "My-own-secret-2012"}).status_code == 303
    db.session.refresh(newbie)
    assert not newbie.must_change_password
    assert client.get("/news").status_code == 200


def test_a_password_reset_by_the_admin_is_replaced_at_first_login(client, admin, member):
    client.login(admin)
    assert client.form_post(f"/admin/users/{member.id}/password", {"password": "Reset-by-admin-88",
                                                                  "confirm": "Reset-by-admin-88"}).status_code == 303
    db.session.refresh(member)
    assert member.must_change_password


# --- state changes only on POST ------------------------------------------------------------------------------

def test_lang_parameter_switches_the_session_only(client, member):
    client.login(member)
    events = _count(AuditEvent)
    assert 'lang="en"' in client.get("/news?lang=en").get_data(as_text=True)
    client.get("/static/css/portal.css?lang=en")
    db.session.refresh(member)
    assert member.locale is None and _count(AuditEvent) == events
    # Stored only by the person's own POST from their account page.
    assert client.get("/account").status_code == 200
    assert client.form_post("/account/language", {"locale": "en"}).status_code == 303
    db.session.refresh(member)
    assert member.locale == "en"
    assert client.form_post("/account/language", {"locale": "fr"}).status_code == 422
    db.session.refresh(member)
    assert member.locale == "en"


def test_feed_links_ignore_a_forged_host(client, app):
    feed = client.get("/news/feed.atom", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in feed
    assert app.config["PORTAL_BASE_URL"] in feed


def test_demo_data_is_refused_in_production(app, runner):
    app.config["PORTAL_ENV"] = "production"
    users = _count(User)
    result = runner.invoke(args=["seed-demo", "--branches", "2"])
    assert result.exit_code != 0 and "production" in result.output
    result = runner.invoke(args=["init-db", "--demo-if-empty"])
    assert result.exit_code == 0 and "no demo data" in result.output
    assert _count(User) == users


# --- access follows the truth; nobody decides on their own work -----------------------------------------------

def test_a_moved_members_assessment_follows_the_member(client, admin, member, secretary, other_secretary,
                                                       other_branch):
    make_assessment(member.branch, member)
    client.login(admin)
    assert client.form_post(f"/admin/users/{member.id}", {"display_name": member.display_name, "role": "member",
                                                         "branch": str(other_branch.id), "post_title": "",
                                                         "version": str(member.version)}).status_code == 303
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client.login(secretary)
    assert client.get(f"/checklist/member/{member.id}").status_code == 403
    reviews = _count(Review)
    assert client.form_post(f"/checklist/member/{member.id}/review", {"rating": "good", "comment": "x"}
                            ).status_code == 403
    assert _count(Review) == reviews
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client.login(other_secretary)
    assert client.get(f"/checklist/member/{member.id}").status_code == 200


def test_a_secretary_cannot_review_their_own_self_assessment(client, secretary, leader):
    from portal.models import AssessmentStatus

    make_assessment(secretary.branch, secretary, status=AssessmentStatus.SUBMITTED)
    client.login(secretary)
    page = client.get(f"/checklist/member/{secretary.id}").get_data(as_text=True)
    assert "/review" not in page
    assert client.form_post(f"/checklist/member/{secretary.id}/review", {"rating": "good", "comment": "好"}
                            ).status_code == 403
    assert _count(Review) == 0
    # The leading group reviews a secretary's own 五带头.
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client.login(leader)
    assert f"/checklist/member/{secretary.id}/review" in client.get(
        f"/checklist/member/{secretary.id}").get_data(as_text=True)


def test_a_secretary_cannot_nominate_themself(client, secretary, member):
    client.login(secretary)
    form = client.get("/commendation").get_data(as_text=True)
    assert f'value="{secretary.id}"' not in form and f'value="{member.id}"' in form
    response = client.form_post("/commendation/nominations", {"member_id": str(secretary.id), "deeds": "事迹材料" * 10})
    assert response.status_code == 422
    assert _count(Nomination) == 0


# --- files -------------------------------------------------------------------------------------------------

def test_database_uploads_and_backups_are_private(app, runner, tmp_path, database_url, upload_root):
    from portal.services import uploads

    folder = uploads.upload_dir("evidence")
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    if database_url.startswith("sqlite"):
        assert stat.S_IMODE(os.stat(database_url.removeprefix("sqlite:///")).st_mode) & 0o077 == 0
    result = runner.invoke(args=["backup", "--output", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    (archive,) = (tmp_path / "b").iterdir()
    assert stat.S_IMODE(archive.stat().st_mode) & 0o077 == 0




@pytest.mark.parametrize("name", ["会议记录.html", "run.bat", "setup.exe", "link.lnk", "无扩展名"])
def test_evidence_takes_the_extension_of_what_it_is(client, secretary, branch, name):
    """A PDF named `会议记录.html` is kept and downloaded as `会议记录.pdf`, an attachment of type PDF."""
    import io
    from urllib.parse import quote

    from portal.models import Evidence, Subject

    from ..access_world import PDF
    from ..checklist_helpers import items

    client.login(secretary)
    item = items(Subject.BRANCH)[0]
    response = client.form_post(f"/checklist/branch/{branch.id}/items/{item.id}/evidence",
                                {"file": (io.BytesIO(PDF), name)}, htmx=True, content_type="multipart/form-data")
    assert response.status_code == 200
    evidence = db.session.scalar(select(Evidence))
    stem = name.rsplit(".", 1)[0]
    assert evidence.original_name == f"{stem}.pdf" and evidence.stored_name.endswith(".pdf")
    download = client.get(f"/checklist/evidence/{evidence.id}")
    disposition = download.headers["Content-Disposition"]
    assert download.mimetype == "application/pdf" and disposition.startswith("attachment;")
    assert quote(f"{stem}.pdf") in disposition or f'filename="{stem}.pdf"' in disposition


# --- found by the browser test of these fixes ----------------------------------------------------------------

def test_a_long_passphrase_is_accepted(client, member):
    client.login(member)
    phrase = "Zk3" + "q-w.e" * 20  # 103 characters: zxcvbn itself stops at 72
    assert client.form_post("/account/password", {"current_password": PASSWORD, "new_password": phrase,
                                                  "repeat_password": phrase}).status_code == 303


def test_the_given_password_must_really_be_replaced(client, member):
    client.login(member)
    before = member.password_hash
    assert client.form_post("/account/password", {"current_password": PASSWORD, "new_password": PASSWORD,
                                                  "repeat_password": PASSWORD}).status_code == 422
    db.session.refresh(member)
    assert member.password_hash == before


def test_guessing_the_current_password_is_throttled(client, member):
    client.login(member)
    codes = [client.form_post("/account/password", {"current_password": f"guess-{n}", "new_password": "Fresh-Kite-88",
                                                   "repeat_password": "Fresh-Kite-88"}).status_code for n in range(11)]
    assert codes[:10] == [422] * 10 and codes[10] == 429
    assert client.form_post("/account/password", {"current_password": PASSWORD, "new_password": "Fresh-Kite-88",
                                                  "repeat_password": "Fresh-Kite-88"}).status_code == 429


def test_a_moved_members_pledge_follows_the_member(client, admin, member, secretary, other_secretary, other_branch):
    from portal.models import Pledge, PledgeStatus

    from ..checklist_helpers import current_year

    pledge = Pledge(year_id=current_year().id, branch_id=member.branch_id, member_id=member.id, text="承诺",
                    status=PledgeStatus.PENDING)
    db.session.add(pledge)
    db.session.commit()
    client.login(admin)
    assert client.form_post(f"/admin/users/{member.id}", {"display_name": member.display_name, "role": "member",
                                                         "branch": str(other_branch.id), "post_title": "",
                                                         "version": str(member.version)}).status_code == 303
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client.login(secretary)
    assert client.form_post(f"/pledges/{pledge.id}/approve").status_code == 403
    db.session.refresh(pledge)
    assert pledge.status == PledgeStatus.PENDING and pledge.branch_id == other_branch.id


def test_secretaries_of_one_branch_do_not_review_each_other(client, secretary, branch):
    from portal.models import AssessmentStatus

    second = UserFactory(username="sec-a2", role=Role.SECRETARY, branch=branch)
    make_assessment(branch, second, status=AssessmentStatus.SUBMITTED)
    client.login(secretary)
    assert client.form_post(f"/checklist/member/{second.id}/review", {"rating": "good", "comment": "好"}
                            ).status_code == 403
    assert _count(Review) == 0


def test_the_stored_language_wins_at_login_on_a_shared_pc(app, member, secretary):
    member.locale = "en"
    db.session.commit()
    client = app.test_client()
    client.login(member)
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    client.login(secretary)  # no stored preference, and the last person's is not passed on
    assert 'lang="zh-CN"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("value", ["prod", "Production ", "staging"])
def test_an_unknown_portal_env_is_refused(monkeypatch, tmp_path, value):
    from portal import config

    monkeypatch.setenv("PORTAL_ENV", value)
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.edu.local")
    if value.strip().lower() == "production":
        assert config.load(str(tmp_path))["PORTAL_ENV"] == "production"
    else:
        with pytest.raises(config.ConfigError):
            config.load(str(tmp_path))
