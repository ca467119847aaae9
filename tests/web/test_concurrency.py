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
