"""The ingest pipeline every source feeds: normalise → persist raw → extract → index.

Crawlers (the Scrapy item pipeline), file importers and ``POST /v1/postings`` all hand
:class:`~skillsignal.core.models.Posting` objects to :class:`IngestPipeline`. The raw posting is
stored before extraction runs, so an extraction failure never loses it (``skillsignal
reprocess`` re-runs extraction later). Upserts are by posting id and a posting whose content
fingerprint and taxonomy version are unchanged is not extracted again, so re-running any job
neither double-counts nor redoes work; such a posting's seen dates still move (``mark_seen``, a
write of two dates), so a re-crawl keeps it open. After a complete crawl of a source the crawler
calls :meth:`IngestPipeline.close_unseen`, which closes the source's postings it no longer found.

With an :class:`ExtractionQueue` (``Settings.redis_url`` set: ``skillsignal.workers``) the pipeline
stores the raw postings and queues their ids instead of extracting them; ``skillsignal worker``
processes extract them and the counts update as their extractions land.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from nlp.fields import normalise_posting
from storage import PostingIndex, open_store
from storage.base import incoming_seen

from .core import metrics
from .core.config import Settings, get_settings
from .core.ingest import IngestStats
from .core.models import Extraction, Posting
from .dedup import Deduper

if TYPE_CHECKING:
    from nlp.extractor import Extractor
    from nlp.parallel import ParallelExtractor

#: (posting, its extraction or None, the error or None), as the store saves them
ExtractionResult = tuple[Posting, Extraction | None, str | None]

log = logging.getLogger(__name__)


class ExtractionQueue(Protocol):
    """Where the pipeline hands the postings it stored raw (their ids and fingerprints), for
    workers to extract."""

    @property
    def taxonomy_version(self) -> str:
        """The taxonomy version the workers extract with (a stored posting extracted with it is done)."""
        ...

    def enqueue(self, postings: Sequence[Posting]) -> int:
        """Queue extraction of these stored postings; returns how many were queued."""
        ...


def batched(items: Iterable[Posting], size: int) -> Iterator[list[Posting]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class IngestPipeline:
    """Normalises, stores and extracts postings in batches; safe to call repeatedly.

    The application's :class:`~skillsignal.core.ingest.PostingSink`: the crawler's item pipeline
    (through :func:`crawl_sink`) and ``POST /v1/postings`` (through ``api.app.create_app``'s
    ``ingest_factory``) hand it their postings."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: PostingIndex | None = None,
        extractor: Extractor | None = None,
        extract: bool = True,
        batch_size: int = 200,
        dedup: bool = True,
        workers: int = 1,
        queue: ExtractionQueue | None = None,
    ):
        self.settings = settings or get_settings()
        self.store = store or open_store(self.settings)
        self._extractor: Extractor | ParallelExtractor | None = extractor
        self._owns_extractor = extractor is None
        self.extract = extract
        self.batch_size = batch_size
        self.totals = IngestStats()
        self.dedup = dedup
        self._deduper: Deduper | None = None
        #: extraction worker processes (nlp.parallel), decided before the extractor is built
        self.workers = workers
        #: when set, extraction is queued to workers (``skillsignal.workers``) instead of run here
        self.queue = queue

    @property
    def extractor(self) -> Extractor | ParallelExtractor:
        if self._extractor is None:
            # lazy: spaCy and torch (~3 s of imports) load only when a pipeline extracts; a crawl
            # or an ingest with extraction off never needs them
            from nlp.extractor import Extractor
            from nlp.parallel import ParallelExtractor

            if self.workers > 1:
                self._extractor = ParallelExtractor.from_settings(self.settings, self.workers)
            else:
                self._extractor = Extractor.from_settings(self.settings)
        return self._extractor

    def process(self, postings: Iterable[Posting], progress: Callable[[int], None] | None = None) -> IngestStats:
        """Store and extract ``postings``; ``progress(n)`` is told of each batch of n done."""
        stats = IngestStats()
        started = time.perf_counter()
        for batch in batched(postings, self.batch_size):
            stats.merge(self._process_batch(batch))
            if progress is not None:
                progress(len(batch))
        stats.seconds = time.perf_counter() - started
        self.totals.merge(stats)
        return stats

    def _process_batch(self, batch: list[Posting]) -> IngestStats:
        stats = IngestStats(received=len(batch))
        # The last of several postings with one id wins, as a later upsert would.
        by_id = {p.id: p for p in batch}
        normalised: list[Posting] = []
        for posting in by_id.values():
            try:
                normalised.append(normalise_posting(posting))
            except Exception as exc:  # a bad value must not lose the posting
                log.warning("posting %s: normalisation failed (%s); stored as given", posting.id, exc)
                normalised.append(posting)

        taxonomy_version = self._taxonomy_version() if self.extract else None
        known = self.store.fingerprints([p.id for p in normalised])
        changed: list[Posting] = []
        unchanged: list[Posting] = []
        for posting in normalised:
            before = known.get(posting.id)
            if before and before[0] == posting.fingerprint and (not self.extract or before[1] == taxonomy_version):
                unchanged.append(posting)
            else:
                changed.append(posting.model_copy(update={"extraction": None, "extraction_error": None}))
        stats.unchanged = len(unchanged)
        stats.stored = self.store.index_postings(changed)
        self._touch(unchanged)
        self._mark_duplicates(normalised)
        if self.extract and changed and self.queue is not None:
            stats.queued = self.queue.enqueue(changed)
        elif self.extract and changed:
            results = self.extract_postings(changed)
            self.store.save_extractions(results)
            stats.extracted = sum(1 for _, ext, _ in results if ext is not None)
            stats.extraction_errors = sum(1 for _, ext, _ in results if ext is None)
        metrics.record_ingest(stats)
        return stats

    def _taxonomy_version(self) -> str:
        """What a stored extraction must carry to count as current (the queue knows it without
        loading the extractor)."""
        return self.queue.taxonomy_version if self.queue is not None else self.extractor.taxonomy_version

    def _touch(self, unchanged: list[Posting]) -> None:
        """Move the seen dates of postings stored unchanged (no re-index, no re-extraction)."""
        if not unchanged:
            return
        seen = [incoming_seen(p) for p in unchanged]
        self.store.mark_seen({p.id: s.last_seen for p, s in zip(unchanged, seen, strict=True)})
        earlier = {p.id: s.first_seen for p, s in zip(unchanged, seen, strict=True) if s.first_seen < s.last_seen}
        if earlier:  # a posting that brings an earlier first sighting (a copy from another store)
            self.store.mark_seen(earlier)

    def mark_seen(self, seen: Mapping[str, date]) -> dict[str, str]:
        """Postings a crawl found again without reading them (HTTP 304): their seen dates move."""
        return self.store.mark_seen(seen)

    def close_unseen(self, source: str, crawl_started: date) -> int:
        """After a complete crawl of ``source``: close its postings that crawl did not find."""
        closed = self.store.close_unseen(source, crawl_started)
        log.info("complete crawl of %s from %s: %d postings no longer listed closed", source, crawl_started, closed)
        return closed

    def extract_postings(self, postings: list[Posting]) -> list[ExtractionResult]:
        """(posting, extraction or None, error or None) for each posting."""
        from nlp.extractor import ExtractionError  # lazy: loaded with the extractor (see extractor)

        out: list[ExtractionResult] = []
        for posting, result in zip(postings, self.extractor.extract_many(postings), strict=True):
            if isinstance(result, ExtractionError):
                log.warning("posting %s: extraction failed: %s", posting.id, result)
                out.append((posting, None, str(result)))
            else:
                out.append((posting, result, None))
        return out

    def reprocess(self, only_unextracted: bool = False, progress: Callable[[int], None] | None = None) -> IngestStats:
        """Re-run extraction over stored postings (after a taxonomy or extractor change);
        ``progress(n)`` is told of each batch of n done."""
        stats = IngestStats()
        started = time.perf_counter()
        for batch in batched(self.store.iter_postings(only_unextracted=only_unextracted), self.batch_size):
            results = self.extract_postings(batch)
            self.store.save_extractions(results)
            stats.received += len(batch)
            stats.extracted += sum(1 for _, ext, _ in results if ext is not None)
            stats.extraction_errors += sum(1 for _, ext, _ in results if ext is None)
            metrics.record_extractions(
                sum(1 for _, ext, _ in results if ext is not None), sum(1 for _, ext, _ in results if ext is None)
            )
            log.info("reprocessed %d postings", stats.received)
            if progress is not None:
                progress(len(batch))
        stats.seconds = time.perf_counter() - started
        return stats

    # -- near-duplicate marks (skillsignal.dedup) ------------------------------------------
    def _mark_duplicates(self, postings: list[Posting]) -> None:
        """Check the batch against every stored posting; known unchanged ones cost a lookup."""
        if not self.dedup:
            return
        if self._deduper is None:
            self._deduper = Deduper.for_store(self.store, self.settings)
        self._deduper.update(postings)

    def store_failed(self, postings: Sequence[Posting], error: str) -> int:
        """Store ``postings`` raw with ``error`` recorded; ``skillsignal reprocess`` reruns them."""
        return self.store.save_extractions([(p, None, error) for p in postings])

    def close(self) -> None:
        close_queue = getattr(self.queue, "close", None)
        if callable(close_queue):
            close_queue()
        close = getattr(self._extractor, "close", None)
        if self._owns_extractor and callable(close):  # its worker processes
            close()
        if self._deduper is not None:
            self._deduper.close()
        self.store.close()


def crawl_sink(
    settings: Settings, *, extract: bool, batch_size: int, extractor_factory: str | None = None
) -> IngestPipeline:
    """The sink a crawl hands its postings to (``Settings.crawl_sink`` names this function).

    ``extractor_factory`` ("module:callable" taking the settings) replaces the default
    extractor, for tests and custom extractors. With ``Settings.redis_url`` (and no such factory)
    the postings are stored raw and their extraction queued to ``skillsignal worker``."""
    extractor = None
    if extractor_factory and extract:
        module, _, name = extractor_factory.partition(":")
        extractor = getattr(importlib.import_module(module), name)(settings)
    queue = None
    if extract and extractor is None and settings.redis_url:
        # lazy: skillsignal.workers builds on this module, and Celery loads only when Redis is configured
        from .workers import extraction_queue

        queue = extraction_queue(settings)
    return IngestPipeline(settings, extractor=extractor, extract=extract, batch_size=batch_size, queue=queue)
