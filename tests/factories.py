"""factory_boy factories for test data. Sessions are committed so that a live server sees them."""
from __future__ import annotations

import factory
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.models import Branch, BranchKind, Role, Unit, UnitKind, User

PASSWORD = "correct-horse-42"
# Hashed once, cheaply: the tests are about access, not about hashing cost.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UnitFactory(Base):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试路第{n}小学")
    kind = UnitKind.PRIMARY


class BranchFactory(Base):
    class Meta:
        model = Branch

    unit = factory.SubFactory(UnitFactory)
    name = factory.LazyAttribute(lambda o: f"{o.unit.name}党支部")
    kind = BranchKind.BRANCH
    member_count = 10


class UserFactory(Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"测试用户{n}")
    password_hash = PASSWORD_HASH
    role = Role.MEMBER
    active = True


def add_branches(count: int, start: int = 0, active: bool = True) -> list[Branch]:
    """`count` branches 测试区第N学校党支部 of schools 测试区第N学校, in one commit."""
    units = [Unit(name=f"测试区第{n}学校", kind=UnitKind.PRIMARY) for n in range(start, start + count)]
    db.session.add_all(units)
    db.session.flush()
    branches = [Branch(unit_id=unit.id, name=f"{unit.name}党支部", kind=BranchKind.BRANCH, member_count=5,
                       active=active) for unit in units]
    db.session.add_all(branches)
    db.session.commit()
    return branches
