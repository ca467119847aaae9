"""A tester's findings on 群众评议 and 分类定级, each as the kind of fault it was: live figures that move with one
ballot, codes in URLs and logs, a lost ballot on an expired page, rules the service left to the form, number
fields that named no range, and the pages' wording and order."""
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AppraisalCode, Ballot
from portal.services import appraisal

from ..appraisal_helpers import answers_for, close_round, current_year, open_round


def _vote(client, code, round_, **extra):
    return client.form_post("/appraisal", {"code": code, "step": "answers", **answers_for(round_), **extra})


def _ballots(round_, branch, actor, n, level="satisfied"):
    for code in appraisal.generate_codes(actor, round_, branch, "parents", n):
        appraisal.cast_ballot(code, {q.id: level for q in round_.questions})


# --- 2: no live figures -------------------------------------------------------------------------------------

def test_open_round_shows_counts_only_to_the_secretary(client, branch, secretary, admin):
    round_ = open_round(admin)
    _ballots(round_, branch, admin, 12)
    client.login(secretary)
    html = client.get(f"/appraisal/branch/{branch.id}/results").get_data(as_text=True)
    assert 'id="appraisal-results"' not in html and 'id="appraisal-hidden"' in html
    assert "12" in html and "100.0" not in html
    html = client.get(f"/branches/{branch.id}").get_data(as_text=True)
    assert 'id="appraisal-results"' not in html
    close_round(round_)
    assert 'id="appraisal-results"' in client.get(f"/appraisal/branch/{branch.id}/results").get_data(as_text=True)


def test_ballot_page_promises_what_is_true(client, branch, secretary):
    html = client.get("/appraisal?lang=en").get_data(as_text=True)
    assert "only after the appraisal has closed" in html
    assert "nothing links it" not in html  # the old promise, untrue of the engine's files


# --- 6: the minimum of ballots ------------------------------------------------------------------------------

def _round_data(**changes):
    today = appraisal.local_today()
    data = {"groups": ["staff", "parents"], "weight_satisfied": "100", "weight_fairly": "80",
            "weight_basically": "60", "weight_dissatisfied": "0", "min_ballots": "10", "member_min_answers": "3",
            "opens_on": (today.replace(day=1)).isoformat(), "closes_on": today.replace(year=today.year + 1).isoformat()}
    return {**data, **changes}


def test_minimum_is_at_least_five_and_not_lowered_while_open(client, admin):
    client.login(admin)
    refused = client.form_post("/appraisal/round", _round_data(min_ballots="1"))
    assert refused.status_code == 422 and "5" in refused.get_data(as_text=True)
    assert client.form_post("/appraisal/round", _round_data()).status_code == 303
    lowered = client.form_post("/appraisal/round", _round_data(min_ballots="6"))
    assert lowered.status_code == 422
    assert appraisal.round_for(current_year()).min_ballots == 10
    assert client.form_post("/appraisal/round", _round_data(min_ballots="12")).status_code == 303  # raised: fine


@pytest.mark.parametrize("typed", ["1", "2"])
def test_member_minimum_has_a_floor_and_is_not_lowered_while_open(client, admin, typed):
    client.login(admin)
    refused = client.form_post("/appraisal/round", _round_data(member_min_answers=typed))
    assert refused.status_code == 422 and appraisal.round_for(current_year()) is None
    assert client.form_post("/appraisal/round", _round_data(member_min_answers="5")).status_code == 303
    lowered = client.form_post("/appraisal/round", _round_data(member_min_answers="4"))
    assert lowered.status_code == 422 and "5" in lowered.get_data(as_text=True)
    assert appraisal.round_for(current_year()).member_min_answers == 5
    assert client.form_post("/appraisal/round", _round_data(member_min_answers="6")).status_code == 303


# --- 9 and 18: numbers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["-1", "0", "1000000000", "abc"])
def test_number_fields_name_their_range(client, admin, typed):
    client.login(admin)
    html = client.form_post("/appraisal/round", _round_data(min_ballots=typed, weight_fairly=typed)).get_data(
        as_text=True)
    assert "请从列表中选择" not in html
    assert "5" in html and "1000" in html  # 请输入 5 到 1000 之间的整数
    policy = client.form_post("/grades/policy", {"weight_self": typed}).get_data(as_text=True)
    assert "请从列表中选择" not in policy and "100" in policy


def test_count_accepts_full_width_digits(client, branch, secretary):
    open_round(secretary)
    client.login(secretary)
    response = client.form_post(f"/appraisal/branch/{branch.id}/codes", {"group": "parents", "count": "３"})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(AppraisalCode)) == 3


