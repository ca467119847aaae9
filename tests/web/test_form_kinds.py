"""The kinds of hostile input a second breaker found after the form layer landed (issue 12), each refused
by the shared field types or helpers so that every form inherits the answer: the right status, a clear
message in the person's language (Chinese and English) beside the field, and nothing written."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.forms.fields import local_today
from portal.models import (
    Evidence,
    FollowUp,
    Inspection,
    Milestone,
    Pledge,
    PledgeEntry,
    SubmissionRequest,
    User,
)
from portal.services import campaign, inspections, pledges, projects, roster

from ..fingerprint import changed, fingerprint
from ..unit.test_campaign import item_ids


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def beside(page: str, field: str) -> str:
    """The message shown beside `field` (its `…-error` element), or ""."""
    found = re.search(rf'id="[\w-]*{field}-error"[^>]*>([^<]+)<', page)
    return found.group(1) if found else ""


def in_both_languages(client, post, field: str, zh: str, en: str) -> None:
    """`post()` is refused (422) with a message beside `field` containing `zh` in Chinese and `en` in English."""
    for lang, needle in (("zh", zh), ("en", en)):
        client.get(f"/?lang={lang}")
        response = post()
        message = beside(response.get_data(as_text=True), field)
        assert response.status_code == 422 and needle in message, (lang, response.status_code, message)


# --- 1. roster cells get the form fields' cleaning ------------------------------------------------------

@pytest.mark.parametrize("cells, needle", [
    ("wang01,王\x07老师,党员", "控制字符"),
    ("wang01,\u202e师老王,党员", "格式"),
    ("wang01,\u200b\u200b,党员", "姓名"),
    ("wang01," + "王" * 65 + ",党员", "64"),
    ("..,王老师,党员", "用户名"),
    ("--,王老师,党员", "用户名"),
    ("wang01,王老师,党员,,\u2066校长\u2069", "格式"),
])
def test_roster_cells_are_cleaned_as_the_form_fields_are(app, admin, branch, cells, needle):
    data = ("用户名,姓名,角色,支部,职务\n" + cells.replace("党员", "领导小组") + "\n").encode()
    before = fingerprint()
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        rows = roster.parse(data, "csv").rows
    assert rows[0].errors and needle in " ".join(rows[0].errors), rows[0].errors
    assert changed(before, fingerprint()) == []


def test_a_roster_row_that_differs_from_an_account_only_by_separators_is_taken(app, admin, branch, secretary):
    data = f"用户名,姓名,角色\n{secretary.username.replace('-', '.')},王老师,领导小组\n".encode()
    with app.test_request_context():
        rows = roster.parse(data, "csv").rows
    assert rows[0].errors and "taken" in " ".join(rows[0].errors) or "已被使用" in " ".join(rows[0].errors)


# --- 2. dates are bound to their event ------------------------------------------------------------------

def test_a_pledge_entry_is_dated_from_its_pledge_to_today(client, member, secretary):
    pledge = pledges.create(member, campaign.current_year(), for_branch=False, text="带头上好每一堂课",
                            item_ids=item_ids())
    pledges.submit(member, pledge)
    pledges.approve(secretary, pledge)
    made = pledge.created_at.date()
    client.login(member)
    for day, bound in ((made - timedelta(days=1), made), (local_today() + timedelta(days=2), local_today())):
        in_both_languages(client, lambda day=day: client.form_post(f"/pledges/{pledge.id}/entries", {
            "text": "上了公开课", "happened_on": day.isoformat(), "form_token": "entry-token-0123456789"}),
            "happened_on", bound.isoformat(), bound.isoformat())
    assert count(PledgeEntry) == 0


def test_a_milestone_falls_due_within_its_projects_campaign_year(client, secretary, branch):
    year = campaign.current_year()
    project = projects.create_project(secretary, branch, year, title="品牌项目", goal="")
    first, last = campaign.year_span(year.id)
    client.login(secretary)
    for day, bound in ((first - timedelta(days=1), first), (last + timedelta(days=1), last)):
        in_both_languages(client, lambda day=day: client.form_post(f"/projects/{project.id}/milestones", {
            "title": "挂牌", "due_on": day.isoformat(), "form_token": "milestone-token-0123456789"}),
            "due_on", bound.isoformat(), bound.isoformat())
    assert count(Milestone) == 0


def test_a_request_deadline_is_not_in_the_past(client, admin, branch):
    client.login(admin)
    yesterday = (local_today() - timedelta(days=1)).isoformat() + "T12:00"
    in_both_languages(client, lambda: client.form_post("/submissions", {
        "title": "报送", "kind": "plan", "deadline": yesterday, "form_token": "request-token-0123456789"}),
        "deadline", local_today().isoformat(), local_today().isoformat())
    assert count(SubmissionRequest) == 0


def test_a_visit_is_dated_within_the_campaign_and_its_follow_ups_within_a_year(client, leader, branch):
    client.login(leader)
    in_both_languages(client, lambda: client.form_post("/inspections", {
        "kind": "forum", "held_on": "2000-06-01", "title": "座谈会", "branches": [str(branch.id)],
        "form_token": "visit-token-0123456789"}), "held_on", (local_today() - timedelta(days=366)).isoformat(),
        "choose")
    assert count(Inspection) == 0
    visit = inspections.create(leader, campaign.current_year(), kind="forum", held_on=local_today().isoformat(),
                               title="座谈会", findings="", branch_ids=[str(branch.id)])
    for due in ("2100-01-01", (local_today() - timedelta(days=1)).isoformat()):
        response = client.form_post(f"/inspections/{visit.id}/follow-ups", {
            "branch_id": str(branch.id), "action": "整改", "owner": "书记", "due_on": due,
            "form_token": "follow-token-0123456789"})
        assert response.status_code == 422 and re.search(r"\d{4}-\d\d-\d\d", beside(
            response.get_data(as_text=True), "due_on")), due
    assert count(FollowUp) == 0


# --- 3, 4, 9. usernames, format characters, passwords -----------------------------------------------------

@pytest.mark.parametrize("username", ["..", "--", "_x", "a..b", "sec.a"])
def test_usernames_need_a_letter_or_digit_at_each_end_and_no_look_alike(client, admin, branch, secretary, username):
    """`sec.a` differs from the secretary's `sec-a` only by its separator: a look-alike."""
    client.login(admin)
    users = count(User)
    in_both_languages(client, lambda: client.form_post("/admin/users", {
        "username": username, "display_name": "王老师", "password": "a long pass phrase", "role": "leader",
        "form_token": "user-token-0123456789"}), "username", "用户名" if username == "sec.a" else "字母",
        "taken" if username == "sec.a" else "letters")
    assert count(User) == users


