"""The main navigation: (endpoint, label, permission). Each role sees the entries it may use."""
from flask_babel import lazy_gettext as _l

NAV_ITEMS = [
    ("main.home", _l("Home"), "home.view"),
]
