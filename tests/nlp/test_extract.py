"""The Extractor end to end on the project's own fixture taxonomy and postings."""

from __future__ import annotations

import json
import os

import pytest

from nlp.extractor import ExtractionError, Extractor
from skillsignal.core.models import Extraction, Posting
from tests.nlp.extract_fixtures import AI, BIGDATA, build_taxonomy


@pytest.fixture(scope="module")
def extractor():
    return Extractor(build_taxonomy())


def posting(pid="p1", title="深度学习算法工程师", description="", **kw) -> Posting:
    return Posting(id=pid, source="test", title=title, description=description, **kw)


AI_TEXT = (
    "岗位职责：1、负责图像分类与目标检测的深度学习算法研发；2、优化模型性能。"
    "任职要求：1、熟悉Python、C++，熟练使用PyTorch或TensorFlow；2、计算机、统计学相关专业硕士以上学历；"
    "3、熟悉LangChain、Milvus者优先；4、良好的沟通能力。公司福利：五险一金，带薪年假，Java培训。"
)


def test_extract_reads_skills_occupation_level_and_new_terms(extractor):
    ex = extractor.extract(posting(description=AI_TEXT, experience={"text": "3-5年"}))
    assert isinstance(ex, Extraction)
    assert ex.occupation.code == AI
    assert ex.level == "中级"
    skills = {s.id: s for s in ex.skills}
    assert {"deep-learning", "python", "c++", "pytorch", "tensorflow"} <= set(skills)
    assert skills["pytorch"].mentions == ["PyTorch"]
    assert "statistics" not in skills  # a major in the education clause
    assert "java" not in skills  # benefits are boilerplate
    terms = {t.term for t in ex.new_terms}
    assert {"LangChain", "Milvus"} <= terms
    assert not terms & {s.name for s in ex.skills}
    assert ex.taxonomy_version == "test-1"


def test_competencies_by_lexical_overlap_without_embeddings(extractor):
    ex = extractor.extract(
        posting(
            description="岗位职责：能设计并优化目标检测算法的模型结构，使用深度学习框架训练图像分类模型",
            experience={"text": "3年"},
        )
    )
    got = {c.id for c in ex.competencies}
    assert "ai.1" in got and "ai.2" in got
    assert all(c.evidence for c in ex.competencies)


def test_extract_many_keeps_order_and_survives_bad_input(extractor):
    big = ("熟悉Hadoop与Spark，负责大数据平台开发。" * 40_000)[:1_000_000]
    garbage = os.urandom(4096).decode("latin-1")
    items = [
        posting("big", "大数据工程师", big),
        posting("empty", "算法工程师", ""),
        posting("garbage", "工程师", garbage),
        posting("trad", "大數據開發工程師", "熟悉Hadoop、Spark與Hive，負責數據倉庫開發。"),
        posting("zero", "工程师", "\x00\x01\ufffd" * 100),
    ]
    results = extractor.extract_many(items)
    assert len(results) == len(items)
    assert all(isinstance(r, Extraction) for r in results), results
    assert results[0].occupation.code == BIGDATA
    assert {"hadoop", "spark"} <= {s.id for s in results[0].skills}
    assert results[1].skills == [] and results[1].level == "初级"
    assert {"hadoop", "spark", "hive"} <= {s.id for s in results[3].skills}
    assert results[3].occupation.code == BIGDATA


def test_one_failing_posting_yields_an_error_in_its_slot(extractor, monkeypatch):
    finder = extractor.finder
    original = finder.find

    def explode(text, sentences):
        if "BOOM" in text:
            raise RuntimeError("synthetic failure")
        return original(text, sentences)

    monkeypatch.setattr(finder, "find", explode)
    results = extractor.extract_many(
        [posting("a", description="熟悉Java"), posting("b", description="BOOM"), posting("c", description="熟悉Spark")]
    )
    assert isinstance(results[1], ExtractionError) and "synthetic failure" in str(results[1])
    assert isinstance(results[0], Extraction) and isinstance(results[2], Extraction)
    with pytest.raises(ExtractionError):
        extractor.extract(posting("b", description="BOOM"))


def test_pipeline_is_spacy_with_registered_components(extractor):
    assert extractor.nlp.lang == "zh"
    assert "skillsignal_skills" in extractor.nlp.pipe_names
    assert "skillsignal_skill_embeddings" not in extractor.nlp.pipe_names  # no embedder
    words = [t.text for t in extractor.nlp.make_doc("熟悉C++、C#、.NET、Node.js与TCP/IP")]
    assert {"C++", "C#", ".NET", "Node.js", "TCP/IP"} <= set(words)


