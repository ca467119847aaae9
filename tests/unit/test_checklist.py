"""Checklist services: results, notes, progress and score, workflow, locks, past years, audit."""
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.errors import Conflict, Invalid, NotFound
from portal.extensions import db
from portal.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    AuditEvent,
    Evidence,
    Item,
    ItemResult,
    Result,
    Review,
    Subject,
)
from portal.services import checklist
from portal.services.progress import Tally

from ..checklist_helpers import current_year, items, make_assessment, year

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def branch_target(branch, year_obj=None):
    return checklist.target_for(Subject.BRANCH, branch.id, year_obj or current_year())


def test_tally_progress_and_score():
    tally = Tally(total=10, met=4, partly=2, not_met=1, na=2, weight_scored=7.0, weight_earned=5.0)
    assert tally.applicable == 8
    assert tally.assessed == 7
    assert tally.progress == 87.5
    assert tally.score == pytest.approx(71.4)
    assert Tally(total=3).progress == 0.0 and Tally(total=3).score is None
    assert Tally(total=2, na=2).progress == 100.0


def test_blank_checklist_lists_every_item_unanswered(branch):
    loaded = checklist.load(branch_target(branch))
    assert [s.criterion.title for s in loaded.sections][:2] == ["领导班子好", "党员队伍好"]
    all_rows = [r for s in loaded.sections for r in s.rows]
    assert len(all_rows) == len(items(Subject.BRANCH))
    assert all(r.result == Result.NOT_ASSESSED for r in all_rows)
    assert loaded.overall.progress == 0 and loaded.overall.total == len(all_rows)


def test_theme_item_of_the_year_is_included(branch):
    loaded = checklist.load(branch_target(branch))
    theme_rows = [r for s in loaded.sections for r in s.rows if r.item.year_id]
    assert len(theme_rows) == 1 and "长效管理机制" in theme_rows[0].text


def test_set_result_creates_assessment_and_counts(branch, secretary):
    target = branch_target(branch)
    first = items(Subject.BRANCH)[0]
    checklist.set_item_result(secretary, target, first.id, "met")
    loaded = checklist.load(branch_target(branch))
    assert loaded.row_of(first.id).result == Result.MET
    assert loaded.overall.assessed == 1
    assert loaded.overall.score == 100.0
    assert loaded.row_of(first.id).needs_support  # met without note or evidence


def test_set_result_is_idempotent_and_not_a_toggle(branch, secretary):
    item = items(Subject.BRANCH)[0]
    for _ in range(3):
        checklist.set_item_result(secretary, branch_target(branch), item.id, "partly")
    assert db.session.scalar(select(func.count(ItemResult.id))) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "checklist.set_result")) == 1


def test_score_weighs_results_and_leaves_out_na(branch, secretary):
    a, b, c, d = items(Subject.BRANCH)[:4]
    for item, value in ((a, "met"), (b, "partly"), (c, "not_met"), (d, "na")):
        checklist.set_item_result(secretary, branch_target(branch), item.id, value)
    overall = checklist.load(branch_target(branch)).overall
    assert overall.score == 50.0
    assert overall.assessed == 3 and overall.na == 1


def test_unknown_result_is_invalid(branch, secretary):
    with pytest.raises(Invalid) as error:
        checklist.set_item_result(secretary, branch_target(branch), items(Subject.BRANCH)[0].id, "excellent")
    assert "result" in error.value.field_errors


def test_item_of_the_other_framework_is_not_found(branch, secretary):
    member_item = items(Subject.MEMBER)[0]
    with pytest.raises(NotFound):
        checklist.set_item_result(secretary, branch_target(branch), member_item.id, "met")


def test_note_version_conflict_keeps_the_first_text(branch, secretary):
    item = items(Subject.BRANCH)[0]
    checklist.set_note(secretary, branch_target(branch), item.id, "first", "0")
    with pytest.raises(Conflict) as error:
        checklist.set_note(secretary, branch_target(branch), item.id, "second", "0")
    assert error.value.current == {"note": "first", "version": 1}
    assert checklist.load(branch_target(branch)).row_of(item.id).note == "first"
    checklist.set_note(secretary, branch_target(branch), item.id, "second", "1")
    assert checklist.load(branch_target(branch)).row_of(item.id).note == "second"


def test_note_too_long_is_invalid(branch, secretary):
    with pytest.raises(Invalid):
        checklist.set_note(secretary, branch_target(branch), items(Subject.BRANCH)[0].id, "字" * 2001, "0")


def test_evidence_upload_and_delete(app, branch, secretary):
    item = items(Subject.BRANCH)[0]
    file = FileStorage(io.BytesIO(PNG), filename="../../会议照片.png", content_type="image/png")
    evidence = checklist.add_evidence(secretary, branch_target(branch), item.id, file)
    assert evidence.original_name == "会议照片.png"
    assert evidence.stored_name.endswith(".png") and "会议" not in evidence.stored_name
    assert not checklist.load(branch_target(branch)).row_of(item.id).needs_support
    record, target, item_id = checklist.evidence_with_target(evidence.id)
    checklist.delete_evidence(secretary, target, record, item_id)
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_disguised_file_is_rejected_and_nothing_saved(app, branch, secretary):
    item = items(Subject.BRANCH)[0]
    file = FileStorage(io.BytesIO(b"MZ\x90\x00 this is an executable" * 20), filename="plan.pdf")
    with pytest.raises(Invalid):
        checklist.add_evidence(secretary, branch_target(branch), item.id, file)
    assert db.session.scalar(select(func.count(Evidence.id))) == 0
    assert db.session.scalar(select(func.count(Assessment.id))) == 0


