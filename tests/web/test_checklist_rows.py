"""The checklist's item rows, meters and result counts written in Python (`checklist_rows`, issue #14) are what the
templates `checklist/_item.html`, `_meter.html` and `_summary_counts.html` wrote, byte for byte, in both languages:
every kind of row (answered or not, with a note, an error, a conflict, a draft, evidence, a theme or retired item,
read-only), with text that needs escaping; meters of every kind of tally, in and out of band; and the answer to a
change of one item (`item_answer`), what `_item_changed.html` wrote around them."""
# ruff: noqa: E501  (OLD_ROW is the former template, kept verbatim with its long lines)
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from markupsafe import Markup

from portal import labels
from portal.models import Result
from portal.services.checklist import Row
from portal.services.progress import Tally
from portal.views.checklist_rows import RowWriter, item_answer, meter, overall_label, summary_counts

OLD_ROW = """{% import "_forms.html" as files %}
{# One checklist item: its number and wording, result buttons, note, evidence, who changed it and when.
   Every request of the row is queued on the row (hx-sync on [data-row], not the evidence <li>), so the last click wins on screen and in the
   database; the result and upload requests carry the note, so typed text is saved with them. #}
{% set owner = target.member.id if target.member else target.branch.id %}
{% set iid = row.item.id %}
{% set url_result = url_for("checklist.set_result", kind=kind, owner_id=owner, item_id=iid, year=target.year.year) %}
{% set url_note = url_for("checklist.set_note", kind=kind, owner_id=owner, item_id=iid, year=target.year.year) %}
{% set url_evidence = url_for("checklist.add_evidence", kind=kind, owner_id=owner, item_id=iid, year=target.year.year) %}
{% set with_note = "#note-" ~ iid ~ ", #note-version-" ~ iid %}
{% set shown_note = draft_note if draft_note is not none else row.note %}
<li class="item result--{{ row.result.value }}{% if item_error %} item--error{% endif %}" id="item-{{ iid }}" data-row
    data-result="{{ row.result.value }}"
    {% if item_error %}data-announce="{{ row.number }} {{ item_error }}"{% elif announce %}data-announce="{{ _('Item %(number)s: %(result)s. Saved.', number=row.number, result=labels.RESULT[row.result]) }}"{% endif %}>
  <div class="item__text">
    <p><span class="item__number">{{ row.number }}</span> {{ row.text }}{% if row.item.year_id %} <span class="badge badge--phase">{{ _("Theme item") }}</span>{% endif %}{% if row.retired %} <span class="badge badge--warn">{{ _("Retired") }}</span>{% endif %}</p>
    {% if row.retired %}<p class="muted small" id="item-{{ iid }}-retired">{{ _("No longer asked from %(year)s on. This checklist answered it, so it keeps the item and its answer, which still counts.", year=row.item.retired_from) if row.item.retired_from else _("No longer asked. This checklist answered it, so it keeps the item and its answer, which still counts.") }}</p>{% endif %}
    {% if row.needs_support %}<p class="warning" role="note">⚠ {{ _("Marked as met, but there is neither a note nor evidence.") }}</p>{% endif %}
    <div class="item__error field__error" id="item-{{ iid }}-error" data-error-slot{% if item_error %} data-server-error{% endif %}>{% if item_error %}{{ item_error }}{% endif %}</div>
  </div>
  <form class="item__results" method="post" action="{{ url_result }}"
        hx-post="{{ url_result }}" hx-target="#item-{{ iid }}" hx-swap="outerHTML" hx-sync="closest [data-row]:queue all"
        {% if can_edit %}hx-include="{{ with_note }}"{% endif %}>
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <fieldset {% if not can_edit %}disabled{% endif %}>
      <legend class="visually-hidden">{{ _("Result of item %(number)s", number=row.number) }}</legend>
      {% for value, label in labels.RESULT.items() %}
      <button type="submit" name="result" value="{{ value.value }}" id="result-{{ iid }}-{{ value.value }}"
              class="result-button result-button--{{ value.value }}"
              aria-pressed="{{ 'true' if row.result == value else 'false' }}">{{ label }}</button>
      {% endfor %}
    </fieldset>
  </form>
  <details class="item__details"{% if conflict or shown_note or row.evidence or (item_error and can_edit) %} open{% endif %}>
    <summary>{{ _("Note and evidence") }}{% if row.evidence %} ({{ row.evidence|length }}){% endif %}</summary>
    {% if can_edit %}
    <form class="item__note" method="post" action="{{ url_note }}"
          hx-post="{{ url_note }}" hx-target="#item-{{ iid }}" hx-swap="outerHTML" hx-sync="closest [data-row]:queue all">
      <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
      <input type="hidden" id="note-version-{{ iid }}" name="note_version" value="{{ conflict.version if conflict else row.note_version }}">
      <label for="note-{{ iid }}">{{ _("Note") }}</label>
      <div class="item__note-fields{% if conflict %} item__note-fields--conflict{% endif %}">
        <textarea id="note-{{ iid }}" name="note" rows="2" maxlength="2000" data-draft-key="{{ current_user.id }}:{{ url_note }}" data-autosave
                  {% if draft_note is not none %}data-unsaved{% endif %}
                  {% if conflict %}data-conflict aria-describedby="note-{{ iid }}-theirs"{% endif %}>{{ shown_note }}</textarea>
        {% if conflict %}
        <div class="conflict" id="note-{{ iid }}-theirs">
          <p><strong>{{ _("Current text saved by someone else:") }}</strong></p>
          <blockquote>{{ conflict.note or _("(empty)") }}</blockquote>
          <p class="muted small">{{ _("Your own text is kept in the field. Merge what you need and save again: your save then replaces theirs.") }}</p>
        </div>
        {% endif %}
      </div>
      <p class="item__note-actions">
        <button type="submit" class="button button--small" id="note-save-{{ iid }}">{{ _("Save note") }}</button>
        <span class="save-state" data-save-state id="note-{{ iid }}-state" data-state="{{ 'unsaved' if draft_note is not none else ('saved' if note_saved else '') }}">{% if draft_note is not none %}{{ _("Not saved yet") }}{% elif note_saved %}{{ _("Saved") }}{% endif %}</span>
      </p>
    </form>
    {% elif row.note %}
      <p class="item__note-text"><strong>{{ _("Note") }}:</strong> {{ row.note }}</p>
    {% endif %}
    <ul class="evidence-list">
      {% for ev in row.evidence %}
      <li id="evidence-{{ ev.id }}">
        <a href="{{ url_for('checklist.evidence', evidence_id=ev.id) }}">{{ ev.original_name }}</a>
        <span class="muted">{{ (ev.size / 1024)|round(0)|int }} KB</span>
        {% if can_edit %}
        <form method="post" action="{{ url_for('checklist.delete_evidence', evidence_id=ev.id) }}" class="inline-form"
              hx-post="{{ url_for('checklist.delete_evidence', evidence_id=ev.id) }}" hx-target="#item-{{ iid }}" hx-swap="outerHTML"
              hx-sync="closest [data-row]:queue all" hx-confirm="{{ _('Delete this file?') }}">
          <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
          <button type="submit" class="button button--small button--danger" id="evidence-{{ ev.id }}-delete">{{ _("Delete") }}</button>
        </form>
        {% endif %}
      </li>
      {% endfor %}
    </ul>
    {% if can_edit %}
    <form class="item__upload" method="post" enctype="multipart/form-data" action="{{ url_evidence }}"
          hx-post="{{ url_evidence }}" hx-encoding="multipart/form-data" hx-target="#item-{{ iid }}" hx-swap="outerHTML"
          hx-sync="closest [data-row]:queue all" hx-include="{{ with_note }}">
      <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
      <label for="file-{{ iid }}">{{ _("Add evidence (image, PDF or Office document, at most 10 MB)") }}</label>
      {{ files.file_input("file-%s"|format(iid), "file", accept=".jpg,.jpeg,.png,.gif,.webp,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx") }}
      <button type="submit" class="button button--small" id="upload-{{ iid }}">{{ _("Upload") }}</button>
    </form>
    {% endif %}
  </details>
  {% if row.note %}<p class="item__note-print print-only"><strong>{{ _("Note") }}:</strong> {{ row.note }}</p>{% endif %}
  <p class="item__meta muted">
    {% if row.updated_at %}{{ _("Changed by %(name)s, %(when)s", name=row.updated_by or "—", when=row.updated_at|when) }}{% else %}{{ _("Not answered yet") }}{% endif %}
  </p>
</li>
"""