def test_extract_jsonl_writes_one_line_per_input_line(tmp_path, settings):
    from nlp.batch import extract_jsonl

    src = tmp_path / "in.jsonl"
    rows = [
        json.dumps(
            {
                "id": "ok1",
                "title": "Python开发工程师",
                "description": "熟悉Python与Django",
                "experience": "3-5年",
                "salary": "15-20K",
                "city": "北京",
            },
            ensure_ascii=False,
        ),
        "{not json",
        json.dumps({"id": "notitle", "description": "熟悉Java"}),
        json.dumps({"id": "ok2", "title": "数据分析师", "description": "熟练使用SQL与Excel"}, ensure_ascii=False),
    ]
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    stats = extract_jsonl(src, out, settings=settings, use_embeddings=False)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row.get("id") for row in lines] == ["ok1", None, "notitle", "ok2"]
    assert stats["lines"] == 4 and stats["errors"] == 2 and stats["extracted"] == 2
    first = lines[0]
    assert first["level"] == "中级"
    assert {"code", "name", "direction", "score", "other_hint"} <= set(first["occupation"])
    assert any(s["mentions"] == ["Python"] for s in first["skills"])
    assert first["experience"]["years_min"] == 3
    assert first["salary"]["min"] is not None
    assert first["taxonomy_version"]
    assert "error" in lines[1] and "error" in lines[2]
    assert stats["encoding"] == "UTF-8"


def test_extract_jsonl_reads_a_gbk_file_and_names_an_undecodable_line(tmp_path, settings):
    """A GBK export is read as GBK (it was read as lossy UTF-8: the title came out as mojibake and
    the occupation was lost), and a line of bytes that are text in neither is an error naming it."""
    from nlp.batch import extract_jsonl

    rows = [
        {"id": "g1", "title": "大数据开发工程师", "description": "熟悉Hadoop、Spark，负责大数据平台开发"},
        {"id": "g2", "title": "数据分析师", "description": "熟练使用SQL与Excel进行数据分析"},
    ]
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes(b"".join((json.dumps(r, ensure_ascii=False) + "\n").encode("gbk") for r in rows))
    out = tmp_path / "out.jsonl"
    stats = extract_jsonl(gbk, out, settings=settings, use_embeddings=False)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert stats["encoding"] == "GB18030/GBK" and stats["errors"] == 0
    assert [row["title"] for row in lines] == ["大数据开发工程师", "数据分析师"]
    assert lines[0]["occupation"]["code"] == "2-02-38-03"
    assert {s["id"] for s in lines[0]["skills"]} >= {"hadoop", "spark"}

    mixed = tmp_path / "mixed.jsonl"  # UTF-8, one line broken by a stray byte
    good = (json.dumps(rows[1], ensure_ascii=False) + "\n").encode("utf-8")
    mixed.write_bytes(good + b'{"id": "bad", "title": "\xff\xfe"}\n' + good)
    stats = extract_jsonl(mixed, out, settings=settings, use_embeddings=False)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert stats["encoding"] == "UTF-8" and stats["errors"] == 1 and stats["extracted"] == 2
    assert lines[1]["error"].startswith("ValueError: line 2: not UTF-8 text like the rest of the file (byte 0xff")


def test_from_settings_uses_the_bundled_taxonomy(settings):
    ex = Extractor.from_settings(settings, use_embeddings=False)
    assert not ex.uses_embeddings
    assert ex.taxonomy_version == ex.taxonomy.version
    result = ex.extract(posting(description="熟悉Python与Hadoop、Spark，负责大数据平台开发", title="大数据开发工程师"))
    assert result.occupation.code == "2-02-38-03"


@pytest.mark.model
def test_embedding_extractor_batches_and_matches(settings, model_in_data_dir):
    ex = Extractor.from_settings(settings, use_embeddings=True)
    assert "skillsignal_skill_embeddings" in ex.nlp.pipe_names
    calls_before = ex.embedder.model_calls
    results = ex.extract_many([posting(str(i), description=AI_TEXT) for i in range(5)])
    assert all(isinstance(r, Extraction) for r in results)
    assert results[0].occupation.code == AI
    # one batch: a handful of model calls for five postings, not several per posting
    assert ex.embedder.model_calls - calls_before <= 6
