"""Home page per role, language switching and the health check."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user, login_required
from sqlalchemy import text

from ..extensions import db
from ..htmx import render
from ..services import home as home_service

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    return render("main/home.html", home=home_service.for_user(current_user))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any driver error means the database does not answer
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database=database)
