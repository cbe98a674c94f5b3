"""Extraction on Celery workers, with real parts: Redis, `skillsignal worker` subprocesses, a SQLite
file. Postings ingested while workers run are each counted once, exactly as in-process extraction
counts them; a worker killed mid-task has its postings delivered again; a task delivered twice
changes nothing; without Redis everything still runs in one process."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from nlp.extractor import Extractor
from skillsignal.core.config import Settings
from skillsignal.core.models import Posting
from skillsignal.pipeline import IngestPipeline, crawl_sink
from skillsignal.server import build_app
from skillsignal.workers import CeleryQueue, extraction_queue, queue_status, worker_totals
from storage import PostingIndex, SQLiteStore

from .conftest import demo_postings, started_tasks, unacked, wait_for


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor.from_settings(Settings(redis_url=None), use_embeddings=False)


def counts(store: PostingIndex) -> dict[str, object]:
    """Everything the store counts that extraction feeds."""
    stats = {k: v for k, v in store.stats().items() if k != "path"}
    return {
        "stats": stats,
        "totals": store.totals().model_dump(),
        "occupations": store.count_by("occupations", limit=500),
        "levels": store.count_by("levels", limit=500),
        "skills": store.count_by("skills", limit=1000),
        "competencies": store.count_by("competencies", limit=1000),
    }


def in_process_counts(tmp_path, extractor: Extractor, batches: Sequence[list[Posting]]) -> dict[str, object]:
    """The counts of the same postings extracted in one process (the path without Redis)."""
    settings = Settings(data_dir=tmp_path / "baseline", redis_url=None, use_embeddings=False)
    settings.ensure_dirs()
    store = SQLiteStore(tmp_path / "baseline.sqlite3")
    pipeline = IngestPipeline(settings, store=store, extractor=extractor)
    for batch in batches:
        pipeline.process(batch)
    try:
        return counts(store)
    finally:
        pipeline.close()


def post(client: TestClient, settings: Settings, postings: list[Posting]):
    return client.post(
        "/v1/postings",
        json=[p.model_dump(mode="json") for p in postings],
        headers={"X-API-Key": settings.api_key},
    )


def test_postings_ingested_while_workers_run_are_counted_exactly_once(
    tmp_path, worker_settings, start_worker, extractor
):
    # a visibility timeout no task reaches: the only second delivery is the one this test sends
    worker = start_worker(concurrency=2, SKILLSIGNAL_WORKER_VISIBILITY_TIMEOUT="600")
    postings = demo_postings(40)
    first, second = postings[:25], postings[25:]
    store = SQLiteStore(worker_settings.db_path)
    with TestClient(build_app(worker_settings, store)) as client:
        for batch in (first, second):
            answer = post(client, worker_settings, batch)
            assert answer.status_code == 202, answer.text
            assert answer.json()["queued"] == len(batch)
            assert answer.json()["stored"] == len(batch)
            assert answer.json()["extracted"] == 0  # not in the API process
    wait_for(lambda: store.stats()["extracted"] == 40, 90, "40 extracted postings", [worker.log])
    expected = in_process_counts(tmp_path, extractor, [first, second])
    assert counts(store) == expected
    done = worker_totals(worker_settings)
    assert (done.extracted, done.skipped, done.errors) == (40, 0, 0)
    status = queue_status(worker_settings)
    assert (status.depth, status.pending_postings, status.lag_seconds) == (0, 0, 0.0)

    # the same tasks delivered again (a redelivery after a lost acknowledgement): nothing changes
    queue = CeleryQueue(worker_settings)
    queue.send([(p.id, p.fingerprint) for p in postings])
    queue.close()
    wait_for(lambda: worker_totals(worker_settings).skipped == 40, 60, "the redelivery skipped", [worker.log])
    assert worker_totals(worker_settings).extracted == 40
    assert counts(store) == expected
    store.close()


def test_a_killed_worker_s_postings_are_delivered_again_and_counted_once(
    tmp_path, worker_settings, start_worker, extractor, redis_url
):
    postings = demo_postings(80)
    first, second = postings[:40], postings[40:]
    # one task of 40 postings: a worker takes it, extracts for a second or more, then saves
    one_task = CeleryQueue(worker_settings.model_copy(update={"worker_batch_size": 40}))
    pipeline = IngestPipeline(worker_settings, queue=one_task)
    assert pipeline.process(first).queued == 40
    store = pipeline.store

    # a pool process SIGKILLed mid-task on a live worker: its task is requeued at once (the visibility
    # timeout of this worker is far away: only task_reject_on_worker_lost brings the task back)
    worker = start_worker(concurrency=1, SKILLSIGNAL_WORKER_VISIBILITY_TIMEOUT="600")
    wait_for(lambda: started_tasks(worker) == 1, 90, "the worker to start the task", [worker.log])
    assert unacked(redis_url) == 1
    children = worker.children()
    assert len(children) == 1
    os.kill(children[0], signal.SIGKILL)
    assert store.stats()["extracted"] == 0, "killed after saving: not mid-task"
    wait_for(lambda: store.stats()["extracted"] == 40, 60, "the task requeued", [worker.log])
    assert worker.process.poll() is None

    # the whole worker SIGKILLed mid-task (its machine gone): another worker gets the task again once
    # its visibility timeout (2 s) has passed
    assert pipeline.process(second).queued == 40
    wait_for(lambda: started_tasks(worker) == 3, 60, "the second task started", [worker.log])
    assert unacked(redis_url) == 1
    worker.kill()
    assert store.stats()["extracted"] == 40, "killed after saving: not mid-task"
    survivor = start_worker(concurrency=1)
    wait_for(lambda: store.stats()["extracted"] == 80, 60, "the task redelivered", [survivor.log])

    assert counts(store) == in_process_counts(tmp_path, extractor, [first, second])
    assert worker_totals(worker_settings).extracted == 80
    assert queue_status(worker_settings).pending_postings == 0
    pipeline.close()


def test_without_workers_postings_wait_in_the_queue_with_their_lag(worker_settings):
    postings = demo_postings(15)
    store = SQLiteStore(worker_settings.db_path)
    with TestClient(build_app(worker_settings, store)) as client:
        before = time.time()
        assert post(client, worker_settings, postings).status_code == 202
        after = time.time()
        time.sleep(0.2)
        again = post(client, worker_settings, postings)  # not yet extracted: queued again
        assert again.status_code == 202 and again.json()["queued"] == 15
        scraped = {
            s.name: s.value
            for family in text_string_to_metric_families(client.get("/metrics").text)
            for s in family.samples
        }
        # /metrics reads the Redis queue: the postings waiting, and the oldest's age
        assert scraped["skillsignal_extraction_queue_depth"] == 15
        assert 0.2 <= scraped["skillsignal_extraction_lag_seconds"] <= time.time() - before
    stats = store.stats()
    assert (stats["postings"], stats["extracted"]) == (15, 0)
    assert store.totals().total_postings == 15  # stored raw: counted in the totals at once
    status = queue_status(worker_settings, now=after + 10)
    assert status.depth == 4  # two ingests of 15 ids in tasks of 10
    assert status.pending_postings == 15
    assert 10 <= status.lag_seconds <= 10 + (after - before)  # since they were first queued
    store.close()


def test_without_redis_extraction_runs_in_process(tmp_path, extractor):
    settings = Settings(data_dir=tmp_path / "data", redis_url=None, use_embeddings=False)
    settings.ensure_dirs()
    assert extraction_queue(settings) is None
    sink = crawl_sink(settings, extract=True, batch_size=50)
    assert sink.queue is None
    sink.close()
    store = SQLiteStore(settings.db_path)
    pipeline = IngestPipeline(settings, store=store, extractor=extractor, queue=extraction_queue(settings))
    stats = pipeline.process(demo_postings(10))
    assert (stats.extracted, stats.queued) == (10, 0)
    assert store.stats()["extracted"] == 10
    pipeline.close()


def test_worker_command_needs_redis(monkeypatch, tmp_path):
    from skillsignal.cli import app
    from skillsignal.core.config import get_settings

    monkeypatch.delenv("SKILLSIGNAL_REDIS_URL", raising=False)
    monkeypatch.setenv("SKILLSIGNAL_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["worker"])
    get_settings.cache_clear()
    assert result.exit_code == 2
    assert "SKILLSIGNAL_REDIS_URL" in result.output
