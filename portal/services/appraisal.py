"""群众评议: appraisal rounds, one-time codes, the anonymous ballot, 民主评议党员 and the results.

Anonymity rules (DESIGN.md, issue #17): a ballot is stored with its branch, rater group and date (portal time
zone) only; the code it was cast with is marked used in the same transaction by a conditional UPDATE (so the
same code sent twice at once counts once) and keeps no time of use. Ballot rows have random keys. Nothing is
audited per ballot; code generation and voiding are audited as counts. Results are hidden below the round's
minimum number of ballots, and a group breakdown is hidden whenever the groups left out would be a set of fewer
than that many ballots (nobody can subtract their way to a small group).

Threat model. What the portal keeps is safe against someone who reads the tables, including a secretary who
printed the slips and so knows every code: no column pairs a code with a ballot. Below the tables, the database
engine writes the code's UPDATE and the ballot's INSERT in one commit and remembers it — SQLite in its `-wal`
file, PostgreSQL in the rows' shared `xmin` and heap order. services/ballot_traces.py wipes that: a WAL
checkpoint (TRUNCATE) after every ballot on SQLite (retried on the task queue when a reader blocks it), and an
hourly "remix" on PostgreSQL (all used codes and ballots rewritten in one transaction, then reordered by their
random keys). Until the remix runs (an hour at most) a PostgreSQL reader with SELECT on both tables who knows a
code can pair it; PostgreSQL's own WAL, backups and file-system snapshots, and anyone in control of the server
while a person votes, remain outside what the portal can promise. Results are shown only after the round has
closed (and from the minimum number of ballots), so that nobody compares the figures before and after one
ballot; while a round is open only the number of ballots is shown.

Scale and weights: the scale 满意 / 比较满意 / 基本满意 / 不满意 is the one the national 创先争优 campaign used for
群众评议 (DESIGN.md). The source document (source/000, 教育党工委 implementation plan) sets no weights; the default
100 / 80 / 60 / 0 is this portal's, the usual convention of Chinese satisfaction appraisals (比较满意 counted as
80 %, 基本满意 as a pass at 60 %, 不满意 as nothing), and the organisation section may change it per round.
Satisfaction rate (满意率) = (满意 + 比较满意) / ballots.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from flask import current_app
from flask import g as request_globals
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import lazyload

from ..clock import local_today
from ..collation import people_order
from ..errors import DomainError, Invalid, NotFound
from ..extensions import db
from ..models import (
    LEVELS,
    AppraisalCode,
    AppraisalQuestion,
    AppraisalRound,
    AppraisalTally,
    Ballot,
    BallotAnswer,
    Branch,
    CampaignYear,
    CodeBatch,
    Criterion,
    Framework,
    Level,
    MemberAppraisalTaking,
    MemberVerdict,
    RaterGroup,
    Role,
    Subject,
    User,
    utcnow,
)
from . import audit, ballot_traces, figures
from .reads import core_rows

# 31 characters without 0/O, 1/I/L: nothing to misread on a printed slip. 12 characters = 59 bits of entropy;
# at the throttle's 100 unknown codes per address per 15 minutes (views/appraisal.py), guessing one of 10,000
# live codes takes an address some 2e10 years.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
MAX_CODES_PER_REQUEST = 500
# The fewest ballots a round may require before a branch's results are shown. Below five, a secretary who knows
# who received slips can often tell who answered what (with two or three ballots, one person's answers follow
# from their own and the total); five is the usual floor of anonymous surveys. The default is 10.
MIN_BALLOTS_FLOOR = 5
# The fewest answers about one member (民主评议党员) a round may require before that member's score is shown.
# Why 3 and not 5 like MIN_BALLOTS_FLOOR: a branch may have as few as three full members (a branch is set up
# with three or more), and members answer about one another, so a floor of 5 would leave small branches with no
# member scores at all. Three is safe only together with `member_score_shown`, which never counts one answer:
# whoever looks (a secretary, a member who took part) may have answered about the person, and subtracting their
# own answer from the score must still leave at least three other members' verdicts mixed together.
MEMBER_MIN_FLOOR = 3
DEFAULT_WEIGHTS = {Level.SATISFIED: 100, Level.FAIRLY: 80, Level.BASICALLY: 60, Level.DISSATISFIED: 0}


class BallotRefused(DomainError):
    """A ballot code that cannot be used: `reason` is unknown (404), used (409), voided (410) or closed (403)."""

    STATUS = {"unknown": 404, "used": 409, "voided": 410, "closed": 403}

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.status_code = self.STATUS[reason]


# --- codes ----------------------------------------------------------------------------------------------

def new_code() -> str:
    """A fresh code, e.g. "K7QM-2XHP-9TAW" (three groups of four for reading aloud and typing)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def canonical_code(text: str | None) -> str:
    """The code as hashed: full-width folded (NFKC), upper case, separators and spaces dropped; the
    look-alikes O→0 is not needed (neither is in the alphabet) but a typed O or I is read as 0/1 and fails."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())[:64]


def code_hash(text: str | None) -> str:
    """SHA-256 (hex) of the canonical code: a fast hash is enough for 59 random bits (GOTCHAS)."""
    return hashlib.sha256(canonical_code(text).encode()).hexdigest()


# --- rounds ---------------------------------------------------------------------------------------------

def round_for(year: CampaignYear | None) -> AppraisalRound | None:
    """The year's appraisal round, or None. Its questions are read when first asked for (the dashboard's columns
    need none of them)."""
    if year is None:
        return None
    return db.session.scalar(_round_statement(), {"year_id": year.id})


@cache
def _round_statement():
    """`round_for`'s statement, built once (every dashboard page reads the round; parameter `year_id`)."""
    return (select(AppraisalRound).options(lazyload(AppraisalRound.questions))
            .where(AppraisalRound.year_id == bindparam("year_id", type_=Integer)))


