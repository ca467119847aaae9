"""Chinese names sort by pinyin, polyphones read as words, not by code point."""
from portal import collation

NAMES = ["中山路小学党支部", "北京路中学党总支", "张家湾幼儿园党支部", "阿里山路小学党支部", "长安街小学党支部",
         "重庆路小学党支部", "No.2 实验学校党支部"]


def test_names_sort_by_pinyin():
    assert sorted(NAMES) != sorted(NAMES, key=collation.sort_key)  # code point order is not it
    assert sorted(NAMES, key=collation.sort_key) == [
        "阿里山路小学党支部",  # a
        "北京路中学党总支",  # bei
        "长安街小学党支部",  # chang, not zhang
        "重庆路小学党支部",  # chong, not zhong
        "No.2 实验学校党支部",  # n
        "张家湾幼儿园党支部",  # zhang
        "中山路小学党支部",  # zhong
    ]


def test_same_reading_falls_back_to_the_characters():
    assert sorted(["李华", "李桦", "黎华"], key=collation.sort_key) == sorted(["李华", "李桦", "黎华"])
