"""The portal's domain model. Import models from here."""
from .assessments import (
    RESULT_SCORE,
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
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
    Appraisal,
    Audience,
    BranchGrade,
    FollowUp,
    FollowUpStatus,
    Grade,
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
from .frameworks import Criterion, Framework, Item, Subject
from .news import (
    Attachment,
    CommendationLevel,
    Nomination,
    NominationStatus,
    Objection,
    Post,
    PostCategory,
    PostStatus,
    PostVersion,
    post_criterion,
)
from .people import Branch, BranchKind, Role, Unit, UnitKind, User
from .security import LoginFailure, RefusalTally

__all__ = [name for name in dir() if not name.startswith("_")]
