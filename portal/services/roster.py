"""Importing the staff roster (花名册, CSV or XLSX): parse, check every row, preview every change, then import all
or nothing in the background.

Accepted headers (Chinese or English): 用户名/username, 姓名/display_name, 角色/role, 支部/branch,
职务/post_title, 邮箱/email (optional). A role is its Chinese label or its code; a branch its exact name.

A row whose username is new makes an account; a row whose username exists updates that account's name, role,
branch (and post and e-mail when the file has those columns). Active members and secretaries the file does not
name are listed as leaving, and disabled only when the admin ticks that. A branch has one active secretary: a
file that would give a branch two is refused, naming the rows.

Nobody's password is taken from the file, generated or hashed per row (GOTCHAS: ~76 ms each): a 初始密码 column
is ignored, and new accounts get one-time activation codes (services/activation.py), printed on slips, with which
each person sets their own password.

The import runs on the task queue (portal/tasks.py, `import_roster`) in short transactions so that SQLite's
write lock is never held for more than a moment while others save: the new accounts are written disabled in
batches of BATCH rows, then one short transaction switches them on, applies the updates and the leavers, checks
the one-secretary rule again and writes the audit events. Any failure removes the batches written: all or
nothing. The preview's fingerprint is checked first, so the changes made are exactly the changes shown.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from werkzeug.datastructures import FileStorage

from .. import labels
from ..collation import in_pinyin_order, people_order
from ..database import writing
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..i18n import listed
from ..models import (
    Assessment,
    AuditEvent,
    Branch,
    ImportStatus,
    Pledge,
    Role,
    RosterImport,
    User,
    utcnow,
)
from ..text import USERNAME_MAX, canonical_username, check_text, folded, username_error, username_skeleton
from . import accounts, activation, audit, export, figures, uploads

UPLOAD_KIND = "roster"
MAX_ROWS = 5000
BATCH = 250
# Disabling more people than this at once asks the admin to type how many (a one-school file with the tick
# would disable the rest of the district): the number, not a second tick, so that it is read.
MASS_DISABLE = 20
COLUMNS = {
    "username": ("username", "用户名", "账号"),
    "display_name": ("display_name", "name", "姓名", "名字"),
    "role": ("role", "角色"),
    # 党组织 is the portal's own heading for a person's branch (user list, preview); 支部名称 the branch file's.
    "branch": ("branch", "支部", "所在支部", "党组织", "所在党组织", "支部名称", "党支部"),
    "post_title": ("post_title", "post", "职务"),
    "email": ("email", "e-mail", "邮箱", "电子邮箱"),
}
IGNORED = ("password", "初始密码", "密码")
FIELDS = ("username", "display_name", "role", "branch", "post_title", "email")
# The longest text each column may hold: the account form's fields' bounds (forms/admin.py) and the columns'.
# A username's bound is its own rule's (text.USERNAME_MAX), and a longer one is refused with that rule's message
# (text.username_error: "2 to 40 letters…"), never a bound of its own that contradicts the rule.
CELL_MAX = {"username": USERNAME_MAX, "display_name": 64, "role": 40, "branch": 120, "post_title": 64, "email": 254}
REQUIRED = ("username", "display_name", "role")
# The template's headers, in Chinese as the district writes them, and its one example row.
TEMPLATE_HEADER = ("用户名", "姓名", "角色", "支部", "职务", "邮箱")
TEMPLATE_EXAMPLE = ("zhangsan", "张三", "党员", "", "语文教师", "zhangsan@example.org")
TOKEN = re.compile(r"^[0-9a-f]{32}\.csv$")
# The people a roster speaks for: accounts of these roles that the file does not name are "leaving".
BRANCH_ROLES = (Role.MEMBER, Role.SECRETARY)


@dataclass
class RosterRow:
    line: int
    username: str
    display_name: str
    role: str
    branch: str
    post_title: str
    email: str = ""
    errors: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)  # columns already refused as text: one message per problem
    # Set by the check: the role and branch id the row means, and the existing account it updates (if any).
    role_value: Role | None = None
    branch_id: int | None = None
    user_id: int | None = None


@dataclass
class Change:
    """One account the import changes: "create", "update" (fields: {name: (before, after)}), "enable" or
    "disable" (a leaver, only when ticked)."""

    kind: str
    username: str
    display_name: str
    line: int | None = None
    user_id: int | None = None
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)
    branch: str = ""  # a leaver's branch, shown beside them (not part of the fingerprint: the user id is)


@dataclass
class Plan:
    rows: list[RosterRow]
    columns: set[str]
    creates: list[Change] = field(default_factory=list)
    updates: list[Change] = field(default_factory=list)
    leavers: list[Change] = field(default_factory=list)
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)  # file-wide problems (two secretaries for one branch)
    # Secretaries the file leaves out while naming a new one for their branch: the import needs the leavers tick.
    needs_tick: list[str] = field(default_factory=list)
    # Whom the leavers are (see _leavers): the people of the file's branches ("branches", with how many branches
    # the file names), or everyone, when the file names every active branch ("district").
    leaver_scope: str = "branches"
    file_branches: int = 0

    @property
    def bad_rows(self) -> list[RosterRow]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.bad_rows and not self.problems

    def fingerprint(self) -> str:
        """A digest of every change the preview showed (the leavers too, whether or not they are disabled)."""
        described = [(c.kind, c.username, c.display_name, sorted(c.fields.items())) for c in
                     self.creates + self.updates + self.leavers]
        return hashlib.sha256(json.dumps(described, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass
class Preview:
    token: str
    filename: str
    plan: Plan
    passwords_ignored: bool = False

    @property
    def rows(self) -> list[RosterRow]:
        return self.plan.rows

    @property
    def bad_rows(self) -> list[RosterRow]:
        return self.plan.bad_rows

    @property
    def ok(self) -> bool:
        return self.plan.ok


def _malformed(message) -> Invalid:
    return Invalid(str(message), {"file": message})


def _too_many(limit: int = MAX_ROWS) -> Invalid:
    return _malformed(_l("A file may have at most %(n)s rows.", n=limit))


def _bounded(rows, limit: int = MAX_ROWS) -> list[list[str]]:
    """The non-empty rows of `rows` (an iterator that reads the file as it goes), refused as soon as there are
    more than `limit` below the header: a huge file is never read whole. Runs of empty rows count too, with a
    looser bound, so that a sheet of a million blank rows is not walked to its end."""
    table = []
    for seen, row in enumerate(rows, start=1):
        if seen > 3 * limit + 1000:
            raise _too_many(limit)
        if any(row):
            table.append(row)
            if len(table) > limit + 1:
                raise _too_many(limit)
    return table


def _read_table(data: bytes, ext: str, limit: int = MAX_ROWS) -> list[list[str]]:
    """The rows of a CSV (UTF-8 or GBK) or of an XLSX's first sheet, as stripped strings, at most `limit` rows
    below the header (Invalid otherwise, and for a file that cannot be read, with what to do about it)."""
    if ext == "xlsx":
        from openpyxl import load_workbook

        # A read-only workbook parses its sheet while the rows are read: a broken sheet (bad XML, a character
        # reference XML forbids, an unreadable date) fails there, so the reading is inside the same guard; the
        # row limit is checked row by row as the sheet is read.
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                return _bounded((["" if v is None else str(v).strip() for v in row]
                                 for row in sheet.iter_rows(values_only=True)), limit)
            finally:
                workbook.close()
        except Invalid:
            raise
        except Exception as error:  # openpyxl raises many kinds for a broken workbook
            raise _malformed(_l("The file could not be read as an Excel workbook.")) from error
    if data[:4] == b"PK\x03\x04":  # a workbook (or another zip) named .csv
        raise _malformed(_l("This file is an Excel workbook, not a CSV file: upload it with its .xlsx name, or save "
                            "it from Excel as CSV."))
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK by default
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _malformed(_l("The file is not readable text (use UTF-8 or GBK)."))
    if "\x00" in text:
        raise _malformed(_l("The file is not a CSV file."))
    try:
        # A CSV made from the template carries `'` before formula-like text (services/export.py): taken off.
        return _bounded(([export.unneutralise(cell.strip()) for cell in row] for row in csv.reader(io.StringIO(text))),
                        limit)
    except csv.Error as error:
        raise _malformed(_l("The CSV file is malformed.")) from error


def header_map(header: list[str], columns: dict[str, tuple], required) -> dict[str, int]:
    """Column name → index in a file's first row, matching each column's aliases (case-insensitive); a missing
    required column is refused (Invalid), named by its Chinese heading (its first alias that is not ASCII), as
    the template writes it. Shared by the roster and the branch import."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lower()
        for column, aliases in columns.items():
            if key in aliases and column not in found:
                found[column] = index
    missing = [c for c in required if c not in found]
    if missing:
        raise _malformed(_l("The first row must name the columns; missing: %(columns)s.",
                            columns=listed(_heading(columns[c]) for c in missing)))
    return found


