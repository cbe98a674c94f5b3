"""Thin spiders for Chinese boards: they fetch, :mod:`crawlers.adapters` read.

Each spider takes ``base_url`` (default: the board's public host; tests point it at a local
server), ``keyword``, ``city`` (the board's own city code) and ``max_pages`` (a hard page budget:
these boards block at volume, so a run asks for little and stops at the first block answer
instead of retrying into it). Items are :class:`crawlers.items.PostingItem` with a flat record,
so the usual item pipelines (validate -> ingest -> dedup) apply.

=========  =======================================================  ===========================
spider     list request                                             detail
=========  =======================================================  ===========================
boss       ``/wapi/zpgeek/search/joblist.json?query=&city=&page=``  ``/job_detail/<id>.html``
51job      ``/api/job/search-pc?keyword=&jobArea=&pageNum=``        in the list (jobDescribe)
zhaopin    ``/c/i/sou?kw=&cityId=&start=&pageSize=``                in the list (jobSummary)
liepin     ``/zhaopin/?key=&dqs=&currentPage=`` (HTML)              ``/job/<id>.shtml``
=========  =======================================================  ===========================
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from ..adapters import BoardBlocked, BoardFormatError, boss, job51, liepin, zhaopin
from ..adapters.base import Record
from ..items import PostingItem


class BoardSpider(scrapy.Spider):
    """Shared arguments and the block / format handling."""

    default_base_url = ""
    #: a keyword search capped at max_pages never lists all of a board: nothing is closed after it
    complete_listing = False

    def __init__(
        self, base_url: str | None = None, keyword: str = "", city: str = "", max_pages: int | str = 3, **kw: Any
    ):
        super().__init__(**kw)
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.keyword = keyword
        self.city = city
        self.max_pages = max(1, int(max_pages))

    def item(self, record: Record, response: Response) -> PostingItem:
        self.crawler.stats.inc_value(f"skillsignal/{self.name}/records")
        return PostingItem(record=record, url=record.get("url") or response.url, etag=None, last_modified=None)

    def stop_on(self, exc: Exception, response: Response) -> None:
        if isinstance(exc, BoardBlocked):
            self.logger.warning("%s blocked us at %s (%s); stopping this run", self.name, response.url, exc)
            self.crawler.stats.set_value("skillsignal/blocked", str(exc))
            raise CloseSpider("blocked")
        self.logger.error("%s: unexpected response at %s: %s", self.name, response.url, exc)
        self.crawler.stats.inc_value("skillsignal/format_errors")


class BossSpider(BoardSpider):
    name = "boss"
    default_base_url = boss.BASE_URL

    def list_url(self, page: int) -> str:
        query = urlencode({"query": self.keyword, "city": self.city, "page": page, "pageSize": 30})
        return f"{self.base_url}/wapi/zpgeek/search/joblist.json?{query}"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.list_url(1), self.parse_list, cb_kwargs={"page": 1}, dont_filter=True)

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        try:
            records, has_more = boss.parse_list(response.text, self.base_url)
        except (BoardBlocked, BoardFormatError) as exc:
            self.stop_on(exc, response)
            return
        for record in records:
            if record.get("url"):
                yield scrapy.Request(record["url"], self.parse_detail, cb_kwargs={"record": record})
            else:
                yield self.item(record, response)
        if has_more and page < self.max_pages:
            yield scrapy.Request(self.list_url(page + 1), self.parse_list, cb_kwargs={"page": page + 1})

    def parse_detail(self, response: Response, record: Record) -> Iterator[Any]:
        try:
            yield self.item(boss.parse_detail(response.text, record), response)
        except (BoardBlocked, BoardFormatError) as exc:
            self.stop_on(exc, response)
            yield self.item(record, response)  # the list facts and skill tags are still worth keeping


class Job51Spider(BoardSpider):
    name = "51job"
    default_base_url = "https://we.51job.com"

    def list_url(self, page: int) -> str:
        query = urlencode({"keyword": self.keyword, "jobArea": self.city, "pageNum": page, "pageSize": 50})
        return f"{self.base_url}/api/job/search-pc?{query}"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.list_url(1), self.parse_list, cb_kwargs={"page": 1}, dont_filter=True)

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        try:
            records, pages = job51.parse_search(response.text)
        except (BoardBlocked, BoardFormatError) as exc:
            self.stop_on(exc, response)
            return
        for record in records:
            yield self.item(record, response)
        if records and page < min(pages or page + 1, self.max_pages):
            yield scrapy.Request(self.list_url(page + 1), self.parse_list, cb_kwargs={"page": page + 1})


class ZhaopinSpider(BoardSpider):
    name = "zhaopin"
    default_base_url = "https://fe-api.zhaopin.com"
    page_size = 30

    def list_url(self, start: int) -> str:
        query = urlencode({"kw": self.keyword, "cityId": self.city, "start": start, "pageSize": self.page_size})
        return f"{self.base_url}/c/i/sou?{query}"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.list_url(0), self.parse_list, cb_kwargs={"page": 1}, dont_filter=True)

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        try:
            records, total = zhaopin.parse_positions(response.text)
        except (BoardBlocked, BoardFormatError) as exc:
            self.stop_on(exc, response)
            return
        for record in records:
            yield self.item(record, response)
        seen = page * self.page_size
        if records and page < self.max_pages and (total is None or seen < total):
            yield scrapy.Request(self.list_url(seen), self.parse_list, cb_kwargs={"page": page + 1})


class LiepinSpider(BoardSpider):
    name = "liepin"
    default_base_url = "https://www.liepin.com"
    detail_link = re.compile(r"/(?:job|a)/\d+\.shtml")

    def list_url(self, page: int) -> str:
        query = urlencode({"key": self.keyword, "dqs": self.city, "currentPage": page - 1})
        return f"{self.base_url}/zhaopin/?{query}"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.list_url(1), self.parse_list, cb_kwargs={"page": 1}, dont_filter=True)

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        links = [response.urljoin(h) for h in response.css("a::attr(href)").getall() if self.detail_link.search(h)]
        for url in dict.fromkeys(links):
            yield scrapy.Request(url, self.parse_detail)
        if links and page < self.max_pages:
            yield scrapy.Request(self.list_url(page + 1), self.parse_list, cb_kwargs={"page": page + 1})

    def parse_detail(self, response: Response) -> Iterator[Any]:
        try:
            yield self.item(liepin.parse_detail(response.text, response.url), response)
        except (BoardBlocked, BoardFormatError) as exc:
            self.stop_on(exc, response)


SPIDERS = {s.name: s for s in (BossSpider, Job51Spider, ZhaopinSpider, LiepinSpider)}
