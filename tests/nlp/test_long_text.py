"""Very long descriptions (issue 12, item 2): every extraction step reads a text in time linear in
its length, and extraction reads at most ``Settings.max_extract_chars`` of it.

Before, a skill candidate re-read its whole clause, a one-letter language re-read the rest of
the sentence, a glued Latin token was split in cubic time, each list item searched the rest of
the text, and the tokenizer and the URL blanking backtracked quadratically over long runs of
letters: 80,000 characters took minutes, 1,000,000 never finished. The timings themselves are
printed by ``benchmarks/bench_long_text.py``; here a generous timeout stands for "finishes", and
the fast paths are checked against the plain definitions they replace.
"""

from __future__ import annotations

import random
import re

import pytest

from nlp.extractor import Extractor, cut_for_extraction
from skillsignal.core.config import Settings
from skillsignal.core.models import Posting

UNIT = (
    "岗位职责：1、负责数据仓库建设与ETL开发，基于Hadoop、Spark处理海量数据；2、参与推荐系统的特征工程，"
    "使用Python和SQL；3、维护Kafka、Redis集群。\n任职要求：1、本科及以上学历，计算机、统计学相关专业；"
    "2、3年以上开发经验，熟悉Java/Scala、C/C++、R语言者优先；3、熟悉Linux、Docker，联系 hr@example.com "
    "或访问 https://example.com/jobs 。\n"
)


def _repeat(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


#: shapes that each once made a step super-linear
SHAPES = {
    "postings": lambda n: _repeat(UNIT, n),
    "one sentence": lambda n: re.sub(r"[。；;！!？?\n]+", "，", _repeat(UNIT, n)),
    "one clause": lambda n: re.sub(r"[。；;！!？?\n，,：:\s]+", "、", _repeat(UNIT, n)),
    "english C/R": lambda n: _repeat("Python Java C R Go SQL Linux Spark or R and C with git ", n),
    "glued token": lambda n: "熟悉" + "PythonJavaLinux" * ((n - 2) // 15),  # one Latin token
    "list items": lambda n: _repeat("1、熟悉Python 2、熟悉Java 3、熟悉Linux 4、五年以上经验 ", n),
    "chinese run": lambda n: _repeat(re.sub(r"[^\u4e00-\u9fff]+", "", UNIT), n),
    "emails": lambda n: _repeat("a@b.c+x@y.z 熟悉Python hr@corp.com http://x.y/z?a@b ", n),
}


@pytest.fixture(scope="module")
def settings_nomodel(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("long"), use_embeddings=False)


@pytest.fixture(scope="module")
def extractor(settings_nomodel) -> Extractor:
    return Extractor.from_settings(settings_nomodel, use_embeddings=False)


@pytest.fixture(scope="module")
def uncut(extractor) -> Extractor:
    """The same extractor reading whole texts, however long (no max_extract_chars cut)."""
    return Extractor(extractor.taxonomy, None, max_chars=10**9)


def _posting(text: str) -> Posting:
    return Posting(id="long", source="test", title="大数据开发工程师", description=text)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_one_megabyte_description_is_extracted(extractor, shape):
    text = SHAPES[shape](1_000_000)
    posting = _posting(text)
    extraction = extractor.extract(posting)
    assert posting.description == text  # the posting keeps its whole description
    skills = {s.id for s in extraction.skills}
    if shape in ("postings", "one sentence", "one clause", "english C/R", "list items"):
        assert {"python", "java", "linux"} <= skills, skills
    # (the cut leaves the glued token "...PythonJavaLinuxPy", which is no list of names)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_step_reads_100k_characters_without_the_cut(uncut, extractor, shape):
    """No cut: every step reads all 100,000 characters (before: minutes or hours per shape)."""
    text = SHAPES[shape](100_000)
    full = uncut.extract(_posting(text))
    assert full.skills or shape in ("chinese run",)
    if shape == "postings":  # the cut reads less text, so it finds no more than the whole
        cut = extractor.extract(_posting(text))
        assert {s.id for s in cut.skills} <= {s.id for s in full.skills}


@pytest.mark.model
@pytest.mark.timeout(300)
def test_one_megabyte_description_with_embeddings(settings, model_in_data_dir):
    ex = Extractor.from_settings(settings, use_embeddings=True)
    for shape in ("postings", "english C/R", "one clause"):
        extraction = ex.extract(_posting(SHAPES[shape](1_000_000)))
        assert {"python", "java"} <= {s.id for s in extraction.skills}


# --- the cut ------------------------------------------------------------------------------


def test_extraction_reads_up_to_max_extract_chars(monkeypatch, tmp_path):
    from skillsignal.core.config import get_settings

    monkeypatch.setenv("SKILLSIGNAL_MAX_EXTRACT_CHARS", "5000")
    monkeypatch.setenv("SKILLSIGNAL_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        ex = Extractor.from_settings(get_settings(), use_embeddings=False)
    finally:
        get_settings.cache_clear()
    assert ex.max_chars == 5000
    early = "熟悉Python开发。" * 100  # 1,100 characters
    late = "熟悉Kubernetes与Hadoop。"
    filler = "负责日常工作。\n" * 1000  # 8,000 characters
    skills = {s.id for s in ex.extract(_posting(early + filler + late)).skills}
    assert "python" in skills and "kubernetes" not in skills and "hadoop" not in skills
    skills = {s.id for s in ex.extract(_posting(early + late)).skills}
    assert {"python", "kubernetes", "hadoop"} <= skills


def test_cut_ends_at_a_sentence_end_in_its_second_half():
    text = "熟悉Python。" * 10 + "x" * 100
    assert cut_for_extraction(text, 1000) == text  # short text: whole
    cut = cut_for_extraction(text, 95)
    assert cut.endswith("。") and len(cut) == 90
    assert cut_for_extraction("y" * 200, 50) == "y" * 50  # no sentence end: exactly the limit
    assert cut_for_extraction("熟悉。" + "z" * 200, 100) == ("熟悉。" + "z" * 200)[:100]  # end too early


def test_the_default_cut_changes_no_real_posting(shared_dir):
    """Every one of the 8,519 real dev postings is read whole (the longest has 5,499 characters)."""
    import json

    from nlp.cleaning import clean_text

    path = shared_dir / "data" / "postings-dev.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    limit = Settings().max_extract_chars
    with path.open(encoding="utf-8") as fh:
        longest = max(len(clean_text(json.loads(line).get("description") or "")) for line in fh)
    assert longest < limit / 1.5, (longest, limit)


# --- the fast paths against the plain definitions ------------------------------------------


def test_section_item_search_equals_a_fresh_search():
    from nlp.sections import _GLUED_ITEM, _ITEM, _Matches

    rng = random.Random(1)
    alphabet = list("ab1234567890 .、．)）（(:：①一二十\n")
    for _ in range(1500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        for pattern in (_ITEM, _GLUED_ITEM):
            matches = _Matches(pattern, text)
            for pos in range(len(text) + 1):
                want, got = pattern.search(text, pos), matches.search(pos)
                assert (want and (want.span(), want.groups())) == (got and (got.span(), got.groups())), (text, pos)


def test_url_blanking_equals_the_regular_expression():
    from nlp.new_terms import _URLISH, blank_urls, urlish_spans

    rng = random.Random(3)
    pieces = list("ab@.+-_ 中/:wh") + ["http://", "www.", "https://", "@x.y", "a@b.c"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 20)))
        assert urlish_spans(text) == [m.span() for m in _URLISH.finditer(text)], text
        assert blank_urls(text) == _URLISH.sub(lambda m: " " * len(m.group(0)), text)


def test_protected_token_pattern_equals_the_backtracking_one():
    from nlp.spacy_pipeline.tokenizer import GENERIC_PROTECTED

    before = (
        r"\.NET(?:\s*Core)?|[A-Za-z][A-Za-z0-9]*(?:\+\+|#)|"
        r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?:[./_\-][A-Za-z0-9]+)+(?:\+\+)?"
    )
    old = re.compile(rf"(?<![A-Za-z0-9])(?:A/B|{before})(?![A-Za-z0-9])", re.I)
    new = re.compile(rf"(?<![A-Za-z0-9])(?:A/B|{GENERIC_PROTECTED})(?![A-Za-z0-9])", re.I)
    rng = random.Random(2)
    alphabet = list("aB1C./_-+# NETCore中")
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        assert [m.span() for m in old.finditer(text)] == [m.span() for m in new.finditer(text)], text


def _split_glued_plainly(finder, token: str):
    """The definition: fewest known names that make up the token (first found among equals)."""
    n, min_part = len(token), finder.rules.glued_min_part

    def case_cut(i: int) -> bool:
        if i <= 0 or i >= n:
            return True
        a, b = token[i - 1], token[i]
        return (a.islower() and b.isupper()) or (a.isupper() and b.isupper() and i + 1 < n and token[i + 1].islower())

    best = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 2, n + 1):
            part = token[i:j]
            if part.casefold() not in finder.key_skills:
                continue
            if len(part) < min_part and not (case_cut(i) and case_cut(j)):
                continue
            cand = best[i] + [part]
            if best[j] is None or len(cand) < len(best[j]):
                best[j] = cand
    parts = best[n]
    return parts if parts and len(parts) >= 2 else None


