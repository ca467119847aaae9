"""Choosing branches in a form or a filter: one picker for every page that names a branch.

Up to MENU_MAX branches the page lists them (a <select> or checkboxes, as a small district expects); above it, a
district of 2,000 branches would put 150 KB of names on every such page and load them all, so the page shows a
text field instead: suggestions come from `suggest` (GET /branches/suggest, the picker's htmx endpoint) and a
name typed and sent without a choice is resolved by `resolve`. Either way the page costs the same whatever the
district's size: one query of at most MENU_MAX + 1 names, and one for the names already chosen.

Scopes: "active" (branches taking part in the campaign: requests, visits, posts, the news board) and "all"
(deactivated ones too, marked: accounts and the audit log, which name branches that were closed since).
Names are matched as the branch registry searches them (users.branch_overview): the branch's or its school's
name, full-width input folded (NFKC), in pinyin order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.sql import ColumnElement, bindparam

from ..collation import branch_order
from ..extensions import db
from ..input_guard import parse_int
from ..models import Branch, Unit
from ..text import search_query

MENU_MAX = 60  # more branches than this in a scope: a search field instead of a list (the one threshold)
SUGGESTIONS = 20  # suggestions shown for one query
QUERY_MAX = 120  # characters of a typed name that count (a branch's name has at most 120)
CHOSEN_MAX = 1000  # branches one multiple choice may hold (forms.fields.IdList's bound)
SCOPES = ("active", "all")
# Names typed into a multiple choice without JavaScript: one per line or separated by commas or 、.
SEPARATORS = re.compile(r"[,，、;；\n\r]+")


@dataclass(frozen=True)
class Choice:
    """A branch as a picker shows it."""

    id: int
    name: str
    unit: str  # the school's name
    active: bool


def scope_of(value: str | None) -> str:
    """`value` if it is one of SCOPES, else "active" (the narrower one)."""
    return value if value in SCOPES else "active"


def fold(text: str | None) -> str:
    """A typed name as it is compared: a search box's text (`text.search_query`: NFKC, so full-width letters and
    digits are half-width; invisible characters dropped; trimmed), bounded."""
    return search_query(text)[:QUERY_MAX]


ESCAPE = "/"  # the escape character of `name_pattern`'s patterns


def name_pattern(text: str) -> str:
    """A LIKE pattern (escape character ESCAPE) for names containing `text`: its % and _ are text, not wildcards.
    For a filter whose statement is built once with the pattern as a bound parameter (`contains(...,
    autoescape=True)` needs the text when the statement is built)."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def _choices(scope: str):
    stmt = select(Branch.id, Branch.name, Unit.name, Branch.active).join(Unit, Unit.id == Branch.unit_id)
    if scope_of(scope) == "active":
        stmt = stmt.where(Branch.active.is_(True))
    return stmt


def _rows(stmt) -> list[Choice]:
    return [Choice(*row) for row in db.session.execute(stmt)]


@dataclass
class BranchChoices:
    """What a page needs to draw its pickers of one scope: `menu`, every branch (pinyin order) when there are at
    most MENU_MAX, or None when the picker is a search field."""

    scope: str
    menu: list[Choice] | None

    @property
    def searched(self) -> bool:
        return self.menu is None

    def chosen(self, values) -> list[Choice]:
        """The branches `values` name (ids as sent: strings or ints; unknown and malformed ones left out), in the
        order given; read from the menu, or with one query when there is none."""
        if isinstance(values, (str, int)):
            values = [values]
        ids = list(dict.fromkeys(i for i in (parse_int(v, low=1) for v in values or []) if i is not None))
        if not ids:
            return []
        if self.menu is not None:
            known = {choice.id: choice for choice in self.menu}
        else:
            known = {c.id: c for c in _rows(_choices("all").where(Branch.id.in_(ids[:CHOSEN_MAX])))}
        return [known[i] for i in ids if i in known]


def choices(scope: str) -> BranchChoices:
    """The pickers' choices for `scope` ("active" or "all"): one query of at most MENU_MAX + 1 rows."""
    scope = scope_of(scope)
    menu = _rows(_choices(scope).order_by(*branch_order()).limit(MENU_MAX + 1))
    return BranchChoices(scope=scope, menu=menu if len(menu) <= MENU_MAX else None)


def _matching(text: str, scope: str):
    """Branches of `scope` whose or whose school's name contains `text` (any case; % and _ are text)."""
    return _choices(scope).where(or_(Branch.name.icontains(text, autoescape=True),
                                     Unit.name.icontains(text, autoescape=True)))


def suggest(query: str, scope: str, limit: int = SUGGESTIONS) -> list[Choice]:
    """Up to `limit` branches of `scope` whose name or school's name contains `query` (folded), in pinyin order;
    none for an empty query. One query."""
    text = fold(query)
    if not text:
        return []
    return _rows(_matching(text, scope).order_by(*branch_order()).limit(limit))


@dataclass
class Resolved:
    """What a typed name came to: the branch, or the problem in words (for the field's error)."""

    choice: Choice | None = None
    problem: str = ""


