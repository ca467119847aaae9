"""Blueprint 'checklist' (routes are added by the feature that owns it)."""
from flask import Blueprint

bp = Blueprint("checklist", __name__)
