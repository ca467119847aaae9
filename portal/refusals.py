"""The error summary of a refused form, the one way for every screen (templates/base.html, _forms.error_summary):
every message a form shows beside its field (_forms.error) is noted while the page renders; the page then opens
with a summary of them at the top (role=alert, focused on load, each message linked to its place), and also lists
the refusals that have no field on the page to stand beside (a row that became read-only meanwhile), with the text
the person typed so that it is not lost."""
from __future__ import annotations

from collections.abc import Mapping

from flask import g
from jinja2 import Undefined

from .forms.fields import Shown


def note_error(anchor: str, message) -> str:
    """Remember that the page shows `message` at the element `anchor` (an id); returns "" (used in templates)."""
    g.setdefault("shown_errors", []).append((anchor, str(message)))
    return ""


def summary_of(errors, typed=None) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(placed, unplaced): the messages shown beside fields as (anchor, message), and those of `errors`
    ({field: message}, the refusal's) shown nowhere as (field, message, what was typed in that field: from
    `typed`, the page's `form`, a forms.fields.Shown or a WTForms form; "" when nothing)."""
    placed = list(g.get("shown_errors", []))
    seen = {message for _anchor, message in placed}
    unplaced = []
    if isinstance(errors, Mapping):
        unplaced = [(str(name), str(message), _typed(typed, str(name))) for name, message in errors.items()
                    if message and not all(line in seen for line in str(message).split("\n"))]
    return placed, unplaced


def _typed(form, name: str) -> str:
    if isinstance(form, Shown):
        return form.get(name, "") or ""
    fields = getattr(form, "_fields", None) if form is not None and not isinstance(form, Undefined) else None
    data = getattr(fields.get(name), "data", None) if isinstance(fields, Mapping) else None
    return data if isinstance(data, str) else ""
