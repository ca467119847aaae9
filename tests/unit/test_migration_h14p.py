"""Migration h14p_01 (each summary's plan status of its own year's plan request) on a SQLite district whose kept plan
statuses are wrong: the upgrade writes what a fresh computation gives. On PostgreSQL the upgrade runs in every
session's upgrade."""
from __future__ import annotations

import os
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import CampaignYear, RequestKind, SubmissionRequest, utcnow
from portal.services import demo, figures

from ..migration_helpers import migrate, sqlite_app


@pytest.fixture(autouse=True)
def _only_sqlite():
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("a file of its own; on PostgreSQL the migration runs in every session's upgrade")


def test_h14p_01_recomputes_each_years_plan_status(tmp_path):
    app, path = sqlite_app(tmp_path)
    migrate(app, "heads")
    with app.app_context():
        demo.seed(branches=4, members_per_branch=2)
        for year in db.session.scalars(select(CampaignYear)):  # a plan request in every year, the latest newest
            db.session.add(SubmissionRequest(year_id=year.id, kind=RequestKind.PLAN, title=f"{year.year} 方案",
                                             deadline=utcnow() - timedelta(days=3000 - year.year)))
        db.session.commit()
        figures.rebuild(db.session.connection())
        db.session.commit()
        assert not figures.differences(db.session)
        db.engine.dispose()
    con = sqlite3.connect(path)
    right = con.execute("SELECT year_id, branch_id, plan_status FROM branch_summary ORDER BY 1, 2").fetchall()
    assert len({status for _y, _b, status in right}) > 1
    con.execute("UPDATE branch_summary SET plan_status = 'returned'")  # as the faulty subquery could leave them
    con.commit()
    con.close()
    migrate(app, "h14f_01", down=True)
    migrate(app, "h14p_01")
    con = sqlite3.connect(path)
    assert con.execute("SELECT year_id, branch_id, plan_status FROM branch_summary ORDER BY 1, 2").fetchall() == right
    con.close()
