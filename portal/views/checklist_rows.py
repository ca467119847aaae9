"""A checklist's item rows, written in Python (issue #14).

The row (`<li id="item-N">`: wording, result buttons, note, evidence, who changed it) was the template
`checklist/_item.html` (removed), drawn 21 times per page and once in the answer to every tick; its forty-odd
expressions (three url_for, three CSRF fields, some twenty translated strings) were half of the page's work and a
fifth of a tick's. `RowWriter` does the per-page part once (links around the item id, the CSRF token, every fixed
text translated once per language) and each row is string formatting. The HTML is what the template wrote, byte
for byte: tests/web/test_checklist_rows.py keeps that template and compares, escaping included.
"""
from __future__ import annotations

from typing import NamedTuple

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from .. import labels
from ..i18n import per_language, when
from ..links import url_parts
from ..models import Result

# Jinja wrote nine blank lines (the template's import, comment and `set` tags) before the row.
_LEAD = "\n" * 9
_ACCEPT = ".jpg,.jpeg,.png,.gif,.webp,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx"


class _BarTexts(NamedTuple):
    """The meters' and the result counts' fixed texts in one language (as `_Texts`)."""

    progress: str
    facts: Markup  # "%(done)s of %(total)s assessed"
    no_score: str
    score: Markup
    overall: Markup  # a meter's label, as the template passed it (translated: trusted)
    counts: tuple  # the five counts' names: met, partly, not met, n/a, not assessed


@per_language
def _bar_texts() -> _BarTexts:
    return _BarTexts(
            progress=_("Progress"), facts=Markup(_("%(done)s of %(total)s assessed")),  # noqa: S704  # nosec B704
            no_score=_("Score: not yet"), score=Markup(_("Score: %(score)s")),  # noqa: S704  # nosec B704
            overall=Markup(_("Overall")),  # noqa: S704  # nosec B704 - the catalogue's
            counts=(_("Met"), _("Partly met"), _("Not met"), _("Not applicable"), _("Not assessed")))


def overall_label() -> Markup:
    """The overall meter's label ("Overall"), as `meter` takes it."""
    return _bar_texts().overall


def meter(meter_id: str, tally, label, oob: bool = False, texts: _BarTexts | None = None) -> Markup:
    """A meter pair (progress and score of a criterion, or of the whole checklist: `tally`, a progress.Tally), as
    the template `checklist/_meter.html` (removed) wrote it: `label` names it to screen readers (escaped unless
    Markup); `oob`: swapped out of band (the answer to a tick); `texts`: `_bar_texts()`, if the caller has them.
    tests/web/test_checklist_rows.py compares."""
    t = texts or _bar_texts()
    progress = tally.progress
    shown = f"{progress:.0f}"
    score = tally.score
    scored = t.no_score if score is None else t.score % {"score": f"{score:.0f}"}
    return Markup(  # noqa: S704  # nosec B704 - every text is escaped or the catalogue's
        f'\n<div class="meter-pair" id="{escape(meter_id)}"{OOB if oob else ""}>\n'
        f'  <div class="meter">\n'
        f'    <div class="meter__label"><span>{t.progress}</span><strong>{shown}%</strong></div>\n'
        f'    <progress max="100" value="{escape(progress)}" aria-label="{t.progress} {escape(label)}">{shown}%'
        f"</progress>\n"
        f"  </div>\n"
        f'  <p class="meter-pair__facts">\n'
        f'    <span>{t.facts % {"done": tally.assessed, "total": tally.applicable}}</span>\n'
        f'    <span class="score">{scored}</span>\n'
        f"  </p>\n"
        f"</div>")