def _heading(aliases: tuple[str, ...]) -> str:
    """A column's heading as the district writes it: its first Chinese alias (else its first)."""
    return next((alias for alias in aliases if not alias.isascii()), aliases[0])


def _role_lookup() -> dict[str, Role]:
    lookup = {role.value: role for role in Role}
    for locale in ("zh", "en"):
        with force_locale(locale):
            lookup.update({folded(str(label)): role for role, label in labels.ROLE.items()})
    return lookup


def parse(data: bytes, ext: str, actor=None) -> Plan:
    """The file's rows, every problem found, and every change it would make, without writing anything."""
    return _plan(_read_table(data, ext), actor)


def _plan(table: list[list[str]], actor=None) -> Plan:
    table = [row for row in table if any(cell for cell in row)]
    if not table:
        raise _malformed(_l("The file is empty."))
    columns = header_map(table[0], COLUMNS, REQUIRED)
    if len(table) - 1 > MAX_ROWS:
        raise _too_many()
    if len(table) == 1:
        raise _malformed(_l("The file has a header but no rows."))
    rows = []
    labels = _column_labels()
    for line, cells in enumerate(table[1:], start=2):
        values, errors, bad = {}, [], set()
        for column, index in columns.items():
            # Every cell is cleaned and bounded as the same field of the account form would be (text.check_text:
            # control and bidi/format characters refused, invisible-only text empty, lengths bounded).
            text, message = check_text(cells[index] if index < len(cells) else "", max_length=CELL_MAX[column])
            if message is not None and column == "username" and len(text) > CELL_MAX[column]:
                message = username_error(canonical_username(text))  # the specific rule says why, and its bound
            if message is not None:
                errors.append(str(_l("%(column)s: %(message)s", column=labels[column], message=message)))
                bad.add(column)
                text = "".join(c for c in text if c.isprintable())  # shown in the preview, never imported
            values[column] = text
        values["username"] = canonical_username(values.get("username", ""))  # look-alikes are one name
        values["email"] = accounts.normalise_email(values.get("email", ""))
        rows.append(RosterRow(line, *(values.get(c, "") for c in FIELDS), errors=errors, bad=bad))
    plan = Plan(rows=rows, columns=set(columns))
    _check(plan, actor)
    if plan.ok:
        _changes(plan, actor)
    return plan


