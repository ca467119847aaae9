"""Branches from a file (issue 16, tester's finding 7): a template to download, a preview with every problem,
all or nothing; linked from the first-run checklist."""
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Branch, BranchKind, Unit, UnitKind

from ..factories import BranchFactory

HEADER = "单位,单位类型,支部名称,支部类型,党员数\n"


def _upload(client, text, name="branches.csv"):
    return client.form_post("/admin/branches/import", {"file": (io.BytesIO(text.encode("utf-8")), name)},
                            content_type="multipart/form-data")


def test_the_checklist_links_to_the_import_and_the_template_downloads(client, admin):
    client.login(admin)
    setup = client.get("/admin/setup").get_data(as_text=True)
    assert 'href="/admin/branches/import" id="setup-branches-also"' in setup
    rows = list(load_workbook(io.BytesIO(client.get("/admin/branches/template.xlsx").get_data()))
                .active.iter_rows(values_only=True))
    assert rows[0] == ("单位", "单位类型", "支部名称", "支部类型", "党员数") and len(rows) == 2
    csv_text = client.get("/admin/branches/template.csv").get_data().decode("utf-8-sig")
    assert csv_text.startswith("单位,单位类型,支部名称")


def test_a_good_file_is_previewed_then_imported(client, admin):
    client.login(admin)
    page = _upload(client, HEADER + "书香路小学,小学,书香路小学党支部,党支部,12\n"
                                    "书香路幼儿园,幼儿园,书香路幼儿园党支部,,3\n第一中学,middle,第一中学党总支,党总支,40\n")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="branch-import-confirm"' in body
    assert db.session.scalar(select(func.count(Branch.id))) == 0  # nothing before the confirmation
    token = body.split('name="token" value="', 1)[1].split('"', 1)[0]
    done = client.form_post("/admin/branches/import/confirm", {"token": token})
    assert done.status_code == 303
    names = dict(db.session.execute(select(Branch.name, Branch.kind)).all())
    assert names == {"书香路小学党支部": BranchKind.BRANCH, "书香路幼儿园党支部": BranchKind.BRANCH,
                     "第一中学党总支": BranchKind.GENERAL_BRANCH}
    assert db.session.scalar(select(func.count(Unit.id))) == 3
    assert db.session.scalar(select(Unit.kind).where(Unit.name == "第一中学")) == UnitKind.MIDDLE
    # A second confirmation of the same preview imports nothing (its rows are gone).
    assert client.form_post("/admin/branches/import/confirm", {"token": token}).status_code == 404


def test_a_file_with_problems_lists_them_all_and_imports_nothing(client, admin):
    BranchFactory(name="已有党支部")
    client.login(admin)
    page = _upload(client, HEADER + "甲校,小学,已有党支部,党支部,5\n乙校,大学,乙校党支部,党支部,十\n"
                                    "丙校,小学,丙校党支部,党支部,1\n丙校,小学,丙校党支部,党支部,1\n")
    body = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="branch-import-confirm"' not in body
    for line in (2, 3, 5):
        assert f'id="branch-row-{line}"' in body
    row3 = body.split('id="branch-row-3"', 1)[1].split("</tr>", 1)[0]
    assert row3.count("<li>") == 2  # the unknown kind and the number, at once
    assert db.session.scalar(select(func.count(Branch.id))) == 1
