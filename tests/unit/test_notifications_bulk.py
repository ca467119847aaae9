"""notifications.in_bulk: a command that notifies of many events inserts their rows together at the end."""
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Notification
from portal.services import notifications

from ..factories import UserFactory


def test_rows_are_collected_then_inserted_together_duplicates_ignored(app):
    people = UserFactory.create_batch(3)
    with notifications.in_bulk():
        notifications.notify(people, "pledge.returned", "event:1", reason="再具体些")
        notifications.notify(people[:1], "pledge.returned", "event:1", reason="再具体些")  # the same event again
        assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert db.session.scalar(select(func.count(Notification.id))) == 3
    notifications.notify(people[:1], "pledge.returned", "event:2")  # outside: at once
    assert db.session.scalar(select(func.count(Notification.id))) == 4