def get_round(round_id: int) -> AppraisalRound:
    found = db.session.get(AppraisalRound, round_id)
    if found is None:
        raise NotFound()
    return found


def is_open(round_: AppraisalRound, today: date | None = None) -> bool:
    """Ballots are taken from `opens_on` to `closes_on` inclusive (portal time zone)."""
    today = today or local_today()
    return round_.opens_on <= today <= round_.closes_on


def is_closed(round_: AppraisalRound, today: date | None = None) -> bool:
    """True once the round's last day is over: only then are figures shown (no before/after comparison)."""
    return (today or local_today()) > round_.closes_on


def _branch_criteria() -> list[Criterion]:
    return list(db.session.scalars(
        select(Criterion).join(Framework).where(Framework.subject == Subject.BRANCH).order_by(Criterion.position)))


@dataclass
class RoundSettings:
    """What the organisation section sets for a round (validated by `save_round`)."""

    groups: list[str]
    weight_satisfied: int = 100
    weight_fairly: int = 80
    weight_basically: int = 60
    weight_dissatisfied: int = 0
    min_ballots: int = 10
    member_min_answers: int = 3
    opens_on: date | None = None
    closes_on: date | None = None


def _validate(settings: RoundSettings, current: AppraisalRound | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not settings.groups or any(g not in set(RaterGroup) for g in settings.groups):
        errors["groups"] = str(_l("Choose at least one rater group."))
    weights = [settings.weight_satisfied, settings.weight_fairly, settings.weight_basically,
               settings.weight_dissatisfied]
    if any(w is None or not 0 <= w <= 100 for w in weights):
        errors["weight_satisfied"] = str(_l("Weights are whole numbers from 0 to 100."))
    elif not weights[0] >= weights[1] >= weights[2] >= weights[3]:
        errors["weight_satisfied"] = str(_l("Each level weighs at least as much as the level below it."))
    if settings.min_ballots is None or not MIN_BALLOTS_FLOOR <= settings.min_ballots <= 1000:
        errors["min_ballots"] = str(_l("Enter a number from %(low)s to %(high)s.", low=MIN_BALLOTS_FLOOR, high=1000))
    elif current is not None and is_open(current) and settings.min_ballots < current.min_ballots:
        # Lowering it while ballots come in would show a branch's figures as soon as a few people have voted.
        errors["min_ballots"] = str(_l("The minimum cannot be lowered while the round is open (it is %(n)s).",
                                       n=current.min_ballots))
    if settings.member_min_answers is None or not MEMBER_MIN_FLOOR <= settings.member_min_answers <= 100:
        errors["member_min_answers"] = str(_l("Enter a number from %(low)s to %(high)s.", low=MEMBER_MIN_FLOOR,
                                              high=100))
    elif current is not None and is_open(current) and settings.member_min_answers < current.member_min_answers:
        errors["member_min_answers"] = str(_l("The minimum cannot be lowered while the round is open (it is %(n)s).",
                                              n=current.member_min_answers))
    if settings.opens_on is None:
        errors["opens_on"] = str(_l("This field is required."))
    if settings.closes_on is None:
        errors["closes_on"] = str(_l("This field is required."))
    elif settings.opens_on and settings.closes_on < settings.opens_on:
        errors["closes_on"] = str(_l("The round cannot close before it opens."))
    return errors


def _criterion_question(title: str) -> str:
    return gettext("How satisfied are you with the branch on “%(criterion)s”?", criterion=title)


def _overall_question() -> str:
    return gettext("Overall, how satisfied are you with this Party branch?")


def question_text(question: AppraisalQuestion) -> str:
    """The question as the reader reads it. In Chinese, the wording frozen when the round was opened (a later
    framework edit leaves the round as asked); in another language, the same question built from the
    criterion's title in that language (Criterion.title_en, else its Chinese title). Criterion titles are
    read once per request."""
    if get_locale().language == "zh":
        return question.text
    if question.criterion_id is None:
        return _overall_question()
    titles = request_globals.get("_criterion_titles")
    if titles is None:
        rows = db.session.execute(select(Criterion.id, Criterion.title, Criterion.title_en))
        titles = request_globals._criterion_titles = {cid: title_en or title for cid, title, title_en in rows}
    title = titles.get(question.criterion_id)
    return _criterion_question(title) if title else question.text


def save_round(actor: User, year: CampaignYear, settings: RoundSettings) -> AppraisalRound:
    """Create or change the year's round. Questions (one per 五个好 criterion, then the overall one) are made
    with the round from the framework's current titles and never rewritten. Raises Invalid(field errors).
    Audited ("appraisal.round_created" / "appraisal.round_changed")."""
    round_ = round_for(year)
    errors = _validate(settings, round_)
    if errors:
        raise Invalid(str(_l("Please correct the marked fields.")), errors)
    values = {
        "groups": ",".join(g for g in RaterGroup if g in settings.groups),
        "weight_satisfied": settings.weight_satisfied, "weight_fairly": settings.weight_fairly,
        "weight_basically": settings.weight_basically, "weight_dissatisfied": settings.weight_dissatisfied,
        "min_ballots": settings.min_ballots, "member_min_answers": settings.member_min_answers,
        "opens_on": settings.opens_on, "closes_on": settings.closes_on,
    }
    if round_ is None:
        round_ = AppraisalRound(year_id=year.id, **values)
        with force_locale("zh"):  # the wording as asked is kept in Chinese, whoever opened the round
            for position, criterion in enumerate(_branch_criteria(), start=1):
                round_.questions.append(AppraisalQuestion(
                    criterion_id=criterion.id, position=position, text=_criterion_question(criterion.title)))
            round_.questions.append(AppraisalQuestion(
                criterion_id=None, position=len(round_.questions) + 1, text=_overall_question()))
        db.session.add(round_)
        db.session.flush()
        audit.record(actor, "appraisal.round_created", round_, after=_jsonable(values))
    else:
        before = _jsonable({key: getattr(round_, key) for key in values})
        for key, value in values.items():
            setattr(round_, key, value)
        round_.version += 1
        audit.record(actor, "appraisal.round_changed", round_, before=before, after=_jsonable(values))
    db.session.commit()
    if round_.closes_on < local_today():
        ballot_traces.at_close()
    return round_


def _jsonable(values: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in values.items()}


# --- issuing and voiding codes --------------------------------------------------------------------------

def _check_generation(round_: AppraisalRound, group: str, count: int) -> None:
    if is_closed(round_):  # a slip that no ballot box would take (ahead of the opening is fine: slips go out first)
        message = str(_l("The appraisal round closed on %(day)s: codes for it could never be used. No codes were "
                         "made.", day=round_.closes_on.isoformat()))
        raise Invalid(message, {"count": message})
    if group not in round_.groups.split(","):
        raise Invalid(str(_l("This rater group is not part of the round.")),
                      {"group": str(_l("This rater group is not part of the round."))})
    if not 1 <= count <= MAX_CODES_PER_REQUEST:
        raise Invalid(str(_l("Enter a number from 1 to %(n)s.", n=MAX_CODES_PER_REQUEST)),
                      {"count": str(_l("Enter a number from 1 to %(n)s.", n=MAX_CODES_PER_REQUEST))})


def _store_codes(round_: AppraisalRound, branch: Branch, group: str, codes: list[str], today: date) -> None:
    db.session.execute(insert(AppraisalCode), [
        {"round_id": round_.id, "branch_id": branch.id, "rater_group": RaterGroup(group),
         "code_hash": code_hash(code), "used": False, "voided": False, "created_on": today} for code in codes])


def generate_codes(actor: User | None, round_: AppraisalRound, branch: Branch, group: str, count: int,
                   today: date | None = None) -> list[str]:
    """Make `count` (1–500) one-time codes for `branch` and rater `group`; only their hashes are stored, so the
    returned codes are the only copy (print them now). Audited as a count ("appraisal.codes_generated").
    Raises Invalid for a closed round, an unknown group, a group not in the round, or a count out of range."""
    _check_generation(round_, group, count)
    today = today or local_today()
    codes = [new_code() for _ in range(count)]
    _store_codes(round_, branch, group, codes, today)
    audit.record(actor, "appraisal.codes_generated", branch, branch_id=branch.id,
                 after={"round": round_.id, "group": group, "count": count})
    db.session.commit()
    return codes


BATCH_PRINTABLE_HOURS = 12  # a jammed printer can be fixed the same day; after that the codes cannot be regenerated


def _derived_code(batch_key: bytes, index: int) -> str:
    """The `index`-th code of a batch: HMAC-SHA-256 of the index under the batch's key, read as 12 letters of
    CODE_ALPHABET (256 bits taken modulo 31 twelve times: the bias is far below one in 10**60)."""
    number = int.from_bytes(hmac.new(batch_key, str(index).encode(), hashlib.sha256).digest(), "big")
    letters = []
    for _ in range(CODE_LENGTH):
        number, rest = divmod(number, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[rest])
    raw = "".join(letters)
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def _batch_key(secret: str) -> bytes:
    """The key a batch's codes are derived from: its stored secret AND the server's SECRET_KEY, so that a copy of
    the database alone cannot print a batch's codes again while it is printable."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"appraisal-batch:" + secret.encode(),
                    hashlib.sha256).digest()


def generate_batch(actor: User, round_: AppraisalRound, branch: Branch, group: str, count: int,
                   today: date | None = None) -> CodeBatch:
    """Like `generate_codes`, as a batch whose slips can be shown again from its address for
    BATCH_PRINTABLE_HOURS (the codes are derived from the batch's secret, which is then wiped). Raises Invalid."""
    _check_generation(round_, group, count)
    today = today or local_today()
    now = utcnow()
    batch = CodeBatch(round_id=round_.id, branch_id=branch.id, rater_group=RaterGroup(group), count=count,
                      secret=secrets.token_hex(32), created_by_id=actor.id if actor else None, created_at=now,
                      printable_until=now + timedelta(hours=BATCH_PRINTABLE_HOURS))
    db.session.add(batch)
    db.session.flush()
    _store_codes(round_, branch, group, batch_codes(batch), today)
    audit.record(actor, "appraisal.codes_generated", branch, branch_id=branch.id,
                 after={"round": round_.id, "group": group, "count": count, "batch": batch.id})
    db.session.commit()
    return batch


def get_batch(batch_id: int, branch: Branch) -> CodeBatch:
    batch = db.session.get(CodeBatch, batch_id)
    if batch is None or batch.branch_id != branch.id:
        raise NotFound()
    return batch


def batch_codes(batch: CodeBatch, now: datetime | None = None) -> list[str]:
    """The batch's codes, in slip order; [] once its printing time is over (the secret is then wiped)."""
    if batch.secret and (now or utcnow()) > batch.printable_until:
        forget_batch_secrets()
    if not batch.secret:
        return []
    key = _batch_key(batch.secret)
    return [_derived_code(key, index) for index in range(batch.count)]


def forget_batch_secrets(now: datetime | None = None) -> int:
    """Wipe the secrets of batches whose printing time is over (also run by the task queue). Returns how many."""
    count = db.session.execute(update(CodeBatch).where(
        CodeBatch.secret.isnot(None), CodeBatch.printable_until < (now or utcnow())).values(secret=None)).rowcount
    db.session.commit()
    return count


def void_codes(actor: User, round_: AppraisalRound, branch: Branch, group: str | None) -> int:
    """Void every unused code of `branch` (of one rater `group`, or all groups when None). Returns how many.
    Audited as a count ("appraisal.codes_voided")."""
    stmt = update(AppraisalCode).where(
        AppraisalCode.round_id == round_.id, AppraisalCode.branch_id == branch.id,
        AppraisalCode.used.is_(False), AppraisalCode.voided.is_(False)).values(voided=True)
    if group:
        if group not in set(RaterGroup):
            message = str(_l("Choose an entry from the list."))
            raise Invalid(message, {"group": message})
        stmt = stmt.where(AppraisalCode.rater_group == RaterGroup(group))
    count = db.session.execute(stmt).rowcount
    audit.record(actor, "appraisal.codes_voided", branch, branch_id=branch.id,
                 after={"round": round_.id, "group": group or "", "count": count})
    db.session.commit()
    return count


def unused_count(round_: AppraisalRound, branch: Branch, group: str | None) -> int:
    """How many codes `void_codes` would void now (for its confirmation)."""
    stmt = select(func.count()).select_from(AppraisalCode).where(
        AppraisalCode.round_id == round_.id, AppraisalCode.branch_id == branch.id,
        AppraisalCode.used.is_(False), AppraisalCode.voided.is_(False))
    if group:
        stmt = stmt.where(AppraisalCode.rater_group == RaterGroup(group))
    return db.session.scalar(stmt)


def void_code(actor: User, round_: AppraisalRound, branch: Branch, text: str | None) -> RaterGroup:
    """Void one unused code of `branch` typed from its slip (a lost or spoilt slip). Returns its rater group.
    Raises Invalid({"code": …}) when no such code of this branch's round exists or it is already used or voided.
    Audited as a count ("appraisal.codes_voided", count 1), never with the code."""
    row = db.session.scalar(select(AppraisalCode).where(
        AppraisalCode.code_hash == code_hash(text), AppraisalCode.round_id == round_.id,
        AppraisalCode.branch_id == branch.id))
    if row is None or not canonical_code(text):
        message = str(_l("No code of this branch's round matches. Check it letter by letter."))
        raise Invalid(message, {"code": message})
    if row.used or row.voided:
        message = (str(_l("This code has already been used: its ballot counts and cannot be taken back."))
                   if row.used else str(_l("This code has already been voided.")))
        raise Invalid(message, {"code": message})
    db.session.execute(update(AppraisalCode).where(AppraisalCode.id == row.id, AppraisalCode.used.is_(False))
                       .values(voided=True))
    audit.record(actor, "appraisal.codes_voided", branch, branch_id=branch.id,
                 after={"round": round_.id, "group": row.rater_group.value, "count": 1})
    db.session.commit()
    return row.rater_group


@dataclass
class CodeCounts:
    issued: int = 0
    used: int = 0
    voided: int = 0

    @property
    def open(self) -> int:
        return self.issued - self.used - self.voided


def code_counts(round_: AppraisalRound, branch_id: int) -> dict[RaterGroup, CodeCounts]:
    """{group: issued/used/voided} of a branch's codes in one GROUP BY."""
    rows = db.session.execute(
        select(AppraisalCode.rater_group, func.count(), func.count().filter(AppraisalCode.used.is_(True)),
               func.count().filter(AppraisalCode.voided.is_(True)))
        .where(AppraisalCode.round_id == round_.id, AppraisalCode.branch_id == branch_id)
        .group_by(AppraisalCode.rater_group))
    counts = {group: CodeCounts() for group in round_.group_list}
    for group, issued, used, voided in rows:
        counts[RaterGroup(group)] = CodeCounts(int(issued), int(used or 0), int(voided or 0))
    return counts


# --- the ballot -----------------------------------------------------------------------------------------

@dataclass
class OpenCode:
    """A code that may vote now, with what the ballot page shows."""

    code: str
    round: AppraisalRound
    branch: Branch
    group: RaterGroup


def check_code(text: str | None, today: date | None = None) -> OpenCode:
    """The code's round, branch and group if it may vote today; else BallotRefused(unknown / used / voided /
    closed). Reads only."""
    row = db.session.scalar(select(AppraisalCode).where(AppraisalCode.code_hash == code_hash(text)))
    if row is None or not canonical_code(text):
        raise BallotRefused("unknown")
    if row.voided:
        raise BallotRefused("voided")
    if row.used:
        raise BallotRefused("used")
    round_ = db.session.get(AppraisalRound, row.round_id)
    if not is_open(round_, today):
        raise BallotRefused("closed")
    return OpenCode(canonical_code(text), round_, db.session.get(Branch, row.branch_id), row.rater_group)


def cast_ballot(text: str | None, answers: dict[int, str], today: date | None = None) -> None:
    """Count one ballot: every question of the code's round answered with a Level value.

    In one transaction: the code is marked used by `UPDATE … WHERE used = false AND voided = false` (a second
    request with the same code at the same moment updates nothing and is refused as used), then the ballot
    (branch, group, date) and its answers are inserted under a random key. Nothing is audited and nothing
    about the request is kept. Raises BallotRefused (nothing counted) or Invalid({"q<id>": message}) for a
    missing or unknown answer."""
    opened = check_code(text, today)
    questions = opened.round.questions
    errors = {f"q{q.id}": str(_l("Choose one answer.")) for q in questions
              if answers.get(q.id) not in set(Level)}
    if errors:
        raise Invalid(str(_l("Please answer every question.")), errors)
    today = today or local_today()
    marked = db.session.execute(
        update(AppraisalCode)
        .where(AppraisalCode.code_hash == code_hash(text), AppraisalCode.used.is_(False),
               AppraisalCode.voided.is_(False))
        .values(used=True)).rowcount
    if marked != 1:
        db.session.rollback()
        raise BallotRefused("used")
    ballot_id = secrets.token_hex(16)
    db.session.execute(insert(Ballot).values(id=ballot_id, round_id=opened.round.id, branch_id=opened.branch.id,
                                             rater_group=opened.group, cast_on=today))
    db.session.execute(insert(BallotAnswer), [
        {"ballot_id": ballot_id, "question_id": q.id, "level": Level(answers[q.id])} for q in questions])
    count_answers(opened.round.id, opened.branch.id, [(q.id, Level(answers[q.id])) for q in questions])
    db.session.commit()
    ballot_traces.after_ballot()


# --- results --------------------------------------------------------------------------------------------

def weighted_score(counts: dict, weights: dict) -> float | None:
    """Σ(weight × count) / ballots, 0–100, rounded to 0.1; None without ballots.
    E.g. 6 满意, 3 比较满意, 1 不满意 at 100/80/60/0 → (600 + 240) / 10 = 84.0."""
    total = sum(counts.get(level, 0) for level in LEVELS)
    if total == 0:
        return None
    return round(sum(weights[level] * counts.get(level, 0) for level in LEVELS) / total, 1)


def satisfaction_rate(counts: dict) -> float | None:
    """(满意 + 比较满意) / ballots in %, rounded to 0.1; None without ballots. E.g. 6, 3, 0, 1 → 90.0."""
    total = sum(counts.get(level, 0) for level in LEVELS)
    if total == 0:
        return None
    return round(100.0 * (counts.get(Level.SATISFIED, 0) + counts.get(Level.FAIRLY, 0)) / total, 1)


@dataclass
class Figures:
    """Counts per level of one set of answers with the derived figures."""

    counts: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)

    @property
    def ballots(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> float | None:
        return weighted_score(self.counts, self.weights)

    @property
    def satisfaction(self) -> float | None:
        return satisfaction_rate(self.counts)


@dataclass
class GroupResult:
    group: RaterGroup | None  # None: all groups
    overall: Figures
    per_question: dict[int, Figures]


@dataclass
class BranchResult:
    """A branch's results. `shown` is False while the round is open (`closed` False) or below the minimum
    (only the ballot count is then known); `groups` lists the groups that may be shown on their own (empty
    when that would expose a small set)."""

    ballots: int
    minimum: int
    total: GroupResult | None
    groups: list[GroupResult]
    closed: bool = True

    @property
    def shown(self) -> bool:
        return self.total is not None

    @property
    def enough(self) -> bool:
        """At least the minimum number of ballots (whether or not the round has closed)."""
        return self.ballots >= self.minimum


def visible_groups(per_group_ballots: dict, minimum: int) -> set:
    """Groups whose figures may be shown on their own: each has ≥ minimum ballots, and the ballots of the
    groups left out are either none or ≥ minimum together, so a small set is never exposed by subtraction
    from the total. E.g. minimum 10: {staff 12, parents 15} → both; {staff 12, parents 3} → none."""
    shown = {group for group, n in per_group_ballots.items() if n >= minimum}
    hidden_total = sum(n for group, n in per_group_ballots.items() if group not in shown)
    if 0 < hidden_total < minimum:
        return set()
    return shown


def results(round_: AppraisalRound, branch_ids: list[int] | None = None,
            overall_only: bool = False, today: date | None = None) -> dict[int, BranchResult]:
    """{branch_id: BranchResult} of a round, for the given branches (all when None), from one GROUP BY over
    the answers (branch, group, question, level → count). `overall_only` reads the overall question alone
    (the dashboard's column). While the round is open only the ballot counts are given: figures that move
    with every ballot would tell whoever looks before and after one person votes what that person answered."""
    overall_q = next((q.id for q in round_.questions if q.is_overall), None)
    stmt = _counts().where(Ballot.round_id == round_.id)
    if branch_ids is not None:
        stmt = stmt.where(Ballot.branch_id.in_(branch_ids))
    if overall_only:
        stmt = stmt.where(BallotAnswer.question_id == overall_q)
    return _results_of(round_, overall_q, db.session.execute(stmt), branch_ids, is_closed(round_, today))


def _counts():
    """SELECT branch, rater group, question, level, answers of the ballots, grouped so (the caller adds WHERE)."""
    return (select(Ballot.branch_id, Ballot.rater_group, BallotAnswer.question_id, BallotAnswer.level, func.count())
            .join(BallotAnswer, BallotAnswer.ballot_id == Ballot.id)
            .group_by(Ballot.branch_id, Ballot.rater_group, BallotAnswer.question_id, BallotAnswer.level))


def _results_of(round_: AppraisalRound, overall_q: int | None, counted, branch_ids: list[int] | None,
                closed: bool) -> dict[int, BranchResult]:
    """`results` of the counted rows (branch, group, question, level, answers), for `branch_ids` (every branch
    counted when None)."""
    weights = round_.weights
    cells: dict[int, dict] = {}
    for branch_id, group, question_id, level, count in counted:
        cells.setdefault(branch_id, {}).setdefault(RaterGroup(group), {}).setdefault(question_id, {})[
            Level(level)] = int(count)
    out: dict[int, BranchResult] = {}
    for branch_id in (branch_ids if branch_ids is not None else cells):
        by_group = cells.get(branch_id, {})
        per_group_ballots = {g: sum(qs.get(overall_q, {}).values()) for g, qs in by_group.items()}
        ballots = sum(per_group_ballots.values())
        if ballots < round_.min_ballots or not closed:
            out[branch_id] = BranchResult(ballots, round_.min_ballots, None, [], closed)
            continue

        def figures(groups, by_group=by_group) -> dict[int, Figures]:
            per_question: dict[int, Figures] = {}
            for g in groups:
                for question_id, counts in by_group.get(g, {}).items():
                    merged = per_question.setdefault(question_id, Figures({}, weights)).counts
                    for level, n in counts.items():
                        merged[level] = merged.get(level, 0) + n
            return per_question

        total_q = figures(by_group.keys())
        total = GroupResult(None, total_q.get(overall_q, Figures({}, weights)), total_q)
        shown = visible_groups(per_group_ballots, round_.min_ballots)
        groups = []
        for g in round_.group_list:
            if g in shown:
                group_q = figures([g])
                groups.append(GroupResult(g, group_q.get(overall_q, Figures({}, weights)), group_q))
        out[branch_id] = BranchResult(ballots, round_.min_ballots, total, groups)
    return out


def overall_counts(round_: AppraisalRound, branch_ids: list[int] | None = None) -> dict[int, dict[Level, int]]:
    """{branch id: {level: answers}} of the round's overall question, for the given branches (all when None), the
    rater groups added up as `results` adds them for the total: read from the kept counts (`AppraisalTally`, at
    most four rows a branch), not counted from the ballots. A branch with no ballot is absent."""
    values = {"round_id": round_.id} if branch_ids is None else {"round_id": round_.id, "ids": list(branch_ids)}
    counts: dict[int, dict[Level, int]] = {}
    for branch_id, level, answers in core_rows(_overall_counts_statement(branch_ids is not None), values).all():
        counts.setdefault(branch_id, {})[level] = answers  # (a Level and an int: the columns' types)
    return counts


@cache
def _overall_counts_statement(some: bool):
    """`overall_counts`' statement, built once: of every branch, or of `some` (the expanding parameter `ids`);
    parameter `round_id`."""
    q, t = AppraisalQuestion, AppraisalTally
    round_id = bindparam("round_id", type_=Integer)
    overall_q = (select(q.id).where(q.round_id == round_id, q.criterion_id.is_(None))  # AppraisalQuestion.is_overall
                 .order_by(q.position).limit(1).scalar_subquery())
    stmt = select(t.branch_id, t.level, t.answers).where(t.round_id == round_id, t.question_id == overall_q,
                                                         t.answers > 0)
    return stmt.where(t.branch_id.in_(bindparam("ids", expanding=True))) if some else stmt


# --- the kept counts (derived data) ----------------------------------------------------------------------

def _tally_insert():
    """INSERT of `appraisal_tally` in the database's dialect (for its ON CONFLICT)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(AppraisalTally)


def count_answers(round_id: int, branch_id: int, answers: list[tuple[int, Level]]) -> None:
    """Add one ballot's answers, [(question id, level)], to the kept counts of its round and branch: one
    INSERT … ON CONFLICT DO UPDATE in the caller's transaction (the ballot's own, so the counts always equal the
    answers), and the branch's kept summaries marked for the commit (their appraisal class reads these counts:
    services/figures.py). Nothing else about the ballot is written."""
    if not answers:
        return
    figures.mark_branch(db.session, branch_id)
    stmt = _tally_insert().values([{"round_id": round_id, "question_id": question_id, "branch_id": branch_id,
                                    "level": level, "answers": 1} for question_id, level in answers])
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["round_id", "question_id", "branch_id", "level"],
        set_={"answers": AppraisalTally.answers + stmt.excluded.answers}))


def _counted_answers():
    """SELECT round, question, branch, level, answers: the kept counts computed afresh from the ballots."""
    return (select(Ballot.round_id, BallotAnswer.question_id, Ballot.branch_id, BallotAnswer.level, func.count())
            .join(BallotAnswer, BallotAnswer.ballot_id == Ballot.id)
            .group_by(Ballot.round_id, BallotAnswer.question_id, Ballot.branch_id, BallotAnswer.level))


def rebuild_tallies(round_id: int | None = None) -> int:
    """Recompute the kept counts from the ballots' answers (every round, or one), in the current transaction (the
    demo's bulk load, `flask --app wsgi rebuild-figures`); the caller commits, having recomputed the summaries after
    (their appraisal class reads these counts: `figures.rebuild`). Returns the rows written."""
    t = AppraisalTally
    counted, deleted, rows = _counted_answers(), delete(t), select(func.count()).select_from(t)
    if round_id is not None:
        counted, deleted = counted.where(Ballot.round_id == round_id), deleted.where(t.round_id == round_id)
        rows = rows.where(t.round_id == round_id)
    db.session.execute(deleted)
    db.session.execute(insert(t).from_select(["round_id", "question_id", "branch_id", "level", "answers"], counted))
    return int(db.session.scalar(rows) or 0)  # (a driver's rowcount of INSERT … SELECT is not always given)


def tally_differences() -> list[tuple]:
    """[(round id, question id, branch id, level, kept, counted)] where the kept counts differ from the answers
    (a count of 0 and no row are the same); empty when they agree. Reads every answer: for tests and
    `rebuild-figures`, not for pages."""
    t = AppraisalTally
    counted = {tuple(row[:4]): int(row[4]) for row in db.session.execute(_counted_answers())}
    kept = {(r, q, b, Level(level)): int(n) for r, q, b, level, n in db.session.execute(
        select(t.round_id, t.question_id, t.branch_id, t.level, t.answers).where(t.answers > 0))}
    counted = {(r, q, b, Level(level)): n for (r, q, b, level), n in counted.items()}
    return sorted((*key, kept.get(key, 0), counted.get(key, 0)) for key in kept.keys() | counted.keys()
                  if kept.get(key, 0) != counted.get(key, 0))


def branch_result(round_: AppraisalRound | None, branch_id: int) -> BranchResult | None:
    """`results` of one branch (None without a round), by a statement built once."""
    if round_ is None:
        return None
    overall_q = next((q.id for q in round_.questions if q.is_overall), None)
    counted = db.session.execute(_branch_counts_statement(), {"round_id": round_.id, "branch_id": branch_id})
    return _results_of(round_, overall_q, counted, [branch_id], is_closed(round_))[branch_id]


@cache
def _branch_counts_statement():
    """`_counts` of one branch of one round (`round_id`, `branch_id`), built once: the branch page reads it."""
    return _counts().where(Ballot.round_id == bindparam("round_id", type_=Integer),
                           Ballot.branch_id == bindparam("branch_id", type_=Integer))


# --- 民主评议党员 (member appraisal) -----------------------------------------------------------------------

def branch_members(branch_id: int) -> list[User]:
    """The people a branch's member appraisal is about: its active members and secretary, by name."""
    return list(db.session.scalars(select(User).where(
        User.branch_id == branch_id, User.active.is_(True), User.role.in_([Role.MEMBER, Role.SECRETARY]))
        .order_by(*people_order())))


