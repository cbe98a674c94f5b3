"""Fixtures for crawler tests: settings without embeddings, store helpers, local sites."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `from sites import JobSite`


@pytest.fixture
def crawl_settings(settings):
    """The shared tmp-dir settings, without the embedding model (crawl tests never load it)."""
    return settings.model_copy(update={"use_embeddings": False})


def stored_ids(settings, source: str | None = None) -> list[str]:
    from storage import open_store

    store = open_store(settings)
    try:
        return [p.id for p in store.iter_postings() if source is None or p.source == source]
    finally:
        store.close()