def test_tampered_step_is_not_a_missing_answer(client, branch, secretary):
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "parents", 1)[0]
    response = _vote(client, code, round_, step="hacked")
    assert response.status_code in (400, 422)
    html = response.get_data(as_text=True)
    assert "请回答每一个问题" not in html and "请填写" not in html
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


# --- 3: the code stays out of URLs and logs -----------------------------------------------------------------

def test_slip_qr_codes_carry_the_code_in_the_fragment_only(client, branch, secretary):
    import re

    from portal.views.appraisal import qr_svg, slip_url

    open_round(secretary)
    client.login(secretary)
    sheet = client.form_post(f"/appraisal/branch/{branch.id}/codes", {"group": "parents", "count": "2"},
                             follow_redirects=True).get_data(as_text=True)
    codes = re.findall(r'class="slip__code">.*?<code>([A-Z0-9-]{14})</code>', sheet)
    assert len(codes) == 2
    for code in codes:
        url = slip_url(code)
        assert "?" not in url and url.endswith(f"/appraisal#code={code}")
        assert str(qr_svg(url)) in sheet  # the QR code on the sheet is of that address


def test_old_query_links_redirect_to_the_clean_address_without_referrer(client, branch, secretary):
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "parents", 1)[0]
    response = client.get(f"/appraisal?code={code.lower()}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/appraisal#code=" + code.replace("-", ""))
    page = client.get("/appraisal")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "js/ballot.js" in page.get_data(as_text=True)
    assert _vote(client, code, round_).headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/appraisal/thanks").headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/login").headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_access_log_leaves_out_query_strings():
    import runpy
    from pathlib import Path

    settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    fmt = settings["access_log_format"]
    assert "%(r)s" not in fmt and "%(q)s" not in fmt and "%(f)s" not in fmt and "%(U)s" in fmt
    atoms = {"h": "10.0.0.9", "l": "-", "u": "-", "t": "[01/Jan/2012:10:00:00 +0800]", "m": "GET",
             "U": "/appraisal", "q": "code=K7QM2XHP9TAW", "H": "HTTP/1.1", "s": "303", "b": "0",
             "a": "Mozilla", "r": "GET /appraisal?code=K7QM2XHP9TAW HTTP/1.1", "f": "-"}
    line = fmt % atoms
    assert "K7QM2XHP9TAW" not in line and "/appraisal" in line


# --- 4: an expired page keeps the answers -------------------------------------------------------------------

def test_expired_form_token_reshows_the_ballot_with_the_answers(client, branch, secretary):
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "parents", 1)[0]
    first = round_.questions[0]
    data = {"code": code, "step": "answers", **answers_for(round_), f"q{first.id}": "fairly",
            "csrf_token": "expired-or-from-another-session"}
    response = client.post("/appraisal", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "页面已过期，请再提交一次" in html and "登录" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert f'name="q{first.id}" value="fairly" required\n        checked' in html or (
        'value="fairly" required' in html and "checked" in html)
    assert db.session.scalar(select(AppraisalCode.used)) is False
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
    assert _vote(client, code, round_).status_code == 303  # sent again from the re-shown page


# --- 7 and 8: voiding and generating ------------------------------------------------------------------------

def test_one_code_is_voided_by_typing_it(client, branch, other_branch, secretary):
    round_ = open_round(secretary)
    lost, kept = appraisal.generate_codes(secretary, round_, branch, "parents", 2)
    foreign = appraisal.generate_codes(secretary, round_, other_branch, "parents", 1)[0]
    client.login(secretary)
    url = f"/appraisal/branch/{branch.id}/codes/void-one"
    assert client.form_post(url, {"code": " " + lost.lower().replace("-", "") + " "}).status_code == 303
    assert client.form_post(url, {"code": lost}).status_code == 422  # already voided
    refused = client.form_post(url, {"code": foreign})
    assert refused.status_code == 422 and foreign in refused.get_data(as_text=True)  # typed value kept
    counts = appraisal.code_counts(round_, branch.id)["parents"]
    assert (counts.voided, counts.open) == (1, 1)
    assert _vote(client, lost, round_).status_code == 410
    assert _vote(client, kept, round_).status_code == 303


def test_generating_twice_with_one_form_makes_one_batch(client, branch, secretary):
    from portal.models import CodeBatch

    open_round(secretary)
    client.login(secretary)
    form = {"group": "students", "count": "5", "form_token": "same-form-token-0123456789"}
    first = client.form_post(f"/appraisal/branch/{branch.id}/codes", form)
    second = client.form_post(f"/appraisal/branch/{branch.id}/codes", form)  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(CodeBatch)) == 1
    assert db.session.scalar(select(func.count()).select_from(AppraisalCode)) == 5
    sheet = client.get(first.headers["Location"]).get_data(as_text=True)
    assert sheet.count('class="slip"') == 5 and sheet.count("对象：学生") == 5  # the group on every slip
    again = client.get(first.headers["Location"]).get_data(as_text=True)
    assert again.split('id="slips"', 1)[1] == sheet.split('id="slips"', 1)[1]  # a reload prints the same


