"""The portal's domain model. Import models from here."""
from .appraisal import (
    LEVELS,
    AppraisalCode,
    AppraisalQuestion,
    AppraisalRound,
    AppraisalTally,
    Ballot,
    BallotAnswer,
    BranchLevel,
    CodeBatch,
    GradeRecord,
    GradingPolicy,
    Level,
    MemberAppraisalTaking,
    MemberLevel,
    MemberVerdict,
    RaterGroup,
)
from .assessments import (
    RESULT_SCORE,
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    AssessmentTally,
    Evidence,
    ItemResult,
    Result,
    Review,
    ReviewRating,
)
from .audit import AuditEvent, FormIntent
from .base import utcnow
from .campaign import PHASE_ORDER, CampaignYear, Phase, PhaseKind
from .campaign_work import (
    FollowUp,
    FollowUpStatus,
    GroupRole,
    Inspection,
    InspectionKind,
    LeadingGroupMember,
    Milestone,
    Pledge,
    PledgeEntry,
    PledgeStatus,
    ProgressSnapshot,
    Project,
    RequestKind,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    inspection_branch,
    pledge_item,
)
from .documents import Bulletin, BulletinStatus
from .figures import (
    DISTRICT_SLOTS,
    NO_GROUP,
    BranchSummary,
    DistrictCriterion,
    DistrictDay,
    DistrictGroup,
    DistrictGroupCriterion,
    DistrictSummary,
    PledgeWaiting,
    RequestGroup,
    RequestTally,
    ReviewWaiting,
)
from .frameworks import (
    RETIRED_BEFORE_ANY_YEAR,
    Criterion,
    Framework,
    Item,
    KeptCriterionName,
    KeptItemPosition,
    KeptItemWeight,
    Subject,
)
from .news import (
    Attachment,
    CommendationLevel,
    Nomination,
    NominationStatus,
    Objection,
    Post,
    PostCategory,
    PostImage,
    PostRead,
    PostStatus,
    PostVersion,
    post_criterion,
)
from .notifications import EmailPreference, Notification
from .people import Branch, BranchKind, Role, Unit, UnitKind, User
from .roster import ImportStatus, RosterImport, SlipBatch
from .security import LoginFailure, RefusalTally

# Tables whose ids the audit log names: on SQLite they are AUTOINCREMENT, so a deleted newest row's id is
# never given to another (migration i12h_01 rebuilt them; PostgreSQL sequences never reuse ids).
AUTOINCREMENT_TABLES = (
    "unit", "branch", "user", "campaign_year", "framework", "item", "assessment", "evidence", "pledge",
    "pledge_entry", "submission_request", "submission", "project", "milestone", "inspection", "follow_up",
    "post", "nomination", "attachment", "objection", "appraisal_round", "grade_record", "bulletin", "post_image",
    "roster_import",
)
for _name in AUTOINCREMENT_TABLES:
    Post.metadata.tables[_name].dialect_options["sqlite"]["autoincrement"] = True

__all__ = [name for name in dir() if not name.startswith("_")]
