"""群众评议 (the public ballot, rounds, codes and slips, results), 民主评议党员 and 分类定级.
Views parse, authorise, call one service, render."""
from __future__ import annotations

import click
import segno
from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf, validate_csrf
from markupsafe import Markup, escape
from wtforms.validators import ValidationError

from .. import labels
from ..errors import Conflict, Invalid, NotFound
from ..extensions import csrf, db
from ..forms import appraisal as forms
from ..forms import run_form
from ..htmx import redirect_back, render
from ..i18n import per_language
from ..links import external_url, url_parts
from ..models import Branch, CodeBatch, RaterGroup
from ..permissions import authorize, can, require
from ..services import appraisal as service
from ..services import branch_choice, grading, intents, throttle
from ..services.audit import CommandLine
from ..services.campaign import current_year

bp = Blueprint("appraisal", __name__)

# The ballot's guard against guessing codes: only UNKNOWN codes count, per client address, over the sign-in
# window (LOGIN_THROTTLE_WINDOW_SECONDS, 15 minutes); from APPRAISAL_REFUSALS_PER_ADDRESS (default 100) on, the
# address waits. A used, voided or closed code is a real slip (a parent pressing "back", a lost slip found again)
# and tells a guesser nothing new, so it is refused without counting. 100 because a school's parents, pupils and
# staff often reach the portal through one NAT address: a few hundred people at one gate, some mistyping a code,
# must not lock each other out. Guessing stays hopeless: a code has 59 bits, so with 10,000 live codes one guess
# hits with odds 10**4 / 31**12 ≈ 1.3e-14; at 100 guesses per 15 minutes (9,600 a day) an address needs some
# 2e10 years on average, and a thousand addresses 2e7 years.
THROTTLE_SCOPE = "ballot"
COUNTED_REFUSALS = frozenset({"unknown"})


def _me():
    return current_user._get_current_object()


def _refusal_message(reason: str) -> str:
    return {
        "unknown": _("This code is not known. Check it letter by letter (the code has 12 letters and digits); "
                     "nothing has been counted."),
        "used": _("This code has already been used: each code counts once. Nothing more has been counted."),
        "voided": _("This code has been withdrawn by the branch. Nothing has been counted; ask the branch for a "
                    "new slip."),
        "closed": _("The appraisal is not open for this code at the moment. Nothing has been counted."),
    }[reason]


def _window() -> int:
    return current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"]


def _address() -> str:
    return request.remote_addr or ""