def has_taken_part(round_: AppraisalRound, user: User) -> bool:
    return db.session.scalar(select(func.count()).select_from(MemberAppraisalTaking).where(
        MemberAppraisalTaking.round_id == round_.id, MemberAppraisalTaking.user_id == user.id)) > 0


def appraise_members(actor: User, round_: AppraisalRound, answers: dict[int, str],
                     today: date | None = None) -> None:
    """A member's appraisal of everyone in their branch, themselves included, once per round.

    Writes that `actor` took part (MemberAppraisalTaking) and, apart from it, one MemberVerdict per member
    appraised (member, level, date, random key): nothing ties a verdict to its author. Not audited per answer
    (anonymity); the participation row is the record. Raises BallotRefused("closed") outside the round's dates,
    BallotRefused("used") when already taken part (also when two posts race: the unique participation row),
    Invalid({"m<id>": message}) for a missing answer."""
    from sqlalchemy.exc import IntegrityError

    if not is_open(round_, today):
        raise BallotRefused("closed")
    if has_taken_part(round_, actor):
        raise BallotRefused("used")
    members = branch_members(actor.branch_id)
    errors = {f"m{m.id}": str(_l("Choose one answer.")) for m in members if answers.get(m.id) not in set(Level)}
    if errors:
        raise Invalid(str(_l("Please answer for every member.")), errors)
    today = today or local_today()
    try:
        db.session.add(MemberAppraisalTaking(round_id=round_.id, user_id=actor.id, branch_id=actor.branch_id))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise BallotRefused("used") from None
    db.session.execute(insert(MemberVerdict), [
        {"id": secrets.token_hex(16), "round_id": round_.id, "member_id": m.id, "level": Level(answers[m.id]),
         "cast_on": today} for m in members])
    db.session.commit()
    ballot_traces.after_ballot()


