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


def test_numbers_sort_as_numbers():
    names = ["第10中学党支部", "第2中学党支部", "第1中学党支部", "第11中学党支部"]
    assert sorted(names, key=collation.sort_key) == ["第1中学党支部", "第2中学党支部", "第10中学党支部",
                                                     "第11中学党支部"]


def test_surnames_are_read_as_surnames():
    people = ["曾丽", "曹敏", "陈刚", "张伟", "单军", "邓华"]
    # 曾 zeng (not ceng, between 曹 and 陈), 单 shan (not dan, before 邓)
    assert sorted(people, key=collation.person_key) == ["曹敏", "陈刚", "邓华", "单军", "曾丽", "张伟"]
    assert collation.stored_key("曾丽", person=True).startswith("zeng")
    assert collation.stored_key("曾经的学校") .startswith("ceng")  # a place is not a person


def test_a_persons_stored_key_reads_the_surname(app):
    from portal.models import Branch, User

    assert User(display_name="曾丽").sort_key.startswith("zeng")
    assert Branch(name="第2中学党支部").sort_key < Branch(name="第10中学党支部").sort_key


def test_reading_word_by_word_is_pypinyins_reading():
    """sort_key reads a text word by word (its words' readings remembered): the same syllables as pypinyin
    reading the whole text, phrases (重庆, 长安), runs without pinyin and numbers included, for every shape of
    name the demo generates."""
    from pypinyin import lazy_pinyin

    from portal.collation import _reading
    from portal.services.demo import GIVEN, GIVEN_CHARS, SURNAMES, _unit_names

    texts = ["重庆路第12小学", "abc 长安街 x1", "曾经长孙", "", "  ", "中山路—第2", "Ω长安", "长安ab重庆", "银行行长",
             *(name for name, _kind in _unit_names(400))]
    texts += [surname + given for surname in SURNAMES[::7] for given in GIVEN]
    texts += [surname + a + b for surname in SURNAMES[::11] for a in GIVEN_CHARS[::3] for b in GIVEN_CHARS[::2]]
    for text in texts:
        assert _reading(text) == lazy_pinyin(text), text