def test_a_batch_cannot_be_shown_after_its_printing_time(client, branch, secretary):
    from datetime import timedelta

    from portal.models import CodeBatch, utcnow

    round_ = open_round(secretary)
    batch = appraisal.generate_batch(secretary, round_, branch, "parents", 2)
    assert len(appraisal.batch_codes(batch)) == 2 and batch.secret
    batch.printable_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    client.login(secretary)
    response = client.get(f"/appraisal/branch/{branch.id}/codes/batches/{batch.id}")
    assert response.status_code == 410 and 'id="batch-expired"' in response.get_data(as_text=True)
    assert db.session.get(CodeBatch, batch.id).secret is None


# --- 5 and 10: grades ---------------------------------------------------------------------------------------

def _record(branch, proposed="ordinary", satisfaction=None):
    from portal.models import GradeRecord

    record = GradeRecord(year_id=current_year().id, branch_id=branch.id, proposed=proposed, reason="",
                         satisfaction=satisfaction, composite=88.0)
    db.session.add(record)
    db.session.commit()
    return record


@pytest.mark.parametrize("proposed, satisfaction", [("advanced", 21.0), ("ordinary", 21.0), ("ordinary", None)])
def test_never_advanced_below_the_satisfaction_rule_even_by_override(client, branch, leader, proposed,
                                                                     satisfaction):
    record = _record(branch, proposed, satisfaction)
    client.login(leader)
    refused = client.form_post("/grades", {"record": str(record.id), "grade": "advanced",
                                           "reason": "领导小组认为该支部工作突出，应评为先进。",
                                           "version": str(record.version)})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f'id="grade-error-{record.id}"' in html and "60" in html
    db.session.refresh(record)
    assert record.confirmed is None


def test_an_override_needs_a_reason_of_substance_and_stays_on_the_page(client, branch, leader):
    record = _record(branch, "ordinary", 80.0)
    client.login(leader)
    refused = client.form_post("/grades", {"record": str(record.id), "grade": "lagging", "reason": "x",
                                           "version": str(record.version)})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    row = html.split(f'id="confirm-{record.id}"', 1)[1].split("</form>", 1)[0]
    assert f'id="grade-error-{record.id}"' in row and "10" in row  # beside the row, naming the length
    assert 'value="lagging" selected' in row and 'value="x"' in row  # as typed
    done = client.form_post("/grades", {"record": str(record.id), "grade": "lagging",
                                        "reason": "年度督察发现问题较多，整改不到位。", "version": str(record.version)})
    assert done.status_code == 303 and done.headers["Location"].endswith("/grades")
    db.session.refresh(record)
    assert record.confirmed == "lagging"


@pytest.mark.parametrize("url", ["/grades", "/grades/{id}/confirm"])
def test_an_override_that_meets_a_newer_confirmation_keeps_what_was_typed(client, branch, leader, url):
    """Another tab confirmed the row first (its version moved on): the same page again, 409, with the choice and
    the reason as typed and the conflict beside them (views/appraisal.confirm_on_page), not a bare error page."""
    record = _record(branch, "ordinary", 80.0)
    client.login(leader)
    stale = str(record.version)
    assert client.form_post("/grades", {"record": str(record.id), "grade": "ordinary", "reason": "",
                                        "version": stale}).status_code == 303
    reason = "年度督察发现问题较多，整改不到位。"
    refused = client.form_post(url.format(id=record.id), {"record": str(record.id), "grade": "lagging",
                                                          "reason": reason, "version": stale})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    row = html.split(f'id="confirm-{record.id}"', 1)[1].split("</form>", 1)[0]
    assert 'value="lagging" selected' in row and f'value="{reason}"' in row  # as typed
    assert f'id="grade-error-{record.id}"' in row and "此等次已被他人修改" in row
    db.session.refresh(record)
    assert record.confirmed == "ordinary"


