"""Forms of the bulletins blueprint: drafting and editing a 通报, issuing it."""
from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from ..services.bulletins import BODY_MAX, COPY_TO_MAX, HEADING_MAX, SECTIONS_MAX, TITLE_MAX, BulletinInput
from ..text import clean_text, refusal_message
from .fields import FormToken, HiddenId, Id, Text


class BulletinForm(FlaskForm):
    """Title, 抄送 and up to SECTIONS_MAX sections, each a `heading` and a `body` sent in order (the
    inputs repeat their names, so that the page may hold any number of them)."""

    title = Text(_l("Title"), max_length=TITLE_MAX, required=_l("Give the bulletin a title."))
    copy_to = Text(_l("Copy to (抄送)"), max_length=COPY_TO_MAX)
    corrects = Id(_l("Corrects"), message=_l("The bulletin to correct is not one of the portal's bulletins. Open "
                                             "the issued bulletin and choose “Draft a correction” there."))
    form_token = FormToken()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        headings, bodies = request.form.getlist("heading"), request.form.getlist("body")
        self.sections, self.sections_error = [], None
        if len(headings) != len(bodies):
            self.sections_error = _l("Each section has one heading field and one text field, but %(h)s headings and "
                                     "%(b)s texts arrived. Please use the form on this page.", h=len(headings),
                                     b=len(bodies))
        elif len(headings) > SECTIONS_MAX:
            self.sections_error = _l("A bulletin has at most %(n)s sections.", n=SECTIONS_MAX)
        for heading, body in zip(headings, bodies, strict=False):
            heading, bad_heading = clean_text(heading)
            body, bad_body = clean_text(body, multiline=True)
            if bad_heading or bad_body:
                self.sections_error = refusal_message(bad_heading or bad_body, multiline=not bad_heading)
            elif len(heading) > HEADING_MAX or len(body) > BODY_MAX:
                self.sections_error = _l("A heading may be at most %(h)s characters and a section's text at most "
                                         "%(b)s.", h=HEADING_MAX, b=BODY_MAX)
            self.sections.append({"heading": heading, "body": body})
        return ok and self.sections_error is None

    @property
    def errors(self):
        errors = dict(super().errors)
        if getattr(self, "sections_error", None):
            errors["sections"] = [self.sections_error]
        return errors

    def typed_sections(self) -> list[dict]:
        """Every heading and text sent, paired in order (a missing half empty), for showing them again."""
        from itertools import zip_longest

        return [{"heading": h, "body": b} for h, b in zip_longest(
            request.form.getlist("heading")[:SECTIONS_MAX], request.form.getlist("body")[:SECTIONS_MAX],
            fillvalue="")]

    def as_input(self) -> BulletinInput:
        return BulletinInput(self.title.data, self.sections, self.copy_to.data)


class BulletinEditForm(BulletinForm):
    """Editing a draft, as the version it was loaded with."""

    version = HiddenId()


class IssueForm(FlaskForm):
    version = HiddenId()

    def validate_version(self, field):
        if field.data is None:
            raise ValidationError(_l("Reload the page and issue again."))