def summary_counts(overall, oob: bool = False, texts: _BarTexts | None = None) -> Markup:
    """The checklist's counts of each result (`overall`, a progress.Tally), as the template
    `checklist/_summary_counts.html` (removed) wrote it; `oob`: swapped out of band; `texts` as `meter`'s."""
    met, partly, not_met, na, not_assessed = (texts or _bar_texts()).counts
    return Markup(  # noqa: S704  # nosec B704 - numbers and the catalogue's texts
        f'<ul class="result-counts" id="result-counts"{OOB if oob else ""}>\n'
        f'  <li class="result-count result-count--met">{met} <strong>{overall.met}</strong></li>\n'
        f'  <li class="result-count result-count--partly">{partly} <strong>{overall.partly}</strong></li>\n'
        f'  <li class="result-count result-count--not_met">{not_met} <strong>{overall.not_met}</strong></li>\n'
        f'  <li class="result-count result-count--na">{na} <strong>{overall.na}</strong></li>\n'
        f'  <li class="result-count result-count--not_assessed">{not_assessed} '
        f"<strong>{overall.applicable - overall.assessed}</strong></li>\n"
        f"</ul>")


OOB = ' hx-swap-oob="outerHTML"'


class _Texts(NamedTuple):
    """The row's fixed texts in one language: the catalogue's text as the template wrote it (a translated string
    is trusted markup there, not escaped), those taking values as Markup to %-format (which escapes the values)."""

    saved: Markup  # "Item %(number)s: %(result)s. Saved."
    theme: str
    retired: str
    retired_from: Markup
    retired_always: str
    unsupported: str
    legend: Markup
    buttons: str  # the five result buttons, "{iid}" and "{pressed_<value>}" to fill
    details: str
    note: str
    theirs: str
    empty: str
    kept: str
    save: str
    not_saved: str
    saved_state: str
    delete_confirm: str
    delete: str
    add_evidence: str
    choose: str
    no_file: str
    upload: str
    changed: Markup
    unanswered: str


@per_language
def _texts() -> _Texts:
    buttons = "".join(
        f'\n      <button type="submit" name="result" value="{value.value}" id="result-{{iid}}-{value.value}"'
        f'\n              class="result-button result-button--{value.value}"'
        f'\n              aria-pressed="{{pressed_{value.value}}}">{escape(label)}</button>\n      '
        for value, label in labels.RESULT.items())
    return _Texts(
        saved=Markup(_("Item %(number)s: %(result)s. Saved.")),  # noqa: S704  # nosec B704 - the catalogue's
        theme=_("Theme item"), retired=_("Retired"),
        retired_from=Markup(_("No longer asked from %(year)s on. This checklist answered it, so it "  # noqa: S704
                              "keeps the item and its answer, which still counts.")),  # nosec B704
        retired_always=_("No longer asked. This checklist answered it, so it keeps the item and its answer, "
                         "which still counts."),
        unsupported=_("Marked as met, but there is neither a note nor evidence."),
        legend=Markup(_("Result of item %(number)s")),  # noqa: S704  # nosec B704 - the catalogue's
        buttons=buttons, details=_("Note and evidence"), note=_("Note"),
        theirs=_("Current text saved by someone else:"), empty=_("(empty)"),
        kept=_("Your own text is kept in the field. Merge what you need and save again: your save then "
               "replaces theirs."),
        save=_("Save note"), not_saved=_("Not saved yet"), saved_state=_("Saved"),
        delete_confirm=_("Delete this file?"), delete=_("Delete"),
        add_evidence=_("Add evidence (image, PDF or Office document, at most 10 MB)"),
        choose=_("Choose a file"), no_file=_("No file chosen"), upload=_("Upload"),
        changed=Markup(_("Changed by %(name)s, %(when)s")),  # noqa: S704  # nosec B704 - the catalogue's
        unanswered=_("Not answered yet"))


# Ids no table reaches, in the places of the owner, the item and the year while a row's links are built.
_OWNER, _ITEM, _YEAR = "9876543210101", "9876543210202", "9876543210303"
_LINKS = "portal.checklist_row_links"  # app.extensions: {(script root, kind): `_links`}


