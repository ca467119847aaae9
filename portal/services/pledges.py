"""公开承诺: branches and members write pledges tagged to criteria items; the branch's go to the
organisation section and members' to their secretary; approved pledges are published; 践诺 entries
are logged over the year and the keeping of the pledge is reviewed (评诺)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, bindparam, func, insert, or_, select, union_all

from ..clock import local_today
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..input_guard import parse_ids
from ..labels import title_in_language
from ..links import path_for
from ..models import (
    Assessment,
    Branch,
    CampaignYear,
    Criterion,
    Framework,
    Item,
    ItemResult,
    Pledge,
    PledgeEntry,
    PledgeStatus,
    PledgeWaiting,
    ReviewRating,
    Role,
    Subject,
    User,
    pledge_item,
    utcnow,
)
from . import audit, branch_choice, notifications, paging
from .campaign import ensure_writable, parse_date
from .items import criterion_title_en_in, criterion_title_in, in_checklist, in_year_order, retired_in, wordings_in
from .versions import check_version

EDITABLE = (PledgeStatus.DRAFT, PledgeStatus.RETURNED)
PER_PAGE = 20  # pledges on a page of a list (each with its text and tags)
# Why an edit cannot be saved when the pledge moved on while it was being edited.
_STATUS_CHANGED = {
    PledgeStatus.PENDING: _l("While you were editing, this pledge was sent for approval, so it can no longer be "
                             "changed. Your text is kept below; the approver can return the pledge if it needs "
                             "your changes."),
    PledgeStatus.APPROVED: _l("While you were editing, this pledge was approved and published, so it can no "
                              "longer be changed. Your text is kept below for reference."),
}


def get(pledge_id: int) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound()
    return pledge


def items_for(subject: Subject, year: CampaignYear) -> list[tuple[int, str, str]]:
    """(item id, criterion title, item text) a pledge of this subject can be tagged with: the items the year's
    checklists hold, in the order and under the criterion names they show (`items.in_year_order`), the criterion
    named in the request's language (labels.title_in_language)."""
    return [(item_id, title_in_language(title, title_en), text) for item_id, title, title_en, text in
            db.session.execute(_items_statement(subject), {"year_id": year.id, "year": year.year})]


@cache
def _items_statement(subject: Subject):
    """`items_for`'s statement, built once per subject (parameters `year_id` and `year`, the year's number)."""
    year_id, number = bindparam("year_id", type_=Integer), bindparam("year", type_=Integer)
    stmt = (select(Item.id, criterion_title_in(), criterion_title_en_in(), Item.text).select_from(Item)
            .join(Criterion).join(Framework)
            .where(Framework.subject == subject, in_checklist(year_id, number)))
    return in_year_order(stmt, year_id)


def _valid_items(subject: Subject, year: CampaignYear, item_ids: list[str], errors: dict) -> list[int]:
    wanted = parse_ids(item_ids) or set()
    allowed = {row[0] for row in items_for(subject, year)}
    if not wanted:
        errors["items"] = _l("Tag the pledge with at least one criteria item.")
    elif not wanted <= allowed:
        errors["items"] = _l("Choose items from the list.")
    return sorted(wanted & allowed)


def _check_text(text: str, errors: dict) -> str:
    text = (text or "").strip()
    if not text or len(text) > 2000:
        errors["text"] = _l("Write the pledge (at most 2000 characters).")
    return text


def create(actor, year: CampaignYear, *, for_branch: bool, text: str, item_ids: list[str]) -> Pledge:
    """A branch pledge (written by its secretary) or the actor's own member pledge, as a draft."""
    ensure_writable(year.id)
    if actor.branch_id is None:
        raise Conflict(str(_l("Only people of a branch write pledges.")))
    errors: dict = {}
    text = _check_text(text, errors)
    subject = Subject.BRANCH if for_branch else Subject.MEMBER
    items = _valid_items(subject, year, item_ids, errors)
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    pledge = Pledge(year_id=year.id, branch_id=actor.branch_id, member_id=None if for_branch else actor.id,
                    author_id=actor.id, text=text, status=PledgeStatus.DRAFT)
    db.session.add(pledge)
    db.session.flush()
    db.session.execute(insert(pledge_item), [{"pledge_id": pledge.id, "item_id": i} for i in items])
    audit.record(actor, "pledge.create", pledge, after={"text": text, "items": items, "branch": for_branch})
    db.session.commit()
    return pledge


