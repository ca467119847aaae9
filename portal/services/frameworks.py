"""The framework editor of the organisation section: the criteria and items of 五个好 (branches) and 五带头
(members), their wording, order and weight, theme items per campaign year, and a framework as a file
(XLSX) to share between districts.

Answers are never rewritten: an answer keeps the wording it was given against (`ItemResult.item_text`, which
the checklist shows for every answered item), so an item's wording is edited in place and new checklists ask
the new wording. Items have a validity in campaign years (services/items.py): once the framework is in use, an
item asked every year is added from the current year on and retired from the current year on, so that earlier,
finished years keep their checklists and figures; a theme item is added to and retired from its own year. A
retired item stays in the checklists that answered it; bringing back an item retired from an earlier year asks
a new version of it from the current year (the earlier years stay as they were). A change that reaches a
campaign year whose assessments have started is refused with NeedsConfirmation until the admin confirms it; a
confirmed change raises the framework's version. Every change is audited and committed once; the kept tallies
(services/tallies.py) rebuild themselves when a weight, an item's validity or its year changes.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..i18n import listed
from ..models import (
    RETIRED_BEFORE_ANY_YEAR,
    Assessment,
    CampaignYear,
    Criterion,
    Framework,
    Item,
    ItemResult,
    KeptCriterionName,
    KeptItemPosition,
    KeptItemWeight,
)
from ..text import check_text, folded
from . import audit, uploads
from .campaign import current_year, is_past
from .versions import check_version

TEXT_MAX = 1000  # an item's wording
TITLE_MAX = 40  # Criterion.title
TITLE_EN_MAX = 80
OFFICIAL_MAX = 5000
WEIGHT_MAX = 100.0
MAX_ROWS = 2000  # items in an imported file
# An imported workbook's parts, uncompressed, as the zip directory gives them (zipfile never inflates a member
# past its declared size): a framework of MAX_ROWS items of TEXT_MAX characters is a few MB.
MEMBER_MAX = 16 * 1024 * 1024
BOOK_MAX = 40 * 1024 * 1024
THEME_BASE = 100  # theme items are numbered after the framework's own (checklist order: year items last)
SHEETS = ("框架", "准则", "条目")
CRITERION_HEADER = ["代码", "序号", "名称", "英文名称", "原文"]
ITEM_HEADER = ["编号", "准则代码", "序号", "表述", "权重", "年度"]


class NeedsConfirmation(Conflict):
    """The change reaches campaign years whose assessments have started: it is made only when confirmed."""

    def __init__(self, message: str, years: list[int]):
        super().__init__(message)
        self.years = years


# --- reading ---------------------------------------------------------------------------------------------

def all_frameworks() -> list[Framework]:
    return list(db.session.scalars(select(Framework).order_by(Framework.id)))


def get_framework(code: str) -> Framework:
    framework = db.session.scalar(select(Framework).where(Framework.code == code))
    if framework is None:
        raise NotFound()
    return framework


def all_years() -> list[CampaignYear]:
    return list(db.session.scalars(select(CampaignYear).order_by(CampaignYear.year)))


def theme_years() -> list[CampaignYear]:
    """The years a new theme item may be asked in: the current one and those to come (a finished year's
    checklists are read-only and reviewed, so an item added to one could never be answered)."""
    return [year for year in all_years() if not is_past(year)]


def year_by_number(number: int | None) -> CampaignYear | None:
    if number is None:
        return None
    return db.session.scalar(select(CampaignYear).where(CampaignYear.year == number))


@dataclass
class EditorItem:
    item: Item
    answers: int  # answers given to it (they keep their wording)


@dataclass
class EditorCriterion:
    criterion: Criterion
    items: list[EditorItem] = field(default_factory=list)  # the framework's own, every year
    theme_items: list[EditorItem] = field(default_factory=list)  # the chosen year's theme items


def editor(framework: Framework, year: CampaignYear | None) -> list[EditorCriterion]:
    """The criteria with their items (retired ones too) and the chosen year's theme items, with how many
    answers each item has: three queries."""
    criteria = list(db.session.scalars(select(Criterion).where(Criterion.framework_id == framework.id)
                                       .order_by(Criterion.position, Criterion.id)))
    sections = {c.id: EditorCriterion(c) for c in criteria}
    scope = Item.year_id.is_(None) if year is None else (Item.year_id.is_(None) | (Item.year_id == year.id))
    items = list(db.session.scalars(select(Item).where(Item.criterion_id.in_(sections), scope)
                                    .order_by(Item.position, Item.id)))
    counts = dict(db.session.execute(
        select(ItemResult.item_id, func.count(ItemResult.id)).where(ItemResult.item_id.in_([i.id for i in items]))
        .group_by(ItemResult.item_id)).all()) if items else {}
    for item in items:
        row = EditorItem(item, int(counts.get(item.id, 0)))
        (sections[item.criterion_id].items if item.year_id is None else sections[item.criterion_id].theme_items
         ).append(row)
    return list(sections.values())


def started_years(framework: Framework, year_ids: set[int] | None) -> list[int]:
    """The campaign years (numbers) among `year_ids` (None: every year) that have assessments of this framework."""
    stmt = (select(CampaignYear.year).join(Assessment, Assessment.year_id == CampaignYear.id)
            .where(Assessment.framework_id == framework.id).distinct().order_by(CampaignYear.year))
    if year_ids is not None:
        if not year_ids:
            return []
        stmt = stmt.where(CampaignYear.id.in_(year_ids))
    return list(db.session.scalars(stmt))


def finished_of(numbers: list[int]) -> list[int]:
    """The finished campaign years (`campaign.is_past`) among the year numbers `numbers`."""
    current = current_year()
    return [number for number in numbers if current is not None and number < current.year]


def _guard(framework: Framework, year_ids: set[int] | None, confirmed: bool) -> list[int]:
    """Refuse a change reaching started years unless confirmed; a confirmed one is a new version."""
    years = started_years(framework, year_ids)
    if years and not confirmed:
        raise NeedsConfirmation(_("The assessments of %(years)s have started. Answers already given keep the "
                                  "wording they were given against; confirm to make this change a new version "
                                  "of the framework.", years=listed(years)), years)
    if years:
        framework.version = (framework.version or 1) + 1
    return years


def _lock(framework: Framework) -> Framework:
    """The framework row, locked for this change (two admins editing at once change one after the other)."""
    return db.session.scalar(select(Framework).where(Framework.id == framework.id).with_for_update()
                             .execution_options(populate_existing=True))


def first_year(framework: Framework) -> int | None:
    """The first campaign year (number) a new or retired item asked every year takes effect in: the current year
    once the framework is in use (it has assessments), so that earlier years keep their checklists and figures;
    None (from the start) before."""
    in_use = db.session.scalar(select(Assessment.id).where(Assessment.framework_id == framework.id).limit(1))
    year = current_year() if in_use is not None else None
    return year.year if year else None


def _change_year(framework: Framework, theme_year_id: int | None) -> int | None:
    """The first year an item's addition or retirement takes effect in: a theme item's own year, else
    `first_year`."""
    if theme_year_id is not None:
        return db.session.get(CampaignYear, theme_year_id).year
    return first_year(framework)


def _years_from(number: int | None) -> set[int] | None:
    """The ids of the campaign years from `number` on (None: every year)."""
    if number is None:
        return None
    return set(db.session.scalars(select(CampaignYear.id).where(CampaignYear.year >= number)))


def _reach(item: Item, number: int | None) -> set[int] | None:
    """The years (ids) a change to the item from year `number` on reaches: a theme item's own year."""
    return {item.year_id} if item.year_id is not None else _years_from(number)