def _throttle_or_none():
    """The 429 page when this client has had too many refused codes lately; else None."""
    try:
        throttle.check_refusals(THROTTLE_SCOPE, _address(), current_app.config["APPRAISAL_REFUSALS_PER_ADDRESS"],
                                _window())
    except throttle.Throttled as throttled:
        db.session.rollback()  # the tally's transaction starts with its write (SQLite, GOTCHAS)
        throttle.tally_refusal("appraisal.throttled")
        message = _("Too many codes were refused from this connection. Please wait %(minutes)s minutes and try "
                    "again.", minutes=max(1, throttled.retry_after // 60))
        response = render("appraisal/ballot.html", status=429, step="code", form=forms.BallotForm(),
                          minimum=_minimum(), refusal=message, errors={})
        response.headers["Retry-After"] = str(throttled.retry_after)
        return response
    return None


def _minimum() -> int:
    """The current round's minimum number of ballots, for the ballot page's note on what is kept."""
    round_ = service.round_for(current_year())
    return round_.min_ballots if round_ else 10


def _refused(form, refusal: service.BallotRefused):
    if refusal.reason in COUNTED_REFUSALS:
        throttle.record_refusal(THROTTLE_SCOPE, _address(), _window())
    return render("appraisal/ballot.html", status=refusal.status_code, step="code", form=form, minimum=_minimum(),
                  refusal=_refusal_message(refusal.reason), errors={})


def _questions_page(form, opened: service.OpenCode, errors=None, status=200, notice=None):
    return render("appraisal/ballot.html", status=status, step="questions", form=form, opened=opened,
                  answers=form.answers(), errors=errors or {}, refusal=notice)


BALLOT_ENDPOINTS = frozenset({"appraisal.ballot", "appraisal.thanks"})


@bp.after_request
def _no_referrer_from_the_ballot(response):
    """The ballot pages send no Referer anywhere (an old slip's ?code= would otherwise travel on). The ballot's
    own post needs none: its form token is checked in the view, not by the referrer check (GOTCHAS)."""
    if request.endpoint in BALLOT_ENDPOINTS:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _stale_token() -> bool:
    """True when the ballot's form token is missing, expired or not this session's (the page was left open)."""
    try:
        validate_csrf(request.form.get("csrf_token") or request.headers.get("X-CSRFToken"))
    except ValidationError:
        return True
    return False


@bp.route("/appraisal", methods=["GET", "POST"])
@csrf.exempt  # checked below: an expired page must not lose a parent's answers to "please log in"
def ballot():
    """The public ballot: no login. GET shows the code field; a slip's QR code opens /appraisal#code=…, whose
    fragment never reaches the server (static/js/ballot.js fills the field; without JavaScript the person types
    the code). An old-style ?code=… is answered with a redirect to that clean address, so the code leaves the
    address bar, the history and the Referer. POST with the code alone checks it; POST with answers
    (`step` = "answers") casts the ballot."""
    if request.method == "GET":
        if "code" in request.args:
            typed = service.canonical_code(request.args.get("code"))
            target = url_for("appraisal.ballot") + (f"#code={typed}" if typed else "")
            return redirect(target, 303)
        return render("appraisal/ballot.html", step="code", form=forms.BallotForm(meta={"csrf": False}),
                      refusal=None, errors={}, minimum=_minimum())
    form = forms.BallotForm(meta={"csrf": False})
    form.validate()
    code = form.code.data
    if form.step.data != "answers" and _stale_token():  # the code step of a page left open: the code is kept
        return render("appraisal/ballot.html", status=400, step="code", form=form, refusal=None,
                      errors={"code": _("The page has expired. Please check the code and continue once more.")},
                      minimum=_minimum())
    if not code or form.code.errors:
        # Something typed that cannot be a code (e.g. 5,000 characters pasted) is said to be no code, not asked for.
        message = (_("This is not a valid appraisal code: it is too long. The code on a slip has 12 letters and "
                     "digits, such as 2345-6789-ABCD.") if (code or "").strip()
                   else _("Enter the code from your slip."))
        form.code.data = (code or "")[:40]  # the field takes 40 characters: not the whole paste back
        return render("appraisal/ballot.html", status=422, step="code", form=form, refusal=None,
                      errors={"code": message}, minimum=_minimum())
    throttled = _throttle_or_none()
    if throttled is not None:
        return throttled
    try:
        opened = service.check_code(code)
        if form.step.errors:  # not a value the page draws: someone changed the form
            return _questions_page(form, opened, status=400, notice=_(
                "The form was changed before it was sent, so nothing was counted. Check your answers and "
                "submit again."))
        if form.step.data != "answers":
            return _questions_page(form, opened)
        if _stale_token():  # answers kept, code not used
            return _questions_page(form, opened, status=400, notice=_(
                "The page has expired. Please submit it once more: your answers are kept below."))
        service.cast_ballot(code, form.answers())
    except service.BallotRefused as refusal:
        db.session.rollback()
        return _refused(form, refusal)
    except Invalid as invalid:
        db.session.rollback()
        return _questions_page(form, opened, invalid.field_errors, 422)
    return redirect_back(url_for("appraisal.thanks"))


@bp.get("/appraisal/thanks")
def thanks():
    return render("appraisal/thanks.html")


# --- logged-in pages ------------------------------------------------------------------------------------

@bp.get("/appraisal/overview")
@require("appraisal.hub")
def hub():
    year = current_year()
    round_ = service.round_for(year)
    me = _me()
    return render("appraisal/hub.html", year=year, round=round_, is_open=bool(round_ and service.is_open(round_)),
                  ballot_url=external_url("appraisal.ballot"),
                  own_branch=me.branch if me.branch_id else None,
                  taken_part=bool(round_ and me.branch_id and service.has_taken_part(round_, me)))


def _round_page(errors=None, status=200, form=None):
    year = current_year()
    round_ = service.round_for(year)
    if form is None:
        form = forms.RoundForm(obj=round_) if round_ else forms.RoundForm(data={
            "groups": list(RaterGroup), "weight_satisfied": 100, "weight_fairly": 80, "weight_basically": 60,
            "weight_dissatisfied": 0, "min_ballots": 10, "member_min_answers": 3})
        if round_:
            form.groups.data = round_.groups.split(",")
    return render("appraisal/round.html", status=status, year=year, round=round_, form=form, errors=errors or {},
                  min_floor=service.MIN_BALLOTS_FLOOR,
                  member_floor=service.MEMBER_MIN_FLOOR)


@bp.get("/appraisal/round")
@require("appraisal.manage")
def round_settings():
    return _round_page()


@bp.post("/appraisal/round")
@require("appraisal.manage")
def save_round():
    form = forms.RoundForm()
    year = current_year()
    if year is None:
        raise NotFound()
    settings = lambda: service.RoundSettings(  # noqa: E731 - built after validation
        groups=form.groups.data, weight_satisfied=form.weight_satisfied.data, weight_fairly=form.weight_fairly.data,
        weight_basically=form.weight_basically.data, weight_dissatisfied=form.weight_dissatisfied.data,
        min_ballots=form.min_ballots.data, member_min_answers=form.member_min_answers.data,
        opens_on=form.opens_on.data, closes_on=form.closes_on.data)
    _done, refusal = run_form(form, lambda: service.save_round(_me(), year, settings()),
                              lambda errors, status, _c: _round_page(errors, status, form))
    if refusal:
        return refusal
    flash(_("The appraisal round is saved."), "success")
    return redirect_back(url_for("appraisal.round_settings"))


def _branch_and_round(branch_id: int, action: str):
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound()
    authorize(action, branch)
    round_ = service.round_for(current_year())
    return branch, round_


def _codes_page(branch, round_, errors=None, status=200, form=None, confirm_void=None, void_one_form=None):
    return render("appraisal/codes.html", status=status, branch=branch, round=round_,
                  counts=service.code_counts(round_, branch.id) if round_ else {},
                  form=form or forms.CodesForm(), void_form=forms.VoidForm(), errors=errors or {},
                  confirm_void=confirm_void, void_one_form=void_one_form or forms.VoidOneForm(),
                  printable_hours=service.BATCH_PRINTABLE_HOURS)


@bp.get("/appraisal/branch/<int:branch_id>/codes")
@login_required
def codes(branch_id: int):
    branch, round_ = _branch_and_round(branch_id, "appraisal.codes")
    return _codes_page(branch, round_)


def slip_url(code: str) -> str:
    """The address a slip's QR code opens: the code in the fragment, which browsers never send to the server."""
    return f"{external_url('appraisal.ballot')}#code={code}"


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of `url` (segno, error correction M, no XML declaration)."""
    svg = segno.make(url, error="m", micro=False).svg_inline(scale=3, border=4, omitsize=True, light="#fff")
    return Markup(svg)  # noqa: S704  # nosec B704 - segno's SVG of a URL we built, not user input


@bp.post("/appraisal/branch/<int:branch_id>/codes")
@login_required
def generate(branch_id: int):
    """Generate a batch of codes, then show its slips from the batch's own address (POST-redirect-GET: a reload
    prints the same batch; a second click on the button, carrying the same one-time form token, makes none)."""
    branch, round_ = _branch_and_round(branch_id, "appraisal.codes")
    if round_ is None:
        raise Conflict(_("There is no appraisal round for the current year yet."))
    form = forms.CodesForm()
    done, refusal = run_form(form, lambda: intents.run_once(_me(), form.form_token.data, CodeBatch, lambda: (
        service.generate_batch(_me(), round_, branch, form.group.data, form.count.data))),
        lambda errors, status, _c: _codes_page(branch, round_, errors, status, form))
    if refusal:
        return refusal
    return redirect(url_for("appraisal.slips", branch_id=branch.id, batch_id=done[0]), 303)


@bp.get("/appraisal/branch/<int:branch_id>/codes/batches/<int:batch_id>")
@login_required
def slips(branch_id: int, batch_id: int):
    """The printable A4 sheet of one batch's slips, while the batch is printable (its codes are derived from a
    secret that is wiped afterwards)."""
    branch, round_ = _branch_and_round(branch_id, "appraisal.codes")
    batch = service.get_batch(batch_id, branch)
    codes = service.batch_codes(batch)
    slips_ = [(code, qr_svg(slip_url(code))) for code in codes]
    response = render("appraisal/slips.html", status=200 if codes else 410, branch=branch, round=round_
                      or service.get_round(batch.round_id), group=batch.rater_group, batch=batch, slips=slips_,
                      ballot_url=external_url("appraisal.ballot"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/appraisal/branch/<int:branch_id>/codes/void")
@login_required
def void(branch_id: int):
    """Void the unused codes of a group (or all groups): first a confirmation naming how many (a plain form, so
    it works without JavaScript), then, posted again with confirm=yes, the voiding."""
    branch, round_ = _branch_and_round(branch_id, "appraisal.codes")
    if round_ is None:
        raise Conflict(_("There is no appraisal round for the current year yet."))
    form = forms.VoidForm()
    if form.validate() and form.confirm.data != "yes":
        group = form.group.data or None
        return _codes_page(branch, round_, confirm_void=(group, service.unused_count(round_, branch, group)))
    count, refusal = run_form(form, lambda: service.void_codes(_me(), round_, branch, form.group.data or None),
                              lambda errors, status, _c: _codes_page(branch, round_, errors, status))
    if refusal:
        return refusal
    flash(_("%(n)s unused codes were voided.", n=count), "success")
    return redirect_back(url_for("appraisal.codes", branch_id=branch.id))


@bp.post("/appraisal/branch/<int:branch_id>/codes/void-one")
@login_required
def void_one(branch_id: int):
    """Void one code typed from a lost or spoilt slip."""
    branch, round_ = _branch_and_round(branch_id, "appraisal.codes")
    if round_ is None:
        raise Conflict(_("There is no appraisal round for the current year yet."))
    form = forms.VoidOneForm()
    group, refusal = run_form(form, lambda: service.void_code(_me(), round_, branch, form.code.data),
                              lambda errors, status, _c: _codes_page(branch, round_, errors, status,
                                                                     void_one_form=form))
    if refusal:
        return refusal
    flash(_("The code is voided (%(group)s).", group=labels.RATER_GROUP[group]), "success")
    return redirect_back(url_for("appraisal.codes", branch_id=branch.id))


@bp.get("/appraisal/branch/<int:branch_id>/results")
@login_required
def results(branch_id: int):
    branch, round_ = _branch_and_round(branch_id, "appraisal.results")
    return render("appraisal/results.html", branch=branch, round=round_,
                  result=service.branch_result(round_, branch.id),
                  members=service.member_coverage(round_, branch.id) if round_ else [],
                  round_closed=bool(round_ and service.is_closed(round_)), member_floor=service.MEMBER_MIN_FLOOR)


def _members_page(errors=None, status=200):
    me = _me()
    form = forms.MemberAppraisalForm()
    round_ = service.round_for(current_year())
    return render("appraisal/members.html", status=status, round=round_,
                  is_open=bool(round_ and service.is_open(round_)),
                  taken_part=bool(round_ and service.has_taken_part(round_, me)),
                  members=service.branch_members(me.branch_id), answers=form.answers(), form=form,
                  errors=errors or {})


@bp.get("/appraisal/members")
@require("appraisal.take_part")
def members():
    return _members_page()


@bp.post("/appraisal/members")
@require("appraisal.take_part")
def appraise_members():
    round_ = service.round_for(current_year())
    if round_ is None:
        raise NotFound()
    form = forms.MemberAppraisalForm()
    _done, refusal = run_form(form, lambda: service.appraise_members(_me(), round_, form.answers()),
                              lambda errors, status, _c: _members_page(errors, status))
    if refusal:
        return refusal
    flash(_("Thank you: your appraisal is counted. Nobody can see what you answered."), "success")
    return redirect_back(url_for("appraisal.members"))


# --- 分类定级 -----------------------------------------------------------------------------------------------

def _grades_page(errors=None, status=200, failed=None):
    """A page of the branch grades of a year, filtered as the query string says (grading.GradeFilters: a POST's
    query string is the list it was sent from); `failed` = (record id, the refused ConfirmForm) shows that row's
    typed grade and reason again with the error beside them."""
    current = current_year()
    years = grading.graded_years()
    filters = grading.GradeFilters.parse(request.args)
    year = next((y for y in years if y.year == filters.year), current)
    result = grading.branch_grades(year, filters) if year else None
    list_args = filters.query_args(result.page if result else None)
    confirming = bool(current and year and year.id == current.id) and can(_me(), "grading.confirm_branch")
    rows = grade_rows(result.rows, list_args=list_args, confirming=confirming, errors=errors,
                      failed_id=failed[0] if failed else None, failed_form=failed[1] if failed else None
                      ) if result else Markup("")
    return render("appraisal/grades.html", status=status, year=year, years=years, result=result,
                  filters=filters, list_args=list_args, grade_rows=rows,
                  branches=branch_choice.choices("all"),
                  is_current=bool(current and year and year.id == current.id),
                  policy=grading.policy_for(year) if year else None, form=forms.ConfirmForm(), errors=errors or {},
                  failed_id=failed[0] if failed else None, failed_form=failed[1] if failed else None)


@per_language
def _grade_texts() -> dict:
    """The texts of /grades' rows in one language, translated and escaped once."""
    return {
        **{key: str(escape(_(text))) for key, text in (
            ("self", "Self-assessment"), ("review", "Leader review"), ("appraisal", "Appraisal"),
            ("satisfaction", "Satisfaction rate"), ("composite", "Composite"), ("proposed", "Proposed"),
            ("confirmed", "Confirmed"), ("open", "Not confirmed"), ("grade", "Grade"),
            ("reason", "Reason (required when the grade differs from the proposal)"),
            ("placeholder", "Reason for an override"), ("confirm", "Confirm"))},
        "grades": {key: str(escape(label)) for key, label in labels.resolved(labels.GRADE).items()}}


