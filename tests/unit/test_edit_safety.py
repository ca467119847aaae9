"""Optimistic locking (services/versions.py) and one record per intent (services/intents.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict, Invalid
from portal.extensions import db
from portal.models import FormIntent, Pledge
from portal.services import campaign, intents, pledges
from portal.services.versions import check_version

from .test_campaign import item_ids


@pytest.fixture
def pledge(member):
    return pledges.create(member, campaign.current_year(), for_branch=False, text="原文", item_ids=item_ids())


def test_a_save_on_the_loaded_version_claims_the_next(pledge):
    check_version(pledge, 1, shown=("text",))
    assert pledge.version == 2
    db.session.commit()
    assert db.session.scalar(select(Pledge.version)) == 2


def test_a_stale_save_is_a_conflict_with_the_saved_text(member, pledge):
    pledges.update(member, pledge, text="别人先保存的", item_ids=item_ids(), version=1)
    with pytest.raises(Conflict) as error:
        pledges.update(member, pledge, text="我的", item_ids=item_ids(), version=1)
    assert error.value.current == {"text": "别人先保存的", "version": 2}
    db.session.refresh(pledge)
    assert pledge.text == "别人先保存的"


def test_no_version_given_still_bumps(member, pledge):
    pledges.update(member, pledge, text="脚本", item_ids=item_ids())
    assert pledge.version == 2


def test_run_once_makes_one_record_and_links_the_token(member):
    year = campaign.current_year()

    def make():
        return pledges.create(member, year, for_branch=False, text="承诺", item_ids=item_ids())

    first = intents.run_once(member, "t" * 20, Pledge, make)
    again = intents.run_once(member, "t" * 20, Pledge, make)
    assert first == (first[0], False) and again == (first[0], True)
    assert db.session.scalar(select(func.count(Pledge.id))) == 1
    assert db.session.scalar(select(FormIntent.object_id)) == first[0]


def test_a_refused_create_releases_its_token(member):
    year = campaign.current_year()
    with pytest.raises(Invalid):
        intents.run_once(member, "u" * 20, Pledge, lambda: pledges.create(member, year, for_branch=False, text="",
                                                                           item_ids=item_ids()))
    assert db.session.scalar(select(func.count(FormIntent.id))) == 0


def test_without_a_token_nothing_is_made_nor_remembered(member):
    year = campaign.current_year()
    for token in (None, "", "short", "bad token with spaces!!"):
        with pytest.raises(intents.FormOutdated):
            intents.run_once(member, token, Pledge, lambda: pledges.create(
                member, year, for_branch=False, text="承诺", item_ids=item_ids()))
    assert db.session.scalar(select(func.count(Pledge.id))) == 0
    assert db.session.scalar(select(func.count(FormIntent.id))) == 0
