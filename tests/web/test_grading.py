"""分类定级 through the web: proposals from the inputs, the leading group confirms or overrides with a reason
(audited), member grades confirmed by the secretary; 民主评议党员; results, the branch page, the dashboard's column
and filter."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Branch,
    GradeRecord,
    MemberAppraisalTaking,
    MemberVerdict,
    Review,
    ReviewRating,
    Role,
)
from portal.services import appraisal, grading

from ..appraisal_helpers import close_round, current_year, open_round
from ..factories import UserFactory


def _ballots(round_, branch, actor, levels, group="parents"):
    for code, level in zip(appraisal.generate_codes(actor, round_, branch, group, len(levels)), levels, strict=True):
        appraisal.cast_ballot(code, {q.id: level for q in round_.questions})


def _review(branch, rating, leader):
    year = current_year()
    db.session.add(Review(year_id=year.id, reviewer_id=leader.id, branch_id=branch.id, rating=rating,
                          comment="点评"))
    db.session.commit()


def test_leader_computes_and_confirms_proposals(client, branch, other_branch, secretary, leader, admin):
    round_ = open_round(admin, minimum=4)
    _ballots(round_, branch, admin, ["satisfied"] * 4)  # score 100, satisfaction 100 %
    _ballots(round_, other_branch, admin, ["dissatisfied", "basically", "basically", "satisfied"])  # 55, 25 %
    close_round(round_)
    _review(branch, ReviewRating.GOOD, leader)
    _review(other_branch, ReviewRating.GOOD, leader)
    client.login(leader)
    assert client.form_post("/grades/propose").status_code == 303
    records = {r.branch_id: r for r in db.session.scalars(select(GradeRecord).where(GradeRecord.member_id.is_(None)))}
    # No self-assessment: review and appraisal at 30/30 → (100 + 100) / 2 = 100 → 先进.
    assert (records[branch.id].composite, records[branch.id].proposed) == (100.0, "advanced")
    # (100 + 55) / 2 = 77.5, and satisfaction 25 % < 60 %: 一般.
    assert (records[other_branch.id].composite, records[other_branch.id].satisfaction) == (77.5, 25.0)
    assert records[other_branch.id].proposed == "ordinary"
    page = client.get("/grades").get_data(as_text=True)
    assert f'id="grade-{records[branch.id].id}"' in page
    # Confirm as proposed: no reason needed.
    record = records[branch.id]
    response = client.form_post(f"/grades/{record.id}/confirm", {"grade": "advanced", "reason": "",
                                                               "version": str(record.version)})
    assert response.status_code == 303
    db.session.refresh(record)
    assert (record.confirmed, record.confirmed_by_id) == ("advanced", leader.id)
    # Override without a reason: refused, nothing changes.
    other = records[other_branch.id]
    refused = client.form_post(f"/grades/{other.id}/confirm", {"grade": "lagging", "reason": "",
                                                              "version": str(other.version)})
    assert refused.status_code == 422
    db.session.refresh(other)
    assert other.confirmed is None
    reason = "群众意见较大，整改未落实到位"
    done = client.form_post(f"/grades/{other.id}/confirm", {"grade": "lagging", "reason": reason,
                                                           "version": str(other.version)})
    assert done.status_code == 303
    db.session.refresh(other)
    assert (other.confirmed, other.reason) == ("lagging", "群众意见较大，整改未落实到位")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "grading.overridden"))
    assert event.after["confirmed"] == "lagging" and event.after["reason"] == "群众意见较大，整改未落实到位"
    assert event.before["confirmed"] is None and event.actor_id == leader.id
    # The filter on the grades page and on the dashboard.
    filtered = client.get("/grades?grade=lagging").get_data(as_text=True)
    assert f'id="grade-{other.id}"' in filtered and f'id="grade-{record.id}"' not in filtered
    dashboard = client.get("/dashboard?grade=lagging")
    html = dashboard.get_data(as_text=True)
    assert other_branch.name in html and branch.name not in html.split("<tbody>", 1)[1]
    full = client.get("/dashboard").get_data(as_text=True)
    assert "verdict-grade" in full and "100%" in full


def test_a_stale_confirmation_is_a_conflict(client, branch, leader, admin):
    open_round(admin)
    grading.propose(admin, current_year())
    record = db.session.scalar(select(GradeRecord).where(GradeRecord.branch_id == branch.id,
                                                         GradeRecord.member_id.is_(None)))
    client.login(leader)
    assert client.form_post(f"/grades/{record.id}/confirm", {"grade": "ordinary", "version": "999"}).status_code == 409
    db.session.refresh(record)
    assert record.confirmed is None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECRETARY, Role.MEMBER, Role.EDITOR])
def test_only_the_leading_group_confirms_branch_grades(client, branch, admin, role):
    open_round(admin)
    grading.propose(admin, current_year())
    record = db.session.scalar(select(GradeRecord).where(GradeRecord.member_id.is_(None)))
    user = UserFactory(role=role, branch=branch if role in (Role.SECRETARY, Role.MEMBER) else None)
    client.login(user)
    assert client.form_post(f"/grades/{record.id}/confirm", {"grade": "advanced", "reason": "x",
                                                            "version": str(record.version)}).status_code == 403
    db.session.refresh(record)
    assert record.confirmed is None


def test_member_appraisal_is_anonymous_and_covered(client, branch, secretary, member, other_member, admin):
    round_ = open_round(admin)
    round_.member_min_answers = 2
    db.session.commit()
    client.login(member)
    page = client.get("/appraisal/members").get_data(as_text=True)
    assert f'id="appraise-{secretary.id}"' in page and f'id="appraise-{member.id}"' in page
    assert f'id="appraise-{other_member.id}"' not in page  # another branch's member
    answers = {f"m{secretary.id}": "satisfied", f"m{member.id}": "fairly"}
    assert client.form_post("/appraisal/members", {f"m{secretary.id}": "satisfied"}).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(MemberVerdict)) == 0
    assert client.form_post("/appraisal/members", answers).status_code == 303
    assert client.form_post("/appraisal/members", answers).status_code == 409  # once per round
    assert db.session.scalar(select(func.count()).select_from(MemberVerdict)) == 2
    assert db.session.scalar(select(func.count()).select_from(MemberAppraisalTaking)) == 1
    assert not db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("appraisal.member%")))
    client.form_post("/logout")
    client.login(secretary)
    results = client.get(f"/appraisal/branch/{branch.id}/results").get_data(as_text=True)
    assert '<progress max="2" value="1"' in results
    # The secretary's own answers; then both people are above the minimum of 2 answers.
    assert client.form_post("/appraisal/members", {f"m{secretary.id}": "fairly",
                                                   f"m{member.id}": "fairly"}).status_code == 303
    # While the round is open: who took part (to remind people), and no score at all.
    results = client.get(f"/appraisal/branch/{branch.id}/results").get_data(as_text=True)
    assert '<progress max="2" value="2"' in results and "90.0" not in results
    assert all(line.figures is None for line in appraisal.member_coverage(round_, branch.id))
    close_round(round_)
    # Closed, but two answers about the member: the secretary, subtracting her own, would read the member's
    # verdict. A row holding a minimum below the floor (an older round) is held to the floor as well.
    assert "90.0" not in client.get(f"/appraisal/branch/{branch.id}/results").get_data(as_text=True)
    lines = {line.member.id: line for line in appraisal.member_coverage(round_, branch.id)}
    assert all(line.figures is None for line in lines.values())
    assert all(line.taken_part for line in lines.values())


def test_member_scores_need_the_minimum_besides_the_viewer_s_own_answer(client, branch, secretary, member, admin):
    round_ = open_round(admin)
    assert round_.member_min_answers == 3
    others = [UserFactory(role=Role.MEMBER, branch=branch) for _ in range(2)]
    everyone = [secretary, member, *others]
    for person in everyone[:3]:  # three answers about each: the minimum, but one of them may be the reader's
        appraisal.appraise_members(person, round_, {m.id: "satisfied" for m in everyone})
    close_round(round_)
    assert all(line.figures is None for line in appraisal.member_coverage(round_, branch.id))
    grading.propose(admin, current_year())
    assert all(r.appraisal_score is None for r in db.session.scalars(
        select(GradeRecord).where(GradeRecord.member_id.isnot(None))))
    round_.closes_on = appraisal.local_today() + timedelta(days=1)  # open again for one more person
    db.session.commit()
    appraisal.appraise_members(everyone[3], round_, {m.id: "fairly" for m in everyone})
    close_round(round_)
    lines = {line.member.id: line for line in appraisal.member_coverage(round_, branch.id)}
    assert lines[member.id].figures.score == 95.0  # (3 × 100 + 80) / 4: three answers besides any one reader's
    grading.propose(admin, current_year())
    assert db.session.scalar(select(GradeRecord.appraisal_score).where(GradeRecord.member_id == member.id)) == 95.0
    client.login(secretary)
    assert "95.0" in client.get(f"/appraisal/branch/{branch.id}/results").get_data(as_text=True)


def test_member_grades_are_confirmed_by_the_secretary(client, branch, secretary, member, admin, leader):
    year = current_year()
    open_round(admin)
    grading.propose(leader, year)
    mine = db.session.scalar(select(GradeRecord).where(GradeRecord.member_id == member.id))
    own = db.session.scalar(select(GradeRecord).where(GradeRecord.member_id == secretary.id))
    assert mine.proposed == "qualified"  # no inputs yet
    client.login(secretary)
    page = client.get(f"/grades/branch/{branch.id}/members").get_data(as_text=True)
    assert f'id="confirm-{mine.id}"' in page and f'id="confirm-{own.id}"' not in page  # never one's own
    assert client.form_post(f"/grades/{own.id}/confirm", {"grade": "excellent", "reason": "x",
                                                         "version": str(own.version)}).status_code == 403
    assert client.form_post(f"/grades/{mine.id}/confirm", {"grade": "advanced", "reason": "",
                                                          "version": str(mine.version)}).status_code == 422
    reason = "带头服务师生，群众评价很高"
    assert client.form_post(f"/grades/{mine.id}/confirm", {"grade": "excellent", "reason": reason,
                                                          "version": str(mine.version)}).status_code == 303
    db.session.refresh(mine)
    assert (mine.confirmed, mine.reason, mine.confirmed_by_id) == ("excellent", reason, secretary.id)
    client.form_post("/logout")
    client.login(leader)  # the secretary's own grade goes to the leading group
    assert client.form_post(f"/grades/{own.id}/confirm", {"grade": "qualified", "reason": "",
                                                         "version": str(own.version)}).status_code == 303


def test_branch_page_shows_results_and_grade_movement(client, branch, secretary, member, admin):
    years = {y.year: y for y in db.session.scalars(select(type(current_year())))}
    for number, grade in ((2010, "lagging"), (2011, "ordinary")):
        db.session.add(GradeRecord(year_id=years[number].id, branch_id=branch.id, proposed=grade, confirmed=grade,
                                   reason="", confirmed_at=datetime(number, 12, 20)))
    db.session.commit()
    round_ = open_round(admin, minimum=3)
    _ballots(round_, branch, admin, ["satisfied", "fairly", "dissatisfied"])
    close_round(round_)
    grading.propose(admin, current_year())
    client.login(secretary)
    html = client.get(f"/branches/{branch.id}").get_data(as_text=True)
    assert 'id="branch-appraisal"' in html and 'id="appraisal-results"' in html
    assert 'id="grade-year-2010"' in html and 'id="grade-year-2012"' in html
    assert html.count('class="grade-up"') == 1  # 2010 后进 → 2011 一般
    client.form_post("/logout")
    client.login(member)  # members see neither results nor grades
    html = client.get(f"/branches/{branch.id}").get_data(as_text=True)
    assert 'id="branch-appraisal"' not in html and 'id="branch-grades"' not in html
    assert client.get(f"/appraisal/branch/{branch.id}/results").status_code == 403


def test_round_settings_are_the_admin_s_and_validated(client, admin, leader):
    client.login(leader)
    assert client.get("/appraisal/round").status_code == 403
    client.form_post("/logout")
    client.login(admin)
    assert client.get("/appraisal/round").status_code == 200
    data = {"groups": ["staff", "parents"], "weight_satisfied": "100", "weight_fairly": "80",
            "weight_basically": "60", "weight_dissatisfied": "0", "min_ballots": "10", "member_min_answers": "3",
            "opens_on": "2012-11-01", "closes_on": "2012-10-01"}
    assert client.form_post("/appraisal/round", data).status_code == 422
    assert appraisal.round_for(current_year()) is None
    assert client.form_post("/appraisal/round", {**data, "closes_on": "2012-12-01", "weight_fairly": "120"}
                            ).status_code == 422
    assert client.form_post("/appraisal/round", {**data, "closes_on": "2012-12-01"}).status_code == 303
    round_ = appraisal.round_for(current_year())
    assert round_.group_list == ["staff", "parents"] and len(round_.questions) == 6
    assert round_.questions[-1].is_overall
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action.like("appraisal.round%"))) == (
        "appraisal.round_created")
    policy = dict.fromkeys(grading.POLICY_FIELDS, "50")
    assert client.form_post("/grades/policy", {**policy, "advanced_min": "40"}).status_code == 422
    assert client.form_post("/grades/policy", policy).status_code == 303
    assert grading.policy_for(current_year()).advanced_min == 50


def test_dashboard_appraisal_column_filter_and_exports(client, branch, other_branch, leader, admin):
    import csv
    import io

    round_ = open_round(admin, minimum=3)
    _ballots(round_, branch, admin, ["satisfied", "satisfied", "fairly"])  # shown, 100 %
    _ballots(round_, other_branch, admin, ["fairly", "basically", "dissatisfied"])  # shown, 33.3 %
    client.login(leader)
    # While the round is open the dashboard shows ballot counts only, and no branch is "low".
    live = client.get("/dashboard?appraisal=low").get_data(as_text=True).split("<tbody>", 1)[-1]
    assert other_branch.name not in live and "33%" not in live
    close_round(round_)
    low = client.get("/dashboard?appraisal=low").get_data(as_text=True).split("<tbody>", 1)[1]
    assert other_branch.name in low and branch.name not in low
    assert "33%" in low
    few = client.get("/dashboard?appraisal=few").get_data(as_text=True)
    assert branch.name not in few.split("<tbody>", 1)[-1] and other_branch.name not in few.split("<tbody>", 1)[-1]
    bogus = client.get("/dashboard?appraisal=bogus")
    assert bogus.status_code == 200 and "bogus" in bogus.get_data(as_text=True)  # ignored, with a note
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    ballots, rate = header.index("评议票数"), header.index("满意率 %")
    by_name = {row[0]: row for row in rows[1:]}
    assert (by_name[branch.name][ballots], by_name[branch.name][rate]) == ("3", "100.0")
    assert by_name[other_branch.name][rate] == "33.3"


def test_the_appraisal_filters_cost_the_same_statements_at_3_and_30_branches(client, leader, admin):
    """The appraisal filter reads the kept totals per class (h14ap_01): its page costs the statements the kind
    filter's costs, "low" one more (whether the round has closed), the same at 3 and at 30 branches; and it lists the
    branches of its class."""
    from ..dashboard_helpers import build_district, count_statements

    def vote(branches) -> None:
        round_.opens_on, round_.closes_on = today - timedelta(days=3), today + timedelta(days=3)
        db.session.commit()
        for n, built in enumerate(branches):
            branch = db.session.get(Branch, built.id)
            if n % 3 == 0:
                _ballots(round_, branch, admin, ["dissatisfied"] * 5)  # low
            elif n % 3 == 1:
                _ballots(round_, branch, admin, ["satisfied"] * 5)  # neither
            else:
                _ballots(round_, branch, admin, ["satisfied"])  # too few
        close_round(round_)

    today = appraisal.local_today()
    small = build_district(3)
    round_ = open_round(admin, minimum=5)
    vote(small.branches)
    pages = ["/dashboard?appraisal=few", "/dashboard?appraisal=low",
             "/dashboard?appraisal=low&kind=primary&sort=-score", "/dashboard?kind=primary"]

    def counts() -> list[int]:
        client.login(leader)
        return [count_statements(client, url) for url in pages]

    at_3 = counts()
    assert at_3[0] == at_3[3] and at_3[1] == at_3[3] + 1, at_3
    low = client.get("/dashboard?appraisal=low").get_data(as_text=True).split("<tbody>", 1)[1]
    assert small.branches[0].name in low and small.branches[1].name not in low and small.branches[2].name not in low
    few = client.get("/dashboard?appraisal=few").get_data(as_text=True).split("<tbody>", 1)[1]
    assert small.branches[2].name in few and small.branches[0].name not in few
    more = build_district(27, start=3)
    vote(more.branches)
    assert counts() == at_3


def test_proposing_again_keeps_confirmations_and_follows_a_moved_member(branch, other_branch, secretary, member,
                                                                        leader, admin):
    open_round(admin)
    year = current_year()
    assert grading.propose(leader, year) == 2 + 2  # two branches, the secretary and the member
    record = db.session.scalar(select(GradeRecord).where(GradeRecord.member_id == member.id))
    grading.confirm(secretary, record, "qualified", "")
    member.branch_id = other_branch.id
    db.session.commit()
    grading.propose(leader, year)
    db.session.refresh(record)
    assert (record.branch_id, record.confirmed, record.version) == (other_branch.id, "qualified", 3)
    assert db.session.scalar(select(func.count()).select_from(GradeRecord).where(
        GradeRecord.member_id == member.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "grading.proposed")) == 2
