"""Extraction as workers: ingest stores raw postings and queues (id, fingerprint) pairs on Celery (Redis broker);
``skillsignal worker`` processes extract them and save the extractions, so counts update as they land.

Delivery is Celery's: a task is acknowledged only after its extractions are saved (``acks_late``), a
worker process that dies mid-task has its task requeued at once (``task_reject_on_worker_lost``), and
a task whose whole worker (or machine) went away is delivered again by the Redis transport once
``Settings.worker_visibility_timeout`` has passed. A task delivered twice never counts twice: a
posting whose stored fingerprint already carries the workers' taxonomy version is skipped, and saving
an extraction replaces the posting's row (an upsert by id), never adds to it. A task names each
posting's fingerprint: a posting stored since with other content is left to the task its new
version queued (checked again just before the save).

Beside the Celery queue (a Redis list named ``Settings.worker_queue``) the module keeps, for
metrics only, a sorted set of the postings queued and not yet extracted (id -> time queued):
:func:`queue_status` reads the queue depth and the extraction lag from it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from celery import Celery
from pydantic import BaseModel, Field

from nlp.extractor import Extractor
from skill_taxonomy import default_taxonomy
from storage import PostingIndex, open_store

from .core.config import Settings
from .core.metrics import QueueStats, set_queue_stats_provider
from .core.models import Posting
from .pipeline import IngestPipeline

log = logging.getLogger(__name__)

#: the name of the extraction task (producers send it by name; only workers register it)
EXTRACT_TASK = "skillsignal.extract"
#: Redis sorted set of postings queued and not yet extracted: id -> time queued (metrics only)
PENDING_KEY = "skillsignal:extract:pending"
#: Redis hash of what the workers did: extracted, errors, skipped (already current), stale
TOTALS_KEY = "skillsignal:extract:totals"


def _need_redis(settings: Settings) -> str:
    if not settings.redis_url:
        raise ValueError("extraction workers need Redis: set SKILLSIGNAL_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    return settings.redis_url


def celery_app(settings: Settings) -> Celery:
    """The Celery app on ``settings.redis_url``: late acknowledgement, a dead worker's task requeued,
    one task prefetched per process, results not kept (the store is the result)."""
    visibility = settings.worker_visibility_timeout
    app = Celery("skillsignal", broker=_need_redis(settings), set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_default_queue=settings.worker_queue,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility,
            # look for tasks past their visibility timeout often enough to redeliver them soon after
            # (kombu's defaults look every 10th of 10 s ticks, i.e. every ~100 s)
            "unacked_restore_interval": max(0.5, min(visibility / 2, 10.0)),
            "unacked_restore_throttle": 1,
        },
    )
    app.task(name=EXTRACT_TASK, bind=True)(_extract_task)
    return app


class WorkerTotals(BaseModel):
    """What one extraction task did with its postings."""

    extracted: int = 0
    errors: int = Field(default=0, description="Extractions that failed (the error is stored on the posting).")
    skipped: int = Field(default=0, description="Already extracted with this taxonomy version (a redelivery).")
    missing: int = Field(default=0, description="Ids no longer stored.")
    stale: int = Field(default=0, description="Stored since with other content; the newer version's task does it.")


class QueueStatus(BaseModel):
    """The extraction queue as metrics read it."""

    depth: int = Field(description="Tasks waiting in the Celery queue (not yet taken by a worker).")
    pending_postings: int = Field(description="Postings queued and not yet extracted.")
    lag_seconds: float = Field(
        description="Age of the oldest posting queued and not yet extracted (0 when none waits)."
    )


def queue_status(settings: Settings, client: redis.Redis | None = None, now: float | None = None) -> QueueStatus:
    """Queue depth (LLEN of the Celery queue, every priority list included) and extraction lag (age
    of the oldest queued, unextracted posting), for ``/metrics``. Cheap: one Redis round trip."""
    own = client is None
    client = client or redis.Redis.from_url(_need_redis(settings))
    try:
        # kombu keeps priorities 1..9 in lists named "<queue>\x06\x16<n>" beside "<queue>" itself
        names = [settings.worker_queue] + [f"{settings.worker_queue}\x06\x16{n}" for n in (3, 6, 9)]
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
        pipe.zcard(PENDING_KEY)
        pipe.zrange(PENDING_KEY, 0, 0, withscores=True)
        *lengths, pending, oldest = pipe.execute()
    finally:
        if own:
            client.close()
    now = time.time() if now is None else now
    lag = max(0.0, now - float(oldest[0][1])) if oldest else 0.0
    return QueueStatus(depth=sum(int(n) for n in lengths), pending_postings=int(pending), lag_seconds=lag)


def register_queue_metrics(settings: Settings) -> None:
    """Make ``/metrics`` report this Redis queue: postings queued and not yet extracted, and the age of
    the oldest; without ``Settings.redis_url`` it unregisters (``/metrics`` then counts the store's
    unextracted postings)."""
    if not settings.redis_url:
        set_queue_stats_provider(None)
        return
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)

    def provider() -> QueueStats:
        status = queue_status(settings, client)
        return QueueStats(depth=status.pending_postings, lag_seconds=status.lag_seconds)

    set_queue_stats_provider(provider)


class CeleryQueue:
    """The :class:`~skillsignal.pipeline.ExtractionQueue` on Celery: (id, fingerprint) pairs in tasks
    of ``Settings.worker_batch_size``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.app = celery_app(settings)
        self._client: redis.Redis | None = None
        self._taxonomy_version: str | None = None

    @property
    def taxonomy_version(self) -> str:
        if self._taxonomy_version is None:
            self._taxonomy_version = default_taxonomy(self.settings.taxonomy_overlay).version
        return self._taxonomy_version

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(_need_redis(self.settings))
        return self._client

    def enqueue(self, postings: Sequence[Posting]) -> int:
        items = list({p.id: [p.id, p.fingerprint] for p in postings}.values())
        if not items:
            return 0
        now = time.time()
        # the first queueing is the lag's start
        self.client.zadd(PENDING_KEY, {pid: now for pid, _ in items}, nx=True)
        self.send(items)
        return len(items)

    def send(self, items: Sequence[Sequence[str]]) -> None:
        """Put (id, fingerprint) pairs on the queue in tasks of ``Settings.worker_batch_size``."""
        size = self.settings.worker_batch_size
        with self.app.producer_or_acquire() as producer:
            for i in range(0, len(items), size):
                self.app.send_task(EXTRACT_TASK, args=[[list(x) for x in items[i : i + size]]], producer=producer)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.app.close()


