"""Login and logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import limiter, login_manager
from ..forms import EmptyForm, run_form
from ..forms.auth import LoginForm, PasswordForm
from ..htmx import redirect_back, render
from ..services import accounts

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


def _return_path() -> str | None:
    """Where to come back after logging in: the page itself, or for htmx the page the browser shows
    (the request itself may be a POST of a fragment)."""
    if request.headers.get("HX-Request") == "true":
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.netloc == request.host:
            return safe_next(current.path + (f"?{current.query}" if current.query else ""))
        return None
    return request.full_path.rstrip("?") if request.method == "GET" else None


@login_manager.unauthorized_handler
def unauthorized():
    back = _return_path()
    login_url = url_for("auth.login", next=back) if back else url_for("auth.login")
    if request.headers.get("HX-Request") == "true":
        # An htmx request after the session ended: send the whole browser to the login page.
        response = render("errors/_message.html", message=_("Your session has ended. Please log in again."),
                          status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    flash(_("Please log in to continue."), "info")
    return redirect(login_url)


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
    form = PasswordForm()
    if request.method == "GET":
        return render("auth/password.html", form=form)
    _done, refusal = run_form(form, lambda: accounts.change_password(
        current_user._get_current_object(), form.current_password.data, form.new_password.data,
        form.repeat_password.data), lambda _errors, status, _c: render("auth/password.html", form=form, status=status))
    if refusal:
        return refusal
    flash(_("Your password has been changed. Your other sessions have been logged out."), "success")
    return redirect_back(url_for("main.home"))
