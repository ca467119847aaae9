"""The audit log at 1366 px: a person's name and a client address read whole, never broken mid-word; what
changed and on what wraps in the room left."""
import pytest

from portal.extensions import db
from portal.models import AuditEvent, utcnow

from ..factories import PASSWORD, UserFactory
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_names_and_addresses_never_wrap_mid_word(page, live_server, admin, branch):
    person = UserFactory(username="wang.xiaoming.longname", display_name="欧阳晓明明", branch=branch)
    for i in range(3):
        db.session.add(AuditEvent(actor_id=person.id, actor_name=person.username, action="pledge.update",
                                  object_type="pledge", object_id=i + 1, branch_id=branch.id, at=utcnow(),
                                  ip="2001:db8:85a3::8a2e:370:7334",
                                  before={"text": "旧" * 80}, after={"text": "新的承诺内容" * 30}))
    db.session.commit()
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/admin/audit?user={person.username}")
    cells = page.locator("#audit-log td.audit-person a, #audit-log td.audit-ip")
    assert cells.count() == 6
    for i in range(cells.count()):
        rects = cells.nth(i).evaluate("e => { const r = document.createRange(); r.selectNodeContents(e);"
                                      " return r.getClientRects().length; }")
        assert rects == 1, cells.nth(i).inner_text()  # one line box: not broken
    assert cells.first.get_attribute("title") == person.username
    changes = page.locator("#audit-log td.audit-changes").first.bounding_box()
    assert changes["width"] >= 200  # the long change wraps in its own column
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    screenshot(page, "audit-log-1366")
