"""Importing units and their Party branches from a file (CSV or XLSX), for a district that has them in a
spreadsheet: a template to download, a preview of every row with all its problems, then all or nothing.

Columns (Chinese or English headers): 单位/unit, 单位类型/unit_kind, 支部名称/branch, 支部类型/branch_kind
(optional: 党支部 when blank), 党员数/member_count (optional: 0). A kind is its Chinese or English label or its
code. Each unit has its one branch (as in the branch form): unit and branch names must be new. The checked rows
are kept server-side under a random token until imported (the file itself is not kept), then removed; a newer
preview removes the one it supersedes, and the nightly task removes any older than a day.
"""
from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import labels
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Branch, BranchKind, Unit, UnitKind
from ..text import check_text, folded, half_width_alnum
from . import audit, export, uploads
from .roster import TOKEN, _malformed, _read_table, header_map
from .users import unit_named

UPLOAD_KIND = "branches"
MAX_ROWS = 2000
COLUMNS = {
    "unit_name": ("unit", "unit_name", "单位", "单位名称", "学校"),
    "unit_kind": ("unit_kind", "单位类型"),
    "branch_name": ("branch", "branch_name", "支部名称", "支部"),
    "branch_kind": ("branch_kind", "支部类型"),
    "member_count": ("member_count", "members", "党员数", "党员人数"),
}
REQUIRED = ("unit_name", "unit_kind", "branch_name")
TEMPLATE_HEADER = ("单位", "单位类型", "支部名称", "支部类型", "党员数")
TEMPLATE_EXAMPLE = ("示例小学", "小学", "示例小学党支部", "党支部", "12")


@dataclass
class BranchRow:
    line: int
    unit_name: str
    unit_kind: str
    branch_name: str
    branch_kind: str
    member_count: str
    errors: list[str] = field(default_factory=list)
    unit_kind_value: UnitKind | None = None
    branch_kind_value: BranchKind | None = None
    count: int = 0


@dataclass
class BranchPreview:
    token: str
    filename: str
    rows: list[BranchRow]

    @property
    def bad_rows(self) -> list[BranchRow]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.bad_rows


def _lookup(kinds: dict) -> dict[str, object]:
    found: dict[str, object] = {kind.value: kind for kind in kinds}
    for locale in ("zh", "en"):
        with force_locale(locale):
            found.update({folded(str(label)): kind for kind, label in kinds.items()})
    return found


def check(table: list[list[str]]) -> list[BranchRow]:
    """Every row of the file with its problems (the branch form's rules, all at once), writing nothing."""
    table = [row for row in table if any(cell for cell in row)]
    if not table:
        raise _malformed(_l("The file is empty."))
    columns = header_map(table[0], COLUMNS, REQUIRED)
    if len(table) - 1 > MAX_ROWS:
        raise _malformed(_l("A file may have at most %(n)s rows.", n=MAX_ROWS))
    if len(table) == 1:
        raise _malformed(_l("The file has a header but no rows."))
    unit_kinds, branch_kinds = _lookup(labels.UNIT_KIND), _lookup(labels.BRANCH_KIND)
    # Names are matched folded (text.folded): `第３` typed full-width by a Chinese input method is `第3`.
    units = {folded(name): (name, kind) for name, kind in db.session.execute(select(Unit.name, Unit.kind))}
    taken = {folded(name) for name in db.session.scalars(select(Branch.name))}
    seen_branches: dict[str, int] = {}
    file_units: dict[str, tuple[int, UnitKind]] = {}
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        values, errors = {}, []
        for column in COLUMNS:
            index = columns.get(column)
            text, message = check_text(cells[index] if index is not None and index < len(cells) else "",
                                       max_length=120)
            if message is not None:
                errors.append(str(message))
            values[column] = half_width_alnum(text) if column in ("unit_name", "branch_name") else text
        row = BranchRow(line, **values, errors=errors)
        if (registered := units.get(folded(row.unit_name))) is not None:
            row.unit_name = registered[0]  # the school as registered: its branches join it (unit_named)
        if not row.unit_name:
            row.errors.append(str(_l("Enter the school's name (at most 120 characters).")))
        if not row.branch_name:
            row.errors.append(str(_l("Enter the branch's name (at most 120 characters).")))
        row.unit_kind_value = unit_kinds.get(folded(row.unit_kind))
        if row.unit_kind_value is None:
            row.errors.append(str(_l("Unknown kind of unit “%(value)s”.", value=row.unit_kind[:40])))
        row.branch_kind_value = branch_kinds.get(folded(row.branch_kind)) if row.branch_kind else BranchKind.BRANCH
        if row.branch_kind_value is None:
            row.errors.append(str(_l("Unknown kind of branch “%(value)s”.", value=row.branch_kind[:40])))
        count = folded(row.member_count) or "0"
        if count.isascii() and count.isdigit() and int(count) <= 10000:
            row.count = int(count)
        else:
            row.errors.append(str(_l("Enter a whole number from 0 to 10000.")))
        if (row.unit_name, row.branch_name) == TEMPLATE_EXAMPLE[0:3:2]:
            row.errors.append(str(_l("This is the template's example row (示例小学): delete it, or replace it with "
                                     "a real branch.")))
        branch_key = folded(row.branch_name)
        if branch_key in taken:
            row.errors.append(str(_l("Another branch already has this name.")))
        elif branch_key in seen_branches:
            row.errors.append(str(_l("Row %(line)s already names this branch.", line=seen_branches[branch_key])))
        elif branch_key:
            seen_branches[branch_key] = line
        # A school may hold several branches: rows naming one school (or a school already registered) agree on
        # its kind.
        if row.unit_name and row.unit_kind_value is not None:
            unit_key = folded(row.unit_name)
            line_of, kind = file_units.get(unit_key, (None, units.get(unit_key, ("", None))[1]))
            if kind is not None and kind != row.unit_kind_value:
                row.errors.append(str(
                    _l("Row %(line)s gives this school another kind: a school's branches share its kind.",
                       line=line_of) if line_of else
                    _l("“%(unit)s” is registered as a %(kind)s: a school's branches share its kind.",
                       unit=row.unit_name, kind=labels.UNIT_KIND[kind])))
            elif unit_key not in file_units:
                file_units[unit_key] = (line, row.unit_kind_value)
        rows.append(row)
    return rows


