"""Per-assessment, per-criterion tallies kept in `assessment_tally`, so that pages read figures instead of
aggregating item results on every view.

The figures are those of `progress.tally_query` (progress = assessed / applicable items, score = weighted
results; the same SQL, so the same numbers). They are brought up to date in the same transaction as the
change that moves them:

- an answer written through the ORM (an `ItemResult` or `Assessment` added, changed or removed) is noticed
  at flush;
- the checklist's own writes (Core upserts) name their assessment with `mark(assessment_id)`;
- a change to the framework (`Item`, `Criterion`) recomputes every assessment's rows;
- rows go with their assessment (ON DELETE CASCADE).

Before the transaction commits (and at every flush) the marked assessments' rows are deleted and inserted
again from the item results in two statements. Bulk loads that bypass the ORM (the demo seed) call
`rebuild()`; `flask --app wsgi rebuild-figures` does the same for an operator, and the tests compare the
kept rows with a computation from scratch after random ticks.
"""
from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace

from flask import has_app_context
from sqlalchemy import bindparam, delete, event, func, insert, inspect, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from ..extensions import db
from ..models import Assessment, AssessmentTally, Criterion, Item, ItemResult
from . import figures, progress
from .upsert import upsert_from_select

_MARKS = "portal.tally_marks"  # session.info key: assessment ids to bring up to date
_RESET = "portal.tally_reset"  # session.info key: assessments whose answers were removed (rows may go)
_ALL = "portal.tally_all"  # session.info key: every assessment (the framework changed)
_SUSPENDED = "portal.tally_suspended"  # session.info key: a bulk load rebuilds at its end
_WRITTEN = "portal.tally_written"  # session.info key: {assessment id: its rows as `refresh` last wrote them}
# Item and criterion columns that change which items an assessment counts (services/items.py), or their weight.
FRAMEWORK_COLUMNS = {"weight", "valid_from", "retired_from", "year_id", "criterion_id", "framework_id"}
_REFRESHES: dict[tuple, object] = {}  # (dialect name, one assessment or a list) → `refresh`'s upsert, built once
TALLY_COLUMNS = ["assessment_id", "criterion_id", "total", "met", "partly", "not_met", "na", "weight_scored",
                 "weight_earned", "last_answer_at", "progress", "score"]


def _computed(assessment_ids: Iterable[int] | BindParameter | None = None):
    """SELECT of the tally rows (in TALLY_COLUMNS order) from the item results: of the given assessments (or of
    those an expanding parameter names at execution, or of the one a scalar parameter names), or of all (None)."""
    stmt = progress.tally_query(Assessment.id.label("assessment_id"), Criterion.id.label("criterion_id"),
                                extra_columns=[func.max(ItemResult.updated_at).label("last_answer_at")])
    if isinstance(assessment_ids, BindParameter) and not assessment_ids.expanding:
        stmt = stmt.where(Assessment.id == assessment_ids)
    elif assessment_ids is not None:
        stmt = stmt.where(Assessment.id.in_(
            assessment_ids if isinstance(assessment_ids, BindParameter) else list(assessment_ids)))
    return with_figures(stmt)


def with_figures(stmt):
    """SELECT of whole tally rows (TALLY_COLUMNS) from `stmt`, a SELECT of their first ten columns (assessment id,
    criterion id, the seven `progress.tally_aggregates`, the newest answer's time): adds the stored progress and
    score, computed as `Tally` computes them."""
    names = TALLY_COLUMNS[:10]
    counts = stmt.subquery()
    columns = dict(zip(names, counts.c, strict=True))
    named = SimpleNamespace(**columns)  # the columns by the tally's names, for progress_of and score_of
    return select(*columns.values(), figures.progress_of(named), figures.score_of(named)).where(true())


def mark(assessment_id: int, session: Session | None = None) -> None:
    """Bring this assessment's tallies up to date before the current transaction commits (for writes that
    bypass the ORM, e.g. the checklist's upserts)."""
    session = session or db.session()
    session.info.setdefault(_MARKS, set()).add(assessment_id)