def update(actor, pledge: Pledge, *, text: str, item_ids: list[str], version: int | None = None) -> None:
    """Save an edit of a draft or returned pledge made on top of `version`; a stale one is a Conflict
    carrying the saved text. A pledge that left the draft while being edited (sent for approval, approved)
    is a Conflict that says so, also carrying the saved text, so that the page shows it beside the
    person's own text."""
    year = ensure_writable(pledge.year_id)
    if pledge.status not in EDITABLE:
        raise Conflict(str(_STATUS_CHANGED.get(pledge.status, _STATUS_CHANGED[PledgeStatus.PENDING])),
                       current={"text": pledge.text, "version": pledge.version})
    errors: dict = {}
    text = _check_text(text, errors)
    items = _valid_items(Subject.MEMBER if pledge.member_id else Subject.BRANCH, year, item_ids, errors)
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    check_version(pledge, version, shown=("text",))
    before = {"text": pledge.text, "items": tags(pledge.id)}
    pledge.text = text
    db.session.execute(pledge_item.delete().where(pledge_item.c.pledge_id == pledge.id))
    db.session.execute(insert(pledge_item), [{"pledge_id": pledge.id, "item_id": i} for i in items])
    audit.record(actor, "pledge.update", pledge, before=before, after={"text": text, "items": items})
    db.session.commit()


def _move(actor, pledge: Pledge, allowed_from: tuple, to: PledgeStatus, action: str, message, **changes) -> None:
    ensure_writable(pledge.year_id)
    if pledge.status not in allowed_from:
        raise Conflict(str(message))
    before = {"status": pledge.status.value}
    pledge.status = to
    for name, value in changes.items():
        setattr(pledge, name, value)
    event = audit.record(actor, action, pledge, before=before, after={"status": to.value, **{
        k: v for k, v in changes.items() if k == "return_reason"}})
    _notify(event, pledge, to)
    db.session.commit()


def _notify(event, pledge: Pledge, to: PledgeStatus) -> None:
    """Tell the approver that a pledge waits (rule "pledge.approve"), or its owner how it was decided."""
    link = path_for("campaign.pledge", pledge_id=pledge.id)
    what = pledge.text[:60]
    member = member_of(pledge)
    yours = {"yours": 1} if member else {}  # the member's own pledge: "您的承诺…"
    if to == PledgeStatus.PENDING:
        # Whose pledge waits, as every "waiting" notification names it: the branch (and the member).
        branch = db.session.get(Branch, pledge.branch_id)
        what = f"{notifications.whose_words(branch.name, member.display_name if member else None)} · {what}"
        if member is None or member.role == Role.SECRETARY:
            approvers = notifications.admins()
        else:
            approvers = [uid for uid in notifications.secretaries_of(pledge.branch_id) if uid != member.id]
        notifications.notify_event(event, approvers, "pledge.waiting", link, what=what)
        return
    owners = [member.id] if member else notifications.secretaries_of(pledge.branch_id)
    if to == PledgeStatus.RETURNED:
        notifications.notify_event(event, owners, "pledge.returned", link, what=what, reason=pledge.return_reason,
                                   **yours)
    elif to == PledgeStatus.APPROVED:
        notifications.notify_event(event, owners, "pledge.approved", link, what=what, **yours)


def submit(actor, pledge: Pledge) -> None:
    _move(actor, pledge, EDITABLE, PledgeStatus.PENDING, "pledge.submit",
          _l("Only a draft or a returned pledge can be sent for approval."), return_reason="")


