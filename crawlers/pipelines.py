"""Item pipelines: validate -> hand to the application's posting sink.

:class:`ValidatePipeline` turns each flat record into a :class:`Posting` (a record that cannot
be one is dropped with a warning naming the field). :class:`IngestItemPipeline` batches
postings and hands each batch to a :class:`~skillsignal.core.ingest.PostingSink` on one worker
thread. The sink is built by the callable ``Settings.crawl_sink`` names (the application's
ingest pipeline by default: normalise -> persist raw -> extract -> index), so the crawler never
imports the stages above it (the crawl keeps downloading meanwhile; at most two batches wait, then the spider is
held back). The raw posting is stored before extraction; if a batch fails after that, the
postings are stored again with the error recorded, so ``skillsignal reprocess`` reruns them.
Only after a batch is persisted are its pages written to the seen-store.

Postings the run finds without reading their pages (HTTP 304, or stored earlier in a resumed
generation: ``middlewares.found_unread``) go to the sink's ``mark_seen``, so they stay current.
When a spider that walks whole listings (``complete_listing``: the JobPosting spider, not the
keyword-capped board spiders) closes after a *complete* crawl (:func:`incomplete_reason` finds
nothing against it), the sink's ``close_unseen`` closes, for every source the run found postings
of, those it no longer lists. The crawl date is the UTC day the spider opened; the Scrapy setting
``SKILLSIGNAL_CRAWL_DATE`` (``YYYY-MM-DD``) sets it instead and stamps the postings' ``crawled_at``
with it (tests, back-filled crawls); ``SKILLSIGNAL_CLOSE_UNSEEN=False`` turns closing off (a job
that covers only part of a source's listings).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from skillsignal.core.config import Settings
from skillsignal.core.ingest import PostingSink
from skillsignal.core.metrics import CRAWL_ERRORS
from skillsignal.core.models import Posting
from skillsignal.core.records import RecordError, parse_posted, record_to_posting

from .distributed import durability, opening_lock
from .items import PostingItem
from .middlewares import blocked_domains, found_unread
from .seen import PageRecord, SeenStore

log = logging.getLogger(__name__)

COUNTERS = ("received", "stored", "unchanged", "extracted", "extraction_errors", "ingest_errors")


def incomplete_reason(reason: str, stats: Mapping[str, Any], blocked: Mapping[str, str], lost: int) -> str | None:
    """Why a finished spider did not see everything its sources list (None: a complete crawl).
    Only a crawl that ran to its end (not cut by a limit, a budget or a shutdown) with no page lost
    to errors, no blocked domain and every posting stored may close what it did not find."""
    if reason != "finished":
        return f"it closed with {reason!r}"
    if blocked:
        return f"blocked by {', '.join(sorted(blocked))}"
    if stats.get("retry/max_reached"):
        return f"{stats['retry/max_reached']} requests failed after every retry"
    errors = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/") and isinstance(v, int))
    if errors:
        return f"{errors} pages raised errors in the spider"
    if lost:
        return f"{lost} postings could not be stored"
    return None


def settings_from_crawler(crawler: Crawler) -> Settings:
    raw = crawler.settings.get("SKILLSIGNAL_SETTINGS")
    if isinstance(raw, str):
        raw = json.loads(raw)
    return Settings(**(raw or {}))


class ValidatePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PostingItem):
            return item
        record = dict(item["record"])
        if record.get("posted"):
            try:
                parse_posted(record["posted"])
            except RecordError as exc:
                log.warning("posting at %s: %s; kept without a date", item.get("url"), exc)
                record["posted"] = None
        try:
            item["posting"] = record_to_posting(record, default_source=record.get("source") or "crawl")
        except (RecordError, ValueError) as exc:
            self.crawler.stats.inc_value("skillsignal/invalid")
            log.warning("invalid posting at %s: %s", item.get("url"), str(exc).splitlines()[0])
            raise DropItem(f"invalid posting: {exc}") from exc
        return item


class IngestItemPipeline:
    def __init__(self, crawler: Crawler):
        s = crawler.settings
        self.crawler = crawler
        self.settings = settings_from_crawler(crawler)
        self.extract = s.getbool("SKILLSIGNAL_EXTRACT", False)
        self.batch_size = max(1, s.getint("SKILLSIGNAL_BATCH_SIZE", 100))
        self.flush_interval = s.getfloat("SKILLSIGNAL_FLUSH_SECONDS", 5.0)
        self.seen_path = s.get("SKILLSIGNAL_SEEN_PATH")
        self.generation = s.getint("SKILLSIGNAL_GENERATION", 1)
        raw_date = s.get("SKILLSIGNAL_CRAWL_DATE")
        #: the injected crawl date (postings are stamped with it), else None: today, in UTC
        self.crawl_date: date | None = date.fromisoformat(str(raw_date)) if raw_date else None
        self.crawl_started = self.crawl_date or datetime.now(UTC).date()
        self.close_unseen = s.getbool("SKILLSIGNAL_CLOSE_UNSEEN", True)
        #: sources this run found postings of (closed after a complete crawl), postings it lost
        self.sources: set[str] = set()
        self.lost = 0
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.buffer: list[PostingItem] = []
        self.pending: list[Future[None]] = []
        self.last_flush = time.monotonic()
        self._sink: PostingSink | None = None
        self._seen: SeenStore | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestItemPipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    # -- lifecycle ---------------------------------------------------------------------------
    def open_spider(self) -> None:
        self.crawl_started = self.crawl_date or datetime.now(UTC).date()
        self.executor.submit(self._open).result()
        durability(self.crawler).barrier = self.flush_all

    def _open(self) -> None:
        self.settings.ensure_dirs()
        module, _, name = self.settings.crawl_sink.partition(":")
        build_sink = getattr(importlib.import_module(module), name)
        with opening_lock(self.settings.crawl_dir):
            self._sink = build_sink(
                self.settings,
                extract=self.extract,
                batch_size=self.batch_size,
                # "module:callable" taking Settings (tests, custom extractors)
                extractor_factory=self.crawler.settings.get("SKILLSIGNAL_EXTRACTOR_FACTORY"),
            )
            if self.seen_path:
                self._seen = SeenStore(self.seen_path)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PostingItem):
            return item
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size or time.monotonic() - self.last_flush >= self.flush_interval:
            self._submit()
            while len(self.pending) > 2:  # back-pressure: extraction slower than the crawl
                await asyncio.wrap_future(self.pending.pop(0))
        return item

    async def flush_all(self) -> None:
        """Store everything handed over so far (the distributed scheduler's acknowledgement barrier)."""
        self._submit()
        for fut in list(self.pending):
            await asyncio.wrap_future(fut)

    async def close_spider(self) -> None:
        self._submit()
        for fut in self.pending:
            await asyncio.wrap_future(fut)
        self.pending.clear()
        for name, value in self.counts.items():
            self.crawler.stats.set_value(f"skillsignal/{name}", value)
        log.info("ingest: %s", ", ".join(f"{k} {v}" for k, v in self.counts.items()))
        # the sink stays open until spider_closed, the first moment the close reason is known

    async def spider_closed(self, spider: Any, reason: str) -> None:
        """Close what a complete crawl no longer found, then the sink."""
        try:
            if not getattr(spider, "complete_listing", False):
                log.info("spider %s does not list everything its sources hold: no posting is closed", spider.name)
            elif self._sink is not None and self.close_unseen:
                stats = self.crawler.stats.get_stats() or {}
                why = incomplete_reason(reason, stats, blocked_domains(self.crawler).reasons, self.lost)
                if why is None:
                    closed = await asyncio.wrap_future(self.executor.submit(self._close_unseen))
                    self.crawler.stats.set_value("skillsignal/closed", closed)
                else:
                    log.info("crawl not complete (%s): no posting is closed", why)
            elif self.crawler.settings.getbool("SKILLSIGNAL_DISTRIBUTED"):
                log.info("a distributed crawl process sees only part of the crawl: no posting is closed")
        finally:
            await asyncio.wrap_future(self.executor.submit(self._close))
            self.executor.shutdown(wait=True)

    def _close_unseen(self) -> int:
        assert self._sink is not None
        return sum(self._sink.close_unseen(source, self.crawl_started) for source in sorted(self.sources))

    def _close(self) -> None:
        if self._sink is not None:
            self._sink.close()
        if self._seen is not None:
            self._seen.close()

    # -- batches -------------------------------------------------------------------------------
    def _submit(self) -> None:
        self.last_flush = time.monotonic()
        unread = found_unread(self.crawler).take()
        if not self.buffer and not unread:
            return
        batch, self.buffer = self.buffer, []
        self.pending = [f for f in self.pending if not f.done()]
        self.pending.append(self.executor.submit(self._flush, batch, unread))

    def _flush(self, batch: list[PostingItem], unread: list[str] | None = None) -> None:
        assert self._sink is not None, "open_spider builds the sink before any item arrives"
        if unread:
            day = self.crawl_date or datetime.now(UTC).date()
            try:
                self.sources.update(self._sink.mark_seen(dict.fromkeys(unread, day)).values())
            except Exception as exc:
                log.error("could not mark %d unchanged postings as seen: %s", len(unread), exc)
                self.lost += len(unread)
                durability(self.crawler).lost = self.lost
        if not batch:
            return
        postings: list[Posting] = [it["posting"] for it in batch]
        if self.crawl_date is not None:
            stamp = datetime.combine(self.crawl_date, datetime.min.time(), UTC)
            postings = [p.model_copy(update={"crawled_at": stamp}) for p in postings]
        self.sources.update(p.source for p in postings)
        self.counts["received"] += len(postings)
        try:
            st = self._sink.process(postings)
            for name in ("stored", "unchanged", "extracted", "extraction_errors"):
                self.counts[name] += getattr(st, name)
        except Exception as exc:
            log.error("ingest of %d postings failed: %s; storing them raw with the error recorded", len(postings), exc)
            self.counts["ingest_errors"] += len(postings)
            CRAWL_ERRORS.labels(kind="ingest").inc(len(postings))
            try:
                self.counts["stored"] += self._sink.store_failed(postings, f"ingest failed: {exc}")
            except Exception as exc2:
                log.error(
                    "could not store %d postings (%s); their pages will be fetched again next run", len(postings), exc2
                )
                self.lost += len(postings)
                durability(self.crawler).lost = self.lost
                return
        if self._seen is not None:
            pages: dict[str, PageRecord] = {}
            for it, posting in zip(batch, postings, strict=True):
                prev = pages.get(it["url"])
                ids = (list(prev.posting_ids) if prev else []) + [posting.id]
                pages[it["url"]] = PageRecord(
                    it["url"], it.get("etag"), it.get("last_modified"), posting.fingerprint, ids
                )
            self._seen.record(pages.values(), self.generation)
