"""Reminders and e-mail: what `flask --app wsgi send-reminders` (and the task queue's periodic task) does.

1. Write the notifications that time itself causes: a submission due within 3 days, or overdue, for the
   secretaries of the branch that owes it (one per submission and kind: event keys "submission.due:<id>" and
   "submission.overdue:<id>", so running again writes none twice).
2. E-mail what is due to each active person with an address, by their preference (User.email_preference):
   "immediate" gets one message per notification, "digest" (the default) one message a day (local day,
   PORTAL_TIMEZONE, from MAIL_DIGEST_HOUR on) listing every notification, "none" nothing. Due means unread
   and not e-mailed yet.
   Each notification is e-mailed at most once: it is claimed (emailed_at set, committed) before the message
   goes out, and released again when sending fails, so a concurrent run skips it and the next run retries it.
   A reminder that no longer applies (the member has submitted, the submission was handed in) is not sent.

Messages are in the recipient's language (their stored locale, else Chinese), UTF-8 (Flask-Mailman encodes
the Chinese subject per RFC 2047), and link to the place to act through PORTAL_BASE_URL (links.external_path).
Without MAIL_SERVER nothing is sent: notifications stay in the portal. SMTP failures are logged, never raised
to a web request; the result counts them so that the task queue retries.
"""
from __future__ import annotations

import email.message
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header

from flask import current_app
from flask_babel import force_locale, gettext, ngettext, to_user_timezone
from flask_mailman import EmailMessage
from sqlalchemy import and_, select, update

from ..extensions import db, mail
from ..links import external_path, path_for
from ..models import (
    Assessment,
    AssessmentStatus,
    CampaignYear,
    Notification,
    Role,
    Submission,
    SubmissionRequest,
    SubmissionStatus,
    User,
    utcnow,
)
from . import notifications
from .submissions import local_text

log = logging.getLogger(__name__)
DUE_SOON = timedelta(days=3)
SUBJECT_PREFIX = "创先争优"  # the campaign's name, the same in every language


class PortalMessage(EmailMessage):
    """Flask-Mailman's message with the subject encoded knowing its header name: the inherited encoding
    starts a long Chinese subject on a folded empty line, which readers decode with a leading space."""

    def message(self, *args, **kwargs):
        msg = super().message(*args, **kwargs)
        del msg["Subject"]
        # The base class's __setitem__: the subclass's own would re-encode the Header as plain text.
        email.message.Message.__setitem__(msg, "Subject", Header(self.subject, "utf-8", header_name="Subject"))
        return msg


@dataclass
class Result:
    written: int = 0  # reminder notifications written by this run
    sent: int = 0  # messages sent
    failed: int = 0  # messages that could not be sent (to be retried)
    skipped: int = 0  # notifications no longer worth an e-mail (already acted on)


# --- 1. notifications caused by time ---------------------------------------------------------------------

def write_due_notifications(now: datetime | None = None) -> int:
    """Submission requests of the current year due within DUE_SOON or past their deadline, not handed in:
    one notification per submission, kind and secretary of the branch. Returns how many were new."""
    now = now or utcnow()
    year = db.session.scalar(select(CampaignYear).where(CampaignYear.is_current.is_(True)))
    if year is None:
        return 0
    rows = db.session.execute(
        select(Submission.id, Submission.branch_id, SubmissionRequest.id, SubmissionRequest.title,
               SubmissionRequest.deadline, User.id)
        .join(SubmissionRequest, SubmissionRequest.id == Submission.request_id)
        .join(User, and_(User.branch_id == Submission.branch_id, User.role == Role.SECRETARY,
                         User.active.is_(True)))
        .where(SubmissionRequest.year_id == year.id, Submission.status == SubmissionStatus.PENDING,
               SubmissionRequest.deadline < now + DUE_SOON)).all()
    before = db.session.scalar(select(db.func.count(Notification.id)))
    by_submission: dict[tuple, list[int]] = defaultdict(list)
    for sub_id, _branch, request_id, title, deadline, user_id in rows:
        by_submission[(sub_id, request_id, title, deadline)].append(user_id)
    for (sub_id, _request_id, title, deadline), users in by_submission.items():
        kind = "submission.overdue" if deadline < now else "submission.due"
        notifications.notify(users, kind, f"{kind}:{sub_id}", path_for("campaign.submission", submission_id=sub_id),
                             f"submission:{sub_id}", what=title, due=local_text(deadline), submission_id=sub_id)
    db.session.commit()
    return int(db.session.scalar(select(db.func.count(Notification.id))) - before)


# --- 2. e-mail -----------------------------------------------------------------------------------------------

