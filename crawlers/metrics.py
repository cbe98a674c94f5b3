"""Crawl metrics (``skillsignal.core.metrics``): postings crawled by source, and crawl errors by kind.

:class:`CrawlMetricsMiddleware` sits next to the downloader, so it sees every attempt: an answer
with status >= 400 counts ``http_<status>``, a download exception counts its class name
(``TimeoutError``, ``DNSLookupError``, ``ConnectionRefusedError``...), retries included (each failed
attempt is one). The :class:`CrawlMetrics` extension counts postings the spiders yield
(``item_scraped``), records dropped as invalid (``invalid_posting``) and spider exceptions
(``spider_<exception>``). With ``SKILLSIGNAL_METRICS_PORT`` set, the crawl process serves these
counters itself (``prometheus_client.start_http_server``) while it runs.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import start_http_server
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from skillsignal.core.metrics import CRAWL_ERRORS, POSTINGS_CRAWLED

from .items import PostingItem
from .pipelines import settings_from_crawler

log = logging.getLogger(__name__)


class CrawlMetricsMiddleware:
    """Counts failed download attempts by kind; changes nothing."""

    def process_response(self, request: Request, response: Response, spider: Spider) -> Response:
        if response.status >= 400:
            CRAWL_ERRORS.labels(kind=f"http_{response.status}").inc()
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Spider) -> None:
        CRAWL_ERRORS.labels(kind=type(exception).__name__).inc()


class CrawlMetrics:
    """Counts crawled postings and the errors that happen past the downloader."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlMetrics:
        port = settings_from_crawler(crawler).metrics_port
        if port:
            start_http_server(port)
            log.info("crawl metrics served on port %d", port)
        ext = cls()
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        return ext

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, PostingItem):
            POSTINGS_CRAWLED.labels(source=item["posting"].source).inc()

    def item_dropped(self, item: Any) -> None:
        CRAWL_ERRORS.labels(kind="invalid_posting").inc()

    def spider_error(self, failure: Any) -> None:
        CRAWL_ERRORS.labels(kind=f"spider_{type(failure.value).__name__}").inc()
