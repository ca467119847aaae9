"""Stored files under fault: a file missing from storage answers a translated 404 and is audited; storage
that refuses writes answers a translated 503 and nothing is saved (no row, no audit event, no file);
a delete whose file cannot be removed is not committed."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Evidence, Nomination, Post

from ..news_helpers import image_file
from .test_access_matrix import PNG, build_world


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _files(root) -> set[str]:
    return {str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file()}


@pytest.fixture
def world(app):
    return build_world()


def _client(app, user):
    client = app.test_client()
    assert client.login(user).status_code == 303
    return client


def test_a_missing_evidence_file_is_a_translated_404_and_audited(app, world):
    evidence = db.session.get(Evidence, world.evidence_id)
    (Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name).unlink()
    client = _client(app, world.users["secretary"])
    events = _count(AuditEvent)
    response = client.get(f"/checklist/evidence/{world.evidence_id}")
    assert response.status_code == 404
    assert "文件已不在门户的存储中" in response.get_data(as_text=True)
    missing = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.file_missing")).all()
    assert len(missing) == 1 and missing[0].after["stored_name"] == evidence.stored_name
    assert _count(AuditEvent) == events + 1


def test_a_missing_file_is_audited_once_a_day_however_often_it_is_asked_for(app, world):
    from portal.models import RefusalTally

    root = Path(app.config["UPLOAD_FOLDER"])
    evidence = db.session.get(Evidence, world.evidence_id)
    (root / "evidence" / evidence.stored_name).unlink()
    for path in root.glob("nominations/*"):
        path.unlink()
    client = _client(app, world.users["secretary"])
    for _ in range(5):
        assert client.get(f"/checklist/evidence/{world.evidence_id}").status_code == 404
    leader = _client(app, world.users["leader"])
    for _ in range(3):  # another file: its own entry, also once
        assert leader.get(f"/commendation/nominations/{world.extra['nomination']}/files/"
                          f"{world.extra['attachment']}").status_code == 404
    missing = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.file_missing")
                                 .order_by(AuditEvent.id)).all()
    assert [event.after["kind"] for event in missing] == ["evidence", "nominations"]
    counts = sorted(db.session.scalars(select(RefusalTally.count).where(RefusalTally.kind.like("missing:%"))))
    assert counts == [3, 5]  # every request is still counted


def test_missing_cover_and_attachment_files_are_404_too(app, world):
    root = Path(app.config["UPLOAD_FOLDER"])
    for path in list((root / "covers").glob("*")) + list((root / "nominations").glob("*")):
        path.unlink()
    client = _client(app, world.users["leader"])
    for url in (f"/news/{world.extra['published_post']}/cover/thumb",
                f"/commendation/nominations/{world.extra['nomination']}/files/{world.extra['attachment']}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "文件已不在门户的存储中" in response.get_data(as_text=True)


@pytest.fixture
def unwritable(app, tmp_path):
    """Storage that refuses every write: the upload folder lies under a plain file (tests run as root,
    for whom permissions refuse nothing)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    saved = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
    yield
    app.config["UPLOAD_FOLDER"] = saved


def test_uploads_to_unwritable_storage_answer_503_and_save_nothing(app, world, unwritable):
    from portal.models import Role

    from ..factories import UserFactory

    secretary = world.users["secretary"]
    nominee = UserFactory(username="nominee", role=Role.MEMBER, branch=world.branch)
    client = _client(app, secretary)
    before = (_count(Evidence), _count(Post), _count(Nomination), _count(AuditEvent))
    attempts = [
        (f"/checklist/branch/{world.branch.id}/items/{world.item_id}/evidence",
         {"file": (io.BytesIO(PNG), "a.png")}),
        ("/news", {"category": "branch_exemplar", "title": "新稿件", "summary": "", "body_md": "正文",
                   "branch_id": str(world.branch.id), "cover": image_file(size=(64, 48))}),
        ("/commendation/nominations", {"member_id": str(nominee.id), "deeds": "事迹",
                                       "files": (io.BytesIO(b"%PDF-1.4\n%%EOF\n" + b"%" * 100), "x.pdf")}),
    ]
    for url, data in attempts:
        response = client.form_post(url, data, content_type="multipart/form-data")
        assert response.status_code == 503, url
        assert "暂时无法保存文件" in response.get_data(as_text=True)
    assert (_count(Evidence), _count(Post), _count(Nomination), _count(AuditEvent)) == before


