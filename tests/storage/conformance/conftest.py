"""The ``backend`` fixture: every backend under test, loaded with the same generated postings.

Backends: ``sqlite`` (always); ``opensearch-osmem`` (OpenSearchIndex on an in-memory osmem-server,
one concrete index per posting month); ``elasticsearch-osmem`` (ElasticsearchIndex, the official
client through a test-only transport shim, on the same server, one index per posting year);
``elasticsearch`` / ``opensearch`` (real servers, when ``ELASTICSEARCH_URL`` / ``OPENSEARCH_URL``
is set; skipped otherwise).

To add a backend, add a factory to ``FACTORIES``: a callable taking the pytest request and a
temporary directory and returning an empty :class:`storage.base.PostingIndex` (skip inside it when
the backend's server is unavailable).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from storage.base import PostingIndex

from . import data
from .servers import drop_search_indices, elasticsearch_client_for_osmem, real_server_url, unique_alias


def _sqlite(request, tmp: Path) -> PostingIndex:
    from storage.sqlite import SQLiteStore

    return SQLiteStore(tmp / "conformance.sqlite3")


def _opensearch_osmem(request, tmp: Path) -> PostingIndex:
    from storage.search import OpenSearchIndex

    # monthly indices: every answer must span the many concrete indices behind the alias
    return OpenSearchIndex.connect(request.getfixturevalue("osmem_search_url"), unique_alias("conf-os"), period="month")


def _elasticsearch_osmem(request, tmp: Path) -> PostingIndex:
    from storage.search import ElasticsearchIndex

    url = request.getfixturevalue("osmem_search_url")
    return ElasticsearchIndex(elasticsearch_client_for_osmem(url), unique_alias("conf-es"))


def _elasticsearch(request, tmp: Path) -> PostingIndex:
    from storage.search import ElasticsearchIndex

    return ElasticsearchIndex.connect(real_server_url("ELASTICSEARCH_URL"), unique_alias("skillsignal-conf"))


def _opensearch(request, tmp: Path) -> PostingIndex:
    from storage.search import OpenSearchIndex

    return OpenSearchIndex.connect(real_server_url("OPENSEARCH_URL"), unique_alias("skillsignal-conf"))


FACTORIES: dict[str, Callable[..., PostingIndex]] = {
    "sqlite": _sqlite,
    "opensearch-osmem": _opensearch_osmem,
    "elasticsearch-osmem": _elasticsearch_osmem,
    "elasticsearch": _elasticsearch,
    "opensearch": _opensearch,
}
BACKENDS = list(FACTORIES)


@pytest.fixture(scope="session")
def dataset():
    return data.generate()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tmp_path_factory, dataset) -> PostingIndex:
    postings, dups = dataset
    index = FACTORIES[request.param](request, tmp_path_factory.mktemp(request.param))
    assert isinstance(index, PostingIndex)
    index.index_postings(postings[: len(postings) // 2])
    index.index_postings(postings[len(postings) // 2 :])
    index.index_postings(postings[:50])  # re-indexing the same ids changes nothing
    index.set_duplicates(dups)
    index.refresh()
    yield index
    drop_search_indices(index)  # leave the shared server clean


#: the backends the posting-life and signal tests run on
LIFE_BACKENDS = BACKENDS


@pytest.fixture(params=LIFE_BACKENDS)
def empty_backend(request, tmp_path) -> PostingIndex:
    """A fresh, empty store of each backend (one per test)."""
    index = FACTORIES[request.param](request, tmp_path)
    yield index
    drop_search_indices(index)
    index.close()


@pytest.fixture(scope="session")
def life_dataset():
    return data.generate_lives()


@pytest.fixture(scope="module", params=LIFE_BACKENDS)
def life_backend(request, tmp_path_factory, life_dataset) -> PostingIndex:
    """Each backend loaded with :func:`data.generate_lives`'s postings through every write that
    moves seen dates: upserts, a repeated and a replayed-older batch, ``mark_seen`` and ``close_unseen``."""
    postings, dups, replay, seen, close = life_dataset
    index = FACTORIES[request.param](request, tmp_path_factory.mktemp(f"life-{request.param}"))
    index.index_postings(postings)
    index.index_postings(postings[:60])  # re-ingesting the same postings changes nothing
    index.index_postings(replay)  # an older file: no date moves backwards, nothing reopens
    index.set_duplicates(dups)
    assert set(index.mark_seen(seen)) == set(seen)
    index.close_unseen(*close)
    index.refresh()
    yield index
    drop_search_indices(index)
