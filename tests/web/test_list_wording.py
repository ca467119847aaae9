"""Wording a tester found: English pages joined lists with the Chinese 、 (i18n.listed, Babel's list patterns, the
one way); the English confirmation named the framework 五个好 (labels.framework_name); the queue warning showed raw
Markdown backticks; the framework import quoted its sheet names two ways in Chinese."""
from __future__ import annotations

import re
from pathlib import Path

from ..checklist_helpers import items
from . import test_framework_editor as editor
from .test_framework_editor import BRANCH_EDITOR

admin_client = editor.admin_client
finished_and_started = editor.finished_and_started
CATALOGUE = Path(__file__).parents[2] / "portal" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def test_english_lists_are_joined_in_english_and_chinese_in_chinese(admin_client, finished_and_started):
    english = admin_client.get(BRANCH_EDITOR + "?lang=en").get_data(as_text=True)
    assert "The assessments of 2011 and 2012 have started" in english and "2011、2012" not in english
    chinese = admin_client.get(BRANCH_EDITOR + "?lang=zh").get_data(as_text=True)
    assert "2011和2012" in chinese


def test_the_english_confirmation_names_the_framework_in_english(admin_client, finished_and_started):
    from portal.models import Subject

    item = items(Subject.BRANCH)[0]
    admin_client.get("/?lang=en")
    response = admin_client.form_post(f"/admin/frameworks/items/{item.id}", {
        "version": str(item.version), "text": item.text + "(改)", "weight": "1", "position": "1"})
    assert response.status_code == 409
    heading = re.search(r"<h1>(.*?)</h1>", response.get_data(as_text=True)).group(1)
    assert heading.startswith("Confirm a new version of Five Goods") and "五个好" not in heading


def _catalogue() -> list[tuple[str, str]]:
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as file:
        return [(str(m.id), str(m.string)) for m in read_po(file) if m.id and isinstance(m.id, str)]


def test_no_message_shows_markdown_backticks():
    assert [msgid for msgid, msgstr in _catalogue() if "`" in msgid + msgstr] == []


def test_the_chinese_import_messages_quote_a_sheet_one_way():
    sheets = [msgstr for _msgid, msgstr in _catalogue() if "%(sheet)s" in msgstr]
    assert sheets and all("工作表“%(sheet)s”" in text for text in sheets), sheets
