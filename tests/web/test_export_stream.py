"""The XLSX export is written once to a temporary file and sent in chunks: the answer is streamed, the file
is gone afterwards, and its content is the same as the workbook written in memory."""
from __future__ import annotations

import io
import tempfile

from openpyxl import load_workbook

from portal.services import dashboard, export

from ..dashboard_helpers import build_district


def test_xlsx_is_streamed_from_a_temporary_file_that_goes_afterwards(client, app, leader, monkeypatch):
    build_district(4)
    opened = []
    real = tempfile.TemporaryFile

    def spy(*args, **kwargs):
        handle = real(*args, **kwargs)
        opened.append(handle)
        return handle

    monkeypatch.setattr(export.tempfile, "TemporaryFile", spy)
    monkeypatch.setattr(export, "CHUNK_BYTES", 1024)
    client.login(leader)
    response = client.get("/dashboard/export.xlsx", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    chunks = list(response.response)
    response.close()
    assert len(chunks) > 2 and all(len(chunk) <= 1024 for chunk in chunks)
    assert opened and all(handle.closed for handle in opened)
    book = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    with app.test_request_context("/dashboard/export.xlsx"):
        app.preprocess_request()
        same = load_workbook(io.BytesIO(export.workbook(dashboard.rows_only({}))), read_only=True)
        assert [list(book[name].iter_rows(values_only=True)) for name in book.sheetnames] == \
            [list(same[name].iter_rows(values_only=True)) for name in same.sheetnames]


def _translations_per_export(app, monkeypatch) -> int:
    import flask_babel

    calls = [0]
    real = flask_babel.Domain.gettext

    def counting(self, *args, **kwargs):
        calls[0] += 1
        return real(self, *args, **kwargs)

    with app.test_request_context("/dashboard/export.xlsx"):
        app.preprocess_request()
        overview = dashboard.rows_only({})
        monkeypatch.setattr(flask_babel.Domain, "gettext", counting)
        export.workbook(overview)
        export.workbook(overview, items=True)
        monkeypatch.setattr(flask_babel.Domain, "gettext", real)
    return calls[0]


def test_the_export_translates_its_labels_once_not_per_branch(app, monkeypatch):
    """The bench's 500s at 2,000 branches were gunicorn's worker timeout (the sync worker is aborted after
    `timeout` seconds and the request answered 500): a label translated per cell made the export grow
    with the district. The translations an export makes do not depend on its size."""
    from ..factories import BranchFactory

    build_district(3)
    small = _translations_per_export(app, monkeypatch)
    BranchFactory.create_batch(9)
    assert _translations_per_export(app, monkeypatch) == small  # four times the branches, the same labels


def test_gunicorn_gives_long_downloads_time():
    import runpy
    from pathlib import Path

    settings = runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))
    assert settings["timeout"] >= 120
