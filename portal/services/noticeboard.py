"""党务公开栏 sheets: what a branch puts on its notice board (source document 六(二): exemplars publicised on
notice boards and the school network platform), printable on A4 or A3, each entry with a QR code of its page
on the portal; and the same kind of sheet for the nominations under 公示.

QR codes encode `PORTAL_BASE_URL` + the page's path (links.external_url), never the request's Host: they are
read by phones on the intranet, which reach the portal at that address. The pages are the portal's, for people
with an account (staff and members): the sheets say so, and name the people whom anyone else (parents,
students, the public, who have no account) tells an opinion or an objection: the branch's secretary on a
branch sheet, the committee's organisation section (NOTICE_OBJECTIONS_TO) on the 公示 sheet. The year's theme
has no page of its own, so it has no code. They are inline SVG (segno): no
image requests, nothing for the strict CSP to refuse, and they print sharp at any size.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import select

from ..extensions import db
from ..links import external_url
from ..models import Branch, CampaignYear, Post, PostCategory
from . import commendation, news, pledges, projects

SIZES = ("a4", "a3")
EXEMPLAR_CATEGORIES = (PostCategory.BRANCH_EXEMPLAR, PostCategory.MEMBER_EXEMPLAR)


def qr_svg(url: str, label: str) -> Markup:
    """`url` as a QR code in inline SVG (error correction M, 4-module quiet zone), titled `label` for screen
    readers. segno escapes the title; the rest is segno's own markup."""
    import segno

    # omitsize: a viewBox instead of a fixed size, so that the code scales to the size the sheet's CSS gives it
    # (a longer address makes a denser code, which a fixed 3 px a module would crop at 28 mm).
    svg = segno.make(url, error="m").svg_inline(scale=3, omitsize=True, title=label, svgclass="qr",
                                                lineclass="qr__modules")
    # segno's own markup (a path of module coordinates); the only text in it, the title, segno escapes.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704  # nosec B704


@dataclass
class Entry:
    """One thing on the sheet: its heading, text lines, its portal address and that address as a QR code."""

    heading: str
    lines: list[str]
    url: str
    qr: Markup | None
    extra: list[tuple[str, bool, str]] = field(default_factory=list)  # milestones: (title, done, due)


def _entry(heading: str, lines: list[str], url: str) -> Entry:
    return Entry(heading, [line for line in lines if line], url, qr_svg(url, heading))


@dataclass
class BranchSheet:
    branch: Branch
    year: CampaignYear
    contact: str  # whom opinions go to: the branch's secretary (or the branch itself when it has none)
    theme: Entry
    brand: Entry | None
    pledges: list[Entry]
    projects: list[Entry]
    exemplar: Entry | None


def latest_exemplar(branch_id: int) -> Post | None:
    """The branch's latest live exemplar story (先进基层党组织风采 or 优秀共产党员事迹) on the news board."""
    return db.session.scalar(
        select(Post).where(Post.branch_id == branch_id, Post.category.in_(EXEMPLAR_CATEGORIES), news.live_clause())
        .order_by(Post.published_at.desc(), Post.id.desc()).limit(1))


def branch_sheet(branch: Branch, year: CampaignYear) -> BranchSheet:
    """The 党务公开栏 of `branch` for `year`: the year's theme, the brand, the published (approved) pledges of
    the branch and its members, the projects with their milestones, and the latest exemplar story."""
    from flask_babel import gettext as _

    theme = Entry(_("Campaign theme %(year)s: %(theme)s", year=year.year, theme=year.theme),
                  [line for line in [year.description] if line], "", None)
    brand_url = external_url("campaign.brand", branch_id=branch.id)
    brand = _entry(_("Our brand: %(name)s", name=branch.brand_name), [branch.brand_slogan, branch.brand_description],
                   brand_url) if branch.brand_name else None
    pledge_entries = [
        _entry(member_name or branch_name, [pledge.text], external_url("campaign.pledge", pledge_id=pledge.id))
        for pledge, branch_name, member_name in sorted(
            pledges.published(year, branch.id), key=lambda row: (row[0].member_id is not None, row[0].id))]
    project_entries = []
    for project, milestones in projects.branch_projects(branch.id, year):
        entry = _entry(project.title, [project.goal], f"{brand_url}#project-{project.id}")
        entry.extra = [(m.title, m.done, m.due_on.isoformat()) for m in milestones]
        project_entries.append(entry)
    post = latest_exemplar(branch.id)
    exemplar = _entry(post.title, [post.summary], external_url("news.post", post_id=post.id)) if post else None
    return BranchSheet(branch, year, _contact(branch), theme, brand, pledge_entries, project_entries, exemplar)


def _contact(branch: Branch) -> str:
    from flask_babel import gettext as _

    from ..models import Role, User

    secretary = db.session.scalar(select(User.display_name).where(
        User.branch_id == branch.id, User.role == Role.SECRETARY, User.active.is_(True)).order_by(User.id).limit(1))
    return _("the branch secretary, %(name)s", name=secretary) if secretary else _("the branch (%(name)s)",
                                                                                     name=branch.name)


def notice_sheet() -> list[Entry]:
    """The nominations whose 公示 runs now, each with its nominee, branch, the notice's end and a QR code of
    its page (where objections are raised)."""
    from flask_babel import gettext as _

    from ..i18n import when

    return [_entry(row.nominee, [row.branch_name, _("Public notice until %(when)s",
                                                   when=when(row.nomination.notice_ends_at))],
        external_url("commendation.nomination", nomination_id=row.nomination.id)) for row in commendation.notices()]

