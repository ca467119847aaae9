"""Uploaded files: checked by content (not only by name), stored under server-made names outside
static/, served only through views that have checked permission, with a safe Content-Disposition."""
from __future__ import annotations

import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app, send_file
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from ..errors import Invalid

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


@dataclass(frozen=True)
class StoredFile:
    original_name: str
    stored_name: str
    content_type: str
    size: int


def upload_dir(kind: str) -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"]) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


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
        from werkzeug.exceptions import RequestEntityTooLarge

        raise RequestEntityTooLarge()
    if size == 0:
        raise Invalid(str(_l("The file is empty.")), {field: _l("The file is empty.")})
    head = stream.read(8192)
    content_type = sniff(head, stream, file.filename)
    stream.seek(0)
    if content_type not in allowed:
        message = _l("“%(name)s” is not an allowed file (%(kinds)s), whatever its name says.",
                     name=file.filename[:80], kinds=", ".join(sorted(set(allowed.values()))))
        raise Invalid(str(message), {field: message})
    return content_type, size


def store(file: FileStorage, kind: str, allowed: dict[str, str], field: str = "file") -> StoredFile:
    """Check the file, then write it under a random server-made name. The caller records it."""
    content_type, size = check(file, allowed, field)
    stored_name = f"{secrets.token_hex(16)}.{allowed[content_type]}"
    target = upload_dir(kind) / stored_name
    file.stream.seek(0)
    with open(target, "wb") as out:
        while chunk := file.stream.read(1 << 16):
            out.write(chunk)
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


def remove(kind: str, stored_name: str) -> None:
    path = upload_dir(kind) / Path(stored_name).name
    path.unlink(missing_ok=True)


def serve(kind: str, stored_name: str, download_name: str, content_type: str, inline: bool = False):
    """Send a stored file; the download name is encoded by Werkzeug (RFC 5987), never trusted as a path."""
    path = upload_dir(kind) / Path(stored_name).name
    extension = EVIDENCE_TYPES.get(content_type) or _extension(stored_name) or "bin"
    response = send_file(path, mimetype=content_type, as_attachment=not inline,
                         download_name=_display_name(download_name, extension),
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
