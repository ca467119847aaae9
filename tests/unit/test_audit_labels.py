"""Every action the services audit has words for the branch page's trail of changes."""
import re
from pathlib import Path

from portal import labels

SERVICES = Path(__file__).resolve().parents[2] / "portal" / "services"
# Codes the services build at run time (f-strings), spelled out.
BUILT = {"checklist.submit", "checklist.return", "checklist.review", "post.pin", "post.feature",
         "submission.accept", "submission.return"}
CODE = re.compile(r'"((?:auth|branch|brand|campaign_year|checklist|follow_up|inspection|milestone|nomination|'
                  r'objection|pledge|post|project|roster|submission|submission_request|user)\.[a-z_]+)"')


def test_every_audited_action_has_a_label():
    found = {code for path in SERVICES.glob("*.py") for code in CODE.findall(path.read_text(encoding="utf-8"))}
    assert len(found) > 40  # the pattern still finds the codes
    assert found | BUILT <= set(labels.AUDIT_ACTION)


def test_no_label_for_an_action_nobody_records():
    text = "".join(path.read_text(encoding="utf-8") for path in SERVICES.glob("*.py"))
    unused = [code for code in labels.AUDIT_ACTION if code not in BUILT and f'"{code}"' not in text]
    assert unused == []