def _column_labels() -> dict[str, str]:
    """The columns as the account form names its fields, in the person's language."""
    return {"username": str(_l("Username")), "display_name": str(_l("Name")), "role": str(_l("Role")),
            "branch": str(_l("Branch")), "post_title": str(_l("Post")), "email": str(_l("E-mail"))}


def _existing(names: list[str]) -> dict[str, tuple]:
    """{canonical username: (id, username, display_name, role, branch_id, post_title, email, active)} for the
    accounts the file names (older accounts may spell their name with capitals), read in chunks."""
    found: dict[str, tuple] = {}
    for start in range(0, len(names), 900):
        chunk = names[start:start + 900]
        for row in db.session.execute(select(
                User.id, User.username, User.display_name, User.role, User.branch_id, User.post_title, User.email,
                User.active).where(or_(User.username.in_(chunk), func.lower(User.username).in_(chunk)))):
            found.setdefault(canonical_username(row.username), tuple(row))
    return found


def _is_example(row: RosterRow) -> bool:
    """The template's example row left in the file (its branch is whichever the template named)."""
    username, name, _role, _branch, post, email = TEMPLATE_EXAMPLE
    return (row.username, row.display_name, row.post_title, row.email) == (username, name, post, email)


def _check(plan: Plan, actor) -> None:
    rows = plan.rows
    roles = _role_lookup()
    # A branch is found by its name folded (text.folded): `第３` typed full-width is the registered `第3`.
    branches = {folded(name): (bid, active) for bid, name, active in db.session.execute(
        select(Branch.id, Branch.name, Branch.active))}
    existing = _existing([row.username for row in rows if row.username])
    # A name that is no account's but differs from one only by dots, hyphens or underscores (`sec.01` beside
    # `sec01`) would make a look-alike account: refused as taken.
    lookalikes = accounts.usernames_taken([row.username for row in rows
                                           if row.username and row.username not in existing])
    seen: dict[str, int] = {}
    for row in rows:
        row.role_value = role = roles.get(folded(row.role))
        if role is None:
            row.errors.append(str(_l("Unknown role “%(value)s”.", value=row.role[:40])))
        branch = None
        if row.branch:
            found = branches.get(folded(row.branch))
            if found is None:
                row.errors.append(str(_l("Unknown branch “%(value)s”.", value=row.branch[:60])))
            elif not found[1]:
                row.errors.append(str(_l("The branch “%(value)s” is deactivated.", value=row.branch[:60])))
            else:
                row.branch_id = found[0]
                branch = Branch(id=found[0])  # a stand-in: the shared rules only ask whether there is one
        if "display_name" not in row.bad and (not row.display_name or len(row.display_name) > 64):
            row.errors.append(str(_l("Enter a name of at most 64 characters.")))
        if "post_title" not in row.bad and len(row.post_title) > 64:
            row.errors.append(str(_l("The post may have at most 64 characters.")))
        if "email" not in row.bad and (message := accounts.email_error(row.email)):
            row.errors.append(message)
        if _is_example(row):
            row.errors.append(str(_l("This is the template's example row (张三): delete it, or replace it with a "
                                     "real person.")))
        skeleton = username_skeleton(row.username)  # `sec.01` in a row below `sec01` is a duplicate too
        if skeleton in seen:
            row.errors.append(str(_l("Duplicate of row %(line)s.", line=seen[skeleton])))
        elif row.username:
            seen[skeleton] = row.line
        account = existing.get(row.username)
        row.user_id = account[0] if account else None
        if account and actor is not None and account[0] == actor.id and role not in (None, Role.ADMIN):
            row.errors.append(str(_l("You cannot take away your own administration rights.")))
        field_errors = accounts.user_errors(
            username=row.username, password=None,  # nobody's password comes from the file
            role=role or Role.ADMIN, branch=branch if (branch or not row.branch) else Branch(id=0),
            username_taken=row.username in lookalikes)
        row.errors.extend(str(message) for name, message in field_errors.items() if name not in row.bad)
    if not plan.bad_rows:
        _check_secretaries(plan, existing, actor)