def _figure(value) -> str:
    return "—" if value is None else str(value)


def grade_rows(rows: list, *, list_args: dict, confirming: bool, errors: dict | None = None, failed_id=None,
               failed_form=None) -> Markup:
    """The body rows of /grades (a page of `grading.GradeRow`s), written in Python as views/dashboard.table_rows is:
    at 50 rows a page with a confirm form each (`confirming`: the viewer confirms branch grades in the current
    year), the rows' template and its form were three quarters of the page's work. Texts translated and escaped
    once per language, one url_for for the branch links and one for the forms' action (the list's `list_args`), one
    CSRF token; every text escaped. A refused row (`failed_id`, `failed_form`, `errors`) shows what was typed and
    the error beside it. The HTML is what the template and appraisal/_confirm.html wrote
    (tests/web/test_list_rows.py keeps that template and compares)."""
    texts = _grade_texts()
    grades = texts["grades"]
    before, after = (str(escape(part)) for part in url_parts("dashboard.branch", "branch_id"))
    errors = errors or {}
    if confirming:
        action = escape(url_for("appraisal.confirm_on_page", **list_args))
        csrf_input = f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
        options = [(value.value, label) for value, label in grades.items()]
    out = []
    for row in rows:
        r = row.record
        rid = r.id
        satisfaction = "—" if r.satisfaction is None else f"{r.satisfaction}&nbsp;%"
        if r.confirmed:
            reason = f'<br><span class="small muted">{escape(r.reason)}</span>' if r.reason else ""
            confirmed = f"<strong>{grades[r.confirmed]}</strong>{reason}"
        else:
            confirmed = f'<span class="badge badge--warn">{texts["open"]}</span>'
        form = ""
        if confirming:
            failed = failed_form if failed_id == rid else None
            chosen = (failed.grade.data if failed else None) or r.grade
            typed = failed.reason.data if failed else r.reason
            grade_invalid = reason_invalid = row_error = ""
            if failed:
                if errors.get("grade"):
                    grade_invalid = f'aria-invalid="true" aria-describedby="grade-error-{rid}" autofocus'
                if errors.get("reason"):
                    reason_invalid = (f'aria-invalid="true" aria-describedby="grade-error-{rid}" '
                                      f'{"" if errors.get("grade") else "autofocus"}')
                message = errors.get("grade") or errors.get("reason") or errors.get("version")
                if message:
                    row_error = (f'<p class="field__error grade-error" id="grade-error-{rid}" role="alert">'
                                 f"{escape(message)}</p>")
            choices = "".join(f'<option value="{value}" {"selected" if value == chosen else ""}>{label}</option>'
                              for value, label in options)
            form = (
                f'\n\n\n\n\n\n\n<form method="post" action="{action}" class="inline-form grade-confirm" '
                f'id="confirm-{rid}" novalidate>'
                f'\n  {csrf_input}<input type="hidden" name="version" value="{r.version}">'
                f'\n  <input type="hidden" name="record" value="{rid}">'
                f'\n  <label for="grade-choice-{rid}" class="visually-hidden">{texts["grade"]}</label>'
                f'\n  <select id="grade-choice-{rid}" name="grade" {grade_invalid}>'
                f"\n    {choices}"
                f"\n  </select>"
                f'\n  <label for="reason-{rid}" class="visually-hidden">{texts["reason"]}</label>'
                f'\n  <input id="reason-{rid}" name="reason" type="text" maxlength="2000" value="{escape(typed)}" '
                f'placeholder="{texts["placeholder"]}"'
                f"\n    {reason_invalid}>"
                f'\n  <button type="submit" class="button button--small">{texts["confirm"]}</button>'
                f"\n  {row_error}"
                f"\n</form>")
        out.append(
            f'\n    <tr id="grade-{rid}">'
            f'\n      <th scope="row"><a href="{before}{r.branch_id}{after}">{escape(row.name)}</a></th>'
            f'\n      <td class="num" data-label="{texts["self"]}">{_figure(r.self_score)}</td>'
            f'<td class="num" data-label="{texts["review"]}">{_figure(r.review_score)}</td>'
            f'\n      <td class="num" data-label="{texts["appraisal"]}">{_figure(r.appraisal_score)}</td>'
            f'<td class="num" data-label="{texts["satisfaction"]}">{satisfaction}</td>'
            f'\n      <td class="num" data-label="{texts["composite"]}"><strong>{_figure(r.composite)}</strong></td>'
            f'\n      <td data-label="{texts["proposed"]}">{grades[r.proposed]}</td>'
            f'\n      <td class="grade-confirmed wide" data-label="{texts["confirmed"]}">{confirmed}</td>'
            f"\n      <td>{form}</td>"
            f"\n    </tr>\n  ")
    return Markup("".join(out))  # noqa: S704  # nosec B704 - every text above is escaped


