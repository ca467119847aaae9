"""The Chinese catalog is complete: every user-visible string extracted from the code is translated."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
PYBABEL = Path(sys.executable).with_name("pybabel")


def test_chinese_catalog_is_complete(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([str(PYBABEL), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-k", "lazy_pgettext:1c,2",
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with (ROOT / "portal/translations/zh/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and "fuzzy" not in m.flags and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(wanted - translated)
    assert missing == [], f"untranslated: {missing[:20]}"


def test_placeholders_survive_translation():
    with (ROOT / "portal/translations/zh/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh")
    import re

    pattern = re.compile(r"%\((\w+)\)[sd]")
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        assert set(pattern.findall(message.id)) == set(pattern.findall(message.string)), message.id


def test_chinese_text_uses_full_width_colons():
    """"报送材料被退回：…", never "报送材料被退回: …": a colon beside Chinese text is the full-width ：."""
    import re

    beside_chinese = re.compile(r"[\u3000-\u9fff\uff00-\uffef]\s*:|:\s*[\u3000-\u9fff]|\)s:\s")
    with (ROOT / "portal/translations/zh/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh")
    wrong = [m.id for m in catalog if m.id for text in (m.string if isinstance(m.string, tuple) else [m.string])
             if text and "://" not in text and beside_chinese.search(text)]
    assert wrong == []


def test_titles_are_quoted_once():
    from portal.text import quoted

    # One rule: “…”, or 「…」 around a title with double quotation marks of its own (left alone inside).
    assert quoted("报送实施方案") == "“报送实施方案”"
    assert quoted("“三会一课”进课堂") == "「“三会一课”进课堂」"
    assert quoted("关于开展“向十八大献礼”主题党日活动的通报") == "「关于开展“向十八大献礼”主题党日活动的通报」"
    assert quoted("《条例》学习体会") == "“《条例》学习体会”"
    assert quoted("") == "" and quoted(None) == ""
