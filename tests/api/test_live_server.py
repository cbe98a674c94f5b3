"""Through a real uvicorn server on 127.0.0.1: a posting ingested through the API is counted at once."""

from __future__ import annotations

import time

import httpx

from .conftest import API_KEY


def test_health_and_totals_over_http(live_url):
    assert httpx.get(f"{live_url}/health").json()["status"] == "ok"
    assert httpx.post(f"{live_url}/v1/totals", json={"filter": {}}).json()["total_postings"] == 0


def test_write_without_key_is_401_over_http(live_url):
    res = httpx.post(f"{live_url}/v1/postings", json=[{"id": "a", "source": "api", "title": "x"}])
    assert res.status_code == 401


def test_posting_written_by_another_process_is_counted_at_once(live_server):
    """No cache hides a write: a second store handle (as the crawler's pipeline holds) writes, the API counts."""
    from storage import SQLiteStore
    from tests.storage.conformance import data

    url, db_path = live_server
    before = httpx.get(f"{url}/v1/totals").json()["total_postings"]
    writer = SQLiteStore(db_path)
    postings, _ = data.generate(n=5, seed=11)
    started = time.perf_counter()
    writer.index_postings([p.model_copy(update={"id": f"other-{p.id}"}) for p in postings])
    assert httpx.get(f"{url}/v1/totals").json()["total_postings"] == before + 5
    assert time.perf_counter() - started < 2.0
    writer.close()


def test_ingested_posting_is_counted_within_two_seconds(live_url):
    before = httpx.get(f"{live_url}/v1/totals", params={"skills": "python"}).json()["total_postings"]
    before_all = httpx.get(f"{live_url}/v1/totals").json()["total_postings"]
    started = time.perf_counter()
    res = httpx.post(
        f"{live_url}/v1/postings",
        headers={"X-API-Key": API_KEY},
        timeout=30,
        json=[
            {
                "id": "live-1",
                "source": "api",
                "title": "Python开发工程师",
                "description": "熟悉python",
                "posted": "2026-10-01",
            },
        ],
    )
    assert res.status_code == 200, res.text
    counted = None
    while time.perf_counter() - started < 2.0:
        counted = httpx.get(f"{live_url}/v1/totals", params={"skills": "python"}).json()["total_postings"]
        if counted == before + 1:
            break
    assert counted == before + 1
    assert time.perf_counter() - started < 2.0
    # ingesting the same posting again changes nothing
    httpx.post(
        f"{live_url}/v1/postings",
        headers={"X-API-Key": API_KEY},
        timeout=30,
        json=[{"id": "live-1", "source": "api", "title": "Python开发工程师", "description": "熟悉python"}],
    )
    assert httpx.get(f"{live_url}/v1/totals").json()["total_postings"] == before_all + 1
