"""Login and logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import Invalid
from ..extensions import login_manager
from ..forms import EmptyForm, run_form
from ..forms.auth import ActivationForm, EmailPreferenceForm, LanguageForm, LoginForm, PasswordForm
from ..htmx import redirect_back, render
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..services import accounts, activation, throttle
from ..sessions import is_sessionless

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch in target for ch in "\r\n\\"):
        return None
    return target


@login_manager.unauthorized_handler
def unauthorized():
    from .errors import error_response, login_url

    if request.headers.get("HX-Request") == "true":
        # An htmx request after the session ended: the page stays (with what the person typed) and
        # shows a log-in link that comes back to it (the errors policy).
        return error_response(401)
    flash(_("Please log in to continue."), "info")
    return redirect(login_url())


login_manager.user_loader(accounts.load_user)


# What a person whose password must be replaced may still reach.
_BEFORE_PASSWORD_CHANGE = {"auth.change_password", "auth.logout"}


@bp.before_app_request
def enforce_password_change():
    """A password someone else chose (admin, roster import) is replaced before anything else."""
    if (request.endpoint in _BEFORE_PASSWORD_CHANGE or is_sessionless() or not current_user.is_authenticated
            or not current_user.must_change_password):
        return None
    target = url_for("auth.change_password")
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    flash(_("Please replace the password you were given with one of your own before you go on."), "info")
    return redirect(target)


def _throttled(refusal, template: str, **context):
    """429 on the same page, saying how long to wait (counted, not audited)."""
    throttle.tally_refusal("auth.throttled")
    minutes = -(-refusal.retry_after // 60)
    response = render(template, status=429, error=(refusal.message + " " + _(
        "Please wait %(minutes)s minutes.", minutes=minutes)) if refusal.message else _(
        "Too many failed sign-ins for this account or from this computer. "
        "Please wait %(minutes)s minutes and try again.", minutes=minutes), **context)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.values.get("next") and next_url is None:
        flash(_("The link you followed pointed outside the portal; you will go to your home page instead."),
              "warning")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data, form.password.data, request.remote_addr or "")
        except throttle.Throttled as refusal:
            return _throttled(refusal, "auth/login.html", form=form, next=next_url)
        except accounts.LoginFailed:
            if activation.find(form.username.data, form.password.data) is not None:
                # The code from the slip typed as a password: the first sign-in, which sets their own password.
                flash(_("This is your activation code: choose your own password to finish signing in."), "info")
                return render("auth/activate.html", form=ActivationForm(
                    formdata=None, username=form.username.data, code=form.password.data), status=200)
            form.password.errors = []
            return render("auth/login.html", form=form, next=next_url,
                          error=_("The username or password is not correct, or the account is disabled."),
                          status=401)
        accounts.start_session(user)
        return redirect_back(next_url or url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    return render("auth/login.html", form=form, next=next_url, error=None, status=status)


@bp.post("/logout")
@login_required
def logout():
    if not EmptyForm().validate_on_submit():  # CSRFProtect already rejects a missing token
        return redirect_back(url_for("main.home"))
    accounts.end_session(current_user._get_current_object())
    flash(_("You have logged out."), "info")
    return redirect_back(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if request.method == "GET":
        return render("auth/password.html", form=form)
    try:
        _done, refusal = run_form(form, lambda: accounts.change_password(
            current_user._get_current_object(), form.current_password.data, form.new_password.data,
            form.repeat_password.data, request.remote_addr or ""),
            lambda _errors, status, _c: render("auth/password.html", form=form, status=status))
    except throttle.Throttled as throttled:
        return _throttled(throttled, "auth/password.html", form=form)
    if refusal:
        return refusal
    flash(_("Your password has been changed. Your other sessions have been logged out."), "success")
    return redirect_back(url_for("main.home"))


@bp.route("/activate", methods=["GET", "POST"])
def activate():
    """The first sign-in of an account made by the organisation section: the username and the one-time code on
    the person's slip, and the password they choose. Signs them in."""
    form = ActivationForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("main.home"))
        form = ActivationForm(formdata=None, username=request.args.get("username", "")[:64])
        return render("auth/activate.html", form=form)
    if not form.validate():
        return render("auth/activate.html", form=form, status=422)
    try:
        user = activation.activate(form.username.data, form.code.data, form.new_password.data,
                                   form.repeat_password.data, request.remote_addr or "")
    except throttle.Throttled as throttled:
        return _throttled(throttled, "auth/activate.html", form=form)
    except Invalid as error:
        for name, message in error.field_errors.items():
            form[name].errors = [message]
        return render("auth/activate.html", form=form, status=422)
    accounts.start_session(user)
    flash(_("Your account is active and your password is set. Welcome!"), "success")
    return redirect_back(url_for("main.home"))


def _account_page(form=None, mail_form=None, status=200):
    form = form or LanguageForm(locale=current_user.locale or DEFAULT_LANGUAGE)
    mail_form = mail_form or EmailPreferenceForm(email_preference=current_user.email_preference)
    return render("auth/account.html", form=form, mail_form=mail_form, status=status)


@bp.route("/account", methods=["GET"])
@login_required
def account():
    return _account_page()


@bp.post("/account/notifications")
@login_required
def account_notifications():
    """The person's own choice of e-mail about notifications (none, immediate, daily digest)."""
    form = EmailPreferenceForm()
    if not form.validate_on_submit():
        return _account_page(mail_form=form, status=422)
    accounts.set_email_preference(current_user._get_current_object(), form.email_preference.data)
    flash(_("Your choice of e-mail has been saved."), "success")
    return redirect_back(url_for("auth.account"))


@bp.post("/account/language")
@login_required
def account_language():
    """The person's stored interface language: changed only here, by their own POST."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return _account_page(form=form, status=422)
    accounts.set_locale(current_user._get_current_object(), form.locale.data)
    session["lang"] = form.locale.data
    flash(_("Your interface language has been saved."), "success")
    return redirect_back(url_for("auth.account"))
