"""The portal's application factory: a short list of register_* steps."""
from __future__ import annotations

from flask import Flask

from . import config


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_mapping(config.load(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    register_converters(app)

    register_file_modes(app)
    register_proxy_fix(app)
    register_extensions(app)
    register_database(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_static_files(app)
    register_compression(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_file_modes(app: Flask) -> None:
    """Files the portal creates (SQLite database, uploads, backups, secret key) are readable by the
    service's user only: the process umask is 077, and a database or upload folder made before keeps
    no wider mode (ASVS 5.0 V13: secrets and personal data not readable by other local users)."""
    import os
    from pathlib import Path

    os.umask(0o077)
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    paths = [Path(app.config["UPLOAD_FOLDER"]), Path(app.instance_path)]
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        paths.append(Path(url.database))
    for path in paths:
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o700 if path.is_dir() else 0o600)


def register_proxy_fix(app: Flask) -> None:
    """Behind `PROXY_FIX_X_FOR` trusted reverse proxies, take the client address and scheme from their
    X-Forwarded-For/-Proto headers (never the Host: absolute links use PORTAL_BASE_URL)."""
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


def register_converters(app: Flask) -> None:
    from .input_guard import install_converters

    install_converters(app)


def register_extensions(app: Flask) -> None:
    from .extensions import babel, csrf, db, login_manager, mail, migrate
    from .i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    # Flask-Login's "basic" protection only marks a session not fresh (this portal never asks for freshness);
    # to do so it writes "_fresh" into every anonymous session it sees, so that a stray anonymous request
    # (the browser's favicon, a 404) answers with a Set-Cookie that can land after the login's and log the
    # person straight out again. Sessions end by version, idle and absolute lifetimes instead (sessions.py).
    login_manager.session_protection = None
    mail.init_app(app)


def register_database(app: Flask) -> None:
    from .database import configure_engine_events
    from .services import tallies

    configure_engine_events(app)
    tallies.register()  # kept per-assessment figures follow every change in its own transaction


def register_blueprints(app: Flask) -> None:
    from .views import (
        admin,
        appraisal,
        auth,
        bulletins,
        campaign,
        checklist,
        commendation,
        dashboard,
        frameworks,
        main,
        news,
        noticeboard,
        notifications,
    )

    for module in (main, auth, checklist, dashboard, news, commendation, campaign, bulletins, noticeboard, admin,
                   frameworks, appraisal, notifications):
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    from .views import errors

    errors.register(app)


def register_request_hooks(app: Flask) -> None:
    from . import sessions
    from .i18n import apply_lang_parameter
    from .input_guard import refuse_hostile_input
    from .security import set_security_headers

    app.before_request(refuse_hostile_input)  # first: nothing else reads a value it refuses
    sessions.register(app)
    app.before_request(apply_lang_parameter)
    app.after_request(set_security_headers)


def register_static_files(app: Flask) -> None:
    from . import static_files

    static_files.register(app)


def register_compression(app: Flask) -> None:
    """Pages, fragments, CSS and scripts are sent compressed (Brotli, else gzip) to clients that accept it:
    the dashboard goes from about 104 KB to 11 KB on the wire. XLSX downloads (zipped already) and evidence
    files are left as they are."""
    from .extensions import compress

    app.config.setdefault("COMPRESS_MIMETYPES", ["text/html", "text/css", "text/javascript", "application/javascript",
                                                 "application/json", "application/atom+xml", "image/svg+xml",
                                                 "text/csv"])
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # The fastest levels: on the school network the bytes hardly matter, the server's time does (issue #14). The
    # 104 KB dashboard: Brotli 1 in 0.12 ms to 10.6 KB (level 4, the default: 0.61 ms, 8.8 KB); gzip 1 in 0.34 ms
    # to 11.3 KB (level 6: 0.83 ms, 9.3 KB). Browsers offer Brotli only over HTTPS, so plain-HTTP intranets get gzip.
    app.config.setdefault("COMPRESS_BR_LEVEL", 1)
    app.config.setdefault("COMPRESS_LEVEL", 1)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_STREAMS", True)  # static files are sent as streams
    compress.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from . import labels, permissions, refusals
    from .htmx import wants_fragment
    from .i18n import LANGUAGES, install_template_gettext, listed, when
    from .navigation import keeper, menu
    from .services.appraisal import question_text
    from .services.campaign import current_phase, current_year
    from .services.intents import new_token
    from .text import quoted

    install_template_gettext(app)  # no copy of the template context per translated string
    app.jinja_env.globals["new_form_token"] = new_token  # one-time token of a create form (_forms.intent)
    app.jinja_env.globals["note_error"] = refusals.note_error  # an error shown beside its field (_forms.error)
    app.jinja_env.globals["error_summary_of"] = refusals.summary_of  # the summary at the top (base.html)
    app.jinja_env.globals["error_summary"] = _forms_macro(app, "error_summary")  # base.html's, from _forms.html
    app.jinja_env.globals["question_text"] = question_text  # an appraisal question in the reader's language
    app.jinja_env.globals["kept"] = keeper()  # base.html's fixed parts, rendered once per language (navigation)
    app.jinja_env.filters["listed"] = listed  # a list in the request's language (i18n.listed)
    app.jinja_env.filters["when"] = when  # the one way to write a time or a date (i18n.when)
    app.jinja_env.filters["quoted"] = quoted  # a title in quotes, once (text.quoted)

    @app.context_processor
    def inject() -> dict:
        year = _current_year_or_none(current_year)
        return {
            "lang": str(get_locale() or "zh"),
            "nav_menu": lambda: menu(_current_user()),
            "can": lambda action, obj=None: permissions.can(_current_user(), action, obj),
            "labels": labels,
            "languages": LANGUAGES,
            "current_year": year,
            "current_phase": current_phase(year),
            "is_fragment": wants_fragment(),
            "lang_url": _lang_url,
            "unread_notifications": _unread_notifications,
        }


def _forms_macro(app: Flask, name: str):
    """The macro `name` of templates/_forms.html as a template global: the one of the module Jinja keeps for that
    template, as `{% from "_forms.html" import name %}` gives it, without that statement's cost on every page (Jinja
    compares the page's globals with the imported template's, about two dozen look-ups, each time)."""

    def macro(*args, **kwargs):
        return getattr(app.jinja_env.get_template("_forms.html").module, name)(*args, **kwargs)

    return macro


def _current_year_or_none(current_year):
    """The header's campaign year; None while the database is down, so that the error page renders."""
    from flask import g
    from sqlalchemy.exc import OperationalError

    if g.get("database_down"):
        return None
    try:
        return current_year()
    except OperationalError:
        g.database_down = True
        return None


def _lang_url(code: str) -> str:
    """This very page (its query kept) in another language.

    A page drawn in answer to a form (a POST that was refused, e.g. an incomplete submit) has no address of
    its own to GET: the link leads to the page the form was sent from (the Referer, when it is this site's),
    else to the home page."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    from flask import request

    if request.method == "GET":
        path, args = request.path, list(request.args.items(multi=True))
    else:
        referrer = urlsplit(request.referrer or "")
        same_site = referrer.netloc == request.host and referrer.path.startswith("/")
        path = referrer.path if same_site else "/"
        args = parse_qsl(referrer.query, keep_blank_values=True) if same_site else []
    kept = [(key, value) for key, value in args if key != "lang"]
    return f"{path}?{urlencode([*kept, ('lang', code)])}"


def _unread_notifications() -> int:
    """The header's unread count (one query, only where the header is drawn)."""
    from flask import g

    from .services.notifications import unread_count

    user = _current_user()
    if g.get("database_down") or not getattr(user, "is_authenticated", False):
        return 0
    return unread_count(user)


def _current_user():
    """The person of this request itself, not Flask-Login's proxy: the header's menu and `can` read its attributes a
    few dozen times per page, each through the proxy's context look-up otherwise."""
    from flask_login import current_user

    return current_user._get_current_object()


def register_commands(app: Flask) -> None:
    from .commands import register

    register(app)
