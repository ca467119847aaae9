"""Forms of the checklist blueprint: one item's result, note and evidence; submitting, returning and
reviewing a self-assessment. Field names are those checklist/_item.html, checklist.html and
static/js/portal.js post (`result`, `note`, `note_version`, `file`, `reason`, `rating`, `comment`,
`improvements`). The forms normalise and bound the input; services/checklist.py still decides what the
workflow allows (locked, past year, someone else's newer note)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..models import Result, ReviewRating
from ..services.checklist import NOTE_MAX
from .fields import Choice, Flag, HiddenId, LongText, Upload


class ItemForm(FlaskForm):
    """The note typed beside an item, sent along with a click (hx-include) so that it is saved with it."""

    note = LongText(_l("Note"), max_length=NOTE_MAX)
    # The note's version the row was loaded with (mangled → a conflict, 409); asked for when a note is sent.
    note_version = HiddenId(required_with="note")

    def typed_note(self) -> str | None:
        """The cleaned note, or None when the request carried no note field at all (a click from a page
        without the note form, or a script): then the saved note is left alone."""
        return self.note.data if self.note.raw_data else None


class ResultForm(ItemForm):
    result = Choice(_l("Result"), choices=Result, required=True,
                    message=_l("That is not a result. Choose one of the buttons."))


class NoteForm(ItemForm):
    """Saving the note on its own; a missing field is an empty note."""


class EvidenceForm(ItemForm):
    # Optional here: the note typed beside it is saved even when no file was chosen, and the upload
    # rules (which file, how large) answer from services/uploads.py.
    file = Upload(_l("Evidence"))


class ReturnForm(FlaskForm):
    reason = LongText(_l("Reason"), max_length=NOTE_MAX,
                      required=_l("Say why it is returned, so that it can be put right."))


class ReviewForm(FlaskForm):
    rating = Choice(_l("Rating"), choices=ReviewRating, required=True, message=_l("Choose a rating."))
    comment = LongText(_l("Comment"), max_length=NOTE_MAX, required=_l("Write a comment."))
    improvements = LongText(_l("Required improvements"), max_length=NOTE_MAX)
    # The "保存并打开下一个" button: go on to the next on the review queue.
    next = Flag(_l("Save and open the next"), choices=["1"])
