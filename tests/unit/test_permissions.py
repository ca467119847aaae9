"""The permission module for every role."""
import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from portal import permissions
from portal.extensions import db
from portal.models import Assessment, CampaignYear, Framework, Subject, Submission


def _assessment(branch, member=None):
    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    subject = Subject.MEMBER if member else Subject.BRANCH
    framework = db.session.scalar(select(Framework).where(Framework.subject == subject))
    assessment = Assessment(year_id=year.id, framework_id=framework.id, subject=subject, branch_id=branch.id,
                            member_id=member.id if member else None)
    db.session.add(assessment)
    db.session.commit()
    return assessment


@pytest.fixture
def everyone(secretary, member, other_secretary, other_member, editor, leader, admin):
    return {"secretary": secretary, "member": member, "other_secretary": other_secretary,
            "other_member": other_member, "editor": editor, "leader": leader, "admin": admin}


def _who_can(everyone, action, obj=None):
    return {name for name, user in everyone.items() if permissions.can(user, action, obj)}


def test_anonymous_can_do_nothing(app):
    assert not permissions.can(AnonymousUserMixin(), "home.view")
    assert not permissions.can(None, "home.view")


def test_unknown_action_is_a_programming_error(everyone):
    with pytest.raises(KeyError):
        permissions.can(everyone["admin"], "no.such.action")


def test_dashboard_is_for_leadership(everyone):
    assert _who_can(everyone, "dashboard.view") == {"leader", "admin"}


def test_branch_assessment_access(everyone, branch):
    assessment = _assessment(branch)
    assert _who_can(everyone, "assessment.view", assessment) == {"secretary", "member", "leader", "admin"}
    assert _who_can(everyone, "assessment.edit", assessment) == {"secretary"}
    assert _who_can(everyone, "assessment.review", assessment) == {"leader", "admin"}


def test_member_assessment_access(everyone, branch, member):
    assessment = _assessment(branch, member)
    assert _who_can(everyone, "assessment.view", assessment) == {"secretary", "member", "leader", "admin"}
    assert _who_can(everyone, "assessment.edit", assessment) == {"member"}
    assert _who_can(everyone, "assessment.review", assessment) == {"secretary"}


def test_nobody_reviews_their_own_self_assessment(everyone, branch, secretary):
    """A secretary's own 五带头 is reviewed by the leading group, never by the secretary."""
    assessment = _assessment(branch, secretary)
    assert _who_can(everyone, "assessment.edit", assessment) == {"secretary"}
    assert _who_can(everyone, "assessment.review", assessment) == {"leader", "admin"}


def test_branch_page_is_for_own_branch_and_district_roles(everyone, branch):
    assert _who_can(everyone, "branch.view", branch) == {"secretary", "member", "editor", "leader", "admin"}


@pytest.mark.parametrize(("action", "roles"), [
    ("admin.manage", {"admin"}),
    ("post.moderate", {"editor"}),
    ("post.create", {"secretary", "member", "other_secretary", "other_member", "editor"}),
    ("nomination.create", {"secretary", "other_secretary"}),
    ("nomination.decide", {"leader"}),
    ("objection.view", {"leader"}),
    ("inspection.manage", {"leader", "admin"}),
    ("submission.request", {"admin"}),
])
def test_role_scoped_actions(everyone, action, roles):
    assert _who_can(everyone, action) == roles


def test_disabled_rule_never_grants_other_branch(everyone, other_branch):
    assessment = _assessment(other_branch)
    assert "secretary" not in _who_can(everyone, "assessment.view", assessment)
    assert "member" not in _who_can(everyone, "assessment.view", assessment)


def test_plans_are_decided_by_the_leading_group_other_documents_by_the_organisation_section(everyone, admin, branch):
    """DESIGN.md: the leader approves plans (实施方案); the organisation section decides what else it asked for."""
    from portal.models import RequestKind, SubmissionRequest

    from .test_campaign import make_request

    for kind, deciders in ((RequestKind.PLAN, {"leader"}), (RequestKind.GENERAL, {"admin"})):
        request = make_request(admin, [branch], kind=kind.value)
        assert isinstance(request, SubmissionRequest)
        submission = db.session.scalar(select(Submission).where(Submission.request_id == request.id))
        assert _who_can(everyone, "submission.decide", submission) == deciders
        assert _who_can(everyone, "submission.decide", request) == deciders