def resolve(typed: str, scope: str) -> Resolved:
    """The one branch of `scope` a typed name means (a form sent without choosing a suggestion, or without
    JavaScript): the branch of exactly that name (or the one branch of exactly that school), else the only
    branch whose or whose school's name contains it. None found or several: `problem` says so, and what to do
    (the message never repeats the text: it stays in the field). Two queries at most."""
    text = fold(typed)
    if not text:
        return Resolved()
    spelt = {text, (typed or "").strip()}  # as folded, and as typed (a name stored with full-width characters)
    exact = _rows(_choices(scope).where(or_(Branch.name.in_(spelt), Unit.name.in_(spelt)))
                  .order_by(*branch_order()).limit(SUGGESTIONS + 1))
    named = [c for c in exact if c.name in spelt]
    if len(named) == 1 or len(exact) == 1:
        return Resolved(named[0] if named else exact[0])
    found = exact or _rows(_matching(text, scope).order_by(*branch_order()).limit(SUGGESTIONS + 1))
    if len(found) == 1:
        return Resolved(found[0])
    if not found:
        return Resolved(problem=_("No branch's or school's name contains what you typed. Check the name, or "
                                  "type part of it and choose from the suggestions."))
    count = (str(SUGGESTIONS) + "+") if len(found) > SUGGESTIONS else str(len(found))
    return Resolved(problem=_("What you typed fits %(count)s branches (for example %(names)s). Type more of "
                              "the name, or choose one from the suggestions.",
                              count=count, names="、".join(c.name for c in found[:3])))


def resolve_many(typed: str, scope: str) -> tuple[list[Choice], str, str]:
    """Names typed into a multiple choice (one per line, or separated by commas or 、): (the branches found,
    the names that found none or several, joined again with 、, to stay in the field; the first problem)."""
    found: list[Choice] = []
    left: list[str] = []
    problem = ""
    for name in (part.strip() for part in SEPARATORS.split(typed or "")):
        if not name:
            continue
        result = resolve(name, scope)
        if result.choice is not None:
            found.append(result.choice)
        else:
            left.append(name)
            problem = problem or result.problem
    return found, "、".join(left), problem


def read_filter(args, name: str, scope: str) -> tuple[int | None, str]:
    """A filter's branch from a query string: the id under `name`, or, when the search field (`<name>_q`) was
    sent, the branch its text resolves to (`names_it`: the id counts while the text is still its name).
    Returns (branch id or None, the problem in words or "")."""
    typed = args.get(f"{name}_q")
    raw = (args.get(name) or "").strip()
    chosen = parse_int(raw, low=1) if raw else None
    if typed is None:
        if raw and chosen is None:
            return None, _("Choose a branch from the list.")
        return chosen, ""
    if chosen is not None and names_it(chosen, typed):
        return chosen, ""
    result = resolve(typed, scope)
    return (result.choice.id if result.choice else None), result.problem


def read_name_filter(args) -> tuple[int | None, str]:
    """A list's branch filter by name from a query string (the picker drawn with `by_name`): (the branch id the menu
    of a small district sent under "branch", or None; the folded part of a name the field of a big one sent under
    "branch_q", or ""). Malformed ids are None: a filter link can age."""
    return parse_int(args.get("branch"), low=1), fold(args.get("branch_q"))


def names_it(branch_id: int, typed: str) -> bool:
    """Whether `typed` is still the name of branch `branch_id` (the picker's field after a choice), folded alike."""
    name = db.session.scalar(select(Branch.name).where(Branch.id == branch_id))
    return name is not None and bool(fold(typed)) and fold(name) == fold(typed)


def choices_by_id(branch_id: int) -> Choice | None:
    """The branch `branch_id` as a picker shows it, or None."""
    rows = _rows(_choices("all").where(Branch.id == branch_id))
    return rows[0] if rows else None


@dataclass(frozen=True)
class BranchFilter:
    """A district list's branch filter, as the news board filters: one branch (`branch`, an id from the menu of a
    district of at most MENU_MAX branches) or part of a branch's name (`branch_q`, the search field of a bigger
    one). For statements built once: `conditions` puts bound parameters where `values` gives them."""

    branch_id: int | None = None
    branch_q: str = ""

    @classmethod
    def parse(cls, args) -> BranchFilter:
        """The filter of a query string; a malformed id is ignored (a filter link can age), the text folded."""
        return cls(*read_name_filter(args))

    @property
    def shape(self) -> tuple[bool, bool]:
        """(by branch, by name): which of `conditions` a statement holds."""
        return self.branch_id is not None, bool(self.branch_q)

    def query_args(self) -> dict:
        """The filter as a link's query arguments (a pager's, a form's)."""
        return {k: v for k, v in {"branch": self.branch_id, "branch_q": self.branch_q}.items() if v}

    def values(self) -> dict:
        """The bound parameters of `conditions`: the branch's id and the LIKE pattern of the name (any case;
        % and _ are text)."""
        return {"filter_branch": self.branch_id, "filter_name": name_pattern(self.branch_q)}

    @staticmethod
    def conditions(branch_id: ColumnElement, by_branch: bool, by_name: bool) -> list[ColumnElement]:
        """WHERE conditions on the column `branch_id` of a shape (`shape`), with bound parameters (`values`)."""
        out = []
        if by_branch:
            out.append(branch_id == bindparam("filter_branch"))
        if by_name:
            named = Branch.name.ilike(bindparam("filter_name"), escape=ESCAPE)
            out.append(named if branch_id is Branch.id else branch_id.in_(select(Branch.id).where(named)))
        return out


class BranchFiltered:
    """A list's filters that hold a BranchFilter (`branch`), seen from the templates' branch filter
    (templates/_branch_filter.html), which reads `branch_id` and `branch_q` off the filters."""

    branch: BranchFilter

    @property
    def branch_id(self) -> int | None:
        return self.branch.branch_id

    @property
    def branch_q(self) -> str:
        return self.branch.branch_q
