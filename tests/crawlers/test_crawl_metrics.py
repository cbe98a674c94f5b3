"""The crawl counters of ``skillsignal.core.metrics`` as Scrapy drives them: the downloader
middleware counts failed attempts by kind, the extension counts crawled postings by source,
invalid records and spider exceptions. Real Scrapy objects and signals; the values are read from
prometheus_client's registry before and after."""

from __future__ import annotations

from prometheus_client import REGISTRY
from scrapy import Request, Spider, signals
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.python.failure import Failure

from crawlers.items import PostingItem
from crawlers.metrics import CrawlMetrics, CrawlMetricsMiddleware
from skillsignal.core.models import Posting

KINDS = ("http_404", "http_503", "TimeoutError", "DNSLookupError", "invalid_posting", "spider_ValueError")


def _errors() -> dict[str, float]:
    return {k: REGISTRY.get_sample_value("skillsignal_crawl_errors_total", {"kind": k}) or 0.0 for k in KINDS}


def _crawled(source: str) -> float:
    return REGISTRY.get_sample_value("skillsignal_postings_crawled_total", {"source": source}) or 0.0


def test_download_failures_are_counted_by_kind():
    spider = Spider(name="t")
    mw = CrawlMetricsMiddleware()
    req = Request("http://127.0.0.1:1/jobs/1")
    before = _errors()
    for status in (200, 304, 404, 503, 503):
        resp = HtmlResponse(req.url, status=status, body=b"", request=req)
        assert mw.process_response(req, resp, spider) is resp  # passes the answer on unchanged
    assert mw.process_exception(req, TimeoutError(), spider) is None  # lets the retry middleware decide
    mw.process_exception(req, DNSLookupError(), spider)
    after = _errors()
    moved = {k: after[k] - before[k] for k in KINDS}
    assert moved == {
        "http_404": 1,
        "http_503": 2,
        "TimeoutError": 1,
        "DNSLookupError": 1,
        "invalid_posting": 0,
        "spider_ValueError": 0,
    }


def test_postings_invalid_records_and_spider_errors_are_counted_from_signals():
    crawler = get_crawler(Spider)
    ext = CrawlMetrics.from_crawler(crawler)  # noqa: F841  # kept: signals hold weak references
    spider = Spider(name="t")
    before_errors, before_boss, before_other = _errors(), _crawled("boss"), _crawled("other")
    for i, source in enumerate(["boss", "boss", "other"]):
        item = PostingItem(posting=Posting(id=f"c{i}", source=source, title="数据分析师"))
        crawler.signals.send_catch_log(signals.item_scraped, item=item, response=None, spider=spider)
    crawler.signals.send_catch_log(signals.item_scraped, item={"not": "a posting"}, response=None, spider=spider)
    crawler.signals.send_catch_log(
        signals.item_dropped, item=PostingItem(record={}), response=None, exception=ValueError(), spider=spider
    )
    crawler.signals.send_catch_log(
        signals.spider_error, failure=Failure(ValueError("bad page")), response=None, spider=spider
    )
    assert (_crawled("boss") - before_boss, _crawled("other") - before_other) == (2, 1)
    after = _errors()
    assert after["invalid_posting"] - before_errors["invalid_posting"] == 1
    assert after["spider_ValueError"] - before_errors["spider_ValueError"] == 1
