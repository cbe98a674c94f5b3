"""The ``backend`` fixture: every backend under test, loaded with the same generated postings.

To add a backend, add its name to ``BACKENDS`` and a factory to ``FACTORIES`` (a callable taking a
temporary directory and returning an empty :class:`storage.base.PostingIndex`; skip inside it when
the backend's server is unavailable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from storage.base import PostingIndex

from . import data


def _sqlite(tmp: Path) -> PostingIndex:
    from storage.sqlite import SQLiteStore

    return SQLiteStore(tmp / "conformance.sqlite3")


FACTORIES: dict[str, Callable[[Path], PostingIndex]] = {"sqlite": _sqlite}
BACKENDS = list(FACTORIES)


@pytest.fixture(scope="session")
def dataset():
    return data.generate()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tmp_path_factory, dataset) -> PostingIndex:
    postings, dups = dataset
    index = FACTORIES[request.param](tmp_path_factory.mktemp(request.param))
    assert isinstance(index, PostingIndex)
    index.index_postings(postings[: len(postings) // 2])
    index.index_postings(postings[len(postings) // 2 :])
    index.index_postings(postings[:50])  # re-indexing the same ids changes nothing
    index.set_duplicates(dups)
    index.refresh()
    return index
