"""The 党务公开栏 sheet printed (issue 18, second round): a typical branch fits one page on A4 and on A3 (A3 in
columns); the sheets say honestly whom the codes are for and whom the public tells an opinion or objection."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest

from portal.models import Subject
from portal.services import campaign, commendation, pledges, projects

from ..noticeboard_helpers import build_noticeboard

PLEDGES = ["坚持每周听课评课，帮助青年教师站稳讲台，全年指导两名新教师。",
           "带头参加志愿服务，每月到社区开展一次义务家教，服务留守儿童。",
           "认真学习党章党规，每学期撰写一篇学习体会，在支部大会上交流。",
           "带领教研组开展课题研究，年内完成一项区级课题并推广成果。",
           "关心困难学生，结对帮扶三名学生，定期家访，帮助他们树立信心。"]


def _typical_branch(branch, secretary, member, admin, editor) -> None:
    """What a branch's board typically holds: brand, a branch pledge and five members' pledges, two projects
    of three milestones each, an exemplar story."""
    build_noticeboard(branch, secretary, member, admin, editor)
    year = campaign.current_year()
    item = str(pledges.items_for(Subject.MEMBER, year)[0][0])
    for text in PLEDGES[:4]:
        pledge = pledges.create(member, year, for_branch=False, text=text, item_ids=[item])
        pledges.submit(member, pledge)
        pledges.approve(secretary, pledge)
    project = projects.create_project(secretary, branch, year, title="师德师风建设", goal="全体党员签订师德承诺书")
    for title, due in (("签订承诺书", "2012-09-10"), ("师德讲堂", "2012-10-20"), ("评选师德标兵", "2012-12-15")):
        projects.add_milestone(secretary, project, title=title, measure="按时完成", due_on=due)


def _pages(client, url: str, app) -> int:
    """How many pages the sheet prints on: the page as served, printed by WeasyPrint with the portal's own
    stylesheet (print media, as the browser's Print command uses), loading nothing else."""
    from weasyprint import CSS, HTML

    from portal.services.gongwen import _keep_pillow_strict

    html = re.sub(r"<link\b[^>]*>|<script\b.*?</script>", "", client.get(url).get_data(as_text=True), flags=re.S)
    stylesheet = CSS(filename=str(Path(app.static_folder) / "css" / "portal.css"))
    pdf = HTML(string=html).write_pdf(stylesheets=[stylesheet])
    _keep_pillow_strict()
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("size", ["a4", "a3"])
def test_a_typical_branch_prints_on_one_page(client, app, branch, secretary, member, admin, editor, size):
    _typical_branch(branch, secretary, member, admin, editor)
    client.login(secretary)
    assert _pages(client, f"/branches/{branch.id}/noticeboard?size={size}", app) == 1


def test_the_sheets_are_honest_about_whom_the_codes_serve(client, app, branch, secretary, member, leader, editor,
                                                          admin):
    build_noticeboard(branch, secretary, member, admin, editor)
    client.login(secretary)
    page = client.get(f"/branches/{branch.id}/noticeboard").get_data(as_text=True)
    assert "扫码" in page and "账号" in page and secretary.display_name in page
    assert page.count('<svg role="img"') == 5  # the year's theme has no page of its own, so no code
    assert f"{app.config['PORTAL_BASE_URL'].rstrip('/')}/\"" not in page  # no code of the (login-only) home page
    nomination = commendation.nominate(secretary, campaign.current_year(), str(member.id), "带头服务师生，事迹突出。")
    commendation.shortlist(leader, nomination)
    commendation.start_notice(leader, nomination, "7")
    client.login(editor)
    notice = client.get("/commendation/notice-sheet").get_data(as_text=True)
    assert app.config["NOTICE_OBJECTIONS_TO"] in notice and "可扫码在平台上" not in notice
    assert "如有异议" in notice or "异议" in notice
