"""Helpers for migration tests on a SQLite file that already holds rows: an app on the file, and moving its
schema up or down to a revision."""
from __future__ import annotations

from pathlib import Path

from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db


def sqlite_app(tmp_path: Path):
    """(the app, the path of its SQLite file) in `tmp_path`; nothing is migrated yet."""
    path = tmp_path / "old.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True,
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    return app, path


def migrate(app, revision: str, down: bool = False) -> None:
    """Upgrade (or downgrade) the app's database to `revision`, closing its connections afterwards so that the
    test reads the file with plain sqlite3."""
    with app.app_context():
        (downgrade if down else upgrade)(revision=revision)
        db.engine.dispose()


def seeded_sqlite_app(tmp_path: Path):
    """`sqlite_app` migrated to the head and seeded with a small demo district (3 branches × 2 members), its
    connections closed: (the app, the path of its SQLite file)."""
    from portal.services import demo

    app, path = sqlite_app(tmp_path)
    migrate(app, "heads")
    with app.app_context():
        demo.seed(branches=3, members_per_branch=2)
        db.engine.dispose()
    return app, path
