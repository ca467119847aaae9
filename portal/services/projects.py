"""一个支部一个品牌, 项目引领, 目标管理: a branch's brand, its projects and their milestones."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, case, func, select

from ..collation import branch_order
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Branch, CampaignYear, Milestone, Project, utcnow
from . import audit, branch_choice, paging
from .campaign import ensure_writable, parse_date
from .versions import check_version

PER_PAGE = 50  # branches on a page of the district's brands


@dataclass(frozen=True)
class BrandRow:
    branch_id: int
    branch_name: str
    brand_name: str
    brand_slogan: str
    projects: int
    milestones: int
    done: int

    @property
    def progress(self) -> float:
        return round(100.0 * self.done / self.milestones, 1) if self.milestones else 0.0


def get_branch(branch_id: int) -> Branch:
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound()
    return branch


def get_project(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound()
    return project


def get_milestone(milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound()
    return milestone


@dataclass
class BrandPage(paging.Paged):
    """One page of the district's brands (`rows`, in pinyin order) and where it sits among the active branches
    the filter leaves (`total`)."""

    rows: list[BrandRow]
    window: paging.Window


@cache
def _brand_statements(by_branch: bool, by_name: bool):
    """(count, page, figures) statements of the brands list, built once per filter shape (BranchFilter): the
    active branches the filter leaves, counted; a page of them in pinyin order (parameters `limit`, `offset`);
    and the year's projects and milestones of the page's branches (`year_id`, `ids`), summed per branch."""
    conditions = [Branch.active.is_(True), *branch_choice.BranchFilter.conditions(Branch.id, by_branch, by_name)]
    count = select(func.count()).select_from(select(Branch.id).where(*conditions).subquery())
    page = (select(Branch.id, Branch.name, Branch.brand_name, Branch.brand_slogan).where(*conditions)
            .order_by(*branch_order())
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))
    done = func.coalesce(func.sum(case((Milestone.done.is_(True), 1), else_=0)), 0)
    figures = (select(Project.branch_id, func.count(func.distinct(Project.id)), func.count(Milestone.id), done)
               .outerjoin(Milestone, Milestone.project_id == Project.id)
               .where(Project.year_id == bindparam("year_id", type_=Integer),
                      Project.branch_id.in_(bindparam("ids", expanding=True)))
               .group_by(Project.branch_id))
    return count, page, figures


def brands(year: CampaignYear, filters: branch_choice.BranchFilter | None = None, page: int = 1,
           per_page: int = PER_PAGE) -> BrandPage:
    """The page `page` (clamped: paging.window) of the district list of brands, the active branches `filters`
    leaves, with each branch's project progress for the year: the count, the page, and the figures of the page's
    branches only (GROUP BY over their projects), whatever the district's size."""
    filters = filters or branch_choice.BranchFilter()
    count, rows, figures = _brand_statements(*filters.shape)
    values = filters.values()
    shown = paging.window(db.session.scalar(count, values) or 0, page, per_page)
    found = db.session.execute(rows, {**values, "limit": per_page, "offset": shown.offset}).all()
    summed = {branch_id: (int(projects), int(milestones), int(done)) for branch_id, projects, milestones, done in
              db.session.execute(figures, {"year_id": year.id, "ids": [row[0] for row in found]})} if found else {}
    return BrandPage([BrandRow(*row, *summed.get(row[0], (0, 0, 0))) for row in found], shown)


def branch_projects(branch_id: int, year: CampaignYear) -> list[tuple[Project, list[Milestone]]]:
    projects = list(db.session.scalars(select(Project).where(
        Project.branch_id == branch_id, Project.year_id == year.id).order_by(Project.created_at, Project.id)))
    by_project: dict[int, list[Milestone]] = defaultdict(list)
    if projects:
        for m in db.session.scalars(select(Milestone).where(Milestone.project_id.in_([p.id for p in projects]))
                                    .order_by(Milestone.due_on, Milestone.id)):
            by_project[m.project_id].append(m)
    return [(p, by_project[p.id]) for p in projects]


def progress_of(milestones: list[Milestone]) -> float:
    return round(100.0 * sum(m.done for m in milestones) / len(milestones), 1) if milestones else 0.0


