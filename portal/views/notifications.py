"""A person's notifications: the list (newest first) and marking them read (POST; CSRFProtect checks the
token before any view runs)."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from ..forms.notifications import ReadAllForm, ReadForm
from ..htmx import redirect_back, render
from ..input_guard import parse_int
from ..links import url_pattern
from ..permissions import require
from ..services import notifications as service

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@require("notification.view")
def index():
    page = parse_int(request.args.get("page")) or 1
    # Each row's "read" form posts to its own address: one url_for for the page (links.url_pattern).
    return render("main/notifications.html", listing=service.page_for(current_user, page),
                  text_of=service.text_of, read_url=url_pattern("notifications.read", "notification_id"))


@bp.post("/<int:notification_id>/read")
@require("notification.view")
def read(notification_id: int):
    """Mark one read; with `open` set, go on to the place it links to. Another person's is 404."""
    form = ReadForm()
    form.validate()  # bad values are dropped: the mark is made, the way back is the first page
    notification = service.mark_read(current_user, notification_id)
    if form.open.data == "1" and notification.link.startswith("/") and not notification.link.startswith("//"):
        return redirect(notification.link, code=303)
    return redirect_back(url_for("notifications.index", page=form.page.data if not form.page.errors else None))


@bp.post("/read-all")
@require("notification.view")
def read_all():
    """Mark read every notification up to the newest the page showed (`up_to`); without it, none."""
    form = ReadAllForm()
    if form.validate():
        service.mark_all_read(current_user, form.up_to.data)
    return redirect_back(url_for("notifications.index"))
