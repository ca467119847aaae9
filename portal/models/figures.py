"""The kept summary of each branch per campaign year: what the dashboard shows, filters on and sorts by."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .assessments import AssessmentStatus, ReviewRating
from .base import enum_column
from .campaign_work import SubmissionStatus
from .people import UnitKind

# The order of branches (pinyin key, then name) compared by code point on PostgreSQL too, so that its index serves
# the dashboard's ORDER BY (dashboard._binary); SQLite compares by code point already.
_BINARY = String(255).with_variant(String(255, collation="C"), "postgresql")


class BranchSummary(db.Model):
    """One branch in one campaign year, as the dashboard reads it: its checklist's counts (summed over the
    criteria of `assessment_tally`), progress and score, workflow, latest leader review, plan submission, counts
    of pledges and exemplar posts, members' coverage and last activity. Kept up to date in the transaction of
    every change (services/figures.py); derived data: `flask --app wsgi rebuild-figures` recomputes it.
    Nothing here depends on the clock (overdue submissions and "quiet for 14 days" are judged when read)."""

    __tablename__ = "branch_summary"

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    assessment_id: Mapped[int | None]  # the branch's 五个好 self-assessment of the year, if started
    status: Mapped[AssessmentStatus | None] = mapped_column(enum_column(AssessmentStatus))
    total: Mapped[int] = mapped_column(default=0)
    met: Mapped[int] = mapped_column(default=0)
    partly: Mapped[int] = mapped_column(default=0)
    not_met: Mapped[int] = mapped_column(default=0)
    na: Mapped[int] = mapped_column(default=0)
    weight_scored: Mapped[float] = mapped_column(default=0.0)
    weight_earned: Mapped[float] = mapped_column(default=0.0)
    progress: Mapped[float] = mapped_column(default=0.0)  # 0..100, rounded to 0.1 (for sorting and averages)
    score: Mapped[float | None]  # 0..100, rounded to 0.1; None while nothing is assessed
    rating: Mapped[ReviewRating | None] = mapped_column(enum_column(ReviewRating))
    plan_status: Mapped[SubmissionStatus | None] = mapped_column(enum_column(SubmissionStatus))
    pledges: Mapped[int] = mapped_column(default=0)
    posts: Mapped[int] = mapped_column(default=0)
    members_total: Mapped[int] = mapped_column(default=0)
    members_done: Mapped[int] = mapped_column(default=0)
    coverage: Mapped[float] = mapped_column(default=0.0)  # % of members done, rounded to 0.1
    last_activity: Mapped[datetime | None]  # UTC
    # The branch's own columns that the overview filters and orders by, copied here (kept with the rest: a branch
    # edited, deactivated or moved, or its unit re-kinded, recomputes its rows) so that the district's aggregates
    # read this table alone and a page reads its 50 rows off an index. (Server defaults only: an INSERT … SELECT
    # of an older revision's columns, as migration i14_02 runs, must not name them.)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    unit_kind: Mapped[UnitKind | None] = mapped_column(enum_column(UnitKind))
    sort_key: Mapped[str] = mapped_column(_BINARY, server_default="")
    name: Mapped[str] = mapped_column(_BINARY, server_default="")
    # The branch's 群众评议 class in the year (migration h14ap_01): "few" (fewer ballots than the round's minimum, none
    # counted or no round at all), "low" (enough, with a satisfaction rate below the grading policy's cut) or "" for
    # neither (services/grading.py `appraisal_class`), kept with the rest (a ballot counted marks its branch, a round,
    # its questions or the policy changed the year), so that the overview's appraisal filter is a kept group too.
    # Whether "low" is shown depends on the clock (only once the round has closed): judged when read.
    appraisal: Mapped[str] = mapped_column(String(8), server_default="")
    # What the overview's name search and grade filter read (migration h14s_01): the branch's name and brand, a
    # newline between them, NFKC and case folded (services/figures.py `search_text`), and its grade in force this year
    # (分类定级: the confirmed grade, else the proposed one; None without a record), moved by row triggers on
    # `grade_record` too. So a search counts its matches from an index, and a grade is a range of one.
    search_text: Mapped[str] = mapped_column(String(600), server_default="")
    grade: Mapped[str | None] = mapped_column(String(24))


# The overview's page in its default order, and sorted by progress or score (descending first, the default direction
# of those columns), read in index order: LIMIT 50 reads 50 rows, not the district. Quiet branches (no activity for
# 14 days) are a range of the last index.
_S = BranchSummary
Index("ix_branch_summary_order", _S.year_id, _S.active, _S.sort_key, _S.name)
Index("ix_branch_summary_order_progress", _S.year_id, _S.active, _S.progress.desc(), _S.sort_key, _S.name)
Index("ix_branch_summary_order_score", _S.year_id, _S.active, _S.score.desc(), _S.sort_key, _S.name)
Index("ix_branch_summary_active_activity", _S.year_id, _S.active, _S.last_activity)
# The overview's grade filter in its default order; the name search's count, from the index alone (h14s_01).
Index("ix_branch_summary_grade_order", _S.year_id, _S.active, _S.grade, _S.sort_key, _S.name)
Index("ix_branch_summary_search", _S.year_id, _S.active, _S.search_text)


class DistrictDay(db.Model):
    """The district's daily averages of the branches' progress snapshots (`progress_snapshot`) of one campaign
    year: the dashboard's timeline reads one row per day instead of averaging every branch's snapshot on every
    view. Written with the day's snapshots (`dashboard.take_snapshot`); derived data: `flask --app wsgi
    rebuild-figures` recomputes it (services/figures.py)."""

    __tablename__ = "district_day"

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    snapshots: Mapped[int] = mapped_column(default=0)  # the branches' snapshots of the day
    progress: Mapped[float] = mapped_column(default=0.0)  # their average progress (not rounded)
    score: Mapped[float | None]  # their average score, over those with one; None when none has


# The branch summary's own assessment: the kept district criterion sums follow a tally to the summary that counts it
# (the triggers of migration h14k_01 look it up on every tally written).
Index("ix_branch_summary_assessment", _S.assessment_id)


DISTRICT_SLOTS = 16  # rows per year (and criterion) of the district's totals (the triggers of h14k_01 say 16 too)


class _Totals:
    """The totals over a set of active branches' summaries (the district's, a group's), as the triggers of migrations
    h14k_01 and h14f_01 keep them."""

    branches: Mapped[int] = mapped_column(default=0)  # active branches with a summary
    submitted: Mapped[int] = mapped_column(default=0)  # …whose checklist is submitted or reviewed
    progress_tenths: Mapped[int] = mapped_column(default=0)  # Σ round(progress × 10)
    scored: Mapped[int] = mapped_column(default=0)  # …with a score
    score_tenths: Mapped[int] = mapped_column(default=0)  # Σ round(score × 10) over those
    not_met: Mapped[int] = mapped_column(default=0)  # Σ items not met
    # Branches per progress band of the distribution chart (dashboard.HISTOGRAM_BINS): 0–20 %, …, 80–100 %.
    band_0: Mapped[int] = mapped_column(default=0)
    band_1: Mapped[int] = mapped_column(default=0)
    band_2: Mapped[int] = mapped_column(default=0)
    band_3: Mapped[int] = mapped_column(default=0)
    band_4: Mapped[int] = mapped_column(default=0)


class DistrictSummary(_Totals, db.Model):
    """The district's totals over the active branches' summaries of one campaign year (`branch_summary` with
    `active`): what the overview's cards and distribution chart and every branch page's comparison read, one row
    instead of an aggregate over the district. Progress and score are kept in tenths of a percent as integers (the
    summaries' figures are rounded to 0.1), so that sums kept by delta stay exact.

    Kept by database triggers (migration h14k_01, SQLite and PostgreSQL) in the statement that changes a summary,
    so that the upserts of services/figures.py, whose old values the application never sees, move it by delta;
    derived data: `flask --app wsgi rebuild-figures` recomputes it (services/figures.py `rebuild_district`).
    Nothing here depends on the clock (quiet branches and overdue submissions are counted when read).

    A year's totals are spread over DISTRICT_SLOTS rows, a branch's part in row `branch_id % DISTRICT_SLOTS`, so that
    concurrent ticks of different branches seldom wait for the same row's lock (PostgreSQL); readers add them up."""

    __tablename__ = "district_summary"

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # branch_id % DISTRICT_SLOTS


class DistrictCriterion(db.Model):
    """Per campaign year and 五个好 criterion, the sums over the kept tallies (`assessment_tally`) of the active
    branches' own checklists (a summary's `assessment_id`): the criterion averages of the overview and the branch
    page. Tenths as integers and DISTRICT_SLOTS rows, as `DistrictSummary`; kept by the same triggers (a tally
    written, a summary activated, deactivated, deleted or given its assessment); `rebuild-figures` recomputes it."""

    __tablename__ = "district_criterion"

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # branch_id % DISTRICT_SLOTS
    progress_tenths: Mapped[int] = mapped_column(default=0)  # Σ round(progress × 10) over the tallies
    scored: Mapped[int] = mapped_column(default=0)  # tallies with a score
    score_tenths: Mapped[int] = mapped_column(default=0)  # Σ round(score × 10) over those


class RequestTally(db.Model):
    """Per 报送 request, the submissions handed in (submitted or accepted) by branches active in the request's year
    (their `branch_summary.active`): the overview's overdue card is Σ over the requests past their deadline of
    (active branches − handed in), read from a row per request whatever the size of the district (which requests
    are past their deadline is the clock's part, judged when read). Kept by the triggers of migration h14k_01 (a
    submission written, a summary activated, deactivated or deleted); `rebuild-figures` recomputes it. No row: none
    handed in."""

    __tablename__ = "request_tally"

    request_id: Mapped[int] = mapped_column(ForeignKey("submission_request.id", ondelete="CASCADE"), primary_key=True)
    handed: Mapped[int] = mapped_column(default=0)


# The district's totals split by the overview's three filters that can be kept, unit kind, assessment status and
# appraisal class (as the branch's summary has them; '' for none: a branch whose checklist is not started, a unit
# without a kind, a branch neither "few" nor "low"), so that a filter by any of them adds a few kept rows. Kept by the
# triggers of migration h14f_01 (kind and status) made again with the wider key by h14ap_01, beside those of h14k_01,
# with the same definitions; `rebuild-figures` recomputes them (services/figures.py `rebuild_district`).
NO_GROUP = ""  # the kind, status or appraisal class of a group of summaries without one


class DistrictGroup(_Totals, db.Model):
    """`DistrictSummary` of the active branches of one unit kind whose checklist has one status and whose appraisal
    has one class, per campaign year (DISTRICT_SLOTS rows each, a branch's part in row `branch_id % DISTRICT_SLOTS`)."""

    __tablename__ = "district_group"

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    unit_kind: Mapped[str] = mapped_column(String(24), primary_key=True)  # a UnitKind value or NO_GROUP
    status: Mapped[str] = mapped_column(String(24), primary_key=True)  # an AssessmentStatus value or NO_GROUP
    appraisal: Mapped[str] = mapped_column(String(24), primary_key=True)  # "few", "low" or NO_GROUP
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class DistrictGroupCriterion(db.Model):
    """`DistrictCriterion` of one unit kind, status and appraisal class (the group of `DistrictGroup`)."""

    __tablename__ = "district_group_criterion"

    year_id: Mapped[int] = mapped_column(ForeignKey("campaign_year.id", ondelete="CASCADE"), primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True)
    unit_kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), primary_key=True)
    appraisal: Mapped[str] = mapped_column(String(24), primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    progress_tenths: Mapped[int] = mapped_column(default=0)
    scored: Mapped[int] = mapped_column(default=0)
    score_tenths: Mapped[int] = mapped_column(default=0)


class RequestGroup(db.Model):
    """`RequestTally` of one unit kind, status and appraisal class: the submissions handed in for a request by the
    active branches of that group in the request's year. No row: none handed in."""

    __tablename__ = "request_group"

    request_id: Mapped[int] = mapped_column(ForeignKey("submission_request.id", ondelete="CASCADE"), primary_key=True)
    unit_kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), primary_key=True)
    appraisal: Mapped[str] = mapped_column(String(24), primary_key=True)
    handed: Mapped[int] = mapped_column(default=0)


class ReviewWaiting(db.Model):
    """A self-assessment waiting for the leading group's 点评 (rule "assessment.review"): a branch's 五个好, or a
    branch secretary's own 五带头, submitted. Kept by the triggers of migration h14w_01 (an assessment written, a
    person's role changed; a deleted assessment takes its row with it) so that the leaders' queue reads its oldest
    entries and its total off `ix_review_waiting_order`, not the district's 2,000 secretaries looked up one by one;
    `rebuild-figures` recomputes it (services/figures.py)."""

    __tablename__ = "review_waiting"

    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True,
                                               autoincrement=False)
    year_id: Mapped[int]
    submitted_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_review_waiting_order", "year_id", "submitted_at", "assessment_id"),)


class PledgeWaiting(db.Model):
    """A pledge waiting for the organisation section's approval (rule "pledge.approve"): a branch's pledge, or a branch
    secretary's own, pending. Kept by the triggers of migration h14w_01 as `ReviewWaiting` is, so that /pledges and the
    organisation section's home count and page them off `ix_pledge_waiting_order`, not every pending pledge of the
    year checked against the district's 2,000 secretaries; `rebuild-figures` recomputes it (services/figures.py)."""

    __tablename__ = "pledge_waiting"

    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    year_id: Mapped[int]
    branch_id: Mapped[int]  # (the branch filter of /pledges)
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_pledge_waiting_order", "year_id", "updated_at", "pledge_id"),)
