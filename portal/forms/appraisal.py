"""Forms of the appraisal blueprint (群众评议, 民主评议党员, 分类定级)."""
from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..models import BranchLevel, MemberLevel, RaterGroup
from ..services.appraisal import MAX_CODES_PER_REQUEST, MEMBER_MIN_FLOOR, MIN_BALLOTS_FLOOR
from ..services.grading import REASON_MAX
from .fields import Choice, Day, Flag, FormToken, HiddenId, Id, LongText, Text, TextList, WholeNumber


def answers_from(data, prefix: str) -> dict[int, str]:
    """The radio answers of a ballot ({question or member id: level value}) from fields named
    `<prefix><id>`; other fields and malformed names are ignored (the service refuses missing answers)."""
    out: dict[int, str] = {}
    for name, value in data.items():
        rest = name[len(prefix):]
        if name.startswith(prefix) and rest.isascii() and rest.isdigit() and len(rest) <= 10:
            out[int(rest)] = (value or "").strip()[:24]
    return out


class BallotForm(FlaskForm):
    """The public ballot: the code, and on the second step (`step` = "answers") one radio group per question,
    named q<question id>."""

    code = Text(_l("Appraisal code"), max_length=40)
    step = Flag(_l("Step"), choices=["answers"])

    def answers(self) -> dict[int, str]:
        return answers_from(request.form, "q") if request.method == "POST" else {}


class MemberAppraisalForm(FlaskForm):
    """民主评议党员: one radio group per member of the branch, named m<user id>."""

    def answers(self) -> dict[int, str]:
        return answers_from(request.form, "m") if request.method == "POST" else {}


class RoundForm(FlaskForm):
    groups = TextList(_l("Rater groups"), max_length=24, max_count=len(RaterGroup))
    weight_satisfied = WholeNumber(_l("Satisfied"), minimum=0, maximum=100, required=True)
    weight_fairly = WholeNumber(_l("Fairly satisfied"), minimum=0, maximum=100, required=True)
    weight_basically = WholeNumber(_l("Basically satisfied"), minimum=0, maximum=100, required=True)
    weight_dissatisfied = WholeNumber(_l("Dissatisfied"), minimum=0, maximum=100, required=True)
    min_ballots = Id(_l("Minimum ballots before results are shown"), minimum=MIN_BALLOTS_FLOOR, maximum=1000,
                     required=True)
    member_min_answers = Id(_l("Minimum answers about a member before they are shown"), minimum=MEMBER_MIN_FLOOR,
                            maximum=100, required=True)
    opens_on = Day(_l("Opens on"), required=True)
    closes_on = Day(_l("Closes on"), required=True)


class CodesForm(FlaskForm):
    group = Choice(_l("Rater group"), choices=RaterGroup, required=True)
    count = Id(_l("Number of codes"), minimum=1, maximum=MAX_CODES_PER_REQUEST, required=True,
               message=_l("Enter a number from 1 to %(n)s.", n=MAX_CODES_PER_REQUEST))
    form_token = FormToken()


class VoidForm(FlaskForm):
    group = Choice(_l("Rater group"), choices=RaterGroup)  # blank: every group
    confirm = Choice(choices=["yes"])  # blank: show the confirmation first


class VoidOneForm(FlaskForm):
    code = Text(_l("Code on the slip"), max_length=40, required=True)


class PolicyForm(FlaskForm):
    weight_self = WholeNumber(_l("Weight of the self-assessment score"), minimum=0, maximum=100, required=True)
    weight_review = WholeNumber(_l("Weight of the leader review"), minimum=0, maximum=100, required=True)
    weight_appraisal = WholeNumber(_l("Weight of the appraisal score"), minimum=0, maximum=100, required=True)
    advanced_min = WholeNumber(_l("先进 from a composite score of"), minimum=0, maximum=100, required=True)
    ordinary_min = WholeNumber(_l("一般 from a composite score of (below: 后进)"), minimum=0, maximum=100,
                               required=True)
    advanced_min_satisfaction = WholeNumber(_l("Never 先进 below this satisfaction rate (per cent)"), minimum=0,
                                            maximum=100, required=True)
    member_excellent_min = WholeNumber(_l("优秀 from"), minimum=0, maximum=100, required=True)
    member_qualified_min = WholeNumber(_l("合格 from"), minimum=0, maximum=100, required=True)
    member_basic_min = WholeNumber(_l("基本合格 from (below: 不合格)"), minimum=0, maximum=100, required=True)


class ConfirmForm(FlaskForm):
    grade = Choice(_l("Grade"), choices=[*BranchLevel, *MemberLevel], required=True)
    reason = LongText(_l("Reason (required when the grade differs from the proposal)"), max_length=REASON_MAX)
    version = HiddenId()
    record = Id()  # the grade record, when the form posts to the grades page itself (absent on its own page)