def _edit_reach(item: Item, number: int | None, weight_only: bool) -> set[int] | None:
    """The years (ids) an edit of the item from year `number` on reaches (`_reach`): with `weight_only` (its
    wording and place stay) the finished years are left out, as their figures do not change (they keep the
    weight they were scored with, KeptItemWeight), so a confirmation names only the years whose figures do."""
    years = _reach(item, number)
    current = current_year()
    if not weight_only or current is None:
        return years
    stmt = select(CampaignYear.id).where(CampaignYear.year >= current.year)
    return set(db.session.scalars(stmt if years is None else stmt.where(CampaignYear.id.in_(years))))


def _new_item(criterion_id: int, year_id: int | None, start: int | None, **values) -> Item:
    """A new item: a theme item of `year_id`, or one asked every year from `start` (None: from the start)."""
    item = Item(criterion_id=criterion_id, year_id=year_id, valid_from=None if year_id else start, **values)
    db.session.add(item)
    return item


def _retire(item: Item, start: int | None) -> None:
    """No longer asked from year `start` on (None: in no year); the checklists that answered it keep it."""
    item.retired_from = RETIRED_BEFORE_ANY_YEAR if start is None else start


def _restored_in_place(item: Item, start: int | None) -> bool:
    """Whether the retired item itself can be asked again from year `start` on (None: from the start): a theme
    item, a framework not in use yet, or an item retired from `start` or later, so that no year between its
    retirement and `start` gains it back."""
    return item.year_id is not None or start is None or item.retired_from >= start


def _restore_reach(item: Item, start: int | None) -> set[int] | None:
    """The years (ids) bringing the item back from year `start` on reaches (`_restore`)."""
    return _reach(item, item.retired_from if _restored_in_place(item, start) else start)


def _restore(item: Item, start: int | None) -> Item:
    """Ask a retired item again from year `start` on. Returns the item asked: itself, or (when it was retired
    from a year before `start`) a new version of it from `start`, so that the years in between keep their
    checklists and figures."""
    if _restored_in_place(item, start):
        item.retired_from = None
        return item
    return _new_item(item.criterion_id, None, start, position=item.position, text=item.text, weight=item.weight)


def _siblings(item: Item) -> list[Item]:
    year = Item.year_id.is_(None) if item.year_id is None else Item.year_id == item.year_id
    return list(db.session.scalars(select(Item).where(Item.criterion_id == item.criterion_id, year)
                                   .order_by(Item.position, Item.id)))


def _place(rows: list, moved, position: int | None, base: int = 0) -> None:
    """Put `moved` at `position` (1-based, clamped) among `rows` and number them all again from base + 1."""
    rows = [r for r in rows if r is not moved]
    index = len(rows) if position is None else max(0, min(position - 1, len(rows)))
    rows.insert(index, moved)
    for number, row in enumerate(rows, start=base + 1):
        if row.position != number:
            row.position = number


def _index_of(rows: list, obj) -> int:
    return next(i for i, r in enumerate(rows, start=1) if r is obj)


def _weight(value: float) -> float:
    return round(float(value), 2)


def weight_text(value) -> str:
    """A weight as the editor, its confirmation and its stale-save notice show it: "2", "1.5"."""
    return f"{_weight(value or 0):g}"


def _clamped(rows: list, row, position: int | None) -> int:
    """The place (1-based) a save of `row` at `position` (None: where it is) gives it among `rows`."""
    return max(1, min(position or _index_of(rows, row), len(rows)))


def _item_saved_as(item: Item, text: str, weight: float, position: int | None) -> bool:
    """Whether the item, as saved now, already has this wording, weight and place (a second send of one edit)."""
    return (item.text == text and _weight(item.weight) == _weight(weight)
            and (position is None or _index_of(_siblings(item), item) == _clamped(_siblings(item), item, position)))


def _criterion_saved_as(criterion: Criterion, title: str, title_en: str, official_text: str,
                        position: int | None) -> bool:
    """Whether the criterion, as saved now, already has these names, wording and place."""
    siblings = list(db.session.scalars(select(Criterion).where(Criterion.framework_id == criterion.framework_id)
                                       .order_by(Criterion.position, Criterion.id)))
    return ((criterion.title, criterion.title_en or "", criterion.official_text or "")
            == (title, title_en or "", official_text or "")
            and (position is None or _index_of(siblings, criterion) == _clamped(siblings, criterion, position)))


def same_words(text: str) -> str:
    """The form two names or wordings are compared in: text.folded (NFKC, spaces collapsed, case folded)."""
    return folded(text)


def _finished_year_ids(framework: Framework) -> list[int]:
    """The ids of the finished campaign years (`campaign.is_past`) that have assessments of this framework."""
    current = current_year()
    if current is None:
        return []
    return list(db.session.scalars(
        select(CampaignYear.id).where(CampaignYear.year < current.year, CampaignYear.id.in_(
            select(Assessment.year_id).where(Assessment.framework_id == framework.id)))))


def _keep_items(framework: Framework, kept_model, items: list[Item], value) -> None:
    """Keep, for each finished year, `value(item)` (a dict of `kept_model`'s columns) of `items` in `kept_model`
    (KeptItemWeight, KeptItemPosition) before it changes; a value kept already, from an earlier change, stays."""
    years = _finished_year_ids(framework)
    if not years or not items:
        return
    kept = set(db.session.execute(select(kept_model.year_id, kept_model.item_id).where(
        kept_model.year_id.in_(years), kept_model.item_id.in_([i.id for i in items]))).tuples())
    db.session.add_all(kept_model(year_id=year_id, item_id=item.id, **value(item))
                       for year_id in years for item in items if (year_id, item.id) not in kept)


