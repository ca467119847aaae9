"""Chinese names in the order readers expect: by pinyin (长安街 before 中山路), then by the characters.

Code point order puts 中 before 北 and 阿 last; a leader looking for a school in a list of 300 reads
them the way a dictionary orders them. pypinyin reads polyphones from its phrase dictionary
(重庆 chong qing, 长安 chang an); it is loaded on first use (~0.3 s, ~55 MB), and keys are remembered.
"""
from __future__ import annotations

import re
from functools import lru_cache

_DIGITS = re.compile(r"\d+")
# Surnames whose reading differs from the character's everyday one (曾 zēng, not céng as in 曾经): the first
# characters of a person's name are read thus. Two-character surnames first. (《百家姓》 readings, as
# 《现代汉语词典》 gives them for surnames.)
SURNAMES = {"万俟": "mo qi", "尉迟": "yu chi", "长孙": "zhang sun", "单于": "chan yu",
            "曾": "zeng", "单": "shan", "覃": "qin", "区": "ou", "仇": "qiu", "朴": "piao", "解": "xie", "查": "zha",
            "盖": "ge", "缪": "miao", "翟": "zhai", "召": "shao", "秘": "bi", "员": "yun", "繁": "po", "种": "chong",
            "句": "gou", "冼": "xian", "褚": "chu", "燕": "yan", "任": "ren", "华": "hua", "纪": "ji", "过": "guo"}

_TWO_CHARACTER_SURNAMES = {surname for surname in SURNAMES if len(surname) == 2}  # read before one-character ones


def _natural(reading: str) -> str:
    """Numbers as numbers (第2 before 第10): each run of digits zero-padded to ten places."""
    return _DIGITS.sub(lambda m: m.group().zfill(10), reading)


@lru_cache(maxsize=65536)
def _word_reading(word: str) -> tuple[str, ...]:
    """pypinyin's reading of one word of its own segmentation (a phrase, a character, or a run without pinyin)."""
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(word))


def _reading(text: str) -> list[str]:
    """`pypinyin.lazy_pinyin(text)`, word by word: pypinyin segments the text (its `seg`: runs of characters
    without pinyin, then phrases by forward maximum matching) and reads each word on its own, so the words'
    readings are remembered. Every name shares its surname and characters with thousands of others, so a
    district's 80,000 names cost a segmentation each and a few hundred readings (a reading costs 0.1 ms)."""
    from pypinyin.constants import PHRASES_DICT, RE_HANS
    from pypinyin.seg.mmseg import seg as phrases
    from pypinyin.seg.simpleseg import seg

    # A text of Chinese characters only (a name) is one run: `seg` would hand it to the phrase matcher whole.
    words = phrases.cut(text) if PHRASES_DICT and RE_HANS.match(text) else seg(text)
    return [syllable for word in words for syllable in _word_reading(word)]


@lru_cache(maxsize=16384)
def sort_key(text: str, person: bool = False) -> tuple[str, str]:
    """(pinyin reading, text): the order of names in every list. Numbers sort as numbers; with `person`, the
    name's surname is read as a surname (SURNAMES)."""
    head = ""
    if person:
        surname = text[:2] if text[:2] in _TWO_CHARACTER_SURNAMES else text[:1] if text[:1] in SURNAMES else ""
        head, text_rest = (SURNAMES[surname] + " ", text[len(surname):]) if surname else ("", text)
    else:
        text_rest = text
    return _natural(head + " ".join(_reading(text_rest))).casefold(), text


def person_key(name: str) -> tuple[str, str]:
    """`sort_key` of a person's name (the surname read as a surname)."""
    return sort_key(name, person=True)


STORED_KEY_MAX = 255


def stored_key(text: str | None, person: bool = False) -> str:
    """The pinyin part of `sort_key`, as stored beside a name (`Branch.sort_key`, `User.sort_key` with `person`)
    so that lists ORDER BY (sort_key, name) in SQL and page with LIMIT."""
    return sort_key(text or "", person)[0][:STORED_KEY_MAX]


# Every list of people and branches is ordered by one of these three: in SQL by the stored keys (so that it pages
# with LIMIT), or, for a list put together in Python, by the same key computed.

def people_order() -> tuple:
    """ORDER BY for people: the stored pinyin of the name, the name, then the id (a stable order)."""
    from .models import User

    return User.sort_key, User.display_name, User.id


def branch_order() -> tuple:
    """ORDER BY for branches: the stored pinyin of the name, the name, then the id."""
    from .models import Branch

    return Branch.sort_key, Branch.name, Branch.id


def in_pinyin_order(items, name=lambda item: item, before=None, person: bool = False) -> list:
    """`items` (put together in Python) in pinyin order of `name(item)`, then the characters; `before(item)`,
    when given, groups first (e.g. a deadline, or "not started" before "started"); `person`: the names are
    people's (their surnames read as surnames)."""
    if before is None:
        return sorted(items, key=lambda item: sort_key(name(item) or "", person))
    return sorted(items, key=lambda item: (before(item), sort_key(name(item) or "", person)))