def test_existing_accounts_log_in_as_typed_and_by_their_canonical_spelling(client, secretary):
    assert client.login("ＳＥＣ－Ａ").status_code == 303
    assert client.login("sec-a").status_code == 303
    assert client.login("sec.a").status_code != 303  # a look-alike is not the account


@pytest.mark.parametrize("name", ["\u202e老师王", "王\u2066老师\u2069", "王\u206a老师"])
def test_display_names_with_bidi_or_format_characters_are_refused(client, admin, member, name):
    client.login(admin)
    before = fingerprint()
    in_both_languages(client, lambda: client.form_post(f"/admin/users/{member.id}", {
        "display_name": name, "role": "member", "branch": str(member.branch_id), "version": str(member.version)}),
        "display_name", "格式", "formatting")
    assert changed(before, fingerprint()) == []


def test_a_password_of_control_characters_is_refused_for_that_reason(client, member):
    client.login(member)
    before = fingerprint()
    in_both_languages(client, lambda: client.form_post("/account/password", {
        "current_password": "portal-demo", "new_password": "\x01\x02\x03\x04\x05\x06\x07\x08\x0b",
        "repeat_password": "\x01\x02\x03\x04\x05\x06\x07\x08\x0b"}), "new_password", "控制字符", "control characters")
    assert changed(before, fingerprint()) == []


