"""Blueprint 'dashboard' (routes are added by the feature that owns it)."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)