def _confirm_grade(record, form, refused):
    """Confirm the record's grade as `form` says (grading.confirm); None when done, else the refusal:
    `refused(errors, status)` renders the page again with the row's choice and reason as typed, the error beside
    them: 422 for invalid input, 409 when the record changed since the page was loaded (another tab confirmed
    it first: grading.confirm's Conflict, shown as the row's "version" error; the row then carries the version
    and confirmed grade it has now)."""
    try:
        _done, refusal = run_form(
            form, lambda: grading.confirm(_me(), record, form.grade.data, form.reason.data, form.version.data),
            lambda errors, status, _conflict: refused(errors, status))
    except Conflict as error:
        db.session.rollback()
        return refused({"version": error.message}, 409)
    return refusal


@bp.get("/grades")
@require("grading.propose")
def grades():
    return _grades_page()


@bp.post("/grades/propose")
@require("grading.propose")
def propose():
    year = current_year()
    if year is None:
        raise NotFound()
    count = grading.propose(_me(), year)
    flash(_("Proposals computed for %(n)s branches and members.", n=count), "success")
    return redirect_back(url_for("appraisal.grades"))


@bp.post("/grades")
@require("grading.propose")
def confirm_on_page():
    """Confirm or override a branch grade from its row on /grades: a refusal shows the same page again, at the
    same address, with the row's choice and reason as typed and the error beside them."""
    form = forms.ConfirmForm()
    record = grading.get_record(form.record.data or 0)
    if record.member_id is not None:
        raise NotFound()
    authorize("grading.confirm_branch", record)
    refusal = _confirm_grade(record, form,
                             lambda errors, status: _grades_page(errors, status, failed=(record.id, form)))
    if refusal:
        return refusal
    flash(_("The grade is confirmed."), "success")
    filters = grading.GradeFilters.parse(request.args)  # back to the page of the list the row was on
    return redirect_back(url_for("appraisal.grades", **filters.query_args(filters.page)))