def _check_secretaries(plan: Plan, existing: dict[str, tuple], actor=None) -> None:
    """One active secretary per branch once the planned changes are applied: the file's secretaries (an account
    the file names has the role and branch the file gives it), and the secretaries already there whom the file
    does not name. Such a secretary is a leaver: when the file names a new secretary for her branch, the preview
    is offered and the import needs the tick that disables the leavers (plan.needs_tick says so); a branch that
    would still have two active secretaries is refused, naming the rows."""
    named = {row.user_id for row in plan.rows if row.user_id}
    by_branch: dict[int, list[RosterRow]] = {}
    for row in plan.rows:
        if row.role_value == Role.SECRETARY and row.branch_id:
            by_branch.setdefault(row.branch_id, []).append(row)
    if not by_branch:
        return
    staying = {}
    for user_id, username, name, branch_id in db.session.execute(
            select(User.id, User.username, User.display_name, User.branch_id).where(
                User.role == Role.SECRETARY, User.active.is_(True), User.branch_id.in_(list(by_branch)))):
        if user_id not in named:
            staying[branch_id] = (username, name, actor is not None and user_id == actor.id)
    names = dict(db.session.execute(select(Branch.id, Branch.name).where(Branch.id.in_(list(by_branch)))).all())
    for branch_id, secretaries in by_branch.items():
        if len(secretaries) > 1:
            lines = listed(row.line for row in secretaries)
            message = str(_l("Rows %(lines)s all make a secretary of %(branch)s: a branch has one secretary.",
                             lines=lines, branch=names.get(branch_id, "")))
            plan.problems.append(message)
            for row in secretaries:
                row.errors.append(message)
        elif branch_id in staying:
            username, name, is_actor = staying[branch_id]
            row = secretaries[0]
            if not is_actor:  # a leaver: disabled with the tick, after which the branch has one secretary
                plan.needs_tick.append(str(_l(
                    "%(name)s (%(username)s), secretary of %(branch)s, is not in the file, and row %(line)s makes "
                    "a new secretary of that branch: add %(name)s to the file with another role (党员, say); or, "
                    "if %(name)s has left, tick “disable the people of this file's branches who are not in it”.",
                    name=name, username=username,
                    branch=names.get(branch_id, ""), line=row.line)))
                continue
            message = str(_l("Row %(line)s makes a secretary of %(branch)s, which already has one: %(name)s "
                             "(%(username)s). Give that person another role in the file first.",
                             line=row.line, branch=names.get(branch_id, ""), name=name, username=username))
            plan.problems.append(message)
            row.errors.append(message)


def _changes(plan: Plan, actor) -> None:
    existing = _existing([row.username for row in plan.rows])
    branch_names = dict(db.session.execute(select(Branch.id, Branch.name)).all())
    with_email, with_post = "email" in plan.columns, "post_title" in plan.columns
    for row in plan.rows:
        account = existing.get(row.username)
        if account is None:  # what the new account will be, for the admin to check
            given = {"role": row.role_value.value, "branch": branch_names.get(row.branch_id, ""),
                     "post_title": row.post_title if with_post else "", "email": row.email if with_email else ""}
            plan.creates.append(Change("create", row.username, row.display_name, row.line,
                                       fields={k: ("", v) for k, v in given.items() if v}))
            continue
        user_id, _username, name, role, branch_id, post, email, active = account
        fields: dict[str, tuple[str, str]] = {}
        if name != row.display_name:
            fields["display_name"] = (name, row.display_name)
        if role != row.role_value:
            fields["role"] = (role.value, row.role_value.value)
        if branch_id != row.branch_id:
            fields["branch"] = (branch_names.get(branch_id, ""), branch_names.get(row.branch_id, ""))
        if with_post and post != row.post_title:
            fields["post_title"] = (post, row.post_title)
        if with_email and email != row.email:
            fields["email"] = (email, row.email)
        if not active:
            fields["active"] = ("0", "1")
        if fields:
            plan.updates.append(Change("update", row.username, row.display_name, row.line, user_id, fields))
        else:
            plan.unchanged += 1
    _leavers(plan, actor)


def _leavers(plan: Plan, actor) -> None:
    """The leavers: the active members and secretaries the file does not name, of the branches the file names.

    A district larger than one file (MAX_ROWS) is imported branch by branch, in several files: a file speaks
    for the branches it names, never for the others. Only a file that names every active branch speaks for the
    whole district: its leavers are then everyone not in it (also people without a branch, or of a deactivated
    one). The admin never disables themself."""
    named = {row.user_id for row in plan.rows if row.user_id}
    in_file = {row.branch_id for row in plan.rows if row.branch_id}
    active = set(db.session.scalars(select(Branch.id).where(Branch.active.is_(True))))
    plan.file_branches = len(in_file)
    stmt = select(User.id, User.username, User.display_name, Branch.name).outerjoin(
        Branch, Branch.id == User.branch_id).where(User.active.is_(True), User.role.in_(BRANCH_ROLES))
    if active and active <= in_file:
        plan.leaver_scope = "district"
    else:
        plan.leaver_scope = "branches"
        stmt = stmt.where(User.branch_id.in_(sorted(in_file)))
    for user_id, username, name, branch in db.session.execute(stmt.order_by(*people_order())):
        if user_id not in named and (actor is None or user_id != actor.id):
            plan.leavers.append(Change("disable", username, name, None, user_id, branch=branch or ""))


# The preview lists at most this many changes of each kind (its weight must not grow with the district); every
# list is downloadable whole as CSV (changes_csv).
PREVIEW_SHOWN = 200
CHANGE_LISTS = {"create": "creates", "update": "updates", "disable": "leavers"}


def changes_csv(plan: Plan, kind: str) -> bytes:
    """The whole list of one kind of change of a plan (`kind`: a key of CHANGE_LISTS), as a CSV file that Excel
    opens as Chinese: row, username, name, branch and what changes, in the person's language."""
    columns = _column_labels()
    columns["active"] = str(_l("Status"))
    out = io.StringIO()
    writer = export.csv_writer(out)
    writer.writerow([str(_l("Row")), columns["username"], columns["display_name"], columns["branch"],
                     str(_l("Change"))])
    for change in getattr(plan, CHANGE_LISTS[kind]):
        if change.kind == "disable":
            branch, what = change.branch, str(_l("Not in the file"))
        else:
            branch = change.fields.get("branch", ("", ""))[1]
            what = "; ".join(f"{columns.get(name, name)}: {_shown(name, before)} → {_shown(name, after)}"
                             for name, (before, after) in change.fields.items()) if change.kind == "update" else \
                str(_l("New account"))
        writer.writerow([change.line or "", change.username, change.display_name, branch, what])
    return out.getvalue().encode("utf-8-sig")


