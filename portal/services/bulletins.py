"""The 通报 (bulletin): drafted from the dashboard's current figures, edited, issued with a 发文字号.

Source document 六(二): the committee "通报活动情况". Issuing assigns the next 发文字号 of the calendar year
of issue (〔2012〕N号, N from 1 each calendar year, unique per year: offices number their documents by the year
they are issued in, whatever year the text is about, so a bulletin on the 2011 campaign issued in January 2012
is 〔2012〕1号; the portal's time zone decides the year), freezes the figures as they were at that moment and
publishes the bulletin on the news board under 活动通报 (and so in the Atom feed). An issued bulletin never
changes; a correction is a new bulletin that names the one it corrects.

The figures are read through the dashboard's public functions (`dashboard.overview`), so that the bulletin
and the dashboard never disagree; grades (分类定级) are counted here in one GROUP BY.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale, gettext, to_user_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..input_guard import parse_int
from ..models import (
    AssessmentStatus,
    BranchLevel,
    Bulletin,
    BulletinStatus,
    CampaignYear,
    GradeRecord,
    Post,
    PostCategory,
    User,
    utcnow,
)
from . import audit, dashboard, news

TITLE_MAX = 200
HEADING_MAX = 60
BODY_MAX = 5000
COPY_TO_MAX = 300
SECTIONS_MAX = 10
COMMEND_SCORE = 90.0  # a finished self-assessment scoring this or more is named for commendation
URGE_PROGRESS = 50.0  # an unfinished one below this progress (or any overdue submission) is urged on
ISSUE_ATTEMPTS = 3  # two leaders issuing at once: the loser of the unique (year, number) tries the next number
CHINESE_NUMERALS = "一二三四五六七八九十"


# --- reading -----------------------------------------------------------------------------------

def get_bulletin(bulletin_id: int) -> Bulletin:
    """The bulletin with this id; NotFound (404) otherwise."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None:
        raise NotFound()
    return bulletin


def find_bulletin(bulletin_id) -> Bulletin | None:
    """The bulletin with this id, or None (a form's reference that may name nothing)."""
    number = parse_int(str(bulletin_id or ""), low=1)
    return db.session.get(Bulletin, number) if number else None


@dataclass
class ArchiveRow:
    bulletin: Bulletin
    year: int
    corrects: str  # the 发文字号 of the bulletin it corrects, or ""


def archive() -> list[ArchiveRow]:
    """Every bulletin, issued ones by 发文字号 (newest year and number first), then drafts, newest first."""
    corrected = db.aliased(Bulletin)
    rows = db.session.execute(
        select(Bulletin, CampaignYear.year, corrected.prefix, corrected.number_year, corrected.number)
        .join(CampaignYear, CampaignYear.id == Bulletin.year_id)
        .outerjoin(corrected, corrected.id == Bulletin.corrects_id)
        .order_by((Bulletin.status == BulletinStatus.DRAFT).desc(), Bulletin.number_year.desc(),
                  Bulletin.number.desc(), Bulletin.id.desc()))
    return [ArchiveRow(b, year, f"{prefix}〔{n_year}〕{n}号" if n is not None else "")
            for b, year, prefix, n_year, n in rows]


def year_of(bulletin: Bulletin) -> CampaignYear:
    return db.session.get(CampaignYear, bulletin.year_id)


def choose_year(raw: str | None) -> CampaignYear:
    """The campaign year named by `raw` (e.g. "2011"), else the current one; Invalid when there is none."""
    from .campaign import current_year

    years = dashboard.years()
    chosen = next((y for y in years if str(y.year) == (raw or "").strip()), None) or current_year()
    if chosen is None:
        raise Invalid(str(_l("There is no campaign year yet.")))
    return chosen


# --- the figures ---------------------------------------------------------------------------------

