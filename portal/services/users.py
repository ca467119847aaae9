"""Administration of accounts, units and branches by the organisation section (组织科)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import aliased, joinedload

from .. import labels
from ..collation import branch_order, people_order
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..i18n import listed
from ..input_guard import parse_int
from ..models import (
    Assessment,
    Ballot,
    Branch,
    BranchKind,
    FollowUp,
    GradeRecord,
    ItemResult,
    Nomination,
    Pledge,
    Project,
    Review,
    Role,
    Submission,
    Unit,
    UnitKind,
    User,
)
from ..text import half_width_alnum, search_query
from . import accounts, audit, paging
from .campaign import current_year
from .versions import check_version

PAGE_SIZE = 50


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def get_branch(branch_id: int) -> Branch:
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound()
    return branch


def list_users(query: str = "", role: str = "", branch_id: str = "", page: int = 1) -> tuple[list[User], paging.Window]:
    """One page (PAGE_SIZE) of accounts in pinyin order and where it sits (paging.window: a page past the end is
    the last one). `query` matches username or display name (text.search_query: cleaned, `%`/`_` literal)."""
    stmt = select(User)
    if query := search_query(query):  # full-width finds half-width names (usernames are stored NFKC)
        stmt = stmt.where(or_(User.username.icontains(query, autoescape=True),
                              User.display_name.icontains(query, autoescape=True)))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    if parse_int(branch_id) is not None:
        stmt = stmt.where(User.branch_id == parse_int(branch_id))
    shown = paging.window_of(stmt, page, PAGE_SIZE)
    users = list(db.session.scalars(stmt.order_by(*people_order()).limit(PAGE_SIZE).offset(shown.offset)))
    return users, shown


def _role(value: str, errors: dict) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        errors["role"] = _l("Choose a role from the list.")
        return None


def _branch(value: str, errors: dict) -> Branch | None:
    if not value:
        return None
    number = parse_int(value, low=1)
    branch = db.session.get(Branch, number) if number is not None else None
    if branch is None:
        errors["branch"] = _l("Choose a branch from the list.")
    return branch


def create(actor, *, username: str, display_name: str, password: str, role: str, branch_id: str,
           post_title: str, email: str = "") -> User:
    errors: dict = {}
    role_value = _role(role, errors)
    branch = _branch(branch_id, errors)
    email = accounts.normalise_email(email)
    if message := accounts.email_error(email):
        errors["email"] = message
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    display_name, post_title = (display_name or "").strip(), (post_title or "").strip()
    if len(display_name) > 64 or len(post_title) > 64:
        message = _l("Names and posts may have at most 64 characters.")
        raise Invalid(str(message), {"display_name": message})
    return accounts.create_user(actor, username=username, display_name=display_name, password=password,
                                role=role_value, branch=branch, post_title=post_title,
                                must_change_password=True, email=email)


def update(actor, user: User, *, display_name: str, role: str, branch_id: str, post_title: str,
           version: int | None = None, email: str | None = None) -> None:
    """Save an account's name, role, branch, post and e-mail address (None: left as it is), edited on top of
    `version` (stale: Conflict)."""
    errors: dict = {}
    email = user.email if email is None else accounts.normalise_email(email)
    if message := accounts.email_error(email):
        errors["email"] = message
    role_value = _role(role, errors)
    branch = _branch(branch_id, errors)
    display_name, post_title = (display_name or "").strip(), (post_title or "").strip()
    if not display_name or len(display_name) > 64:
        errors["display_name"] = _l("Enter a name of at most 64 characters.")
    if len(post_title) > 64:
        errors["post_title"] = _l("The post may have at most 64 characters.")
    if role_value and (message := accounts.branch_error(role_value, branch)):
        errors["branch"] = message
    elif user.active and (message := accounts.secretary_error(role_value, branch.id if branch else None, user.id)):
        errors["role"] = message
    if not errors and user.id == actor.id and role_value != Role.ADMIN:
        errors["role"] = _l("You cannot take away your own administration rights.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    check_version(user, version, shown=("display_name", "post_title"))
    before = {"display_name": user.display_name, "role": user.role.value, "branch_id": user.branch_id,
              "post_title": user.post_title, "email": user.email}
    changes_access = user.role != role_value or user.branch_id != (branch.id if branch else None)
    user.display_name, user.role, user.post_title, user.email = display_name, role_value, post_title, email
    moved = user.branch_id != (branch.id if branch else None)
    user.branch_id = branch.id if branch else None
    if changes_access:  # open sessions must not keep the old role's reach
        user.session_version += 1
    if moved and branch is not None and (year := current_year()) is not None:
        # This year's 五带头 self-assessment and pledges move with the member (earlier years stay where they were done),
        # so the new branch's figures count it; access follows the member's branch either way.
        for model in (Assessment, Pledge):
            db.session.execute(sql_update(model).where(model.member_id == user.id, model.year_id == year.id)
                               .values(branch_id=branch.id))
    audit.record(actor, "user.update", user, before=before,
                 after={"display_name": display_name, "role": role_value.value, "branch_id": user.branch_id,
                        "post_title": post_title, "email": email})
    db.session.commit()


def set_active(actor, user: User, active: bool) -> None:
    """Disabling ends every open session at once: the session version no longer matches."""
    if user.id == actor.id:
        raise Conflict(str(_l("You cannot disable your own account.")))
    if user.active == active:
        raise Conflict(str(_l("The account is already in this state.")))
    if active and (message := accounts.secretary_error(user.role, user.branch_id, user.id)):
        raise Conflict(str(message))
    user.active = active
    user.session_version += 1
    audit.record(actor, "user.enable" if active else "user.disable", user, before={"active": not active},
                 after={"active": active})
    db.session.commit()


def reset_password(actor, user: User, password: str, confirm: str) -> None:
    errors: dict = {}
    if message := accounts.password_error(password, user.username):
        errors["password"] = message
    elif password != confirm:
        errors["confirm"] = _l("The two passwords do not match.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    user.set_password(password)
    user.must_change_password = True  # the organisation section knows it: the owner replaces it
    user.session_version += 1
    audit.record(actor, "user.reset_password", user)  # never the password itself
    db.session.commit()


# --- units and branches ---------------------------------------------------------------------------

@dataclass
class BranchRow:
    """A line of the branch registry."""

    branch: Branch
    accounts: int  # active accounts of the branch
    members: int  # of which members and secretaries
    secretary: str  # the active secretary's name ("" when there is none)
    secretary_username: str
    deletable: bool = False  # nobody belongs to it and it holds no campaign record (`undeletable`)


def branch_overview(query: str = "", page: int = 1,
                    only: int | None = None) -> tuple[list[BranchRow], paging.Window]:
    """One page (PAGE_SIZE) of the branch registry, in pinyin order, and where it sits (paging.window: `total`
    matches; a page past the end is the last one): each branch with its unit, active accounts, members and
    secretary. `query` matches the branch's or its unit's name (text.search_query: cleaned of invisible
    characters, full-width folded, `%` and `_` literal); `only` shows one branch (the one whose edit was refused).
    Four queries whatever the district's
    size: the count, the page, the figures of the page's branches (GROUP BY over their people only) and which of
    them may be deleted (`undeletable`)."""
    stmt = select(Branch).join(Unit, Unit.id == Branch.unit_id)
    if only is not None:
        stmt = stmt.where(Branch.id == only)
    elif query := search_query(query):
        stmt = stmt.where(or_(Branch.name.icontains(query, autoescape=True),
                              Unit.name.icontains(query, autoescape=True)))
    shown = paging.window_of(stmt, page, PAGE_SIZE)
    found = list(db.session.scalars(stmt.options(joinedload(Branch.unit)).order_by(*branch_order())
                                    .limit(PAGE_SIZE).offset(shown.offset)))
    ids = [branch.id for branch in found]
    secretary = aliased(User)
    per_branch = (select(User.branch_id, func.count(User.id).label("n"),
                         func.count(User.id).filter(User.role.in_([Role.MEMBER, Role.SECRETARY])).label("members"),
                         func.min(User.id).filter(User.role == Role.SECRETARY).label("secretary_id"))
                  .where(User.active.is_(True), User.branch_id.in_(ids)).group_by(User.branch_id).subquery())
    figures = {bid: (int(n), int(members), name or "", username or "") for bid, n, members, name, username in
               db.session.execute(select(per_branch.c.branch_id, per_branch.c.n, per_branch.c.members,
                                         secretary.display_name, secretary.username)
                                  .outerjoin(secretary, secretary.id == per_branch.c.secretary_id))} if ids else {}
    kept = undeletable(ids)
    return [BranchRow(branch, *figures.get(branch.id, (0, 0, "", "")), deletable=branch.id not in kept)
            for branch in found], shown


def _branch_fields(*, unit_name, unit_kind, branch_name, branch_kind, member_count, exclude_branch=None):
    errors: dict = {}
    unit_name, branch_name = (half_width_alnum((name or "").strip()) for name in (unit_name, branch_name))
    if not unit_name or len(unit_name) > 120:
        errors["unit_name"] = _l("Enter the school's name (at most 120 characters).")
    if not branch_name or len(branch_name) > 120:
        errors["branch_name"] = _l("Enter the branch's name (at most 120 characters).")
    try:
        unit_kind_value = UnitKind(unit_kind)
    except ValueError:
        errors["unit_kind"] = _l("Choose a kind from the list.")
        unit_kind_value = None
    try:
        branch_kind_value = BranchKind(branch_kind)
    except ValueError:
        errors["branch_kind"] = _l("Choose a kind from the list.")
        branch_kind_value = None
    try:
        count = int(member_count or 0)
        if not 0 <= count <= 10000:
            raise ValueError
    except ValueError:
        errors["member_count"] = _l("Enter a whole number from 0 to 10000.")
        count = 0
    branch_clash = select(Branch.id).where(Branch.name == branch_name)
    if exclude_branch is not None:
        branch_clash = branch_clash.where(Branch.id != exclude_branch.id)
    # A school may hold several branches: a unit already registered under this name is the branch's unit,
    # of the kind it was registered with (its own unit, edited, may change kind).
    same_unit = db.session.execute(select(Unit.id, Unit.kind).where(Unit.name == unit_name)).first()
    if (same_unit is not None and unit_kind_value is not None and same_unit.kind != unit_kind_value
            and (exclude_branch is None or same_unit.id != exclude_branch.unit_id)):
        errors["unit_kind"] = _l("“%(unit)s” is registered as a %(kind)s: a school's branches share its kind.",
                                 unit=unit_name, kind=labels.UNIT_KIND[same_unit.kind])
    if "branch_name" not in errors and db.session.scalar(branch_clash):
        errors["branch_name"] = _l("Another branch already has this name.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    return unit_name, unit_kind_value, branch_name, branch_kind_value, count


def branch_errors(exclude_branch: Branch | None = None, **fields) -> dict:
    """The branch form's problems as the service sees them (names taken, kinds, bounds), writing nothing."""
    try:
        _branch_fields(exclude_branch=exclude_branch, **fields)
    except Invalid as error:
        return error.field_errors
    return {}