def _shown(name: str, value: str) -> str:
    """A change's value as the preview shows it: a role by its label, the status in words, nothing as —."""
    if name == "role" and value:
        return str(labels.ROLE[Role(value)])
    if name == "active":
        return str(_l("Enabled") if value == "1" else _l("Disabled"))
    return value or "—"


def preview(file: FileStorage | None, actor=None) -> Preview:
    """Check the uploaded file and keep its checked rows server-side under a random token until it is confirmed."""
    if file is None or not file.filename:
        raise _malformed(_l("Choose a file to upload."))
    ext = file.filename.rsplit(".", 1)[-1].lower() if "." in file.filename else ""
    if ext not in ("csv", "xlsx"):
        raise _malformed(_l("Upload the roster as a CSV or XLSX file."))
    if ext == "xlsx":
        uploads.check(file, {m: e for m, e in uploads.DOCUMENT_TYPES.items() if e == "xlsx"})
    table = _read_table(file.stream.read(), ext)
    plan = _plan(table, actor)
    header = next((row for row in table if any(row)), [])
    # Kept until the import: the checked rows only (the columns the file has), never the file, which may hold
    # passwords.
    kept = io.StringIO()
    writer = csv.writer(kept)  # internal: read back by the import, never opened in a spreadsheet
    present = [name for name in FIELDS if name in plan.columns]
    writer.writerow(present)
    writer.writerows([getattr(row, name) for name in present] for row in plan.rows)
    token = f"{secrets.token_hex(16)}.csv"
    if plan.ok:
        uploads.write_bytes(UPLOAD_KIND, token, kept.getvalue().encode("utf-8"))
    return Preview(token=token, filename=file.filename[:120], plan=plan,
                   passwords_ignored=any(cell.strip().lower() in IGNORED for cell in header))


def load(token: str) -> tuple[bytes, str]:
    if not TOKEN.match(token or ""):
        raise NotFound()
    path = uploads.upload_dir(UPLOAD_KIND) / token
    if not path.exists():
        raise NotFound(str(_l("This preview has expired. Upload the file again.")))
    return path.read_bytes(), token.rsplit(".", 1)[-1]


def reread(token: str, actor=None) -> Plan:
    """The plan of a kept preview, checked again against the database as it is now."""
    data, ext = load(token)
    return parse(data, ext, actor)


def start(actor, token: str, fingerprint: str, disable_leavers: bool, filename: str = "",
          leavers_confirmed: str = "") -> RosterImport:
    """Queue the import of a previewed file; the task (`run`) does the work. One import at a time.

    Disabling the leavers (people the file leaves out) needs the tick; more than MASS_DISABLE of them needs also
    their number typed (`leavers_confirmed`, read folded: `１２` typed full-width is 12). Raises Invalid (field
    `disable_leavers` or `leavers_confirmed`) when either is missing, or (field `file`) when another import is
    queued or running. A second send of a confirmation already saved (its preview's token has an import, queued,
    running or ended) raises AlreadyConfirmed with that import: it is answered as saved, with its page."""
    if (earlier := db.session.scalar(select(RosterImport).where(RosterImport.token == token))) is not None:
        raise AlreadyConfirmed(earlier)
    load(token)  # still there
    running = db.session.scalar(select(RosterImport.id).where(
        RosterImport.status.in_([ImportStatus.QUEUED, ImportStatus.RUNNING])).limit(1))
    if running:
        message = _l("Another roster import is still running: wait until it has finished.")
        raise Invalid(str(message), {"file": message})
    plan = reread(token, actor)
    if not disable_leavers and plan.ok and plan.needs_tick:
        message = " ".join(plan.needs_tick)
        raise Invalid(message, {"disable_leavers": message})
    leaving = len(plan.leavers)
    if disable_leavers and leaving > MASS_DISABLE and folded(leavers_confirmed) != str(leaving):
        message = str(_l("This would disable %(n)s accounts: the people listed as not in the file. If they have all "
                         "left, type %(n)s in the box to confirm; if not, untick it, or add them to the file.",
                         n=leaving))
        raise Invalid(message, {"leavers_confirmed": message})
    job = RosterImport(token=token, filename=(filename or "")[:120], fingerprint=(fingerprint or "")[:64],
                       disable_leavers=disable_leavers, created_by_id=actor.id)
    db.session.add(job)
    db.session.flush()
    audit.record(actor, "roster.queued", job, after={"disable_leavers": disable_leavers})
    db.session.commit()
    from .. import tasks

    tasks.import_roster(job.id)
    return job


def get_import(import_id: int) -> RosterImport:
    job = db.session.get(RosterImport, import_id)
    if job is None:
        raise NotFound()
    return job


# A queued import the task queue has not begun after this long is shown as waiting for a queue that may not run.
QUEUE_PATIENCE = timedelta(seconds=20)


