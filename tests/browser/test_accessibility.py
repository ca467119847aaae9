"""axe-core (from the npm registry), injected through Playwright, finds no serious or critical violation
on any page shape any role reaches (tests/crawl.py: linked pages, search, 403 and 404 pages; one page per
endpoint and template, which keeps the run short without a cap)."""
from pathlib import Path

import pytest

from portal.services import demo

from ..crawl import DEMO_ROLES, crawl

pytestmark = [pytest.mark.browser, pytest.mark.markup]
AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize("username", DEMO_ROLES + ["anonymous"])
def test_no_serious_accessibility_violations(app, browser, live_server, username):
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make test` (it runs npm ci).")
    demo.seed(branches=4, members_per_branch=2)
    client = app.test_client()
    if username != "anonymous":
        assert client.login(username, demo.DEMO_PASSWORD).status_code == 303
    urls = [page.url for page in crawl(client) if not page.url.startswith("POST ")]
    assert len(urls) >= (2 if username == "anonymous" else 15), urls
    # Injecting axe is an inline script: only this run bypasses the CSP.
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    if username != "anonymous":
        page.goto(live_server + "/login")
        page.fill("#username", username)
        page.fill("#password", demo.DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_server + "/")
    problems = []
    for url in urls:
        page.goto(live_server + url)
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
            ".map(v => v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))")
        problems.extend(f"{url}: {v}" for v in violations)
    context.close()
    assert problems == []