def update_brand(actor, branch: Branch, *, name: str, slogan: str, description: str,
                 version: int | None = None) -> None:
    """Save the brand as edited on top of `version`; a stale edit is a Conflict carrying the saved brand."""
    errors: dict = {}
    name, slogan, description = (name or "").strip(), (slogan or "").strip(), (description or "").strip()
    if not name or len(name) > 120:
        errors["brand_name"] = _l("Enter the brand's name (at most 120 characters).")
    if len(slogan) > 200:
        errors["brand_slogan"] = _l("The slogan may have at most 200 characters.")
    if len(description) > 5000:
        errors["brand_description"] = _l("The story may have at most 5000 characters.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    check_version(branch, version, shown=("brand_name", "brand_slogan", "brand_description"))
    before = {"name": branch.brand_name, "slogan": branch.brand_slogan, "description": branch.brand_description}
    branch.brand_name, branch.brand_slogan, branch.brand_description = name, slogan, description
    audit.record(actor, "brand.update", branch, before=before,
                 after={"name": name, "slogan": slogan, "description": description}, branch_id=branch.id)
    db.session.commit()


def _project_fields(title: str, goal: str) -> tuple[str, str]:
    title, goal = (title or "").strip(), (goal or "").strip()
    errors: dict = {}
    if not title or len(title) > 200:
        errors["title"] = _l("Enter a title of at most 200 characters.")
    if len(goal) > 5000:
        errors["goal"] = _l("The goal may have at most 5000 characters.")
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    return title, goal


def create_project(actor, branch: Branch, year: CampaignYear, *, title: str, goal: str) -> Project:
    ensure_writable(year.id)
    title, goal = _project_fields(title, goal)
    project = Project(branch_id=branch.id, year_id=year.id, title=title, goal=goal)
    db.session.add(project)
    db.session.flush()
    audit.record(actor, "project.create", project, after={"title": title, "goal": goal})
    db.session.commit()
    return project


def update_project(actor, project: Project, *, title: str, goal: str, version: int | None = None) -> None:
    """Save a project's title and goal as edited on top of `version`; a stale edit is a Conflict carrying
    the saved text. Raises Invalid for an empty or over-long title or goal."""
    ensure_writable(project.year_id)
    title, goal = _project_fields(title, goal)
    check_version(project, version, shown=("title", "goal"))
    before = {"title": project.title, "goal": project.goal}
    project.title, project.goal = title, goal
    audit.record(actor, "project.update", project, before=before, after={"title": title, "goal": goal})
    db.session.commit()


def add_milestone(actor, project: Project, *, title: str, measure: str, due_on: str) -> Milestone:
    ensure_writable(project.year_id)
    errors: dict = {}
    title, measure = (title or "").strip(), (measure or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _l("Enter a title of at most 200 characters.")
    if len(measure) > 200:
        errors["measure"] = _l("The measure may have at most 200 characters.")
    due = parse_date(due_on, "due_on", errors)
    if errors:
        raise Invalid(str(_l("Some of what you entered is not valid.")), errors)
    milestone = Milestone(project_id=project.id, title=title, measure=measure, due_on=due)
    db.session.add(milestone)
    db.session.flush()
    audit.record(actor, "milestone.create", milestone, after={"title": title, "due_on": str(due)},
                 branch_id=project.branch_id)
    db.session.commit()
    return milestone


def set_milestone(actor, milestone: Milestone, *, done: bool, evidence: str, version: int | None = None) -> None:
    """Mark a milestone met (with its evidence) or not, on top of `version` (stale: Conflict)."""
    project = db.session.get(Project, milestone.project_id)
    ensure_writable(project.year_id)
    evidence = (evidence or "").strip()
    if len(evidence) > 2000:
        message = _l("The evidence may have at most 2000 characters.")
        raise Invalid(str(message), {"evidence": message})
    if done and not evidence:
        message = _l("Say what shows the target is met.")
        raise Invalid(str(message), {"evidence": message})
    if milestone.done == done and milestone.evidence == evidence:
        raise Conflict(str(_l("Nothing has changed.")))
    check_version(milestone, version, shown=("evidence",))
    before = {"done": milestone.done, "evidence": milestone.evidence}
    milestone.done, milestone.evidence = done, evidence
    milestone.done_at = utcnow() if done else None
    audit.record(actor, "milestone.update", milestone, before=before, after={"done": done, "evidence": evidence},
                 branch_id=project.branch_id)
    db.session.commit()
