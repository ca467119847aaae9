"""Markdown to safe HTML: markdown-it-py renders, nh3 removes anything executable.

Three rules hold for every text that becomes HTML here, typed Markdown or HTML pasted into the editor:
- nesting is bounded: pasted HTML is flattened below `MAX_NESTING` levels before anything parses it (the
  HTML cleaner slows down quadratically and markdownify recurses per level, so 500 nested <div>s were a
  RecursionError); Markdown's own nesting is bounded by markdown-it's `maxNesting`;
- an image is kept only when it is one of the portal's own uploads (`/news/images/…`): `javascript:` and
  `data:` sources, and outside addresses (which the intranet and the page's CSP cannot load), are dropped
  with the element, never left as an empty <img src="">; `foreign_images` counts them for a note;
- a table whose header row is empty (a table pasted without one: Markdown tables always have a header
  line) is drawn without a header, never with an invented empty one.
"""
from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# maxNesting: how deep markdown-it parses (commonmark's 20 would cut off the text of pasted HTML that
# `flatten` keeps: a list level is two); deeper typed Markdown is cut off there rather than recursing on.
MARKDOWN_NESTING = 100
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "maxNesting": MARKDOWN_NESTING}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
MAX_NESTING = 32  # levels of nesting kept from pasted HTML; real Word/WPS text stays far below

# An image of the portal's own: the rich-text editor's upload address (news.inline_image), under any
# script root; nothing with a scheme or a host.
_OWN_IMAGE = re.compile(r"(?:/[A-Za-z0-9._~-]+)*/news/images/[A-Za-z0-9._-]+")
_IMG = re.compile(r"<img\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.IGNORECASE)
_EMPTY_HEAD = re.compile(r"<thead>\s*<tr>(?:\s*<th(?:\s[^>]*)?>\s*</th>)*\s*</tr>\s*</thead>\s*")


def own_image(src: str) -> bool:
    return bool(_OWN_IMAGE.fullmatch((src or "").strip()))


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if own_image(value) else None
    return value


def _clean(html: str, tags: set[str], **options) -> str:
    cleaned = nh3.clean(html, tags=tags, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                        attribute_filter=_keep_attribute, **options)
    # An image whose source was refused is dropped whole (an <img> without src shows a broken picture).
    return _IMG.sub(lambda m: m.group(0) if re.search(r"\ssrc=", m.group(0)) else "", cleaned)


TOP_HEADING, LAST_HEADING = 2, 4  # a text's headings: h2 (the page's title is its h1) to h4


def _markdown_html(text: str) -> str:
    """markdown-it's HTML of `text`, headings shifted so that the text's highest heading is an h2 when it uses
    `#` (`# 标题` / `## 小标题` become h2 / h3, as an <h1> / <h2> pasted from Word does through `from_html`),
    texts whose headings start at `##` or below as written; levels past h4 stay h4. Typed Markdown and pasted
    HTML come through here alike, so the two paths cannot disagree."""
    env: dict = {}
    tokens = _md.parse(text or "", env)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    shift = max(0, TOP_HEADING - min(levels)) if levels else 0
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + shift, LAST_HEADING)}"
    return _md.renderer.render(tokens, _md.options, env)


def render(text: str) -> str:
    html = _markdown_html(text)
    return _EMPTY_HEAD.sub("", _clean(html, ALLOWED_TAGS, link_rel="noopener noreferrer"))


def foreign_images(text: str, html: str | None = None) -> int:
    """How many images of the text (the editor's HTML when it sent some, else the Markdown) are not the
    portal's own uploads, i.e. are dropped by `render`: for a note to the person who wrote it."""
    source = html if (html or "").strip() else _markdown_html(text)
    found = 0
    for match in _IMG.finditer(source):
        src = re.search(r"\ssrc=(\"[^\"]*\"|'[^']*'|[^\s>]+)", match.group(0))
        if src is None or not own_image(src.group(1).strip("\"'")):
            found += 1
    return found


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

    cleaned = _clean(flatten(html or ""), PASTE_TAGS, clean_content_tags={"script", "style"}, link_rel=None)
    # Headings stay at their levels here (<h1> becomes `#`): `render` shifts them to h2… for the page, the same
    # way for typed Markdown and for pasted HTML.
    text = markdownify.markdownify(cleaned, heading_style="ATX", bullets="-", strong_em_symbol="*",
                                   escape_underscores=False)
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


# Tags the nesting bound counts: every element that can hold itself or others. Void elements and those whose
# end tag may be left out (p, li, td…: the parser closes them at the next sibling) do not deepen the tree.
_UNCOUNTED = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
              "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "colgroup"}
_TABLE_PARTS = {"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td", "th"}
_TOKEN = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.DOTALL)


def flatten(html: str, limit: int = MAX_NESTING) -> str:
    """`html` with every element nested deeper than `limit` levels unwrapped: its tags dropped, its text kept
    (a dropped element's end leaves a space, so that words of separate blocks stay apart). One linear pass
    over the tags as written, before any parser builds a tree of them, so it bounds what the cleaner and
    markdownify see however the markup was made."""
    depth = tables = 0
    out: list[str] = []
    last = 0
    spaced = False  # one space for a run of dropped ends
    for match in _TOKEN.finditer(html):
        closing, name = match.group(1), (match.group(2) or "").lower()
        counted = bool(name) and name not in _UNCOUNTED and not match.group(0).endswith("/>")
        if name == "table" and not closing:
            tables += 1
        inner_table = name in _TABLE_PARTS and tables > 1  # Markdown has no table in a table: its text stays
        if name == "table" and closing:
            tables = max(0, tables - 1)
        if not counted and not inner_table and (depth <= limit or not name or name in ("br", "img")):
            continue  # kept as written
        between = html[last:match.start()]
        out.append(between)
        last = match.end()
        spaced = spaced and not between
        if counted and not closing:
            depth += 1
        if depth <= limit and not inner_table:
            out.append(match.group(0))
        elif not spaced:
            out.append(" ")
            spaced = True
        if counted and closing:
            depth = max(0, depth - 1)
    out.append(html[last:])
    return "".join(out)
