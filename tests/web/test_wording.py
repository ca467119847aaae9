"""One set of words for one thing: e-mail preferences, 督察 (the source document's term), the audit filter's areas,
notifications worded for their reader and naming whose work waits."""
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import select

from portal import labels
from portal.extensions import db
from portal.models import AssessmentStatus, Notification, PledgeStatus, Result

from ..checklist_helpers import make_assessment, make_pledge

CATALOG = Path(__file__).parents[2] / "portal" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def _notes(user, kind):
    return list(db.session.scalars(select(Notification).where(Notification.recipient_id == user.id,
                                                              Notification.kind == kind)))


def test_email_preference_labels_come_from_one_registry(app):
    from portal.forms.auth import EmailPreferenceForm

    with app.test_request_context(), force_locale("zh"):
        form = EmailPreferenceForm(meta={"csrf": False})
        shown = {value: str(label) for value, label, *_rest in form.email_preference.iter_choices()}
        assert shown == {code.value: str(label) for code, label in labels.EMAIL_PREFERENCE.items()}
        assert list(shown) == ["digest", "immediate", "none"]


def test_the_source_documents_term_is_used_for_inspections():
    text = CATALOG.read_text(encoding="utf-8")
    assert "督查" not in text and "督察" in text  # source/000_…: "定期督察"


def test_audit_filter_areas_are_named_not_counted(app):
    from portal.services import auditlog

    with app.test_request_context(), force_locale("zh"):
        groups = dict(auditlog.kind_options())
        assert "项目" in groups and "账号" in groups and "项目数" not in groups and "账号数" not in groups
        assert ("project", "全部（项目）") in groups["项目"] and ("user", "全部（账号）") in groups["账号"]


def test_a_member_is_told_of_their_own_self_assessment_as_yours(client, secretary, member, branch):
    make_assessment(branch, member=member, answer_all=Result.MET)
    client.login(member)
    assert client.form_post(f"/checklist/member/{member.id}/submit").status_code == 303
    [waiting] = _notes(secretary, "assessment.waiting")
    assert waiting.params["what"] == f"{branch.name} · {member.display_name}"  # whose, and of which branch
    client.login(secretary)
    assert client.form_post(f"/checklist/member/{member.id}/return", {"reason": "再具体些"}).status_code == 303
    client.login(member)
    page = client.get("/notifications").get_data(as_text=True)
    assert "您的自评已被退回：再具体些" in page and f"{member.display_name}的自评" not in page


def test_a_branch_self_assessment_is_told_by_the_branchs_name(client, leader, secretary, branch):
    make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(leader)
    assert client.form_post(f"/checklist/branch/{branch.id}/return", {"reason": "佐证不足"}).status_code == 303
    client.login(secretary)
    assert f"{branch.name}的自评已被退回：佐证不足" in client.get("/notifications").get_data(as_text=True)


def test_a_waiting_pledge_names_whose_it_is(client, secretary, member, branch):
    pledge = make_pledge(branch, member, PledgeStatus.DRAFT)
    client.login(member)
    assert client.form_post(f"/pledges/{pledge.id}/submit").status_code == 303
    [waiting] = _notes(secretary, "pledge.waiting")
    assert waiting.params["what"] == f"{branch.name} · {member.display_name} · 每月读一本书"
    client.login(secretary)
    assert client.form_post(f"/pledges/{pledge.id}/return", {"reason": "再具体些"}).status_code == 303
    client.login(member)
    assert "您的承诺“每月读一本书”已被退回：再具体些" in client.get("/notifications").get_data(as_text=True)
