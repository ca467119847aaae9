"""8 clients set checklist results at once through gunicorn with several workers: no error responses,
no lost writes (one audit event per change), and the exact final state. Runs on SQLite and PostgreSQL."""
import threading

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, ItemResult, Role, Subject

from ..checklist_helpers import items
from ..factories import PASSWORD, BranchFactory, UserFactory
from ..liveserver import Browserless, gunicorn

pytestmark = pytest.mark.slow

CYCLE = ["met", "partly", "not_met"]  # consecutive values always differ: every request is a change
ROUNDS = 4


def test_eight_clients_tick_concurrently(app, database_url, upload_root):
    branches = [BranchFactory() for _ in range(4)]
    users = [UserFactory(username=f"conc-{i}", role=Role.SECRETARY, branch=branches[i // 2]) for i in range(8)]
    branch_items = items(Subject.BRANCH)
    # Two secretaries per branch, each with its own half of the items (by parity).
    plans = []
    for i, user in enumerate(users):
        mine = [item.id for n, item in enumerate(branch_items) if n % 2 == i % 2]
        plans.append((user.username, branches[i // 2].id, mine))
    db.session.commit()

    failures: list[str] = []
    requests_made = [0] * len(plans)

    def work(index: int, username: str, branch_id: int, item_ids: list[int]) -> None:
        client = Browserless(base)
        client.login(username, PASSWORD)
        for round_no in range(ROUNDS):
            for item_id in item_ids:
                response = client.htmx_post(f"/checklist/branch/{branch_id}/items/{item_id}/result",
                                            {"result": CYCLE[round_no % len(CYCLE)]})
                requests_made[index] += 1
                if response.status_code != 200 or "database is locked" in response.text:
                    failures.append(f"{username} item {item_id}: {response.status_code}")

    with gunicorn(database_url, str(upload_root), workers=3) as base:
        threads = [threading.Thread(target=work, args=(i, *plan)) for i, plan in enumerate(plans)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert failures == []
    db.session.commit()
    final = CYCLE[(ROUNDS - 1) % len(CYCLE)]
    rows = db.session.execute(select(ItemResult.result, func.count()).group_by(ItemResult.result)).all()
    assert rows == [(final, 4 * len(branch_items))]
    audited = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "checklist.set_result"))
    assert audited == sum(requests_made)


def test_reading_posts_while_others_save_never_fails(app, database_url, upload_root):
    """A post page counts its first read (a write in a GET): under concurrent saves it must wait its turn,
    never answer 503 "database is locked" (seen on SQLite when the counter's transaction began with a read)."""
    import time

    from ..news_helpers import make_post

    branch = BranchFactory()
    writer = UserFactory(username="conc-writer", role=Role.SECRETARY, branch=branch)
    readers = [UserFactory(username=f"conc-reader-{i}", role=Role.MEMBER, branch=branch) for i in range(2)]
    post_ids = [make_post(writer, title=f"风采{i}").id for i in range(12)]
    branch_id, item_ids, names = branch.id, [item.id for item in items(Subject.BRANCH)], [r.username for r in readers]
    db.session.commit()
    failures: list[str] = []
    stop = threading.Event()

    def tick(base):
        client = Browserless(base)
        client.login("conc-writer", PASSWORD)
        n = 0
        while not stop.is_set():
            response = client.htmx_post(f"/checklist/branch/{branch_id}/items/{item_ids[n % len(item_ids)]}/result",
                                        {"result": CYCLE[n % len(CYCLE)]})
            if response.status_code != 200:
                failures.append(f"tick {response.status_code}")
            n += 1

    def read(base, username):
        client = Browserless(base)
        client.login(username, PASSWORD)
        for post_id in post_ids:
            response = client.get(f"/news/{post_id}")
            if response.status_code != 200:
                failures.append(f"{username} /news/{post_id}: {response.status_code}")

    with gunicorn(database_url, str(upload_root), workers=2) as base:
        ticker = threading.Thread(target=tick, args=(base,))
        ticker.start()
        time.sleep(0.5)
        reading = [threading.Thread(target=read, args=(base, name)) for name in names]
        for thread in reading:
            thread.start()
        for thread in reading:
            thread.join(timeout=120)
        stop.set()
        ticker.join(timeout=30)
    assert failures == []