def waiting_too_long(job: RosterImport, now: datetime | None = None) -> bool:
    """Whether a queued import has waited longer than QUEUE_PATIENCE for the task queue to begin it (its consumer
    may not be running: the page says so and offers to cancel)."""
    return job.status == ImportStatus.QUEUED and (now or utcnow()) - job.created_at > QUEUE_PATIENCE


def cancel(actor, job: RosterImport) -> None:
    """Cancel an import the task queue has not begun (QUEUED): it ends as failed, nothing was imported, its kept
    file is removed and the next import may start. A begun import cannot be cancelled: Conflict. The task, if
    the queue begins it later, finds it no longer queued and does nothing (`run`)."""
    with writing():
        changed = db.session.execute(update(RosterImport).where(
            RosterImport.id == job.id, RosterImport.status == ImportStatus.QUEUED).values(
            status=ImportStatus.FAILED, error=str(_l("Cancelled before it began."))[:500], finished_at=utcnow()))
        if not changed.rowcount:
            db.session.rollback()
            raise Conflict(str(_l("This import has already begun or ended: it can no longer be cancelled.")))
        audit.record(actor, "roster.cancelled", job, after={"filename": job.filename})
        db.session.commit()
    db.session.refresh(job)
    uploads.remove(UPLOAD_KIND, job.token)


def latest_imports(limit: int = 5) -> list[RosterImport]:
    return list(db.session.scalars(select(RosterImport).order_by(RosterImport.id.desc()).limit(limit)))


class AlreadyConfirmed(Exception):
    """This preview's confirmation was saved before (a second send): `job` is its import."""

    def __init__(self, job: RosterImport):
        super().__init__(job.id)
        self.job = job


class ImportFailed(Exception):
    """The import could not be made as previewed; nothing of it is kept."""


def run(import_id: int) -> dict:
    """The task's work: import a queued roster in short transactions, all or nothing. Returns the summary."""
    db.session.rollback()
    with writing():
        job = db.session.get(RosterImport, import_id)
        if job is None or job.status != ImportStatus.QUEUED:
            db.session.rollback()
            return {}
        actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
        job.status = ImportStatus.RUNNING
        db.session.commit()
    try:
        summary = _run(job, actor)
    except Exception as error:  # any failure: undo the batches, say why
        db.session.rollback()
        message = str(error) if isinstance(error, ImportFailed | Invalid | NotFound) else \
            str(_l("The import failed; nothing was imported."))
        with writing():
            _undo(job.id)
            job = db.session.get(RosterImport, import_id)
            job.status, job.error, job.finished_at = ImportStatus.FAILED, message[:500], utcnow()
            audit.record(actor, "roster.failed", job, after={"error": message[:200]})
            db.session.commit()
        uploads.remove(UPLOAD_KIND, job.token)  # personal data: not kept for an import that will not run again
        if not isinstance(error, ImportFailed | Invalid | NotFound):
            raise
        return {}
    uploads.remove(UPLOAD_KIND, job.token)
    return summary


def _undo(import_id: int) -> None:
    """Remove the accounts the failed import's batches wrote (still disabled, never used) and their
    "user.create" events: the log keeps only the import's "roster.failed", never accounts that do not exist. Their
    branches' kept summaries are recomputed in the same transaction (the last activity that the events moved,
    through the trigger of migration h14t_01, goes back to what the remaining log says)."""
    rows = db.session.execute(select(User.id, User.branch_id).where(
        User.roster_import_id == import_id, User.active.is_(False), User.last_login_at.is_(None))).all()
    made = [user_id for user_id, _branch_id in rows]
    for branch_id in {branch_id for _user_id, branch_id in rows}:
        figures.mark_branch(db.session, branch_id)
    for start_at in range(0, len(made), 900):
        chunk = made[start_at:start_at + 900]
        db.session.execute(delete(AuditEvent).where(AuditEvent.action == "user.create",
                                                    AuditEvent.object_type == "user",
                                                    AuditEvent.object_id.in_(chunk)))
        db.session.execute(delete(User).where(User.id.in_(chunk)))
    db.session.commit()


def _run(job: RosterImport, actor) -> dict:
    data, ext = load(job.token)
    plan = parse(data, ext, actor)
    db.session.rollback()  # the checks only read: no transaction is kept open across the batches
    if not plan.ok:
        raise ImportFailed(str(_l("The roster is no longer valid (%(n)s rows): nothing was imported. Upload it "
                                  "again to see why.", n=len(plan.bad_rows) or len(plan.problems))))
    if plan.fingerprint() != job.fingerprint:
        raise ImportFailed(str(_l("Accounts or branches changed after the preview: nothing was imported. Upload "
                                  "the file again and check the new preview.")))
    leavers = plan.leavers if job.disable_leavers else []
    with writing():
        return _write(job, actor, plan, leavers)


