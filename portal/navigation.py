"""The main navigation: (endpoint, label, permission). Each role sees the entries it may use;
an entry whose endpoint does not exist (yet) is not shown."""
from flask_babel import lazy_gettext as _l

NAV_ITEMS = [
    ("main.home", _l("Home"), "home.view"),
    ("checklist.index", _l("Self-assessment"), "checklist.own"),
    # --- checklist entries ---
    # --- dashboard entries ---
    ("dashboard.overview", _l("Progress dashboard"), "dashboard.view"),
    ("dashboard.own_branch", _l("Our branch"), "dashboard.own_branch"),
    # --- news board and commendation entries ---
    ("news.board", _l("News board"), "home.view"),
    ("news.queue", _l("Review queue"), "post.moderate"),
    ("commendation.index", _l("Commendation"), "home.view"),
    ("commendation.honours", _l("Honour roll"), "honours.view"),
    ("appraisal.hub", _l("Appraisal"), "appraisal.hub"),
    ("appraisal.grades", _l("Grades"), "grading.propose"),
    # --- campaign and administration entries ---
    ("campaign.submissions", _l("Submissions"), "submission.list"),
    ("campaign.pledges", _l("Pledges"), "pledge.list"),
    ("campaign.brands", _l("Brands and projects"), "brand.view"),
    ("campaign.inspections", _l("Supervision"), "inspection.view"),
    ("admin.users", _l("Administration"), "admin.manage"),
]
