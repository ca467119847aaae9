"""Translated names of the domain's enumerations, for templates and exports."""
from flask_babel import lazy_gettext as _l

from .models import (
    AssessmentStatus,
    Audience,
    BranchKind,
    CommendationLevel,
    FollowUpStatus,
    Grade,
    GroupRole,
    InspectionKind,
    NominationStatus,
    PhaseKind,
    PledgeStatus,
    PostCategory,
    PostStatus,
    Result,
    ReviewRating,
    Role,
    Subject,
    SubmissionStatus,
    UnitKind,
)

ROLE = {
    Role.MEMBER: _l("Party member"),
    Role.SECRETARY: _l("Branch secretary"),
    Role.EDITOR: _l("Publicity section"),
    Role.LEADER: _l("Leading group"),
    Role.ADMIN: _l("Organisation section"),
}
UNIT_KIND = {
    UnitKind.KINDERGARTEN: _l("Kindergarten"),
    UnitKind.PRIMARY: _l("Primary school"),
    UnitKind.MIDDLE: _l("Middle school"),
    UnitKind.VOCATIONAL: _l("Vocational school"),
    UnitKind.OFFICE: _l("Office"),
}
BRANCH_KIND = {
    BranchKind.GENERAL_BRANCH: _l("General Party branch"),
    BranchKind.BRANCH: _l("Party branch"),
}
PHASE = {
    PhaseKind.MOBILISE: _l("Mobilisation"),
    PhaseKind.PLEDGE: _l("Public pledges"),
    PhaseKind.REVIEW: _l("Leader review"),
    PhaseKind.APPRAISAL: _l("Public appraisal"),
    PhaseKind.COMMEND: _l("Selection and commendation"),
}
SUBJECT = {
    Subject.BRANCH: _l("Advanced Party organisation (Five Goods)"),
    Subject.MEMBER: _l("Outstanding Party member (Five Leads)"),
}
RESULT = {
    Result.NOT_ASSESSED: _l("Not assessed"),
    Result.MET: _l("Met"),
    Result.PARTLY: _l("Partly met"),
    Result.NOT_MET: _l("Not met"),
    Result.NOT_APPLICABLE: _l("Not applicable"),
}
ASSESSMENT_STATUS = {
    AssessmentStatus.DRAFT: _l("Draft"),
    AssessmentStatus.SUBMITTED: _l("Submitted"),
    AssessmentStatus.RETURNED: _l("Returned"),
    AssessmentStatus.REVIEWED: _l("Reviewed"),
}
REVIEW_RATING = {
    ReviewRating.GOOD: _l("Good"),
    ReviewRating.FAIRLY_GOOD: _l("Fairly good"),
    ReviewRating.AVERAGE: _l("Average"),
    ReviewRating.POOR: _l("Poor"),
}
PLEDGE_STATUS = {
    PledgeStatus.DRAFT: _l("Draft"),
    PledgeStatus.PENDING: _l("Awaiting approval"),
    PledgeStatus.RETURNED: _l("Returned"),
    PledgeStatus.APPROVED: _l("Published"),
}
SUBMISSION_STATUS = {
    SubmissionStatus.PENDING: _l("Not submitted"),
    SubmissionStatus.SUBMITTED: _l("Submitted"),
    SubmissionStatus.RETURNED: _l("Returned"),
    SubmissionStatus.ACCEPTED: _l("Accepted"),
}
GROUP_ROLE = {
    GroupRole.LEADER: _l("Group leader"),
    GroupRole.DEPUTY: _l("Deputy leader"),
    GroupRole.MEMBER: _l("Group member"),
}
POST_CATEGORY = {
    PostCategory.BRANCH_EXEMPLAR: _l("Advanced Party organisations"),
    PostCategory.MEMBER_EXEMPLAR: _l("Outstanding Party members"),
    PostCategory.EXPERIENCE: _l("Sharing experience"),
    PostCategory.BULLETIN: _l("Activity bulletins"),
}
POST_STATUS = {
    PostStatus.DRAFT: _l("Draft"),
    PostStatus.PENDING: _l("Awaiting review"),
    PostStatus.RETURNED: _l("Returned"),
    PostStatus.SCHEDULED: _l("Scheduled"),
    PostStatus.PUBLISHED: _l("Published"),
    PostStatus.UNPUBLISHED: _l("Unpublished"),
}
NOMINATION_STATUS = {
    NominationStatus.SUBMITTED: _l("Nominated"),
    NominationStatus.SHORTLISTED: _l("Shortlisted"),
    NominationStatus.NOTICE: _l("Public notice"),
    NominationStatus.COMMENDED: _l("Commended"),
    NominationStatus.REJECTED: _l("Not commended"),
}
COMMENDATION_LEVEL = {
    CommendationLevel.DISTRICT: _l("District level"),
    CommendationLevel.SYSTEM: _l("Education system level"),
    CommendationLevel.SCHOOL: _l("School level"),
}
INSPECTION_KIND = {
    InspectionKind.FORUM: _l("Forum"),
    InspectionKind.INSPECTION: _l("Periodic inspection"),
    InspectionKind.RESEARCH_VISIT: _l("One-day research visit"),
}
FOLLOW_UP_STATUS = {FollowUpStatus.OPEN: _l("Open"), FollowUpStatus.DONE: _l("Done")}
AUDIENCE = {
    Audience.TEACHERS: _l("Teachers"),
    Audience.STUDENTS: _l("Students"),
    Audience.PARENTS: _l("Parents"),
}
GRADE = {Grade.ADVANCED: _l("Advanced"), Grade.ORDINARY: _l("Ordinary"), Grade.LAGGING: _l("Lagging")}
