"""Find every page shape a role can reach: by following links from the home page like a visitor, by the
URLs of htmx links (fetched as the full page a history restore gets), by search and GET forms, and the error
pages (403, 404, and the 422/401 re-render of a form). A shape is an endpoint with the template it rendered:
pages that differ only in ids or data are checked once."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import template_rendered
from werkzeug.exceptions import HTTPException

HREF = re.compile(r'(?:href|hx-get)="(/[^"#]*)"')
HX_GET = re.compile(r'hx-get="(/[^"#]*)"')
SKIP = re.compile(r"^/(static|logout)|\.(xlsx|csv|xml|atom)(\?|$)|/(export|feed|download|evidence|files?)(/|$|\.)"
                  r"|/cover/|[?&]lang=")
DEMO_ROLES = ["admin", "leader", "editor", "sec01", "mem01"]
# Pages no link leads to: a search with hits, a missing page (404), the administration (403 below admin),
# the dashboard (403 below leadership).
SEEDS = ["/login", "/news/search?q=%E6%94%AF%E9%83%A8", "/no-such-page", "/admin/users", "/dashboard",
         "/news/999999"]
# Form posts answered with the page again (422, 401) or an error page: (path, form). Nothing is written.
ERROR_POSTS = [
    ("/account/password", {"current_password": "not-it", "new_password": "x", "repeat_password": "y"}),
    ("/news", {"title": ""}),
    ("/admin/users", {"username": ""}),
    ("/commendation/nominations/999999/reject", {"note": ""}),
    ("/login", {"username": "nobody", "password": "wrong"}),
]
FULL_PAGE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FRAGMENT_DOCUMENT = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>fragment</title></head>'
                     "<body>{}</body></html>")


@dataclass
class Page:
    url: str
    status: int
    html: str
    shape: tuple[str, str]  # (endpoint or status, template or "fragment")


def pattern(url: str) -> str:
    """Pages that differ only in ids or query values are the same page for our purposes."""
    parts = urlsplit(url)
    keys = sorted({kv.split("=")[0] for kv in parts.query.split("&") if kv})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


class _Templates:
    """The templates the app renders during a request (template_rendered)."""

    def __init__(self, app):
        self.app, self.names = app, []

    def __enter__(self):
        template_rendered.connect(self._record, self.app)
        return self

    def __exit__(self, *exc):
        template_rendered.disconnect(self._record, self.app)

    def _record(self, sender, template, context, **extra):
        self.names.append(template.name)


def _endpoint(app, url: str, method: str = "GET") -> str:
    try:
        return app.url_map.bind("localhost").match(urlsplit(url).path, method)[0]
    except HTTPException as error:
        return str(error.code)


def _fetch(client, templates, method: str, url: str, **kwargs):
    templates.names.clear()
    response = client.open(url, method=method, **kwargs)
    html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    template = templates.names[0] if templates.names else "fragment"
    return response, html, (_endpoint(client.application, url, method), template)


def crawl(client, limit: int = 400) -> list[Page]:
    """One full page per shape reachable for the logged-in (or anonymous) client; error pages included."""
    pages: dict[tuple, Page] = {}
    seen: set[str] = set()
    queue = ["/"]
    seeds = list(SEEDS)  # after the links: a seed's pattern must not hide the linked pages of the same pattern
    with _Templates(client.application) as templates:
        while (queue or seeds) and len(seen) < limit:
            if queue:
                url = queue.pop(0).replace("&amp;", "&")
                if SKIP.search(url) or pattern(url) in seen:
                    continue
                seen.add(pattern(url))
            else:
                url = seeds.pop(0)
            # htmx links are fetched as a history restore does: they must come back as whole pages too.
            response, html, shape = _fetch(client, templates, "GET", url, headers=FULL_PAGE)
            if response.status_code in (200, 403, 404) and "<html" in html:
                pages.setdefault(shape, Page(url, response.status_code, html, shape))
                queue.extend(HREF.findall(html))
        token = CSRF_META.search(next(iter(pages.values())).html).group(1) if pages else ""
        for path, form in ERROR_POSTS:
            response, html, shape = _fetch(client, templates, "POST", path, data={**form, "csrf_token": token})
            if "<html" in html:
                pages.setdefault((*shape, "POST"), Page("POST " + path, response.status_code, html, shape))
    return list(pages.values())


def fragments(client, pages: list[Page]) -> list[Page]:
    """The htmx answers (one per shape) of the hx-get links on `pages`, each wrapped in a minimal document so
    that a validator can read it."""
    found: dict[tuple, Page] = {}
    seen: set[str] = set()
    with _Templates(client.application) as templates:
        for page in pages:
            for url in HX_GET.findall(page.html):
                url = url.replace("&amp;", "&")
                if pattern(url) in seen:
                    continue
                seen.add(pattern(url))
                response, html, shape = _fetch(client, templates, "GET", url, headers=PARTIAL)
                if response.status_code == 200 and html and "<html" not in html:
                    found.setdefault(shape, Page(url, 200, FRAGMENT_DOCUMENT.format(html), shape))
    return list(found.values())
