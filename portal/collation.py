"""Chinese names in the order readers expect: by pinyin (长安街 before 中山路), then by the characters.

Code point order puts 中 before 北 and 阿 last; a leader looking for a school in a list of 300 reads
them the way a dictionary orders them. pypinyin reads polyphones from its phrase dictionary
(重庆 chong qing, 长安 chang an); it is loaded on first use (~0.3 s, ~55 MB), and keys are remembered.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=16384)
def sort_key(text: str) -> tuple[str, str]:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text)).casefold(), text


STORED_KEY_MAX = 255


def stored_key(text: str | None) -> str:
    """The pinyin part of `sort_key`, as stored beside a name (`Branch.sort_key`, `User.sort_key`) so that lists
    ORDER BY (sort_key, name) in SQL and page with LIMIT."""
    return sort_key(text or "")[0][:STORED_KEY_MAX]


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


def in_pinyin_order(items, name=lambda item: item, before=None) -> list:
    """`items` (put together in Python) in pinyin order of `name(item)`, then the characters; `before(item)`,
    when given, groups first (e.g. a deadline, or "not started" before "started")."""
    if before is None:
        return sorted(items, key=lambda item: sort_key(name(item) or ""))
    return sorted(items, key=lambda item: (before(item), sort_key(name(item) or "")))