def _still_due(note: Notification) -> bool:
    """False for a reminder that no longer applies: the member has submitted the self-assessment, or the
    branch has handed the submission in."""
    params = note.params or {}
    if note.kind == "reminder.self_assessment":
        year = db.session.scalar(select(CampaignYear).where(CampaignYear.year == params.get("year")))
        if year is None:
            return True
        status = db.session.scalar(select(Assessment.status).where(Assessment.year_id == year.id,
                                                                   Assessment.member_id == note.recipient_id))
        return status not in (AssessmentStatus.SUBMITTED, AssessmentStatus.REVIEWED)
    if note.kind in ("submission.due", "submission.overdue") and params.get("submission_id"):
        status = db.session.scalar(select(Submission.status).where(Submission.id == params["submission_id"]))
        return status == SubmissionStatus.PENDING
    return True


def _claim(ids: list[int], now: datetime) -> bool:
    """Mark the notifications e-mailed before sending; False when another run got any of them first."""
    result = db.session.execute(update(Notification).where(Notification.id.in_(ids),
                                                           Notification.emailed_at.is_(None))
                                .values(emailed_at=now))
    if result.rowcount != len(ids):
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _release(ids: list[int]) -> None:
    db.session.execute(update(Notification).where(Notification.id.in_(ids)).values(emailed_at=None))
    db.session.commit()


def _message(user: User, notes: list[Notification], digest: bool) -> EmailMessage:
    with force_locale(user.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        lines = []
        for note in notes:
            lines.append(notifications.text_of(note))
            if note.link:
                lines.append("  " + external_path(note.link))
            lines.append("")
        if digest:
            subject = ngettext("%(num)s new notification", "%(num)s new notifications", len(notes))
            intro = gettext("Hello %(name)s, this is what happened to your work in the campaign portal:",
                            name=user.display_name)
        else:
            subject = notifications.text_of(notes[0])
            intro = gettext("Hello %(name)s,", name=user.display_name)
        footer = gettext("All your notifications: %(url)s\nTo change how you are e-mailed, open %(account)s",
                         url=external_path(path_for("notifications.index")),
                         account=external_path(path_for("auth.account")))
    subject = f"[{SUBJECT_PREFIX}] {' '.join(subject.split())}"[:150]
    body = "\n".join([intro, "", *lines, footer, ""])
    return PortalMessage(subject=subject, body=body, from_email=current_app.config["MAIL_DEFAULT_SENDER"],
                        to=[user.email])


def _connection():
    config = current_app.config
    return mail.get_connection(backend="smtp", host=config["MAIL_SERVER"], port=config["MAIL_PORT"],
                               username=config["MAIL_USERNAME"] or "", password=config["MAIL_PASSWORD"] or "",
                               use_tls=config["MAIL_USE_TLS"], timeout=config["MAIL_TIMEOUT"])


def _is_digest_time(user: User, now: datetime) -> bool:
    """True from MAIL_DIGEST_HOUR (local time) on, once per local day."""
    local = to_user_timezone(now)
    if local.hour < current_app.config.get("MAIL_DIGEST_HOUR", 7):
        return False
    return user.last_digest_at is None or to_user_timezone(user.last_digest_at).date() < local.date()


def send_due_emails(now: datetime | None = None) -> Result:
    """E-mail every due notification once, by each person's preference (see the module's docstring)."""
    now = now or utcnow()
    result = Result()
    if not current_app.config.get("MAIL_SERVER"):
        log.info("MAIL_SERVER is not set: no e-mail is sent; notifications stay in the portal")
        return result
    rows = db.session.execute(
        select(Notification, User).join(User, User.id == Notification.recipient_id)
        .where(Notification.read_at.is_(None), Notification.emailed_at.is_(None), User.active.is_(True),
               User.email != "", User.email_preference != "none")
        .order_by(User.id, Notification.created_at, Notification.id)).all()
    per_user: dict[int, tuple[User, list[Notification]]] = {}
    for note, user in rows:
        if not _still_due(note):
            note.emailed_at = now  # handled: no e-mail is needed any more
            result.skipped += 1
            continue
        per_user.setdefault(user.id, (user, []))[1].append(note)
    db.session.commit()
    batches = []
    for user, notes in per_user.values():
        if user.email_preference == "immediate":
            batches.extend((user, [note], False) for note in notes)
        elif _is_digest_time(user, now):
            batches.append((user, notes, True))
    if not batches:
        return result
    connection = _connection()
    try:
        for user, notes, digest in batches:
            ids = [note.id for note in notes]
            message = _message(user, notes, digest)
            if not _claim(ids, now):
                continue
            try:
                connection.send_messages([message])
            except (smtplib.SMTPException, OSError) as error:
                log.warning("e-mail to user %s failed (%s); it will be retried", user.id, error)
                _release(ids)
                result.failed += 1
                connection.close()  # a broken connection is opened afresh for the next message
                continue
            if digest:
                db.session.execute(update(User).where(User.id == user.id).values(last_digest_at=now))
                db.session.commit()
            result.sent += 1
    finally:
        connection.close()
    return result


def send_reminders(now: datetime | None = None) -> Result:
    """Both steps; the result says what was written, sent, skipped and what failed (to retry)."""
    written = write_due_notifications(now)
    result = send_due_emails(now)
    result.written = written
    return result