def approve(actor, pledge: Pledge) -> None:
    _move(actor, pledge, (PledgeStatus.PENDING,), PledgeStatus.APPROVED, "pledge.approve",
          _l("Only a pledge awaiting approval can be approved or returned."),
          approved_by_id=actor.id, approved_at=utcnow())


def return_for_revision(actor, pledge: Pledge, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason or len(reason) > 1000:
        message = _l("Say what must change (at most 1000 characters).")
        raise Invalid(str(message), {"reason": message})
    _move(actor, pledge, (PledgeStatus.PENDING,), PledgeStatus.RETURNED, "pledge.return",
          _l("Only a pledge awaiting approval can be approved or returned."), return_reason=reason)


def add_entry(actor, pledge: Pledge, *, text: str, happened_on: str, today: date | None = None) -> PledgeEntry:
    """践诺: log what was done to keep a published pledge."""
    ensure_writable(pledge.year_id)
    if pledge.status != PledgeStatus.APPROVED:
        raise Conflict(str(_l("Only a published pledge can have fulfilment entries.")))
    errors: dict = {}
    text = (text or "").strip()
    if not text or len(text) > 2000:
        errors["text"] = _l("Describe what was done (at most 2000 characters).")
    day = parse_date(happened_on, "happened_on", errors)
    if day and day > (today or local_today()):
        errors["happened_on"] = _l("The date cannot be in the future.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    entry = PledgeEntry(pledge_id=pledge.id, author_id=actor.id, text=text, happened_on=day)
    db.session.add(entry)
    db.session.flush()
    audit.record(actor, "pledge.entry", pledge, after={"entry_id": entry.id, "text": text, "on": str(day)})
    db.session.commit()
    return entry


def evaluate(actor, pledge: Pledge, *, rating: str, comment: str) -> None:
    """评诺: the approver's review of how the pledge was kept."""
    ensure_writable(pledge.year_id)
    if pledge.status != PledgeStatus.APPROVED:
        raise Conflict(str(_l("Only a published pledge can be reviewed.")))
    errors: dict = {}
    try:
        rating_value = ReviewRating(rating)
    except ValueError:
        errors["rating"] = _l("Choose a rating.")
        rating_value = None
    comment = (comment or "").strip()
    if len(comment) > 2000:
        errors["comment"] = _l("The comment may have at most 2000 characters.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    before = {"rating": pledge.fulfilment_rating, "comment": pledge.fulfilment_comment}
    pledge.fulfilment_rating, pledge.fulfilment_comment = rating_value.value, comment
    audit.record(actor, "pledge.evaluate", pledge, before=before, after={"rating": rating_value.value,
                                                                        "comment": comment})
    db.session.commit()


# --- reading --------------------------------------------------------------------------------------

def tags(pledge_id: int) -> list[int]:
    return list(db.session.scalars(select(pledge_item.c.item_id).where(pledge_item.c.pledge_id == pledge_id)))


@cache
def _tags_statement():
    """`tags_for`'s statement, built once: the tags of the pledges `ids` (an expanding parameter), in the order of
    each pledge's year's checklists, with the answer their own checklist gave."""
    own = and_(Assessment.year_id == Pledge.year_id, Assessment.branch_id == Pledge.branch_id,
               or_(Assessment.member_id == Pledge.member_id,
                   and_(Assessment.member_id.is_(None), Pledge.member_id.is_(None))))
    stmt = (select(pledge_item.c.pledge_id, Pledge.year_id, Item, criterion_title_in(), criterion_title_en_in(),
                   CampaignYear.year, ItemResult.item_text)
            .join(Pledge, Pledge.id == pledge_item.c.pledge_id)
            .join(CampaignYear, CampaignYear.id == Pledge.year_id)
            .join(Item, Item.id == pledge_item.c.item_id).join(Criterion, Criterion.id == Item.criterion_id)
            .outerjoin(Assessment, own)
            .outerjoin(ItemResult, and_(ItemResult.assessment_id == Assessment.id, ItemResult.item_id == Item.id))
            .where(pledge_item.c.pledge_id.in_(bindparam("ids", expanding=True))))
    # Each pledge's tags in the order, and under the criterion names, of its own year's checklists.
    return in_year_order(stmt, Pledge.year_id)


def tags_for(pledge_ids: list[int]) -> dict[int, list[str]]:
    """{pledge id: [criterion · item text]}, the criterion in the request's language: the wording the pledge's own
    checklist (its branch's, or its member's) answered the item against, else the wording valid in the pledge's year
    (`items.wordings_in`), else the item's current wording. One query, and `wordings_in`'s for finished years."""
    out: dict[int, list[str]] = defaultdict(list)
    if pledge_ids:
        rows = db.session.execute(_tags_statement(), {"ids": list(pledge_ids)}).all()
        unanswered: dict[int, set[int]] = defaultdict(set)
        for _pid, year_id, item, _c, _e, _n, answered in rows:
            if answered is None:
                unanswered[year_id].add(item.id)
        valid = {year_id: wordings_in(db.session.get(CampaignYear, year_id), item_ids)
                 for year_id, item_ids in unanswered.items()}
        for pid, year_id, item, criterion, criterion_en, number, answered in rows:
            criterion = title_in_language(criterion, criterion_en)  # the item's own text is the checklist's
            tag = f"{criterion} · {answered or valid.get(year_id, {}).get(item.id, item.text)}"
            # An item no longer asked in the pledge's year is marked as the checklist marks it.
            out[pid].append(str(_l("%(tag)s (retired)", tag=tag)) if retired_in(item, number) else tag)
    return out


def entries_for(pledge_ids: list[int]) -> dict[int, list[PledgeEntry]]:
    out: dict[int, list[PledgeEntry]] = defaultdict(list)
    if pledge_ids:
        for entry in db.session.scalars(select(PledgeEntry).where(PledgeEntry.pledge_id.in_(pledge_ids))
                                        .order_by(PledgeEntry.happened_on)):
            out[entry.pledge_id].append(entry)
    return out


def _named(stmt):
    """`stmt` over Pledge with the names its rows show: (pledge, branch name, member name)."""
    return (stmt.add_columns(Branch.name, User.display_name).join(Branch, Branch.id == Pledge.branch_id)
            .outerjoin(User, User.id == Pledge.member_id))


def _with_names(stmt, oldest: int | None = None,
                order: tuple = (Pledge.updated_at, Pledge.id)) -> list[tuple[Pledge, str, str | None]]:
    """(pledge, branch name, member name) rows, the latest change first; or, with `oldest`, only the
    `oldest` pledges changed longest ago, those first. `order`: the columns of the pledge's time of change and id
    (the pledge's own, or the kept list's)."""
    stmt = _named(stmt)
    if oldest is not None:
        stmt = stmt.order_by(*order).limit(oldest)
    else:
        stmt = stmt.order_by(*(column.desc() for column in order))
    return list(db.session.execute(stmt))


def mine(user, year: CampaignYear) -> list[tuple]:
    """The user's own pledges, and for a secretary the branch's pledges too. Read through the member's and the
    branch's indexes (a union of ids), not the year's pledges of the whole district."""
    ids = select(Pledge.id).where(Pledge.member_id == user.id, Pledge.year_id == year.id)
    if user.role == Role.SECRETARY and user.branch_id:
        ids = union_all(ids, select(Pledge.id).where(Pledge.branch_id == user.branch_id, Pledge.year_id == year.id,
                                                     Pledge.member_id.is_(None)))
    return _with_names(select(Pledge).where(Pledge.id.in_(ids)))


def _awaiting_conditions(kind: str) -> list:
    """Pledges waiting for approval: "district" for the organisation section (branch pledges and secretaries'
    own), "branch" for a secretary (the other members' pledges of the branch: parameters `own_branch`, `me`)."""
    if kind == "district":
        secretaries = select(User.id).where(User.role == Role.SECRETARY)
        return [or_(Pledge.member_id.is_(None), Pledge.member_id.in_(secretaries))]
    return [Pledge.branch_id == bindparam("own_branch", type_=Integer), Pledge.member_id.isnot(None),
            Pledge.member_id != bindparam("me", type_=Integer)]


def awaiting(user, year: CampaignYear, oldest: int | None = None) -> list[tuple]:
    """Pledges waiting for this user's approval: the organisation section gets branch pledges and
    secretaries' own; a secretary gets the other members' pledges of their branch. (pledge, branch name, member
    name) rows, the latest change first; with `oldest`, only that many, the longest waiting first (a work
    queue's section: a district's thousands of pending pledges are not loaded to show 26)."""
    kind = approver_kind(user)
    if kind is None:
        return []
    if kind == "district":  # the kept list (migration h14w_01), read in its order
        w = PledgeWaiting
        return _with_names(select(Pledge).join(w, w.pledge_id == Pledge.id).where(w.year_id == year.id), oldest,
                           order=(w.updated_at, w.pledge_id))
    stmt = select(Pledge).where(Pledge.year_id == year.id, Pledge.status == PledgeStatus.PENDING,
                                *_awaiting_conditions(kind))
    return _with_names(stmt.params(own_branch=user.branch_id, me=user.id), oldest)


def oldest_awaiting(user, year: CampaignYear, limit: int) -> list[tuple]:
    """The rows of `awaiting(user, year, oldest=limit)` as plain columns, for a work queue: (pledge id, text,
    updated_at, branch name, member name), the longest waiting first. One statement built once per kind of approver
    and `limit` (no ORM pledge made per row)."""
    kind = approver_kind(user)
    if kind is None:
        return []
    return db.session.execute(_oldest_awaiting_statement(kind, limit),
                              {"year_id": year.id, "own_branch": user.branch_id, "me": user.id}).all()


@cache
def _oldest_awaiting_statement(kind: str, limit: int):
    ids = oldest_awaiting_ids(kind, limit)
    return (select(Pledge.id, Pledge.text, Pledge.updated_at, Branch.name, User.display_name)
            .join(ids, ids.c.id == Pledge.id).join(Branch, Branch.id == Pledge.branch_id)
            .outerjoin(User, User.id == Pledge.member_id).order_by(Pledge.updated_at, Pledge.id))


@cache
def oldest_awaiting_ids(kind: str, limit: int):
    """A subquery (id) of the `limit` pledges waiting longest for an approver of `kind` (`approver_kind`): "district"
    read off the kept list pledge_waiting in its order (migration h14w_01), "branch" off ix_pledge_branch_year; the
    values year_id and, for "branch", own_branch and me bound by name. Built once (the home pages' work queues)."""
    year_id = bindparam("year_id", type_=Integer)
    if kind == "district":
        w = PledgeWaiting
        return (select(w.pledge_id.label("id")).where(w.year_id == year_id)
                .order_by(w.updated_at, w.pledge_id).limit(limit).subquery())
    return (select(Pledge.id).where(Pledge.year_id == year_id, Pledge.status == PledgeStatus.PENDING,
                                    *_awaiting_conditions(kind))
            .order_by(Pledge.updated_at, Pledge.id).limit(limit).subquery())


def approver_kind(user) -> str | None:
    """Whose pledges `user` approves: "district" (the organisation section), "branch" (a secretary), or None."""
    if user.role == Role.ADMIN:
        return "district"
    if user.role == Role.SECRETARY and user.branch_id:
        return "branch"
    return None


def published(year: CampaignYear, branch_id: int | None = None) -> list[tuple]:
    """Approved pledges (published on the branch page), a branch's or the whole district's."""
    stmt = select(Pledge).where(Pledge.year_id == year.id, Pledge.status == PledgeStatus.APPROVED)
    if branch_id is not None:
        stmt = stmt.where(Pledge.branch_id == branch_id)
    return _with_names(stmt)


@dataclass
class PledgeList(paging.Paged):
    """One page of a list of pledges: (pledge, branch name, member name) rows, the latest change first, and where
    the page sits among all that match (`total`)."""

    rows: list[tuple[Pledge, str, str | None]]
    window: paging.Window


@cache
def _list_statements(kind: str, by_branch: bool, by_name: bool):
    """(count, page) statements of a list of pledges, built once per shape: `kind` "published" (approved),
    "district" or "branch" (waiting for approval, `_awaiting_conditions`); `by_branch`, `by_name`: the
    BranchFilter's conditions. Parameters: `year_id`, the kind's and the filter's, `limit`, `offset`."""
    if kind == "district" and not (by_branch or by_name):
        return _district_statements()
    status = PledgeStatus.APPROVED if kind == "published" else PledgeStatus.PENDING
    conditions = [Pledge.year_id == bindparam("year_id", type_=Integer), Pledge.status == status,
                  *([] if kind == "published" else _awaiting_conditions(kind)),
                  *branch_choice.BranchFilter.conditions(Pledge.branch_id, by_branch, by_name)]
    count = select(func.count()).select_from(select(Pledge.id).where(*conditions).subquery())
    page = (_named(select(Pledge).where(*conditions)).order_by(Pledge.updated_at.desc(), Pledge.id.desc())
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))
    return count, page


def _district_statements():
    """(count, page) of the pledges waiting for the organisation section, unfiltered: from the kept list
    `pledge_waiting` (migration h14w_01), counted in its index's range for the year and paged in its order, not every
    pending pledge of the year checked against the district's secretaries. (A branch filter reads the pledge's own
    indexes: `_list_statements`.)"""
    w = PledgeWaiting
    year_id = w.year_id == bindparam("year_id", type_=Integer)
    page = (_named(select(Pledge).join(w, w.pledge_id == Pledge.id).where(year_id))
            .order_by(w.updated_at.desc(), w.pledge_id.desc())
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))
    return select(func.count()).select_from(w).where(year_id), page


def _page_of(kind: str, values: dict, filters: branch_choice.BranchFilter, page: int,
             per_page: int) -> PledgeList:
    count, rows = _list_statements(kind, *filters.shape)
    values = {**values, **filters.values()}
    shown = paging.window(db.session.scalar(count, values) or 0, page, per_page)
    return PledgeList(list(db.session.execute(rows, {**values, "limit": per_page, "offset": shown.offset})), shown)


def awaiting_page(user, year: CampaignYear, filters: branch_choice.BranchFilter, page: int = 1,
                  per_page: int = PER_PAGE) -> PledgeList:
    """The page `page` (clamped: paging.window) of the pledges waiting for `user`'s approval (`awaiting`), the
    latest change first; the organisation section's narrowed by `filters` (a secretary's are of one branch).
    Two queries whatever the district's size; none for a person who approves no pledges."""
    kind = approver_kind(user)
    if kind is None:
        return PledgeList([], paging.window(0, 1, per_page))
    if kind == "branch":
        filters = branch_choice.BranchFilter()
    return _page_of(kind, {"year_id": year.id, "own_branch": user.branch_id, "me": user.id}, filters, page,
                    per_page)


def published_page(year: CampaignYear, filters: branch_choice.BranchFilter, page: int = 1,
                   per_page: int = PER_PAGE) -> PledgeList:
    """The page `page` (clamped: paging.window) of the year's approved pledges that `filters` leave (a branch's
    own list: `BranchFilter(branch_id)`), the latest change first. Two queries whatever the district's size."""
    return _page_of("published", {"year_id": year.id}, filters, page, per_page)


def member_of(pledge: Pledge) -> User | None:
    return db.session.get(User, pledge.member_id) if pledge.member_id else None
