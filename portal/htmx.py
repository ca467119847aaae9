"""The one place that decides page versus fragment for a request."""
from __future__ import annotations

from flask import make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page (not a boosted or history-restore request)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and headers.get("HX-Request-Type", "partial") != "full"
    )


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render the whole page, or only `block` of it when htmx asks for a fragment."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return respond(body, status)


def respond(body: str, status: int = 200):
    """The answer with `body`, a page or fragment already drawn (by `render`, or written in Python), varying on
    HX-Request as every answer that can be either does."""
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_back(location: str):
    """After a plain form post: 303 so the browser follows with GET."""
    return redirect(location, code=303)
