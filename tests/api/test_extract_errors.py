"""POST /v1/extract: the extractor's ExtractionError is a 422 naming the posting; any other failure,
even one whose class happens to be called ExtractionError, is a server error (matched by class, not name)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from nlp.extractor import ExtractionError

from .conftest import make_settings

POSTING = {"title": "Python开发", "description": "熟悉python"}


class ExtractionErrorLookalike(Exception):
    """Not the extractor's error: same name, unrelated class."""


ExtractionErrorLookalike.__name__ = "ExtractionError"


class Failing:
    taxonomy_version = "fake-tax"

    def __init__(self, exc: Exception):
        self.exc = exc

    def extract(self, posting):
        raise self.exc


@pytest.fixture
def app(tmp_path):
    from api.app import create_app

    return create_app(make_settings(tmp_path))


def test_extraction_error_is_422_naming_the_posting(app):
    app.state.extractor = Failing(ExtractionError("posting x: occupation: model crashed"))
    res = TestClient(app).post("/v1/extract", json=POSTING)
    assert res.status_code == 422, res.text
    assert res.json()["detail"] == [
        {"loc": ["body"], "type": "extraction_error", "msg": "body: posting: posting x: occupation: model crashed"}
    ]


def test_another_error_named_extraction_error_is_a_server_error(app):
    assert ExtractionErrorLookalike.__name__ == ExtractionError.__name__
    app.state.extractor = Failing(ExtractionErrorLookalike("not the extractor's"))
    res = TestClient(app, raise_server_exceptions=False).post("/v1/extract", json=POSTING)
    assert res.status_code == 500