def figures_for(year: CampaignYear, today: date | None = None) -> dict:
    """The dashboard's figures of `year` as plain JSON-able values: what a bulletin says and freezes.

    Keys: year, theme, as_of (ISO date, portal time zone), branches, submitted (submitted or reviewed),
    reviewed, average_progress and average_score (0–100, score None while nothing is assessed), members_total,
    members_done, coverage (% of members who submitted their 五带头 self-assessment), overdue (overdue
    submissions), criteria [{title, score, progress}], grades {advanced, ordinary, lagging} (empty when none
    were given), branch_rows [{name, progress, score, status}], commend and urge (branch names), empty (True
    when nothing is recorded yet)."""
    view = dashboard.overview({"year": str(year.year), "per_page": dashboard.ALL}, today=today)
    rows = view.rows
    members_total = sum(row.members_total for row in rows)
    members_done = sum(row.members_done for row in rows)
    done = (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED)
    commend = [row for row in rows if row.status in done and (row.total.score or 0) >= COMMEND_SCORE]
    commend.sort(key=lambda row: -(row.total.score or 0))
    urge = [row for row in rows if row.overdue > 0 or (row.status not in done and row.total.progress < URGE_PROGRESS)]
    # Confirmed branch grades only (分类定级 confirmed by the leading group): a bulletin reports decisions,
    # not the system's proposals.
    grades = dict(db.session.execute(
        select(GradeRecord.confirmed, func.count(GradeRecord.id))
        .where(GradeRecord.year_id == year.id, GradeRecord.member_id.is_(None), GradeRecord.confirmed.isnot(None))
        .group_by(GradeRecord.confirmed)).tuples().all())
    summary = view.summary
    return {
        "year": year.year,
        "theme": year.theme,
        "as_of": (today or to_user_timezone(utcnow()).date()).isoformat(),
        "branches": summary.branches,
        "submitted": summary.submitted,
        "reviewed": sum(1 for row in rows if row.status == AssessmentStatus.REVIEWED),
        "average_progress": summary.average_progress,
        "average_score": summary.average_score,
        "members_total": members_total,
        "members_done": members_done,
        "coverage": round(100.0 * members_done / members_total, 1) if members_total else 0.0,
        "overdue": summary.overdue,
        "criteria": [{"title": criterion.title, "score": score, "progress": avg_progress}
                     for criterion, score, avg_progress in view.criterion_averages],
        "grades": {level.value: int(grades.get(level.value, 0)) for level in BranchLevel} if grades else {},
        "branch_rows": [{"name": row.name, "progress": row.total.progress, "score": row.total.score,
                         "status": row.status.value if row.status else ""} for row in rows],
        "commend": [row.name for row in commend],
        "urge": [row.name for row in urge],
        "empty": summary.branches == 0 or not any(row.total.assessed for row in rows),
    }


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


NAMES_LISTED = 30  # a district of 2,000 branches would name hundreds; the attachment lists them all


def _names(names: list[str]) -> str:
    """Names joined with 、; past NAMES_LISTED, the first of them and how many more (a drafted section stays
    within BODY_MAX whatever the district's size)."""
    if len(names) <= NAMES_LISTED:
        return "、".join(names)
    return gettext("%(names)s and %(n)s more", names="、".join(names[:NAMES_LISTED]), n=len(names) - NAMES_LISTED)


def draft_sections(figures: dict) -> list[dict]:
    """The editable text of a new bulletin, in Chinese (the language of the document, whatever the interface's):
    a list of {"heading", "body"}. An empty year gets one section saying that there is nothing to report yet."""
    with force_locale("zh"):
        year = figures["year"]
        if figures["empty"]:
            return _numbered([{"heading": gettext("Overall situation"), "body": gettext(
                "The %(year)s campaign year (%(theme)s) has no recorded progress yet: no Party organisation has "
                "assessed itself against the Five Goods so far. There is nothing to report yet; the next bulletin "
                "will report the progress.", year=year, theme=figures["theme"])}])
        overall = gettext(
            "As of %(day)s, of the %(branches)s Party organisations of the system, %(submitted)s have submitted "
            "their Five Goods self-assessment and %(reviewed)s of these have been reviewed by the leading group. "
            "The average progress is %(progress)s%% and the average score %(score)s.",
            day=_chinese_date(date.fromisoformat(figures["as_of"])), branches=figures["branches"],
            submitted=figures["submitted"], reviewed=figures["reviewed"],
            progress=_number(figures["average_progress"]), score=_number(figures["average_score"]))
        if figures["members_total"]:
            overall += gettext("%(coverage)s%% of the members (%(done)s of %(total)s) have submitted their Five "
                               "Leads self-assessment.", coverage=_number(figures["coverage"]),
                               done=figures["members_done"], total=figures["members_total"])
        overall += gettext("Submissions overdue: %(overdue)s.", overdue=figures["overdue"])
        sections = [{"heading": gettext("Overall situation"), "body": overall}]
        lines = [gettext("%(criterion)s: average score %(score)s, progress %(progress)s%%.",
                         criterion=c["title"], score=_number(c["score"]), progress=_number(c["progress"]))
                 for c in figures["criteria"]]
        lines.append(gettext("The figures of every criterion and every Party organisation are in the attachment."))
        sections.append({"heading": gettext("The Five Goods criteria"), "body": "\n".join(lines)})
        if figures["grades"]:
            grades = figures["grades"]
            sections.append({"heading": gettext("Grading"), "body": gettext(
                "Graded so far: %(advanced)s advanced, %(ordinary)s ordinary, %(lagging)s lagging.",
                advanced=grades.get("advanced", 0), ordinary=grades.get("ordinary", 0),
                lagging=grades.get("lagging", 0))})
        praise = [gettext("The following Party organisations worked solidly and with clear results and are "
                          "commended: %(names)s.", names=_names(figures["commend"]))] if figures["commend"] else []
        if figures["urge"]:
            praise.append(gettext("The following Party organisations are behind or have overdue submissions and are "
                                  "asked to catch up without delay: %(names)s.", names=_names(figures["urge"])))
        if praise:
            sections.append({"heading": gettext("Commendation and urging"), "body": "\n".join(praise)})
        sections.append({"heading": gettext("Next steps"), "body": gettext(
            "Every Party organisation is to keep to the theme of the year, fulfil its public pledges, complete its "
            "self-assessment and hand in its documents on time, so that the campaign is carried out in depth.")})
        return _numbered(sections)