def _write(job: RosterImport, actor, plan: Plan, leavers: list[Change]) -> dict:
    db.session.rollback()  # a read begun before (deferred) would fail to write: begin again, IMMEDIATE
    job = db.session.get(RosterImport, job.id)
    job.total = len(plan.creates) + len(plan.updates) + len(leavers)
    db.session.commit()
    rows = {row.line: row for row in plan.rows}
    now = utcnow()
    with_email, with_post = "email" in plan.columns, "post_title" in plan.columns
    # 1. The new accounts, disabled, in short batches (each its own transaction).
    for start_at in range(0, len(plan.creates), BATCH):
        chunk = [rows[change.line] for change in plan.creates[start_at:start_at + BATCH]]
        db.session.execute(insert(User), [
            {"username": row.username, "display_name": row.display_name, "password_hash": activation.NO_PASSWORD,
             "role": row.role_value, "branch_id": row.branch_id, "post_title": row.post_title if with_post else "",
             "email": row.email if with_email else "", "email_preference": "digest", "active": False,
             "session_version": 1, "created_at": now, "must_change_password": False,
             "roster_import_id": job.id} for row in chunk])
        made = dict(db.session.execute(select(User.username, User.id).where(
            User.username.in_([row.username for row in chunk]))).all())
        # Their audit events go with them, so that the last transaction stays short (a failed import's undo
        # is recorded by "roster.failed").
        db.session.execute(insert(AuditEvent), [
            _event(actor, "user.create", made[row.username], row.branch_id,
                   after={"username": row.username, "role": row.role_value.value, "branch_id": row.branch_id,
                          "via": "roster", "import": job.id}, at=now) for row in chunk])
        job.done = start_at + len(chunk)
        db.session.commit()
    # 2. One short transaction: switch them on, apply the updates and the leavers, check, audit.
    created = dict(db.session.execute(select(User.username, User.id).where(
        User.roster_import_id == job.id, User.active.is_(False))).all())
    if len(created) != len(plan.creates):
        raise ImportFailed(str(_l("Some new accounts could not be written: nothing was imported.")))
    db.session.execute(update(User).where(User.roster_import_id == job.id, User.active.is_(False))
                       .values(active=True), execution_options={"synchronize_session": False})
    events: list[dict] = []
    if plan.updates:
        _apply_updates(plan, rows, with_post, with_email, actor, events, now)
    if leavers:
        ids = [c.user_id for c in leavers]
        for start_at in range(0, len(ids), 900):
            db.session.execute(update(User).where(User.id.in_(ids[start_at:start_at + 900])).values(
                active=False, session_version=User.session_version + 1),
                execution_options={"synchronize_session": False})
        events += [_event(actor, "user.disable", c.user_id, None, before={"active": True},
                          after={"active": False, "via": "roster"}, at=now) for c in leavers]
    _recheck_secretaries()
    if events:
        db.session.execute(insert(AuditEvent), events)
    summary = {"created": len(plan.creates), "updated": len(plan.updates), "disabled": len(leavers),
               "unchanged": plan.unchanged}
    job = db.session.get(RosterImport, job.id)
    job.status, job.done, job.summary, job.finished_at = ImportStatus.DONE, job.total, summary, utcnow()
    audit.record(actor, "roster.import", job, after=summary)
    db.session.commit()
    return summary


def _event(actor, action: str, user_id: int, branch_id: int | None, *, before=None, after=None, at=None) -> dict:
    return {"actor_id": getattr(actor, "id", None), "actor_name": getattr(actor, "username", "") or "",
            "action": action, "object_type": "user", "object_id": user_id, "branch_id": branch_id,
            "before": before, "after": after, "at": at or utcnow(), "ip": ""}


def _apply_updates(plan: Plan, rows: dict, with_post: bool, with_email: bool, actor, events: list, now) -> None:
    from .campaign import current_year

    values, moved = [], []
    current = {row.user_id: row for row in plan.rows if row.user_id}
    state = {uid: (post, email) for uid, post, email in db.session.execute(
        select(User.id, User.post_title, User.email).where(User.id.in_([c.user_id for c in plan.updates])))}
    for change in plan.updates:
        row = current[change.user_id]
        post, email = state[change.user_id]
        access = "role" in change.fields or "branch" in change.fields or "active" in change.fields
        values.append({"uid": change.user_id, "name": row.display_name, "role": row.role_value,
                       "branch": row.branch_id, "post": row.post_title if with_post else post,
                       "email": row.email if with_email else email, "bump": 1 if access else 0})
        if "branch" in change.fields and row.branch_id:
            moved.append({"uid": change.user_id, "to": row.branch_id})
        events.append(_event(actor, "user.update", change.user_id, row.branch_id,
                             before={k: v[0] for k, v in change.fields.items()},
                             after={**{k: v[1] for k, v in change.fields.items()}, "via": "roster"}, at=now))
    table = User.__table__  # Core: one executemany, no ORM bookkeeping per row
    db.session.execute(update(table).where(table.c.id == bindparam("uid")).values(
        display_name=bindparam("name"), role=bindparam("role"), branch_id=bindparam("branch"),
        post_title=bindparam("post"), email=bindparam("email"), active=True,
        session_version=table.c.session_version + bindparam("bump")), values)
    year = current_year()
    if moved and year is not None:
        # This year's 五带头 self-assessment and pledges move with the member, as an edit by hand does.
        for model in (Assessment, Pledge):
            table = model.__table__
            db.session.execute(update(table).where(table.c.member_id == bindparam("uid"),
                                                   table.c.year_id == year.id).values(branch_id=bindparam("to")), moved)


def _recheck_secretaries() -> None:
    """The rule, asked of the database inside the import's last transaction: someone may have named a secretary
    by hand since the preview."""
    doubled = db.session.execute(
        select(Branch.name).join(User, User.branch_id == Branch.id)
        .where(User.role == Role.SECRETARY, User.active.is_(True))
        .group_by(Branch.id, Branch.name).having(func.count(User.id) > 1).limit(3)).scalars().all()
    if doubled:
        raise ImportFailed(str(_l("The import would give %(branches)s two secretaries: nothing was imported. "
                                  "Tick “disable the people of this file's branches who are not in it” or give the "
                                  "old secretary another role in the file.", branches=listed(doubled))))


