"""Backup under write load, restore into an empty instance, compare every table and file."""
import io
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from portal.extensions import db
from portal.models import AuditEvent, Evidence, ItemResult, Role, Subject
from portal.services import backup

from ..checklist_helpers import items
from ..conftest import _create_postgres_database, make_app
from ..factories import PASSWORD, BranchFactory, UserFactory
from ..liveserver import Browserless, gunicorn

pytestmark = pytest.mark.slow

CYCLE = ["met", "partly", "not_met"]
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
# Rows that the writers keep changing while the backup runs; they are checked for consistency instead.
MOVING = {"item_result", "audit_event", "assessment", "evidence"}


def _rows(engine, table):
    with engine.connect() as conn:
        columns = [c["name"] for c in inspect(engine).get_columns(table)]
        order = ", ".join(f'"{c}"' for c in columns)
        return [tuple(r) for r in conn.execute(text(f'SELECT {order} FROM "{table}" ORDER BY {order}'))]


def test_backup_under_load_and_restore(app, database_url, upload_root, tmp_path):
    branch = BranchFactory()
    UserFactory(username="writer", role=Role.SECRETARY, branch=branch)
    branch_items = [item.id for item in items(Subject.BRANCH)]
    branch_id = branch.id
    db.session.commit()
    stop = threading.Event()
    errors = []

    def write(base):
        client = Browserless(base)
        client.login("writer", PASSWORD)
        n = 0
        while not stop.is_set():
            item_id = branch_items[n % len(branch_items)]
            value = CYCLE[(n // len(branch_items)) % len(CYCLE)]
            response = client.htmx_post(f"/checklist/branch/{branch_id}/items/{item_id}/result", {"result": value})
            if response.status_code != 200:
                errors.append(response.status_code)
            if n % 7 == 0:
                client.http.post(f"{base}/checklist/branch/{branch_id}/items/{item_id}/evidence",
                                 files={"file": (f"photo{n}.png", io.BytesIO(PNG), "image/png")},
                                 headers={"HX-Request": "true", "X-CSRFToken": client.token})
            n += 1

    with gunicorn(database_url, str(upload_root), workers=2) as base:
        writer = threading.Thread(target=write, args=(base,))
        writer.start()
        time.sleep(1.5)
        archive = backup.create(tmp_path / "backups")  # while the writer is writing
        time.sleep(0.5)
        stop.set()
        writer.join(timeout=30)
    assert errors == []
    assert archive.exists() and not list((tmp_path / "backups").glob("*.partial"))

    # Restore into an empty instance of the same kind.
    if database_url.startswith("sqlite"):
        target_url, drop = f"sqlite:///{tmp_path / 'restored.sqlite3'}", (lambda: None)
    else:
        import os

        target_url, drop = _create_postgres_database(os.environ["TEST_DATABASE_URL"])
    restored_uploads = tmp_path / "restored-uploads"
    target = make_app(target_url, restored_uploads)
    try:
        with target.app_context():
            backup.restore(archive)
        live, restored = create_engine(database_url), create_engine(target_url)
        # Every table that was not being written is identical.
        for table in db.metadata.sorted_tables:
            if table.name not in MOVING:
                assert _rows(live, table.name) == _rows(restored, table.name), table.name
        with target.app_context():
            # The snapshot is consistent: each result is what its audit trail says it must be.
            item_key = AuditEvent.after["item_id"].as_integer()
            audits = dict(db.session.execute(
                select(item_key, func.count()).where(AuditEvent.action == "checklist.set_result")
                .group_by(item_key)).all())
            results = dict(db.session.execute(select(ItemResult.item_id, ItemResult.result)).all())
            assert audits, "the backup caught some writes"
            assert set(audits) == set(results)
            for item_id, count in audits.items():
                # Every request changed the value, so the n-th change of an item left CYCLE[n-1].
                assert results[item_id] == CYCLE[(count - 1) % len(CYCLE)]
            # Every evidence row of the snapshot has its file, byte for byte.
            for evidence in db.session.scalars(select(Evidence)):
                restored_file = restored_uploads / "evidence" / evidence.stored_name
                live_file = Path(upload_root) / "evidence" / evidence.stored_name
                assert restored_file.read_bytes() == live_file.read_bytes()
        live.dispose()
        restored.dispose()
    finally:
        with target.app_context():
            db.engine.dispose()
        drop()


def test_restore_refuses_a_database_with_data(app, tmp_path, member):
    archive = backup.create(tmp_path)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(archive)


def test_backup_command_writes_an_archive(app, runner, tmp_path, member):
    result = runner.invoke(args=["backup", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert list(tmp_path.glob("portal-backup-*.tar.gz"))
