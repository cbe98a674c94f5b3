"""``GET /metrics``: Prometheus text format (``prometheus_client``).

What it serves:

* ``skillsignal_http_request_duration_seconds{method,route}`` (histogram) and
  ``skillsignal_http_requests_total{method,route,status}``: every request, labelled by the route
  *template* (``/v1/postings/{posting_id}``, never the raw path, so the series stay bounded;
  ``<unmatched>`` for a path no route serves);
* the process-wide counters of :mod:`skillsignal.core.metrics` (postings crawled / stored /
  extracted, crawl errors by kind), as far as they happened in this process;
* ``skillsignal_extraction_queue_depth`` and ``skillsignal_extraction_lag_seconds``: from the
  provider the application registers (``skillsignal.core.metrics.set_queue_stats_provider``); without
  one the depth is the store's count of postings not extracted yet and the lag is not reported;
* ``skillsignal_store_postings{state}``: the store's own counts (all, extracted, extraction_error),
  which cover every process writing to it;
* the ``process_*``/``python_*`` metrics of ``prometheus_client``'s default collectors.

The compose file scrapes nothing; ``docker/README.md`` shows the lines that add a Prometheus.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skillsignal.core.metrics import queue_stats
from storage import PostingIndex

log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "skillsignal_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.0, 5.0, 10.0),
)
REQUESTS = Counter(
    "skillsignal_http_requests",
    "Requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)

UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (set by the router while it routes)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    """Times every HTTP request and counts it by route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", ""))
            REQUEST_SECONDS.labels(method=method, route=route).observe(time.perf_counter() - started)
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()


class _ProcessWide(Collector):
    """Everything on ``prometheus_client``'s default registry (this module's and the core's metrics)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class StoreCollector(Collector):
    """Queue depth and lag (the registered provider, else the store's unextracted count) and the
    store's counts, read at scrape time."""

    def __init__(self, store: PostingIndex) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        counts: dict[str, int] | None = None
        try:
            stats = self.store.stats()
            counts = {
                "all": int(str(stats["postings"])),
                "extracted": int(str(stats["extracted"])),
                "extraction_error": int(str(stats["extraction_errors"])),
            }
        except Exception as exc:  # a store that cannot answer must not break the scrape (/health reports it)
            log.warning("metrics: store counts unavailable: %s", exc)
        if counts is not None:
            store = GaugeMetricFamily(
                "skillsignal_store_postings", "Postings in the store (all processes), by state.", labels=["state"]
            )
            for state, value in counts.items():
                store.add_metric([state], value)
            yield store
        queue = queue_stats()
        depth = GaugeMetricFamily(
            "skillsignal_extraction_queue_depth",
            "Postings waiting for extraction: the task queue's length, or without a queue the store's "
            "postings neither extracted nor failed.",
        )
        if queue is not None:
            depth.add_metric([], queue.depth)
        elif counts is not None:
            depth.add_metric([], max(0, counts["all"] - counts["extracted"] - counts["extraction_error"]))
        if depth.samples:
            yield depth
        if queue is not None and queue.lag_seconds is not None:
            lag = GaugeMetricFamily(
                "skillsignal_extraction_lag_seconds", "How long the oldest posting in the extraction queue has waited."
            )
            lag.add_metric([], queue.lag_seconds)
            yield lag


def registry_for(store: PostingIndex) -> CollectorRegistry:
    """The registry one app serves: the process-wide metrics and its store's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProcessWide())
    registry.register(StoreCollector(store))
    return registry


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    """Serve ``/metrics`` for ``app`` and time its requests (call after ``app.state.store`` is set)."""
    app.state.metrics_registry = registry_for(app.state.store)
    app.include_router(router)
    app.add_middleware(MetricsMiddleware)
