"""Forms of the commendation blueprint (评选表彰): nominations, the public notice, objections, decisions."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..models import CommendationLevel
from ..services.commendation import DEEDS_MAX, MAX_ATTACHMENTS, NOTICE_DAYS
from .fields import Choice, FormToken, HiddenId, Id, LongText, UploadList


class NominationForm(FlaskForm):
    member_id = Id(_l("Nominee"))  # blank: the branch itself
    deeds = LongText(_l("Exemplary deeds"), max_length=DEEDS_MAX)
    files = UploadList(_l("Attachments"), max_count=MAX_ATTACHMENTS)
    form_token = FormToken()


class DecisionForm(FlaskForm):
    """A decision of the leading group, taken on the nomination as its page showed it."""

    version = HiddenId()


class NoticeForm(DecisionForm):
    days = Id(_l("Days"), minimum=NOTICE_DAYS[0], maximum=NOTICE_DAYS[1], required=True,
              message=_l("The public notice runs for %(low)s to %(high)s days.", low=NOTICE_DAYS[0],
                         high=NOTICE_DAYS[1]))


class CommendForm(DecisionForm):
    level = Choice(_l("Level"), choices=CommendationLevel)
    note = LongText(_l("Note"), max_length=2000)


class NoteForm(DecisionForm):
    note = LongText(_l("Note"), max_length=2000)


class ObjectionForm(FlaskForm):
    text = LongText(_l("Objection"), max_length=5000)
    form_token = FormToken()
