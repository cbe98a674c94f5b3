"""The text keys of skillsignal.core.text: what each keeps, and how the look-alike pairs differ on purpose."""

from __future__ import annotations

from skillsignal.core.models import Posting
from skillsignal.core.text import alnum_bigrams, char_bigrams, normalize_alnum, normalize_term


def test_normalize_term_folds_width_case_and_whitespace_but_keeps_punctuation():
    assert normalize_term(" Web 前端\u3000開發 ") == "web前端開發"
    assert normalize_term("ＰＹＴＨＯＮ") == "python" and normalize_term("Ｃ＃") == "c#"
    assert normalize_term("C++") == "c++" != normalize_term("C")
    assert normalize_term(None) == normalize_term("") == ""


def test_normalize_alnum_also_drops_punctuation_and_symbols():
    """The near-duplicate key: C++ and C are the same there, not in the skill key."""
    assert normalize_alnum("C++") == normalize_alnum("C") == "c"
    assert normalize_alnum("【急招】Java开发（北京）!") == "急招java开发北京"
    assert normalize_term("【急招】Java开发（北京）!") == "【急招】java开发(北京)!"
    assert normalize_alnum(None) == ""


def test_fingerprint_is_the_term_key_of_title_company_description():
    a = Posting(id="a", source="t", title="Python 工程师", company="甲公司", description="熟悉 SQL")
    b = Posting(id="b", source="t", title="ＰＹＴＨＯＮ工程师", company="甲 公司", description="熟悉sql")
    c = Posting(id="c", source="t", title="Python-工程师", company="甲公司", description="熟悉SQL")
    assert a.fingerprint == b.fingerprint != c.fingerprint  # whitespace/width/case folded, punctuation kept


def test_char_bigrams_keep_every_character_and_a_short_text_is_its_own_gram():
    assert char_bigrams("c++") == {"c+", "++"}
    assert char_bigrams("Ab") == {"Ab"}  # as given: callers pass keys already folded
    assert char_bigrams("a") == {"a"} and char_bigrams("") == {""}


def test_alnum_bigrams_fold_drop_punctuation_and_are_empty_below_two_characters():
    assert alnum_bigrams("C++") == set() and alnum_bigrams("a") == set() == alnum_bigrams("")
    assert alnum_bigrams("Node.JS") == {"no", "od", "de", "ej", "js"}
    assert alnum_bigrams("LVM") == {"lv", "vm"} and alnum_bigrams("LLVM") == {"ll", "lv", "vm"}


def test_the_two_bigram_sets_differ_on_case_punctuation_and_short_texts():
    for text, chars, alnum in [
        ("r", {"r"}, set()),
        ("C#", {"C#"}, set()),
        ("Go", {"Go"}, {"go"}),
        ("a-b", {"a-", "-b"}, {"ab"}),
    ]:
        assert (char_bigrams(text), alnum_bigrams(text)) == (chars, alnum), text
