"""The public ballot at /appraisal: no login, one use per code, concurrent double use counts once, refusals
(unknown / used / voided / closed) count nothing, refused codes are rate-limited per client; codes and slips."""
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AppraisalCode, AuditEvent, Ballot, BallotAnswer, LoginFailure
from portal.services import appraisal

from ..appraisal_helpers import answers_for, close_round, open_round


def _counts():
    db.session.commit()
    return (db.session.scalar(select(func.count()).select_from(Ballot)),
            db.session.scalar(select(func.count()).select_from(BallotAnswer)))


def _vote(client, code, round_, **overrides):
    return client.form_post("/appraisal", {"code": code, "step": "answers", **answers_for(round_, **overrides)})


def test_a_code_votes_once_without_login(client, branch, secretary):
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "parents", 1)[0]
    page = client.form_post("/appraisal", {"code": code})  # the code typed, or filled in from a QR code
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert branch.name in html and 'type="radio"' in html
    assert "Not kept" in html or "不与您的回答一起保存" in html
    response = _vote(client, code, round_, q6="fairly")
    assert response.status_code == 303 and response.headers["Location"].endswith("/appraisal/thanks")
    assert _counts() == (1, len(round_.questions))
    ballot = db.session.scalar(select(Ballot))
    assert (ballot.branch_id, ballot.rater_group, ballot.cast_on) == (branch.id, "parents", appraisal.local_today())
    assert db.session.scalar(select(AppraisalCode.used)) is True
    again = _vote(client, code, round_)
    assert again.status_code == 409
    assert _counts() == (1, len(round_.questions))
    # No audit event of a ballot: only the code generation, as a count.
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "appraisal.codes_generated" in actions and not [a for a in actions if "ballot" in a]


def test_a_typed_code_in_any_spelling_is_the_same_code(client, branch, secretary):
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "staff", 1)[0]
    typed = " " + code.replace("-", "").lower() + " "
    assert client.form_post("/appraisal", {"code": typed}).status_code == 200
    assert _vote(client, typed, round_).status_code == 303
    assert _counts()[0] == 1


def test_missing_answers_count_nothing_and_keep_the_code(client, branch, secretary):
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "staff", 1)[0]
    data = answers_for(round_)
    data.pop(f"q{round_.questions[0].id}")
    response = client.form_post("/appraisal", {"code": code, "step": "answers", **data})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert _counts() == (0, 0)
    assert db.session.scalar(select(AppraisalCode.used)) is False
    bad = answers_for(round_, level="delighted")
    assert client.form_post("/appraisal", {"code": code, "step": "answers", **bad}).status_code == 422
    assert _counts() == (0, 0)


@pytest.mark.parametrize("case, status", [("unknown", 404), ("voided", 410), ("closed", 403), ("not_yet", 403)])
def test_refused_codes_count_nothing(client, branch, secretary, case, status):
    today = appraisal.local_today()
    dates = {"closed": (today - timedelta(days=20), today - timedelta(days=1)),
             "not_yet": (today + timedelta(days=1), today + timedelta(days=20))}.get(case, (None, None))
    round_ = open_round(secretary, opens=dates[0] and min(dates[0], today), closes=dates[1] and max(dates[1], today))
    code = appraisal.generate_codes(secretary, round_, branch, "students", 1)[0]  # made while the round was open
    if dates[0]:
        round_.opens_on, round_.closes_on = dates
        db.session.commit()
    if case == "voided":
        assert appraisal.void_codes(secretary, round_, branch, "students") == 1
    if case == "unknown":
        code = "2345-6789-ABCD"
    response = _vote(client, code, round_)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert 'id="ballot-refusal"' in html and ("nothing" in html.lower() or "未计" in html)
    assert _counts() == (0, 0)
    assert client.form_post("/appraisal", {"code": code}).status_code == status


def test_refused_codes_are_rate_limited_per_client(client, app, branch, secretary):
    app.config["APPRAISAL_REFUSALS_PER_ADDRESS"] = 3
    round_ = open_round(secretary)
    good = appraisal.generate_codes(secretary, round_, branch, "staff", 1)[0]
    for _ in range(3):
        assert client.form_post("/appraisal", {"code": "ZZZZ-ZZZZ-ZZZZ"}).status_code == 404
    throttled = client.form_post("/appraisal", {"code": good})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert _vote(client, good, round_).status_code == 429
    assert _counts() == (0, 0)
    # Another client address is not slowed; only refusals were recorded, with no code.
    other = client.form_post("/appraisal", {"code": good}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.scope == "ballot")) == 3


