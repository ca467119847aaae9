"""No input answers 5xx: every route of the URL map, for each role, with hostile values in its path
parameters, in every query parameter its view reads, and in every field of every form the role is shown.

One app and one world (the access matrix's) serve all requests of a role; CSRF is off so that a POST
costs one request. Values are sampled: each path parameter gets every hostile value for two roles and a
few for the others; each query parameter a few values; each form every hostile value in all its fields at
once (a sample of them per role and form: each role draws its own), among them bidi controls, full-width
formula signs, punctuation-only names, implausible dates, a 2,000-character text, and two files for one field.
Any 5xx, or an exception escaping a view, fails the test with the requests that caused it."""
from __future__ import annotations

import io
import random
import re
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from portal.extensions import db
from portal.services.builtin import ensure_builtin

from ..conftest import PortalClient, empty_tables, make_app
from .test_access_matrix import TABLE, build_world

ROLES = ["anonymous", "member", "secretary", "editor", "leader", "admin"]
# The role that tries every hostile path value; the others try a sample (the converters answer before any
# view, whoever asks).
FULL_PATH_ROLES = {"anonymous"}
PATH_SAMPLE, QUERY_SAMPLE, FORM_SAMPLE = 3, 2, 6
PATH_VALUES = ["99999999999999999999", "2147483648", "-1", "0", "%00", "%E2%80%8B", "%C2%B2", quote("支部"),
               "x" * 300, "..%2F..%2Fetc%2Fpasswd"]
QUERY_VALUES = ["\x00", "-1", "99999999999999999999", "²", "\u200b", "<b>x</b>", "=1+1", "0001-01-01",
                "支部" * 300, "2147483648"]
FORM_VALUES = ["\x00", "A" * 10_240, "0001-01-01T00:00", "\u200b\u200b", '<b>x</b><script>alert(1)</script>',
               "=HYPERLINK(\"http://x\",\"x\")", "+1", "-1", "@SUM(1)", "99999999999999999999", "²", "",
               "9999-12-31", "１２３", "\u202eevil\u2066x\u2069", "＝1+1", "..", "\x01\x1b[31m", "2000-01-01",
               "中" * 2000]
HOSTILE_FILE_NAMES = ["<b>x</b>.pdf", "=1+1.png", "..%2F..%2Fx.pdf", "\u200b.pdf", "a" * 300 + ".pdf"]
# Routes whose success would end the role's session or remove the world the other requests point at:
# fuzzed last, so that everything else is tried on the intact world first.
LAST = ("auth.logout", "delete", "active", "password", "make_current")
PARAM = re.compile(r"<(?:[^<>:]+:)?(\w+)>")


class RecordingArgs(ImmutableMultiDict):
    """The query string as views read it, noting which names they ask for."""

    read: set[str] = set()

    def get(self, key, default=None, type=None):  # noqa: A002
        RecordingArgs.read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        RecordingArgs.read.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        RecordingArgs.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        RecordingArgs.read.add(key)
        return super().__contains__(key)