def _kept(rows: list[BranchRow]) -> bytes:
    out = io.StringIO()
    writer = export.csv_writer(out)  # read back by _read_table, which takes the neutralising apostrophe off
    writer.writerow(COLUMNS)
    writer.writerows([row.unit_name, row.unit_kind, row.branch_name, row.branch_kind, row.member_count]
                     for row in rows)
    return out.getvalue().encode("utf-8")


def preview(file, previous: str = "") -> BranchPreview:
    """Check an uploaded file; when every row is valid, keep the checked rows under a new token (the preview
    `previous`, superseded, is removed)."""
    if file is None or not file.filename:
        raise _malformed(_l("Choose a file to upload."))
    ext = file.filename.rsplit(".", 1)[-1].lower() if "." in file.filename else ""
    if ext not in ("csv", "xlsx"):
        raise _malformed(_l("Upload the file as CSV or XLSX."))
    if ext == "xlsx":
        uploads.check(file, {m: e for m, e in uploads.DOCUMENT_TYPES.items() if e == "xlsx"})
    rows = check(_read_table(file.stream.read(), ext, MAX_ROWS))
    discard(previous)
    token = f"{secrets.token_hex(16)}.csv"
    result = BranchPreview(token=token, filename=file.filename[:120], rows=rows)
    if result.ok:
        uploads.write_bytes(UPLOAD_KIND, token, _kept(rows))
    return result


def discard(token: str) -> None:
    if TOKEN.match(token or ""):
        uploads.remove(UPLOAD_KIND, token)


def apply(actor, token: str) -> int:
    """Import a previewed file: every branch or none (the rows are checked again against the database as it
    is now). Returns how many branches were made."""
    if not TOKEN.match(token or ""):
        raise NotFound()
    path = uploads.upload_dir(UPLOAD_KIND) / token
    if not path.exists():
        raise NotFound(str(_l("This preview has expired. Upload the file again.")))
    rows = check(_read_table(path.read_bytes(), "csv", MAX_ROWS))
    if any(row.errors for row in rows):
        message = _l("The branches changed since the preview: nothing was imported. Upload the file again to see "
                     "why.")
        raise Invalid(str(message), {"file": message})
    for row in rows:
        unit = unit_named(row.unit_name, row.unit_kind_value)
        branch = Branch(unit_id=unit.id, name=row.branch_name, kind=row.branch_kind_value, member_count=row.count)
        db.session.add(branch)
        db.session.flush()
        audit.record(actor, "branch.create", branch, branch_id=branch.id,
                     after={"unit": unit.name, "unit_kind": unit.kind.value, "branch": branch.name,
                            "kind": branch.kind.value, "member_count": row.count, "via": "file"})
    db.session.commit()
    discard(token)
    return len(rows)


def template(ext: str) -> bytes:
    if ext == "csv":
        out = io.StringIO()
        writer = export.csv_writer(out)
        writer.writerow(TEMPLATE_HEADER)
        writer.writerow(TEMPLATE_EXAMPLE)
        return out.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with a BOM as Chinese
    buffer = io.BytesIO()
    book = export.new_workbook(buffer, in_memory=True)
    formats = export.Formats(book)
    sheet = book.add_worksheet("支部")
    export.write_row(sheet, 0, TEMPLATE_HEADER, formats)
    export.write_row(sheet, 1, TEMPLATE_EXAMPLE, formats)
    for column, width in enumerate((24, 12, 28, 12, 10)):
        sheet.set_column(column, column, width)
    book.close()
    return buffer.getvalue()