def test_demo_confirms_no_advanced_branch_below_the_rule(app):
    from portal.models import GradeRecord
    from portal.services import demo, grading
    from portal.services.campaign import current_phase

    demo.seed(branches=40, members_per_branch=2)
    for record in db.session.scalars(select(GradeRecord).where(GradeRecord.member_id.is_(None),
                                                               GradeRecord.confirmed == "advanced")):
        policy = grading.policy_for(db.session.get(type(current_year()), record.year_id))
        assert grading.may_be_advanced(record.satisfaction, policy), (record.satisfaction, record.reason)
    year = current_year()
    assert current_phase(year).kind == "appraisal"  # the demo's round is open during 群众评议
    assert appraisal.is_open(appraisal.round_for(year))


# --- 17: the throttle counts guesses only -------------------------------------------------------------------

def test_used_and_voided_codes_do_not_count_toward_the_throttle(client, app, branch, secretary):
    from portal.models import LoginFailure

    app.config["APPRAISAL_REFUSALS_PER_ADDRESS"] = 3
    round_ = open_round(secretary)
    used, voided, good = appraisal.generate_codes(secretary, round_, branch, "parents", 3)
    assert _vote(client, used, round_).status_code == 303
    appraisal.void_code(secretary, round_, branch, voided)
    for _ in range(5):  # a parent pressing "back" and sending again, a withdrawn slip tried again
        assert client.form_post("/appraisal", {"code": used}).status_code == 409
        assert client.form_post("/appraisal", {"code": voided}).status_code == 410
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0
    assert _vote(client, good, round_).status_code == 303
    assert app.config["APPRAISAL_REFUSALS_PER_ADDRESS"] == 3


def test_default_allows_a_school_behind_one_address(tmp_path, monkeypatch):
    from portal.config import load

    monkeypatch.delenv("APPRAISAL_REFUSALS_PER_ADDRESS", raising=False)
    assert load(str(tmp_path))["APPRAISAL_REFUSALS_PER_ADDRESS"] == 100


# --- 12: the audit log in words -----------------------------------------------------------------------------

def test_audit_log_names_appraisal_and_grading_events_in_chinese(client, runner, branch, admin, leader):
    round_ = open_round(admin)
    assert runner.invoke(args=["appraisal-codes", "--branch", str(branch.id), "--group", "parents",
                               "--count", "2"]).exit_code == 0
    record = _record(branch, "ordinary", 80.0)
    client.login(leader)
    client.form_post("/grades", {"record": str(record.id), "grade": "lagging",
                                 "reason": "年度督察发现问题较多，整改不到位。", "version": str(record.version)})
    client.form_post("/logout")
    client.login(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    for raw in ("appraisal.codes_generated", "grading.overridden", "graderecord #", "advanced", "ordinary",
                "lagging", ">@command-line<"):
        assert raw not in html.rsplit("</select>", 1)[1], raw  # the log itself (option values are codes)
    assert "生成了评议码" in html and "命令行" in html and "后进" in html
    assert ">全部（群众评议）<" in html and ">全部（分类定级）<" in html
    assert client.get("/admin/audit?kind=grading").status_code == 200
    assert round_ is not None


# --- 15: the grades page's order and years ------------------------------------------------------------------

def test_grades_in_pinyin_order_with_past_years(client, leader):
    from portal.models import CampaignYear, GradeRecord

    from ..factories import BranchFactory

    names = ["中山路小学党支部", "北京路小学党支部", "阿城幼儿园党支部"]  # code point order: 中 北 阿
    branches = [BranchFactory(name=name) for name in names]
    year = current_year()
    past = db.session.scalar(select(CampaignYear).where(CampaignYear.year == year.year - 1))
    for b in branches:
        db.session.add(GradeRecord(year_id=year.id, branch_id=b.id, proposed="ordinary", reason=""))
    db.session.add(GradeRecord(year_id=past.id, branch_id=branches[0].id, proposed="lagging", confirmed="lagging",
                               reason=""))
    db.session.commit()
    client.login(leader)
    html = client.get("/grades").get_data(as_text=True)
    positions = [html.index(name) for name in ("阿城幼儿园党支部", "北京路小学党支部", "中山路小学党支部")]
    assert positions == sorted(positions)
    assert 'id="year-filter"' in html
    old = client.get(f"/grades?year={past.year}").get_data(as_text=True).split("<tbody>", 1)[1]
    assert "中山路小学党支部" in old and "北京路小学党支部" not in old and "后进" in old
    assert 'class="inline-form grade-confirm"' not in old  # a past year is read, not confirmed here