def unit_named(name: str, kind: UnitKind) -> Unit:
    """The unit (school or office) registered under `name`, or a new one of `kind` (flushed): a school may hold
    several branches. The caller has checked that an existing unit is of `kind` (`_branch_fields`)."""
    unit = db.session.scalar(select(Unit).where(Unit.name == name))
    if unit is None:
        unit = Unit(name=name, kind=kind)
        db.session.add(unit)
        db.session.flush()
    return unit


def _forget_if_empty(unit_id: int) -> None:
    """Delete a unit no branch belongs to any more (after its last branch moved or was deleted)."""
    if not db.session.scalar(select(func.count(Branch.id)).where(Branch.unit_id == unit_id)):
        db.session.execute(delete(Unit).where(Unit.id == unit_id))


def create_branch(actor, **fields) -> Branch:
    """A new branch of the unit named in `fields` (registered now if it is new). Raises Invalid."""
    unit_name, unit_kind, branch_name, branch_kind, count = _branch_fields(**fields)
    unit = unit_named(unit_name, unit_kind)
    branch = Branch(unit_id=unit.id, name=branch_name, kind=branch_kind, member_count=count)
    db.session.add(branch)
    db.session.flush()
    audit.record(actor, "branch.create", branch, after={"unit": unit_name, "unit_kind": unit_kind.value,
                                                       "branch": branch_name, "kind": branch_kind.value,
                                                       "member_count": count}, branch_id=branch.id)
    db.session.commit()
    return branch


