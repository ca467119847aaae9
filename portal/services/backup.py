"""Consistent backups while the portal serves, and restoring them into an empty instance.

A backup is one .tar.gz: manifest.json, the database (SQLite through the online backup API, which
copies a consistent snapshot while others write; PostgreSQL through pg_dump, which reads one snapshot),
and the uploaded files. The list of files is read from the same snapshot as the database (the copy on
SQLite; on PostgreSQL the transaction whose snapshot pg_dump is given), so the backup holds exactly the
files its rows name, never orphans. Files are written before their row is committed and removed only
after their row is gone (renamed aside meanwhile, see uploads.removing), so each listed file is there;
if one is not, the backup fails loudly rather than report success without it."""
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
from . import uploads as upload_store

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
            files = upload_store.referenced_files(lambda sql: snapshot.execute(sql).fetchall())
            snapshot.close()
        elif url.get_backend_name() == "postgresql":
            database_file = "database.pgdump"
            revision, files = _pg_dump(url, tmp / database_file)
        else:
            raise BackupError(f"unsupported database: {url.get_backend_name()}")
        uploads = Path(current_app.config["UPLOAD_FOLDER"])
        manifest = {"format": FORMAT, "created_at": stamp, "database": url.get_backend_name(),
                    "database_file": database_file, "alembic_revision": revision, "files": sorted(files)}
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        partial = target.with_suffix(".partial")
        try:
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(tmp / "manifest.json", "manifest.json")
                archive.add(tmp / database_file, database_file)
                missing = []
                for name in manifest["files"]:
                    path = _file_of_snapshot(uploads / name)
                    if path is None:
                        missing.append(name)
                    else:
                        archive.add(path, f"uploads/{name}")
            if missing:
                raise BackupError(f"{len(missing)} file(s) named by the database are missing from "
                                  f"{uploads}: {', '.join(missing[:10])}; no backup was written")
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.rename(target)  # never leave a half-written backup under the final name
    return target


def _file_of_snapshot(path: Path) -> Path | None:
    """The file a row of the snapshot names: in place, or renamed aside by a delete that committed after
    the snapshot was taken (uploads.removing) and has not removed it yet. None when it is gone."""
    if path.is_file():
        return path
    aside = path.with_name(path.name + upload_store.ASIDE)
    return aside if aside.is_file() else None


def _pg_dump(url, target: Path) -> tuple[str, set[str]]:
    """pg_dump of the snapshot of a REPEATABLE READ transaction that also reads the revision and the file
    list, so all three see the same moment."""
    args, env = _pg_env(url)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
        files = upload_store.referenced_files(lambda sql: conn.execute(text(sql)).all())
        result = subprocess.run(["pg_dump", *args, "--format=custom", "--no-owner", f"--snapshot={snapshot}",  # noqa: S603, S607
                                 "--file", str(target), url.database], env=env, capture_output=True)
    if result.returncode != 0:
        raise BackupError(result.stderr.decode(errors="replace"))
    return revision, files


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