def member_score_shown(answers: int, round_: AppraisalRound) -> bool:
    """Whether a score built from `answers` answers about one member may be shown: at least the round's member
    minimum (never below MEMBER_MIN_FLOOR, whatever an older round holds) of answers *besides one*. Answers are
    one per member who took part (MemberAppraisalTaking is unique per person and round), so these are distinct
    members; and the one left out is the viewer's own, should they have answered: a secretary who subtracts
    their own verdict from the score still faces at least the minimum of other members' verdicts."""
    return answers - 1 >= max(round_.member_min_answers, MEMBER_MIN_FLOOR)


@dataclass
class MemberLine:
    member: User
    taken_part: bool
    figures: Figures | None  # None while the round is open and below the round's member minimum


def member_coverage(round_: AppraisalRound, branch_id: int, today: date | None = None) -> list[MemberLine]:
    """Per member of a branch: whether they took part ("一个都不能少": the secretary needs it to remind people)
    and, once the round has closed and from `member_min_answers` answers besides the viewer's own on
    (`member_score_shown`), the figures of the answers about
    them. While the round is open no figures at all: with who has taken part next to live scores, one
    member's verdicts could be read off the change. Two GROUP BY queries."""
    members = branch_members(branch_id)
    ids = [m.id for m in members]
    taken = set(db.session.scalars(select(MemberAppraisalTaking.user_id).where(
        MemberAppraisalTaking.round_id == round_.id, MemberAppraisalTaking.user_id.in_(ids))))
    if not is_closed(round_, today):
        return [MemberLine(member, member.id in taken, None) for member in members]
    counts: dict[int, dict] = {}
    for member_id, level, n in db.session.execute(
            select(MemberVerdict.member_id, MemberVerdict.level, func.count())
            .where(MemberVerdict.round_id == round_.id, MemberVerdict.member_id.in_(ids))
            .group_by(MemberVerdict.member_id, MemberVerdict.level)):
        counts.setdefault(member_id, {})[Level(level)] = int(n)
    lines = []
    for member in members:
        found = Figures(counts.get(member.id, {}), round_.weights)
        lines.append(MemberLine(member, member.id in taken,
                                found if member_score_shown(found.ballots, round_) else None))
    return lines
