"""Soak: gunicorn with several workers, 8 clients mixing page reads and result-setting for a while
(SOAK_SECONDS, 8 s in `make test`, 60 s in `make bench`): zero 5xx, zero lost writes (the audit
count equals the writes made) and the exact final state. On SQLite and PostgreSQL alike."""
import os
import threading
import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assessment, AuditEvent, ItemResult, Role, Subject

from ..checklist_helpers import items
from ..factories import PASSWORD, BranchFactory, UserFactory
from ..liveserver import Browserless, gunicorn

pytestmark = pytest.mark.slow
CYCLE = ["met", "partly", "not_met", "na"]


def test_soak_mixed_reads_and_writes(app, database_url, upload_root):
    seconds = float(os.environ.get("SOAK_SECONDS", 8))
    branches = [BranchFactory() for _ in range(4)]
    for i in range(8):
        UserFactory(username=f"soak-{i}", role=Role.SECRETARY, branch=branches[i // 2])
    UserFactory(username="soak-leader", role=Role.LEADER)
    branch_ids = [b.id for b in branches]
    item_ids = [item.id for item in items(Subject.BRANCH)]
    db.session.commit()

    server_errors, writes, last_value = [], [0] * 8, {}
    lock = threading.Lock()

    def client_loop(index: int, base: str, deadline: float) -> None:
        client = Browserless(base)
        client.login(f"soak-{index}", PASSWORD)
        branch_id = branch_ids[index // 2]
        mine = [item for n, item in enumerate(item_ids) if n % 2 == index % 2]
        n = 0
        while time.monotonic() < deadline:
            if n % 3 == 2:  # a read between writes: the page, the members, the home page
                path = [f"/checklist/branch/{branch_id}", f"/checklist/branch/{branch_id}/members", "/"][n % 3]
                response = client.get(path)
            else:
                item_id = mine[n % len(mine)]
                value = CYCLE[(n // len(mine)) % len(CYCLE)]
                response = client.htmx_post(f"/checklist/branch/{branch_id}/items/{item_id}/result",
                                            {"result": value})
                if response.status_code == 200:
                    with lock:
                        previous = last_value.get((branch_id, item_id), "not_assessed")
                        if previous != value:
                            writes[index] += 1
                        last_value[(branch_id, item_id)] = value
            if response.status_code != 200:
                server_errors.append((response.request.path_url, response.status_code))
            n += 1

    with gunicorn(database_url, str(upload_root), workers=4) as base:
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=client_loop, args=(i, base, deadline)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)

    assert server_errors == []
    db.session.commit()
    saved = {(branch_id, item_id): value.value for branch_id, item_id, value in db.session.execute(
        select(Assessment.branch_id, ItemResult.item_id, ItemResult.result).join(Assessment))}
    assert saved == last_value
    audited = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "checklist.set_result"))
    assert audited == sum(writes) and audited > 0
