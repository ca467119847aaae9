"""Every action the portal audits has words for the branch page's trail of changes."""
import re
from pathlib import Path

from portal import labels

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# Codes built at run time (f-strings), spelled out.
BUILT = {"checklist.submit", "checklist.return", "checklist.review", "post.pin", "post.feature",
         "submission.accept", "submission.return"}
CODE = re.compile(r'"((?:access|appraisal|auth|branch|brand|bulletin|campaign_year|checklist|follow_up|'
                  r'framework|grading|'
                  r'inspection|milestone|nomination|notification|objection|pledge|post|project|roster|submission|submission_request|upload|user)\.[a-z_]+)"')

PERMISSION = re.compile(r'can\([^,()]+,\s*"[a-z_]+\.[a-z_]+"')
# An endpoint named for a link is spelled like an action too, and so is a notification's kind
# (services/notifications.TEXTS): neither is an audited action.
ENDPOINT = re.compile(r'(?:url_for|path_for)\(\s*"[a-z_]+\.[a-z_]+"')
# A phase task's link (services/campaign.PHASE_TASKS: (words, endpoint)) names an endpoint too.
TASK_LINK = re.compile(r'\(_l\("[^"]*"\),\s*"[a-z_]+\.[a-z_]+"\)')


def _recorded() -> set[str]:
    """Action codes written in the modules that record audit events (some pass them through a helper)."""
    # A permission asked of `can(...)` is spelled like an action but is not one.
    from portal.services.notifications import TEXTS as NOTIFICATION_KINDS

    texts = [TASK_LINK.sub("", ENDPOINT.sub("", PERMISSION.sub("", path.read_text(encoding="utf-8"))))
             for path in PORTAL.rglob("*.py")]
    found = {code for text in texts if "audit.record(" in text for code in CODE.findall(text)}
    return found - set(NOTIFICATION_KINDS)


def test_every_audited_action_has_a_label():
    found = _recorded()
    assert len(found) > 40  # the pattern still finds the codes
    assert found | BUILT <= set(labels.AUDIT_ACTION)


def test_no_label_for_an_action_nobody_records():
    assert set(labels.AUDIT_ACTION) - _recorded() - BUILT == set()


def test_every_area_has_words():
    assert {code.split(".", 1)[0] for code in labels.AUDIT_ACTION} <= set(labels.AUDIT_AREA)