def _keep_weights(framework: Framework, items: list[Item]) -> None:
    """Before their weight changes: the finished years keep the weight these items were scored with."""
    _keep_items(framework, KeptItemWeight, items, lambda item: {"weight": item.weight})


def _keep_positions(framework: Framework, items: list[Item]) -> None:
    """Before the framework's own items are reordered: the finished years keep the places `items` have now, so that
    their checklists and exports keep their order and numbers (theme items are left out: a finished year's are
    read-only, the others are not shown by a finished year)."""
    _keep_items(framework, KeptItemPosition, [item for item in items if item.year_id is None],
                lambda item: {"position": item.position})


def _keep_names(framework: Framework, criteria: list[Criterion]) -> None:
    """Before a criterion is renamed or moved: the finished years keep the names and order `criteria` (the
    framework's, in their order) had (names kept already, from an earlier change, stay)."""
    years = _finished_year_ids(framework)
    if not years:
        return
    kept = set(db.session.execute(select(KeptCriterionName.year_id, KeptCriterionName.criterion_id).where(
        KeptCriterionName.year_id.in_(years))).tuples())
    db.session.add_all(KeptCriterionName(year_id=year_id, criterion_id=c.id, position=number, title=c.title,
                                         title_en=c.title_en or "")
                       for year_id in years for number, c in enumerate(criteria, start=1)
                       if (year_id, c.id) not in kept)


def _finished_theme_year(item: Item) -> CampaignYear | None:
    """The finished campaign year whose theme item `item` is (read-only), else None."""
    if item.year_id is None:
        return None
    year = db.session.get(CampaignYear, item.year_id)
    return year if is_past(year) else None


def _refuse_finished_theme_item(item: Item) -> None:
    """Invalid (422) when `item` is a theme item of a finished year: what that year showed is not rewritten."""
    year = _finished_theme_year(item)
    if year is not None:
        db.session.rollback()
        message = _("%(year)s is a finished campaign year: its theme items can no longer be edited, reweighted, "
                    "moved or retired.", year=year.year)
        raise Invalid(message, {"text": message})


def _title_taken(criteria: list[Criterion], criterion: Criterion, title: str) -> str | None:
    """The message when `title` is blank or another of the framework's criteria has it (compared by
    `same_words`); None when it may be used."""
    if not same_words(title):
        return _("Enter the criterion's name.")
    if any(c.id != criterion.id and same_words(c.title) == same_words(title) for c in criteria):
        return _("Another criterion of this framework is named “%(title)s”: each criterion needs its own name.",
                 title=title)
    return None


def _wording_taken(criterion_id: int, year_id: int | None, text: str, other_than: int | None = None) -> str | None:
    """The message when an item still asked in the same checklists (the criterion's own items, and the theme
    items of `year_id`; for an own item, every theme item) already has this wording (`same_words`)."""
    scope = Item.year_id.isnot(None) if year_id is None else (Item.year_id.is_(None) | (Item.year_id == year_id))
    others = db.session.scalars(select(Item.text).where(
        Item.criterion_id == criterion_id, Item.retired_from.is_(None), Item.id != (other_than or 0),
        Item.year_id.is_(None) | scope))
    if any(same_words(other) == same_words(text) for other in others):
        return _("The criterion already has an item worded like this: each item needs its own wording.")
    return None


# --- editing ---------------------------------------------------------------------------------------------

def get_criterion(criterion_id: int) -> Criterion:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None:
        raise NotFound()
    return criterion


def get_item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        raise NotFound()
    return item


def framework_of(criterion: Criterion) -> Framework:
    return db.session.get(Framework, criterion.framework_id)


def update_criterion(actor, criterion: Criterion, *, title: str, title_en: str, official_text: str,
                     position: int | None, confirmed: bool = False, version: int | None = None) -> bool:
    """Edit a criterion's wording and place, made on top of `version` (None: no check). Returns False when
    nothing changed. Invalid (beside 'title') for a blank name or one another criterion has; Conflict (409,
    with the saved values) when someone saved it meanwhile. The finished years keep the names and order they
    had (KeptCriterionName)."""
    framework = _lock(framework_of(criterion))
    siblings = list(db.session.scalars(select(Criterion).where(Criterion.framework_id == framework.id)
                                       .order_by(Criterion.position, Criterion.id)))
    if version is not None:  # claims the next version (a guarded UPDATE), or Conflict
        try:
            check_version(criterion, version, shown=("title", "title_en", "official_text"))
        except Conflict:
            if _criterion_saved_as(criterion, title, title_en, official_text, position):
                return True  # the same change, saved already (a confirmation sent twice)
            raise
    if message := _title_taken(siblings, criterion, title):
        db.session.rollback()
        raise Invalid(message, {"title": message})
    before = {"title": criterion.title, "title_en": criterion.title_en, "official_text": criterion.official_text,
              "position": _index_of(siblings, criterion)}
    after = {"title": title, "title_en": title_en, "official_text": official_text,
             "position": max(1, min(position or before["position"], len(siblings)))}
    if after == before:
        db.session.rollback()
        return False
    years = _guard(framework, None, confirmed)
    _keep_names(framework, siblings)
    if version is None:
        criterion.version = (criterion.version or 1) + 1
    criterion.title, criterion.title_en, criterion.official_text = title, title_en, official_text
    _place(siblings, criterion, after["position"])
    audit.record(actor, "framework.criterion_update", criterion, before=before,
                 after={**after, "version": framework.version, "started_years": years})
    db.session.commit()
    return True


