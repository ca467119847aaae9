"""The main navigation: (endpoint, label, permission). Each role sees the entries it may use;
an entry whose endpoint does not exist (yet) is not shown."""
from flask_babel import lazy_gettext as _l

NAV_ITEMS = [
    ("main.home", _l("Home"), "home.view"),
    ("checklist.index", _l("Self-assessment"), "checklist.own"),
    # --- checklist entries ---
    # --- dashboard entries ---
    # --- news board and commendation entries ---
    # --- campaign and administration entries ---
]
