"""Forms of the news blueprint: writing a post, and the editors' moderation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..models import PostCategory
from ..services.news import BODY_MAX, SUMMARY_MAX, TITLE_MAX, PostInput, body_of
from .fields import BranchPick, Choice, Flag, FormToken, HiddenId, Id, IdList, LongText, Moment, Text, Upload


class PostForm(FlaskForm):
    category = Choice(_l("Category"), choices=PostCategory)
    title = Text(_l("Title"), max_length=TITLE_MAX)
    summary = LongText(_l("Summary"), max_length=SUMMARY_MAX)
    body_md = LongText(_l("Text"), max_length=BODY_MAX)
    # The rich-text editor's HTML (pasted Word/WPS text can be large before cleaning); made Markdown in as_input.
    body_html = LongText(_l("Text"), max_length=BODY_MAX * 20)
    branch_id = BranchPick(_l("Branch"))
    member_id = Id(_l("Member"))
    criteria = IdList(_l("Criteria"))
    remove_cover = Flag(_l("Remove the cover image"), choices=("1",))
    cover = Upload(_l("Cover image"))  # what an image may be: services/images.py
    form_token = FormToken()

    def as_input(self) -> PostInput:
        """The cleaned values, as the news service takes them (it still applies the domain's rules:
        required fields, whom a person may write about, which criteria exist)."""
        return PostInput(category=self.category.data, title=self.title.data, summary=self.summary.data,
                         body_md=body_of(self.body_md.data, self.body_html.data),
                         branch_id=str(self.branch_id.data or ""),
                         member_id=str(self.member_id.data or ""), criteria=[str(c) for c in self.criteria.data],
                         remove_cover=self.remove_cover.data == "1")


class PostEditForm(PostForm):
    """Editing a post, as the version it was loaded with."""

    version = HiddenId()


class ScheduleForm(FlaskForm):
    publish_at = Moment(_l("Publish at"))


class ReasonForm(FlaskForm):
    reason = LongText(_l("Reason"), max_length=2000)


class FlagForm(FlaskForm):
    flag = Flag(_l("Pinned or featured"), choices=("pinned", "featured"), required=True)
    value = Flag(_l("On or off"), choices=("0", "1"), required=True)


class InlineImageForm(FlaskForm):
    """The rich-text editor's image upload: one image (a second one is refused, never dropped)."""

    image = Upload(_l("Image"))