# --- 5. a missing version is never "no check" -----------------------------------------------------------

def test_a_missing_version_is_refused_as_an_outdated_form(client, app, admin, member, leader, secretary, branch):
    from portal.services import submissions

    from .test_campaign import GROUP, make_request, pdf

    pledge = pledges.create(member, campaign.current_year(), for_branch=False, text="原来的承诺", item_ids=item_ids())
    visit = inspections.create(leader, campaign.current_year(), kind="forum", held_on=local_today().isoformat(),
                               title="座谈会", findings="", branch_ids=[str(branch.id)])
    sent = submissions.submission_for(make_request(admin, [branch]), branch.id)
    submissions.submit(secretary, sent, note="", document=pdf(), group=GROUP)
    before = (pledge.text, pledge.version, visit.title, visit.version, sent.status, sent.version)
    for who, url, data in ((member, f"/pledges/{pledge.id}", {"text": "改过的承诺", "items": item_ids()}),
                           (leader, f"/inspections/{visit.id}", {"title": "改过的标题", "findings": ""}),
                           (leader, f"/submission/{sent.id}/accept", {})):  # a plan: the leading group decides
        client.login(who)
        for version in ({}, {"version": ""}):
            response = client.form_post(url, {**data, **version})
            page = response.get_data(as_text=True)
            assert response.status_code == 400 and "过期" in page, (url, version, response.status_code)
    db.session.expire_all()
    assert (pledge.text, pledge.version, visit.title, visit.version, sent.status, sent.version) == before


# --- 6. every 422 says what was wrong ----------------------------------------------------------------

def test_a_wrong_value_in_a_field_the_person_cannot_see_still_names_it(client, member, secretary):
    from portal.models import PostStatus

    from ..news_helpers import make_post

    client.login(member)
    response = client.form_post("/pledges", {"for": "team", "text": "承诺", "items": item_ids(),
                                             "form_token": "for-token-0123456789"})
    assert response.status_code == 422 and "承诺" in response.get_data(as_text=True)
    assert "Whose pledge" in client.form_post("/pledges?lang=en", {
        "for": "team", "text": "承诺", "form_token": "for-token-0123456789"}).get_data(as_text=True)
    post = make_post(secretary, title="封面", body="正文", status=PostStatus.DRAFT)
    client.login(secretary)
    response = client.form_post(f"/news/{post.id}/edit?lang=en", {
        "category": post.category.value, "title": "封面", "summary": "", "body_md": "正文", "remove_cover": "yes",
        "version": str(post.version)})
    assert response.status_code == 422 and "Remove the cover image" in response.get_data(as_text=True)
    assert count(Pledge) == 0


# --- 10. a second file is never dropped silently ------------------------------------------------------

def test_a_second_evidence_file_is_refused_not_dropped(client, secretary, branch):
    from portal.models import Subject

    from ..checklist_helpers import items

    item = items(Subject.BRANCH)[0]
    client.login(secretary)
    url = f"/checklist/branch/{branch.id}/items/{item.id}/evidence"
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.form_post(url, {"file": [(io.BytesIO(pdf), "a.pdf"), (io.BytesIO(pdf), "b.pdf")]},
                                content_type="multipart/form-data")
    assert response.status_code == 422 and "一次" in response.get_data(as_text=True)
    assert count(Evidence) == 0


# --- 11. a one-time token replayed with other content -------------------------------------------------

def test_a_replayed_token_with_other_text_is_a_conflict_and_an_identical_one_is_idempotent(client, member):
    client.login(member)
    data = {"for": "member", "text": "带头上好每一堂课", "items": item_ids(), "form_token": "same-token-0123456789"}
    first = client.form_post("/pledges", data)
    assert first.status_code == 303
    again = client.form_post("/pledges", data)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    other = client.form_post("/pledges", {**data, "text": "另一条承诺"})
    assert other.status_code == 409 and "不同" in other.get_data(as_text=True)
    assert count(Pledge) == 1 and db.session.scalar(select(Pledge.text)) == "带头上好每一堂课"
