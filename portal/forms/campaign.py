"""Forms of the campaign blueprint: years, submission requests (报送), pledges, brands and projects,
supervision (督察). Field names are those the templates and tests post. The forms normalise and bound
the input; the services still decide what the domain allows."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.widgets import HiddenInput

from ..models import FollowUpStatus, InspectionKind, PhaseKind, RequestKind, ReviewRating
from ..services.campaign import PHASE_ORDER, year_span
from .fields import (
    HORIZON,
    BranchPickList,
    Choice,
    Day,
    Flag,
    FormToken,
    HiddenId,
    Id,
    IdList,
    LongText,
    Moment,
    Text,
    TextList,
    Upload,
    horizon,
    in_future,
    local_today,
    within,
)

YEAR = timedelta(days=366)  # how far from a visit its date and its follow-ups plausibly lie


class YearForm(FlaskForm):
    year = Id(_l("Year"), minimum=2000, maximum=2100, required=True,
              message=_l("Enter a year between 2000 and 2100."))
    theme = Text(_l("Theme"), max_length=120, required=True)
    start = Day(_l("First phase starts"))  # blank: campaign.new_year_start
    form_token = FormToken()


class _YearUpdate(FlaskForm):
    theme = Text(_l("Theme"), max_length=120)
    description = LongText(_l("Description"), max_length=5000)
    version = HiddenId()


def year_update_form() -> FlaskForm:
    """The year form with a start and end date per phase (`<kind>_start`, `<kind>_end`)."""
    fields = {}
    for kind in PHASE_ORDER:
        fields[f"{kind.value}_start"] = Day()
        fields[f"{kind.value}_end"] = Day()
    return type("YearUpdateForm", (_YearUpdate,), fields)()


class MakeCurrentForm(FlaskForm):
    """Making a year the current one; `confirm` = "1" once the admin has read what that changes."""

    confirm = Flag(_l("Confirmation"), choices=("1",))


class NextPhaseForm(FlaskForm):
    """开启下一阶段: when the next phase starts (today by default) and ends."""

    start = Day(_l("From"), required=True)
    end = Day(_l("To"), required=True)
    # The phase the form was shown for: a second send of the form never opens the phase after it.
    opens = Choice(choices=PhaseKind, widget=HiddenInput())
    # The year's calendar as the page showed it: a send from a tab left open is refused, not applied over a change.
    version = HiddenId()


class RequestForm(FlaskForm):
    kind = Choice(_l("Kind"), choices=RequestKind, required=True)
    title = Text(_l("Title"), max_length=200, required=True)
    description = LongText(_l("Description"), max_length=5000)
    deadline = Moment(_l("Deadline"), required=True, validators=[
        in_future(_l("A deadline must be in the future: choose a time after %(now)s.")),
        within(None, horizon, too_late=_l("A deadline must fall within the campaign: choose %(day)s or earlier."))])
    branches = BranchPickList(_l("Branches"))
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


class _PledgeFields(FlaskForm):
    text = LongText(_l("Pledge"), max_length=2000, required=True)
    items = IdList(_l("Criteria items"))


class PledgeForm(_PledgeFields):
    """Editing a pledge, as the version it was loaded with."""

    version = HiddenId()


class PledgeCreateForm(_PledgeFields):
    """A new pledge; field `for` says whose: "branch" or the member's own (a Python keyword, so the field
    is set below)."""

    form_token = FormToken()


setattr(PledgeCreateForm, "for", Flag(_l("Whose pledge"), choices=("branch", "member")))  # noqa: B010


def pledge_entry_form(pledge) -> FlaskForm:
    """What was done to keep `pledge`: dated from the day the pledge was made up to today."""

    class PledgeEntryForm(FlaskForm):
        text = LongText(_l("What was done"), max_length=2000, required=True)
        happened_on = Day(_l("Date"), required=True, validators=[within(
            pledge.created_at.date(), local_today,
            too_early=_l("An entry cannot be dated before its pledge was made (%(day)s)."),
            too_late=_l("An entry records what was done: it cannot be dated after today (%(day)s)."))])
        form_token = FormToken()

    return PledgeEntryForm()


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


def milestone_form(project) -> FlaskForm:
    """A milestone of `project`: due within the project's span, its campaign year (first phase's start to
    last phase's end; a year without phases: from the day the project was set up to the campaign's horizon)."""
    started = project.created_at.date()
    first, last = year_span(project.year_id) or (started, started + HORIZON)

    class MilestoneForm(FlaskForm):
        title = Text(_l("Title"), max_length=200, required=True)
        measure = Text(_l("Measure"), max_length=200)
        due_on = Day(_l("Due"), required=True, validators=[within(
            first, last, too_early=_l("A milestone falls due within its project's campaign year: from %(day)s."),
            too_late=_l("A milestone falls due within its project's campaign year: by %(day)s."))])
        form_token = FormToken()

    return MilestoneForm()


class MilestoneDoneForm(FlaskForm):
    done = Flag(_l("Done"), choices=("0", "1"))
    evidence = LongText(_l("Evidence"), max_length=2000)
    version = HiddenId()


class InspectionForm(FlaskForm):
    kind = Choice(_l("Kind"), choices=InspectionKind, required=True)
    held_on = Day(_l("Date"), required=True, validators=[within(
        lambda _form: local_today() - YEAR, lambda _form: local_today() + YEAR,
        too_early=_l("A visit is recorded within a year of it: choose %(day)s or later."),
        too_late=_l("A visit can be planned at most a year ahead: choose %(day)s or earlier."))])
    title = Text(_l("Title"), max_length=200, required=True)
    findings = LongText(_l("Findings"), max_length=10000)
    branches = BranchPickList(_l("Branches"))
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
        due_on = Day(_l("Due"), required=True, validators=[within(
            held_on, held_on + YEAR,
            too_early=_l("A follow-up cannot fall due before the visit it follows (%(day)s)."),
            too_late=_l("A follow-up falls due within a year of its visit: by %(day)s."))])
        form_token = FormToken()

    return FollowUpForm()


class FollowUpStatusForm(FlaskForm):
    status = Choice(choices=FollowUpStatus, required=True, message=_l("Choose a status."))
    version = HiddenId()


class FollowUpAnswerForm(FlaskForm):
    """A branch secretary's answer to an inspection follow-up; `done` closes it."""

    response = LongText(_l("What the branch has done"), max_length=5000, required=True)
    done = Flag(_l("Done"), choices=["1"])
    version = HiddenId()
