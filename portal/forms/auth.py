"""Forms of the auth blueprint: log in, change my password, my interface language.
Field names are a contract (DESIGN.md)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..i18n import LANGUAGES
from ..labels import EMAIL_PREFERENCE
from .fields import Password, Text

# The log-in's password is only bounded (a megabyte is not hashed): what is wrong with a new password is
# the Password field's and accounts.password_error's to say, not the log-in's.
_PASSWORD = [Length(max=200, message=_l("At most %(n)s characters.", n=200))]


class LoginForm(FlaskForm):
    username = Text(_l("Username"), max_length=64, required=_l("Please enter your username."))
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Please enter your password.")),
                                                         *_PASSWORD])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=_PASSWORD)
    new_password = Password(_l("New password (at least 8 characters)"))
    repeat_password = PasswordField(_l("New password again"), validators=_PASSWORD)


class LanguageForm(FlaskForm):
    """The person's stored interface language (their account page)."""

    locale = RadioField(_l("Interface language"), validators=[DataRequired()],
                        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])


class EmailPreferenceForm(FlaskForm):
    """How notifications reach the person by e-mail (their account page)."""

    email_preference = RadioField(_l("E-mail about notifications"), validators=[DataRequired()],
                                  choices=[SelectChoice(code.value, label) for code, label in EMAIL_PREFERENCE.items()])


class ActivationForm(FlaskForm):
    """A person's first sign-in with the one-time code on their slip: they choose their own password."""

    username = Text(_l("Username"), max_length=64, required=_l("Please enter your username."))
    code = Text(_l("Activation code"), max_length=40, required=_l("Please enter the code on your slip."))
    new_password = PasswordField(_l("New password (at least 8 characters)"), validators=_PASSWORD)
    repeat_password = PasswordField(_l("New password again"), validators=_PASSWORD)