OLD_METER = """{# Progress (activity) and score (verdict) of a criterion or the whole checklist. Swapped out-of-band after a tick. #}
<div class="meter-pair" id="{{ meter_id }}"{% if oob %} hx-swap-oob="outerHTML"{% endif %}>
  <div class="meter">
    <div class="meter__label"><span>{{ _("Progress") }}</span><strong>{{ "%.0f"|format(tally.progress) }}%</strong></div>
    <progress max="100" value="{{ tally.progress }}" aria-label="{{ _('Progress') }} {{ label }}">{{ "%.0f"|format(tally.progress) }}%</progress>
  </div>
  <p class="meter-pair__facts">
    <span>{{ _("%(done)s of %(total)s assessed", done=tally.assessed, total=tally.applicable) }}</span>
    <span class="score">{% if tally.score is none %}{{ _("Score: not yet") }}{% else %}{{ _("Score: %(score)s", score="%.0f"|format(tally.score)) }}{% endif %}</span>
  </p>
</div>
"""

OLD_COUNTS = """<ul class="result-counts" id="result-counts"{% if oob %} hx-swap-oob="outerHTML"{% endif %}>
  <li class="result-count result-count--met">{{ _("Met") }} <strong>{{ checklist.overall.met }}</strong></li>
  <li class="result-count result-count--partly">{{ _("Partly met") }} <strong>{{ checklist.overall.partly }}</strong></li>
  <li class="result-count result-count--not_met">{{ _("Not met") }} <strong>{{ checklist.overall.not_met }}</strong></li>
  <li class="result-count result-count--na">{{ _("Not applicable") }} <strong>{{ checklist.overall.na }}</strong></li>
  <li class="result-count result-count--not_assessed">{{ _("Not assessed") }} <strong>{{ checklist.overall.applicable - checklist.overall.assessed }}</strong></li>
</ul>
"""

