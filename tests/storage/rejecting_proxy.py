"""A local HTTP proxy in front of a search server that rejects ``_bulk`` requests with 429, the way
a busy Elasticsearch node does when its write queue is full: the next ``reject_requests`` bulk
requests whole (HTTP 429), then the items of the next ``reject_items`` bulk requests (HTTP 200 with
every item ``status: 429, es_rejected_execution_exception``). Everything else is forwarded as is."""

from __future__ import annotations

import gzip
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class RejectingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.reject_requests = 0
        self.reject_items = 0
        self.bulk_times: list[tuple[float, str]] = []  # (monotonic time, "429" | "items-429" | "ok")
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.path.split("?")[0].endswith("/_bulk"):
                    verdict = proxy._verdict()
                    if verdict == "429":
                        return self._answer(429, _rejection())
                    if verdict == "items-429":
                        body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                        return self._answer(200, _rejected_items(body))
                self._forward(raw)

            def _forward(self, raw: bytes) -> None:
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=raw or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                if resp.getheader("Content-Encoding"):
                    self.send_header("Content-Encoding", resp.getheader("Content-Encoding") or "")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _verdict(self) -> str:
        with self._lock:
            if self.reject_requests:
                self.reject_requests -= 1
                verdict = "429"
            elif self.reject_items:
                self.reject_items -= 1
                verdict = "items-429"
            else:
                verdict = "ok"
            self.bulk_times.append((time.monotonic(), verdict))
            return verdict

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _rejection() -> dict[str, object]:
    return {
        "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution (queue capacity 200)"},
        "status": 429,
    }


def _rejected_items(ndjson: bytes) -> dict[str, object]:
    """A bulk answer that rejects every action of ``ndjson``."""
    lines = [json.loads(x) for x in ndjson.decode().splitlines() if x.strip()]
    items = []
    i = 0
    while i < len(lines):
        op = next(iter(lines[i]))
        meta = lines[i][op]
        items.append({op: {"_index": meta.get("_index"), "_id": meta.get("_id"), "status": 429, **_rejection()}})
        i += 1 if op == "delete" else 2
    return {"took": 1, "errors": True, "items": items}
