"""A district's roster (5,000 rows) imports on the task queue, in a consumer process as `make run` starts it,
while other people keep saving: no save fails, and the import is done in seconds."""
import io
import re
import time

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Criterion, Framework, ImportStatus, Item, Pledge, Role, RosterImport, Subject, User

from ..factories import BranchFactory, UserFactory
from .test_reminders import _free_port
from .test_task_queue import consumer, queue, queue_url  # noqa: F401 - fixtures

ROWS = 5000


def test_5000_rows_import_in_the_background_while_others_save(app, client, admin, queue, consumer):  # noqa: F811
    branches = [BranchFactory(name=f"第{n}学校党支部") for n in range(1, 41)]
    writer = UserFactory(username="busy-sec", role=Role.SECRETARY, branch=branches[0])
    lines = ["用户名,姓名,角色,支部,职务"] + [
        f"t{n:05d},教师{n},{'支部书记' if 0 < n < 40 else '党员'},{branches[n % 40].name},教师" for n in range(ROWS)]
    item = db.session.scalar(select(Item.id).join(Criterion).join(Framework).where(
        Framework.subject == Subject.BRANCH).limit(1))
    consumer(_free_port())
    client.login(admin)
    started = time.monotonic()
    page = client.form_post("/admin/roster", {"file": (io.BytesIO("\n".join(lines).encode()), "district.csv")},
                            content_type="multipart/form-data")
    assert page.status_code == 200, re.findall(r'class="row-errors">(.*?)</ul>', page.get_data(as_text=True))[:3]
    body = page.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', body).group(1)
    confirm = client.form_post("/admin/roster/import", {"token": token, "fingerprint": fingerprint})
    assert confirm.status_code == 303
    job_url = confirm.headers["Location"]
    # Meanwhile a secretary keeps saving, in a client of their own.
    other = app.test_client()
    other.login(writer)
    statuses, seen_running = [], False
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        statuses.append(other.form_post("/pledges", {"for": "branch", "text": f"承诺{len(statuses)}",
                                                 "items": str(item)}).status_code)
        progress = client.get(job_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        seen_running |= 'data-status="running"' in progress
        if 'data-status="done"' in progress or 'data-status="failed"' in progress:
            break
    elapsed = time.monotonic() - started
    db.session.rollback()
    job = db.session.scalar(select(RosterImport))
    assert job.status == ImportStatus.DONE, job.error
    assert set(statuses) == {303}, statuses
    assert db.session.scalar(select(func.count(Pledge.id)).where(Pledge.author_id == writer.id)) == len(statuses)
    assert db.session.scalar(select(func.count(User.id)).where(User.roster_import_id == job.id,
                                                               User.active.is_(True))) == ROWS
    assert len(statuses) >= 3 and elapsed < 60, (len(statuses), elapsed)
    assert 'role="progressbar"' in progress or "<progress" in progress
