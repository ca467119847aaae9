"""Settings read from the environment, with development defaults that work on SQLite alone."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """The portal cannot start with the configuration it was given."""


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError("SECRET_KEY must be set when PORTAL_ENV=production")
    # Development: generate once, keep it under instance/ so sessions survive restarts.
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.sqlite3'}"
    # Accept the common short forms and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(instance_path: str) -> dict:
    path = Path(instance_path)
    path.mkdir(parents=True, exist_ok=True)
    env = os.environ.get("PORTAL_ENV", "development").strip().lower()
    if env not in ("development", "production"):
        # A typo ("prod") must not quietly run a real portal without its production safeguards.
        raise ConfigError(f"PORTAL_ENV must be 'development' or 'production', not {env!r}")
    production = env == "production"
    base_url = os.environ.get("PORTAL_BASE_URL", "")
    if production and not base_url:
        raise ConfigError("PORTAL_BASE_URL must be set when PORTAL_ENV=production (the portal's address "
                          "in feeds, e-mails and QR codes)")
    return {
        "PORTAL_ENV": "production" if production else "development",
        "PORTAL_BASE_URL": base_url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}",
        "SECRET_KEY": _secret_key(path, production),
        "SQLALCHEMY_DATABASE_URI": _database_url(path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(path / "uploads")),
        "MAX_CONTENT_LENGTH": 11 * 1024 * 1024,  # 10 MB file plus form overhead
        "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # token lives as long as the session; pages stay open all day
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("SESSION_ABSOLUTE_SECONDS", 12 * 3600)),
        # The cookie lives as long as the absolute lifetime from login, so it need not be re-sent on every
        # answer; a Set-Cookie only where the session changed keeps a slow answer to an older request from
        # overwriting a newer session (login, logout, language) in the browser.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_IDLE_SECONDS": int(os.environ.get("SESSION_IDLE_SECONDS", 2 * 3600)),
        "SESSION_ABSOLUTE_SECONDS": int(os.environ.get("SESSION_ABSOLUTE_SECONDS", 12 * 3600)),
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai"),
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        # Failed sign-ins counted in the database (services/throttle.py), shared by every worker.
        "LOGIN_THROTTLE_WINDOW_SECONDS": int(os.environ.get("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60)),
        # How long a one-time activation code (roster import, re-issued by the organisation section) is valid.
        "ACTIVATION_CODE_DAYS": int(os.environ.get("ACTIVATION_CODE_DAYS", 30)),
        "LOGIN_FAILURES_PER_ACCOUNT": int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", 10)),
        "LOGIN_FAILURES_PER_ADDRESS": int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", 50)),
        # Wrong activation codes within the window, per client address and per username (services/activation.py).
        "ACTIVATION_FAILURES_PER_ADDRESS": int(os.environ.get("ACTIVATION_FAILURES_PER_ADDRESS", 300)),
        "ACTIVATION_FAILURES_PER_ACCOUNT": int(os.environ.get("ACTIVATION_FAILURES_PER_ACCOUNT", 10)),
        # Unknown ballot codes per client address within the window (guessing protection of /appraisal; a school
        # behind one NAT address shares it, see views/appraisal.py).
        "APPRAISAL_REFUSALS_PER_ADDRESS": int(os.environ.get("APPRAISAL_REFUSALS_PER_ADDRESS", 100)),
        # Number of reverse proxies in front of the portal whose X-Forwarded-For/-Proto are trusted.
        "PROXY_FIX_X_FOR": int(os.environ.get("PROXY_FIX_X_FOR", 0)),
        # The 通报's 发文字号 prefix (沪卢教党〔2012〕3号), the issuing organ that signs it and prints it (版记),
        # and whom it is copied to (抄送) unless the draft says otherwise.
        "BULLETIN_NUMBER_PREFIX": os.environ.get("BULLETIN_NUMBER_PREFIX", "沪卢教党"),
        "BULLETIN_ISSUER": os.environ.get("BULLETIN_ISSUER", "中共卢湾区教育工作委员会"),
        "BULLETIN_COPY_TO": os.environ.get("BULLETIN_COPY_TO", "区委组织部，区委宣传部"),
        # Who hears objections to a 公示 (named on the printed notice sheet: the public has no accounts).
        "NOTICE_OBJECTIONS_TO": os.environ.get("NOTICE_OBJECTIONS_TO", "中共卢湾区教育工作委员会组织科"),
        # E-mail (Flask-Mailman over SMTP): without MAIL_SERVER nothing is sent and notifications wait in the
        # portal (services/reminders.py). Always the SMTP backend, also under test (tests run a real server).
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", 25)),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "").strip().lower() in ("1", "true", "yes", "on"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "noreply@localhost"),
        "MAIL_TIMEOUT": int(os.environ.get("MAIL_TIMEOUT", 30)),
        # The daily digest goes out at the first run of send-reminders from this local hour on (0-23).
        "MAIL_DIGEST_HOUR": int(os.environ.get("MAIL_DIGEST_HOUR", 7)),
    }
