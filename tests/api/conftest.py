"""An app over a real SQLite file seeded with generated postings; TestClient and a real uvicorn server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from skillsignal.core.config import Settings
from skillsignal.core.models import Extraction, OccupationMatch, SkillMatch
from tests.live_server import serve
from tests.storage.conformance import data

API_KEY = "test-key-123"


class FakeExtractor:
    """Stands in for nlp.extractor.Extractor: names 'python' when the text says so."""

    taxonomy_version = "fake-tax"

    def extract(self, posting) -> Extraction:
        text = f"{posting.title} {posting.description}".lower()
        skills = [SkillMatch(id="python", name="Python", mentions=["python"])] if "python" in text else []
        return Extraction(
            occupation=OccupationMatch(code="2-02-38-01", name="人工智能工程技术人员"),
            level="中级",
            skills=skills,
            taxonomy_version=self.taxonomy_version,
            extractor_version="fake",
        )

    def extract_many(self, postings):
        return [self.extract(p) for p in postings]


def make_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", api_key=API_KEY, max_page_size=50, use_embeddings=False)


@pytest.fixture(scope="session")
def dataset():
    return data.generate()


@pytest.fixture(scope="session")
def seeded_app(tmp_path_factory, dataset):
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path_factory.mktemp("api")))
    postings, dups = dataset
    app.state.store.index_postings(postings)
    app.state.store.set_duplicates(dups)
    app.state.extractor = FakeExtractor()
    return app


@pytest.fixture(scope="session")
def client(seeded_app):
    with TestClient(seeded_app) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A real uvicorn server on 127.0.0.1 (its own empty store), started in a thread."""
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path_factory.mktemp("live")))
    app.state.extractor = FakeExtractor()
    with serve(app) as url:
        yield url, app.state.settings.db_path


@pytest.fixture(scope="session")
def live_url(live_server) -> str:
    return live_server[0]