NASTY = '<b>"A&B"</b> \'x\' {{ 1 }} %(n)s %'


def _item(iid=7, year_id=None, retired_from=None, text="坚持科学发展观"):
    return SimpleNamespace(id=iid, year_id=year_id, retired_from=retired_from, text=text)


def _evidence(eid, name, size):
    return SimpleNamespace(id=eid, original_name=name, size=size)


def _rows():
    stamp = datetime(2012, 11, 27, 9, 5)
    yield Row(item=_item(), text="坚持科学发展观", number="1.1")
    yield Row(item=_item(8), text=NASTY, number="1.2", result=Result.MET, note=NASTY, note_version=3,
              updated_by=NASTY, updated_at=stamp)
    yield Row(item=_item(9, year_id=3), text="主题", number="6.1", result=Result.MET, updated_by="王老师",
              updated_at=stamp)  # met with nothing behind it
    yield Row(item=_item(10, retired_from=2012), text="旧", number="2.4", result=Result.PARTLY, note="有记录",
              updated_by="", updated_at=stamp, retired=True)
    yield Row(item=_item(11), text="旧", number="2.5", result=Result.NOT_APPLICABLE, updated_by="李", updated_at=stamp,
              retired=True)
    yield Row(item=_item(12), text="证据", number="3.1", result=Result.NOT_MET, note="",
              evidence=[_evidence(5, NASTY + ".png", 1536), _evidence(6, "记录.pdf", 2560), _evidence(9, "a", 0)],
              updated_by="张", updated_at=stamp)
    yield Row(item=_item(13), text="x", number="3.2", result=Result.MET, evidence=[_evidence(7, "b.png", 100)],
              updated_by="张", updated_at=stamp)


