import pytest

from portal import config, create_app


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(config.ConfigError):
        config.load(str(tmp_path))


def test_production_uses_given_secret_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.edu.local")
    settings = config.load(str(tmp_path))
    assert settings["SECRET_KEY"] == "s3cret" and settings["PORTAL_BASE_URL"] == "https://portal.edu.local"
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_development_generates_secret_once(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.load(str(tmp_path))["SECRET_KEY"]
    second = config.load(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_url_defaults_to_sqlite_in_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.load(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.sqlite3'}"


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_postgres_urls_use_psycopg3(monkeypatch, tmp_path, given):
    monkeypatch.setenv("DATABASE_URL", given)
    assert config.load(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_factory_applies_test_config(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert app.testing
    assert app.config["MAX_CONTENT_LENGTH"] > 10 * 1024 * 1024


def test_sqlite_connections_are_configured(app):
    from sqlalchemy import text

    from portal.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_production_refuses_to_start_without_its_base_url(monkeypatch, tmp_path):
    """Absolute links (feeds, e-mails, QR codes) never come from the request's Host header."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    with pytest.raises(config.ConfigError, match="PORTAL_BASE_URL"):
        config.load(str(tmp_path))


def test_the_readme_gives_the_defaults_the_portal_has(monkeypatch, tmp_path):
    """Every whole-number default in the README's configuration table is the one config.load gives (the README said
    20 refused ballot codes per address while the portal allowed 100)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `([A-Z_]+)` \| `(\d+)` \|", readme, flags=re.MULTILINE))
    for name in documented:
        monkeypatch.delenv(name, raising=False)
    settings = config.load(str(tmp_path))
    assert "APPRAISAL_REFUSALS_PER_ADDRESS" in documented
    assert {name: int(value) for name, value in documented.items() if name in settings} == \
        {name: settings[name] for name in documented if name in settings}
