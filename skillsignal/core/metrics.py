"""The process-wide metrics every layer may count (Prometheus, ``prometheus_client``), and the hook
that tells the ``/metrics`` endpoint the extraction queue's depth and lag.

They live at the floor of the layers so that the crawler, the ingest pipeline and the extraction
workers count what they do without importing the API; ``api.metrics`` serves them (with the HTTP
metrics it owns) at ``/metrics``. Counters are per process: a crawler or worker in its own process
counts into its own registry (serve it with ``prometheus_client.start_http_server`` or read the
store-wide gauges of the API's ``/metrics``, which come from the store and so cover every process).

Names follow the Prometheus conventions (``_total`` for counters, base units).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from prometheus_client import Counter
from pydantic import BaseModel, Field

from .ingest import IngestStats

log = logging.getLogger(__name__)

POSTINGS_CRAWLED = Counter(
    "skillsignal_postings_crawled",
    "Postings a crawl read from a page (before storing), by source.",
    ["source"],
)
POSTINGS_STORED = Counter(
    "skillsignal_postings_stored",
    "Postings written to the store by ingest (new or changed; unchanged ones are not rewritten).",
)
POSTINGS_UNCHANGED = Counter(
    "skillsignal_postings_unchanged",
    "Postings ingest received again with the same content (only their seen dates move).",
)
POSTINGS_EXTRACTED = Counter(
    "skillsignal_postings_extracted",
    "Postings extraction finished, by outcome (ok, error).",
    ["outcome"],
)
CRAWL_ERRORS = Counter(
    "skillsignal_crawl_errors",
    "Crawl failures by kind: http_<status> (an error answer), the download exception's class name "
    "(TimeoutError, DNSLookupError, ConnectionRefusedError...), spider_<exception> (a page the spider "
    "could not parse), invalid_posting (a record that failed validation), ingest (a batch the sink refused).",
    ["kind"],
)


def record_ingest(stats: IngestStats) -> None:
    """Count what one ingest call did (the pipeline calls it once per batch)."""
    POSTINGS_STORED.inc(stats.stored)
    POSTINGS_UNCHANGED.inc(stats.unchanged)
    record_extractions(stats.extracted, stats.extraction_errors)


def record_extractions(ok: int, errors: int = 0) -> None:
    """Count finished extractions (the ingest pipeline, ``reprocess`` and the extraction workers)."""
    if ok:
        POSTINGS_EXTRACTED.labels(outcome="ok").inc(ok)
    if errors:
        POSTINGS_EXTRACTED.labels(outcome="error").inc(errors)


class QueueStats(BaseModel):
    """The extraction queue as its owner sees it: postings waiting, and how long the oldest has
    waited (None when the queue cannot tell)."""

    depth: int = Field(ge=0)
    lag_seconds: float | None = Field(default=None, ge=0)


QueueStatsProvider = Callable[[], QueueStats | None]


class _Slot:
    def __init__(self) -> None:
        self.provider: QueueStatsProvider | None = None
        self.lock = threading.Lock()


_slot = _Slot()


def set_queue_stats_provider(provider: QueueStatsProvider | None) -> None:
    """Register the callable that reports the extraction queue (the application does, when it runs
    extraction through a task queue); None unregisters it. Without one, ``/metrics`` reports the
    store's count of postings not extracted yet and no lag."""
    with _slot.lock:
        _slot.provider = provider


def queue_stats() -> QueueStats | None:
    """The registered provider's answer; None without a provider or when it fails (logged)."""
    with _slot.lock:
        provider = _slot.provider
    if provider is None:
        return None
    try:
        return provider()
    except Exception as exc:  # a broker that is down must not break the scrape
        log.warning("queue stats provider failed: %s", exc)
        return None
