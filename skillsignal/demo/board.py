"""The demo job board: a small threaded HTTP server on 127.0.0.1 serving the demo postings.

Routes: ``/`` (index), ``/jobs?page=N`` (20 per page, ``rel=next`` until the last page),
``/jobs/<id>.html`` (detail with schema.org JobPosting JSON-LD), ``/robots.txt``, ``/sitemap.xml``.
Every page carries ``ETag`` and ``Last-Modified`` and answers conditional requests with 304.

Serve it by hand: ``python -m skillsignal.demo.board --port 8765``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import socket
import threading
from datetime import UTC, date, datetime, time
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import pages
from .generator import DemoPosting, generate_postings

log = logging.getLogger(__name__)

_DETAIL = re.compile(r"^/jobs/(demo-\d{4})\.html$")


class _Response:
    def __init__(
        self,
        status: int,
        body: str = "",
        content_type: str = "text/html",
        modified: date | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body.encode("utf-8")
        self.content_type = f"{content_type}; charset=utf-8"
        self.modified = modified
        self.headers = headers or {}


def _http_date(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=UTC)


class DemoBoard:
    """The demo board. ``postings`` is available without starting the server.

    >>> with DemoBoard(port=0) as board:  # doctest: +SKIP
    ...     httpx.get(board.list_url)
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.postings: list[DemoPosting] = generate_postings()
        self._by_id = {p.id: p for p in self.postings}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- addresses ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def list_url(self) -> str:
        return self.url + pages.list_path(1)

    @property
    def sitemap_url(self) -> str:
        return self.url + "/sitemap.xml"

    @property
    def robots_url(self) -> str:
        return self.url + "/robots.txt"

    def detail_url(self, posting_id: str) -> str:
        return self.url + pages.detail_path(self._by_id[posting_id])

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> DemoBoard:
        if self._server is not None:
            return self
        board = self

        class Handler(_Handler):
            pass

        Handler.board = board
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-board", daemon=True)
        self._thread.start()
        log.info("demo board serving %d postings at %s", len(self.postings), self.url)
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoBoard:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- routing -----------------------------------------------------------------------------
    def respond(self, raw_path: str) -> _Response:
        parts = urlsplit(raw_path)
        path = parts.path
        newest = pages.last_modified(self.postings)
        if path in ("/", "/index.html"):
            return _Response(200, pages.render_index(len(self.postings)), modified=newest)
        if path in ("/jobs", "/jobs/"):
            query = parse_qs(parts.query)
            raw = (query.get("page") or ["1"])[0]
            if not raw.isdigit():
                return _Response(400, f"page must be a positive integer, got {raw!r}\n", "text/plain")
            page = int(raw)
            if not 1 <= page <= pages.page_count(len(self.postings)):
                return _Response(404, f"no page {page}\n", "text/plain")
            return _Response(200, pages.render_list(self.postings, page), modified=newest)
        m = _DETAIL.match(path)
        if m:
            p = self._by_id.get(m.group(1))
            if p is None:
                return _Response(404, f"no posting {m.group(1)}\n", "text/plain")
            return _Response(200, pages.render_detail(p, self.url), modified=p.posted)
        if path == "/robots.txt":
            return _Response(200, pages.render_robots(self.url), "text/plain", modified=self.postings[-1].posted)
        if path == "/sitemap.xml":
            return _Response(200, pages.render_sitemap(self.postings, self.url), "application/xml", modified=newest)
        if path.startswith("/admin"):
            return _Response(403, "forbidden\n", "text/plain")
        return _Response(404, "not found\n", "text/plain")


class _Handler(BaseHTTPRequestHandler):
    board: DemoBoard
    server_version = "SkillSignalDemoBoard/1.0"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # keep-alive responses are small: without TCP_NODELAY each waits ~40 ms for a delayed ACK
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # http.server calls do_<METHOD>
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        resp = self.board.respond(self.path)
        body = resp.body
        status = resp.status
        headers = {"Content-Type": resp.content_type, **resp.headers}
        if status == 200:
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            headers["ETag"] = etag
            headers["Cache-Control"] = "no-cache"
            if resp.modified is not None:
                headers["Last-Modified"] = format_datetime(_http_date(resp.modified), usegmt=True)
            if self._not_modified(etag, resp.modified):
                status, body = 304, b""
                headers.pop("Content-Type")
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)

    def _not_modified(self, etag: str, modified: date | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # takes precedence over If-Modified-Since (RFC 9110 13.2.2)
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims and modified is not None:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return _http_date(modified) <= since
        return False

    def log_message(self, fmt: str, *args) -> None:
        log.debug("demo board: " + fmt, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m skillsignal.demo.board",
        description="Serve the SkillSignal demo job board (deterministic template postings) until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free port; default 8765)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    board = DemoBoard(port=args.port, host=args.host).start()
    log.info("list:    %s", board.list_url)
    log.info("sitemap: %s", board.sitemap_url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        board.close()


if __name__ == "__main__":
    main()
