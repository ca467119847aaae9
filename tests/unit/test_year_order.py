"""A finished year's items are listed in the order its checklists showed them (`items.in_year_order`): the pledge
tags offered and shown, and the demo seed, not the order (or criterion names) of a later edit."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Criterion,
    Framework,
    KeptCriterionName,
    KeptItemPosition,
    Pledge,
    PledgeStatus,
    Subject,
    pledge_item,
)
from portal.services import demo, pledges

from ..checklist_helpers import current_year, items, year


def _swap_after_2011():
    """The first criterion's first two items swapped, and the criterion renamed, once 2011 was finished (which
    kept their places and the name, as the framework editor does)."""
    first, second = [i for i in items(Subject.BRANCH) if i.criterion_id == items(Subject.BRANCH)[0].criterion_id
                     and i.year_id is None][:2]
    criterion = db.session.get(Criterion, first.criterion_id)
    finished = year(2011)
    db.session.add_all([KeptItemPosition(year_id=finished.id, item_id=first.id, position=first.position),
                        KeptItemPosition(year_id=finished.id, item_id=second.id, position=second.position),
                        KeptCriterionName(year_id=finished.id, criterion_id=criterion.id,
                                          position=criterion.position, title="旧的名称")])
    first.position, second.position = second.position, first.position
    db.session.commit()
    return first, second, criterion


def _pledge(branch, member, year_obj, item_ids) -> Pledge:
    pledge = Pledge(year_id=year_obj.id, branch_id=branch.id, member_id=None, author_id=member.id,
                    text="承诺", status=PledgeStatus.APPROVED)
    db.session.add(pledge)
    db.session.flush()
    db.session.execute(pledge_item.insert(), [{"pledge_id": pledge.id, "item_id": i} for i in item_ids])
    db.session.commit()
    return pledge


def test_pledge_tags_offered_follow_the_years_order(branch):
    first, second, criterion = _swap_after_2011()
    finished = [(row[0], row[1]) for row in pledges.items_for(Subject.BRANCH, year(2011))][:2]
    assert finished == [(first.id, "旧的名称"), (second.id, "旧的名称")]
    now = [(row[0], row[1]) for row in pledges.items_for(Subject.BRANCH, current_year())][:2]
    assert now == [(second.id, criterion.title), (first.id, criterion.title)]


def test_pledge_tags_shown_follow_the_pledges_year(branch, secretary):
    first, second, criterion = _swap_after_2011()
    old = _pledge(branch, secretary, year(2011), [first.id, second.id])
    new = _pledge(branch, secretary, current_year(), [first.id, second.id])
    tags = pledges.tags_for([old.id, new.id])
    assert tags[old.id] == [f"旧的名称 · {first.text}", f"旧的名称 · {second.text}"]
    assert tags[new.id] == [f"{criterion.title} · {second.text}", f"{criterion.title} · {first.text}"]


def test_demo_seed_lists_a_years_items_in_its_order(app):
    first, second, _criterion = _swap_after_2011()
    framework = db.session.scalar(select(Framework).where(Framework.subject == Subject.BRANCH))
    assert [row[0] for row in demo._items_for(framework, year(2011))][:2] == [first.id, second.id]
    assert [row[0] for row in demo._items_for(framework, current_year())][:2] == [second.id, first.id]
