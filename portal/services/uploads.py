"""Uploaded files: checked by content (not only by name), stored under server-made names outside
static/, served only through views that have checked permission, with a safe Content-Disposition."""
from __future__ import annotations

import os
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app, send_file
from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import DomainError, Invalid, NotFound
from ..i18n import fill

# Allowed kinds, by what the bytes are. Office files are ZIP (OOXML) or OLE2 (legacy) containers.
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
DOCUMENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
}
EVIDENCE_TYPES = {**IMAGE_TYPES, **DOCUMENT_TYPES}
_OOXML_MARKERS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
_OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_LEGACY_BY_EXTENSION = {"doc": "application/msword", "xls": "application/vnd.ms-excel",
                        "ppt": "application/vnd.ms-powerpoint"}


# A stored file being deleted is renamed to this suffix until the deleting change commits (see `removing`).
ASIDE = ".deleting"


class StorageUnavailable(DomainError):
    """The upload storage refused a write, rename or directory (full disk, wrong permissions): 503, and
    the change that needed it is not committed."""

    status_code = 503

    def __init__(self):
        super().__init__(str(_l("Files cannot be stored at the moment, so nothing was saved. Please try again "
                                "later; if it persists, tell the organisation section.")))


class FileTooLarge(RequestEntityTooLarge):
    """A chosen file over MAX_UPLOAD_BYTES (413): unlike a request too large to be read at all, it is known to
    be a file, so the message names the file limit."""


class FileMissing(NotFound):
    """A row names a stored file that is not in the upload folder (lost, restored from an older backup):
    404 with its own message; the error handler audits it so the organisation section learns of it."""

    def __init__(self, kind: str, stored_name: str):
        super().__init__(str(_l("This file is missing from the portal's storage. The organisation section has "
                                "been told; please upload it again if you have it.")))
        self.kind, self.stored_name = kind, stored_name


# Where rows name stored files: (folder under UPLOAD_FOLDER, table, column). Backups copy exactly these
# files and `flask clean-uploads` treats every other file as an orphan. Roster previews ("roster") are
# short-lived files no row names; they are left to the roster service.
REFERENCES = (
    ("evidence", "evidence", "stored_name"),
    ("covers", "post", "cover_stored"),
    ("covers", "post", "cover_thumb_stored"),
    ("inline", "post_image", "stored_name"),
    ("nominations", "attachment", "stored_name"),
    ("submissions", "submission", "document_stored"),
)
TRANSIENT_KINDS = ("roster",)


def referenced_files(execute) -> set[str]:
    """Every stored file the database names, as "folder/name" paths. `execute(sql)` runs a query and
    returns its rows: a SQLAlchemy connection's or a sqlite3 snapshot's, so that the list comes from the
    same snapshot as the data being backed up."""
    found: set[str] = set()
    for kind, table, column in REFERENCES:
        sql = f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> \'\''  # noqa: S608  # nosec B608 - names are constants
        found.update(f"{kind}/{row[0]}" for row in execute(sql))
    return found


def orphans(min_age_seconds: int = 3600) -> list[Path]:
    """Files in the upload folder that no row names (left by a crash between writing a file and
    committing its row, or by a replaced document), oldest first. Files younger than `min_age_seconds` are
    left out: their row may be about to commit."""
    import time

    from ..extensions import db

    root = Path(current_app.config["UPLOAD_FOLDER"])
    if not root.exists():
        return []
    named = referenced_files(lambda sql: db.session.execute(text(sql)).all())
    db.session.rollback()
    cutoff = time.time() - min_age_seconds
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path.stat().st_mtime > cutoff:
            continue
        relative = path.relative_to(root).as_posix()
        if relative not in named:  # a file renamed aside (`.deleting`) is never named: its row is gone
            found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime)


def record_missing(actor, error: FileMissing, path: str) -> bool:
    """Audit (and commit) that `error`'s file was asked for at `path` and is not in storage: once per file
    per day (UTC), the day's first request; later requests for it only count (refusal_tally, under a key
    made from the file's name), so that a page polling a lost image cannot flood the audit log.
    Returns True when this request wrote the audit entry."""
    import hashlib

    from ..extensions import db
    from . import audit, notifications, throttle

    digest = hashlib.sha256(f"{error.kind}/{error.stored_name}".encode()).hexdigest()[:24]
    first = throttle.tally_refusal(f"missing:{digest}", commit=False)
    if first:
        audit.record(actor, "access.file_missing", None,
                     after={"kind": error.kind, "stored_name": error.stored_name, "path": path[:200]})
    notifications.notify_missing_file(error.kind, error.stored_name, path)
    db.session.commit()
    return first


def remove_orphans(paths: list[Path]) -> list[Path]:
    """Delete the given orphans and audit it (one event, actor the command line); returns those removed."""
    from ..extensions import db
    from . import audit

    root = Path(current_app.config["UPLOAD_FOLDER"])
    removed = []
    for path in paths:
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            continue
        except OSError:
            current_app.logger.warning("could not remove orphan %s", path)
    audit.record(None, "upload.clean", None, after={"removed": len(removed), "files": [
        p.relative_to(root).as_posix() for p in removed[:200]]})
    db.session.commit()
    return removed


@dataclass(frozen=True)
class StoredFile:
    original_name: str
    stored_name: str
    content_type: str
    size: int


def upload_dir(kind: str) -> Path:
    """The folder of one kind of upload, made on first use. Raises StorageUnavailable when it cannot be."""
    path = Path(current_app.config["UPLOAD_FOLDER"]) / kind
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise StorageUnavailable() from None
    return path


