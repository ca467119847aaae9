"""Find the full pages a role can reach, by following links from the home page like a visitor."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

HREF = re.compile(r'href="(/[^"#]*)"')
SKIP = re.compile(r"^/(static|logout)|\.(xlsx|csv|xml|atom)(\?|$)|/(export|feed|download|evidence|files?)(/|$|\.)"
                  r"|[?&]lang=")
DEMO_ROLES = ["admin", "leader", "editor", "sec01", "mem01"]


def pattern(url: str) -> str:
    """Pages that differ only in ids or query values are the same page for our purposes."""
    parts = urlsplit(url)
    keys = sorted({kv.split("=")[0] for kv in parts.query.split("&") if kv})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def crawl(client, limit: int = 40) -> dict[str, str]:
    """{url: html} of distinct full pages reachable from "/" for the logged-in client."""
    seen_patterns: set[str] = set()
    pages: dict[str, str] = {}
    queue = ["/"]
    while queue and len(pages) < limit:
        url = queue.pop(0).replace("&amp;", "&")
        if SKIP.search(url) or pattern(url) in seen_patterns:
            continue
        seen_patterns.add(pattern(url))
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        if "<html" not in html:
            continue
        pages[url] = html
        queue.extend(HREF.findall(html))
    return pages
