"""Admin tasks as flask commands: flask --app wsgi <command>."""
from __future__ import annotations

import click
from flask import Flask
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_migrate import upgrade
from sqlalchemy import select

from .extensions import db
from .models import Branch, Role


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(demo_accounts)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(clean_uploads)
    app.cli.add_command(send_reminders)
    app.cli.add_command(rebuild_figures)
    app.cli.add_command(__import__("portal.views.dashboard", fromlist=["_"]).snapshot_progress)
    app.cli.add_command(__import__("portal.views.appraisal", fromlist=["_"]).appraisal_codes)


@click.command("rebuild-figures")
def rebuild_figures() -> None:
    """Recompute the kept per-assessment tallies from the item results, the per-branch summaries the
    dashboard reads from them, the district's totals kept from those (per year, criterion and 报送 request) and the
    kept appraisal counts from the ballots' answers (after a bulk load or a restore made outside the portal; the
    portal and the database's triggers keep them up to date themselves). Safe while the portal serves: one
    transaction."""
    from .services import appraisal, figures, tallies

    before = len(tallies.differences())
    summaries_before = len(figures.differences(db.session))
    district_before = len(figures.district_differences(db.session))
    appraisal_before = len(appraisal.tally_differences())
    rows = tallies.rebuild()
    appraisal_rows = appraisal.rebuild_tallies()  # (before the summaries: their appraisal class reads these counts)
    summaries = figures.rebuild(db.session.connection())
    db.session.commit()
    click.echo(f"Rebuilt {rows} tally rows ({before} differed from the item results), {summaries} branch "
               f"summaries ({summaries_before} differed), the district's totals ({district_before} rows "
               f"differed) and {appraisal_rows} appraisal counts ({appraisal_before} differed from the ballots).")


@click.command("init-db")
@click.option("--demo-if-empty", is_flag=True, help="Also load the demo district when the database is empty.")
def init_db(demo_if_empty: bool) -> None:
    """Apply migrations and load the built-in frameworks and years."""
    from .services import builtin, demo

    upgrade(revision="heads")
    builtin.ensure_builtin()
    click.echo("Database is up to date; built-in frameworks and years are present.")
    if demo_if_empty and demo.is_empty():
        try:
            _seed(24, 6)
        except demo.DemoInProduction:
            click.echo("PORTAL_ENV=production: no demo data is loaded; create the first account with "
                       "`flask --app wsgi create-user --role admin`.")


@click.command("seed-demo")
@click.option("--branches", default=24, show_default=True, type=click.IntRange(1, 5000))
@click.option("--members-per-branch", default=6, show_default=True, type=click.IntRange(0, 500))
def seed_demo(branches: int, members_per_branch: int) -> None:
    """Load a fictional demo district into an empty database."""
    from .services import demo

    try:
        _seed(branches, members_per_branch)
    except demo.DemoInProduction:
        raise click.ClickException("PORTAL_ENV=production: the demo district is never loaded into a real "
                                   "portal.") from None
    except demo.DemoRefused:
        raise click.ClickException(
            "The database already holds a district; the demo loads only into an empty one.") from None


def _seed(branches: int, members_per_branch: int) -> None:
    from .services import demo

    summary = demo.seed(branches=branches, members_per_branch=members_per_branch)
    click.echo(f"Demo district: {summary.branches} branches, {summary.members} members and secretaries.")


@click.command("demo-accounts")
def demo_accounts() -> None:
    """Print the demo accounts, if this database holds the demo district."""
    from .models import User
    from .services import demo

    present = set(db.session.scalars(select(User.username).where(
        User.username.in_([name for name, _ in demo.DEMO_ACCOUNTS]))))
    if not present:
        click.echo("No demo accounts in this database.")
        return
    click.echo(f"Demo accounts (password for all: {demo.DEMO_PASSWORD}):")
    for username, description in demo.DEMO_ACCOUNTS:
        if username in present:
            click.echo(f"  {username:<8} {description}")


@click.command("create-user")
@click.option("--username", prompt=True)
@click.option("--display-name", prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), prompt=True)
@click.option("--branch", "branch_name", default="", help="Branch name (members and secretaries).")
@click.password_option()
def create_user(username: str, display_name: str, role: str, branch_name: str, password: str) -> None:
    """Create an account (for real deployments)."""
    from .errors import Invalid
    from .services import accounts

    branch = None
    if branch_name:
        branch = db.session.scalar(select(Branch).where(Branch.name == branch_name))
        if branch is None:
            raise click.ClickException(f"No branch named {branch_name!r}.")
    try:
        user = accounts.create_user(None, username=username, display_name=display_name, password=password,
                                    role=Role(role), branch=branch)
    except Invalid as error:
        with force_locale(_terminal_locale()):
            labels = {"username": _l("Username"), "display_name": _l("Name"), "password": _l("Password"),
                      "role": _l("Role"), "branch": _l("Branch"), "email": _l("E-mail")}
            lines = [str(_l("The account was not created:"))] + [
                f"- {labels.get(name, name)}: {message}" for name, message in error.field_errors.items()]
            text = "\n".join(lines)
        click.echo(text, err=True)
        raise SystemExit(1) from None
    click.echo(f"Created {user.username} ({role}).")


def _terminal_locale() -> str:
    """The language of the person at the terminal: English when their locale (LC_ALL, LC_MESSAGES, LANG) says
    so, else the portal's default (Chinese)."""
    import os

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


@click.command("backup")
@click.option("--output", "output_dir", default="backups", show_default=True, help="Folder for the archive.")
def backup(output_dir: str) -> None:
    """Write a consistent backup (database and uploaded files) while the portal serves."""
    from .services import backup as service

    try:
        path = service.create(output_dir)
    except service.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written: {path}")


@click.command("clean-uploads")
@click.option("--delete", is_flag=True, help="Remove the files listed (without it, only list them).")
@click.option("--min-age", default=3600, show_default=True,
              help="Leave files younger than this many seconds (an upload may be about to commit its row).")
def clean_uploads(delete: bool, min_age: int) -> None:
    """List uploaded files that no row names (a dry run); with --delete remove them, audited."""
    from .services import uploads

    found = uploads.orphans(min_age)
    for path in found:
        click.echo(str(path))
    if not delete:
        click.echo(f"{len(found)} orphan file(s); nothing removed (use --delete to remove them).")
        return
    removed = uploads.remove_orphans(found)
    click.echo(f"Removed {len(removed)} orphan file(s).")


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore(backup_file: str, force: bool) -> None:
    """Restore a backup into this instance (an empty database unless --force)."""
    from .services import backup as service

    try:
        manifest = service.restore(backup_file, force=force)
    except service.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the backup of {manifest['created_at']} ({len(manifest['files'])} files).")


@click.command("send-reminders")
def send_reminders() -> None:
    """Write the due reminders (submissions due in 3 days or overdue) and e-mail every notification that is due,
    each at most once (run it from cron, or let the task queue run it hourly). Exits 1 when some e-mail could
    not be sent; those are retried by the next run."""
    from .services import reminders

    result = reminders.send_reminders()
    click.echo(f"Reminders written: {result.written}; e-mails sent: {result.sent}; failed: {result.failed}; "
               f"no longer needed: {result.skipped}.")
    if result.failed:
        raise click.exceptions.Exit(1)
