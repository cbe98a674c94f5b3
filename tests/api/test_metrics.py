"""``/metrics`` scraped from a real uvicorn server on 127.0.0.1: request latency by route template,
ingest counters, the store's gauges, and the extraction queue from a registered provider (or the
store's unextracted count without one). Every assertion is on the difference between two scrapes
around what the test did, since counters are process-wide."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from skillsignal.core.metrics import QueueStats, set_queue_stats_provider

from .conftest import API_KEY, FakeExtractor, make_settings, serve


@pytest.fixture(scope="module")
def metrics_server(tmp_path_factory):
    """A real server over its own SQLite file; yields (base URL, the file's path)."""
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path_factory.mktemp("metrics")))
    app.state.extractor = FakeExtractor()
    with serve(app) as url:
        yield url, app.state.store.path


@pytest.fixture
def metrics_url(metrics_server) -> str:
    return metrics_server[0]


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value of every sample /metrics serves."""
    res = httpx.get(f"{url}/metrics")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/plain; version=")
    out = {}
    for family in text_string_to_metric_families(res.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before, after, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def _posting(pid: str, text: str) -> dict[str, str]:
    return {"id": pid, "source": "api", "title": "数据工程师", "description": text, "posted": "2026-10-01"}


def test_requests_are_timed_by_route_template(metrics_url):
    before = scrape(metrics_url)
    for _ in range(3):
        assert httpx.get(f"{metrics_url}/v1/totals").status_code == 200
    for pid in ("no-such-1", "no-such-2"):
        assert httpx.get(f"{metrics_url}/v1/postings/{pid}").status_code == 404
    assert httpx.get(f"{metrics_url}/no/such/path").status_code == 404
    after = scrape(metrics_url)

    h = "skillsignal_http_request_duration_seconds"
    assert moved(before, after, f"{h}_count", method="GET", route="/v1/totals") == 3
    assert moved(before, after, f"{h}_bucket", method="GET", route="/v1/totals", le="+Inf") == 3
    # buckets are cumulative: each holds at most the next one's count
    les = sorted(
        (float(dict(k[1])["le"]), v)
        for k, v in after.items()
        if k[0] == f"{h}_bucket" and dict(k[1])["route"] == "/v1/totals" and dict(k[1])["method"] == "GET"
    )
    assert [v for _, v in les] == sorted(v for _, v in les) and len(les) == 13
    assert moved(before, after, f"{h}_sum", method="GET", route="/v1/totals") > 0

    c = "skillsignal_http_requests_total"
    assert moved(before, after, c, method="GET", route="/v1/postings/{posting_id}", status="404") == 2
    assert moved(before, after, c, method="GET", route="<unmatched>", status="404") == 1
    assert moved(before, after, c, method="GET", route="/v1/totals", status="200") == 3
    routes = {dict(k[1]).get("route") for k in after if k[0].startswith("skillsignal_http_")}
    assert not any("no-such" in r or "no/such" in r for r in routes if r)  # never the raw path


def test_ingest_moves_the_posting_counters_and_the_store_gauges(metrics_url):
    set_queue_stats_provider(None)
    before = scrape(metrics_url)
    res = httpx.post(
        f"{metrics_url}/v1/postings",
        headers={"X-API-Key": API_KEY},
        json=[_posting("m-1", "熟悉python"), _posting("m-2", "负责数据平台")],
        timeout=30,
    )
    assert res.status_code == 200, res.text
    again = httpx.post(
        f"{metrics_url}/v1/postings", headers={"X-API-Key": API_KEY}, json=[_posting("m-1", "熟悉python")], timeout=30
    )
    assert again.json()["unchanged"] == 1
    after = scrape(metrics_url)

    assert moved(before, after, "skillsignal_postings_stored_total") == 2
    assert moved(before, after, "skillsignal_postings_unchanged_total") == 1
    assert moved(before, after, "skillsignal_postings_extracted_total", outcome="ok") == 2
    assert moved(before, after, "skillsignal_postings_extracted_total", outcome="error") == 0
    assert moved(before, after, "skillsignal_store_postings", state="all") == 2
    assert moved(before, after, "skillsignal_store_postings", state="extracted") == 2
    # no queue registered: the depth is the store's postings neither extracted nor failed
    assert value(after, "skillsignal_extraction_queue_depth") == 0
    assert ("skillsignal_extraction_lag_seconds", ()) not in after
    assert (
        moved(before, after, "skillsignal_http_requests_total", method="POST", route="/v1/postings", status="200") == 2
    )


def test_unextracted_postings_count_as_queue_depth_without_a_queue(metrics_server):
    """A posting stored raw (as ingest does when extraction is left to workers) waits in the store."""
    from storage import SQLiteStore
    from tests.storage.conformance import data

    metrics_url, db = metrics_server
    set_queue_stats_provider(None)
    before = scrape(metrics_url)
    postings, _ = data.generate(n=4, seed=5)
    raw = [p.model_copy(update={"id": f"raw-{p.id}", "extraction": None}) for p in postings]
    writer = SQLiteStore(db)
    writer.index_postings(raw)
    writer.close()
    after = scrape(metrics_url)
    assert moved(before, after, "skillsignal_store_postings", state="all") == 4
    assert moved(before, after, "skillsignal_extraction_queue_depth") == 4


def test_a_registered_queue_provider_fills_depth_and_lag(metrics_url):
    set_queue_stats_provider(lambda: QueueStats(depth=17, lag_seconds=2.5))
    try:
        got = scrape(metrics_url)
        assert value(got, "skillsignal_extraction_queue_depth") == 17
        assert value(got, "skillsignal_extraction_lag_seconds") == 2.5

        def broken() -> QueueStats:
            raise ConnectionError("redis is down")

        set_queue_stats_provider(broken)  # a broker that is down: the scrape still answers
        got = scrape(metrics_url)
        assert ("skillsignal_extraction_lag_seconds", ()) not in got
        assert ("skillsignal_extraction_queue_depth", ()) in got  # the store's count instead
    finally:
        set_queue_stats_provider(None)
