"""In-process CPU and statements per request of the pages issue #14 names, for every role's home page and a
tick (session h14page):

    DATABASE_URL=sqlite:////tmp/copy-of-d2000.db .venv/bin/python -m bench.page_cpu [ROUNDS]

Logs in with the Flask test client (CSRF off) as each demo account and requests each page ROUNDS times after two
warm-ups; prints the median and the lowest CPU time (time.process_time), the statements of one request and the most
statements SQLAlchemy compiled in one request after the warm-ups (a statement without a cache key compiles every
time).
Pages starting "HX " are requested as htmx does (the fragment). `ONLY=<text>` runs the pages whose label holds it.
`SHOW=<label>` lists that page's statements with their wall time. `PAGES="user path, user path"` measures those
pages instead of the list below and the tick (a path may hold `{request}`: the current year's first 报送 request's
id). The tick writes (the first branch item's result, alternately met and partly): run it on a copy of a district,
never on a database you keep.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

from sqlalchemy import event, select
from sqlalchemy.engine.default import CACHE_HIT

from portal import create_app
from portal.extensions import db

PAGES = [("leader", "/healthz"), ("leader", "/account"), ("leader", "/"), ("admin", "/"), ("editor", "/"),
         ("sec01", "/"), ("mem01", "/"), ("leader", "/dashboard"), ("leader", "/dashboard?sort=-score&page=4"),
         ("leader", "/branches/1"), ("sec01", "/our-branch"), ("mem01", "/news"), ("leader", "/notifications"),
         # The filtered overview (session h14filter); "HX " asks for the fragment, as htmx does.
         ("leader", "/dashboard?kind=primary"), ("leader", "HX /dashboard?status=submitted&sort=-score"),
         ("leader", "/dashboard?kind=middle&status=draft"), ("leader", "/dashboard?status=none"),
         ("leader", "/dashboard?kind=primary&page=3"), ("leader", "/dashboard?grade=advanced"),
         ("leader", "/dashboard?appraisal=low"), ("leader", "/dashboard?appraisal=few"),
         ("leader", "/dashboard?q=%E5%B0%8F%E5%AD%A6"), ("leader", "/dashboard?q=%E7%BA%A2%E7%83%9B"),
         ("leader", "/dashboard?kind=office&status=returned"),
         # News search over the bench's 5,000 posts (session h14search): two characters, four characters.
         ("mem01", "/news/search?q=%E6%94%AF%E9%83%A8"),
         ("mem01", "/news/search?q=%E5%BF%97%E6%84%BF%E6%9C%8D%E5%8A%A1")]


def main(rounds: int = 7) -> None:
    only, show = os.environ.get("ONLY"), os.environ.get("SHOW")
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"], "WTF_CSRF_ENABLED": False})
    statements: list[tuple[float, str]] = []
    compiled: list[str] = []  # statements SQLAlchemy compiled (no cached compiled form: a miss or no cache key)
    started: dict[int, float] = {}
    with app.app_context():
        @event.listens_for(db.engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            started[id(cursor)] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            statements.append(((time.perf_counter() - started.pop(id(cursor))) * 1000, statement))
            if context is not None and context.compiled is not None and context.cache_hit is not CACHE_HIT:
                compiled.append(statement)

        from portal.models import Criterion, Framework, Item, Subject, User

        item = db.session.scalar(select(Item.id).join(Criterion).join(Framework).where(
            Framework.subject == Subject.BRANCH, Item.year_id.is_(None)).order_by(Criterion.position, Item.position)
            .limit(1))
        branch = db.session.scalar(select(User.branch_id).where(User.username == "sec01"))
        from portal.models import CampaignYear, SubmissionRequest

        request_id = db.session.scalar(
            select(SubmissionRequest.id).join(CampaignYear, CampaignYear.id == SubmissionRequest.year_id)
            .where(CampaignYear.is_current.is_(True)).order_by(SubmissionRequest.id).limit(1))
    pages = PAGES
    if os.environ.get("PAGES"):
        pages = [tuple(entry.split(maxsplit=1)) for entry in os.environ["PAGES"].split(",") if entry.strip()]
        pages = [(user, path.replace("{request}", str(request_id))) for user, path in pages]
    clients = {}
    tick = f"/checklist/branch/{branch}/items/{item}/result"
    extra = [] if os.environ.get("PAGES") else [("sec01", f"/checklist/branch/{branch}"), ("sec01", "TICK")]
    for user, page in [*pages, *extra]:
        label = f"TICK {tick}" if page == "TICK" else page
        if only and only not in label:
            continue
        if user not in clients:
            clients[user] = app.test_client()
            response = clients[user].post("/login", data={"username": user, "password": "portal-demo"})
            assert response.status_code in (302, 303), response.status_code
        client = clients[user]
        cpu, counts, compiles = [], [], []
        for n in range(rounds + 2):
            statements.clear()
            compiled.clear()
            t0 = time.process_time()
            if page == "TICK":
                response = client.post(tick, data={"result": "met" if n % 2 else "partly"},
                                       headers={"HX-Request": "true"})
            elif page.startswith("HX "):
                response = client.get(page[3:], headers={"HX-Request": "true"})
            else:
                response = client.get(page)
            spent = (time.process_time() - t0) * 1000
            assert response.status_code == 200, (page, response.status_code)
            if n >= 2:
                cpu.append(spent)
                counts.append(len(statements))
                compiles.append(len(compiled))
        print(f"{user:7} {label:40} CPU {statistics.median(cpu):6.1f} ms (min {min(cpu):5.1f})  "
              f"statements {counts[0]:3}  compiled {max(compiles):3}", flush=True)
        if show == label:
            for ms, statement in statements:
                print(f"     {ms:7.2f} ms  {' '.join(statement.split())[:300]}")
            for statement in compiled:
                print(f"     compiled: {' '.join(statement.split())[:120]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
