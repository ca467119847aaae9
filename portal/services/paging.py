"""The one way a list is cut into pages: the page asked for is clamped to the pages there are (a page past
the end, an old bookmark or `?page=99999`, shows the last page rather than an empty list), and every paged
list (users, branches, audit log, notifications) draws its pager from the same `Window`
(templates/_pager.html)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.sql import Select

from ..extensions import db


@dataclass(frozen=True)
class Window:
    """Where a page sits in a list: `page` (1-based, always between 1 and `pages`), `pages` (at least 1),
    `total` rows, `per_page`."""

    page: int
    pages: int
    total: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


class Paged:
    """A page of a list that carries its `window`: `page`, `pages` and `total` read from it (for templates)."""

    window: Window

    @property
    def page(self) -> int:
        return self.window.page

    @property
    def pages(self) -> int:
        return self.window.pages

    @property
    def total(self) -> int:
        return self.window.total


PAGE_MAX = 99_999  # the highest page number a query string may ask for (a list has far fewer pages)


def requested_page(value) -> int:
    """The page a query string asks for: a whole number from 1, at most PAGE_MAX (a bigger one, however long, is
    PAGE_MAX, which `window` then clamps to the last page); anything else (missing, "abc", "-1", "0") is page 1."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit():
        return 1
    return max(1, min(int(text), PAGE_MAX)) if len(text) <= 6 else PAGE_MAX


def window(total: int, page: int, per_page: int) -> Window:
    """The page `page` of `total` rows, `per_page` a page, clamped to [1, last page]."""
    pages = max(1, -(-int(total) // per_page))
    return Window(min(max(1, int(page)), pages), pages, int(total), per_page)


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers a numbered pager links, in order: the first and the last, and `around` either side of
    `page`; None where numbers are left out (drawn as "…"). A gap of a single page shows that page instead. At most
    2 × `around` + 5 entries however many pages there are, so the pager costs the same at 40 pages as at 4
    (issue #14). E.g. page 7 of 40: [1, None, 5, 6, 7, 8, 9, None, 40]."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    last = 0
    for number in shown:
        if number - last == 2:
            out.append(number - 1)
        elif number - last > 2:
            out.append(None)
        out.append(number)
        last = number
    return out


def window_of(stmt: Select, page: int, per_page: int) -> Window:
    """`window` for the rows `stmt` selects (one COUNT query); apply it with `.limit(w.per_page).offset(w.offset)`."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return window(total, page, per_page)