def test_submit_requires_every_item(branch, secretary):
    checklist.set_item_result(secretary, branch_target(branch), items(Subject.BRANCH)[0].id, "met")
    with pytest.raises(Invalid):
        checklist.submit(secretary, branch_target(branch))


def test_workflow_submit_return_resubmit_review(branch, secretary, leader):
    make_assessment(branch, answer_all=Result.MET)
    checklist.submit(secretary, branch_target(branch))
    with pytest.raises(Conflict):  # locked
        checklist.set_item_result(secretary, branch_target(branch), items(Subject.BRANCH)[0].id, "partly")
    with pytest.raises(Invalid):
        checklist.return_for_revision(leader, branch_target(branch), "  ")
    checklist.return_for_revision(leader, branch_target(branch), "请补充佐证材料")
    target = branch_target(branch)
    assert target.status == AssessmentStatus.RETURNED and target.assessment.return_reason == "请补充佐证材料"
    checklist.set_item_result(secretary, target, items(Subject.BRANCH)[0].id, "partly")  # unlocked again
    checklist.submit(secretary, branch_target(branch))
    checklist.review(leader, branch_target(branch), "good", "扎实有效", "加强宣传")
    target = branch_target(branch)
    assert target.status == AssessmentStatus.REVIEWED
    assert db.session.scalar(select(Review.rating)) == "good"
    actions = db.session.scalars(select(AssessmentEvent.action).order_by(AssessmentEvent.id)).all()
    assert actions == ["submit", "return", "submit", "review"]
    with pytest.raises(Conflict):
        checklist.set_item_result(secretary, target, items(Subject.BRANCH)[0].id, "met")


def test_review_needs_rating_and_comment(branch, secretary, leader):
    make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    with pytest.raises(Invalid) as error:
        checklist.review(leader, branch_target(branch), "superb", "", "")
    assert set(error.value.field_errors) == {"rating", "comment"}


def test_review_only_a_submitted_assessment(branch, leader):
    make_assessment(branch, answer_all=Result.MET)
    with pytest.raises(Conflict):
        checklist.review(leader, branch_target(branch), "good", "ok", "")


def test_past_years_are_read_only(branch, secretary):
    past = year(2011)
    with pytest.raises(Conflict) as error:
        checklist.set_item_result(secretary, branch_target(branch, past), items(Subject.BRANCH, past)[0].id, "met")
    assert "2011" in error.value.message


def test_answers_keep_the_wording_they_answered(branch, secretary):
    item = items(Subject.BRANCH)[0]
    checklist.set_item_result(secretary, branch_target(branch), item.id, "met")
    item.text = "改写后的措辞"
    db.session.commit()
    assert checklist.load(branch_target(branch)).row_of(item.id).text == "深入学习实践科学发展观"
    other = items(Subject.BRANCH)[1]
    other.text = "另一条改写"
    db.session.commit()
    assert checklist.load(branch_target(branch)).row_of(other.id).text == "另一条改写"


def test_retired_item_stays_where_answered_only(branch, other_branch, secretary, other_secretary):
    item = items(Subject.BRANCH)[0]
    checklist.set_item_result(secretary, branch_target(branch), item.id, "met")
    item.retired_from = current_year().year
    db.session.commit()
    assert any(r.item.id == item.id for s in checklist.load(branch_target(branch)).sections for r in s.rows)
    assert not any(r.item.id == item.id for s in checklist.load(branch_target(other_branch)).sections
                   for r in s.rows)


def test_every_change_is_audited(branch, secretary):
    item = items(Subject.BRANCH)[0]
    checklist.set_item_result(secretary, branch_target(branch), item.id, "met")
    checklist.set_note(secretary, branch_target(branch), item.id, "见会议记录", "0")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "checklist.set_result"))
    assert event.actor_id == secretary.id and event.branch_id == branch.id
    assert event.before == {"item_id": item.id, "result": "not_assessed"}
    # The item and whose checklist it is are named, so that the audit log reads without looking them up.
    after = dict(event.after)
    label, of = after.pop("item"), after.pop("of")
    assert after == {"item_id": item.id, "result": "met"}
    assert label.split(" ", 1)[1] in item.text and branch.name in of
    assert db.session.scalar(select(AuditEvent.after).where(AuditEvent.action == "checklist.set_note"))["note"] == \
        "见会议记录"


def test_audit_log_numbers_a_theme_item_as_the_checklist_does(branch, secretary):
    # A theme item's position is counted after the framework's own items: the checklist shows "3.7", not the
    # raw criterion and item positions ("3.101").
    target = branch_target(branch)
    theme = next(r for s in checklist.load(target).sections for r in s.rows if r.item.year_id)
    db.session.get(Item, theme.item.id).position = 101  # (the checklist's rows are read-only values)
    db.session.commit()
    checklist.set_item_result(secretary, branch_target(branch), theme.item.id, "met")
    label = db.session.scalar(select(AuditEvent.after).where(AuditEvent.action == "checklist.set_result"))["item"]
    assert label.split(" ", 1)[0] == checklist.load(branch_target(branch)).row_of(theme.item.id).number


def test_member_coverage_lists_everyone(branch, secretary, member):
    make_assessment(branch, member=member, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    rows = {r.member.username: r for r in checklist.member_coverage(current_year(), branch)}
    assert rows["mem-a"].status == AssessmentStatus.SUBMITTED and rows["mem-a"].tally.progress == 100
    assert rows["sec-a"].status is None
