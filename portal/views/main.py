"""Home page per role, language switching and the health check."""
from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from ..extensions import db
from ..htmx import render
from ..links import url_pattern
from ..permissions import authorize
from ..services import branch_choice
from ..services import home as home_service

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    return render("main/home.html", home=home_service.for_user(current_user), url_pattern=url_pattern)


_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


@bp.get("/branches/suggest")
@login_required
def branch_suggestions():
    """The branch picker's suggestions (templates/_branch_picker.html): ?scope=active|all, field=the picker's
    field name (the text is sent as `<field>_q`), list=the listbox's id. Up to branch_choice.SUGGESTIONS."""
    scope = branch_choice.scope_of(request.args.get("scope"))
    authorize("branch.pick", scope)
    field = request.args.get("field", "")
    field = field if _NAME.fullmatch(field) else "branch"
    list_id = request.args.get("list", "")
    list_id = list_id if _NAME.fullmatch(list_id) else f"{field}-list"
    query = request.args.get(f"{field}_q", request.args.get("q", ""))
    found = branch_choice.suggest(query, scope, limit=branch_choice.SUGGESTIONS + 1)
    return render("_branch_suggestions.html", list_id=list_id, query=branch_choice.fold(query),
                  found=found[:branch_choice.SUGGESTIONS], more=len(found) > branch_choice.SUGGESTIONS)


@bp.get("/healthz")
def healthz():
    """{"status": "ok", "database": "ok"} (200) when the database answers and holds the portal's schema;
    503 with "database": "unavailable" when it does not answer, "not initialised" when it is empty (e.g. an
    SQLite file that was removed and has not been restored or created by `flask --app wsgi init-db`).
    Always JSON, whoever asks (cookies are ignored: see sessions.SESSIONLESS_ENDPOINTS)."""
    try:
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as error:
        db.session.rollback()
        missing_schema = "no such table" in str(error) and "alembic_version" in str(error)
        return jsonify(status="error", database="not initialised" if missing_schema else "unavailable"), 503
    except ProgrammingError:  # PostgreSQL: the table does not exist
        db.session.rollback()
        return jsonify(status="error", database="not initialised"), 503
    except Exception:  # any other driver error means the database does not answer
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    if revision is None:
        return jsonify(status="error", database="not initialised"), 503
    return jsonify(status="ok", database="ok")