def test_glued_token_split_equals_the_definition(extractor):
    finder = extractor.finder
    names = ["Python", "Java", "Linux", "MySQL", "Go", "SQL", "Spark", "Hive", "Vue", "React", "C", "R", "Docker", "x"]
    rng = random.Random(4)
    for _ in range(600):
        token = "".join(rng.choice(names) for _ in range(rng.randint(1, 6)))
        assert finder._split_glued(token) == _split_glued_plainly(finder, token), token


def _language_context_plainly(finder, raw: str, rs: int, re_: int) -> bool:
    rules = finder.rules
    after = raw[re_:].lstrip()
    if any(after.casefold().startswith(a) for a in rules.single_after):
        return True
    before = raw[:rs].rstrip()
    for sep in rules.single_separators:
        if before.endswith(sep):
            m = re.search(r"([A-Za-z][A-Za-z0-9+#.]*)\s*$", before[: len(before) - len(sep)])
            if m and m.group(1).casefold() in finder.key_skills:
                return True
        if after.startswith(sep):
            m = re.match(r"\s*([A-Za-z][A-Za-z0-9+#]*)", after[len(sep) :])
            if m and m.group(1).casefold() in finder.key_skills and len(m.group(1)) > 1:
                return True
    return False


def test_one_letter_language_context_equals_the_definition(extractor):
    from nlp.skills import _Clauses

    finder = extractor.finder
    pieces = [
        "C",
        "R",
        "Python",
        "Java",
        "C++",
        "3",
        "#",
        "+",
        ".",
        "/",
        "、",
        ",",
        " ",
        "  ",
        "和",
        "or",
        "and",
        "语言",
        "language",
        "Language",
        "编程",
        "x",
        "熟悉",
        "与",
        "&",
        "ab12",
    ]
    rng = random.Random(5)
    checked = 0
    for _ in range(3000):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        clauses = _Clauses(raw)
        for m in re.finditer(r"[CR]", raw):
            checked += 1
            assert finder._language_context(raw, m.start(), m.end(), clauses) == _language_context_plainly(
                finder, raw, m.start(), m.end()
            ), (raw, m.start())
    assert checked > 1000
