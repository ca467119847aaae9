"""The Nu Html Checker (vnu-jar from the npm registry) finds no error on any page shape of any role (error
pages and form re-renders included), nor in any htmx fragment wrapped in a minimal document.

The checker is an outside judge, so the test checks the judge too: it must exit as documented (0 clean, 1
errors found), print JSON, report no I/O error, and find the one error planted in a canary file."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from portal.services import demo

from ..crawl import DEMO_ROLES, crawl, fragments

HX_ATTRIBUTE = re.compile(r"Attribute “hx-[a-z:-]+” not allowed on element")
VNU = Path(__file__).parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CANARY = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>canary</title></head>'
          "<body><p><div>block in a paragraph</div></p></body></html>")

pytestmark = pytest.mark.markup


@pytest.fixture
def demo_district(app):
    demo.seed(branches=4, members_per_branch=2)


def run_vnu(folder: Path) -> list[dict]:
    """vnu's messages for every file in `folder`; fails on anything but a documented, readable answer."""
    result = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", str(folder)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), f"vnu exited {result.returncode}: {result.stderr[-2000:]}"
    try:
        messages = json.loads(result.stderr or result.stdout)["messages"]
    except (ValueError, KeyError) as error:
        pytest.fail(f"vnu gave no JSON report ({error}): {(result.stderr or result.stdout)[-2000:]!r}")
    io_errors = [m for m in messages if m.get("type") in ("non-document-error", "fatal")]
    assert io_errors == [], io_errors
    assert (result.returncode == 1) == any(m.get("type") == "error" for m in messages), result.returncode
    return messages


def test_every_page_shape_and_fragment_is_valid_html(app, demo_district, tmp_path):
    if not VNU.exists() or not shutil.which("java"):
        pytest.fail("vnu-jar or Java is missing: run `make test` (it runs npm ci).")
    files = {}

    def keep(name: str, html: str, what: str):
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files[path.name] = what

    shapes = set()
    for username in [*DEMO_ROLES, "anonymous"]:
        client = app.test_client()
        if username != "anonymous":
            assert client.login(username, demo.DEMO_PASSWORD).status_code == 303
        pages = crawl(client)
        for n, page in enumerate(pages):
            keep(f"{username}-{n}", page.html, f"{username} {page.url} ({page.status})")
        for n, page in enumerate(fragments(client, pages)):
            keep(f"{username}-fragment-{n}", page.html, f"{username} fragment {page.url}")
        shapes |= {page.status for page in pages}
    assert {200, 403, 404, 422} <= shapes, shapes  # error pages and re-rendered forms were reached
    assert any("fragment" in name for name in files)
    keep("canary", CANARY, "canary")
    messages = run_vnu(tmp_path)
    # The canary's planted error is reported: the checker read the files.
    assert any(Path(m.get("url", "")).name == "canary.html" and m.get("type") == "error" for m in messages)
    # htmx's hx-* attributes are not in the HTML standard; they are the one deliberate exception.
    errors = [f"{files.get(Path(m.get('url', '')).name, m.get('url'))}: line {m.get('lastLine')}: {m['message']}"
              for m in messages if m.get("type") == "error" and not HX_ATTRIBUTE.match(m["message"])
              and Path(m.get("url", "")).name != "canary.html"]
    assert errors == []
