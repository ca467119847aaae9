"""A real gunicorn server on the test database, and a small HTTP client that logs in like a browser."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).parents[1]
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, upload_folder: str, workers: int = 3, threads: int = 1, log: str | None = None,
             **settings: str):
    """Serve the portal with gunicorn on a free port; `settings` are extra environment variables. `log`: a file
    for gunicorn's output (its tracebacks), appended to; without it the output is kept in a temporary file
    and shown if gunicorn does not start (an unread pipe would fill and block the workers' logging)."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="live-test-secret", UPLOAD_FOLDER=upload_folder,
               **settings)
    gunicorn_bin = str(Path(sys.executable).with_name("gunicorn"))
    output = open(log, "ab") if log else tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [gunicorn_bin, "--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or workers still booting
                time.sleep(0.2)
        else:
            output.seek(0)
            raise RuntimeError("gunicorn did not start: " + output.read().decode(errors="replace"))
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        output.close()


class Browserless:
    """A requests session that logs in through the real form and sends htmx-style posts."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.token = ""

    def login(self, username: str, password: str) -> None:
        page = self.http.get(self.base + "/login", timeout=10)
        token = CSRF_META.search(page.text).group(1)
        response = self.http.post(self.base + "/login", allow_redirects=False, timeout=10,
                                  data={"username": username, "password": password, "csrf_token": token})
        assert response.status_code == 303, response.status_code
        self.token = CSRF_META.search(self.http.get(self.base + "/", timeout=10).text).group(1)

    def htmx_post(self, path: str, data: dict) -> requests.Response:
        return self.http.post(self.base + path, data=data, timeout=30,
                              headers={"HX-Request": "true", "X-CSRFToken": self.token})

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, **kwargs)