def test_successful_ballots_are_not_throttled_or_recorded(client, app, branch, secretary):
    app.config["APPRAISAL_REFUSALS_PER_ADDRESS"] = 2
    round_ = open_round(secretary)
    for code in appraisal.generate_codes(secretary, round_, branch, "staff", 5):
        assert _vote(client, code, round_).status_code == 303
    assert _counts()[0] == 5
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_the_same_code_sent_twice_at_once_counts_once(app, branch, secretary):
    """Threads against the session's database file (SQLite) or PostgreSQL: one ballot, the other refused."""
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "community", 1)[0]
    answers = {q.id: "satisfied" for q in round_.questions}
    db.session.commit()
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def cast():
        # A POST request context, as the ballot runs in (on SQLite: BEGIN IMMEDIATE, portal/database.py).
        with app.test_request_context("/appraisal", method="POST"):
            barrier.wait()
            try:
                appraisal.cast_ballot(code, answers)
                outcomes.append("counted")
            except appraisal.BallotRefused as refused:
                outcomes.append(refused.reason)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cast) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["counted"] + ["used"] * 5
    assert _counts() == (1, len(round_.questions))


def test_codes_page_generates_a_printable_sheet_with_qr_codes(client, branch, secretary):
    open_round(secretary)
    client.login(secretary)
    assert client.get(f"/appraisal/branch/{branch.id}/codes").status_code == 200
    made = client.form_post(f"/appraisal/branch/{branch.id}/codes", {"group": "parents", "count": "4"})
    assert made.status_code == 303 and "/codes/batches/" in made.headers["Location"]
    sheet = client.get(made.headers["Location"])
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    html = sheet.get_data(as_text=True)
    slips = html.split('id="slips"', 1)[1]
    assert client.get(made.headers["Location"]).get_data(as_text=True).split('id="slips"', 1)[1] == slips  # reload
    codes = re.findall(r"<code>([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})</code>", html)
    assert len(codes) == 4 and html.count('<svg viewBox') == 4
    stored = set(db.session.scalars(select(AppraisalCode.code_hash)))
    assert stored == {appraisal.code_hash(code) for code in codes}
    assert not any(code in html.replace(f"<code>{code}</code>", "") for code in codes[:0])
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appraisal.codes_generated"))
    assert event.after == {"round": event.after["round"], "group": "parents", "count": 4,
                           "batch": event.after["batch"]}
    assert not any(code in str(event.after) for code in codes)


@pytest.mark.parametrize("count", ["0", "501", "x", ""])
def test_bad_code_counts_are_refused(client, branch, secretary, count):
    open_round(secretary)
    client.login(secretary)
    response = client.form_post(f"/appraisal/branch/{branch.id}/codes", {"group": "parents", "count": count})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(AppraisalCode)) == 0


def test_codes_are_the_branch_secretary_s_or_the_admin_s(client, branch, other_secretary, member, admin, leader):
    open_round(admin)
    for user, status in ((other_secretary, 403), (member, 403), (leader, 403), (admin, 200)):
        client.login(user)
        assert client.get(f"/appraisal/branch/{branch.id}/codes").status_code == status
        assert client.form_post(f"/appraisal/branch/{branch.id}/codes",
                                {"group": "staff", "count": "1"}).status_code == (303 if status == 200 else status)
        client.form_post("/logout")


def test_bulk_void(client, branch, secretary):
    round_ = open_round(secretary)
    used = appraisal.generate_codes(secretary, round_, branch, "staff", 1)[0]
    appraisal.cast_ballot(used, {q.id: "satisfied" for q in round_.questions})
    appraisal.generate_codes(secretary, round_, branch, "staff", 3)
    appraisal.generate_codes(secretary, round_, branch, "parents", 2)
    client.login(secretary)
    asked = client.form_post(f"/appraisal/branch/{branch.id}/codes/void", {"group": "staff"})
    assert asked.status_code == 200 and 'id="void-confirm"' in asked.get_data(as_text=True)
    assert appraisal.code_counts(round_, branch.id)["staff"].voided == 0  # only asked
    assert client.form_post(f"/appraisal/branch/{branch.id}/codes/void",
                            {"group": "staff", "confirm": "yes"}).status_code == 303
    counts = appraisal.code_counts(round_, branch.id)
    assert (counts["staff"].used, counts["staff"].voided, counts["parents"].voided) == (1, 3, 0)
    assert client.form_post(f"/appraisal/branch/{branch.id}/codes/void",
                            {"group": "", "confirm": "yes"}).status_code == 303
    assert appraisal.code_counts(round_, branch.id)["parents"].voided == 2
    assert _counts()[0] == 1