def update_branch(actor, branch: Branch, version: int | None = None, **fields) -> None:
    """Edit a branch and its unit, made on top of `version` (a stale save is a Conflict showing what was saved)."""
    unit_name, unit_kind, branch_name, branch_kind, count = _branch_fields(exclude_branch=branch, **fields)
    unit = branch.unit
    check_version(branch, version, shown=("name", "member_count"))
    before = {"unit": unit.name, "unit_kind": unit.kind.value, "branch": branch.name, "kind": branch.kind.value,
              "member_count": branch.member_count}
    other = db.session.scalar(select(Unit).where(Unit.name == unit_name, Unit.id != unit.id))
    if other is not None:  # moved to another school already registered: its own unit goes if left empty
        branch.unit_id = other.id
        db.session.flush()
        _forget_if_empty(unit.id)
        db.session.expire(branch, ["unit"])
    else:  # the unit renamed or re-kinded: for every branch of the school
        unit.name, unit.kind = unit_name, unit_kind
    branch.name, branch.kind, branch.member_count = branch_name, branch_kind, count
    audit.record(actor, "branch.update", branch, before=before,
                 after={"unit": unit_name, "unit_kind": unit_kind.value, "branch": branch_name,
                        "kind": branch_kind.value, "member_count": count}, branch_id=branch.id)
    db.session.commit()


