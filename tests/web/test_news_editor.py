"""The news editor's rich text (issue 18): text pasted from Word/WPS arrives as HTML, is cleaned to the allowed
tags and kept as Markdown; pictures are uploaded, recorded and served; a refused save keeps what was typed."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Post, PostImage
from portal.services import markdown, uploads

from ..fingerprint import changed, fingerprint
from ..news_helpers import image_bytes

WORD_PASTE = """<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><style>p.MsoNormal{font-family:宋体}
</style></head><body><!--[if gte mso 9]><xml><o:DocumentProperties/></xml><![endif]-->
<h1 style="mso-outline-level:1">书香支部的一年</h1>
<p class="MsoNormal" style="text-indent:2em"><b><span lang="ZH-CN" style="font-family:仿宋">全体党员</span></b>\
<span>带头读书。</span><o:p></o:p></p>
<ul><li class="MsoListParagraph">每月一次读书会</li><li><i>每人</i>一本好书</li></ul>
<table class="MsoTableGrid"><tr><td>月份</td><td>书目</td></tr><tr><td>九月</td><td>《论语》</td></tr></table>
<img src="file:///C:/Users/x/AppData/Local/Temp/msohtmlclip1/01/clip_image002.png">
<script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">危险</a>
<div hx-post="/logout" hx-trigger="load">htmx</div></body></html>"""


def test_word_html_becomes_markdown_with_only_the_allowed_tags():
    text = markdown.from_html(WORD_PASTE)
    assert text.startswith("# 书香支部的一年") and "**全体党员**带头读书。" in text and "- 每月一次读书会" in text
    assert "| 九月 | 《论语》 |" in text
    html = markdown.render(text)
    assert "<h2>书香支部的一年</h2>" in html  # shifted by `render`, as typed `# …` is
    tags = set(re.findall(r"<([a-z0-9]+)", html))
    assert tags <= markdown.ALLOWED_TAGS, tags - markdown.ALLOWED_TAGS
    for bad in ("MsoNormal", "font-family", "script", "alert", "file:", "hx-", "onclick", "o:p", "mso"):
        assert bad not in html, bad


def _form(**extra) -> dict:
    return {"category": "branch_exemplar", "title": "书香支部", "summary": "", "body_md": "", **extra}


def test_a_post_written_in_the_rich_editor_is_stored_as_markdown(client, secretary):
    client.login(secretary)
    response = client.form_post("/news", _form(body_html=WORD_PASTE))
    assert response.status_code == 303
    post = db.session.scalar(select(Post))
    assert post.body_md.startswith("# 书香支部的一年") and "<h2>书香支部的一年</h2>" in post.body_html
    assert "script" not in post.body_html and "MsoNormal" not in post.body_html
    # The edit page gives the editor the post's HTML back (and the plain text area its Markdown).
    page = client.get(f"/news/{post.id}/edit").get_data(as_text=True)
    assert '<template id="body-rich-html"><h2>书香支部的一年</h2>' in page and "vendor/pell-1.0.6.min.js" in page


def test_a_refused_rich_save_keeps_the_text(client, secretary):
    client.login(secretary)
    before = fingerprint()
    response = client.form_post("/news", _form(title="", body_html="<p><b>保留</b>我的文字</p>"))
    assert response.status_code == 422
    assert "<strong>保留</strong>我的文字" in response.get_data(as_text=True)
    assert changed(before, fingerprint()) == []


def test_pictures_are_uploaded_recorded_and_served(client, secretary, leader, app):
    client.login(secretary)
    data, name = image_bytes(name="photo.jpg", size=(2400, 1200), fmt="JPEG")
    response = client.post("/news/images", data={"image": (data, name)},
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 201
    url = response.get_json()["url"]
    record = db.session.scalar(select(PostImage))
    assert url == f"/news/images/{record.stored_name}" and record.uploaded_by_id == secretary.id
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "post.add_image")) == 1
    assert f"inline/{record.stored_name}" in uploads.referenced_files(
        lambda sql: db.session.execute(__import__("sqlalchemy").text(sql)).all())
    # Not a picture: refused with the reason, nothing stored. A leader does not write posts: 403.
    other = app.test_client()
    other.login(leader)
    before = fingerprint()
    bad = client.post("/news/images", data={"image": (io.BytesIO(b"%PDF-1.4 not an image"), "x.png")},
                      headers={"X-CSRFToken": client.csrf_token()})
    assert bad.status_code == 422 and bad.get_json()["error"]
    assert other.post("/news/images", data={"image": image_bytes(name="a.png", size=(10, 10))},
                      headers={"X-CSRFToken": other.csrf_token()}).status_code == 403
    assert changed(before, fingerprint()) == []
    assert client.get("/news/images/not-a-stored-name.png").status_code == 404


def test_a_chosen_cover_survives_a_refused_save(client, secretary, member):
    client.login(secretary)
    data, name = image_bytes(name="封面.png", size=(400, 300))
    refused = client.form_post("/news", _form(title="", body_md="正文", cover=(data, name)))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    token = re.search(r'name="kept_cover" value="([^"]+)"', page).group(1)
    assert "封面.png" in page
    # Another person cannot use the token; the author's next save takes the kept picture.
    other = client.application.test_client()
    other.login(member)
    other.form_post("/news", _form(title="别人的", body_md="正文", kept_cover=token))
    assert db.session.scalar(select(Post).where(Post.title == "别人的")).cover_stored == ""
    assert client.form_post("/news", _form(title="有封面", body_md="正文", kept_cover=token)).status_code == 303
    post = db.session.scalar(select(Post).where(Post.title == "有封面"))
    assert post.cover_stored and client.get(f"/news/{post.id}/cover/thumb").status_code == 200


def test_two_pictures_in_one_upload_are_refused_and_errors_answer_json(client, secretary, app, monkeypatch):
    """The editor's upload takes one image: two are refused (422, nothing stored), and its other refusals
    (an expired form, storage that cannot be written) come as JSON with the reason, not as an HTML page."""
    from portal.services import uploads as upload_service

    client.login(secretary)
    first, second = image_bytes(name="a.png", size=(10, 10)), image_bytes(name="b.png", size=(10, 10))
    before = fingerprint()
    both = client.post("/news/images", data={"image": [first, second]},
                       headers={"X-CSRFToken": client.csrf_token(), "Accept": "application/json"})
    assert both.status_code == 422 and "2" in both.get_json()["error"]
    stale = client.post("/news/images", data={"image": image_bytes(name="c.png", size=(10, 10))},
                        headers={"X-CSRFToken": "made-up", "Accept": "application/json"})
    assert stale.status_code == 400 and stale.is_json and stale.get_json()["error"]

    def refuse(*args, **kwargs):
        raise upload_service.StorageUnavailable()

    monkeypatch.setattr(upload_service, "upload_dir", refuse)
    full = client.post("/news/images", data={"image": image_bytes(name="d.png", size=(10, 10))},
                       headers={"X-CSRFToken": client.csrf_token(), "Accept": "application/json"})
    assert full.status_code == 503 and full.is_json and full.get_json()["error"]
    assert changed(before, fingerprint()) == []
