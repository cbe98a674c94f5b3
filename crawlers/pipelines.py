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
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from skillsignal.core.config import Settings
from skillsignal.core.ingest import PostingSink
from skillsignal.core.models import Posting
from skillsignal.core.records import RecordError, parse_posted, record_to_posting

from .items import PostingItem
from .seen import PageRecord, SeenStore

log = logging.getLogger(__name__)

COUNTERS = ("received", "stored", "unchanged", "extracted", "extraction_errors", "ingest_errors")


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
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.buffer: list[PostingItem] = []
        self.pending: list[Future[None]] = []
        self.last_flush = time.monotonic()
        self._sink: PostingSink | None = None
        self._seen: SeenStore | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestItemPipeline:
        return cls(crawler)

    # -- lifecycle ---------------------------------------------------------------------------
    def open_spider(self) -> None:
        self.executor.submit(self._open).result()

    def _open(self) -> None:
        self.settings.ensure_dirs()
        module, _, name = self.settings.crawl_sink.partition(":")
        build_sink = getattr(importlib.import_module(module), name)
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

    async def close_spider(self) -> None:
        self._submit()
        for fut in self.pending:
            await asyncio.wrap_future(fut)
        self.pending.clear()
        self.executor.submit(self._close).result()
        self.executor.shutdown(wait=True)
        for name, value in self.counts.items():
            self.crawler.stats.set_value(f"skillsignal/{name}", value)
        log.info("ingest: %s", ", ".join(f"{k} {v}" for k, v in self.counts.items()))

    def _close(self) -> None:
        if self._sink is not None:
            self._sink.close()
        if self._seen is not None:
            self._seen.close()

    # -- batches -------------------------------------------------------------------------------
    def _submit(self) -> None:
        self.last_flush = time.monotonic()
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        self.pending = [f for f in self.pending if not f.done()]
        self.pending.append(self.executor.submit(self._flush, batch))

    def _flush(self, batch: list[PostingItem]) -> None:
        postings: list[Posting] = [it["posting"] for it in batch]
        self.counts["received"] += len(postings)
        assert self._sink is not None, "open_spider builds the sink before any item arrives"
        try:
            st = self._sink.process(postings)
            for name in ("stored", "unchanged", "extracted", "extraction_errors"):
                self.counts[name] += getattr(st, name)
        except Exception as exc:
            log.error("ingest of %d postings failed: %s; storing them raw with the error recorded", len(postings), exc)
            self.counts["ingest_errors"] += len(postings)
            try:
                self.counts["stored"] += self._sink.store_failed(postings, f"ingest failed: {exc}")
            except Exception as exc2:
                log.error(
                    "could not store %d postings (%s); their pages will be fetched again next run", len(postings), exc2
                )
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
