"""Administration services: accounts, units and branches."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict, Invalid
from portal.extensions import db
from portal.models import AuditEvent, Branch, Role, Unit
from portal.services import accounts
from portal.services import users as user_service


def audits(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_create_user_reuses_account_rules(admin, branch):
    with pytest.raises(Invalid) as error:
        user_service.create(admin, username="", display_name="", password="short", role="member", branch_id="",
                            post_title="")
    assert set(error.value.field_errors) == {"username", "password", "branch"}
    with pytest.raises(Invalid) as error:
        user_service.create(admin, username="x", display_name="", password="longenough", role="king",
                            branch_id="999", post_title="")
    assert set(error.value.field_errors) == {"role", "branch"}
    user = user_service.create(admin, username="newbie", display_name="新人", password="longenough",
                               role="member", branch_id=str(branch.id), post_title="数学教师")
    assert user.branch_id == branch.id and user.check_password("longenough")


def test_disable_bumps_session_version_and_is_audited(admin, member):
    version = member.session_version
    session_id = member.get_id()
    user_service.set_active(admin, member, False)
    assert not member.active and member.session_version == version + 1
    assert accounts.load_user(session_id) is None
    with pytest.raises(Conflict):
        user_service.set_active(admin, member, False)
    user_service.set_active(admin, member, True)
    assert accounts.load_user(member.get_id()) is not None
    assert audits("user.disable") == 1 and audits("user.enable") == 1


def test_admin_cannot_disable_or_demote_self(admin):
    with pytest.raises(Conflict):
        user_service.set_active(admin, admin, False)
    with pytest.raises(Invalid) as error:
        user_service.update(admin, admin, display_name="我", role="member", branch_id="", post_title="")
    assert "branch" in error.value.field_errors or "role" in error.value.field_errors


def test_changing_role_ends_sessions(admin, member, other_branch):
    version = member.session_version
    user_service.update(admin, member, display_name="改名", role="secretary", branch_id=str(other_branch.id),
                        post_title="书记")
    assert (member.role, member.branch_id, member.session_version) == (Role.SECRETARY, other_branch.id, version + 1)
    user_service.update(admin, member, display_name="再改名", role="secretary", branch_id=str(other_branch.id),
                        post_title="书记")
    assert member.session_version == version + 1  # a name change keeps the session
    with pytest.raises(Invalid):
        user_service.update(admin, member, display_name="x", role="member", branch_id="", post_title="")


def test_reset_password(admin, member):
    with pytest.raises(Invalid) as error:
        user_service.reset_password(admin, member, "longenough", "different")
    assert "confirm" in error.value.field_errors
    with pytest.raises(Invalid):
        user_service.reset_password(admin, member, "short", "short")
    user_service.reset_password(admin, member, "a-new-password", "a-new-password")
    assert member.check_password("a-new-password")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.reset_password"))
    assert "a-new-password" not in str(event.before) + str(event.after)


def test_branch_crud(admin, branch, member):
    fields = {"unit_name": "新建路小学", "unit_kind": "primary", "branch_name": "新建路小学党支部",
              "branch_kind": "branch", "member_count": "12"}
    created = user_service.create_branch(admin, **fields)
    assert created.unit.name == "新建路小学" and created.member_count == 12
    with pytest.raises(Invalid) as error:
        user_service.create_branch(admin, **fields)
    assert set(error.value.field_errors) == {"branch_name"}  # a school may hold several branches; not one name
    with pytest.raises(Invalid) as error:
        user_service.create_branch(admin, unit_name="", unit_kind="castle", branch_name="", branch_kind="x",
                                   member_count="-3")
    assert len(error.value.field_errors) == 5
    user_service.update_branch(admin, created, **{**fields, "branch_name": "新建路小学党总支",
                                                  "branch_kind": "general_branch"})
    assert created.name == "新建路小学党总支"
    user_service.set_branch_active(admin, created, False)
    assert not created.active
    with pytest.raises(Conflict):
        user_service.delete_branch(admin, branch)  # people belong to it
    user_service.delete_branch(admin, created)
    assert db.session.scalar(select(func.count(Branch.id)).where(Branch.name == "新建路小学党总支")) == 0
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.name == "新建路小学")) == 0
    assert audits("branch.create") == 1 and audits("branch.delete") == 1
