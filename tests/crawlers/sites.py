"""Local JobPosting sites for crawler tests: a threaded http.server on 127.0.0.1.

:class:`JobSite` serves ``n`` generated postings: list pages ``/jobs?page=N`` (``rel=next``
and 下一页 links), detail pages ``/jobs/<id>`` with JobPosting JSON-LD (ETag and
Last-Modified, 304 on a matching conditional request), ``/sitemap.xml`` and ``/robots.txt``.
``faults`` maps a posting number to a fault the detail page shows (see :data:`FAULTS`).
Every request is recorded in ``requests`` (path, headers) for assertions.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CITIES = [
    ("广东省", "深圳市", "南山区"),
    ("北京", "北京", "海淀区"),
    ("浙江省", "杭州市", "西湖区"),
    ("上海", "上海", "浦东新区"),
]
TITLES = ["机器学习算法工程师", "数字IC验证工程师", "大数据开发工程师", "云计算运维工程师", "嵌入式软件工程师"]

#: fault name -> what the detail page does
FAULTS = {
    "500x2": "HTTP 500 twice, then the page",
    "timeout": "the first request hangs for `hang` seconds, then the page",
    "429": "HTTP 429 with Retry-After: 1 once, then the page",
    "malformed": "JSON-LD that no parser can read (the posting is lost, the error logged)",
    "sloppy": "JSON-LD with a comment and trailing commas (readable leniently)",
    "gbk": "the page encoded in GBK (charset in header and meta)",
    "huge": "a 5 MB page",
    "captcha": "HTTP 200 verification page (请输入验证码) instead of the posting",
    "captcha403": "HTTP 403 security check page",
    "login": "302 redirect to /passport/login",
    "404": "HTTP 404",
    "microdata": "the posting as schema.org microdata instead of JSON-LD",
}


def microdata_html(obj: dict[str, Any]) -> str:
    addr = obj["jobLocation"]["address"]
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{obj["title"]}</title></head><body>'
        f'<div itemscope itemtype="https://schema.org/JobPosting">'
        f'<h1 itemprop="title">{obj["title"]}</h1>'
        f'<div itemprop="identifier" itemscope itemtype="https://schema.org/PropertyValue">'
        f'<meta itemprop="name" content="{obj["identifier"]["name"]}">'
        f'<meta itemprop="value" content="{obj["identifier"]["value"]}"></div>'
        f'<div itemprop="hiringOrganization" itemscope itemtype="https://schema.org/Organization">'
        f'<span itemprop="name">{obj["hiringOrganization"]["name"]}</span></div>'
        f'<div itemprop="jobLocation" itemscope itemtype="https://schema.org/Place"><div itemprop="address" itemscope '
        f'itemtype="https://schema.org/PostalAddress"><span itemprop="addressRegion">{addr["addressRegion"]}</span>'
        f'<span itemprop="addressLocality">{addr["addressLocality"]}</span></div></div>'
        f'<meta itemprop="datePosted" content="{obj["datePosted"]}">'
        f'<div itemprop="description">{obj["description"]}</div></div></body></html>'
    )


def make_posting(i: int, source: str, identifier: bool = True) -> dict[str, Any]:
    prov, city, district = CITIES[i % len(CITIES)]
    title = f"{TITLES[i % len(TITLES)]}{i:04d}"
    obj: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": title,
        "description": f"<p>岗位职责：负责第{i}号项目的研发。</p><p>任职要求：熟悉Python、PyTorch与Linux，3年以上经验。</p>",
        "datePosted": f"2026-0{1 + i % 9}-{1 + i % 28:02d}",
        "hiringOrganization": {"@type": "Organization", "name": f"示例科技{i % 7}有限公司"},
        "jobLocation": {
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "addressRegion": prov,
                "addressLocality": city,
                "streetAddress": f"{district}科技园{i}号",
            },
        },
        "baseSalary": {
            "@type": "MonetaryAmount",
            "currency": "CNY",
            "value": {
                "@type": "QuantitativeValue",
                "minValue": 10000 + 1000 * (i % 10),
                "maxValue": 20000 + 1000 * (i % 10),
                "unitText": "MONTH",
            },
        },
        "experienceRequirements": {"@type": "OccupationalExperienceRequirements", "monthsOfExperience": 36},
        "educationRequirements": {
            "@type": "EducationalOccupationalCredential",
            "credentialCategory": "bachelor degree",
        },
        "employmentType": "FULL_TIME",
        "industry": "互联网",
        "skills": "Python, PyTorch, Linux",
    }
    if identifier:
        obj["identifier"] = {"@type": "PropertyValue", "name": source, "value": str(i)}
    return obj


@dataclass
class SiteState:
    n: int
    page_size: int
    source: str
    hostname: str
    faults: dict[int, str]
    identifier: bool
    etags: bool
    detail_delay: float
    hang: float
    robots: str
    hits: Counter = field(default_factory=Counter)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    #: posting numbers the list pages and the sitemap no longer show (their detail pages stay)
    unlisted: set[int] = field(default_factory=set)
    #: when set, every request waits until the event is set (start several crawlers, then open)
    gate: threading.Event | None = None

    def listed(self) -> list[int]:
        return [i for i in range(1, self.n + 1) if i not in self.unlisted]

    def base(self) -> str:
        return f"http://{self.hostname}:{self.port}"


def detail_html(obj: dict[str, Any], jsonld: str | None = None, charset: str = "utf-8", padding: int = 0) -> str:
    block = jsonld if jsonld is not None else json.dumps(obj, ensure_ascii=False)
    pad = f'<div style="display:none">{"填充内容" * (padding // 12)}</div>' if padding else ""
    return (
        f'<!doctype html><html><head><meta charset="{charset}"><title>{obj["title"]}</title>'
        f'<script type="application/ld+json">{block}</script></head>'
        f'<body><h1>{obj["title"]}</h1><div class="jd">{obj["description"]}</div>{pad}'
        f'<a href="/jobs?page=1">返回列表</a></body></html>'
    )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def setup(self) -> None:
        super().setup()
        # keep-alive + Nagle + delayed ACK would add ~40 ms to every response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def send(
        self,
        status: int,
        body: bytes = b"",
        ctype: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def do_GET(self) -> None:  # http.server calls do_<METHOD>
        st = self.server.state
        path = self.path
        if st.gate is not None:
            st.gate.wait(timeout=60)
        with st.lock:
            st.hits[path] += 1
            count = st.hits[path]
            st.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
        if path == "/robots.txt":
            return self.send(200, st.robots.encode(), "text/plain")
        if path == "/sitemap.xml":
            locs = "".join(f"<url><loc>{st.base()}/jobs/{i}</loc></url>" for i in st.listed())
            xml = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            return self.send(200, xml.encode(), "application/xml")
        if path.startswith("/jobs?page=") or path == "/jobs":
            page = int(path.split("=", 1)[1]) if "=" in path else 1
            return self.list_page(page)
        if path.startswith("/private/"):
            return self.send(200, b"<html><body>private</body></html>")
        if path.startswith("/passport/login"):
            return self.send(200, "<html><title>登录</title><body>请登录后查看职位</body></html>".encode())
        if path.startswith("/jobs/"):
            try:
                i = int(path.rsplit("/", 1)[1])
            except ValueError:
                return self.send(404, b"not found")
            if not 1 <= i <= st.n:
                return self.send(404, b"not found")
            return self.detail(i, count)
        return self.send(404, b"not found")

    def list_page(self, page: int) -> None:
        st = self.server.state
        listed = st.listed()
        pages = max(1, -(-len(listed) // st.page_size))
        if page > pages:
            return self.send(404, b"no such page")
        ids = listed[(page - 1) * st.page_size : page * st.page_size]
        items = "".join(f'<li><a href="/jobs/{i}">职位 {i}</a></li>' for i in ids)
        nav = ""
        if page > 1:
            nav += f'<a href="/jobs?page={page - 1}">上一页</a>'
        if page < pages:
            nav += f'<a rel="next" href="/jobs?page={page + 1}">下一页</a>'
        nav += '<a href="/private/jobs/1">内部</a>'
        html = f"<!doctype html><html><head><title>职位列表 第{page}页</title></head><body><ul>{items}</ul>{nav}</body></html>"
        self.send(200, html.encode())

    def detail(self, i: int, count: int) -> None:
        st = self.server.state
        fault = st.faults.get(i)
        if st.detail_delay:
            time.sleep(st.detail_delay)
        if fault == "500x2" and count <= 2:
            return self.send(500, b"internal error")
        if fault == "429" and count == 1:
            return self.send(429, b"slow down", headers={"Retry-After": "1"})
        if fault == "timeout" and count == 1:
            time.sleep(st.hang)
            return self.send(200, b"<html>too late</html>")
        if fault == "captcha":
            html = "<html><head><title>安全验证</title></head><body>请输入验证码以继续访问</body></html>"
            return self.send(200, html.encode())
        if fault == "captcha403":
            return self.send(
                403, b"<html><head><title>Security check</title></head><body>Verify you are human</body></html>"
            )
        if fault == "login":
            return self.send(302, b"", headers={"Location": f"/passport/login?next=/jobs/{i}"})
        if fault == "404":
            return self.send(404, b"gone")
        obj = make_posting(i, st.source, st.identifier)
        charset = "utf-8"
        jsonld = None
        padding = 0
        if fault == "malformed":
            jsonld = '{"@type": "JobPosting", "title": "坏数据" "description": }}'
        elif fault == "sloppy":
            jsonld = "<!-- \n" + json.dumps(obj, ensure_ascii=False)[:-1] + ", /* note */ }\n -->"
        elif fault == "gbk":
            charset = "gbk"
        elif fault == "huge":
            padding = 5 * 1024 * 1024
        html = microdata_html(obj) if fault == "microdata" else detail_html(obj, jsonld, charset, padding)
        body = html.encode(charset)
        headers = {"Last-Modified": "Mon, 14 Sep 2026 08:00:00 GMT"}
        if st.etags:
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            headers["ETag"] = etag
            if self.headers.get("If-None-Match") == etag:
                return self.send(304, b"", headers=headers)
        self.send(200, body, f"text/html; charset={charset}", headers)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: SiteState


class JobSite:
    """``with JobSite(n=30) as site: run_crawl([site.list_url], ...)``."""

    def __init__(
        self,
        n: int = 30,
        page_size: int = 10,
        *,
        source: str = "testsite",
        hostname: str = "127.0.0.1",
        faults: dict[int, str] | None = None,
        identifier: bool = True,
        etags: bool = True,
        detail_delay: float = 0.0,
        hang: float = 3.0,
        robots: str = "User-agent: *\nDisallow: /private/\n",
        port: int = 0,
    ):
        self.state = SiteState(
            n, page_size, source, hostname, dict(faults or {}), identifier, etags, detail_delay, hang, robots
        )
        self._port = port
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> JobSite:
        self._server = Server(("127.0.0.1", self._port), Handler)
        self._server.state = self.state
        self.state.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return self.state.base()

    @property
    def list_url(self) -> str:
        return f"{self.base}/jobs?page=1"

    @property
    def sitemap_url(self) -> str:
        return f"{self.base}/sitemap.xml"

    @property
    def hits(self) -> Counter:
        return self.state.hits

    def good_ids(self) -> set[str]:
        """Posting ids the crawl must store (those whose detail page ends up readable)."""
        bad = {"malformed", "captcha", "captcha403", "login", "404"}
        return {f"{self.state.source}-{i}" for i in range(1, self.state.n + 1) if self.state.faults.get(i) not in bad}

    def detail_requests(self) -> list[tuple[str, dict[str, str]]]:
        return [(p, h) for p, h in self.state.requests if p.startswith("/jobs/")]


class FailingExtractor:
    """An extractor that crashes on every batch (the crawl must keep the raw postings)."""

    taxonomy_version = "test"

    def extract_many(self, postings: Any) -> Any:
        raise RuntimeError("extractor crashed (test)")


def failing_extractor(settings: Any) -> FailingExtractor:
    return FailingExtractor()


class JsonlSink:
    """A PostingSink of a crawl test: appends each posting as a JSON line to ``sink.jsonl`` in the
    data dir (a stand-in for a queue or another application's store)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def process(self, postings, progress=None):
        from skillsignal.core.ingest import IngestStats

        batch = list(postings)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.writelines(p.model_dump_json() + "\n" for p in batch)
        return IngestStats(received=len(batch), stored=len(batch))

    def store_failed(self, postings, error):
        return 0

    def mark_seen(self, seen):
        return {}

    def close_unseen(self, source, crawl_started):
        return 0

    def close(self) -> None:
        pass


def jsonl_sink(settings: Any, *, extract: bool, batch_size: int, extractor_factory: str | None = None) -> JsonlSink:
    return JsonlSink(settings.data_dir / "sink.jsonl")
