"""Login and logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from ..errors import Invalid
from ..extensions import limiter, login_manager
from ..forms import EmptyForm
from ..htmx import redirect_back, render
from ..services import accounts

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


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


def _login_limit():
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
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
            user = accounts.authenticate(form.username.data, form.password.data)
        except accounts.LoginFailed:
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
    errors = {}
    if request.method == "POST":
        try:
            accounts.change_password(current_user._get_current_object(), request.form.get("current_password"),
                                     request.form.get("new_password"), request.form.get("repeat_password"))
        except Invalid as error:
            errors = error.field_errors
        else:
            flash(_("Your password has been changed. Your other sessions have been logged out."), "success")
            return redirect_back(url_for("main.home"))
    return render("auth/password.html", errors=errors, status=422 if errors else 200)
