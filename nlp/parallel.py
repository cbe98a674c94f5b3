"""Extraction on several worker processes, for bulk work (``extract``, ``ingest``, ``reprocess``).

    with ParallelExtractor.from_settings(settings, workers=2) as px:
        results = px.extract_many(postings)        # same results, same order as Extractor's

The extractor is built once in the parent (taxonomy, spaCy/jieba, model, taxonomy vectors)
and the workers are forked from it, so they start at once and share its read-only memory
(the model weights above all). Each worker runs the whole pipeline on one core — the model on
one thread — which uses two cores better than one process whose model runs on two threads:
the Python steps (sections, skills, new terms) then run in parallel too. A posting's
extraction does not depend on the postings it is grouped with (the default embedder is
batch-independent), so splitting the work cannot change results.

Only the ``fork`` start method shares the loaded extractor; where it is missing (not Linux)
``workers`` falls back to 1.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nlp.extractor import ExtractionError, Extractor

if TYPE_CHECKING:
    from skillsignal.core.config import Settings
    from skillsignal.core.models import Extraction, Posting

log = logging.getLogger(__name__)

#: Most postings per task sent to a worker. A task's texts are embedded in one call, where texts
#: of the same token count run through the model together, so a larger task costs less CPU a
#: posting: 2,000 dev postings on 2 workers ran 103 postings/s at 16 a task, 126/s at 64, 145/s
#: at 128 and 149/s at 256 (the same extractions). A call's postings are dealt in equal tasks, one
#: per worker, up to this size.
MAX_TASK = 128
#: Calls of at most this many postings are extracted in the parent (a task's hand-over costs more).
MIN_PARALLEL = 16
#: Most workers ``extract_workers = 0`` (auto) starts (each holds ~0.35 GB of its own).
MAX_AUTO_WORKERS = 4


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def worker_count(settings: Settings, postings: int | None) -> int:
    """Worker processes for a bulk run over ``postings`` postings (None: unknown, one process):
    ``settings.extract_workers`` when set, else (0, auto) one per usable core, at most
    :data:`MAX_AUTO_WORKERS`, for an input of at least ``extract_parallel_min_postings``."""
    if settings.extract_workers:
        return settings.extract_workers
    if postings is None or postings < settings.extract_parallel_min_postings:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(usable_cores(), MAX_AUTO_WORKERS))


def task_size(postings: int, workers: int) -> int:
    """Postings per task for one call over ``postings``: an equal share per worker, at most
    :data:`MAX_TASK` (256 postings on 2 workers: two tasks of 128; 200: two of 100)."""
    return max(1, min(MAX_TASK, -(-postings // max(1, workers))))


_WORKER_EXTRACTOR: Any = None  # set in each worker process only (never in the parent)


def _init_worker(extractor: Extractor) -> None:
    global _WORKER_EXTRACTOR
    _WORKER_EXTRACTOR = extractor  # inherited through fork, not pickled


_COUNTERS = ("hits", "disk_hits", "encoded", "model_calls")


def _embedder_counters(extractor) -> dict[str, int]:
    emb = getattr(extractor, "embedder", None)
    info = emb.cache_info() if emb is not None else {}
    return {k: int(info.get(k, 0)) for k in _COUNTERS}


def _extract_chunk(postings: list) -> tuple[list, dict[str, int]]:
    """A chunk's results and what the worker's embedder did for it (cache hits, texts run)."""
    before = _embedder_counters(_WORKER_EXTRACTOR)
    results = _WORKER_EXTRACTOR.extract_many(postings)
    after = _embedder_counters(_WORKER_EXTRACTOR)
    return results, {k: after[k] - before[k] for k in _COUNTERS}


class ParallelExtractor:
    def __init__(self, extractor: Extractor, workers: int) -> None:
        self.extractor = extractor
        self.workers = max(1, int(workers))
        self._pool = None
        #: the workers' embedder counters, summed (hits, disk_hits, encoded, model_calls)
        self.worker_counters = dict.fromkeys(_COUNTERS, 0)
        if self.workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
            log.warning("worker processes need the fork start method; extracting in one process")
            self.workers = 1
        if self.workers > 1:
            self._pool = multiprocessing.get_context("fork").Pool(
                self.workers, initializer=_init_worker, initargs=(extractor,)
            )

    @classmethod
    def from_settings(cls, settings: Settings, workers: int, use_embeddings: bool | None = None) -> ParallelExtractor:
        """An extractor for ``settings``; with several workers the model runs on one thread in
        each (``workers`` processes x 1 thread, not x ``embedding_threads``)."""
        if workers > 1:
            settings = settings.model_copy(update={"embedding_threads": 1})
        return cls(Extractor.from_settings(settings, use_embeddings=use_embeddings), workers)

    def __getattr__(self, name: str):  # taxonomy_version, uses_embeddings, embedder, ...
        return getattr(self.extractor, name)

    def extract_many(self, postings: Sequence[Posting]) -> list[Extraction | ExtractionError]:
        if self._pool is None or len(postings) <= MIN_PARALLEL:
            return self.extractor.extract_many(postings)
        size = task_size(len(postings), self.workers)
        chunks = [list(postings[i : i + size]) for i in range(0, len(postings), size)]
        out: list = []
        for part, counters in self._pool.imap(_extract_chunk, chunks):
            out.extend(part)
            for k, v in counters.items():
                self.worker_counters[k] += v
        return out

    def embedder_counters(self) -> dict[str, int]:
        """Texts served from the in-memory cache (hits), from the disk cache (disk_hits), run
        through the model (encoded) and model runs, in this process and its workers together."""
        own = _embedder_counters(self.extractor)
        return {k: own[k] + self.worker_counters[k] for k in _COUNTERS}

    def extract(self, posting: Posting) -> Extraction:
        return self.extractor.extract(posting)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> ParallelExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
