"""nlp.cleaning: HTML, width, script, garbage, bullets, sentences — and speed on a 1 MB description."""

from __future__ import annotations

import random

import pytest

from nlp.cleaning import clean_text, split_sentences, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   \n\t  ", ""),
        ("<p>岗位职责</p><p>负责开发</p>", "岗位职责\n负责开发"),
        ("第一行<br>第二行<br/>第三行", "第一行\n第二行\n第三行"),
        ("<ul><li>Python</li><li>Java</li></ul>", "Python\nJava"),
        ("A &amp; B &lt;tag&gt; &nbsp;C", "A & B <tag> C"),
        ("熟悉 List<String> 与 vector<int>", "熟悉 List<String> 与 vector<int>"),
        ("<div>未闭合 <b>加粗 <p>段落", "未闭合 加粗\n段落"),
        ("<script>var x=1;</script><style>p{}</style>正文", "正文"),
        ("ＰＹＴＨＯＮ　３．８", "PYTHON 3.8"),
        ("熟悉機器學習與數據庫", "熟悉机器学习与数据库"),
        ("负责昇腾平台与润乾报表", "负责昇腾平台与润乾报表"),
        ("a\x00b\x07c\ufeffd\u200be", "abcde"),
        ("好\ufffd\ufffd\ufffd的", "好的"),
        ("要求:①熟悉Python②熟悉Java", "要求:\n1.熟悉Python\n2.熟悉Java"),
        ("福利 • 五险一金 ● 双休", "福利\n• 五险一金\n• 双休"),
        ("职责:1、开发;2、测试。3.部署", "职责:\n1、开发;\n2、测试。\n3.部署"),
        ("薪资1.5万, Python 3.8", "薪资1.5万, Python 3.8"),
        ("行一\r\n\r\n\r\n行二", "行一\n行二"),
        ("多个    空格\t\t和制表", "多个 空格 和制表"),
    ],
)
def test_clean_text_cases(raw, expected):
    assert clean_text(raw) == expected


def test_gbk_bytes_and_utf8_mojibake_are_repaired():
    assert clean_text("熟悉数据库".encode("gbk")) == "熟悉数据库"
    assert clean_text("熟悉数据库".encode()) == "熟悉数据库"
    assert clean_text("熟悉数据库".encode().decode("latin-1")) == "熟悉数据库"
    # already-correct Chinese is never re-decoded
    assert clean_text("数据库工程师 Café") == "数据库工程师 Café"


def test_binary_garbage_does_not_crash_and_leaves_no_controls():
    rnd = random.Random(4)
    blob = bytes(rnd.randrange(256) for _ in range(50_000))
    for text in (
        blob,
        blob.decode("latin-1"),
        blob.decode("utf-8", errors="replace"),
        "".join(chr(rnd.randrange(0xD800, 0xE000)) for _ in range(100)) + "正文",
    ):
        out = clean_text(text)
        assert isinstance(out, str)
        assert not any(ord(c) < 32 and c != "\n" for c in out)
        assert "\ufffd" not in out
        assert not any(0xD800 <= ord(c) < 0xE000 for c in out)
        out.encode("utf-8")  # no lone surrogates left


def test_simplified_text_is_left_alone():
    text = "著名的人工智能公司,负责后台开发与干净的代码"
    assert to_simplified(text) is text


def test_one_megabyte_description(shared_dir):
    import json

    first = json.loads((shared_dir / "data" / "postings-dev.jsonl").open(encoding="utf-8").readline())
    seed = first["description"]
    big = (seed * (1_000_000 // len(seed) + 1))[:1_000_000]
    out = clean_text(big)  # timings: benchmarks/bench_fields.py
    assert len(out) > 500_000
    assert "岗位职责" in out and "\n" in out
    assert all(len(s) <= 200 for s in split_sentences(out))


def test_one_megabyte_traditional_html_is_converted():
    big = "<p>熟悉機器學習與數據庫，負責演算法開發。</p>" * 35_000
    out = clean_text(big)
    assert out.startswith("熟悉机器学习与数据库,负责")
    assert "<p>" not in out and "機" not in out


@pytest.mark.parametrize(
    "blob",
    [
        " " * 200_000 + "x",
        "• " * 100_000,
        "<" * 100_000,
        "1" * 200_000,
        "\n \t" * 100_000,
        "<div " * 50_000,
        "①" * 50_000,
        "字" * 300_000,
    ],
    ids=["spaces", "bullets", "lt", "digits", "blank-lines", "open-tags", "circled", "no-punctuation"],
)
def test_pathological_inputs_finish(blob):
    # each of these once took quadratic time in a regex; they must stay linear
    out = clean_text(blob)
    assert "  " not in out and "\n\n" not in out
    assert all(len(s) <= 200 for s in split_sentences(out))


def test_split_sentences_on_punctuation_lines_and_markers():
    text = clean_text("岗位职责:1、负责开发;2、负责测试。任职要求:熟悉Python!会Linux?\n• 沟通好")
    sentences = split_sentences(text)
    assert sentences == ["岗位职责:", "1、负责开发;", "2、负责测试。", "任职要求:熟悉Python!", "会Linux?", "• 沟通好"]


def test_split_sentences_caps_length():
    long = "熟悉" + ",".join(f"技术{i}" for i in range(200)) + "。" + "无标点" * 300
    sentences = split_sentences(long, max_chars=200)
    assert all(0 < len(s) <= 200 for s in sentences)
    assert "".join(sentences).replace(",", "") == long.replace(",", "").replace(" ", "")


def test_split_sentences_empty():
    assert split_sentences("") == []
    assert split_sentences(None) == []
    assert split_sentences("\n\n;;;") == []
