"""Forms of the notifications blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from .fields import Flag, Id


class ReadForm(FlaskForm):
    """Mark one notification read; `open` goes on to the place it links to, `page` back to the list's page."""

    open = Flag(_l("Go on to the page it links to"), choices=["1"])
    page = Id(minimum=1, maximum=99_999)


class ReadAllForm(FlaskForm):
    """Mark all read: only up to `up_to`, the newest notification there was when the page was drawn, so that a
    page left open never marks read what arrived after it (and was never seen)."""

    up_to = Id(required=True)
