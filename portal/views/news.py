"""Blueprint 'news' (routes are added by the feature that owns it)."""
from flask import Blueprint

bp = Blueprint("news", __name__)
