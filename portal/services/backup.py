"""Consistent backups while the portal serves, and restoring them into an empty instance.

A backup is one .tar.gz: manifest.json, the database (SQLite through the online backup API, which
copies a consistent snapshot while others write; PostgreSQL through pg_dump, which reads one snapshot),
and the uploaded files. The database is copied first and the files after it: files are written before
their row is committed and removed only after their row is gone, so every file the snapshot refers to
is still there when the files are copied."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from ..extensions import db

FORMAT = 1


class BackupError(Exception):
    pass


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _pg_env(url) -> tuple[list[str], dict]:
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def table_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def create(output_dir: str | Path) -> Path:
    url = _url()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"portal-backup-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if url.get_backend_name() == "sqlite":
            database_file = "database.sqlite3"
            source = sqlite3.connect(url.database)
            dest = sqlite3.connect(tmp / database_file)
            with dest:
                source.backup(dest)  # consistent snapshot, concurrent writers are not blocked for long
            dest.close()
            source.close()
            snapshot = sqlite3.connect(tmp / database_file)
            revision = snapshot.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            snapshot.close()
        elif url.get_backend_name() == "postgresql":
            database_file = "database.pgdump"
            args, env = _pg_env(url)
            result = subprocess.run(["pg_dump", *args, "--format=custom", "--no-owner", "--file",  # noqa: S603, S607
                                     str(tmp / database_file), url.database], env=env, capture_output=True)
            if result.returncode != 0:
                raise BackupError(result.stderr.decode(errors="replace"))
            revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
            db.session.rollback()
        else:
            raise BackupError(f"unsupported database: {url.get_backend_name()}")
        uploads = Path(current_app.config["UPLOAD_FOLDER"])
        manifest = {"format": FORMAT, "created_at": stamp, "database": url.get_backend_name(),
                    "database_file": database_file, "alembic_revision": revision,
                    "files": sorted(str(p.relative_to(uploads)) for p in uploads.rglob("*") if p.is_file())
                    if uploads.exists() else []}
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        partial = target.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(tmp / "manifest.json", "manifest.json")
            archive.add(tmp / database_file, database_file)
            for name in manifest["files"]:
                path = uploads / name
                if path.exists():
                    archive.add(path, f"uploads/{name}")
        partial.rename(target)  # never leave a half-written backup under the final name
    return target


def _safe_members(archive: tarfile.TarFile):
    for member in archive.getmembers():
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"unsafe path in backup: {member.name}")
        yield member


def restore(backup_file: str | Path, force: bool = False) -> dict:
    """Restore into this instance's database and upload folder, which must be empty (or force)."""
    url = _url()
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(backup_file, "r:gz") as archive:
        tmp = Path(tmp)
        archive.extractall(tmp, members=list(_safe_members(archive)), filter="data")
        manifest = json.loads((tmp / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError("unknown backup format")
        if manifest["database"] != url.get_backend_name():
            raise BackupError(f"this backup is of a {manifest['database']} database; "
                              f"this instance uses {url.get_backend_name()}")
        if not force and _has_data():
            raise BackupError("the target database is not empty (use --force to replace it)")
        db.session.remove()
        db.engine.dispose()
        if manifest["database"] == "sqlite":
            target = Path(url.database)
            for suffix in ("", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            shutil.copyfile(tmp / manifest["database_file"], target)
        else:
            args, env = _pg_env(url)
            result = subprocess.run(["pg_restore", *args, "--clean", "--if-exists", "--no-owner",  # noqa: S603, S607
                                     "--dbname", url.database, str(tmp / manifest["database_file"])],
                                    env=env, capture_output=True)
            if result.returncode != 0:
                raise BackupError(result.stderr.decode(errors="replace"))
        if (tmp / "uploads").exists():
            if force and uploads.exists():
                shutil.rmtree(uploads)
            shutil.copytree(tmp / "uploads", uploads, dirs_exist_ok=True)
    return manifest


def _has_data() -> bool:
    from sqlalchemy import inspect

    tables = set(inspect(db.engine).get_table_names())
    if "user" not in tables:
        return False
    from ..models import User

    has_users = bool(db.session.scalar(select(func.count(User.id))))
    db.session.rollback()
    return has_users
