"""A GET that writes (an audit entry) while another connection saves waits its turn instead of answering 503;
a 503 for a busy database keeps the person's header and navigation."""
import os
import threading

import pytest

from portal.extensions import db


@pytest.mark.skipif("postgresql" in os.environ.get("TEST_DATABASE_URL", ""), reason="SQLite's write lock")
@pytest.mark.parametrize("path", ["/admin/roster/template.csv", "missing-evidence"])
def test_a_get_that_writes_waits_for_another_writer(app, admin, path):
    """A GET that audits (a template download, a missing file) reads first, then writes: while another
    connection holds SQLite's write lock it must wait its turn (as a POST does), not answer 503 at once;
    and a 503 that does come (the lock held beyond the busy timeout) keeps the person's header."""
    import sqlite3
    from pathlib import Path

    from portal.models import Evidence

    from .test_access_matrix import build_world

    client = app.test_client()
    if path == "missing-evidence":
        world = build_world()
        evidence = db.session.get(Evidence, world.evidence_id)
        (Path(app.config["UPLOAD_FOLDER"]) / "evidence" / evidence.stored_name).unlink()
        path, user, expected = f"/checklist/evidence/{world.evidence_id}", world.users["secretary"], 404
    else:
        user, expected = admin, 200
    db.session.commit()
    assert client.login(user).status_code == 303
    database = db.engine.url.database
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock():
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        holding.set()
        release.wait(5)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    holding.wait(5)
    threading.Timer(0.4, release.set).start()
    response = client.get(path)
    holder.join()
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


@pytest.mark.skipif("postgresql" in os.environ.get("TEST_DATABASE_URL", ""), reason="SQLite's write lock")
def test_a_503_for_a_busy_database_keeps_the_header(app, admin, monkeypatch):
    from sqlalchemy.exc import OperationalError

    client = app.test_client()
    assert client.login(admin).status_code == 303

    def busy(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr("portal.services.roster.note_template", busy)
    response = client.get("/admin/roster/template.csv")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert admin.username in page or "退出" in page
