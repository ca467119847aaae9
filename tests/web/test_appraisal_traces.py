"""Anonymity beyond the schema: after a ballot, the database engine keeps no trace that pairs the used code
with the ballot (SQLite: the WAL file is emptied; PostgreSQL: the remix gives all rows one xmin)."""
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.extensions import db
from portal.services import appraisal, ballot_traces

from ..appraisal_helpers import answers_for, open_round


def _vote(client, code, round_):
    return client.form_post("/appraisal", {"code": code, "step": "answers", **answers_for(round_)})


def _wal_path() -> str:
    return db.engine.url.database + "-wal"


def _wal() -> bytes:
    path = Path(_wal_path())
    return path.read_bytes() if path.exists() else b""


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's WAL file")


@pytest.fixture
def postgres_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's xmin")


def test_sqlite_wal_holds_no_code_after_a_ballot(client, branch, secretary, sqlite_only):
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "parents", 1)[0]
    assert _vote(client, code, round_).status_code == 303
    wal = _wal()
    assert appraisal.code_hash(code).encode() not in wal
    assert len(wal) == 0  # truncated: no frame of the ballot's commit is left either
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_sqlite_blocked_checkpoint_is_queued_and_done_later(client, branch, secretary, sqlite_only, monkeypatch):
    round_ = open_round(secretary)
    code = appraisal.generate_codes(secretary, round_, branch, "parents", 1)[0]
    queued = []
    monkeypatch.setattr(ballot_traces, "enqueue", lambda: queued.append(1))
    reader = sqlite3.connect(db.engine.url.database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM ballot").fetchone()  # a reader on an older snapshot
    try:
        assert _vote(client, code, round_).status_code == 303
        assert queued == [1]
        assert appraisal.code_hash(code).encode() in _wal()  # what the queue must wipe
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert ballot_traces.scrub() is True  # the queued task's work
    assert os.path.getsize(_wal_path()) == 0


def _xmins(table: str, where: str = "") -> list[str]:
    return [row[0] for row in db.session.execute(text(f"SELECT xmin::text FROM {table} {where}"))]  # noqa: S608


def test_postgres_remix_leaves_no_shared_xmin_per_vote(client, branch, secretary, postgres_only):
    round_ = open_round(secretary)
    codes = appraisal.generate_codes(secretary, round_, branch, "parents", 3)
    for code in codes[:2]:
        assert _vote(client, code, round_).status_code == 303
    db.session.commit()
    used, ballots = _xmins("appraisal_code", "WHERE used"), _xmins("ballot")
    assert len(set(used)) == 2 and set(used) == set(ballots)  # the trace: one xmin per vote, on both rows
    assert ballot_traces.scrub() is True
    used, ballots, answers = _xmins("appraisal_code", "WHERE used"), _xmins("ballot"), _xmins("ballot_answer")
    counts = _xmins("appraisal_tally")  # the kept counts each vote added to (issue #14)
    assert counts and len(set(used) | set(ballots) | set(answers) | set(counts)) == 1
    unused = _xmins("appraisal_code", "WHERE NOT used")
    assert set(unused).isdisjoint(used)
    db.session.commit()


def test_member_appraisal_leaves_no_pairing_either(client, branch, secretary, member):
    from portal.models import MemberAppraisalTaking

    round_ = open_round(secretary)
    answers = {m.id: "satisfied" for m in appraisal.branch_members(branch.id)}
    appraisal.appraise_members(member, round_, answers)
    if db.engine.dialect.name == "sqlite":
        assert not os.path.exists(_wal_path()) or os.path.getsize(_wal_path()) == 0
    else:
        assert ballot_traces.scrub() is True
        taking = _xmins(MemberAppraisalTaking.__tablename__)
        verdicts = _xmins("member_verdict")
        assert len(set(taking) | set(verdicts)) == 1
        db.session.commit()