def _links(kind: str) -> tuple[str, str, str]:
    """The links of a row of a `kind` checklist ("branch" or "member") to set_result, set_note and add_evidence, as
    `url_for` writes them with `_OWNER`, `_ITEM` and `_YEAR` in place of the values: built once per app and script
    root (a URL holds nothing of the person asking), not three `url_for` per answer to a tick."""
    made = current_app.extensions.setdefault(_LINKS, {})
    key = (request.script_root, kind)
    links = made.get(key)
    if links is None:
        links = made[key] = tuple(url_for(f"checklist.{endpoint}", kind=kind, owner_id=int(_OWNER),
                                          item_id=int(_ITEM), year=int(_YEAR))
                                  for endpoint in ("set_result", "set_note", "add_evidence"))
    return links


class RowWriter:
    """`writer(row, …)`: one item row of the checklist of `target` (kind "branch" or "member"), as Markup.

    Built once per page or answer, in a request (the links of the rows (`_links`), the CSRF token, the person's id,
    the texts of the request's language). `can_edit`: the buttons are enabled and the note and upload forms shown."""

    def __init__(self, target, kind: str, can_edit: bool, user_id: int):
        owner = target.member.id if target.member else target.branch.id
        year = target.year.year
        self.can_edit, self.user_id = can_edit, user_id
        self.texts = _texts()
        self.csrf = str(escape(generate_csrf()))
        self.result_url, self.note_url, self.evidence_url = (
            tuple(str(escape(part)) for part in link.replace(_OWNER, str(int(owner))).replace(_YEAR, str(int(year)))
                  .partition(_ITEM)[::2])
            for link in _links(kind))
        self._evidence_url = None  # (before, after) around an evidence id, built at the first file

    def evidence_urls(self) -> tuple[tuple[str, str], tuple[str, str]]:
        if self._evidence_url is None:
            self._evidence_url = tuple(tuple(str(escape(part)) for part in url_parts(endpoint, "evidence_id"))
                                       for endpoint in ("checklist.evidence", "checklist.delete_evidence"))
        return self._evidence_url

    def __call__(self, row, item_error=None, conflict=None, draft_note=None, announce: bool = False,
                 note_saved: bool = False) -> Markup:
        t, can_edit = self.texts, self.can_edit
        iid = row.item.id
        value = row.result.value
        number = escape(row.number)
        url_result = f"{self.result_url[0]}{iid}{self.result_url[1]}"
        url_note = f"{self.note_url[0]}{iid}{self.note_url[1]}"
        shown_note = draft_note if draft_note is not None else row.note
        if item_error:
            announced = f'data-announce="{number} {escape(item_error)}"'
        elif announce:
            announced = f'data-announce="{t.saved % {"number": row.number, "result": labels.RESULT[row.result]}}"'
        else:
            announced = ""
        badges = (f' <span class="badge badge--phase">{t.theme}</span>' if row.item.year_id else "") + (
            f' <span class="badge badge--warn">{t.retired}</span>' if row.retired else "")
        if row.retired:
            words = (t.retired_from % {"year": row.item.retired_from} if row.item.retired_from
                     else t.retired_always)
            retired = f'<p class="muted small" id="item-{iid}-retired">{words}</p>'
        else:
            retired = ""
        unsupported = f'<p class="warning" role="note">⚠ {t.unsupported}</p>' if row.needs_support else ""
        error = escape(item_error) if item_error else ""
        include = f'hx-include="#note-{iid}, #note-version-{iid}"'
        buttons = t.buttons.format(iid=iid, **{f"pressed_{r.value}": "true" if row.result == r else "false"
                                               for r in Result})
        out = [
            _LEAD,
            f'<li class="item result--{value}{" item--error" if item_error else ""}" id="item-{iid}" data-row\n'
            f'    data-result="{value}"\n'
            f"    {announced}>\n"
            f'  <div class="item__text">\n'
            f'    <p><span class="item__number">{number}</span> {escape(row.text)}{badges}</p>\n'
            f"    {retired}\n"
            f"    {unsupported}\n"
            f'    <div class="item__error field__error" id="item-{iid}-error" data-error-slot'
            f'{" data-server-error" if item_error else ""}>{error}</div>\n'
            f"  </div>\n"
            f'  <form class="item__results" method="post" action="{url_result}"\n'
            f'        hx-post="{url_result}" hx-target="#item-{iid}" hx-swap="outerHTML" '
            f'hx-sync="closest [data-row]:queue all"\n'
            f"        {include if can_edit else ''}>\n"
            f'    <input type="hidden" name="csrf_token" value="{self.csrf}">\n'
            f'    <fieldset {"" if can_edit else "disabled"}>\n'
            f'      <legend class="visually-hidden">{t.legend % {"number": row.number}}</legend>\n'
            f"      {buttons}\n"
            f"    </fieldset>\n"
            f"  </form>\n"
            f'  <details class="item__details"'
            f'{" open" if conflict or shown_note or row.evidence or (item_error and can_edit) else ""}>\n'
            f"    <summary>{t.details}{f' ({len(row.evidence)})' if row.evidence else ''}</summary>\n"
            f"    ",
        ]
        if can_edit:
            out.append(self._note_form(iid, url_note, row, conflict, draft_note, shown_note, note_saved))
        elif row.note:
            out.append(f'\n      <p class="item__note-text"><strong>{t.note}:</strong> {escape(row.note)}</p>\n    ')
        out.append('\n    <ul class="evidence-list">\n      ')
        for ev in row.evidence:
            out.append(self._evidence(iid, ev))
        out.append("\n    </ul>\n    ")
        if can_edit:
            url_evidence = f"{self.evidence_url[0]}{iid}{self.evidence_url[1]}"
            out.append(
                f'\n    <form class="item__upload" method="post" enctype="multipart/form-data" '
                f'action="{url_evidence}"\n'
                f'          hx-post="{url_evidence}" hx-encoding="multipart/form-data" hx-target="#item-{iid}" '
                f'hx-swap="outerHTML"\n'
                f'          hx-sync="closest [data-row]:queue all" hx-include="#note-{iid}, #note-version-{iid}">\n'
                f'      <input type="hidden" name="csrf_token" value="{self.csrf}">\n'
                f'      <label for="file-{iid}">{t.add_evidence}</label>\n'
                f'      \n<span class="file-input">\n'
                f'  <input id="file-{iid}" type="file" name="file" class="visually-hidden file-input__native" '
                f'data-file-input accept="{_ACCEPT}" >\n'
                f'  <label for="file-{iid}" class="button file-input__button">{t.choose}</label>\n'
                f'  <span class="file-input__chosen muted" data-file-chosen data-none="{t.no_file}">{t.no_file}'
                f"</span>\n"
                f"</span>\n"
                f'      <button type="submit" class="button button--small" id="upload-{iid}">{t.upload}</button>\n'
                f"    </form>\n    ")
        if row.updated_at:
            meta = t.changed % {"name": row.updated_by or "—", "when": when(row.updated_at)}
        else:
            meta = t.unanswered
        note_print = (f'<p class="item__note-print print-only"><strong>{t.note}:</strong> {escape(row.note)}</p>'
                      if row.note else "")
        out.append(
            f"\n  </details>\n"
            f"  {note_print}\n"
            f'  <p class="item__meta muted">\n'
            f"    {meta}\n"
            f"  </p>\n"
            f"</li>")
        return Markup("".join(out))  # noqa: S704  # nosec B704 - every text above is escaped

    def _note_form(self, iid: int, url_note: str, row, conflict, draft_note, shown_note, note_saved) -> str:
        t = self.texts
        version = conflict["version"] if conflict else row.note_version
        if conflict:
            theirs = (f'\n        <div class="conflict" id="note-{iid}-theirs">\n'
                      f"          <p><strong>{t.theirs}</strong></p>\n"
                      f"          <blockquote>{escape(conflict['note'] or t.empty)}</blockquote>\n"
                      f'          <p class="muted small">{t.kept}</p>\n'
                      f"        </div>\n        ")
        else:
            theirs = ""
        described = f'data-conflict aria-describedby="note-{iid}-theirs"'
        if draft_note is not None:
            state, said = "unsaved", t.not_saved
        elif note_saved:
            state, said = "saved", t.saved_state
        else:
            state, said = "", ""
        return (
            f'\n    <form class="item__note" method="post" action="{url_note}"\n'
            f'          hx-post="{url_note}" hx-target="#item-{iid}" hx-swap="outerHTML" '
            f'hx-sync="closest [data-row]:queue all">\n'
            f'      <input type="hidden" name="csrf_token" value="{self.csrf}">\n'
            f'      <input type="hidden" id="note-version-{iid}" name="note_version" value="{escape(version)}">\n'
            f'      <label for="note-{iid}">{t.note}</label>\n'
            f'      <div class="item__note-fields{" item__note-fields--conflict" if conflict else ""}">\n'
            f'        <textarea id="note-{iid}" name="note" rows="2" maxlength="2000" '
            f'data-draft-key="{escape(self.user_id)}:{url_note}" data-autosave\n'
            f'                  {"data-unsaved" if draft_note is not None else ""}\n'
            f"                  {described if conflict else ''}>"
            f"{escape(shown_note)}</textarea>\n"
            f"        {theirs}\n"
            f"      </div>\n"
            f'      <p class="item__note-actions">\n'
            f'        <button type="submit" class="button button--small" id="note-save-{iid}">{t.save}</button>\n'
            f'        <span class="save-state" data-save-state id="note-{iid}-state" data-state="{state}">{said}'
            f"</span>\n"
            f"      </p>\n"
            f"    </form>\n    ")

    def _evidence(self, iid: int, ev) -> str:
        t = self.texts
        (show_before, show_after), (delete_before, delete_after) = self.evidence_urls()
        if self.can_edit:
            delete_url = f"{delete_before}{ev.id}{delete_after}"
            delete = (f'\n        <form method="post" action="{delete_url}" class="inline-form"\n'
                      f'              hx-post="{delete_url}" hx-target="#item-{iid}" hx-swap="outerHTML"\n'
                      f'              hx-sync="closest [data-row]:queue all" hx-confirm="{t.delete_confirm}">\n'
                      f'          <input type="hidden" name="csrf_token" value="{self.csrf}">\n'
                      f'          <button type="submit" class="button button--small button--danger" '
                      f'id="evidence-{ev.id}-delete">{t.delete}</button>\n'
                      f"        </form>\n        ")
        else:
            delete = ""
        return (f'\n      <li id="evidence-{ev.id}">\n'
                f'        <a href="{show_before}{ev.id}{show_after}">{escape(ev.original_name)}</a>\n'
                f'        <span class="muted">{int(round(ev.size / 1024, 0))} KB</span>\n'
                f"        {delete}\n"
                f"      </li>\n      ")


def item_answer(item_row: RowWriter, checklist, section, row, item_error=None, conflict=None, draft_note=None,
                announce: bool = False, note_saved: bool = False) -> Markup:
    """The htmx answer to a change of one item (or a refusal of it), as the template `checklist/_item_changed.html`
    (removed) wrote it: the row (`item_row`, the request's RowWriter, with `row` and the states it takes), then out
    of band the meters of its criterion (`section`, as `Checklist.section_of` gives it) and of the whole checklist
    and the counts of each result, as they are now (a refused click may have saved part of itself). Written without
    a template: rendering one cost a tick its context processors for four expressions.
    tests/web/test_checklist_rows.py compares with the template."""
    overall, texts = checklist.overall, _bar_texts()
    return Markup("\n".join((  # noqa: S704  # nosec B704 - each part is Markup built with every text escaped
        "", item_row(row, item_error, conflict, draft_note, announce, note_saved),
        meter(f"criterion-{section.criterion.id}-meter", section.tally, labels.criterion_title(section.criterion), True,
              texts),
        meter("overall-meter", overall, texts.overall, True, texts), summary_counts(overall, True, texts))))

