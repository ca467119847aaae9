"""Markdown to safe HTML: markdown-it-py renders, nh3 removes anything executable."""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}


def render(text: str) -> str:
    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def safe_html(text: str) -> Markup:
    """`render(text)` marked safe for templates: the sanitised HTML of a Markdown text (e.g. a nomination's
    事迹材料), never raw input."""
    return Markup(render(text))  # noqa: S704  # nosec B704 - nh3 has removed anything executable


# What text pasted from Word or WPS may carry into the rich-text editor, before it becomes Markdown: its
# formatting tags (b, i, h1…, tables), never its styles, classes, conditional comments or scripts.
PASTE_TAGS = ALLOWED_TAGS | {"b", "i", "u", "h1", "h5", "h6", "div", "span", "caption", "tfoot"}


def from_html(html: str) -> str:
    """The Markdown of the rich-text editor's HTML (typed, or pasted from Word/WPS): first cleaned by nh3 to
    `PASTE_TAGS` (scripts and style sheets removed with their content, attributes and URLs as `render`
    allows), then converted by markdownify. The Markdown is what a post stores; `render` turns it back into
    the same sanitised HTML as any typed post, so the allowed tags stay those of `ALLOWED_TAGS`."""
    import markdownify

    cleaned = nh3.clean(html or "", tags=PASTE_TAGS, clean_content_tags={"script", "style"},
                        attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"}, link_rel=None)
    # A post's headings start at h2 (the page's title is its h1) and end at h4, as typed Markdown allows.
    for tag, kept in (("h1", "h2"), ("h5", "h4"), ("h6", "h4")):
        cleaned = cleaned.replace(f"<{tag}>", f"<{kept}>").replace(f"</{tag}>", f"</{kept}>")
    text = markdownify.markdownify(cleaned, heading_style="ATX", bullets="-", strong_em_symbol="*",
                                   escape_underscores=False)
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