def test_the_roster_upload_to_unwritable_storage_answers_503(app, admin, unwritable):
    client = _client(app, admin)
    events = _count(AuditEvent)
    # A valid roster: its preview keeps the checked file for the import, which the storage refuses.
    response = client.form_post("/admin/roster", {"file": (io.BytesIO("username,display_name,role,branch\n"
                                                                       "u1,张三,editor,\n".encode()), "r.csv")},
                                content_type="multipart/form-data")
    assert response.status_code == 503
    assert _count(AuditEvent) == events


def test_a_delete_whose_file_cannot_be_removed_is_not_committed(app, world, monkeypatch):
    evidence = db.session.get(Evidence, world.evidence_id)
    path = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name
    client = _client(app, world.users["secretary"])
    events = _count(AuditEvent)

    def refuse(self, target):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "rename", refuse)
    response = client.form_post(f"/checklist/evidence/{world.evidence_id}/delete")
    monkeypatch.undo()
    assert response.status_code == 503
    assert "暂时无法保存文件" in response.get_data(as_text=True)
    assert db.session.get(Evidence, world.evidence_id) is not None and path.exists()
    assert _count(AuditEvent) == events


def test_a_delete_that_fails_to_commit_puts_the_file_back(app, world, monkeypatch):
    from portal.services import checklist

    evidence = db.session.get(Evidence, world.evidence_id)
    path = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name
    secretary = world.users["secretary"]
    target = checklist.target_for(*_target_args(world))

    def failing_commit():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        checklist.delete_evidence(secretary, target, evidence, world.item_id)
    monkeypatch.undo()
    db.session.rollback()
    assert path.exists() and not path.with_name(path.name + ".deleting").exists()
    assert db.session.get(Evidence, world.evidence_id) is not None


def test_a_delete_removes_row_and_file_together(app, world):
    evidence = db.session.get(Evidence, world.evidence_id)
    path = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name
    client = _client(app, world.users["secretary"])
    response = client.form_post(f"/checklist/evidence/{world.evidence_id}/delete")
    assert response.status_code in (200, 303)
    assert db.session.get(Evidence, world.evidence_id) is None
    assert not path.exists() and not path.with_name(path.name + ".deleting").exists()


def _target_args(world):
    from portal.models import Subject

    from ..checklist_helpers import current_year

    return Subject.BRANCH, world.branch.id, current_year()


def test_an_evidence_id_is_never_given_again(app, world):
    """SQLite without AUTOINCREMENT hands the newest row's id to the next one after a delete, and the
    audit entry of the deleted file would then name another file."""
    client = _client(app, world.users["secretary"])
    url = f"/checklist/branch/{world.branch.id}/items/{world.item_id}/evidence"
    assert client.form_post(url, {"file": (io.BytesIO(PNG), "b.png")},
                            content_type="multipart/form-data").status_code in (200, 303)
    newest = db.session.scalar(select(func.max(Evidence.id)))
    assert client.form_post(f"/checklist/evidence/{newest}/delete").status_code in (200, 303)
    assert client.form_post(url, {"file": (io.BytesIO(PNG), "c.png")},
                            content_type="multipart/form-data").status_code in (200, 303)
    assert db.session.scalar(select(func.max(Evidence.id))) == newest + 1


