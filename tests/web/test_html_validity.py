"""The Nu Html Checker (vnu-jar from the npm registry) finds no error on any full page of any role."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from portal.services import demo

from ..crawl import DEMO_ROLES, crawl

HX_ATTRIBUTE = re.compile(r"Attribute “hx-[a-z:-]+” not allowed on element")
VNU = Path(__file__).parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture
def demo_district(app):
    demo.seed(branches=4, members_per_branch=2)


def test_every_full_page_is_valid_html(app, demo_district, tmp_path):
    if not VNU.exists() or not shutil.which("java"):
        pytest.fail("vnu-jar or Java is missing: run `make test` (it runs npm ci).")
    files = {}
    for username in DEMO_ROLES:
        client = app.test_client()
        client.login(username, demo.DEMO_PASSWORD)
        for n, (url, html) in enumerate(crawl(client).items()):
            path = tmp_path / f"{username}-{n}.html"
            path.write_text(html, encoding="utf-8")
            files[path.name] = f"{username} {url}"
    anonymous = app.test_client()
    (tmp_path / "anonymous-login.html").write_text(anonymous.get("/login").get_data(as_text=True), encoding="utf-8")
    files["anonymous-login.html"] = "anonymous /login"
    assert len(files) >= 10
    result = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    # htmx's hx-* attributes are not in the HTML standard; they are the one deliberate exception.
    errors = [f"{files.get(Path(m.get('url', '')).name, m.get('url'))}: line {m.get('lastLine')}: {m['message']}"
              for m in messages if m.get("type") == "error" and not HX_ATTRIBUTE.match(m["message"])]
    assert errors == []