@bp.post("/grades/<int:record_id>/confirm")
@login_required
def confirm(record_id: int):
    record = grading.get_record(record_id)
    authorize("grading.confirm_branch" if record.member_id is None else "grading.confirm_member", record)
    form = forms.ConfirmForm()
    back = (url_for("appraisal.grades") if record.member_id is None
            else url_for("appraisal.member_grades", branch_id=record.branch_id))
    refusal = _confirm_grade(record, form, lambda errors, status: (
        _grades_page(errors, status, failed=(record.id, form)) if record.member_id is None
        else _member_grades_page(record.branch_id, errors, status, (record.id, form))))
    if refusal:
        return refusal
    flash(_("The grade is confirmed."), "success")
    return redirect_back(back)


def _member_grades_page(branch_id: int, errors=None, status=200, failed=None):
    year = current_year()
    branch = db.session.get(Branch, branch_id)
    return render("appraisal/member_grades.html", status=status, year=year, branch=branch,
                  rows=grading.member_grades(year, branch_id) if year else [], form=forms.ConfirmForm(),
                  errors=errors or {}, failed_id=failed[0] if failed else None,
                  failed_form=failed[1] if failed else None)


@bp.get("/grades/branch/<int:branch_id>/members")
@login_required
def member_grades(branch_id: int):
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound()
    authorize("grading.view", branch)
    return _member_grades_page(branch_id)


