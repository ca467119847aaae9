"""Every text that becomes HTML (typed Markdown, HTML pasted into the news editor) is bounded and honest
(issue 18, second round): no nesting depth makes it fail, no image the intranet cannot show is kept as an
empty or outside picture, no table gets an invented empty header row."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Post
from portal.services import markdown


def _nested(open_tags: str, depth: int, text: str = "深处的文字") -> str:
    tags = open_tags.split("><")
    opening = "".join(f"<{t.strip('<>')}>" for t in tags)
    closing = "".join(f"</{t.strip('<>').split()[0]}>" for t in reversed(tags))
    return opening * depth + text + closing * depth


@pytest.mark.parametrize("tags", ["div", "blockquote", "span", "b><i", "ul><li", "ol><li><p", "table><tr><td",
                                  "h2", "p"])
def test_deeply_nested_pasted_html_is_flattened_not_a_failure(tags):
    text = markdown.from_html(_nested(tags, 500))
    assert "深处的文字" in text
    html = markdown.render(text)
    assert "深处的文字" in html
    depth = max_depth(html)
    assert depth <= 2 * markdown.MAX_NESTING + 4, depth  # a list level is <ul><li>


def max_depth(html: str) -> int:
    depth = deepest = 0
    for closing, name in re.findall(r"<(/?)([a-z0-9]+)", html):
        if name in ("br", "hr", "img"):
            continue
        depth += -1 if closing else 1
        deepest = max(deepest, depth)
    return deepest


def test_flatten_keeps_shallow_markup_as_written_and_words_apart():
    shallow = "<div><p>一</p><blockquote><p>二</p></blockquote></div>"
    assert markdown.flatten(shallow) == shallow
    deep = markdown.flatten("<div>" * 40 + "甲</div><div>乙" + "</div>" * 40, limit=3)
    assert "甲 乙" in deep and deep.count("<div>") == 3


@pytest.mark.parametrize("typed", [">" * 20000 + " x", "- " * 20000 + "x", "1. " * 10000 + "x", "[" * 50000,
                                   "*" * 50000 + "x", "<div>" * 5000])
def test_deeply_nested_markdown_renders(typed):
    assert isinstance(markdown.render(typed), str)


@pytest.mark.parametrize("tag", ["div", "blockquote"])
def test_a_post_with_500_nested_elements_saves(client, secretary, tag):
    client.login(secretary)
    response = client.form_post("/news", {"category": "branch_exemplar", "title": "嵌套", "summary": "",
                                          "body_md": "", "body_html": _nested(tag, 500)})
    assert response.status_code == 303
    post = db.session.scalar(select(Post))
    assert "深处的文字" in post.body_html


def test_a_table_without_a_header_row_gets_no_empty_header():
    pasted = "<table><tr><td>九月</td><td>论语</td></tr><tr><td>十月</td><td>孟子</td></tr></table>"
    html = markdown.render(markdown.from_html(pasted))
    assert "<thead>" not in html and "<th" not in html
    assert html.count("<tr>") == 2 and "<td>九月</td>" in html
    with_header = markdown.render("| 月份 | 书目 |\n| --- | --- |\n| 九月 | 论语 |")
    assert "<thead>" in with_header and "<th>月份</th>" in with_header


@pytest.mark.parametrize("source", ["javascript:alert(1)", "data:image/png;base64,iVBORw0KGgo=", "http://example.org/a.png",
                                    "https://example.org/a.png", "//example.org/a.png", "file:///C:/x.png", "",
                                    "/news/images/../../etc/passwd", "vbscript:x"])
def test_images_that_are_not_the_portals_own_are_dropped_whole(source):
    pasted = f'<p>前<img src="{source}" alt="图">后</p>'
    html = markdown.render(markdown.from_html(pasted))
    assert "<img" not in html, html
    assert "前" in html and "后" in html
    assert "<img" not in markdown.render(f"前![图]({source})后")
    assert markdown.foreign_images("", pasted) == 1


def test_the_portals_own_uploaded_images_are_kept():
    own = "/news/images/0123456789abcdef0123456789abcdef.png"
    html = markdown.render(markdown.from_html(f'<p><img src="{own}" alt="活动照片"></p>'))
    assert f'<img src="{own}" alt="活动照片">' in html
    assert markdown.foreign_images("", f'<img src="{own}">') == 0


def test_the_editor_is_told_that_outside_pictures_were_left_out(client, secretary):
    client.login(secretary)
    response = client.form_post("/news", {"category": "branch_exemplar", "title": "外链图片", "summary": "",
                                          "body_md": "", "body_html": '<p>文字<img src="http://example.org/a.png"></p>'})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "图片" in page and "flash--warning" in page
    post = db.session.scalar(select(Post))
    assert "<img" not in post.body_html