def _numbered(sections: list[dict]) -> list[dict]:
    """Headings numbered 一、二、… in order (GB/T 9704: first-level headings)."""
    return [{"heading": f"{CHINESE_NUMERALS[n] if n < len(CHINESE_NUMERALS) else n + 1}、{section['heading']}",
             "body": section["body"]} for n, section in enumerate(sections)]


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def issue_date(bulletin: Bulletin) -> str:
    """The 成文日期 of an issued bulletin (portal time zone), e.g. "2012年11月30日"; today's for a draft."""
    moment = bulletin.issued_at or utcnow()
    return _chinese_date(to_user_timezone(moment).date())


# --- writing -----------------------------------------------------------------------------------

@dataclass
class BulletinInput:
    title: str
    sections: list[dict]
    copy_to: str


def _validate(data: BulletinInput) -> BulletinInput:
    errors: dict[str, str] = {}
    title = " ".join((data.title or "").split())
    if not title:
        errors["title"] = _l("Give the bulletin a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _l("At most %(n)s characters.", n=TITLE_MAX)
    sections = []
    for section in data.sections[:SECTIONS_MAX]:
        heading = " ".join((section.get("heading") or "").split())
        body = (section.get("body") or "").replace("\r\n", "\n").strip()
        if not heading and not body:
            continue
        if len(heading) > HEADING_MAX or len(body) > BODY_MAX:
            errors["sections"] = _l("A heading may be at most %(h)s characters and a section's text at most "
                                    "%(b)s.", h=HEADING_MAX, b=BODY_MAX)
        sections.append({"heading": heading, "body": body})
    if not sections:
        errors["sections"] = _l("Write at least one section.")
    copy_to = " ".join((data.copy_to or "").split())
    if len(copy_to) > COPY_TO_MAX:
        errors["copy_to"] = _l("At most %(n)s characters.", n=COPY_TO_MAX)
    if errors:
        raise Invalid(str(_l("Please check the bulletin.")), errors)
    return BulletinInput(title, sections, copy_to)


def _snapshot(bulletin: Bulletin) -> dict:
    return {"status": bulletin.status.value, "title": bulletin.title, "number": bulletin.document_number,
            "version": bulletin.version, "sections": len(bulletin.sections or [])}


def default_title(year: CampaignYear) -> str:
    with force_locale("zh"):
        return gettext("Bulletin on the progress of the %(year)s Create-and-Strive campaign", year=year.year)


def new_draft_input(year: CampaignYear, corrects: Bulletin | None = None, today: date | None = None) -> BulletinInput:
    """What the 起草通报 form starts with: the year's figures (as of `today`, default the portal's today) as
    text, or, for a correction, the corrected bulletin's own text under a title saying what it corrects."""
    if corrects is not None:
        return BulletinInput(correction_title(corrects), [dict(s) for s in corrects.sections], corrects.copy_to)
    return BulletinInput(default_title(year), draft_sections(figures_for(year, today)),
                         current_app.config["BULLETIN_COPY_TO"])


def correction_title(corrects: Bulletin) -> str:
    """The title of a correction, as offices write it: 关于沪卢教党〔2011〕1号通报的更正 (the corrected
    title is not repeated: the number names it)."""
    with force_locale("zh"):
        return gettext("Correction of bulletin %(number)s", number=corrects.document_number)[:TITLE_MAX]


def create_draft(actor: User, year: CampaignYear, data: BulletinInput,
                 corrects_id: str | int | None = None, at: datetime | None = None) -> Bulletin:
    """A new draft of `year` by `actor`. `corrects_id` names an issued bulletin that this one corrects
    (Invalid when it is not an issued bulletin). Audited as bulletin.create."""
    clean = _validate(data)
    corrects = None
    if corrects_id not in (None, ""):
        corrects = find_bulletin(corrects_id)
        if corrects is None or not corrects.is_issued:
            message = _l("The bulletin to correct must be an issued one (it has a document number); this one "
                         "is not. Open the issued bulletin and choose “Draft a correction” there.")
            raise Invalid(str(message), {"corrects": message})
        year = year_of(corrects)
    bulletin = Bulletin(year_id=year.id, status=BulletinStatus.DRAFT, title=clean.title, sections=clean.sections,
                        copy_to=clean.copy_to, corrects_id=corrects.id if corrects else None,
                        drafted_by_id=actor.id, version=1)
    db.session.add(bulletin)
    db.session.flush()
    audit.record(actor, "bulletin.create", bulletin, after=_snapshot(bulletin), at=at)  # at: the demo's history
    db.session.commit()
    return bulletin


def ensure_draft(bulletin: Bulletin) -> None:
    if bulletin.is_issued:
        raise Conflict(str(_l("This bulletin has been issued and can no longer be changed. To correct it, "
                              "draft a correction.")))


def _stale(bulletin: Bulletin) -> Conflict:
    """The Conflict of an edit made on an older version: carries the saved text (title, sections as one text,
    抄送), so that the form shows it beside the person's own, which stays in the form."""
    text = "\n\n".join("\n".join(part for part in (s.get("heading", ""), s.get("body", "")) if part)
                       for s in bulletin.sections or [])
    return Conflict(str(_l("Someone else saved this draft meanwhile (now version %(v)s). Your text is still in "
                           "the form below; the saved text is shown above it. Compare them and save again to "
                           "keep your version.", v=bulletin.version)),
                    current={"title": bulletin.title, "sections": text, "copy_to": bulletin.copy_to})


def _check_version(bulletin: Bulletin, expected_version) -> int:
    expected = parse_int(str(expected_version or ""))
    if expected is None or expected != bulletin.version:
        raise _stale(bulletin)
    return expected


def update_draft(actor: User, bulletin: Bulletin, data: BulletinInput, expected_version) -> Bulletin:
    """Save an edit of a draft made on top of `expected_version` (Conflict 409 when stale or issued)."""
    ensure_draft(bulletin)
    expected = _check_version(bulletin, expected_version)
    clean = _validate(data)
    before = _snapshot(bulletin)
    claimed = db.session.execute(
        update(Bulletin).where(Bulletin.id == bulletin.id, Bulletin.version == expected,
                               Bulletin.status == BulletinStatus.DRAFT)
        .values(version=expected + 1, title=clean.title, sections=clean.sections, copy_to=clean.copy_to,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(bulletin)
        ensure_draft(bulletin)
        raise _stale(bulletin)
    db.session.refresh(bulletin)
    audit.record(actor, "bulletin.update", bulletin, before=before, after=_snapshot(bulletin))
    db.session.commit()
    return bulletin


def _post_markdown(bulletin: Bulletin) -> str:
    from ..links import external_url

    parts = [f"**{bulletin.document_number}**"]
    for section in bulletin.sections:
        if section["heading"]:
            parts.append(f"### {section['heading']}")
        parts.extend(line for line in section["body"].split("\n") if line.strip())
    parts.append(f"{bulletin.issuer}  \n{issue_date(bulletin)}")
    with force_locale("zh"):
        parts.append(gettext("Download: [Word document](%(docx)s) · [PDF](%(pdf)s)",
                             docx=external_url("bulletins.docx", bulletin_id=bulletin.id),
                             pdf=external_url("bulletins.pdf", bulletin_id=bulletin.id)))
    return "\n\n".join(parts)


def next_number(at: datetime | None = None) -> tuple[int, int]:
    """(calendar year, N) of the 发文字号 a bulletin issued at `at` (UTC, default now) would get: the next of
    the calendar year of issue in the portal's time zone. The confirmation page shows it; `issue` takes it
    (or the one after, when another bulletin took it meanwhile)."""
    number_year = to_user_timezone(at or utcnow()).year
    taken = db.session.scalar(select(func.coalesce(func.max(Bulletin.number), 0))
                              .where(Bulletin.number_year == number_year))
    return number_year, int(taken or 0) + 1


def preview_number(number_year: int, number: int) -> str:
    return f"{current_app.config['BULLETIN_NUMBER_PREFIX']}〔{number_year}〕{number}号"


def issue(actor: User, bulletin: Bulletin, expected_version, at: datetime | None = None) -> Bulletin:
    """Issue a draft: the next 发文字号 of the calendar year of issue, the figures frozen as they are at `at`
    (UTC, default now; the demo issues in the past), the issuing organ and prefix of the configuration kept,
    and a post published under 活动通报. Conflict (409) when it was issued or edited meanwhile. The number is
    taken atomically: the guarded UPDATE claims the draft, and the unique (number_year, number) makes a
    simultaneous issue of another draft take the next number."""
    ensure_draft(bulletin)
    expected = _check_version(bulletin, expected_version)
    moment = at or utcnow()
    figures = bulletin.figures if bulletin.figures is not None else figures_for(
        year_of(bulletin), to_user_timezone(moment).date())
    config = current_app.config
    for _attempt in range(ISSUE_ATTEMPTS):
        number_year, number = next_number(moment)
        try:
            claimed = db.session.execute(
                update(Bulletin).where(Bulletin.id == bulletin.id, Bulletin.version == expected,
                                       Bulletin.status == BulletinStatus.DRAFT)
                .values(status=BulletinStatus.ISSUED, number_year=number_year, number=number, figures=figures,
                        prefix=config["BULLETIN_NUMBER_PREFIX"], issuer=config["BULLETIN_ISSUER"],
                        issued_by_id=actor.id, issued_at=moment, version=expected + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False))
        except IntegrityError:
            db.session.rollback()
            continue
        if claimed.rowcount != 1:
            db.session.rollback()
            raise Conflict(str(_l("This bulletin was issued or changed meanwhile. Reload the page.")))
        break
    else:
        raise Conflict(str(_l("Another bulletin was being issued at the same moment. Please try again.")))
    db.session.refresh(bulletin)
    post = news.publish_direct(actor, category=PostCategory.BULLETIN, title=f"{bulletin.document_number} "
                               f"{bulletin.title}", summary=_summary(bulletin), body_md=_post_markdown(bulletin),
                               branch_id=None, member_id=None, at=at)
    post.year_id = bulletin.year_id
    bulletin.post_id = post.id
    audit.record(actor, "bulletin.issue", bulletin, before={"status": "draft"}, after=_snapshot(bulletin), at=at)
    db.session.commit()
    return bulletin


def _summary(bulletin: Bulletin) -> str:
    first = next((s["body"] for s in bulletin.sections if s["body"]), "")
    return " ".join(first.split())[:news.SUMMARY_MAX]


def bulletin_figures_now(bulletin: Bulletin) -> dict:
    """The figures a bulletin shows: frozen ones once issued, the year's current ones while a draft."""
    if bulletin.figures is not None:
        return bulletin.figures
    return figures_for(year_of(bulletin))


# --- the demo ------------------------------------------------------------------------------------

def seed_demo(today: date) -> None:
    """The demo's two issued bulletins, each dated and figured within its campaign year: one on the finished
    2011 year, issued on 28 December 2011 (after that year's reviews; 〔2011〕1号, figures as of that day), and
    one on the current 2012 year, whose phases the demo runs around the seed day, issued a few days before it
    (numbered by that calendar year of issue). Both drafted by the demo's leader from the figures as of their
    issue day, as a request would build them (Chinese text, addresses at PORTAL_BASE_URL)."""
    from datetime import time, timedelta

    from flask_babel import to_utc

    leader = db.session.scalar(select(User).where(User.username == "leader"))
    years = {y.year: y for y in dashboard.years()}
    if leader is None or not {2011, 2012} <= set(years):
        return
    with current_app.test_request_context("/"):
        for campaign_year, day in ((2011, date(2011, 12, 28)), (2012, today - timedelta(days=5))):
            year = years[campaign_year]
            moment = to_utc(datetime.combine(day, time(10, 0))).replace(tzinfo=None)
            bulletin = create_draft(leader, year, new_draft_input(year, today=day), at=moment - timedelta(hours=1))
            issue(leader, bulletin, bulletin.version, at=moment)
            post = db.session.get(Post, bulletin.post_id)
            post.published_at = post.submitted_at = moment
            db.session.commit()
