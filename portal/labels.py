"""Translated names of the domain's enumerations, for templates and exports."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from .models import (
    AssessmentStatus,
    BranchKind,
    BranchLevel,
    BulletinStatus,
    CommendationLevel,
    EmailPreference,
    FollowUpStatus,
    GroupRole,
    ImportStatus,
    InspectionKind,
    Level,
    MemberLevel,
    NominationStatus,
    PhaseKind,
    PledgeStatus,
    PostCategory,
    PostStatus,
    RaterGroup,
    RequestKind,
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
# A framework's short name where its own English name (Framework.name_en) is missing.
FRAMEWORK_NAME = {
    Subject.BRANCH: _l("Five Goods"),
    Subject.MEMBER: _l("Five Leads"),
}


def framework_name(framework) -> str:
    """A framework's name in the request's language: its own name (五个好) in Chinese; in another language its
    English name (Framework.name_en), else the translated FRAMEWORK_NAME of its subject."""
    from flask_babel import get_locale

    locale = get_locale()
    if locale is None or locale.language == "zh":
        return framework.name
    return framework.name_en or str(FRAMEWORK_NAME.get(framework.subject, framework.name))


def criterion_title(criterion) -> str:
    """A criterion's title (a Criterion, or items.CriterionAsShown of a finished year) in the request's language: its
    own title (领导班子好) in Chinese, outside a request, or where it has no English one; in another language its
    English title (Criterion.title_en, 'Good leadership team'). The one way pages and exports name a criterion
    (the appraisal's questions read the same column: appraisal.question_text)."""
    return title_in_language(criterion.title, criterion.title_en)


def title_in_language(title: str, title_en: str | None) -> str:
    """`criterion_title` of a criterion read as its two columns (`title`, `title_en`: a row, not the object)."""
    from flask_babel import get_locale

    locale = get_locale()
    if locale is None or locale.language == "zh":
        return title
    return title_en or title


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
RATER_GROUP = {
    RaterGroup.STAFF: _l("Staff"),
    RaterGroup.MEMBERS: _l("Party members"),
    RaterGroup.STUDENTS: _l("Students"),
    RaterGroup.PARENTS: _l("Parents"),
    RaterGroup.COMMUNITY: _l("Community residents"),
}
LEVEL = {
    Level.SATISFIED: _l("Satisfied"),
    Level.FAIRLY: _l("Fairly satisfied"),
    Level.BASICALLY: _l("Basically satisfied"),
    Level.DISSATISFIED: _l("Dissatisfied"),
}
GRADE = {BranchLevel.ADVANCED: _l("Advanced"), BranchLevel.ORDINARY: _l("Ordinary"),
         BranchLevel.LAGGING: _l("Lagging")}
MEMBER_GRADE = {
    MemberLevel.EXCELLENT: _l("Excellent"),
    MemberLevel.QUALIFIED: _l("Qualified"),
    MemberLevel.BASIC: _l("Basically qualified"),
    MemberLevel.UNQUALIFIED: _l("Unqualified"),
}


# Texts of the dashboard's rows, translated once per page (`resolved`) and %-formatted per row.
DASHBOARD_ROW = {
    "overdue": _l("%(count)s overdue"),
    "ballots": _l("%(n)s ballots"),
}
# Texts of the branch page's member rows, the same way.
MEMBER_ROW = {
    "not_started": _l("Not started"),
    "progress": _l("Progress of %(name)s"),
}


def resolved(mapping: dict) -> dict:
    """The mapping with its labels translated now, once: for long tables, one gettext per label
    instead of one per row."""
    return {key: str(value) for key, value in mapping.items()}


class Translated(dict):
    """`mapping`'s labels, each translated when first asked for and kept (for one page): a long list that repeats a
    few labels (the home page's work queue) translates each once, not once per row, and never the labels it does
    not show. A label is the translation as markup, as the lazy string renders in a template (its `__html__`), so
    the page is the same; a key `mapping` lacks raises KeyError as the mapping does."""

    def __init__(self, mapping: dict) -> None:
        super().__init__()
        self._mapping = mapping

    def __missing__(self, key):
        from markupsafe import Markup

        label = self[key] = Markup(str(self._mapping[key]))  # noqa: S704  # nosec B704 - the catalogue's own text
        return label


IMPORT_STATUS = {
    ImportStatus.QUEUED: _l("Waiting for the task queue"),
    ImportStatus.RUNNING: _l("Importing"),
    ImportStatus.DONE: _l("Imported"),
    ImportStatus.FAILED: _l("Failed: nothing was imported"),
}


# What an audited change was, in words (the branch page's trail of recent changes); unknown codes show as they are.
AUDIT_ACTION = {
    "auth.login": _l("signed in"),
    "auth.login_failed": _l("failed sign-in"),
    "auth.logout": _l("signed out"),
    "auth.password_changed": _l("changed the password"),
    "auth.session_expired": _l("session expired"),
    "access.file_missing": _l("found a stored file missing"),
    "upload.clean": _l("removed files no record named"),
    "branch.create": _l("added the branch"),
    "branch.update": _l("edited the branch's details"),
    "branch.enable": _l("enabled the branch"),
    "branch.disable": _l("disabled the branch"),
    "branch.delete": _l("deleted the branch"),
    "brand.update": _l("edited the branch's brand"),
    "bulletin.create": _l("drafted a bulletin"),
    "bulletin.update": _l("edited a bulletin draft"),
    "bulletin.issue": _l("issued a bulletin"),
    "campaign_year.create": _l("added a campaign year"),
    "campaign_year.update": _l("edited a campaign year"),
    "campaign_year.make_current": _l("made a campaign year current"),
    "checklist.set_result": _l("assessed a checklist item"),
    "checklist.set_note": _l("wrote a note on a checklist item"),
    "checklist.add_evidence": _l("attached evidence"),
    "checklist.delete_evidence": _l("removed evidence"),
    "checklist.submit": _l("submitted the self-assessment"),
    "checklist.return": _l("returned the self-assessment for revision"),
    "checklist.review": _l("reviewed the self-assessment"),
    "follow_up.create": _l("recorded an inspection follow-up"),
    "follow_up.status": _l("updated an inspection follow-up"),
    "follow_up.answer": _l("answered an inspection follow-up"),
    "notification.remind": _l("reminded a member to submit the self-assessment"),
    "inspection.update": _l("edited the findings of a visit"),
    "inspection.create": _l("recorded an inspection"),
    "milestone.create": _l("added a project milestone"),
    "milestone.update": _l("updated a project milestone"),
    "nomination.create": _l("nominated an exemplar"),
    "nomination.shortlist": _l("shortlisted a nomination"),
    "nomination.notice": _l("put a nomination under public notice"),
    "nomination.commend": _l("commended an exemplar"),
    "nomination.reject": _l("declined a nomination"),
    "nomination.feature": _l("featured a commended exemplar"),
    "objection.create": _l("raised an objection"),
    "pledge.create": _l("drafted a pledge"),
    "pledge.update": _l("edited a pledge"),
    "pledge.submit": _l("submitted a pledge"),
    "pledge.approve": _l("approved a pledge"),
    "pledge.return": _l("returned a pledge"),
    "pledge.entry": _l("recorded progress on a pledge"),
    "pledge.evaluate": _l("evaluated a pledge"),
    "post.create": _l("drafted a post"),
    "post.add_image": _l("put an image into a post"),
    "post.edit": _l("edited a post"),
    "post.submit": _l("submitted a post for review"),
    "post.publish": _l("published a post"),
    "post.schedule": _l("scheduled a post"),
    "post.publish_scheduled": _l("published a scheduled post at its time"),
    "post.return": _l("returned a post"),
    "post.unpublish": _l("unpublished a post"),
    "post.pin": _l("pinned or unpinned a post"),
    "post.feature": _l("featured or unfeatured a post"),
    "project.create": _l("started a project"),
    "project.update": _l("edited a project"),
    "roster.import": _l("imported the roster"),
    "roster.queued": _l("started a roster import"),
    "roster.failed": _l("saw a roster import fail"),
    "roster.cancelled": _l("cancelled a roster import before it began"),
    "roster.template": _l("downloaded the roster template"),
    "campaign_year.next_phase": _l("opened the next phase"),
    "user.activation_issued": _l("issued activation codes"),
    "auth.activated": _l("activated the account with a code"),
    "auth.activation_failed": _l("tried an activation code that did not match"),
    "submission.submit": _l("handed in a document"),
    "submission.accept": _l("accepted a document"),
    "submission.return": _l("returned a document"),
    "submission_request.create": _l("asked the branches for a document"),
    "user.create": _l("added an account"),
    "user.update": _l("edited an account"),
    "user.enable": _l("enabled an account"),
    "user.disable": _l("disabled an account"),
    "user.reset_password": _l("reset a password"),
    "user.set_locale": _l("changed the interface language"),
    "user.email_preference": _l("changed how notifications are e-mailed"),
    "appraisal.round_created": _l("set up the appraisal round"),
    "appraisal.round_changed": _l("changed the appraisal round"),
    "appraisal.codes_generated": _l("generated appraisal codes"),
    "appraisal.codes_voided": _l("voided appraisal codes"),
    "grading.policy_changed": _l("changed the grading rules"),
    "grading.proposed": _l("computed the grade proposals"),
    "grading.confirmed": _l("confirmed a grade as proposed"),
    "grading.overridden": _l("set a grade other than the proposal"),
    "framework.criterion_update": _l("edited a criterion of a framework"),
    "framework.item_add": _l("added a framework item"),
    "framework.item_update": _l("edited a framework item"),
    "framework.item_retire": _l("retired a framework item"),
    "framework.item_restore": _l("brought back a retired framework item"),
    "framework.import": _l("imported a framework file"),
}

# What a framework import would do to one row (the import preview).
FRAMEWORK_CHANGE = {
    "criterion": _l("Criterion edited"),
    "add": _l("New item"),
    "edit": _l("Wording or weight edited"),
    "move": _l("Moved"),
    "retire": _l("Retired"),
    "restore": _l("Brought back"),
}

# The areas of audited actions, for the audit log's kind filter ("All of 群众评议").
# Areas of the audit log's kind filter (their own context: "Projects" elsewhere heads a count column).
AUDIT_AREA = {
    "access": lazy_pgettext("audit area", "Access"),
    "appraisal": lazy_pgettext("audit area", "Public appraisal (群众评议)"),
    "auth": lazy_pgettext("audit area", "Signing in"),
    "branch": lazy_pgettext("audit area", "Branches"),
    "brand": lazy_pgettext("audit area", "Branch brands"),
    "bulletin": lazy_pgettext("audit area", "Bulletins"),
    "campaign_year": lazy_pgettext("audit area", "Campaign years"),
    "checklist": lazy_pgettext("audit area", "Self-assessment"),
    "follow_up": lazy_pgettext("audit area", "Inspection follow-ups"),
    "framework": lazy_pgettext("audit area", "Frameworks"),
    "grading": lazy_pgettext("audit area", "Grades (分类定级)"),
    "inspection": lazy_pgettext("audit area", "Inspections"),
    "milestone": lazy_pgettext("audit area", "Project milestones"),
    "nomination": lazy_pgettext("audit area", "Nominations"),
    "notification": lazy_pgettext("audit area", "Notifications"),
    "objection": lazy_pgettext("audit area", "Objections"),
    "pledge": lazy_pgettext("audit area", "Pledges"),
    "post": lazy_pgettext("audit area", "News board"),
    "project": lazy_pgettext("audit area", "Projects"),
    "roster": lazy_pgettext("audit area", "Roster"),
    "submission": lazy_pgettext("audit area", "Submissions"),
    "submission_request": lazy_pgettext("audit area", "Submission requests"),
    "upload": lazy_pgettext("audit area", "Uploaded files"),
    "user": lazy_pgettext("audit area", "Accounts"),
}

# What each recorded field is called (audit log: changes old → new). "object.field" names a field whose meaning
# depends on the record ("group" of a submission request is a number of people, of an appraisal code a rater group).
AUDIT_FIELD = {
    "via": _l("made through"),  # an account or branch made by an import, not by hand
    "import": _l("roster import no."),
    "filename": _l("file"),
    # appraisal and grading
    "round": _l("round"),
    "group": _l("rater group"),
    "submissionrequest.group": _l("people named"),
    "count": _l("number"),
    "batch": _l("batch"),
    "proposed": _l("proposed"),
    "confirmed": _l("confirmed"),
    "reason": _l("reason"),
    "composite": _l("composite score"),
    "year": _l("year"),
    "records": _l("records"),
    "groups": _l("rater groups"),
    "weight_satisfied": _l("weight of 满意"),
    "weight_fairly": _l("weight of 比较满意"),
    "weight_basically": _l("weight of 基本满意"),
    "weight_dissatisfied": _l("weight of 不满意"),
    "min_ballots": _l("minimum ballots"),
    "member_min_answers": _l("minimum answers about a member"),
    "opens_on": _l("opens on"),
    "closes_on": _l("closes on"),
    "weight_self": _l("weight of the self-assessment"),
    "weight_review": _l("weight of the leader review"),
    "weight_appraisal": _l("weight of the appraisal"),
    "advanced_min": _l("先进 from"),
    "ordinary_min": _l("一般 from"),
    "advanced_min_satisfaction": _l("satisfaction needed for 先进"),
    "member_excellent_min": _l("优秀 from"),
    "member_qualified_min": _l("合格 from"),
    "member_basic_min": _l("基本合格 from"),
    # workflow and records
    "status": _l("status"),
    "comment": _l("comment"),
    "return_reason": _l("reason for return"),
    "decision_note": _l("decision note"),
    "rating": _l("rating"),
    "improvements": _l("required improvements"),
    "result": _l("result"),
    "note": _l("note"),
    "title": _l("title"),
    "text": _l("text"),
    "items": _l("indicators"),
    "version": _l("version"),
    "pinned": _l("pinned"),
    "featured": _l("featured"),
    "number": _l("document number"),
    "sections": _l("sections"),
    "level": _l("commendation level"),
    "member_id": _l("nominee"),
    "notice_ends_at": _l("public notice until"),
    "post_id": _l("story"),
    "nomination_id": _l("nomination"),
    "entry_id": _l("progress entry"),
    "on": _l("date"),
    "evidence_id": _l("evidence file"),
    "name": _l("name"),
    "size": _l("size (bytes)"),
    "stored_name": _l("stored file"),
    "path": _l("address"),
    "files": _l("files"),
    "removed": _l("files removed"),
    "kind": _l("kind"),
    "branch.kind": _l("branch type"),
    "unit": _l("unit"),
    "unit_kind": _l("unit type"),
    "branch": _l("branch"),
    "pledge.branch": _l("the branch's pledge"),
    "branch_id": _l("branch"),
    "branches": _l("branches"),
    "member_count": _l("members"),
    "slogan": _l("slogan"),
    "description": _l("description"),
    "goal": _l("goal"),
    "done": _l("done"),
    "evidence": _l("evidence"),
    "due_on": _l("due on"),
    "held_on": _l("held on"),
    "findings": _l("findings"),
    "action": _l("action to take"),
    "owner": _l("responsible"),
    "response": _l("response"),
    "deadline": _l("deadline"),
    "document": _l("document"),
    "late": _l("late"),
    "theme": _l("theme"),
    "phases": _l("phase dates"),
    "current": _l("current year"),
    "opened": _l("phase opened"),
    "mobilise": PHASE[PhaseKind.MOBILISE],
    "pledge": PHASE[PhaseKind.PLEDGE],
    "review": PHASE[PhaseKind.REVIEW],
    "appraisal": PHASE[PhaseKind.APPRAISAL],
    "commend": PHASE[PhaseKind.COMMEND],
    "username": _l("username"),
    "display_name": _l("name"),
    "role": _l("role"),
    "post_title": _l("job title"),
    "email": _l("e-mail"),
    "email_preference": _l("e-mail notifications"),
    "locale": _l("interface language"),
    "active": _l("active"),
    "users": _l("accounts"),
    "expires": _l("expires"),
    "member": _l("member"),
    "format": _l("file format"),
    "disable_leavers": _l("disable those not listed"),
    "error": _l("error"),
    "created": _l("accounts added"),
    "updated": _l("accounts updated"),
    "disabled": _l("accounts disabled"),
    "unchanged": _l("accounts unchanged"),
    # frameworks (the framework editor and its import)
    "criterion": _l("criterion"),
    "title_en": _l("English title"),
    "official_text": _l("official wording"),
    "position": _l("position"),
    "weight": _l("weight"),
    "started_years": _l("years whose assessments had started"),
    "valid_from": _l("asked from (year)"),
    "retired_from": _l("no longer asked from (year)"),
    "asked_again_as": _l("asked again as item"),
    "changes": _l("changes"),
    "kinds": _l("changes by kind"),
}
# Recorded to say what an event was about (which item of whose self-assessment): shown with the object, not as a
# change.
AUDIT_CONTEXT = ("item", "of", "item_id")

BULLETIN_STATUS = {BulletinStatus.DRAFT: _l("Draft"), BulletinStatus.ISSUED: lazy_pgettext("bulletin", "Issued")}
REQUEST_KIND = {RequestKind.PLAN: _l("Leading group and implementation plan"),
                RequestKind.GENERAL: _l("Other material")}
# How notifications reach a person by e-mail: the one set of words for the account page's choice and the audit
# log (forms/auth.py builds its choices from it, in this order).
EMAIL_PREFERENCE = {EmailPreference.DIGEST: _l("A daily digest"),
                    EmailPreference.IMMEDIATE: _l("One e-mail per notification"),
                    EmailPreference.NONE: _l("No e-mail: only in the portal")}
LOCALE = {"zh": _l("Chinese"), "en": _l("English")}
# What a framework import changed, counted by kind in the audit log (services/frameworks.py: the diff's change
# kinds; FRAMEWORK_CHANGE names one change of the preview).
FRAMEWORK_CHANGE_COUNTS = {"criterion": _l("criteria edited"), "add": _l("items added"), "edit": _l("items edited"),
                           "move": _l("items moved"), "retire": _l("items retired"),
                           "restore": _l("items restored")}
YES_NO = {True: _l("Yes"), False: lazy_pgettext("answer", "No")}

# Recorded values that are codes, in words, by field ("object.field" first: a status means one thing of a post,
# another of a pledge).
AUDIT_VALUE = {
    "via": {"roster": _l("roster import"), "file": _l("import from a file")},
    "assessment.status": ASSESSMENT_STATUS,
    "pledge.status": PLEDGE_STATUS,
    "submission.status": SUBMISSION_STATUS,
    "post.status": POST_STATUS,
    "nomination.status": NOMINATION_STATUS,
    "followup.status": FOLLOW_UP_STATUS,
    "bulletin.status": BULLETIN_STATUS,
    "status": {},  # by record only
    "result": RESULT,
    "rating": REVIEW_RATING,
    "level": COMMENDATION_LEVEL,
    "role": ROLE,
    "unit_kind": UNIT_KIND,
    "kind": {},  # by record only
    "branch.kind": BRANCH_KIND,
    "inspection.kind": INSPECTION_KIND,
    "submissionrequest.kind": REQUEST_KIND,
    "group": RATER_GROUP,
    "groups": RATER_GROUP,
    "opened": PHASE,
    "proposed": {**GRADE, **MEMBER_GRADE},
    "confirmed": {**GRADE, **MEMBER_GRADE},
    "email_preference": EMAIL_PREFERENCE,
    "locale": LOCALE,
    "kinds": FRAMEWORK_CHANGE_COUNTS,  # a dict: its keys are the codes
}
# Recorded ids (or usernames) of records, shown as the record's name: field → what it refers to.
AUDIT_REFERENCE = {
    "branch_id": "branch",
    "branches": "branch",  # a list of ids (an inspection's branches) or a count (a submission request's)
    "member_id": "user",
    "users": "user",
    "member": "username",
    "post_id": "post",
    "round": "appraisalround",
    "nomination_id": "nomination",
}
# Recorded times (ISO text, UTC as stored): shown in the portal's time zone.
AUDIT_TIME = ("deadline", "expires", "notice_ends_at")


def audit_field_label(key: str, object_type: str = ""):
    """The words for a recorded field (the code itself when it has none)."""
    return AUDIT_FIELD.get(f"{object_type}.{key}") or AUDIT_FIELD.get(key, key)


def audit_value_labels(key: str, object_type: str | None = None) -> dict:
    """The words for the codes a field records: of this record's field, or (no record named) every record's."""
    if object_type is not None:
        return AUDIT_VALUE.get(f"{object_type}.{key}") or AUDIT_VALUE.get(key) or {}
    merged = dict(AUDIT_VALUE.get(key) or {})
    for name, mapping in AUDIT_VALUE.items():
        if name.endswith(f".{key}"):
            merged.update(mapping)
    return merged


# Work queue entries (services/workqueue.py), in words; "%(title)s" is the entry's own title.
QUEUE_ENTRY = {
    "returned.branch_assessment": _l("The branch's Five Goods self-assessment was returned"),
    "returned.own_assessment": _l("Your Five Leads self-assessment was returned"),
    "returned.branch_pledge": _l("The branch's pledge was returned"),
    "returned.own_pledge": _l("Your pledge was returned"),
    "returned.submission": _l("A submission was returned"),
    "returned.post": _l("Your post was returned"),
    "own.assessment": _l("Assess yourself against the Five Leads and submit it"),
    "own.pledge_missing": _l("Write your public pledge"),
    "own.pledge_draft": _l("Send your pledge for approval"),
    "owing.not_started": _l("not started"),
    "owing.draft": _l("in progress"),
    "owing.returned": _l("returned for revision"),
    "approve.pledge": _l("Pledge waiting for approval"),
    "approve.submission": _l("Submission handed in, to accept or return"),
    "approve.plan": _l("Implementation plan handed in, to accept or return"),
    "review.member_assessment": _l("Five Leads self-assessment waiting for your review"),
    "nomination.submitted": _l("to shortlist"),
    "nomination.shortlisted": _l("to put under public notice"),
    "nomination.notice": _l("public notice over: to decide"),
    "assessment.branch": _l("Five Goods self-assessment"),
    "assessment.secretary": _l("Secretary's Five Leads self-assessment"),
    "phase.gap": _l("Today falls outside every phase of the campaign calendar: set the phase dates"),
}
