"""Importing the staff roster (CSV or XLSX): parse, check every row, preview, then import all or nothing.

Accepted headers (Chinese or English): 用户名/username, 姓名/display_name, 角色/role, 支部/branch,
职务/post_title, 邮箱/email (optional). A role is its Chinese label or its code; a branch its exact name.

Initial passwords are never taken from the file nor written to disk (ASVS 5.0 V6): a 初始密码/password column is
ignored, and what the preview keeps until the import is the checked rows without it. Every imported account gets
a generated password, shown once, which its owner replaces at first login.
"""
from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, or_, select
from werkzeug.datastructures import FileStorage
from werkzeug.security import generate_password_hash

from .. import labels
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Branch, Role, User, utcnow
from ..text import canonical_username
from . import accounts, audit, uploads

UPLOAD_KIND = "roster"
MAX_ROWS = 5000
COLUMNS = {
    "username": ("username", "用户名", "账号"),
    "display_name": ("display_name", "name", "姓名"),
    "role": ("role", "角色"),
    "branch": ("branch", "支部", "所在支部"),
    "post_title": ("post_title", "post", "职务"),
    "email": ("email", "e-mail", "邮箱", "电子邮箱"),
}
IGNORED = ("password", "初始密码", "密码")
FIELDS = ("username", "display_name", "role", "branch", "post_title", "email")
REQUIRED = ("username", "display_name", "role")
TOKEN = re.compile(r"^[0-9a-f]{32}\.csv$")


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


@dataclass
class Preview:
    token: str
    filename: str
    rows: list[RosterRow]
    passwords_ignored: bool = False

    @property
    def bad_rows(self) -> list[RosterRow]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.bad_rows


def _malformed(message) -> Invalid:
    return Invalid(str(message), {"file": message})


def _read_table(data: bytes, ext: str) -> list[list[str]]:
    if ext == "xlsx":
        from openpyxl import load_workbook

        # A read-only workbook parses its sheet while the rows are read: a broken sheet (bad XML, a character
        # reference XML forbids, an unreadable date) fails there, so the reading is inside the same guard.
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                return [["" if v is None else str(v).strip() for v in row]
                        for row in sheet.iter_rows(values_only=True)]
            finally:
                workbook.close()
        except Exception as error:  # openpyxl raises many kinds for a broken workbook
            raise _malformed(_l("The file could not be read as an Excel workbook.")) from error
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
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as error:
        raise _malformed(_l("The CSV file is malformed.")) from error


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lower()
        for column, aliases in COLUMNS.items():
            if key in aliases and column not in found:
                found[column] = index
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise _malformed(_l("The first row must name the columns; missing: %(columns)s.",
                            columns=", ".join(COLUMNS[c][1] for c in missing)))
    return found


def _role_lookup() -> dict[str, Role]:
    lookup = {role.value: role for role in Role}
    for locale in ("zh", "en"):
        with force_locale(locale):
            lookup.update({str(label).lower(): role for role, label in labels.ROLE.items()})
    return lookup


def parse(data: bytes, ext: str) -> list[RosterRow]:
    """Rows of the file with every problem found, without writing anything."""
    return _parse_table(_read_table(data, ext))


def _parse_table(table: list[list[str]]) -> list[RosterRow]:
    table = [row for row in table if any(cell for cell in row)]
    if not table:
        raise _malformed(_l("The file is empty."))
    columns = _header_map(table[0])
    if len(table) - 1 > MAX_ROWS:
        raise _malformed(_l("A roster may have at most %(n)s rows.", n=MAX_ROWS))
    if len(table) == 1:
        raise _malformed(_l("The file has a header but no rows."))
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        values = {column: (cells[index].strip() if index < len(cells) else "") for column, index in columns.items()}
        values["username"] = canonical_username(values.get("username", ""))  # look-alikes are one name
        values["email"] = accounts.normalise_email(values.get("email", ""))
        rows.append(RosterRow(line, *(values.get(c, "") for c in FIELDS)))
    _check(rows)
    return rows


