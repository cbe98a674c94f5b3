"""The ingest pipeline with its real parts: normaliser, extractor (without embeddings) and a
real SQLite file. Re-running never double-counts; a failing extraction never loses a posting;
an ingest killed halfway and re-run ends with each posting exactly once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date

import pytest

from nlp.cleaning import clean_text
from skillsignal.core.models import Posting
from skillsignal.pipeline import IngestPipeline
from storage import SQLiteStore
from tests.pipeline.killing import kill_once_stored

AI_JOB = dict(
    title="计算机视觉算法工程师",
    description="岗位职责：负责目标检测与图像分割算法研发。任职要求：熟悉PyTorch、OpenCV，精通Python和C++，3年以上经验。",
)
IC_JOB = dict(
    title="数字IC验证工程师",
    description="任职要求：熟悉SystemVerilog和UVM验证方法学，掌握Verilog，熟悉VCS仿真工具；5年以上芯片验证经验。",
)


def posting(pid: str, **kw) -> Posting:
    fields = dict(source="fixture", company="示例科技", posted_at=date(2026, 9, 15), **kw)
    return Posting(id=pid, **fields)


@pytest.fixture(scope="module")
def extractor():
    from nlp.extractor import Extractor
    from skillsignal.core.config import Settings

    return Extractor.from_settings(Settings(), use_embeddings=False)


def test_stores_extracts_and_rerun_changes_nothing(tmp_path, settings, extractor):
    store = SQLiteStore(tmp_path / "s.sqlite3")
    pipe = IngestPipeline(settings, store=store, extractor=extractor)
    batch = [posting("ai-1", **AI_JOB), posting("ic-1", **IC_JOB), posting("ai-2", **AI_JOB)]
    first = pipe.process(batch)
    assert (first.stored, first.extracted, first.extraction_errors) == (3, 3, 0)
    occupations = dict(store.count_by("occupations"))
    assert occupations == {"2-02-38-01": 2, "2-02-38-09": 1}
    skills_before = store.count_by("skills", limit=500)
    assert ("pytorch", 2) in skills_before

    again = pipe.process(batch)
    assert (again.unchanged, again.stored, again.extracted) == (3, 0, 0)
    assert store.count_postings() == 3
    assert store.count_by("skills", limit=500) == skills_before

    # a changed description is re-extracted, still one record
    edited = posting("ai-1", title=AI_JOB["title"], description=AI_JOB["description"] + "熟悉TensorRT模型部署。")
    third = pipe.process([edited])
    assert (third.stored, third.extracted) == (1, 1)
    assert store.count_postings() == 3
    assert "tensorrt" in {s.id for s in store.get_posting("ai-1").extraction.skills}


def test_failed_extraction_keeps_raw_posting_and_reprocess_recovers(tmp_path, settings, extractor):
    from nlp.extractor import ExtractionError

    class FailingOnce:
        """The real extractor, except that it fails on the first call (a crash mid-extraction)."""

        def __init__(self, real):
            self.real, self.calls = real, 0
            self.taxonomy_version = real.taxonomy_version

        def extract_many(self, postings):
            self.calls += 1
            if self.calls == 1:
                return [ExtractionError(f"{p.id}: model crashed") for p in postings]
            return self.real.extract_many(postings)

    store = SQLiteStore(tmp_path / "s.sqlite3")
    pipe = IngestPipeline(settings, store=store, extractor=FailingOnce(extractor))
    stats = pipe.process([posting("ai-1", **AI_JOB), posting("ic-1", **IC_JOB)])
    assert (stats.stored, stats.extracted, stats.extraction_errors) == (2, 0, 2)
    kept = store.get_posting("ic-1")
    assert kept.description == clean_text(IC_JOB["description"]) and "model crashed" in kept.extraction_error

    redo = pipe.reprocess(only_unextracted=True)
    assert (redo.received, redo.extracted) == (2, 2)
    assert store.get_posting("ic-1").extraction.occupation.code == "2-02-38-09"
    assert store.count_postings() == 2


def test_bad_values_never_lose_the_posting(tmp_path, settings, extractor):
    store = SQLiteStore(tmp_path / "s.sqlite3")
    pipe = IngestPipeline(settings, store=store, extractor=extractor)
    garbage = bytes(range(256)).decode("latin-1") * 40
    odd = [
        posting("empty", title="Python开发", description=""),
        posting("huge", title="大数据开发工程师", description=("熟悉Hadoop、Spark和Hive。" * 70_000)[:1_000_000]),
        posting("binary", title="测试", description=garbage),
        posting("trad", title="資料工程師", description="熟悉資料庫與數據倉庫，精通Python。"),
        Posting.model_validate(
            dict(
                id="weird-salary",
                source="fixture",
                title="运维工程师",
                salary={"text": "薪资：¥¥¥/火星月"},
                experience={"text": "很多年"},
            )
        ),
    ]
    stats = pipe.process(odd)
    assert stats.stored == 5
    assert store.count_postings() == 5
    assert store.get_posting("huge").extraction is not None
    assert "spark" in {s.id for s in store.get_posting("huge").extraction.skills}


def _write_jsonl(path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            job = (AI_JOB, IC_JOB)[i % 2]
            fh.write(
                json.dumps(
                    dict(
                        id=f"bulk-{i:05d}",
                        source="fixture",
                        city="杭州",
                        salary="15-25K·13薪",
                        experience="3-5年",
                        posted="2026-09-15",
                        **job,
                    ),
                    ensure_ascii=False,
                )
                + "\n"
            )


@pytest.mark.slow
def test_ingest_killed_halfway_then_rerun_counts_each_posting_once(tmp_path):
    """Killed once its first batch (200) is stored; 800 postings leave three more batches (~4 s
    of extraction) to kill it in, and the re-run must finish all 800."""
    total = 800
    data_dir = tmp_path / "data"
    src = tmp_path / "postings.jsonl"
    _write_jsonl(src, total)
    env = {"SKILLSIGNAL_DATA_DIR": str(data_dir), "SKILLSIGNAL_USE_EMBEDDINGS": "false", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "skillsignal.cli", "ingest", str(src)]
    db = data_dir / "skillsignal.sqlite3"
    stored = kill_once_stored(cmd, env, db, at_least=200)
    assert 0 < stored < total

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM postings").fetchone()[0] == total
    assert conn.execute("SELECT COUNT(DISTINCT id) FROM postings").fetchone()[0] == total
    not_extracted = conn.execute("SELECT COUNT(*) FROM postings WHERE taxonomy_version IS NULL").fetchone()[0]
    assert not_extracted == 0


def test_recrawl_of_unchanged_postings_moves_last_seen_without_reextracting(tmp_path, settings, extractor):
    """An unchanged posting found again costs a seen-date write, not an extraction; an older replay
    moves nothing back; a closed posting found again reopens; near-duplicate marks stay."""
    from datetime import UTC, datetime, timedelta

    store = SQLiteStore(tmp_path / "s.sqlite3")
    pipe = IngestPipeline(settings, store=store, extractor=extractor)
    day1 = datetime(2026, 9, 15, 8, tzinfo=UTC)

    def crawl(at: datetime) -> list[Posting]:  # ai-2 is an exact copy of ai-1 (a near-duplicate)
        return [posting(pid, crawled_at=at, **AI_JOB) for pid in ("ai-1", "ai-2")] + [
            posting("ic-1", crawled_at=at, **IC_JOB)
        ]

    def lives() -> dict[str, tuple]:
        return {p.id: (p.first_seen, p.last_seen, p.closed_on) for p in store.iter_postings()}

    first = pipe.process(crawl(day1))
    assert (first.stored, first.extracted) == (3, 3) and store.totals().duplicate_postings == 1
    extracted_at = store.get_posting("ai-1").extraction.extracted_at
    d1, d8, d15 = day1.date(), (day1 + timedelta(days=7)).date(), (day1 + timedelta(days=14)).date()

    again = pipe.process(crawl(day1 + timedelta(days=7)))
    assert (again.unchanged, again.stored, again.extracted) == (3, 0, 0)
    assert lives() == dict.fromkeys(["ai-1", "ai-2", "ic-1"], (d1, d8, None))
    assert store.get_posting("ai-1").extraction.extracted_at == extracted_at
    assert store.totals().duplicate_postings == 1

    pipe.process(crawl(day1))  # an older file replayed
    assert lives() == dict.fromkeys(["ai-1", "ai-2", "ic-1"], (d1, d8, None))

    pipe.process(crawl(day1 + timedelta(days=14))[:1])  # a complete crawl that finds only ai-1
    assert pipe.close_unseen("fixture", d15) == 2
    assert lives() == {"ai-1": (d1, d15, None), "ai-2": (d1, d8, d8), "ic-1": (d1, d8, d8)}
    pipe.process(crawl(day1 + timedelta(days=21)))  # back again: open
    assert {v[2] for v in lives().values()} == {None}
    assert store.totals().duplicate_postings == 1
