"""Blueprint 'admin' (routes are added by the feature that owns it)."""
from flask import Blueprint

bp = Blueprint("admin", __name__)
