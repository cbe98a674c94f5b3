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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nlp.extractor import Extractor, ExtractionError
    from skillsignal.core.config import Settings
    from skillsignal.core.models import Extraction, Posting

log = logging.getLogger(__name__)

#: Postings per task sent to a worker.
CHUNK = 16

_WORKER_EXTRACTOR: Any = None  # set in each worker process only (never in the parent)


def _init_worker(extractor: "Extractor") -> None:
    global _WORKER_EXTRACTOR
    _WORKER_EXTRACTOR = extractor  # inherited through fork, not pickled


def _extract_chunk(postings: list) -> list:
    return _WORKER_EXTRACTOR.extract_many(postings)


class ParallelExtractor:
    def __init__(self, extractor: "Extractor", workers: int) -> None:
        self.extractor = extractor
        self.workers = max(1, int(workers))
        self._pool = None
        if self.workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
            log.warning("worker processes need the fork start method; extracting in one process")
            self.workers = 1
        if self.workers > 1:
            self._pool = multiprocessing.get_context("fork").Pool(
                self.workers, initializer=_init_worker, initargs=(extractor,)
            )

    @classmethod
    def from_settings(
        cls, settings: "Settings", workers: int, use_embeddings: bool | None = None
    ) -> "ParallelExtractor":
        """An extractor for ``settings``; with several workers the model runs on one thread in
        each (``workers`` processes x 1 thread, not x ``embedding_threads``)."""
        from nlp.extractor import Extractor

        if workers > 1:
            settings = settings.model_copy(update={"embedding_threads": 1})
        return cls(Extractor.from_settings(settings, use_embeddings=use_embeddings), workers)

    def __getattr__(self, name: str):  # taxonomy_version, uses_embeddings, embedder, ...
        return getattr(self.extractor, name)

    def extract_many(self, postings: Sequence["Posting"]) -> list["Extraction | ExtractionError"]:
        if self._pool is None or len(postings) <= CHUNK:
            return self.extractor.extract_many(postings)
        chunks = [list(postings[i : i + CHUNK]) for i in range(0, len(postings), CHUNK)]
        out: list = []
        for part in self._pool.imap(_extract_chunk, chunks):
            out.extend(part)
        return out

    def extract(self, posting: "Posting") -> "Extraction":
        return self.extractor.extract(posting)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> "ParallelExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