def write_bytes(kind: str, stored_name: str, data: bytes) -> None:
    """Write a whole file under a server-made name; StorageUnavailable (503) when storage refuses."""
    target = upload_dir(kind) / Path(stored_name).name
    try:
        target.write_bytes(data)
    except OSError:
        target.unlink(missing_ok=True) if os.access(target.parent, os.W_OK) else None
        raise StorageUnavailable() from None


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def sniff(head: bytes, stream, original_name: str) -> str | None:
    """The content type the bytes really are, or None."""
    if head.startswith(_OLE2_MAGIC):
        return _LEGACY_BY_EXTENSION.get(_extension(original_name))
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.mime == "application/zip" or kind.extension in ("docx", "xlsx", "pptx"):
        try:
            stream.seek(0)
            with zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return None
        for marker, ext in _OOXML_MARKERS.items():
            if any(n.startswith(marker) for n in names):
                return next(m for m, e in DOCUMENT_TYPES.items() if e == ext)
        return None
    return kind.mime


def check(file: FileStorage | None, allowed: dict[str, str], field: str = "file") -> tuple[str, int]:
    """Validate size and content; returns (content type, size). Raises Invalid (422) with a message."""
    if file is None or not file.filename:
        raise Invalid(str(_l("Choose a file to upload.")), {field: _l("Choose a file to upload.")})
    stream = file.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if size > limit:
        raise FileTooLarge()
    if size == 0:
        raise Invalid(str(_l("The file is empty.")), {field: _l("The file is empty.")})
    head = stream.read(8192)
    content_type = sniff(head, stream, file.filename)
    stream.seek(0)
    if content_type not in allowed:
        message = fill(_l("“%(name)s” is not an allowed file (%(kinds)s), whatever its name says."),
                       name=file.filename[:80], kinds=", ".join(sorted(set(allowed.values()))))
        raise Invalid(message, {field: message})
    return content_type, size


def store(file: FileStorage, kind: str, allowed: dict[str, str], field: str = "file") -> StoredFile:
    """Check the file, then write it under a random server-made name. The caller records it."""
    content_type, size = check(file, allowed, field)
    stored_name = f"{secrets.token_hex(16)}.{allowed[content_type]}"
    target = upload_dir(kind) / stored_name
    file.stream.seek(0)
    try:
        with open(target, "wb") as out:
            while chunk := file.stream.read(1 << 16):
                out.write(chunk)
    except OSError:  # read-only or full storage: no half-written file, nothing recorded (the caller's
        _forget(target)  # change has not started writing rows yet)
        raise StorageUnavailable() from None
    return StoredFile(original_name=_display_name(file.filename, allowed[content_type]), stored_name=stored_name,
                      content_type=content_type, size=size)


def _display_name(name: str, extension: str) -> str:
    """The uploader's name for display and download only (never a path): no directories or control
    characters, and the extension of what the bytes are, so that `会议记录.html` holding a PDF downloads as
    `会议记录.pdf` and never opens as a page (nor `.bat`/`.exe`/`.lnk` as a program)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem.strip()[:180] or 'file'}.{extension}"


def _forget(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        current_app.logger.warning("could not remove %s; `flask clean-uploads` will list it", path)


def remove(kind: str, stored_name: str) -> None:
    """Remove a file no row needs any more (after the change that dropped it committed, or to undo a store).
    Never raises: a file left behind is an orphan for `flask clean-uploads`, not a failed request."""
    try:
        path = upload_dir(kind) / Path(stored_name).name
    except StorageUnavailable:
        return
    _forget(path)


def _settle_missing(kind: str, stored_name: str) -> None:
    """A file whose row goes is no longer missing: its notification to the organisation section is settled."""
    from . import notifications

    notifications.settle_missing_file(kind, stored_name)


@contextmanager
def removing(kind: str, stored_name: str) -> Iterator[None]:
    """Around a change that deletes the row of a stored file and commits: the file is first renamed aside
    (the same permission a delete needs, so an unwritable folder refuses here with StorageUnavailable,
    before anything is written); if the change fails it is put back; once it committed it is deleted.
    The row and its file thus go together or not at all."""
    path = upload_dir(kind) / Path(stored_name).name
    aside = path.with_name(path.name + ASIDE)
    moved = path.exists()
    if moved:
        try:
            path.rename(aside)
        except OSError:
            raise StorageUnavailable() from None
    try:
        _settle_missing(kind, stored_name)  # in the change's transaction: settled if and only if it commits
        yield
    except BaseException:
        if moved:
            aside.rename(path)
        raise
    if moved:
        _forget(aside)


def content_disposition(name: str, fallback: str, inline: bool = False) -> str:
    """The Content-Disposition of a download named `name` (any language): RFC 6266 with `filename*` in
    RFC 5987 (UTF-8, every character but letters, digits and ``_.-~`` percent-encoded, so that quotes,
    semicolons and commas in a title cannot break the header), and before it an ASCII `filename=` (`fallback`
    reduced to letters, digits, ``._-``) for the clients that do not read `filename*`."""
    from urllib.parse import quote

    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in fallback)
    ascii_name = ascii_name.lstrip("._") or "download"  # no hidden file, no way up a directory
    return (f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(name, safe='')}")


def serve(kind: str, stored_name: str, download_name: str, content_type: str, inline: bool = False):
    """Send a stored file; the download name is encoded by Werkzeug (RFC 5987), never trusted as a path.
    Raises FileMissing (404, audited) when the file is not in storage."""
    path = upload_dir(kind) / Path(stored_name).name
    if not path.is_file():
        raise FileMissing(kind, stored_name)
    extension = EVIDENCE_TYPES.get(content_type) or _extension(stored_name) or "bin"
    response = send_file(path, mimetype=content_type, as_attachment=not inline,
                         download_name=_display_name(download_name, extension),
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
