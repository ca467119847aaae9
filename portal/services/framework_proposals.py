"""What a framework change would do, field by field, for the page that asks the admin to confirm it: each changed
field's value now beside the value it would take (old → new). Nothing is written here."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import CampaignYear, Criterion, Item
from .frameworks import weight_text


@dataclass
class FieldChange:
    label: str  # the field's name, in the person's language
    before: str  # "" for a new item
    after: str


def _changed(rows: list[tuple[str, str, str]]) -> list[FieldChange]:
    return [FieldChange(label, before, after) for label, before, after in rows if before != after]


def _place(record, siblings: list, position: int | None) -> tuple[str, str]:
    """(its number now, the number it would take) among `siblings`, as the save clamps it."""
    now = next(n for n, row in enumerate(siblings, start=1) if row.id == record.id)
    wanted = max(1, min(position or now, len(siblings)))
    return str(now), str(wanted)


def criterion_changes(criterion: Criterion, *, title: str, title_en: str, official_text: str,
                      position: int | None) -> list[FieldChange]:
    """The criterion's fields the edit would change: [(label, now, after)]."""
    siblings = list(db.session.scalars(select(Criterion).where(Criterion.framework_id == criterion.framework_id)
                                       .order_by(Criterion.position, Criterion.id)))
    return _changed([(_("Criterion"), criterion.title, title or ""),
                     (_("English name"), criterion.title_en or "", title_en or ""),
                     (_("Official wording"), criterion.official_text or "", official_text or ""),
                     (_("Order"), *_place(criterion, siblings, position))])


def item_changes(item: Item, *, text: str, weight: float, position: int | None) -> list[FieldChange]:
    """The item's fields the edit would change."""
    scope = Item.year_id.is_(None) if item.year_id is None else Item.year_id == item.year_id
    siblings = list(db.session.scalars(select(Item).where(Item.criterion_id == item.criterion_id, scope)
                                       .order_by(Item.position, Item.id)))
    return _changed([(_("Wording"), item.text, text or ""),
                     (_("Weight"), weight_text(item.weight), weight_text(weight)),
                     (_("Order"), *_place(item, siblings, position))])


def new_item(*, text: str, weight: float, year: CampaignYear | None,
             valid_from: CampaignYear | None, first_year: int | None) -> list[FieldChange]:
    """A new item's fields (nothing before)."""
    if year is not None:
        asked = _("%(year)s only (theme item)", year=year.year)
    else:
        start = valid_from.year if valid_from else first_year
        asked = _("every campaign year from %(year)s on", year=start) if start else _("every campaign year")
    return _changed([(_("Wording"), "", text or ""), (_("Weight"), "", weight_text(weight)),
                     (_("Asked in"), "", asked)])


def active_change(item: Item, active: bool, first_year: int | None) -> list[FieldChange]:
    """Retiring an item or bringing it back: its state now and after (a retirement takes effect from the theme
    item's year, else from `first_year`: frameworks.first_year)."""
    def state(is_active: bool, since: int | None) -> str:
        if is_active:
            return _("Asked")
        return _("Retired from %(year)s", year=since) if since else _("Retired")
    start = db.session.get(CampaignYear, item.year_id).year if item.year_id is not None else first_year
    return _changed([(_("State"), state(item.active, item.retired_from), state(active, start))])