PREVIEW_HOURS = 24


def remove_stale_previews(now: float | None = None, kind: str = UPLOAD_KIND) -> int:
    """Remove previewed rosters (personal data), or other previews of `kind` (the branch files), older than
    PREVIEW_HOURS that no queued or running import is about to read. Returns how many were removed."""
    import time

    directory = uploads.upload_dir(kind)
    busy = set(db.session.scalars(select(RosterImport.token).where(
        RosterImport.status.in_([ImportStatus.QUEUED, ImportStatus.RUNNING]))))
    limit = (now or time.time()) - PREVIEW_HOURS * 3600
    removed = 0
    for path in directory.glob("*.csv"):
        if TOKEN.match(path.name) and path.name not in busy and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def discard(token: str) -> None:
    """Forget a previewed file that will not be imported (superseded by a newer preview), unless an import of it
    is queued or running."""
    if TOKEN.match(token or "") and not db.session.scalar(select(RosterImport.id).where(
            RosterImport.token == token, RosterImport.status.in_([ImportStatus.QUEUED, ImportStatus.RUNNING]))):
        uploads.remove(UPLOAD_KIND, token)


def template(ext: str) -> bytes:
    """The roster template: the Chinese headers and one example row (its branch: the first branch, if any)."""
    from ..collation import sort_key

    names = db.session.scalars(select(Branch.name).where(Branch.active.is_(True))).all()
    example = list(TEMPLATE_EXAMPLE)
    example[3] = min(names, key=sort_key) if names else "示例小学党支部"
    if ext == "csv":
        out = io.StringIO()
        writer = export.csv_writer(out)
        writer.writerow(TEMPLATE_HEADER)
        writer.writerow(example)
        return out.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with a BOM as Chinese
    buffer = io.BytesIO()
    book = export.new_workbook(buffer, in_memory=True)
    formats = export.Formats(book)
    sheet = book.add_worksheet("花名册")
    export.write_row(sheet, 0, TEMPLATE_HEADER, formats)
    export.write_row(sheet, 1, example, formats)
    for column, width in enumerate((14, 10, 10, 24, 14, 26)):
        sheet.set_column(column, column, width)
    book.close()
    return buffer.getvalue()


def user_count() -> int:
    return int(db.session.scalar(select(func.count(User.id))))


def note_template(actor, ext: str) -> None:
    """The template was downloaded (the first-run checklist ticks that step)."""
    audit.record(actor, "roster.template", None, after={"format": ext})
    db.session.commit()


def _not_activated(job: RosterImport):
    return (User.roster_import_id == job.id, User.active.is_(True), User.password_hash == activation.NO_PASSWORD)


def pending_by_branch(job: RosterImport) -> list[tuple[int | None, str, int]]:
    """[(branch id, branch name, people of the import who have not activated yet)], in pinyin order: one
    GROUP BY."""
    rows = db.session.execute(
        select(User.branch_id, Branch.name, func.count(User.id)).outerjoin(Branch, Branch.id == User.branch_id)
        .where(*_not_activated(job)).group_by(User.branch_id, Branch.name)).all()
    return in_pinyin_order(((bid, name or "", int(n)) for bid, name, n in rows), lambda r: r[1])


class ReplacesCodes(Conflict):
    """Printing these slips would replace codes printed earlier: asked again with the count confirmed."""

    def __init__(self, count: int):
        super().__init__(str(_l("%(n)s of these people already have a code printed earlier: printing again "
                                "replaces those codes, and the slips printed before stop working.", n=count)))
        self.count = count


SLIPS_ALL = "all"  # the explicit scope "every branch"; a blank scope means the people without a branch


def slip_people(job: RosterImport, scope: str) -> list[int]:
    """The import's people who have not activated yet: of every branch (`scope` "all"), of the branch whose id
    `scope` is, or without a branch (`scope` "")."""
    if job.status == ImportStatus.FAILED:
        raise Invalid(str(_l("This import failed, so it has no slips: %(reason)s", reason=job.error or "")), {})
    if job.status != ImportStatus.DONE:
        raise Invalid(str(_l("The import has not finished.")), {})
    stmt = select(User.id).where(*_not_activated(job))
    if scope == "":
        stmt = stmt.where(User.branch_id.is_(None))
    elif scope != SLIPS_ALL:
        if not (scope.isascii() and scope.isdigit() and int(scope) < 2**31):  # the database's integer
            raise Invalid(str(_l("Choose an entry from the list.")), {})
        stmt = stmt.where(User.branch_id == int(scope))
    return list(db.session.scalars(stmt.order_by(User.id)))


def issue_slips(actor, job: RosterImport, scope: str, confirmed: int | None = None):
    """Fresh codes for the import's people of `scope` (see slip_people), as one printable SlipBatch. When some
    of them hold a code printed earlier, raises ReplacesCodes unless `confirmed` is that number."""
    people = slip_people(job, scope)
    if not people:
        raise Invalid(str(_l("Nobody of this choice is waiting for a code.")), {})
    replaced = activation.pending_codes(people)
    if replaced and confirmed != replaced:
        raise ReplacesCodes(replaced)
    return activation.issue(actor, people, reason=f"roster:{job.id}", import_id=job.id)
