"""Blueprint 'commendation' (routes are added by the feature that owns it)."""
from flask import Blueprint

bp = Blueprint("commendation", __name__)
