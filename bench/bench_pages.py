"""The leadership dashboard, the branch page, exports, the news board and search (over 5,000 posts), the branch
grades (分类定级), a 报送 request's grid, the pledges and the brands."""
from datetime import timedelta

from sqlalchemy import insert, select

from portal.models import (
    AuditEvent,
    Branch,
    CampaignYear,
    Post,
    PostCategory,
    PostStatus,
    SubmissionRequest,
    User,
    utcnow,
)

from .harness import Case, District

POSTS = 5000
WORDS = ["支部", "党员", "志愿服务", "示范岗", "青年教师", "师德", "课堂", "家访", "社区", "品牌", "学习", "创新"]


def prepare(district: District) -> None:
    """Add 5,000 published posts so the board and search are measured at size."""
    from portal.database import refresh_planner_statistics
    from portal.extensions import db
    from portal.services import markdown

    with district.app.app_context():
        branch_ids = db.session.scalars(select(Branch.id)).all()
        author = db.session.scalar(select(User.id).where(User.username == "editor"))
        now = utcnow()
        rows = []
        for n in range(POSTS):
            words = [WORDS[(n * 7 + k) % len(WORDS)] for k in range(6)]
            body = f"## 第{n}篇\n\n" + "，".join(words) + f"。编号 {n} 的先进事迹。\n"
            rows.append({"category": list(PostCategory)[n % 4], "title": f"{words[0]}{words[1]}事迹第{n}篇",
                         "summary": "、".join(words[:3]), "body_md": body, "body_html": markdown.render(body),
                         "branch_id": branch_ids[n % len(branch_ids)], "author_id": author,
                         "status": PostStatus.PUBLISHED, "published_at": now - timedelta(minutes=n),
                         "created_at": now, "updated_at": now, "read_count": 0, "version": 1,
                         "pinned": False, "featured": False})
        for chunk in range(0, len(rows), 1000):
            db.session.execute(insert(Post), rows[chunk:chunk + 1000])
        refresh_planner_statistics(db.session)  # (PostgreSQL: the posts as the seed's ANALYZE did the rest)
        db.session.commit()


def record_change(district: District, n: int) -> None:
    """An audited change with no branch, as an admin's would be."""
    from portal.extensions import db

    with district.app.app_context():
        db.session.execute(insert(AuditEvent).values(action="bench.change", object_type="bench", object_id=n,
                                                     at=utcnow(), actor_name="", ip=""))
        db.session.commit()


def tick_elsewhere(district: District, n: int) -> None:
    """A real tick on another branch's checklist (through the checklist service, audited), as a secretary
    somewhere in the district makes: every figure the next page shows must already include it."""
    from portal.extensions import db
    from portal.models import Assessment, AssessmentStatus, CampaignYear, Criterion, Framework, Item, Subject
    from portal.services import checklist

    with district.app.app_context():
        if "tick_branch" not in district.extra:
            own = _branch(district)
            locked = select(Assessment.branch_id).join(CampaignYear, CampaignYear.id == Assessment.year_id).where(
                CampaignYear.is_current.is_(True), Assessment.member_id.is_(None),
                Assessment.status.in_([AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED]))
            district.extra["tick_branch"] = db.session.scalar(
                select(Branch.id).where(Branch.id != own, Branch.id.not_in(locked)).order_by(Branch.id.desc()))
            district.extra["tick_item"] = db.session.scalar(
                select(Item.id).join(Criterion).join(Framework).where(Framework.subject == Subject.BRANCH,
                                                                      Item.year_id.is_(None))
                .order_by(Criterion.position, Item.position).limit(1))
        branch_id = district.extra["tick_branch"]
        secretary = db.session.scalar(select(User).where(User.branch_id == branch_id, User.role == "secretary"))
        target = checklist.target_for(Subject.BRANCH, branch_id, checklist.resolve_year(None))
        checklist.set_item_result(secretary, target, district.extra["tick_item"], "met" if n % 2 else "partly")
        db.session.remove()


def _branch(district: District) -> int:
    return district.scalar(select(User.branch_id).where(User.username == "sec01"))


def _grid(district: District) -> str:
    """The current year's first 报送 request's grid (the demo's plan request: every branch asked)."""
    request_id = district.scalar(
        select(SubmissionRequest.id).join(CampaignYear, CampaignYear.id == SubmissionRequest.year_id)
        .where(CampaignYear.is_current.is_(True)).order_by(SubmissionRequest.id).limit(1))
    return f"/submissions/{request_id}"


CASES = [
    Case("dashboard overview (leader)", "leader", "/dashboard"),
    Case("dashboard overview, after a tick", "leader", "/dashboard", before=tick_elsewhere),
    Case("dashboard overview, after an admin change", "leader", "/dashboard", before=record_change),
    Case("dashboard page 4, sorted by score", "leader", "/dashboard?sort=-score&page=4"),
    Case("dashboard sorted by score, after a tick", "leader", "/dashboard?sort=-score&page=4",
         before=tick_elsewhere),
    Case("dashboard filtered (htmx)", "leader", "/dashboard?status=submitted&sort=-score", htmx=True,
         full_page="/dashboard?status=submitted&sort=-score"),
    Case("dashboard, per_page=all", "leader", "/dashboard?per_page=all", rounds=5),
    # The filters whose figures are not kept (session h14over2): a name search, the appraisal and the grade.
    Case("dashboard, name search (小学)", "leader", "/dashboard?q=小学"),
    Case("dashboard, too few appraisal ballots", "leader", "/dashboard?appraisal=few"),
    Case("dashboard, grade filter (none match)", "leader", "/dashboard?grade=advanced"),
    Case("dashboard, grade filter (almost every branch)", "leader", "/dashboard?grade=ordinary"),
    # Their figures, the second request the page makes (session h14later): what the matches are.
    Case("dashboard, name search's figures (htmx)", "leader", "/dashboard/figures?q=小学", htmx=True,
         full_page="/dashboard/figures?q=小学"),
    Case("branch page (leader)", "leader", lambda d: f"/branches/{_branch(d)}"),
    Case("branch page, after a tick", "leader", lambda d: f"/branches/{_branch(d)}", before=tick_elsewhere),
    Case("our branch (secretary)", "sec01", "/our-branch"),
    Case("export XLSX, all branches", "leader", "/dashboard/export.xlsx", rounds=3, cpu=True),
    Case("export XLSX item results, all branches", "leader", "/dashboard/items.xlsx", rounds=3, cpu=True),
    Case("news board", "mem01", "/news"),
    # Paged in SQL (h14lists2): 50 branches a page, the summaries of every branch.
    Case("branch grades (leader)", "leader", "/grades"),
    Case("branch grades, not confirmed, page 3", "leader", "/grades?state=unconfirmed&page=3"),
    Case("a request's grid (admin)", "admin", _grid),
    Case("a request's grid, waiting for a decision", "admin", lambda d: _grid(d) + "?state=to_decide"),
    Case("search, 2 characters (支部)", "mem01", "/news/search?q=支部"),
    Case("search, 4 characters (志愿服务)", "mem01", "/news/search?q=志愿服务"),
    Case("pledges (organisation section)", "admin", "/pledges"),
    Case("pledges (leader), page 3", "leader", "/pledges?page=3"),
    Case("pledges (secretary)", "sec01", "/pledges"),
    Case("brands", "mem01", "/brands"),
    Case("brands, branch name contains 中学", "leader", "/brands?branch_q=中学"),
]
