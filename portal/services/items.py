"""Which items a campaign year's checklists hold.

One rule (`in_checklist`) for every place that lists or counts a year's items: the checklist pages, the kept tallies
(services/tallies.py) and so the branch summaries, scores, grades, dashboards and exports built on them, the
pledge tags offered, the demo seed and `rebuild-figures`. An item belongs in a checklist of campaign year Y when

- it is the framework's own (asked every year) or a theme item of Y, and
- the checklist answered it (an answer is never dropped), or it is valid in Y: `valid_from` ≤ Y (or none) and
  Y < `retired_from` (or none).

So an item added to a framework already in use (valid from the current year) and an item retired from a year
leave earlier, finished years as they were.
"""
from __future__ import annotations

from sqlalchemy import and_, false, or_

from ..models import Item


def in_checklist(year_id, year_number, answered=None):
    """SQL truth: the item (`Item`'s columns) belongs in a checklist of the campaign year whose id and number
    are `year_id` and `year_number` (values, or columns of the query). `answered`: SQL truth that the
    checklist answered it (default: a new checklist, nothing answered)."""
    valid = and_(or_(Item.valid_from.is_(None), Item.valid_from <= year_number),
                 or_(Item.retired_from.is_(None), Item.retired_from > year_number))
    return and_(or_(Item.year_id.is_(None), Item.year_id == year_id),
                or_(false() if answered is None else answered, valid))
