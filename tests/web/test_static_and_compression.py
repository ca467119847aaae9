"""Page weight: versioned static addresses cached for a year, compressed pages and files."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli

STATIC = Path(__file__).parents[2] / "static"
ASSET = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{12})"')


def test_every_static_address_on_a_page_carries_the_files_hash(client, leader):
    client.login(leader)
    page = client.get("/dashboard").get_data(as_text=True)
    found = ASSET.findall(page)
    assert {path for path, _v in found} >= {"/static/css/portal.css", "/static/js/portal.js",
                                             "/static/vendor/htmx-4.0.1.min.js"}
    for path, version in found:
        content = (STATIC / path.removeprefix("/static/")).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:12]


def test_versioned_files_are_cached_for_a_year_and_others_revalidated(client):
    content = (STATIC / "css/portal.css").read_bytes()
    version = hashlib.sha256(content).hexdigest()[:12]
    kept = client.get(f"/static/css/portal.css?v={version}")
    assert kept.status_code == 200 and kept.data == content
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for stale in ("/static/css/portal.css", "/static/css/portal.css?v=000000000000"):
        response = client.get(stale)
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")


def _without_tokens(page: bytes) -> bytes:
    return re.sub(rb'((?:name="csrf-token" content|name="csrf_token"[^>]*? value)=")[^"]*', rb"\1", page)


def test_pages_and_scripts_are_compressed_for_clients_that_accept_it(client, leader):
    client.login(leader)
    plain = client.get("/dashboard").data
    packed = client.get("/dashboard", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    # (The pages' CSRF tokens are signed with the second they were made in: two requests may straddle one.)
    assert _without_tokens(gzip.decompress(packed.data)) == _without_tokens(plain)
    assert len(packed.data) < len(plain) / 2
    script = client.get("/static/vendor/htmx-4.0.1.min.js", headers={"Accept-Encoding": "br"})
    assert script.headers["Content-Encoding"] == "br"
    assert brotli.decompress(script.data) == (STATIC / "vendor/htmx-4.0.1.min.js").read_bytes()
    assert "Content-Encoding" not in client.get("/dashboard").headers  # none asked for, none given
