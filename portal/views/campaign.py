"""Blueprint 'campaign' (routes are added by the feature that owns it)."""
from flask import Blueprint

bp = Blueprint("campaign", __name__)
