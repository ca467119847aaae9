"""党务公开栏 sheets (A4 or A3, print CSS only) for a branch, and the 公示 sheet of nominations under notice."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import login_required

from ..htmx import render
from ..permissions import authorize, require
from ..services import dashboard, noticeboard
from ..services.bulletins import choose_year

bp = Blueprint("noticeboard", __name__)


def _size() -> str:
    """The paper size asked for (?size=a3), A4 otherwise."""
    size = (request.args.get("size") or "").strip().lower()
    return size if size in noticeboard.SIZES else "a4"


@bp.get("/branches/<int:branch_id>/noticeboard")
@login_required
def branch(branch_id: int):
    the_branch = dashboard.get_branch(branch_id)
    authorize("noticeboard.view", the_branch)
    sheet = noticeboard.branch_sheet(the_branch, choose_year(request.args.get("year")))
    return render("noticeboard/branch.html", sheet=sheet, size=_size())


@bp.get("/commendation/notice-sheet")
@require("notice_sheet.view")
def notices():
    return render("noticeboard/notices.html", entries=noticeboard.notice_sheet(), size=_size(),
                  contact=current_app.config["NOTICE_OBJECTIONS_TO"])
