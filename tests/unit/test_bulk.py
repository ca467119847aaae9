"""services/bulk.py: many rows through the driver's executemany, converted as SQLAlchemy converts them."""
from datetime import datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Role, User
from portal.services import bulk, notifications

from ..factories import BranchFactory, UserFactory


def test_rows_are_stored_as_the_orm_would_store_them(app):
    at = datetime(2010, 12, 20, 9, 0, 5, 123)
    rows = [{"actor_id": None, "actor_name": "sec01", "action": "checklist.submit", "object_type": "assessment",
             "object_id": n, "branch_id": None, "before": {"status": "draft"} if n else None,
             "after": {"status": "submitted", "comment": "见“附件”"}, "ip": "", "at": at} for n in range(3)]
    bulk.insert_dicts(AuditEvent.__table__, rows, batch=2)  # two driver calls
    db.session.commit()
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.object_id)))
    assert [(e.object_id, e.before, e.after["comment"], e.at) for e in events] == [
        (0, None, "见“附件”", at), (1, {"status": "draft"}, "见“附件”", at), (2, {"status": "draft"}, "见“附件”", at)]


def test_a_column_computed_per_row_must_be_given(app):
    with pytest.raises(ValueError, match="sort_key"):
        bulk.insert_dicts(User.__table__, [{"username": "x", "display_name": "张三", "password_hash": "-",
                                            "role": Role.MEMBER, "created_at": datetime(2012, 1, 1)}])


def test_scalar_defaults_are_filled(app):
    bulk.insert_dicts(User.__table__, [{"username": "x", "display_name": "张三", "sort_key": "zhang san",
                                        "password_hash": "-", "created_at": datetime(2012, 1, 1)}])
    user = db.session.scalar(select(User).where(User.username == "x"))
    assert (user.role, user.active, user.must_change_password, user.post_title) == (Role.MEMBER, True, False, "")


def test_secretaries_by_branch_is_secretaries_of_every_branch(app):
    branches = BranchFactory.create_batch(3)
    UserFactory(role=Role.SECRETARY, branch=branches[0])
    UserFactory(role=Role.SECRETARY, branch=branches[0])
    UserFactory(role=Role.SECRETARY, branch=branches[1], active=False)
    UserFactory(role=Role.MEMBER, branch=branches[2])
    db.session.flush()
    found = notifications.secretaries_by_branch()
    assert {b.id: found.get(b.id, []) for b in branches} == {b.id: notifications.secretaries_of(b.id)
                                                              for b in branches}
    assert len(found[branches[0].id]) == 2 and branches[1].id not in found


def test_json_values_equal_in_python_stay_apart(app):
    rows = [{"actor_id": None, "actor_name": "", "action": "x", "object_type": "", "object_id": n, "branch_id": None,
             "before": before, "after": None, "ip": "", "at": datetime(2012, 1, 1)}
            for n, before in enumerate([{"a": 1}, {"a": True}, {"a": 1.0}, {"a": [1]}, {"a": [1]}])]
    bulk.insert_dicts(AuditEvent.__table__, rows)
    stored = db.session.execute(select(AuditEvent.object_id, AuditEvent.before).order_by(AuditEvent.object_id))
    assert [type(before["a"]) for _id, before in stored] == [int, bool, float, list, list]