def update_item(actor, item: Item, *, text: str, weight: float, position: int | None,
                confirmed: bool = False, version: int | None = None) -> bool:
    """Edit an item's wording, weight and place, made on top of `version` (None: no check). Answers already
    given keep their wording; finished years keep the weight they were scored with (KeptItemWeight). False: no
    change. Invalid (beside 'text') when another item of the criterion has this wording; Conflict (409, with
    the saved values) when someone saved it meanwhile."""
    _refuse_finished_theme_item(item)
    criterion = get_criterion(item.criterion_id)
    framework = _lock(framework_of(criterion))
    if version is not None:  # claims the next version (a guarded UPDATE), or Conflict
        try:
            check_version(item, version, shown=("text", "weight"))
        except Conflict as error:
            if _item_saved_as(item, text, weight, position):
                return True  # the same change, saved already (a confirmation sent twice)
            if isinstance(error.current, dict):  # the weight as the editor shows it
                error.current["weight"] = weight_text(error.current.get("weight"))
            raise
    if message := _wording_taken(item.criterion_id, item.year_id, text, other_than=item.id):
        db.session.rollback()
        raise Invalid(message, {"text": message})
    siblings = _siblings(item)
    before = {"text": item.text, "weight": _weight(item.weight), "position": _index_of(siblings, item)}
    after = {"text": text, "weight": _weight(weight), "position": max(1, min(position or before["position"],
                                                                              len(siblings)))}
    if after == before:
        db.session.rollback()
        return False
    weight_only = (after["text"], after["position"]) == (before["text"], before["position"])
    years = _guard(framework, _edit_reach(item, item.valid_from, weight_only), confirmed)
    if after["weight"] != before["weight"]:
        _keep_weights(framework, [item])
    if after["position"] != before["position"]:
        _keep_positions(framework, siblings)
    if version is None:
        item.version = (item.version or 1) + 1
    item.text, item.weight = text, after["weight"]
    _place(siblings, item, after["position"], THEME_BASE - 1 if item.year_id else 0)
    audit.record(actor, "framework.item_update", item, before=before,
                 after={**after, "criterion": criterion.title, "version": framework.version, "started_years": years})
    db.session.commit()
    return True


def add_item(actor, criterion: Criterion, *, text: str, weight: float, year: CampaignYear | None,
             confirmed: bool = False, valid_from: CampaignYear | None = None) -> Item:
    """A new item at the end of the criterion: a theme item of `year`, or one asked every year from `valid_from`
    on (the current year or one to come; None: `first_year`, the current year once the framework is in use)."""
    for field_name, chosen in (("year", year), ("valid_from", None if year else valid_from)):
        if chosen is not None and is_past(chosen):
            message = _("%(year)s is a finished campaign year: its checklists can no longer take a new item.",
                        year=chosen.year)
            raise Invalid(message, {field_name: message})
    framework = _lock(framework_of(criterion))
    if message := _wording_taken(criterion.id, year.id if year else None, text):
        db.session.rollback()
        raise Invalid(message, {"text": message})
    start = None if year else (valid_from.year if valid_from else first_year(framework))
    years = _guard(framework, {year.id} if year else _years_from(start), confirmed)
    item = _new_item(criterion.id, year.id if year else None, start, position=0, text=text, weight=_weight(weight))
    _place(_siblings(item), item, None, THEME_BASE - 1 if year else 0)
    db.session.flush()
    audit.record(actor, "framework.item_add", item,
                 after={"text": text, "weight": item.weight, "criterion": criterion.title,
                        "year": year.year if year else None, "valid_from": item.valid_from,
                        "version": framework.version, "started_years": years})
    db.session.commit()
    return item


def set_item_active(actor, item: Item, active: bool, confirmed: bool = False) -> bool:
    """Retire an item from the current year on (a theme item: from its year; checklists of those years leave it
    out, those that answered it keep it, with their answer), or bring a retired one back (`_restore`). False: it
    already was so. Invalid (422) for a theme item of a finished year, and for bringing back an item worded like
    one still asked beside it (`_wording_taken`, the rule of an add or edit)."""
    _refuse_finished_theme_item(item)
    criterion = get_criterion(item.criterion_id)
    framework = _lock(framework_of(criterion))
    if item.active == active:
        db.session.rollback()
        return False
    if active and (message := _wording_taken(item.criterion_id, item.year_id, item.text, other_than=item.id)):
        db.session.rollback()  # brought back, it would stand beside an item worded alike (as an add or edit would)
        raise Invalid(message, {"text": message})
    start = _change_year(framework, item.year_id)
    before = {"active": not active, "valid_from": item.valid_from, "retired_from": item.retired_from}
    years = _guard(framework, _restore_reach(item, start) if active else _reach(item, start), confirmed)
    asked = item
    if active:
        siblings = _siblings(item)
        asked = _restore(item, start)
        if asked is not item:  # the new version takes the place after the retired one
            _place(siblings, asked, _index_of(siblings, item) + 1)
            db.session.flush()
    else:
        _retire(item, start)
    item.version = (item.version or 1) + 1
    audit.record(actor, "framework.item_restore" if active else "framework.item_retire", item, before=before,
                 after={"active": active, "text": item.text, "criterion": criterion.title,
                        "retired_from": item.retired_from, "asked_again_as": asked.id if asked is not item else None,
                        "version": framework.version, "started_years": years})
    db.session.commit()
    return True


# --- the framework as a file -------------------------------------------------------------------------------

def _state(framework: Framework):
    criteria = list(db.session.scalars(select(Criterion).where(Criterion.framework_id == framework.id)
                                       .order_by(Criterion.position, Criterion.id)))
    items = list(db.session.scalars(select(Item).where(Item.criterion_id.in_([c.id for c in criteria]))
                                    .order_by(Item.position, Item.id))) if criteria else []
    years = {y.id: y.year for y in all_years()}
    return criteria, items, years


def export_xlsx(framework: Framework) -> bytes:
    """The framework as an XLSX of three sheets (框架, 准则, 条目): active items only; a theme item names its year."""
    from . import export

    criteria, items, years = _state(framework)
    code_of = {c.id: c.code for c in criteria}
    buffer = io.BytesIO()
    book = export.new_workbook(buffer, in_memory=True)
    formats = export.Formats(book)
    bold, wrap = {"bold": True, "bg_color": "#EEF2F7"}, {"text_wrap": True, "valign": "top"}

    def cell(line, column, value, style=None):  # formula-like text stays text (export.write_cell)
        export.write_cell(sheet, line, column, value, formats, style)

    sheet = book.add_worksheet(SHEETS[0])
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 80)
    rows = [("代码", framework.code), ("名称", framework.name), ("版本", framework.version),
            ("说明", _("Edit the criteria's wording and the items (wording, order, weight, year); leave 编号 blank "
                     "for a new item and delete a row to retire an item. Criteria codes must stay as they are."))]
    for line, (key, value) in enumerate(rows):
        cell(line, 0, key, bold)
        cell(line, 1, value, wrap)
    sheet = book.add_worksheet(SHEETS[1])
    sheet.set_column(0, 1, 12)
    sheet.set_column(2, 3, 24)
    sheet.set_column(4, 4, 80)
    export.write_row(sheet, 0, CRITERION_HEADER, formats, bold)
    for line, c in enumerate(criteria, start=1):
        cell(line, 0, c.code)
        cell(line, 1, line)
        cell(line, 2, c.title)
        cell(line, 3, c.title_en or "")
        cell(line, 4, c.official_text or "", wrap)
    sheet = book.add_worksheet(SHEETS[2])
    sheet.set_column(0, 2, 10)
    sheet.set_column(3, 3, 70)
    sheet.set_column(4, 5, 8)
    export.write_row(sheet, 0, ITEM_HEADER, formats, bold)
    order = {c.id: n for n, c in enumerate(criteria)}
    active = sorted((i for i in items if i.active),
                    key=lambda i: (order[i.criterion_id], i.year_id is not None, years.get(i.year_id, 0), i.position,
                                   i.id))
    counters: dict = {}
    for line, item in enumerate(active, start=1):
        key = (item.criterion_id, item.year_id)
        counters[key] = counters.get(key, 0) + 1
        cell(line, 0, item.id)
        cell(line, 1, code_of[item.criterion_id])
        cell(line, 2, counters[key])
        cell(line, 3, item.text, wrap)
        cell(line, 4, _weight(item.weight))
        if item.year_id is not None:
            cell(line, 5, years[item.year_id])
    book.close()
    return buffer.getvalue()


