"""Request bodies are bounded (SKILLSIGNAL_MAX_REQUEST_BYTES, 413 with a clear message), and one
anonymous ``POST /v1/extract`` of a long text no longer holds a core for minutes (issue 12,
item 2). Through real uvicorn servers on 127.0.0.1."""

from __future__ import annotations

import json

import httpx
import pytest

from skillsignal.core.config import Settings
from tests.live_server import serve

from .conftest import FakeExtractor


@pytest.fixture(scope="module")
def small_limit(tmp_path_factory):
    from skillsignal.server import build_app

    app = build_app(Settings(data_dir=tmp_path_factory.mktemp("limit"), max_request_bytes=4096, use_embeddings=False))
    app.state.extractor = FakeExtractor()
    with serve(app) as url:
        yield url


POSTING = {"id": "x", "source": "api", "title": "数据分析师", "description": "熟悉Python"}


def test_body_under_the_limit_is_served(small_limit):
    res = httpx.post(f"{small_limit}/v1/extract", json=POSTING)
    assert res.status_code == 200, res.text


def test_body_over_the_limit_is_413_by_its_length(small_limit):
    res = httpx.post(f"{small_limit}/v1/extract", json={**POSTING, "description": "熟悉Python" * 1000})
    assert res.status_code == 413
    detail = res.json()["detail"]
    assert "4,096 bytes" in detail and "SKILLSIGNAL_MAX_REQUEST_BYTES" in detail


def test_chunked_body_over_the_limit_is_413(small_limit):
    body = json.dumps({**POSTING, "description": "熟悉Python" * 1000}).encode()

    def chunks():
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    res = httpx.post(f"{small_limit}/v1/extract", content=chunks(), headers={"content-type": "application/json"})
    assert res.status_code == 413, res.text
    assert "SKILLSIGNAL_MAX_REQUEST_BYTES" in res.json()["detail"]


def test_the_default_limit_holds_a_full_length_description():
    limit = Settings().max_request_bytes
    posting = json.dumps({**POSTING, "description": "熟" * 1_000_000}, ensure_ascii=False).encode()
    assert len(posting) < limit


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_extract_of_an_80000_character_sentence_is_answered(tmp_path):
    """The issue's request: 80,000 characters in one sentence took 150 s."""
    from skillsignal.server import build_app

    app = build_app(Settings(data_dir=tmp_path, use_embeddings=False))
    with serve(app) as url:
        unit = "熟悉Python、Java、C/C++、R语言和SQL，了解Hadoop与Spark，计算机相关专业，"
        text = (unit * (80_000 // len(unit) + 1))[:80_000]
        res = httpx.post(f"{url}/v1/extract", json={**POSTING, "description": text}, timeout=170)
        assert res.status_code == 200, res.text
        assert {"python", "java", "hadoop"} <= {s["id"] for s in res.json()["skills"]}
