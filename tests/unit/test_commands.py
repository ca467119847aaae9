"""Admin commands."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, User


def test_create_user_command(app, runner, branch):
    result = runner.invoke(args=["create-user", "--username", "liu", "--display-name", "刘老师", "--role", "secretary",
                                 "--branch", branch.name, "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "liu"))
    assert user.role == Role.SECRETARY and user.branch_id == branch.id and user.check_password("long-enough-pw")


def test_create_user_rejects_short_password_and_unknown_branch(app, runner):
    result = runner.invoke(args=["create-user", "--username", "x", "--display-name", "X", "--role", "admin",
                                 "--password", "short"])
    assert result.exit_code != 0
    result = runner.invoke(args=["create-user", "--username", "y", "--display-name", "Y", "--role", "member",
                                 "--branch", "不存在的支部", "--password", "long-enough-pw"])
    assert result.exit_code != 0 and "No branch" in result.output


def test_create_user_refusal_is_one_message_a_line_in_the_persons_language(app, runner, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    result = runner.invoke(args=["create-user", "--username", "x", "--display-name", "X", "--role", "member",
                                 "--password", "short"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) >= 3 and all(line.startswith("- ") for line in lines[1:])  # username, password, branch
    assert "{" not in result.output and "'" not in result.output  # no Python dict
    assert "用户名" in result.output and "密码" in result.output
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    result = runner.invoke(args=["create-user", "--username", "x", "--display-name", "X", "--role", "member",
                                 "--password", "short"])
    assert result.exit_code == 1 and "Username" in result.output


def test_demo_accounts_command(app, runner):
    assert "No demo accounts" in runner.invoke(args=["demo-accounts"]).output
    runner.invoke(args=["seed-demo", "--branches", "2", "--members-per-branch", "1"])
    output = runner.invoke(args=["demo-accounts"]).output
    assert "portal-demo" in output and "sec02" in output


def test_make_runs_first_step_loads_the_demo_into_a_new_database(tmp_path):
    """`make run` begins with `init-db --demo-if-empty` on a fresh clone: migrations, built-in frameworks and the
    demo in one process and one first transaction, on a database file that does not exist yet. (A SQLite pragma
    that cannot change inside a transaction once failed there, leaving the tables empty and `make run` stopped.)"""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    database = tmp_path / "fresh.db"
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}", SECRET_KEY="fresh-install-test")
    env.pop("PORTAL_ENV", None)
    flask = str(Path(sys.executable).with_name("flask"))
    done = subprocess.run([flask, "--app", "wsgi", "init-db", "--demo-if-empty"], cwd=Path(__file__).parents[2],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM branch").fetchone()[0] == 24
        assert connection.execute("SELECT count(*) FROM user WHERE username = 'admin'").fetchone()[0] == 1
