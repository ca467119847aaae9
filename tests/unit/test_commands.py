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