_STATES = [
    {},
    {"announce": True},
    {"announce": True, "note_saved": True},
    {"item_error": NASTY},
    {"item_error": Markup("<em>safe</em>"), "draft_note": NASTY},
    {"item_error": "冲突", "conflict": {"note": NASTY, "version": 4}, "draft_note": "我的"},
    {"item_error": "冲突", "conflict": {"note": "", "version": 0}, "draft_note": ""},
    {"draft_note": ""},
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", ["branch", "member"])
def test_rows_are_what_the_template_wrote(app, lang, kind):
    old = app.jinja_env.from_string(OLD_ROW)
    target = SimpleNamespace(member=SimpleNamespace(id=42) if kind == "member" else None,
                             branch=SimpleNamespace(id=3), year=SimpleNamespace(year=2012))
    user = SimpleNamespace(id=99)
    compared = 0
    with app.test_request_context("/"), force_locale(lang):
        for can_edit in (True, False):
            writer = RowWriter(target, kind, can_edit, user.id)
            for row in _rows():
                for state in _STATES:
                    values = {"item_error": state.get("item_error"), "conflict": state.get("conflict"),
                              "draft_note": state.get("draft_note"), "announce": state.get("announce", False),
                              "note_saved": state.get("note_saved", False)}
                    expected = old.render(row=row, target=target, kind=kind, can_edit=can_edit, current_user=user,
                                          labels=labels, **values)
                    assert str(writer(row, **values)) == expected, (row.number, state, can_edit)
                    compared += 1
    assert compared == 2 * 7 * len(_STATES)


_TALLIES = [Tally(), Tally(total=4, met=4, weight_scored=4.0, weight_earned=4.0),
            Tally(total=5, na=1, partly=1, weight_scored=1.0, weight_earned=0.5), Tally(total=2, na=2),
            Tally(total=7, met=2, partly=1, not_met=2, weight_scored=5.0, weight_earned=2.5),
            Tally(total=3, met=1, weight_scored=3.0, weight_earned=2.0), Tally(total=21, met=20, not_met=1,
                                                                             weight_scored=21.0, weight_earned=20.0)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_meters_and_counts_are_what_the_templates_wrote(app, lang):
    old_meter, old_counts = app.jinja_env.from_string(OLD_METER), app.jinja_env.from_string(OLD_COUNTS)
    with app.test_request_context("/"), force_locale(lang):
        for tally in _TALLIES:
            for oob in (False, True):
                for meter_id, label in (("overall-meter", overall_label()), ("criterion-3-meter", "领导班子好"),
                                        ("criterion-4-meter", NASTY)):
                    assert str(meter(meter_id, tally, label, oob)) == old_meter.render(
                        meter_id=meter_id, tally=tally, label=label, oob=oob), (tally, oob, label)
                checklist = SimpleNamespace(overall=tally)
                assert str(summary_counts(tally, oob)) == old_counts.render(checklist=checklist, oob=oob)
        # The overall meter's label as the page passed it: the catalogue's "Overall", not escaped.
        assert str(overall_label()) == str(app.jinja_env.from_string('{{ _("Overall") }}').render())


@pytest.mark.parametrize("kind", ["branch", "member"])
def test_the_rows_links_follow_the_script_root(app, kind):
    """A row's links are built once per app, script root and kind (`checklist_rows._links`), then filled in: the same
    as `url_for` for every owner, item and year, under the portal mounted at / and under a prefix."""
    from flask import url_for

    row = next(_rows())
    for root in ("http://localhost/", "http://localhost/portal/", "http://localhost/"):
        for owner, year in ((3, 2012), (1234567, 2031)):
            target = SimpleNamespace(member=SimpleNamespace(id=owner) if kind == "member" else None,
                                     branch=SimpleNamespace(id=owner), year=SimpleNamespace(year=year))
            with app.test_request_context("/", base_url=root):
                html = str(RowWriter(target, kind, True, 99)(row))
                for endpoint in ("set_result", "set_note", "add_evidence"):
                    url = url_for(f"checklist.{endpoint}", kind=kind, owner_id=owner, item_id=row.item.id, year=year)
                    assert f'action="{url.replace("&", "&amp;")}"' in html, (root, endpoint, url)
                    assert url.startswith("/portal/" if "portal" in root else "/checklist/")


OLD_ANSWER = """{# htmx answer to a change of one item: the row, and the progress bars out of band as they are now (a refused click
   may have saved part of itself: a stale note's result). #}
{{ item_row(row, item_error, conflict, draft_note, announce, note_saved) }}
{{ meter("criterion-" ~ section.criterion.id ~ "-meter", section.tally, labels.criterion_title(section.criterion), True) }}
{{ meter("overall-meter", checklist.overall, overall_label(), True) }}
{{ summary_counts(checklist.overall, True) }}
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_answer_to_a_change_is_what_the_template_wrote(app, lang):
    old = app.jinja_env.from_string(OLD_ANSWER)
    target = SimpleNamespace(member=None, branch=SimpleNamespace(id=3), year=SimpleNamespace(year=2012))
    with app.test_request_context("/"), force_locale(lang):
        writer = RowWriter(target, "branch", True, 99)
        for row, state, tally, title in zip(_rows(), _STATES, _TALLIES, ["领导班子好", NASTY] * 4, strict=False):
            values = {"item_error": state.get("item_error"), "conflict": state.get("conflict"),
                      "draft_note": state.get("draft_note"), "announce": state.get("announce", False),
                      "note_saved": state.get("note_saved", False)}
            # The criterion's meter is named in the page's language (labels.criterion_title): English where it has one.
            title_en = "Good leadership team" if title == "领导班子好" else None
            section = SimpleNamespace(criterion=SimpleNamespace(id=4, title=title, title_en=title_en), tally=tally)
            checklist = SimpleNamespace(overall=_TALLIES[-1])
            expected = old.render(item_row=writer, row=row, section=section, checklist=checklist, meter=meter,
                                  summary_counts=summary_counts, overall_label=overall_label, labels=labels,
                                  **values)
            assert ("Good leadership team" in expected) == (lang == "en" and title_en is not None)
            assert str(item_answer(writer, checklist, section, row, **values)) == expected, (row.number, state)
