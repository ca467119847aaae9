"""Forms of the admin blueprint: accounts, units and branches, the roster import."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from ..models import BranchKind, Role, UnitKind
from ..services import accounts
from .fields import (
    BranchPick,
    Choice,
    Decimal,
    Flag,
    FormToken,
    HiddenId,
    Id,
    Identifier,
    LongText,
    Password,
    Text,
    Upload,
    WholeNumber,
)


class _UserFields(FlaskForm):
    display_name = Text(_l("Name"), max_length=64)
    role = Choice(_l("Role"), choices=Role, required=True)
    branch = BranchPick(_l("Branch"), scope="all")
    post_title = Text(_l("Post"), max_length=64)
    email = Text(_l("E-mail"), max_length=254)


class UserCreateForm(_UserFields):
    username = Identifier(_l("Username"))  # canonical: look-alikes of a taken name are the same name
    password = Password(_l("Initial password"))
    form_token = FormToken()

    # The account rules themselves are the service's (accounts.*_error); asked here too so that one
    # refused form lists every problem at once.
    def validate_password(self, field):
        if message := accounts.password_error(field.data):
            raise ValidationError(message)

    def validate_branch(self, field):
        role = Role(self.role.data) if self.role.data in Role._value2member_map_ else None
        if role and field.data is None and (message := accounts.branch_error(role, None)):
            raise ValidationError(message)


class UserEditForm(_UserFields):
    version = HiddenId()


class ActiveForm(FlaskForm):
    active = Flag(_l("Active"), choices=("0", "1"), required=True)


class PasswordResetForm(FlaskForm):
    password = Password(_l("New password"))
    confirm = Password(_l("Repeat"))


class BranchForm(FlaskForm):
    unit_name = Text(_l("School or office"), max_length=120, required=True)
    unit_kind = Choice(_l("Kind of unit"), choices=UnitKind, required=True)
    branch_name = Text(_l("Branch"), max_length=120, required=True)
    branch_kind = Choice(_l("Kind of branch"), choices=BranchKind, required=True)
    # A whole number, 0 included (an Id is never 0: a new branch with no members yet was refused).
    member_count = WholeNumber(_l("Members"), minimum=0, maximum=10000,
                               message=_l("Enter a whole number from 0 to 10000."))
    form_token = FormToken()

    def service_fields(self) -> dict:
        return {"unit_name": self.unit_name.data, "unit_kind": self.unit_kind.data,
                "branch_name": self.branch_name.data, "branch_kind": self.branch_kind.data,
                "member_count": str(self.member_count.data or 0)}


class BranchEditForm(BranchForm):
    version = HiddenId()


class RosterFileForm(FlaskForm):
    file = Upload(_l("Roster file"))  # which file a roster may be: services/roster.py


class BranchImportForm(FlaskForm):
    """Confirming a previewed branch file: its token."""

    token = Text(max_length=64, required=True)


class RosterImportForm(FlaskForm):
    """Confirming a preview: its token and fingerprint (the changes shown), and whether leavers are disabled."""

    token = Text(max_length=64)
    fingerprint = Text(max_length=64)
    filename = Text(max_length=120)
    disable_leavers = Choice(choices=("1",))
    leavers_confirmed = Text(max_length=8)  # the number of leavers, typed, when there are many (roster.MASS_DISABLE)


class SlipsForm(FlaskForm):
    """Printing activation slips: `branch` is a branch id, "all" for every branch, or blank for the people
    without a branch (never read as "all"); `confirm` is the number of earlier codes the admin agreed to replace."""

    branch = Text(max_length=12)
    confirm = WholeNumber(minimum=0, maximum=1_000_000)

    def validate_branch(self, field):
        if field.raw_data is None or field.raw_data == [] or not (
                field.data in ("", "all") or (field.data or "").isascii() and (field.data or "").isdigit()):
            raise ValidationError(_l("Choose an entry from the list."))


class ReissueForm(FlaskForm):
    """A new activation code for one person; `confirm` = 1 when the admin agreed to replace the code printed
    earlier."""

    confirm = WholeNumber(minimum=0, maximum=1)


# --- the framework editor -------------------------------------------------------------------------------

class _Confirmable(FlaskForm):
    """A framework change: `confirm` = 1 once the admin has confirmed a change to a year that has started."""

    confirm = Flag(_l("Confirmation of a new version"), choices=("1",))


class CriterionForm(_Confirmable):
    version = HiddenId()  # the version the form was loaded with (a stale save is a conflict)
    title = Text(_l("Criterion"), max_length=40, required=True)
    title_en = Text(_l("English name"), max_length=80)
    official_text = LongText(_l("Official wording"), max_length=5000)
    position = WholeNumber(_l("Order"), minimum=1, maximum=100, message=_l("Enter a whole number from 1 to 100."))


class ItemForm(_Confirmable):
    version = HiddenId()  # the version the form was loaded with (a stale save is a conflict)
    text = LongText(_l("Wording"), max_length=1000, required=True)
    weight = Decimal(_l("Weight"), minimum=0, maximum=100, required=True)
    position = WholeNumber(_l("Order"), minimum=1, maximum=2000, message=_l("Enter a whole number from 1 to 2000."))


class ItemAddForm(ItemForm):
    version = None  # a new item has none yet
    criterion = Id(_l("Criterion"), required=True)
    year = WholeNumber(_l("Campaign year"), minimum=2000, maximum=2100)  # blank: every year; else a theme item
    # An item asked every year: the first year it is asked in (blank: the current year once in use).
    valid_from = WholeNumber(_l("Asked from"), minimum=2000, maximum=2100)


class ItemActiveForm(_Confirmable):
    active = Flag(_l("Active"), choices=("0", "1"), required=True)


class FrameworkFileForm(FlaskForm):
    file = Upload(_l("Framework file"))


class FrameworkImportForm(_Confirmable):
    """Confirming an import preview: the checked content and the framework's fingerprint when it was shown."""

    plan = LongText(max_length=400_000)  # under the form-memory limit (a framework is a few kB)
    fingerprint = Text(max_length=160)  # the framework fingerprint and the plan signature
