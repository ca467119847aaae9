"""A school may hold several branches (a 党总支 and its 党支部s): the branch form, its edit and the branch import
attach a branch to the school already registered under that name, of the same kind (a breaker's finding: the
second branch of a school was refused as 「已有单位使用此名称」)."""
import io
import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Branch, Unit, UnitKind

from ..factories import BranchFactory, UnitFactory


def _add(client, unit, branch, kind="primary"):
    return client.form_post("/admin/branches", {"unit_name": unit, "unit_kind": kind, "branch_name": branch,
                                                "branch_kind": "branch", "member_count": "10"})


def test_a_second_branch_joins_its_school(client, admin):
    first = BranchFactory(unit=UnitFactory(name="实验中学", kind=UnitKind.MIDDLE), name="实验中学党总支")
    client.login(admin)
    assert _add(client, "实验中学", "实验中学第一党支部", kind="middle").status_code == 303
    second = db.session.scalar(select(Branch).where(Branch.name == "实验中学第一党支部"))
    assert second.unit_id == first.unit_id
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.name == "实验中学")) == 1
    refused = _add(client, "实验中学", "实验中学第二党支部", kind="primary")  # the school is a 中学
    assert refused.status_code == 422 and "同一单位" in refused.get_data(as_text=True)


def test_moving_a_branch_to_another_school_and_deleting_keep_units_tidy(client, admin):
    school = UnitFactory(name="实验中学", kind=UnitKind.PRIMARY)
    BranchFactory(unit=school, name="实验中学党总支")
    lone = BranchFactory(unit=UnitFactory(name="分校", kind=UnitKind.PRIMARY), name="分校党支部")
    client.login(admin)
    moved = client.form_post(f"/admin/branches/{lone.id}", {
        "unit_name": "实验中学", "unit_kind": "primary", "branch_name": "分校党支部", "branch_kind": "branch",
        "member_count": "5", "version": str(lone.version)})
    assert moved.status_code == 303, moved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Branch, lone.id).unit_id == school.id
    assert db.session.scalar(select(Unit).where(Unit.name == "分校")) is None  # left empty: gone
    assert client.form_post(f"/admin/branches/{lone.id}/delete", {}).status_code == 303
    assert db.session.get(Unit, school.id) is not None  # the school keeps its other branch


def test_the_branch_import_groups_a_schools_branches(client, admin):
    UnitFactory(name="实验中学", kind=UnitKind.MIDDLE)
    client.login(admin)
    text = ("单位,单位类型,支部名称,支部类型,党员数\n实验中学,中学,实验中学第一党支部,党支部,9\n"
            "实验中学,中学,实验中学第二党支部,党支部,8\n新华小学,小学,新华小学党支部,党支部,7\n"
            "新华小学,中学,新华小学第二党支部,党支部,7\n")
    page = client.form_post("/admin/branches/import", {"file": (io.BytesIO(text.encode()), "b.csv")},
                            content_type="multipart/form-data")
    body = page.get_data(as_text=True)
    assert page.status_code == 422 and "第 4 行" in body  # row 5 disagrees with row 4 on 新华小学's kind
    good = "\n".join(text.splitlines()[:4]) + "\n"
    page = client.form_post("/admin/branches/import", {"file": (io.BytesIO(good.encode()), "b.csv")},
                            content_type="multipart/form-data")
    assert page.status_code == 200, page.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.form_post("/admin/branches/import/confirm", {"token": token}).status_code == 303
    units = dict(db.session.execute(select(Branch.name, Unit.name).join(Unit, Unit.id == Branch.unit_id)).all())
    assert units["实验中学第一党支部"] == units["实验中学第二党支部"] == "实验中学"
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.name == "实验中学")) == 1