def set_branch_active(actor, branch: Branch, active: bool) -> None:
    if branch.active == active:
        raise Conflict(str(_l("The branch is already in this state.")))
    branch.active = active
    audit.record(actor, "branch.enable" if active else "branch.disable", branch, before={"active": not active},
                 after={"active": active}, branch_id=branch.id)
    db.session.commit()


def _record_sources() -> tuple[tuple[object, object, object], ...]:
    """(label, branch column, SELECT of that column) for every kind of campaign record that deleting a branch
    would take with it (their foreign keys cascade): checklist answers, reviews, 报送 submissions, pledges, grade
    records, appraisal ballots, commendation nominations, projects and inspection follow-ups. Posts are not among
    them: they outlive their branch (SET NULL)."""
    answered = select(Assessment.branch_id).join(ItemResult, ItemResult.assessment_id == Assessment.id)
    return tuple((label, column, stmt if stmt is not None else select(column)) for label, column, stmt in (
        (_l("checklist answers"), Assessment.branch_id, answered),
        (_l("reviews"), Review.branch_id, None),
        (_l("submissions"), Submission.branch_id, None),
        (_l("pledges"), Pledge.branch_id, None),
        (_l("grade records"), GradeRecord.branch_id, None),
        (_l("appraisal ballots"), Ballot.branch_id, None),
        (_l("commendation nominations"), Nomination.branch_id, None),
        (_l("projects"), Project.branch_id, None),
        (_l("inspection follow-ups"), FollowUp.branch_id, None),
    ))


def records_held(branch_id: int) -> list[str]:
    """The kinds of campaign record (translated labels, in `_record_sources`' order) that branch `branch_id` holds:
    one statement of EXISTS tests, each stopping at its first row. Empty when the branch holds none."""
    sources = _record_sources()
    found = db.session.execute(select(*(stmt.where(column == branch_id).exists() for _label, column, stmt in sources))
                               ).one()
    return [str(label) for (label, _c, _s), held in zip(sources, found, strict=True) if held]


def undeletable(branch_ids: list[int]) -> set[int]:
    """Of the branches `branch_ids` (a page of the registry, at most PAGE_SIZE), those `delete_branch` would refuse:
    someone belongs to them (an inactive account too) or they hold a campaign record (`_record_sources`). One
    statement of correlated EXISTS tests, each stopping at its first row (a branch with people, nearly all of them,
    costs one index probe), so the registry offers 删除 only where it works."""
    if not branch_ids:
        return set()
    held = [stmt.where(column == Branch.id).exists() for _label, column, stmt in _record_sources()]
    people = select(User.id).where(User.branch_id == Branch.id).exists()
    return set(db.session.scalars(select(Branch.id).where(Branch.id.in_(branch_ids), or_(people, *held))))


def delete_branch(actor, branch: Branch) -> None:
    """Delete a branch (with its unit when it was the unit's last). Only a branch nobody belongs to and that holds
    no campaign records (`records_held`) may be deleted: its records would go with it by cascade, a member's
    self-assessment made there included, even after they moved. Otherwise raises Conflict, whose message says to
    deactivate the branch instead."""
    if db.session.scalar(select(func.count(User.id)).where(User.branch_id == branch.id)):
        raise Conflict(str(_l("People belong to this branch: deactivate it instead of deleting it.")))
    held = records_held(branch.id)
    if held:
        raise Conflict(str(_l("This branch holds campaign records (%(kinds)s): deactivate it instead of deleting "
                              "it, so that they are kept.", kinds=listed(held))))
    unit = branch.unit
    audit.record(actor, "branch.delete", branch, before={"branch": branch.name, "unit": unit.name},
                 branch_id=None)
    db.session.delete(branch)
    db.session.flush()
    _forget_if_empty(unit.id)  # with its unit, unless the school holds other branches
    db.session.commit()