def extraction_queue(settings: Settings) -> CeleryQueue | None:
    """The queue ingest hands postings to when Redis is configured; None: extract in-process."""
    return CeleryQueue(settings) if settings.redis_url else None


# -- the worker side -------------------------------------------------------------------------------


@dataclass
class _WorkerState:
    """What a worker process extracts with: the extractor (loaded once in the parent, shared by the
    forked pool processes) and the store (opened in each process: connections never cross a fork)."""

    settings: Settings
    extractor: Extractor
    store: PostingIndex | None = None
    pid: int = 0
    client: redis.Redis | None = None

    def pipeline(self) -> tuple[IngestPipeline, redis.Redis]:
        if self.store is None or self.pid != os.getpid():
            self.store = open_store(self.settings)
            self.client = redis.Redis.from_url(_need_redis(self.settings))
            self.pid = os.getpid()
        assert self.client is not None
        pipeline = IngestPipeline(self.settings, store=self.store, extractor=self.extractor, dedup=False)
        return pipeline, self.client


_state: _WorkerState | None = None


def prepare_worker(settings: Settings, extractor: Extractor | None = None) -> Celery:
    """The Celery app of ``skillsignal worker``, its extractor loaded before the pool forks."""
    global _state
    if extractor is None:
        # the pool processes are forked from this one: the model runs on one thread in each (threads
        # the parent started do not survive a fork), as nlp.parallel's workers do
        extractor = Extractor.from_settings(settings.model_copy(update={"embedding_threads": 1}))
    _state = _WorkerState(settings, extractor)
    return celery_app(settings)


def extract_batch(items: Sequence[Sequence[str]]) -> WorkerTotals:
    """Extract and save the stored postings of ``items`` ((id, fingerprint) pairs) that are not yet
    extracted with the worker's taxonomy version; safe to run again with the same items (what the
    task runs)."""
    if _state is None:
        raise RuntimeError("extract_batch runs in a worker: call prepare_worker first")
    pipeline, client = _state.pipeline()
    store, version = pipeline.store, _state.extractor.taxonomy_version
    totals = WorkerTotals()
    wanted = {pid: fingerprint for pid, fingerprint in items}
    known = store.fingerprints(list(wanted))
    todo: list[Posting] = []
    stale: set[str] = set()  # still pending: the task of their newer version settles them
    for pid, fingerprint in wanted.items():
        if pid not in known:
            totals.missing += 1
        elif known[pid][0] != fingerprint:
            stale.add(pid)
        elif known[pid][1] == version:
            totals.skipped += 1
        elif (posting := store.get_posting(pid)) is None:
            totals.missing += 1
        else:
            todo.append(posting)
    if todo:
        log.info("extracting %d postings", len(todo))
        results = pipeline.extract_postings(todo)
        # saved only where the stored content is still the one extracted (checked in the save's own
        # transaction); a posting re-ingested with other content meanwhile is left to the task its
        # new version queued
        store.save_extractions(results, expected={r[0].id: wanted[r[0].id] for r in results})
        now = store.fingerprints([p.id for p in todo])
        fresh = [r for r in results if now.get(r[0].id, ("", None))[0] == wanted[r[0].id]]
        stale |= {r[0].id for r in results} - {r[0].id for r in fresh}
        totals.extracted = sum(1 for _, ext, _ in fresh if ext is not None)
        totals.errors = sum(1 for _, ext, _ in fresh if ext is None)
    totals.stale = len(stale)
    pipe = client.pipeline(transaction=False)
    settled = [pid for pid in wanted if pid not in stale]
    if settled:
        pipe.zrem(PENDING_KEY, *settled)
    for name, value in totals.model_dump().items():
        if value:
            pipe.hincrby(TOTALS_KEY, name, value)
    pipe.execute()
    log.info(
        "extracted %d postings (%d skipped as current, %d errors)", totals.extracted, totals.skipped, totals.errors
    )
    return totals


def _extract_task(task: Any, items: list[list[str]]) -> dict[str, int]:
    """The Celery task: acknowledged (acks_late) only once the extractions are saved."""
    return extract_batch(items).model_dump()


def worker_totals(settings: Settings) -> WorkerTotals:
    """What every worker did so far (summed in Redis over tasks, redeliveries included)."""
    client = redis.Redis.from_url(_need_redis(settings))
    try:
        raw = client.hgetall(TOTALS_KEY)
    finally:
        client.close()
    return WorkerTotals(**{(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()})


def run_worker(settings: Settings, concurrency: int, loglevel: str = "INFO") -> None:
    """Run a Celery worker of ``concurrency`` processes on the extraction queue until stopped."""
    app = prepare_worker(settings)
    worker = app.Worker(
        concurrency=concurrency,
        pool="prefork",
        queues=[settings.worker_queue],
        loglevel=loglevel,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
    )
    worker.start()
    raise SystemExit(worker.exitcode)
