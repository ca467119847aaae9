"""Backup under write load, restore into an empty instance, compare every table and file."""
import io
import json
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from werkzeug.datastructures import FileStorage

from portal.extensions import db
from portal.models import AuditEvent, Evidence, ItemResult, Role, Subject, User
from portal.services import backup, checklist, figures, tallies

from ..checklist_helpers import current_year, items
from ..conftest import _create_postgres_database, empty_tables, make_app
from ..factories import PASSWORD, BranchFactory, UserFactory
from ..liveserver import Browserless, gunicorn

pytestmark = pytest.mark.slow

CYCLE = ["met", "partly", "not_met"]
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
# Rows that the writers keep changing while the backup runs; they are checked for consistency instead.
MOVING = {"item_result", "audit_event", "assessment", "evidence", "assessment_tally", "branch_summary",
          "district_summary", "district_criterion", "district_group",
          "district_group_criterion"}  # the last four kept from the two before by triggers


def _rows(engine, table):
    with engine.connect() as conn:
        columns = [c["name"] for c in inspect(engine).get_columns(table)]
        listed = ", ".join(f'"{c}"' for c in columns)
        # Sorted here, not in SQL: PostgreSQL has no ordering for json columns (notification, bulletin).
        return sorted((tuple(r) for r in conn.execute(text(f'SELECT {listed} FROM "{table}"'))), key=repr)


def _wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def test_backup_under_load_and_restore(app, database_url, upload_root, tmp_path):
    branch = BranchFactory()
    writer_user = UserFactory(username="writer", role=Role.SECRETARY, branch=branch)
    branch_items = [item.id for item in items(Subject.BRANCH)]
    branch_id = branch.id
    # One photo uploaded before the load (and never touched): it must be in the backup and come back. Its item
    # is the first the writer sets, so that the audit/result comparison below stays exact.
    kept = checklist.add_evidence(writer_user, checklist.target_for(Subject.BRANCH, branch_id, current_year()),
                                  branch_items[0], FileStorage(io.BytesIO(PNG), filename="kept.png"))
    kept_name = db.session.scalar(select(Evidence.stored_name).where(Evidence.original_name == "kept.png"))
    assert kept_name and kept is not None
    db.session.commit()
    stop = threading.Event()
    errors = []
    done = []  # one entry per answered tick: the backup is taken while they come, however busy the machine is

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
            else:
                done.append(n)
            if n % 7 == 0:
                client.http.post(f"{base}/checklist/branch/{branch_id}/items/{item_id}/evidence",
                                 files={"file": (f"photo{n}.png", io.BytesIO(PNG), "image/png")},
                                 headers={"HX-Request": "true", "X-CSRFToken": client.token})
            n += 1

    with gunicorn(database_url, str(upload_root), workers=2) as base:
        writer = threading.Thread(target=write, args=(base,))
        writer.start()
        _wait_for(lambda: len(done) >= 3 or errors, "the writer's first ticks")
        archive = backup.create(tmp_path / "backups")  # while the writer is writing
        after = len(done)
        _wait_for(lambda: len(done) >= after + 3 or errors, "ticks after the backup")
        stop.set()
        writer.join(timeout=30)
    assert errors == []
    assert archive.exists() and not list((tmp_path / "backups").glob("*.partial"))
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        assert f"uploads/evidence/{kept_name}" in names
        assert tar.extractfile(f"uploads/evidence/{kept_name}").read() == PNG

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
            assert tallies.differences() == [], "the kept tallies are those of the snapshot's results"
            assert figures.differences(db.session) == [], "the kept summaries are those of the snapshot's rows"
            assert figures.district_differences(db.session) == [], "the district's totals are the snapshot's too"
            assert set(audits) == set(results)
            for item_id, count in audits.items():
                # Every request changed the value, so the n-th change of an item left CYCLE[n-1].
                assert results[item_id] == CYCLE[(count - 1) % len(CYCLE)]
            # The photo uploaded before the load is restored, row and file.
            assert db.session.scalar(select(Evidence.id).where(Evidence.stored_name == kept_name))
            assert (restored_uploads / "evidence" / kept_name).read_bytes() == PNG
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
    member_id, username = member.id, member.username
    result = runner.invoke(args=["backup", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [archive] = tmp_path.glob("portal-backup-*.tar.gz")
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        assert manifest["database_file"] in tar.getnames()
    # What it holds restores: the member is there again in an empty instance.
    db.session.remove()
    empty_tables()
    backup.restore(archive)
    assert db.session.scalar(select(User.username).where(User.id == member_id)) == username