class FormFinder(HTMLParser):
    """Forms (and htmx elements that post) on a page: action path → field names and file field names."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, tuple[set, set]] = {}
        self._current: tuple[set, set] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._current = self.forms.setdefault(urlsplit(attrs.get("action") or "").path, (set(), set()))
        elif attrs.get("hx-post"):
            fields = self.forms.setdefault(urlsplit(attrs["hx-post"]).path, (set(), set()))
            if attrs.get("name"):
                fields[0].add(attrs["name"])
        if tag in ("input", "select", "textarea", "button") and attrs.get("name") and self._current is not None:
            kind = (attrs.get("type") or "").lower()
            self._current[1 if kind == "file" else 0].add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


@pytest.fixture(scope="module")
def fuzz(database_url, upload_root):
    """One app and one world for the whole module (rebuilt only if xdist splits the module)."""
    app = make_app(database_url, upload_root, WTF_CSRF_ENABLED=False)
    app.test_client_class = PortalClient
    with app.app_context():
        ensure_builtin()
        world = build_world()
        yield app, world
        db.session.remove()
        empty_tables()
        db.session.remove()
        db.engine.dispose()


def _routes(world) -> list[tuple[str, str, str]]:
    """(key, method, url) for every entry of the access matrix (which covers every route of the URL map,
    its own test says so), the most destructive last."""
    rows = []
    for key, (method, template, _allowed, _overrides) in TABLE.items():
        rows.append((key, method, template.format(w=world)))
    rows.sort(key=lambda row: (any(word in row[0] for word in LAST), row[0]))
    return rows


class Fuzzer:
    def __init__(self, app, world, role):
        self.app, self.world, self.role = app, world, role
        self.rng = random.Random(role)
        self.client = app.test_client()
        self.failures: list[str] = []
        self.requests = 0
        self.login()

    def login(self):
        if self.role != "anonymous":
            assert self.client.login(self.world.users[self.role]).status_code == 303

    def request(self, method: str, url: str, **kwargs):
        self.requests += 1
        try:
            response = self.client.open(url, method=method, **kwargs)
        except Exception as error:  # an exception escaping the view: what a server would answer 500 for
            db.session.rollback()
            self.failures.append(f"{self.role}: {method} {url[:120]} {self._data(kwargs)} raised {error!r:.300}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{self.role}: {method} {url[:120]} {self._data(kwargs)} → {response.status_code}")
        elif response.mimetype == "text/html" and self._echoed_markup(response, kwargs):
            self.failures.append(f"{self.role}: {method} {url[:120]} {self._data(kwargs)} echoed markup")
        return response

    @staticmethod
    def _echoed_markup(response, kwargs) -> bool:
        """Markup sent in a query value or a form field must never come back as markup (a form's text may
        come back as sanitised Markdown, so there only the script counts)."""
        body = response.get_data(as_text=True)
        if "<script>alert(1)" in body:
            return True
        query = kwargs.get("query_string") or {}
        return any(value == "<b>x</b>" for value in query.values()) and "<b>x</b>" in body

    @staticmethod
    def _data(kwargs) -> str:
        data = kwargs.get("data") or kwargs.get("query_string")
        return repr(data)[:160] if data else ""

    def endpoint(self, url: str) -> str | None:
        try:
            return self.app.url_map.bind("localhost").match(urlsplit(url).path, method="POST")[0]
        except Exception:
            return None

    def path_variants(self, url: str) -> list[str]:
        """`url` with one path parameter at a time replaced by a hostile value."""
        adapter = self.app.url_map.bind("localhost")
        try:
            rule, values = adapter.match(urlsplit(url).path, return_rule=True)
        except Exception:
            return []
        names = PARAM.findall(rule.rule)
        variants = []
        for name in names:
            sample = PATH_VALUES if self.role in FULL_PATH_ROLES else self.rng.sample(PATH_VALUES, PATH_SAMPLE)
            for value in sample:
                path = PARAM.sub(lambda m, name=name, value=value: value if m.group(1) == name
                                 else quote(str(values[m.group(1)])), rule.rule)
                variants.append(path)
        return variants

    def get_page(self, url: str):
        RecordingArgs.read = set()
        response = self.request("GET", url)
        read = set(RecordingArgs.read)
        return response, read

    def fuzz_query(self, url: str, names: set[str]):
        base = urlsplit(url)
        for name in sorted(names):
            if name == "lang" and self.rng.random() < 0.9:  # read by every page; one page in ten tries it
                continue
            for value in self.rng.sample(QUERY_VALUES, QUERY_SAMPLE):
                self.request("GET", base.path, query_string={name: value})

    def fuzz_form(self, url: str, fields: set[str], files: set[str], htmx: bool):
        headers = {"HX-Request": "true"} if htmx else {}
        payloads = self.rng.sample(FORM_VALUES, FORM_SAMPLE) if fields or files else FORM_VALUES[:1]
        for i, value in enumerate(payloads):
            data: dict = dict.fromkeys(fields, value)
            for name in files:
                file_name = HOSTILE_FILE_NAMES[i % len(HOSTILE_FILE_NAMES)]
                body = b"%PDF-1.4 not really" + value.encode()[:64]
                # Every other time two files under one name: refused or kept, never a 5xx.
                data[name] = ([FileStorage(io.BytesIO(body), filename=file_name),
                               FileStorage(io.BytesIO(body), filename="second.pdf")] if i % 2 else
                              FileStorage(io.BytesIO(body), filename=file_name))
            self.request("POST", url, data=data, headers=headers, content_type="multipart/form-data")


@pytest.mark.parametrize("role", ROLES)
def test_no_input_answers_5xx(fuzz, role):
    app, world = fuzz
    # Flask's Request class is shared by every app in the process: recording is on for this test only.
    app.request_class.parameter_storage_class = RecordingArgs
    try:
        fuzzer = Fuzzer(app, world, role)
        routes = _routes(world)
        forms: dict[str, tuple[set, set]] = {}
        for _key, method, url in routes:
            if method != "GET":
                continue
            response, read = fuzzer.get_page(url)
            if response is not None and response.status_code == 200 and response.mimetype == "text/html":
                finder = FormFinder()
                finder.feed(response.get_data(as_text=True))
                for action, (fields, files) in finder.forms.items():
                    known = forms.setdefault(action, (set(), set()))
                    known[0].update(fields)
                    known[1].update(files)
            fuzzer.fuzz_query(url, read)
            for variant in fuzzer.path_variants(url):
                fuzzer.request("GET", variant)
        for key, method, url in routes:
            if method != "POST":
                continue
            for variant in fuzzer.path_variants(url)[:4]:
                fuzzer.request("POST", variant, data={})
            fields, files = forms.get(url, (set(), set()))
            fuzzer.fuzz_form(url, fields - {"csrf_token"}, files, htmx=fuzzer.rng.random() < 0.5)
            if key == "auth.logout":
                fuzzer.login()
        # Forms posting to a route the matrix names with other ids (one per route), or to the login.
        posted = {fuzzer.endpoint(url) for _key, method, url in routes if method == "POST"}
        for action, (fields, files) in sorted(forms.items()):
            endpoint = fuzzer.endpoint(action)
            if endpoint and endpoint not in posted:
                posted.add(endpoint)
                fuzzer.fuzz_form(action, fields - {"csrf_token"}, files, htmx=False)
                if endpoint == "auth.login":
                    fuzzer.login()
    finally:
        app.request_class.parameter_storage_class = ImmutableMultiDict
    assert fuzzer.failures == [], (f"{len(fuzzer.failures)} of {fuzzer.requests} requests answered 5xx:\n"
                                   + "\n".join(fuzzer.failures))