def suspend(session: Session | None = None) -> None:
    """Stop following changes in this transaction: a bulk load that calls `rebuild()` before it commits.
    The transaction's end (commit or rollback) lifts it."""
    session = session or db.session()
    session.info[_SUSPENDED] = True


def reset(assessment_ids: Iterable[int], connection=None) -> None:
    """Delete these assessments' rows and insert them again from the item results (when answers were removed,
    a retired item's criterion may lose its row)."""
    ids = sorted(set(assessment_ids))
    run = (connection or db.session.connection()).execute
    _written_gone()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        run(delete(AssessmentTally).where(AssessmentTally.assessment_id.in_(chunk)))
        run(insert(AssessmentTally).from_select(TALLY_COLUMNS, _computed(chunk)))


def refresh(assessment_ids: Iterable[int], connection=None) -> dict[int, progress.Tally] | None:
    """Recompute the tallies of these assessments from their item results, in the current transaction of
    `connection` (default: the session's): one INSERT … SELECT … ON CONFLICT DO UPDATE per 500 assessments.
    An answer never changes which criteria an assessment has rows for (only a framework change does, and
    that rebuilds), so upserting the computed rows is enough: they are then the assessment's kept rows. The
    statement is compiled once per dialect (services/upsert.py). One assessment's (a tick's) has a scalar
    parameter (an expanding one is rendered into the SQL at every execution) and returns the rows it wrote:
    {criterion id: Tally}, every kept row of the assessment; None for several."""
    ids = sorted(set(assessment_ids))
    if not ids:
        return None
    connection = connection or db.session.connection()
    dialect = connection.dialect.name
    if len(ids) == 1:
        rows = connection.execute(_upsert(dialect, one=True), {"assessment_id": ids[0]})
        return {row[0]: progress.tally_of(row[1:8]) for row in rows}
    stmt = _upsert(dialect, one=False)
    for start in range(0, len(ids), 500):  # bounded IN lists
        connection.execute(stmt, {"assessment_ids": ids[start:start + 500]})
    return None


def _upsert(dialect: str, one: bool):
    """`refresh`'s upsert for `dialect`, of one assessment (`assessment_id`; RETURNING the criterion and the seven
    `progress.tally_columns` of each row written) or of a list (`assessment_ids`), built once: building it costs
    more than running it for one assessment."""
    stmt = _REFRESHES.get((dialect, one))
    if stmt is None:
        ids = bindparam("assessment_id") if one else bindparam("assessment_ids", expanding=True)
        stmt = upsert_from_select(dialect, AssessmentTally, TALLY_COLUMNS, _computed(ids), key=TALLY_COLUMNS[:2])
        if one:
            stmt = stmt.returning(AssessmentTally.criterion_id, *progress.tally_columns())
        _REFRESHES[(dialect, one)] = stmt
    return stmt


def _written_gone() -> None:
    """Rows rewritten in bulk: what `refresh` returned earlier in the session's transaction is not kept."""
    if has_app_context():
        db.session().info.pop(_WRITTEN, None)


def written(assessment_id: int, session: Session | None = None) -> dict[int, progress.Tally]:
    """{criterion id: Tally}: the assessment's kept tallies, with the transaction's changes so far (as
    `progress.tallies` reads them): the rows its last `refresh` in this transaction wrote, when that refresh was of
    it alone and nothing wrote its rows since; else read (one statement)."""
    session = session or db.session()
    apply_pending(session)
    rows = session.info.get(_WRITTEN, {}).get(assessment_id)
    return dict(rows) if rows is not None else progress.tallies([assessment_id])[assessment_id]


def rebuild(connection=None) -> int:
    """Recompute every assessment's tallies from the item results; returns the number of rows. The caller
    commits."""
    run = (connection or db.session.connection()).execute
    _written_gone()
    run(delete(AssessmentTally))
    run(insert(AssessmentTally).from_select(TALLY_COLUMNS, _computed()))
    return int(run(select(func.count()).select_from(AssessmentTally)).scalar_one())


