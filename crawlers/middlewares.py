"""Downloader middlewares: block detection, conditional requests, request budget, proxy,
and retries with backoff that honour ``Retry-After``.

Order (``process_request`` runs low to high, ``process_response`` high to low)::

    60 BlockDetection  - drop requests to a blocked domain; detect captcha/login walls
    70 Conditional     - seen-store: skip pages done in a resumed run, add If-None-Match / If-Modified-Since; 304
    80 RequestBudget   - stop the crawl cleanly when the run's request budget is spent
   550 BackoffRetry    - replaces Scrapy's RetryMiddleware: 429/5xx/timeouts retried after a delay
   740 Proxy           - settings.proxy on every request
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
import weakref
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.response import response_status_message

from .distributed import REQUEUE_META
from .jsonld import host_of
from .seen import SeenStore

log = logging.getLogger(__name__)

BLOCK_CUES = re.compile(
    r"captcha|验证码|安全验证|环境异常|访问异常|异常访问|访问受限|人机验证|滑块验证|拖动滑块|请完成验证|"
    r"security check|security verification|verify you are (?:a )?human|are you a robot|unusual traffic|"
    r"access denied|请登录|登录后查看|登录查看|login required|please log ?in|sign in to continue",
    re.I,
)
LOGIN_PATH = re.compile(r"login|signin|sign-in|sign_in|passport|captcha|verify|security-check|/auth(?:/|$)", re.I)
BLOCK_STATUSES = {200, 401, 403, 429, 503}


class BlockedDomains:
    """The domains this run has stopped crawling (shared through the crawler)."""

    def __init__(self) -> None:
        self.reasons: dict[str, str] = {}


#: one record per crawl, dropped with its crawler
_BLOCKED: weakref.WeakKeyDictionary[Crawler, BlockedDomains] = weakref.WeakKeyDictionary()


def blocked_domains(crawler: Crawler) -> BlockedDomains:
    if crawler not in _BLOCKED:
        _BLOCKED[crawler] = BlockedDomains()
    return _BLOCKED[crawler]


class FoundUnread:
    """Posting ids this run found without reading their pages (304, or stored earlier in the
    resumed generation), not yet handed to the sink (``IngestItemPipeline`` takes them): they are
    still listed, so their seen dates move and a complete crawl does not close them."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def add(self, posting_ids: str | None) -> None:
        self.ids.extend(i for i in (posting_ids or "").split(",") if i)

    def take(self) -> list[str]:
        taken, self.ids = self.ids, []
        return taken


_FOUND_UNREAD: weakref.WeakKeyDictionary[Crawler, FoundUnread] = weakref.WeakKeyDictionary()


def found_unread(crawler: Crawler) -> FoundUnread:
    if crawler not in _FOUND_UNREAD:
        _FOUND_UNREAD[crawler] = FoundUnread()
    return _FOUND_UNREAD[crawler]


def block_reason(response: Response, request: Request) -> str | None:
    """Why ``response`` is a block page (captcha, security check, login wall), or None."""
    if request.meta.get("redirect_urls") and LOGIN_PATH.search(urlsplit(response.url).path):
        return f"redirected to a login/verification page {urlsplit(response.url).path}"
    if response.status not in BLOCK_STATUSES or not isinstance(response, TextResponse):
        return None
    head = response.body[:200_000]
    if b"JobPosting" in head:  # a real posting may well mention 验证码 in its text
        return None
    try:
        title = " ".join(response.xpath("//title//text()").getall())[:300]
        text = title + " " + " ".join(response.xpath("//body//text()").getall())[:5000]
    except Exception:  # not HTML
        text = response.text[:5000]
    m = BLOCK_CUES.search(text)
    if m:
        return f"HTTP {response.status} page with {m.group(0)!r}"
    return None


class BlockDetectionMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.blocked = blocked_domains(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockDetectionMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        domain = host_of(request.url)
        if domain in self.blocked.reasons:
            self.crawler.stats.inc_value("skillsignal/blocked_dropped")
            raise IgnoreRequest(f"domain {domain} is blocked for this run")

    def process_response(self, request: Request, response: Response) -> Response:
        reason = block_reason(response, request)
        if reason is None:
            return response
        domain = host_of(request.url)
        if domain not in self.blocked.reasons:
            self.blocked.reasons[domain] = reason
            self.crawler.stats.set_value(f"skillsignal/blocked/{domain}", reason)
            log.warning("blocked by %s: %s; stopping this domain; the next run resumes", domain, reason)
        self.crawler.stats.inc_value("skillsignal/blocked_dropped")
        raise IgnoreRequest(f"blocked by {domain}")


class ConditionalRequestMiddleware:
    """Conditional requests for detail pages from the seen-store; 304 -> unchanged."""

    def __init__(self, crawler: Crawler):
        s = crawler.settings
        path = s.get("SKILLSIGNAL_SEEN_PATH")
        if not path:
            raise NotConfigured("no seen-store")
        self.crawler = crawler
        self.store = SeenStore(path)
        self.generation = s.getint("SKILLSIGNAL_GENERATION", 1)
        self.resumed = s.getbool("SKILLSIGNAL_RESUMED", False)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if request.meta.get("kind") != "detail":
            return None
        seen = self.store.get(request.url)
        if seen is None:
            return None
        if self.resumed and seen.generation == self.generation:
            self.crawler.stats.inc_value("skillsignal/skipped_done")
            found_unread(self.crawler).add(seen.posting_ids)
            raise IgnoreRequest("stored earlier in this (resumed) crawl")
        request.meta["posting_ids"] = seen.posting_ids
        if seen.etag:
            request.headers.setdefault(b"If-None-Match", seen.etag.encode("latin-1"))
        if seen.last_modified:
            request.headers.setdefault(b"If-Modified-Since", seen.last_modified.encode("latin-1"))
        if seen.etag or seen.last_modified:
            request.meta["conditional"] = True
            self.crawler.stats.inc_value("skillsignal/conditional_requests")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 304 and request.meta.get("conditional"):
            self.store.touch(request.url, self.generation)
            found_unread(self.crawler).add(request.meta.get("posting_ids"))
            self.crawler.stats.inc_value("skillsignal/not_modified")
            raise IgnoreRequest("304 not modified")
        return response


class RequestBudgetMiddleware:
    """At most ``SKILLSIGNAL_REQUEST_BUDGET`` requests per run; then the crawl closes cleanly."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.budget = crawler.settings.getint("SKILLSIGNAL_REQUEST_BUDGET", 0)
        if self.budget <= 0:
            raise NotConfigured
        self.count = 0
        self.spent = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestBudgetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if self.count < self.budget:
            self.count += 1
            return None
        if not self.spent:
            self.spent = True
            self.crawler.stats.set_value("skillsignal/budget_spent", self.budget)
            log.warning("request budget of %d spent; stopping cleanly; the next run resumes", self.budget)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="budget_spent"))
        request.meta[REQUEUE_META] = "budget"  # a distributed crawl hands it to the other processes
        raise IgnoreRequest("request budget spent")


def retry_after_seconds(response: Response, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now or time.time()))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, with a delay before each retry: ``Retry-After`` when the server sends
    one (capped by ``RETRY_AFTER_MAX``), else ``RETRY_BACKOFF_BASE * 2**n`` with jitter."""

    def __init__(self, settings: Any):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    def _delay(self, request: Request, response: Response | None) -> float:
        after = retry_after_seconds(response) if response is not None else None
        if after is not None:
            return min(after, self.retry_after_max)
        n = request.meta.get("retry_times", 0)
        return min(self.cap, self.base * (2**n)) * random.uniform(0.75, 1.25)

    async def _wait(self, request: Request, new: Request, why: str, response: Response | None) -> Request:
        delay = self._delay(request, response)
        log.info("retrying %s (%s) in %.1fs, try %d", request.url, why, delay, new.meta.get("retry_times", 0))
        self.crawler.stats.inc_value("skillsignal/retry_wait_ms", round(delay * 1000))
        if delay > 0:
            await asyncio.sleep(delay)
        return new

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]  # Scrapy allows async hooks; its stubs declare them sync
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        new = self._retry(request, response_status_message(response.status))
        why = f"HTTP {response.status}"
        if new is None:
            return response
        return await self._wait(request, new, why, response)

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]  # Scrapy allows async hooks; its stubs declare them sync
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        new = self._retry(request, exception)
        if new is None:
            return None
        return await self._wait(request, new, type(exception).__name__, None)


class ProxyMiddleware:
    """``settings.proxy`` (``http://user:pass@host:port``) on every request that names none."""

    def __init__(self, proxy: str):
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyMiddleware:
        proxy = crawler.settings.get("SKILLSIGNAL_PROXY")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("proxy", self.proxy)
        return None


class RunDupeFilter:
    """Scrapy's request-fingerprint dupefilter kept in memory for one run, whatever JOBDIR says.

    Persisting it would make a resumed run skip list pages whose detail requests died with a
    killed process; the seen-store, written only after postings are stored, says what is done.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return RFPDupeFilter(
            path=None, debug=crawler.settings.getbool("DUPEFILTER_DEBUG"), fingerprinter=crawler.request_fingerprinter
        )