@dataclass
class Change:
    kind: str  # criterion, add, edit, retire, restore
    where: str  # "1. 领导班子好" (and the year for a theme item)
    before: str = ""
    after: str = ""


@dataclass
class ImportPreview:
    plan: str  # the checked content as JSON, carried by the confirmation form
    fingerprint: str  # the framework as it was when the preview was made, and the plan's signature (`_signed`)
    changes: list[Change]
    started: list[int]  # started years the changes reach (confirmation needed)
    filename: str = ""


def fingerprint(framework: Framework) -> str:
    criteria, items, _years = _state(framework)
    data = [[c.id, c.code, c.position, c.title, c.title_en, c.official_text] for c in criteria] + \
           [[i.id, i.criterion_id, i.year_id, i.position, i.text, _weight(i.weight), i.valid_from, i.retired_from]
            for i in items]
    return hashlib.sha256(json.dumps(data, ensure_ascii=True).encode()).hexdigest()


def _signed(framework: Framework, framework_fingerprint: str, plan_json: str) -> str:
    """"<framework fingerprint>.<signature>": the signature (HMAC of the app's secret key) covers the framework,
    its fingerprint and the plan, so that the confirmation applies exactly the plan that was previewed."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"framework-import:{framework.id}:{framework_fingerprint}:{plan_json}".encode()
    return f"{framework_fingerprint}.{hmac.new(key, message, hashlib.sha256).hexdigest()}"


def _bad_file(message) -> Invalid:
    return Invalid(str(message), {"file": str(message)})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _check_sizes(data: bytes) -> None:
    """Refuse a workbook whose parts would inflate past MEMBER_MAX (each) or BOOK_MAX (all), read from the zip
    directory before anything is inflated (zipfile never inflates a member past its declared size)."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _bad_file(_l("The file could not be read as an Excel workbook.")) from error
    too_big = next((m for m in members if m.file_size > MEMBER_MAX), None)
    if too_big is not None or sum(m.file_size for m in members) > BOOK_MAX:
        raise _bad_file(_l("The workbook is too large to be a framework (a part of it is %(size)s MB unpacked; "
                           "at most %(max)s MB). Start from an exported framework.",
                           size=round((too_big.file_size if too_big else sum(m.file_size for m in members))
                                      / 1024 / 1024), max=MEMBER_MAX // 1024 // 1024))


def _read_sheets(data: bytes) -> dict[str, list[list[str]]]:
    from openpyxl import load_workbook

    _check_sizes(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise _bad_file(_l("The file could not be read as an Excel workbook.")) from error
    try:
        names = {name.strip(): name for name in book.sheetnames}
        missing = [name for name in SHEETS if name not in names]
        if missing:
            raise _bad_file(_l("The workbook has no sheet named “%(name)s”. Start from an exported framework.",
                               name=missing[0]))
        sheets = {}
        for name in SHEETS:
            rows = []
            for seen, row in enumerate(book[names[name]].iter_rows(), start=1):
                if seen > 3 * MAX_ROWS:
                    raise _bad_file(_l("A framework may have at most %(n)s items.", n=MAX_ROWS))
                formula = next((c for c in row[:8] if getattr(c, "data_type", None) == "f"), None)
                if formula is not None:
                    raise _bad_file(_l("Sheet %(sheet)s, cell %(cell)s holds a formula; formulas are not accepted. "
                                       "Type the value itself.", sheet=name, cell=formula.coordinate))
                cells = [_cell(getattr(c, "value", None)) for c in row[:8]]
                if any(cells):
                    rows.append(cells)
                    if len(rows) > MAX_ROWS + 1:
                        raise _bad_file(_l("A framework may have at most %(n)s items.", n=MAX_ROWS))
            sheets[name] = rows
        return sheets
    except Invalid:
        raise
    except Exception as error:
        raise _bad_file(_l("The file could not be read as an Excel workbook.")) from error
    finally:
        book.close()


def _s(value) -> str:
    """A plan's value as text (the plan is read back from JSON: a missing value is None)."""
    return "" if value is None else str(value)


def _number(text: str, low: float, high: float) -> float | None:
    text = folded(text)  # full-width digits typed with a Chinese input method
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or not low <= value <= high:  # NaN, or out of range
        return None
    return value


def _plan_from_sheets(framework: Framework, sheets: dict) -> dict:
    head = {row[0]: (row[1] if len(row) > 1 else "") for row in sheets[SHEETS[0]] if row}
    if head.get("代码", "") != framework.code:
        other = db.session.scalar(select(Framework.name).where(Framework.code == head.get("代码", "")))
        if other:
            raise _bad_file(_l("This file holds the framework “%(other)s”; it cannot be imported into “%(name)s”.",
                               other=other, name=framework.name))
        raise _bad_file(_l("This file does not name the framework “%(name)s” (sheet 框架, 代码).",
                           name=framework.name))

    def rows_of(name, header):
        rows = sheets[name]
        if not rows or rows[0][:len(header)] != header:
            raise _bad_file(_l("The sheet “%(sheet)s” must start with the columns %(columns)s.", sheet=name,
                               columns=listed(header)))
        return [(n, (row + [""] * len(header))[:len(header)]) for n, row in enumerate(rows[1:], start=2)]

    return {"criteria": [dict(zip(["code", "position", "title", "title_en", "official_text"], r, strict=True))
                         | {"row": n} for n, r in rows_of(SHEETS[1], CRITERION_HEADER)],
            "items": [dict(zip(["id", "criterion", "position", "text", "weight", "year"], r, strict=True))
                      | {"row": n} for n, r in rows_of(SHEETS[2], ITEM_HEADER)]}


def sheet_problem(sheet: str, message, row=None) -> str:
    """The one way a framework import names where a problem is: "Sheet 条目, row 7: …" (工作表“条目”第 7 行：…),
    or the sheet alone when `row` is None."""
    if row is None:
        return _("Sheet %(sheet)s: %(message)s", sheet=sheet, message=message)
    return _("Sheet %(sheet)s, row %(row)s: %(message)s", sheet=sheet, row=row, message=message)


def _order_number(sheet: str, row, text: str, problem) -> int | None:
    """A row's 序号 (sheets 准则 and 条目): a whole number from 1 to MAX_ROWS, else `problem(sheet, row, message)`
    and None."""
    position = _number(text.strip(), 1, MAX_ROWS)
    if position is None or not position.is_integer():
        problem(sheet, row, _("序号 “%(position)s” must be a whole number from 1 to %(max)s.",
                              position=text.strip()[:20], max=MAX_ROWS))
        return None
    return int(position)


def _checked(framework: Framework, raw: dict) -> dict:
    """The plan with every value checked and normalised; Invalid with every problem, row by row, otherwise."""
    problems: list[str] = []

    def problem(sheet, row, message):
        problems.append(sheet_problem(sheet, message, row))

    if not isinstance(raw, dict) or not isinstance(raw.get("criteria"), list) or not isinstance(raw.get("items"),
                                                                                               list):
        raise _bad_file(_l("The preview could not be read. Upload the file again."))
    existing = {c.code: c for c in db.session.scalars(select(Criterion).where(Criterion.framework_id == framework.id))}
    years = {y.year: y.id for y in all_years()}
    criteria, seen_codes = [], set()
    for entry in raw["criteria"][:MAX_ROWS]:
        row = entry.get("row", "?") if isinstance(entry, dict) else "?"
        entry = entry if isinstance(entry, dict) else {}
        code = _s(entry.get("code")).strip()
        if code not in existing:
            problem(SHEETS[1], row, _("“%(code)s” is not a criterion code of this framework.", code=code[:40]))
            continue
        if code in seen_codes:
            problem(SHEETS[1], row, _("The criterion “%(code)s” appears twice.", code=code))
            continue
        seen_codes.add(code)
        values = {}
        for key, column, limit, required in (("title", "名称", TITLE_MAX, True),
                                             ("title_en", "英文名称", TITLE_EN_MAX, False),
                                             ("official_text", "原文", OFFICIAL_MAX, False)):
            text, message = check_text(_s(entry.get(key)), max_length=limit, required=required,
                                       multiline=key == "official_text")
            if message:
                problem(SHEETS[1], row, f"{column}: {message}")
            values[key] = text
        position = _order_number(SHEETS[1], row, _s(entry.get("position")), problem)
        named = next((c for c in criteria if values["title"] and same_words(c["title"]) == same_words(
            values["title"])), None)
        if named is not None:
            problem(SHEETS[1], row, _("名称 “%(title)s” is the name of the criterion in row %(other)s too: each "
                                      "criterion needs its own name.", title=values["title"], other=named["row"]))
        criteria.append({"code": code, "position": position or len(criteria) + 1, **values, "row": row})
    for code in sorted(set(existing) - seen_codes):
        problems.append(sheet_problem(SHEETS[1], _("the criterion “%(code)s” is missing; a framework's criteria "
                                                   "cannot be removed.", code=code)))
    items = []
    for entry in raw["items"][:MAX_ROWS]:
        row = entry.get("row", "?") if isinstance(entry, dict) else "?"
        entry = entry if isinstance(entry, dict) else {}
        code = _s(entry.get("criterion")).strip()
        if code not in existing:
            problem(SHEETS[2], row, _("“%(code)s” is not a criterion code of this framework.", code=code[:40]))
            continue
        text, message = check_text(_s(entry.get("text")), max_length=TEXT_MAX, required=True)
        if message:
            problem(SHEETS[2], row, f"表述: {message}")
        weight_text = _s(entry.get("weight")).strip()
        weight = _number(weight_text, 0, WEIGHT_MAX) if weight_text else 1.0
        if weight is None:
            problem(SHEETS[2], row, _("权重 must be a number from 0 to %(max)s.", max=int(WEIGHT_MAX)))
        year_text = _s(entry.get("year")).strip()
        year = None
        if year_text:
            number = _number(year_text, 2000, 2100)
            year = int(number) if number is not None and number.is_integer() else None
            if year not in years:
                problem(SHEETS[2], row, _("年度 “%(year)s” is not a campaign year.", year=year_text[:20]))
                year = None
        id_text = _s(entry.get("id")).strip()
        item_id = _number(id_text, 1, 2**31 - 1)
        item_id = int(item_id) if item_id is not None and item_id.is_integer() else None
        if id_text and item_id is None:
            problem(SHEETS[2], row, _("编号 “%(id)s” is not an item number; leave it blank for a new item.",
                                      id=id_text[:20]))
        position = _order_number(SHEETS[2], row, _s(entry.get("position")), problem)
        items.append({"id": item_id, "criterion": code, "position": position or MAX_ROWS, "text": text,
                      "weight": _weight(weight or 0), "year": year, "order": len(items), "row": row})
    _check_item_rows(framework, existing, years, items, problem)
    if not items and not problems:
        problems.append(_("The sheet 条目 has no items."))
    if problems:
        shown = problems[:30]
        if len(problems) > 30:
            shown.append(_("… and %(n)s more problems.", n=len(problems) - 30))
        raise Invalid(_("The file was not imported: %(n)s problems.", n=len(problems)), {"file": "\n".join(shown)})
    return {"criteria": criteria, "items": items}


def _check_item_rows(framework: Framework, criteria: dict[str, Criterion], years: dict[int, int], items: list[dict],
                     problem) -> None:
    """The 条目 rows against each other and the framework: a 编号 given twice, a 编号 of an item of another
    criterion, year or framework, and two rows of one criterion with the same wording in the same checklists
    (`same_words`): each is a `problem(sheet, row, message)`."""
    ids = [i["id"] for i in items if i["id"]]
    found = {item.id: item for item in db.session.scalars(select(Item).where(Item.id.in_(ids)))} if ids else {}
    first_row: dict[int, object] = {}
    for entry in items:
        if not entry["id"]:
            continue
        if entry["id"] in first_row:
            problem(SHEETS[2], entry["row"], _("编号 %(id)s is given in row %(other)s too: each item has its own "
                                               "编号; leave it blank for a new item.", id=entry["id"],
                                               other=first_row[entry["id"]]))
            continue
        first_row[entry["id"]] = entry["row"]
        item = found.get(entry["id"])
        if item is not None and (item.criterion_id != criteria[entry["criterion"]].id
                                 or item.year_id != years.get(entry["year"])):
            problem(SHEETS[2], entry["row"], _("编号 %(id)s is the number of an item of another criterion, year or "
                                               "framework; keep the row's 编号, 准则代码 and 年度 together, or leave "
                                               "编号 blank for a new item.", id=entry["id"]))
    seen: dict[tuple, object] = {}
    for entry in items:
        words = same_words(entry["text"])
        if not words:
            continue
        own, theme = (entry["criterion"], None, words), (entry["criterion"], entry["year"], words)
        # An own item shares every year's checklist: it clashes with any theme row of the criterion too.
        clash = seen.get(theme) or seen.get(own) or (
            next((r for (c, y, w), r in seen.items() if c == entry["criterion"] and w == words), None)
            if entry["year"] is None else None)
        if clash is not None:
            problem(SHEETS[2], entry["row"], _("表述 is the same as in row %(other)s of the same criterion: each item "
                                               "needs its own wording.", other=clash))
        seen.setdefault(theme, entry["row"])


@dataclass
class _Diff:
    changes: list[Change]
    years: set[int] | None  # years the changes reach (None: every year)
    apply: list  # callables, in order


def _diff(framework: Framework, plan: dict) -> _Diff:
    criteria, items, year_numbers = _state(framework)
    year_ids = {number: yid for yid, number in year_numbers.items()}
    by_code = {c.code: c for c in criteria}
    changes: list[Change] = []
    steps: list = []
    reach_all = False
    reached: set[int] = set()
    start = first_year(framework)  # an item asked every year is added and retired from this year on
    finished = {y.id for y in all_years() if is_past(y)}  # a theme item cannot be added to these
    refused: list[str] = []
    known = {item.id for item in items}
    moved_own = False

    def reach(years: set[int] | None) -> None:
        nonlocal reach_all
        if years is None:
            reach_all = True
        else:
            reached.update(years)

    # Criteria: wording and order (the file's 序号, ties in the file's order). The finished years keep the names
    # and order they had (kept by a step before the first criterion changes).
    ordered = sorted(plan["criteria"], key=lambda c: (c["position"],))
    for number, wanted in enumerate(ordered, start=1):
        criterion = by_code[wanted["code"]]
        new = (number, wanted["title"], wanted["title_en"], wanted["official_text"])
        old = (criterion.position, criterion.title, criterion.title_en, criterion.official_text)
        if new != old:
            if not reach_all:
                steps.append(lambda: _keep_names(framework, criteria))
            reach_all = True
            before = f"{old[0]}. {old[1]}" + ("" if old[2:] == new[2:] else " …")
            changes.append(Change("criterion", f"{number}. {wanted['title']}", before, f"{new[0]}. {new[1]}"))

            def step(criterion=criterion, new=new):
                criterion.position, criterion.title, criterion.title_en, criterion.official_text = new
                criterion.version = (criterion.version or 1) + 1
            steps.append(step)
    numbers = {w["code"]: n for n, w in enumerate(ordered, start=1)}

    # Items, per criterion and scope (the framework's own, or one year's theme items).
    scopes: dict[tuple, list[dict]] = {}
    for wanted in plan["items"]:
        scopes.setdefault((wanted["criterion"], year_ids.get(wanted["year"]) if wanted["year"] else None),
                          []).append(wanted)
    current: dict[tuple, list[Item]] = {}
    for item in items:
        code = next(c.code for c in criteria if c.id == item.criterion_id)
        current.setdefault((code, item.year_id), []).append(item)
    for key in sorted(set(scopes) | set(current), key=lambda k: (numbers.get(k[0], 0), k[1] or 0)):
        code, year_id = key
        criterion = by_code[code]
        where = f"{numbers.get(code, criterion.position)}. {criterion.title}" + (
            f" · {year_numbers[year_id]}" if year_id else "")
        wanted_rows = sorted(scopes.get(key, []), key=lambda w: (w["position"], w["order"]))
        existing = current.get(key, [])
        matched: dict[int, Item] = {}
        free = list(existing)
        for n, wanted in enumerate(wanted_rows):  # same wording: the same item (an active one first)
            hit = next((i for i in sorted(free, key=lambda i: not i.active) if i.text == wanted["text"]), None)
            if hit is not None and wanted["id"] and wanted["id"] not in known:
                # A 编号 given is never overruled by the wording: one of no item here is a new item, which cannot
                # have the wording of an item it would stand beside (or bring back).
                refused.append(_("Sheet %(sheet)s, row %(row)s: 编号 %(id)s is not an item of this framework, but "
                                 "表述 is that of the item 编号 %(other)s. To keep that item, write its 编号 %(other)s "
                                 "(or leave 编号 blank); a new item needs wording of its own.", sheet=SHEETS[2],
                                 row=wanted.get("row", "?"), id=wanted["id"], other=hit.id))
            elif hit is not None:
                matched[n] = hit
                free.remove(hit)
        for n, wanted in enumerate(wanted_rows):  # its id, with other wording: a wording edit
            if n not in matched and wanted["id"]:
                hit = next((i for i in free if i.id == wanted["id"]), None)
                if hit is not None:
                    matched[n] = hit
                    free.remove(hit)
        base = THEME_BASE - 1 if year_id else 0
        scope_start = year_numbers[year_id] if year_id else start
        # A move is a change of order among the items kept, not a new number after a row was removed.
        was = [i.id for i in sorted(matched.values(), key=lambda i: (i.position, i.id))]
        now = [matched[n].id for n in sorted(matched)]
        shown_before = {i.id: n for n, i in enumerate(sorted(existing, key=lambda i: (i.position, i.id)), start=1)}
        read_only = year_id is not None and year_id in finished  # a finished year's theme items
        for n, wanted in enumerate(wanted_rows):
            position = base + n + 1
            item = matched.get(n)
            if item is None:
                if year_id and year_id in finished:
                    refused.append(sheet_problem(SHEETS[2], _(
                        "%(year)s is a finished campaign year: its checklists can no longer take a new item.",
                        year=year_numbers[year_id]), wanted.get("row", "?")))
                unknown = wanted["id"] and wanted["id"] not in known  # a 编号 of no item here: a new item
                note = _("New: 编号 %(id)s is not an item of this framework; it is imported as a new item.",
                         id=wanted["id"]) + " " if unknown else ""
                changes.append(Change("add", where, "",
                                      f"{note}{wanted['text']} ({_('Weight')} {wanted['weight']:g})"))
                reach({year_id} if year_id else _years_from(start))

                def step(criterion=criterion, year_id=year_id, wanted=wanted, position=position):
                    _new_item(criterion.id, year_id, start, position=position, text=wanted["text"],
                              weight=wanted["weight"])
            else:
                if (item.text, _weight(item.weight), item.position, item.active) == (
                        wanted["text"], wanted["weight"], position, True):
                    continue
                if not item.active:
                    kind = "restore"
                elif item.text != wanted["text"] or _weight(item.weight) != wanted["weight"]:
                    kind = "edit"
                elif was.index(item.id) != now.index(item.id):
                    kind = "move"
                else:
                    kind = ""  # renumbered only: made, not listed
                if read_only and (kind or item.position != position):
                    refused.append(sheet_problem(SHEETS[2], _(
                        "%(year)s is a finished campaign year: its theme items can no longer be edited, reweighted, "
                        "moved or retired.", year=year_numbers[year_id]), wanted.get("row", "?")))
                if kind:
                    changes.append(Change(kind, where, f"{shown_before[item.id]}. {item.text} ({_('Weight')} "
                                                        f"{_weight(item.weight):g})",
                                          f"{n + 1}. {wanted['text']} ({_('Weight')} {wanted['weight']:g})"))
                if year_id is None and item.position != position:
                    moved_own = True
                # An edit reaches every year the item is asked in; a new version only the years from its first.
                in_place = item.active or _restored_in_place(item, scope_start)
                reach(_edit_reach(item, item.valid_from if in_place else scope_start,
                                  weight_only=item.active and (item.text, item.position) == (wanted["text"], position)))

                def step(item=item, wanted=wanted, position=position, scope_start=scope_start):
                    asked = item if item.active else _restore(item, scope_start)
                    if _weight(asked.weight) != wanted["weight"]:
                        _keep_weights(framework, [asked])
                    asked.text, asked.weight, asked.position = wanted["text"], wanted["weight"], position
                    asked.version = (asked.version or 1) + 1
            steps.append(step)
        for item in free:
            if item.active:
                if read_only:
                    refused.append(sheet_problem(SHEETS[2], _(
                        "the %(year)s theme item 编号 %(id)s is missing; %(year)s is a finished campaign year: its "
                        "theme items can no longer be retired.", year=year_numbers[year_id], id=item.id)))
                changes.append(Change("retire", where, item.text, ""))
                reach(_reach(item, scope_start))

                def step(item=item, scope_start=scope_start):
                    _retire(item, scope_start)
                    item.version = (item.version or 1) + 1
                steps.append(step)
    if refused:
        raise Invalid(_("The file was not imported: %(n)s problems.", n=len(refused)), {"file": "\n".join(refused)})
    if moved_own:  # before the first item moves: the finished years keep the order they showed
        own = [item for item in items if item.year_id is None]
        steps.insert(0, lambda: _keep_positions(framework, own))
    return _Diff(changes, None if reach_all else reached, steps)


def preview_import(framework: Framework, file: FileStorage | None) -> ImportPreview:
    """Read and check an uploaded framework file; nothing is written. Invalid (422) with every problem."""
    if file is None or not file.filename:
        raise _bad_file(_l("Choose a file to upload."))
    if not file.filename.lower().endswith(".xlsx"):
        raise _bad_file(_l("Upload the framework as an XLSX file exported from this page."))
    uploads.check(file, {m: e for m, e in uploads.DOCUMENT_TYPES.items() if e == "xlsx"})
    plan = _checked(framework, _plan_from_sheets(framework, _read_sheets(file.stream.read())))
    diff = _diff(framework, plan)
    plan_json = json.dumps(plan, ensure_ascii=True, separators=(",", ":"))
    return ImportPreview(plan=plan_json, fingerprint=_signed(framework, fingerprint(framework), plan_json),
                         changes=diff.changes,
                         started=started_years(framework, diff.years) if diff.changes else [],
                         filename=file.filename[:120])


def _matches(framework: Framework, raw) -> bool:
    """Whether the framework, as saved now, already is what the plan makes of it (no change left to make)."""
    try:
        return not _diff(framework, _checked(framework, raw)).changes
    except (ValueError, Invalid):
        return False


def planned_changes(framework: Framework, plan_json: str) -> list[Change]:
    """The changes a previewed plan (as the confirmation form carries it) would make now; nothing is written.
    An unreadable or no longer valid plan: no changes (applying it answers why)."""
    try:
        return _diff(framework, _checked(framework, json.loads(plan_json or ""))).changes
    except (ValueError, Invalid):
        return []


def apply_import(actor, framework: Framework, plan_json: str, expected: str, confirmed: bool = False) -> int | None:
    """Make the previewed changes, all or nothing, if the framework is still as it was when previewed.
    `expected` is the preview's signed fingerprint (`_signed`): a plan other than the one previewed is refused
    (Conflict, 409). Returns the number of changes; None for a second send of an import already made (the
    framework changed since the preview but already matches the plan: nothing to do, answered as saved)."""
    previewed, _dot, _signature = (expected or "").partition(".")
    if not hmac.compare_digest(_signed(framework, previewed, plan_json or ""), expected or ""):
        raise Conflict(_("This is not the content of the previewed file, so nothing was imported. Upload the "
                         "file again."))
    try:
        raw = json.loads(plan_json or "")
    except ValueError:
        raise _bad_file(_l("The preview could not be read. Upload the file again.")) from None
    framework = _lock(framework)
    if fingerprint(framework) != previewed:
        if _matches(framework, raw):
            db.session.rollback()
            return None
        db.session.rollback()
        raise Conflict(_("The framework was changed after this preview was made. Upload the file again."))
    plan = _checked(framework, raw)
    diff = _diff(framework, plan)
    if not diff.changes:
        db.session.rollback()
        return 0
    years = _guard(framework, diff.years, confirmed)
    try:
        for step in diff.apply:
            step()
        audit.record(actor, "framework.import", framework,
                     after={"changes": len(diff.changes),
                            "kinds": {k: sum(1 for c in diff.changes if c.kind == k)
                                      for k in sorted({c.kind for c in diff.changes})},
                            "version": framework.version, "started_years": years})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(diff.changes)