def _policy_page(errors=None, status=200, form=None):
    year = current_year()
    policy = grading.policy_for(year) if year else None
    return render("appraisal/policy.html", status=status, year=year,
                  form=form or forms.PolicyForm(data={name: int(getattr(policy, name))
                                                      for name in grading.POLICY_FIELDS} if policy else None),
                  errors=errors or {})


@bp.get("/grades/policy")
@require("grading.policy")
def policy():
    return _policy_page()


@bp.post("/grades/policy")
@require("grading.policy")
def save_policy():
    year = current_year()
    if year is None:
        raise NotFound()
    form = forms.PolicyForm()
    _done, refusal = run_form(form, lambda: grading.save_policy(
        _me(), year, {name: getattr(form, name).data for name in grading.POLICY_FIELDS}),
        lambda errors, status, _c: _policy_page(errors, status, form))
    if refusal:
        return refusal
    flash(_("The grading rules are saved."), "success")
    return redirect_back(url_for("appraisal.policy"))


@click.command("appraisal-codes")
@click.option("--branch", "branch_id", required=True, type=int, help="The branch's id.")
@click.option("--group", required=True, type=click.Choice([g.value for g in RaterGroup]))
@click.option("--count", required=True, type=click.IntRange(1, service.MAX_CODES_PER_REQUEST))
def appraisal_codes(branch_id: int, group: str, count: int) -> None:
    """Print COUNT new one-time appraisal codes for a branch and rater group, one per line (stored hashed:
    this output is the only copy). Audited as a count."""
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise click.ClickException(f"No branch with id {branch_id}.")
    round_ = service.round_for(current_year())
    if round_ is None:
        raise click.ClickException("There is no appraisal round for the current year.")
    try:
        made = service.generate_codes(CommandLine(), round_, branch, group, count)
    except Invalid as invalid:
        raise click.ClickException(invalid.message) from None
    for code in made:
        click.echo(code)

