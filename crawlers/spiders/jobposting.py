"""The generic JobPosting spider: list pages or sitemaps in, one item per JobPosting out.

* Start URLs ending in ``.xml`` / ``.xml.gz`` or with ``sitemap`` in the path are read as
  sitemaps (sitemap indexes followed); anything else is a list page.
* List pages: every pagination link is followed to the end (``rel=next``, 下一页/下页/Next,
  ``?page=N`` / ``/page/N`` links of the same path); detail links are the same-host links
  that match ``detail_pattern`` or that an ``ItemList`` JSON-LD names.
* Detail pages: JSON-LD and microdata read with extruct (malformed JSON-LD parsed leniently,
  per block); each JobPosting becomes a flat record (:mod:`crawlers.jsonld`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import extruct
import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from ..items import PostingItem
from ..jsonld import find_jobpostings, host_of, jobposting_to_record, parse_jsonld_lenient

DEFAULT_DETAIL_PATTERN = (
    r"(?i)(/jobs?/|/positions?/|/zhaopin/|/posting|/detail|/vacanc|/career|/jd/|job_?detail|[/_-]\d{4,}(\.s?html?)?$)"
)
NEXT_TEXT = re.compile(r"^\s*(下一页|下页|后一页|next|next page|»|›|>)\s*$", re.I)
PAGE_PARAMS = {"page", "p", "pn", "pageno", "page_no", "pagenum", "curpage", "pageindex"}
PAGE_PATH = re.compile(r"/(?:page|p)/\d+/?$", re.I)
SITEMAP_PATH = re.compile(r"(sitemap[^/]*|\.xml(\.gz)?)$", re.I)


class JobPostingSpider(scrapy.Spider):
    name = "jobposting"
    #: a run that finishes has walked every list page and sitemap of its start URLs, so the postings
    #: of its sources it did not find are closed (``crawlers.pipelines``)
    complete_listing = True

    def __init__(self, start_urls: list[str] | str | None = None, detail_pattern: str | None = None, **kw: Any):
        super().__init__(**kw)
        if isinstance(start_urls, str):
            start_urls = [u for u in start_urls.split(",") if u]
        self.start_urls = list(start_urls or [])
        self.detail_re = re.compile(detail_pattern or DEFAULT_DETAIL_PATTERN)
        self._list_seen: set[str] = set()

    # -- start -----------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            if SITEMAP_PATH.search(urlsplit(url).path):
                yield scrapy.Request(url, self.parse_sitemap, meta={"kind": "sitemap"}, dont_filter=True)
            else:
                yield self.list_request(url, dont_filter=True)

    def list_request(self, url: str, dont_filter: bool = False) -> scrapy.Request:
        self._list_seen.add(url.split("#", 1)[0])
        return scrapy.Request(url, self.parse_list, meta={"kind": "list"}, dont_filter=dont_filter)

    def detail_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, self.parse_detail, meta={"kind": "detail"})

    # -- sitemaps --------------------------------------------------------------------------
    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body)
        try:
            sitemap = Sitemap(body)
        except Exception as exc:  # not XML at all
            self.logger.warning("sitemap %s cannot be read: %s", response.url, exc)
            self.crawler.stats.inc_value("skillsignal/sitemap_errors")
            return
        self.crawler.stats.inc_value("skillsignal/sitemaps")
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(loc, self.parse_sitemap, meta={"kind": "sitemap"})
            elif self.detail_re.search(urlsplit(loc).path + "?" + urlsplit(loc).query):
                yield self.detail_request(loc)
            elif loc not in self._list_seen:
                yield self.list_request(loc)

    # -- list pages ------------------------------------------------------------------------
    def parse_list(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        self.crawler.stats.inc_value("skillsignal/list_pages")
        here = urlsplit(response.url)
        details: list[str] = []
        blocks = list(self._structured(response))
        # postings embedded in the list page itself, and ItemList entries naming detail pages
        yield from self._items_from(response, count_missing=False, blocks=blocks)
        for obj in _walk(blocks):
            if str(obj.get("@type", "")).lower() == "listitem":
                item = obj.get("item")
                url = obj.get("url") or (item.get("url") or item.get("@id") if isinstance(item, dict) else item)
                if isinstance(url, str):
                    details.append(response.urljoin(url))
        next_urls: list[str] = []
        for sel in response.css("a[rel~=next]::attr(href), link[rel~=next]::attr(href)").getall():
            next_urls.append(response.urljoin(sel))
        for a in response.css("a[href]"):
            href = a.attrib.get("href", "")
            if href.startswith(("javascript:", "mailto:", "#")):
                continue
            url = response.urljoin(href)
            parts = urlsplit(url)
            if parts.hostname != here.hostname:
                continue
            text = " ".join(a.css("::text").getall()).strip()
            if NEXT_TEXT.match(text) or _is_page_link(parts, here):
                next_urls.append(url)
            elif self.detail_re.search(parts.path + ("?" + parts.query if parts.query else "")):
                details.append(url)
        for url in dict.fromkeys(details):
            yield self.detail_request(url)
        for url in dict.fromkeys(next_urls):
            key = url.split("#", 1)[0]
            if key not in self._list_seen:
                yield self.list_request(key)

    # -- detail pages ----------------------------------------------------------------------
    def parse_detail(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            self.logger.warning(
                "detail page %s is not text (%s); skipped", response.url, response.headers.get("Content-Type")
            )
            self.crawler.stats.inc_value("skillsignal/not_text")
            return
        self.crawler.stats.inc_value("skillsignal/detail_pages")
        yield from self._items_from(response, count_missing=True)

    def _items_from(
        self, response: TextResponse, count_missing: bool, blocks: list[Any] | None = None
    ) -> Iterator[PostingItem]:
        found = 0
        for obj in self._structured(response) if blocks is None else blocks:
            for posting in find_jobpostings(obj):
                try:
                    record = jobposting_to_record(posting, response.url)
                except Exception as exc:  # a strange shape must not stop the crawl
                    self.logger.warning("JobPosting on %s cannot be mapped: %s", response.url, exc)
                    self.crawler.stats.inc_value("skillsignal/mapping_errors")
                    continue
                found += 1
                yield PostingItem(
                    record=record,
                    url=response.url,
                    etag=_header(response, b"ETag"),
                    last_modified=_header(response, b"Last-Modified"),
                )
        if not found and count_missing:
            self.logger.info("no JobPosting on %s", response.url)
            self.crawler.stats.inc_value("skillsignal/no_jobposting")

    def _jsonld_blocks(self, response: TextResponse) -> Iterator[Any]:
        for text in response.xpath('//script[@type="application/ld+json"]/text()').getall():
            if not text.strip():
                continue
            try:
                yield parse_jsonld_lenient(text)
            except ValueError as exc:
                self.logger.warning("malformed JSON-LD on %s: %s", response.url, exc)
                self.crawler.stats.inc_value("skillsignal/malformed_jsonld")

    def _structured(self, response: TextResponse) -> Iterator[Any]:
        """JSON-LD blocks (each on its own, so one bad block loses only itself) and microdata."""
        yield from self._jsonld_blocks(response)
        if "itemtype" in response.text:
            try:
                data = extruct.extract(response.text, base_url=response.url, syntaxes=["microdata"], uniform=True)
            except Exception as exc:
                self.logger.warning("microdata on %s cannot be read: %s", response.url, exc)
                self.crawler.stats.inc_value("skillsignal/malformed_microdata")
                return
            yield data.get("microdata", [])


def _walk(data: Any) -> Iterator[Any]:
    if isinstance(data, list):
        for x in data:
            yield from _walk(x)
    elif isinstance(data, dict):
        yield data
        for v in data.values():
            if isinstance(v, (dict, list)):
                yield from _walk(v)


def _is_page_link(parts: Any, here: Any) -> bool:
    """A link to another page of the same listing: same path with a page number, or /page/N."""
    params = {k.lower() for k, v in parse_qsl(parts.query) if v.isdigit()}
    if params & PAGE_PARAMS and parts.path == here.path:
        return True
    m = PAGE_PATH.search(parts.path)
    return m is not None and parts.path[: m.start()] == PAGE_PATH.sub("", here.path).rstrip("/")


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


__all__ = ["JobPostingSpider", "host_of"]
