"""Static files with versioned addresses, cached by browsers for a year.

`url_for('static', filename=...)` gets `?v=<first 12 hex of the file's SHA-256>`: a changed file gets a new
address, so a page never meets an old copy and the old address may be cached for good. Answers to a
versioned address say `Cache-Control: public, max-age=31536000, immutable`, so old PCs fetch the CSS and
scripts once instead of revalidating three files on every page view; an unversioned or outdated address
keeps Flask's revalidation (`no-cache`). Hashes are computed once per file and process.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, request

YEAR_SECONDS = 31_536_000
IMMUTABLE = f"public, max-age={YEAR_SECONDS}, immutable"


@lru_cache(maxsize=256)
def _digest(folder: str, filename: str) -> str:
    """The version of a static file: 12 hex digits of its SHA-256, or "" when there is no such file."""
    path = (Path(folder) / filename).resolve()
    if not path.is_relative_to(Path(folder).resolve()) or not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def register(app: Flask) -> None:
    """Add the version to every static URL, and the year-long caching to answers of versioned ones."""

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = _digest(app.static_folder, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_versioned(response):
        if request.endpoint == "static" and response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            wanted = request.args.get("v")
            if wanted and wanted == _digest(app.static_folder, filename):
                response.headers["Cache-Control"] = IMMUTABLE
                response.expires = None
        return response
