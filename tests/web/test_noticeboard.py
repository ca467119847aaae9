"""党务公开栏 and 公示 sheets through the web: what they show, what they leave out, their QR codes."""
from __future__ import annotations

import re

from portal.services import campaign, commendation

from ..noticeboard_helpers import build_noticeboard


def test_the_branch_sheet_shows_what_is_published_with_a_qr_code_each(client, app, branch, secretary, member,
                                                                        admin, editor):
    built = build_noticeboard(branch, secretary, member, admin, editor)
    client.login(secretary)
    page = client.get(f"/branches/{branch.id}/noticeboard").get_data(as_text=True)
    base = app.config["PORTAL_BASE_URL"].rstrip("/")
    for text in ("党务公开栏", "书香支部", "班子团结务实", "每学期上两次公开课", "书香校园", "读书月", "书香支部的一年",
                 campaign.current_year().theme):
        assert text in page, text
    assert "尚未批准的承诺" not in page  # only published (approved) pledges
    assert page.count('<svg role="img"') == 5  # brand, two pledges, project, story (the theme has no page)
    for pledge_id in built["pledges"]:
        assert f"{base}/pledges/{pledge_id}" in page
    assert f"{base}/news/{built['post']}" in page and 'class="sheet sheet--a4"' in page
    assert 'class="sheet sheet--a3"' in client.get(f"/branches/{branch.id}/noticeboard?size=a3").get_data(as_text=True)
    assert 'class="sheet sheet--a4"' in client.get(f"/branches/{branch.id}/noticeboard?size=b5").get_data(as_text=True)


def test_an_empty_branch_sheet_says_so(client, branch, secretary):
    client.login(secretary)
    page = client.get(f"/branches/{branch.id}/noticeboard").get_data(as_text=True)
    assert "还没有公示的承诺。" in page and "尚未登记项目。" in page and "尚未发布先进典型事迹。" in page
    assert client.get("/branches/999999/noticeboard").status_code == 404


def test_the_notice_sheet_lists_nominations_under_notice(client, app, secretary, member, leader, editor):
    nomination = commendation.nominate(secretary, campaign.current_year(), str(member.id), "带头服务师生，事迹突出。")
    commendation.shortlist(leader, nomination)
    commendation.start_notice(leader, nomination, "7")
    client.login(editor)
    page = client.get("/commendation/notice-sheet").get_data(as_text=True)
    assert member.display_name in page and "公示至" in page
    urls = re.findall(r'class="sheet-entry__url">([^<]+)<', page)
    assert urls == [f"{app.config['PORTAL_BASE_URL'].rstrip('/')}/commendation/nominations/{nomination.id}"]


def test_qr_codes_scale_to_the_sheet_whatever_the_address(app):
    """A longer address makes a denser code: the SVG carries a viewBox and no fixed size, so the sheet's CSS
    scales it whole (a fixed size was cropped at 28 mm, and the code could not be read)."""
    from portal.services.noticeboard import qr_svg

    for url in ("http://x/", "http://portal.school.local:8000/brands/123456#project-987654"):
        svg = str(qr_svg(url, "码"))
        assert svg.startswith('<svg role="img" viewBox="0 0 ') and "width=" not in svg.split(">", 1)[0]
        assert "<title>码</title>" in svg