def _check(rows: list[RosterRow]) -> None:
    roles = _role_lookup()
    branches = {name: (bid, active) for bid, name, active in db.session.execute(
        select(Branch.id, Branch.name, Branch.active))}
    names = [row.username for row in rows if row.username]
    taken = set(db.session.scalars(select(func.lower(User.username)).where(
        or_(User.username.in_(names), func.lower(User.username).in_(names))))) if names else set()
    seen: dict[str, int] = {}
    for row in rows:
        role = roles.get(row.role.lower())
        if role is None:
            row.errors.append(str(_l("Unknown role “%(value)s”.", value=row.role[:40])))
        branch = None
        if row.branch:
            found = branches.get(row.branch)
            if found is None:
                row.errors.append(str(_l("Unknown branch “%(value)s”.", value=row.branch[:60])))
            elif not found[1]:
                row.errors.append(str(_l("The branch “%(value)s” is deactivated.", value=row.branch[:60])))
            else:
                branch = Branch(id=found[0])  # a stand-in: the shared rules only ask whether there is one
        if not row.display_name or len(row.display_name) > 64:
            row.errors.append(str(_l("Enter a name of at most 64 characters.")))
        if len(row.post_title) > 64:
            row.errors.append(str(_l("The post may have at most 64 characters.")))
        if message := accounts.email_error(row.email):
            row.errors.append(message)
        if row.username in seen:
            row.errors.append(str(_l("Duplicate of row %(line)s.", line=seen[row.username])))
        elif row.username:
            seen[row.username] = row.line
        field_errors = accounts.user_errors(
            username=row.username, password=None,  # generated at the import
            role=role or Role.ADMIN, branch=branch if (branch or not row.branch) else Branch(id=0),
            username_taken=row.username in taken)
        row.errors.extend(str(message) for message in field_errors.values())


def preview(file: FileStorage | None) -> Preview:
    """Check the uploaded file and keep it server-side under a random token until it is confirmed."""
    if file is None or not file.filename:
        raise _malformed(_l("Choose a file to upload."))
    ext = file.filename.rsplit(".", 1)[-1].lower() if "." in file.filename else ""
    if ext not in ("csv", "xlsx"):
        raise _malformed(_l("Upload the roster as a CSV or XLSX file."))
    if ext == "xlsx":
        uploads.check(file, {m: e for m, e in uploads.DOCUMENT_TYPES.items() if e == "xlsx"})
    table = _read_table(file.stream.read(), ext)
    rows = _parse_table(table)
    header = next((row for row in table if any(row)), [])
    # Kept until the import: the checked rows only, never the file (which may hold passwords).
    kept = io.StringIO()
    writer = csv.writer(kept)
    writer.writerow(FIELDS)
    writer.writerows([getattr(row, name) for name in FIELDS] for row in rows)
    token = f"{secrets.token_hex(16)}.csv"
    uploads.write_bytes(UPLOAD_KIND, token, kept.getvalue().encode("utf-8"))
    return Preview(token=token, filename=file.filename[:120], rows=rows,
                   passwords_ignored=any(cell.strip().lower() in IGNORED for cell in header))


def load(token: str) -> tuple[bytes, str]:
    if not TOKEN.match(token or ""):
        raise NotFound()
    path = uploads.upload_dir(UPLOAD_KIND) / token
    if not path.exists():
        raise NotFound(str(_l("This preview has expired. Upload the file again.")))
    return path.read_bytes(), token.rsplit(".", 1)[-1]


def import_rows(actor, token: str) -> tuple[int, list[tuple[str, str]]]:
    """Import a previewed file, checked again now: any invalid row and nothing is imported (422).
    Returns (number imported, [(username, generated password)] for every row), each password shown once.

    The generated passwords are random (72 bits) and replaced at first login, so a fast hash protects them
    as well as a slow one would a chosen password (GOTCHAS: a slow hash per row takes minutes for 5,000)."""
    data, ext = load(token)
    rows = parse(data, ext)
    bad = [row for row in rows if row.errors]
    if bad:
        raise Invalid(str(_l("%(n)s rows are not valid: nothing was imported.", n=len(bad))),
                      {"file": _l("%(n)s rows are not valid: nothing was imported.", n=len(bad))})
    roles = _role_lookup()
    branches = dict(db.session.execute(select(Branch.name, Branch.id)).all())
    now, generated, values = utcnow(), [], []
    for row in rows:
        password = secrets.token_urlsafe(9)
        generated.append((row.username, password))
        values.append({"username": row.username, "display_name": row.display_name,
                       "password_hash": generate_password_hash(password, method="pbkdf2:sha256:1000"),
                       "role": roles[row.role.lower()],
                       "branch_id": branches.get(row.branch), "post_title": row.post_title, "email": row.email,
                       "email_preference": "digest", "active": True,
                       "session_version": 1, "created_at": now, "must_change_password": True})
    db.session.execute(insert(User), values)
    created = list(db.session.scalars(select(User).where(User.username.in_([v["username"] for v in values]))))
    for user in created:
        audit.record(actor, "user.create", user, after={"username": user.username, "role": user.role.value,
                                                       "branch_id": user.branch_id, "via": "roster"},
                     branch_id=user.branch_id)
    audit.record(actor, "roster.import", None, after={"rows": len(values), "users": sorted(u.id for u in created)})
    db.session.commit()
    uploads.remove(UPLOAD_KIND, token)
    return len(values), generated


def user_count() -> int:
    return int(db.session.scalar(select(func.count(User.id))))


def discard(token: str) -> None:
    """Forget a previewed file that will not be imported."""
    if TOKEN.match(token or ""):
        uploads.remove(UPLOAD_KIND, token)
