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


# --- the fields and values the events record ----------------------------------------------------------------
import ast  # noqa: E402

# Recorded keys the scan cannot see (built from data at run time), spelled out with where they come from.
SPELLED_KEYS = {
    # campaign.next_phase: {phase kind: [start, end]} for every phase of the year
    "campaign_year.next_phase": {"mobilise", "pledge", "review", "appraisal", "commend"},
    # grading.save_policy: {name: values[name] for name in POLICY_FIELDS}
    # appraisal.save_round: the round's previous values of the keys it sets
    "appraisal.round_changed": {"groups", "weight_satisfied", "weight_fairly", "weight_basically",
                                "weight_dissatisfied", "min_ballots", "member_min_answers", "opens_on", "closes_on"},
    # pledges._move (action passed in): the changes it made that are worth recording
    "*": {"return_reason"},
    # roster._apply: a re-imported person's changed fields (roster.Change.fields)
    "user.update": {"display_name", "role", "branch", "post_title", "email", "active"},
    "grading.policy_changed": {"weight_self", "weight_review", "weight_appraisal", "advanced_min", "ordinary_min",
                               "advanced_min_satisfaction", "member_excellent_min", "member_qualified_min",
                               "member_basic_min"},
}


def _record_calls():
    """(module path, enclosing function, call) for every `audit.record(...)` in the portal, and every other call
    that records an action with `before`/`after` (an import's own events, written in bulk: `_event(actor,
    "user.create", ..., after={...})`)."""
    for path in sorted(PORTAL.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                if (isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                        and getattr(node.func.value, "id", "") == "audit") or (
                        len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
                        and isinstance(node.args[1].value, str) and "." in node.args[1].value
                        and any(k.arg in ("before", "after") for k in node.keywords)):
                    yield path, tree, functions, function, node


def _fields(expr, tree, functions, function, seen=None):
    """(key, value expression) of a dict recorded as `before`/`after`, following names assigned in the
    function, module functions returning a dict (`_snapshot(post)`), `**keywords` of the function (the keyword
    arguments its callers pass) and `|`; yields (None, expr) for what cannot be followed."""
    seen = seen if seen is not None else set()
    if isinstance(expr, ast.Dict):
        for key, value in zip(expr.keys, expr.values, strict=True):
            if key is None:
                yield from _fields(value, tree, functions, function, seen)
            elif isinstance(key, ast.Constant):
                yield key.value, value
            else:
                yield None, expr
    elif isinstance(expr, ast.BinOp):
        yield from _fields(expr.left, tree, functions, function, seen)
        yield from _fields(expr.right, tree, functions, function, seen)
    elif isinstance(expr, ast.Name) and expr.id not in seen:
        seen.add(expr.id)
        assigned = [node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)]
        if function.args.kwarg is not None and function.args.kwarg.arg == expr.id:
            for call in ast.walk(tree):
                if isinstance(call, ast.Call) and getattr(call.func, "id", "") == function.name:
                    yield from ((kw.arg, kw.value) for kw in call.keywords if kw.arg)
            return
        if not assigned:
            yield None, expr
        for value in assigned:
            yield from _fields(value, tree, functions, function, seen)
    elif isinstance(expr, ast.Call) and getattr(expr.func, "id", "") in functions:
        target = functions[expr.func.id]
        returned = [node.value for node in ast.walk(target) if isinstance(node, ast.Return) and node.value]
        if all(isinstance(value, ast.Dict) for value in returned):
            for value in returned:
                yield from _fields(value, tree, functions, target, seen)
        elif expr.args:  # a converter of a dict (`_jsonable(values)`): its argument's keys
            yield from _fields(expr.args[0], tree, functions, function, seen)
    elif isinstance(expr, ast.Constant) and expr.value is None:
        return
    else:
        yield None, expr


def _recorded_fields():
    """{action: {key: [value expressions]}} and the expressions the scan could not follow."""
    found, unfollowed = {}, []
    for path, tree, functions, function, call in _record_calls():
        action = call.args[1].value if len(call.args) > 1 and isinstance(call.args[1], ast.Constant) else "*"
        for keyword in call.keywords:
            if keyword.arg not in ("before", "after"):
                continue
            for key, value in _fields(keyword.value, tree, functions, function):
                if key is None:
                    unfollowed.append((path.name, action, ast.unparse(value)[:80]))
                else:
                    found.setdefault(action, {}).setdefault(key, []).append(value)
    return found, unfollowed


def _is_code(value) -> bool:
    """A recorded value that is an enumeration's code (`status.value`, `"draft"`), not free text or a number."""
    return (isinstance(value, ast.Attribute) and value.attr == "value") or (
        isinstance(value, ast.IfExp) and _is_code(value.body))


def test_the_scan_follows_every_recorded_dict():
    found, unfollowed = _recorded_fields()
    assert sum(len(keys) for keys in found.values()) > 120  # the scan still finds the fields
    assert {action for _path, action, _expr in unfollowed} <= set(SPELLED_KEYS), unfollowed


def test_every_recorded_field_has_a_label():
    found, _unfollowed = _recorded_fields()
    keys = {key for fields in found.values() for key in fields} | set().union(*SPELLED_KEYS.values())
    missing = {key for key in keys if key not in labels.AUDIT_FIELD and key not in labels.AUDIT_CONTEXT}
    assert missing == set()


def test_every_recorded_code_has_words():
    """A field recorded as an enumeration's code (or a literal code) has a label for each of its values."""
    found, _unfollowed = _recorded_fields()
    unlabelled = []
    for action, fields in found.items():
        for key, values in fields.items():
            for value in values:
                if _is_code(value) and not labels.audit_value_labels(key):
                    unlabelled.append((action, key, ast.unparse(value)))
                if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value and \
                        key in labels.AUDIT_VALUE and value.value not in labels.audit_value_labels(key):
                    unlabelled.append((action, key, value.value))
    assert unlabelled == []


def test_every_code_of_an_enumeration_has_words():
    from portal.models import (
        AssessmentStatus,
        BulletinStatus,
        FollowUpStatus,
        NominationStatus,
        PledgeStatus,
        PostStatus,
        SubmissionStatus,
    )

    for object_type, enum in [("assessment", AssessmentStatus), ("pledge", PledgeStatus), ("post", PostStatus),
                              ("submission", SubmissionStatus), ("nomination", NominationStatus),
                              ("followup", FollowUpStatus), ("bulletin", BulletinStatus)]:
        assert set(enum) <= set(labels.audit_value_labels("status", object_type)), object_type


def test_every_recorded_reference_is_named_or_shown_by_number():
    """A recorded id refers to a kind the log can name, or (an appraisal round, a nomination) is shown as #id:
    never a page error."""
    from portal.services import auditlog

    named = set(auditlog.REFERENCE_NAME)
    unnamed = {kind for kind in labels.AUDIT_REFERENCE.values() if kind not in named}
    assert unnamed <= {"appraisalround", "nomination"}, unnamed
