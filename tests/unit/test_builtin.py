import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import CampaignYear, Criterion, Framework, Item, Subject
from portal.services.builtin import ensure_builtin

SOURCE_NAME = "000_a0d0cb1398dde675.txt"
REPOSITORY = Path(__file__).resolve().parents[2]


def source_path() -> Path:
    """The source document: in $PORTAL_SOURCE_DIR, else in `shared/source/` beside the repository (or beside
    one of its parent folders, for a worktree or a clone kept one level deeper). Fails when it is nowhere:
    the wording check must not turn itself off."""
    if os.environ.get("PORTAL_SOURCE_DIR"):
        candidates = [Path(os.environ["PORTAL_SOURCE_DIR"]) / SOURCE_NAME]
    else:
        candidates = [parent / "shared" / "source" / SOURCE_NAME for parent in REPOSITORY.parents]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail(f"the source document {SOURCE_NAME} is missing (looked in {', '.join(map(str, candidates))});"
                " set PORTAL_SOURCE_DIR to its folder")


def test_two_frameworks_with_five_criteria_each(app):
    frameworks = {f.subject: f for f in db.session.scalars(select(Framework))}
    assert frameworks[Subject.BRANCH].name == "五个好"
    assert frameworks[Subject.MEMBER].name == "五带头"
    titles = db.session.scalars(select(Criterion.title).order_by(Criterion.framework_id, Criterion.position)).all()
    assert titles == ["领导班子好", "党员队伍好", "工作机制好", "工作业绩好", "师生反映好",
                      "带头学习提高", "带头争创佳绩", "带头服务师生", "带头遵纪守法", "带头弘扬正气"]


def test_every_criterion_has_items_worded_as_the_source(app):
    source = source_path().read_text(encoding="utf-8")
    rows = db.session.execute(select(Criterion.title, Item.text).join(Item).where(Item.year_id.is_(None))).all()
    assert len(rows) >= 30
    counts = dict(db.session.execute(
        select(Criterion.title, func.count(Item.id)).join(Item).group_by(Criterion.title)).all())
    assert all(n >= 3 for n in counts.values())
    missing = [text for _title, text in rows if text not in source]
    assert missing == []


def test_three_years_with_themes_and_2012_current(app):
    years = {y.year: y for y in db.session.scalars(select(CampaignYear))}
    assert years[2010].theme == "世博先锋行动"
    assert "90" in years[2011].theme
    assert years[2012].theme == "向十八大献礼"
    assert years[2012].is_current
    assert [p.kind.value for p in years[2012].phases] == ["mobilise", "pledge", "review", "appraisal", "commend"]


def test_builtin_is_idempotent(app):
    before = db.session.scalar(select(func.count(Item.id)))
    ensure_builtin()
    assert db.session.scalar(select(func.count(Item.id))) == before