def differences() -> list[tuple]:
    """Rows where the kept tallies and a computation from scratch disagree (empty when they agree):
    (assessment id, criterion id, kept values or None, computed values or None)."""
    kept = {(r[0], r[1]): tuple(r[2:]) for r in db.session.execute(select(
        *(getattr(AssessmentTally, name) for name in TALLY_COLUMNS)))}
    computed = {(r[0], r[1]): tuple(r[2:]) for r in db.session.execute(_computed())}
    return [(key[0], key[1], kept.get(key), computed.get(key)) for key in sorted(kept.keys() | computed.keys())
            if kept.get(key) != computed.get(key)]


def apply_pending(session: Session | None = None, *, summaries: bool = False) -> None:
    """Write what the transaction's changes so far call for (readers call this first, so that they see
    their own transaction's changes); with `summaries`, the branch summaries too (services/figures.py: they
    are written once, before the commit or for a reader of them, since a service may still write rows the
    ORM does not see after a flush)."""
    session = session or db.session()
    if session.info.get(_SUSPENDED):
        return
    if session.info.get(_ALL):
        _forget(session)
        rebuild(session.connection())
        figures.mark_all(session)
    else:
        removed = session.info.pop(_RESET, set())
        if removed:
            reset(removed, session.connection())
        marks = session.info.pop(_MARKS, set()) - removed
        if marks:
            rows = refresh(marks, session.connection())
            written_rows = session.info.setdefault(_WRITTEN, {})
            for assessment_id in marks | removed:  # (rows written as a batch, or deleted and inserted: not kept)
                written_rows.pop(assessment_id, None)
            if rows is not None:
                written_rows[next(iter(marks))] = rows
        elif removed:
            for assessment_id in removed:
                session.info.get(_WRITTEN, {}).pop(assessment_id, None)
        figures.mark_assessments(session, marks | removed)  # their branches' summaries read these tallies
    if summaries:
        figures.apply_pending(session)


def _noticed(session: Session, flush_context) -> None:
    """after_flush: the assessments whose answers the ORM just wrote; a framework change (an item or
    criterion added, removed, or its weight, validity, year or place changed) concerns every assessment."""
    if session.info.get(_SUSPENDED):
        return
    figures.noticed(session)
    marks = session.info.setdefault(_MARKS, set())
    for obj in session.new:
        if isinstance(obj, ItemResult):
            marks.add(obj.assessment_id)
        elif isinstance(obj, Assessment):
            marks.add(obj.id)
        elif isinstance(obj, (Item, Criterion)):
            session.info[_ALL] = True
    for obj in session.deleted:
        if isinstance(obj, ItemResult):
            session.info.setdefault(_RESET, set()).add(obj.assessment_id)
        elif isinstance(obj, (Item, Criterion)):
            session.info[_ALL] = True
    for obj in session.dirty:
        if isinstance(obj, ItemResult):
            marks.add(obj.assessment_id)
        elif isinstance(obj, Assessment) and _changed(obj, {"framework_id", "year_id"}):
            marks.add(obj.id)
        elif isinstance(obj, (Item, Criterion)) and _changed(obj, FRAMEWORK_COLUMNS):
            session.info[_ALL] = True


def _changed(obj, columns: set[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in columns if name in state.attrs)


def _after_flush(session: Session, flush_context) -> None:
    apply_pending(session)


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this event: its changes must be noticed first
    apply_pending(session, summaries=True)


def _forget(session: Session, *args) -> None:
    for key in (_MARKS, _RESET, _ALL, _SUSPENDED, _WRITTEN):
        session.info.pop(key, None)
    figures.forget(session)


def register() -> None:
    """Listen to every ORM session once per process."""
    for name, listener in (("after_flush", _noticed), ("after_flush_postexec", _after_flush),
                           ("before_commit", _before_commit), ("after_commit", _forget),
                           ("after_rollback", _forget)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
