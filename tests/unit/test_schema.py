"""The migration history builds exactly the schema the models describe, on either database."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    Assessment,
    CampaignYear,
    Criterion,
    Framework,
    Item,
    ItemResult,
    Subject,
)

from ..factories import BranchFactory


def test_migrations_match_models(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    # Server-side differences that autogenerate reports but that are not schema drift.
    diff = [d for d in diff if not (isinstance(d, tuple) and d[0] in ("remove_table",) and
                                      d[1].name == "alembic_version")]
    # The news search index (migration n001) lives outside the metadata: FTS5 tables on SQLite,
    # a pg_trgm expression index on PostgreSQL.
    diff = [d for d in diff if not (isinstance(d, tuple) and (
        (d[0] == "remove_table" and d[1].name.startswith("post_fts"))
        or (d[0] == "remove_index" and d[1].name == "ix_post_search_trgm")))]
    assert diff == []


def test_every_model_table_exists(app):
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables


def _branch_assessment(branch, year, framework):
    return Assessment(year_id=year.id, framework_id=framework.id, subject=Subject.BRANCH, branch_id=branch.id)


def test_one_result_per_assessment_and_item(app):
    branch = BranchFactory()
    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    framework = db.session.scalar(select(Framework).where(Framework.subject == Subject.BRANCH))
    assessment = _branch_assessment(branch, year, framework)
    db.session.add(assessment)
    db.session.commit()
    item = db.session.scalar(select(Item).join(Criterion).where(Criterion.framework_id == framework.id))
    db.session.add(ItemResult(assessment_id=assessment.id, item_id=item.id, item_text=item.text))
    db.session.commit()
    db.session.add(ItemResult(assessment_id=assessment.id, item_id=item.id, item_text=item.text))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_one_branch_assessment_per_year(app):
    branch = BranchFactory()
    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    framework = db.session.scalar(select(Framework).where(Framework.subject == Subject.BRANCH))
    db.session.add(_branch_assessment(branch, year, framework))
    db.session.commit()
    db.session.add(_branch_assessment(branch, year, framework))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_only_one_current_year(app):
    years = list(db.session.scalars(select(CampaignYear)))
    for year in years:
        year.is_current = True
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_foreign_keys_are_enforced(app):
    db.session.add(ItemResult(assessment_id=999999, item_id=999999, item_text="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