def test_the_tables_named_by_the_audit_log_are_autoincrement_on_sqlite(app):
    from sqlalchemy import text

    from portal.models import AUTOINCREMENT_TABLES

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sequences never reuse ids")
    schema = dict(db.session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
    assert [t for t in AUTOINCREMENT_TABLES if "AUTOINCREMENT" not in schema[t]] == []


# --- backups and orphans -------------------------------------------------------------------------------

def test_a_backup_holds_the_files_its_rows_name_and_no_orphans(app, world, tmp_path):
    import json
    import tarfile

    from portal.services import backup

    root = Path(app.config["UPLOAD_FOLDER"])
    (root / "evidence" / "orphan.png").write_bytes(PNG)
    archive = backup.create(tmp_path)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
    evidence = db.session.get(Evidence, world.evidence_id)
    assert f"evidence/{evidence.stored_name}" in manifest["files"]
    assert "evidence/orphan.png" not in manifest["files"] and "uploads/evidence/orphan.png" not in names
    assert {f"uploads/{name}" for name in manifest["files"]} <= names


def test_a_backup_copies_a_file_renamed_aside_by_a_delete_after_its_snapshot(app, world, tmp_path):
    import tarfile

    from portal.services import backup

    evidence = db.session.get(Evidence, world.evidence_id)
    path = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name
    path.rename(path.with_name(path.name + ".deleting"))  # a delete in flight: the row is still there
    with tarfile.open(backup.create(tmp_path)) as tar:
        assert tar.extractfile(f"uploads/evidence/{evidence.stored_name}").read() == PNG


def test_a_backup_fails_loudly_when_a_listed_file_is_missing(app, runner, world, tmp_path):
    evidence = db.session.get(Evidence, world.evidence_id)
    (Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name).unlink()
    result = runner.invoke(args=["backup", "--output", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "missing" in result.output and evidence.stored_name in result.output
    assert list((tmp_path / "out").glob("*")) == []


def test_clean_uploads_lists_orphans_and_removes_them_only_when_asked(app, runner, world, tmp_path):
    # Its own upload folder: files other tests left in the shared one would crowd the audited list.
    evidence = db.session.get(Evidence, world.evidence_id)
    shared = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    root = tmp_path
    (root / "evidence").mkdir()
    kept = root / "evidence" / evidence.stored_name
    kept.write_bytes(shared.read_bytes())
    orphan = root / "evidence" / "orphan-from-a-crash.png"
    orphan.write_bytes(PNG)
    events = _count(AuditEvent)
    dry = runner.invoke(args=["clean-uploads", "--min-age", "0"])
    assert dry.exit_code == 0 and str(orphan) in dry.output and str(kept) not in dry.output
    assert orphan.exists() and _count(AuditEvent) == events
    done = runner.invoke(args=["clean-uploads", "--min-age", "0", "--delete"])
    assert done.exit_code == 0, done.output
    assert not orphan.exists() and kept.exists()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "upload.clean")).one()
    assert "evidence/orphan-from-a-crash.png" in event.after["files"]


def test_a_missing_file_notifies_the_admins_once_and_is_settled_when_it_is_back(app, world, admin):
    """"已通知组织科" is true: each admin gets one notification per missing file, however often it is asked for;
    it stops waiting once the file is back in storage (or its row is gone)."""
    from portal.models import Notification

    evidence = db.session.get(Evidence, world.evidence_id)
    path = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name
    kept = path.read_bytes()
    path.unlink()
    client = _client(app, world.users["secretary"])
    for _ in range(3):
        response = client.get(f"/checklist/evidence/{world.evidence_id}")
        assert response.status_code == 404 and "已通知组织科" in response.get_data(as_text=True)
    notes = db.session.scalars(select(Notification).where(Notification.kind == "file.missing")).all()
    admins = {n.recipient_id for n in notes}
    assert admin.id in admins and len(notes) == len(admins)
    assert all(n.resolved_at is None for n in notes)
    page = _client(app, admin).get("/notifications").get_data(as_text=True)
    assert evidence.stored_name in page, page[page.find("<main"):][:3000]
    path.write_bytes(kept)
    _client(app, admin).get("/notifications")
    db.session.expire_all()
    assert all(n.resolved_at is not None for n in
               db.session.scalars(select(Notification).where(Notification.kind == "file.missing")))


def test_a_missing_files_notification_is_settled_when_its_row_is_deleted(app, world, admin):
    from portal.models import Notification

    evidence = db.session.get(Evidence, world.evidence_id)
    (Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name).unlink()
    client = _client(app, world.users["secretary"])
    assert client.get(f"/checklist/evidence/{world.evidence_id}").status_code == 404
    response = client.form_post(f"/checklist/evidence/{world.evidence_id}/delete", {})
    assert response.status_code in (200, 303), response.status_code
    db.session.expire_all()
    notes = db.session.scalars(select(Notification).where(Notification.kind == "file.missing")).all()
    assert notes and all(n.resolved_at is not None for n in notes)