def test_appraisal_codes_command_prints_codes(runner, branch, admin):
    round_ = open_round(admin)
    result = runner.invoke(args=["appraisal-codes", "--branch", str(branch.id), "--group", "parents",
                                 "--count", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.split()
    assert len(lines) == 3 and all(re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", line) for line in lines)
    assert appraisal.code_counts(round_, branch.id)["parents"].issued == 3
    assert runner.invoke(args=["appraisal-codes", "--branch", "99999", "--group", "parents",
                               "--count", "3"]).exit_code != 0


def test_a_very_long_code_is_said_to_be_invalid_not_missing(client, branch, secretary):
    open_round(secretary)
    response = client.form_post("/appraisal", {"code": "A" * 5000})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请输入评议票上的评议码。" not in html and "不是有效的评议码" in html and "过长" in html
    assert "A" * 100 not in html  # not echoed back whole
    assert "请输入评议票上的评议码。" in client.form_post("/appraisal", {"code": "  "}).get_data(as_text=True)
    assert _counts() == (0, 0)


def test_appraisal_codes_command_refuses_a_closed_round(runner, branch, admin):
    round_ = close_round(open_round(admin))
    result = runner.invoke(args=["appraisal-codes", "--branch", str(branch.id), "--group", "parents",
                                 "--count", "3"])
    assert result.exit_code != 0
    assert "closed" in result.output or "结束" in result.output, result.output
    assert not re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", result.output)
    assert appraisal.code_counts(round_, branch.id)["parents"].issued == 0


def test_ballot_questions_slips_and_results_are_valid_html(client, branch, secretary, tmp_path):
    """The pages the crawl of test_html_validity cannot reach (a code's questions, a refusal, the slips sheet that
    only a POST answers, results) pass the Nu Html Checker."""
    from .test_html_validity import VNU, run_vnu

    if not VNU.exists():
        pytest.fail("vnu-jar is missing: run `make test` (it runs npm ci).")
    round_ = open_round(secretary, minimum=1)
    code = appraisal.generate_codes(secretary, round_, branch, "parents", 1)[0]
    pages = {"questions": client.form_post("/appraisal", {"code": code}),
             "missing-answer": client.form_post("/appraisal", {"code": code, "step": "answers"})}
    assert _vote(client, code, round_).status_code == 303
    pages["used"] = client.form_post("/appraisal", {"code": code})
    pages["code"] = client.get("/appraisal")
    client.login(secretary)
    pages["slips"] = client.form_post(f"/appraisal/branch/{branch.id}/codes", {"group": "staff", "count": "3"},
                                      follow_redirects=True)
    pages["results"] = client.get(f"/appraisal/branch/{branch.id}/results")
    pages["members"] = client.get("/appraisal/members")
    for name, response in pages.items():
        (tmp_path / f"{name}.html").write_text(response.get_data(as_text=True), encoding="utf-8")
    assert [m for m in run_vnu(tmp_path) if m.get("type") == "error"] == []


def test_questions_are_asked_in_the_reader_s_language_and_kept_as_asked(app, client, branch, secretary):
    """Opened from an English page, the round still keeps its wording in Chinese (as asked); an English reader
    reads the same questions built from the criteria's English titles."""
    from flask_babel import force_locale

    from portal.models import Criterion

    with app.test_request_context(), force_locale("en"):
        round_ = open_round(secretary)
    first = round_.questions[0]
    title, title_en = db.session.execute(select(Criterion.title, Criterion.title_en)
                                         .where(Criterion.id == first.criterion_id)).one()
    assert title in first.text and "满意" in first.text and round_.questions[-1].text.startswith("总体")
    code = appraisal.generate_codes(secretary, round_, branch, "parents", 1)[0]
    chinese = client.form_post("/appraisal", {"code": code}).get_data(as_text=True)
    assert first.text in chinese
    client.get("/appraisal?lang=en")
    english = client.form_post("/appraisal", {"code": code}).get_data(as_text=True)
    assert f"How satisfied are you with the branch on “{title_en}”?" in english
    assert "Overall, how satisfied are you with this Party branch?" in english and first.text not in english
