"""Deleting a branch never takes campaign records with it (users.delete_branch): a branch whose people have all
moved away may still hold its checklist answers, a moved member's self-assessment among them; the portal refuses
and says to deactivate it, and nothing is deleted or half-written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict
from portal.extensions import db
from portal.models import AuditEvent, Branch, ItemResult, Subject
from portal.services import checklist
from portal.services import users as user_service

from ..checklist_helpers import current_year, items, make_pledge


def _answers() -> int:
    return db.session.scalar(select(func.count(ItemResult.id)))


def test_a_branch_whose_moved_member_answered_there_is_not_deleted(admin, branch, other_branch, secretary, member):
    target = checklist.target_for(Subject.MEMBER, member.id, current_year())
    checklist.set_item_result(member, target, items(Subject.MEMBER)[0].id, "met")
    for person in (secretary, member):
        person.branch_id = other_branch.id
    db.session.commit()
    assert user_service.records_held(branch.id) == ["自评答案"]

    with pytest.raises(Conflict) as refused:
        user_service.delete_branch(admin, branch)
    assert "自评答案" in str(refused.value) and "停用" in str(refused.value)
    db.session.rollback()
    assert db.session.get(Branch, branch.id) is not None and _answers() == 1
    assert not db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "branch.delete"))


def test_every_kind_held_is_named_and_an_empty_branch_still_goes(admin, branch, other_branch, secretary, member):
    make_pledge(branch, member)
    assert user_service.records_held(branch.id) == ["承诺书"]
    checklist.set_item_result(secretary, checklist.target_for(Subject.BRANCH, branch.id, current_year()),
                              items(Subject.BRANCH)[0].id, "met")
    assert user_service.records_held(branch.id) == ["自评答案", "承诺书"]
    assert user_service.records_held(other_branch.id) == []
    empty = user_service.create_branch(admin, unit_name="新建路小学", unit_kind="primary",
                                       branch_name="新建路小学党支部", branch_kind="branch", member_count="3")
    user_service.delete_branch(admin, empty)
    assert db.session.get(Branch, empty.id) is None


def test_refusal_in_the_users_language(client, admin, branch, other_branch, secretary, member):
    checklist.set_item_result(secretary, checklist.target_for(Subject.BRANCH, branch.id, current_year()),
                              items(Subject.BRANCH)[0].id, "met")
    for person in (secretary, member):
        person.branch_id = other_branch.id
    db.session.commit()
    client.login(admin)
    refused = client.form_post(f"/admin/branches/{branch.id}/delete", {})
    assert refused.status_code == 409
    assert "自评答案" in refused.get_data(as_text=True)
    assert db.session.get(Branch, branch.id) is not None and _answers() == 1


def _offers_delete(client, branch) -> bool:
    page = client.get(f"/admin/branches?q={branch.name}").get_data(as_text=True)
    return f'/admin/branches/{branch.id}/delete"' in page


def test_the_registry_offers_delete_only_where_it_would_succeed(client, admin, branch, other_branch, secretary,
                                                                member):
    """undeletable(): the 删除 button is shown exactly for the branches delete_branch accepts: not for a branch with
    people (an inactive account too) nor for one that holds records after its people moved away."""
    client.login(admin)
    assert not _offers_delete(client, branch)  # people belong to it
    make_pledge(branch, member)
    for person in (secretary, member):
        person.branch_id = other_branch.id
    db.session.commit()
    assert user_service.undeletable([branch.id, other_branch.id]) == {branch.id, other_branch.id}
    assert not _offers_delete(client, branch)  # its pledge stays; before, 删除 led to a 409 page
    empty = user_service.create_branch(admin, unit_name="新建路小学", unit_kind="primary",
                                       branch_name="新建路小学党支部", branch_kind="branch", member_count="3")
    assert user_service.undeletable([empty.id]) == set() and _offers_delete(client, empty)
    secretary.branch_id, secretary.active = empty.id, False
    db.session.commit()
    assert user_service.undeletable([empty.id]) == {empty.id} and not _offers_delete(client, empty)
