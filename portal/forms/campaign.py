"""Forms of the campaign blueprint: years, submission requests (报送), pledges, brands and projects,
supervision (督察). Field names are those the templates and tests post. The forms normalise and bound
the input; the services still decide what the domain allows."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..models import FollowUpStatus, InspectionKind, RequestKind, ReviewRating
from ..services.campaign import PHASE_ORDER
from .fields import (
    Choice,
    Day,
    FormToken,
    HiddenId,
    Id,
    IdList,
    LongText,
    Moment,
    Text,
    TextList,
    Upload,
    not_before_day,
    recent,
)


class YearForm(FlaskForm):
    year = Id(_l("Year"), minimum=2000, maximum=2100, required=True,
              message=_l("Enter a year between 2000 and 2100."))
    theme = Text(_l("Theme"), max_length=120, required=True)
    form_token = FormToken()


class _YearUpdate(FlaskForm):
    theme = Text(_l("Theme"), max_length=120)
    description = LongText(_l("Description"), max_length=5000)


def year_update_form() -> FlaskForm:
    """The year form with a start and end date per phase (`<kind>_start`, `<kind>_end`)."""
    fields = {}
    for kind in PHASE_ORDER:
        fields[f"{kind.value}_start"] = Day()
        fields[f"{kind.value}_end"] = Day()
    return type("YearUpdateForm", (_YearUpdate,), fields)()


class NextPhaseForm(FlaskForm):
    """开启下一阶段: when the next phase starts (today by default) and ends."""

    start = Day(_l("From"), required=True)
    end = Day(_l("To"), required=True)


class RequestForm(FlaskForm):
    kind = Choice(_l("Kind"), choices=RequestKind, required=True)
    title = Text(_l("Title"), max_length=200, required=True)
    description = LongText(_l("Description"), max_length=5000)
    deadline = Moment(_l("Deadline"), required=True, validators=[recent()])
    branches = IdList(_l("Branches"))
    form_token = FormToken()


class SubmitForm(FlaskForm):
    document = Upload(_l("Document"))  # optional when one was handed in before; the service decides
    note = LongText(_l("Note"), max_length=2000)
    group_role = TextList(max_length=24)
    group_name = TextList(max_length=64)
    group_post = TextList(max_length=64)
    version = HiddenId()


class ReasonForm(FlaskForm):
    reason = LongText(_l("Reason"), max_length=1000)


class DecisionForm(FlaskForm):
    """Accepting a submission as it was seen: the version its row or page was loaded with."""

    version = HiddenId()


class SubmissionReturnForm(ReasonForm):
    version = HiddenId()


class PledgeForm(FlaskForm):
    text = LongText(_l("Pledge"), max_length=2000, required=True)
    items = IdList(_l("Criteria items"))
    form_token = FormToken()
    version = HiddenId()


class PledgeCreateForm(PledgeForm):
    """A new pledge; field `for` says whose: "branch" or the member's own (a Python keyword, so the field
    is set below)."""


setattr(PledgeCreateForm, "for", Choice(choices=("branch", "member")))  # noqa: B010


class PledgeEntryForm(FlaskForm):
    text = LongText(_l("What was done"), max_length=2000, required=True)
    happened_on = Day(_l("Date"), required=True)
    form_token = FormToken()


class PledgeReviewForm(FlaskForm):
    rating = Choice(_l("Rating"), choices=ReviewRating)
    comment = LongText(_l("Comment"), max_length=2000)


class BrandForm(FlaskForm):
    brand_name = Text(_l("Brand name"), max_length=120, required=True)
    brand_slogan = Text(_l("Slogan"), max_length=200)
    brand_description = LongText(_l("Description"), max_length=5000)
    version = HiddenId()


class ProjectForm(FlaskForm):
    title = Text(_l("Title"), max_length=200, required=True)
    goal = LongText(_l("Goal"), max_length=5000)
    form_token = FormToken()


class ProjectEditForm(FlaskForm):
    title = Text(_l("Title"), max_length=200, required=True)
    goal = LongText(_l("Goal"), max_length=5000)
    version = HiddenId()


class MilestoneForm(FlaskForm):
    title = Text(_l("Title"), max_length=200, required=True)
    measure = Text(_l("Measure"), max_length=200)
    due_on = Day(_l("Due"), required=True)
    form_token = FormToken()


class MilestoneDoneForm(FlaskForm):
    done = Choice(choices=("0", "1"))
    evidence = LongText(_l("Evidence"), max_length=2000)
    version = HiddenId()


class InspectionForm(FlaskForm):
    kind = Choice(_l("Kind"), choices=InspectionKind, required=True)
    held_on = Day(_l("Date"), required=True)
    title = Text(_l("Title"), max_length=200, required=True)
    findings = LongText(_l("Findings"), max_length=10000)
    branches = IdList(_l("Branches"))
    form_token = FormToken()


class InspectionEditForm(FlaskForm):
    title = Text(_l("Title"), max_length=200, required=True)
    findings = LongText(_l("Findings"), max_length=10000)
    version = HiddenId()


def follow_up_form(held_on) -> FlaskForm:
    """A follow-up of a visit held on `held_on`: it cannot fall due before the visit."""

    class FollowUpForm(FlaskForm):
        branch_id = Id(_l("Branch"))
        action = LongText(_l("Action"), max_length=5000, required=True)
        owner = Text(_l("Owner"), max_length=64, required=True)
        due_on = Day(_l("Due"), required=True, validators=[not_before_day(
            held_on, _l("A follow-up cannot fall due before the visit it follows."))])
        form_token = FormToken()

    return FollowUpForm()


class FollowUpStatusForm(FlaskForm):
    status = Choice(choices=FollowUpStatus, required=True, message=_l("Choose a status."))
    version = HiddenId()


class FollowUpAnswerForm(FlaskForm):
    """A branch secretary's answer to an inspection follow-up; `done` closes it."""

    response = LongText(_l("What the branch has done"), max_length=5000, required=True)
    done = Choice(choices=["1"])
    version = HiddenId()
