"""The planted-signal histories in real SQLite stores, built once per seed for the session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from storage import SQLiteStore

from .synthetic import History, generate

#: the seeds every planted-signal test runs with
SEEDS = (1, 2, 3)

Planted = Callable[[int], tuple[History, SQLiteStore]]


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    """seed -> (the generated history, a SQLite store file holding it), each built once."""
    built: dict[int, tuple[History, SQLiteStore]] = {}
    folder = tmp_path_factory.mktemp("signals-planted")

    def get(seed: int) -> tuple[History, SQLiteStore]:
        if seed not in built:
            history = generate(seed)
            store = SQLiteStore(folder / f"planted-{seed}.sqlite3")
            store.index_postings(history.postings)  # each posting carries its extraction
            store.set_duplicates(dict(history.duplicates))
            built[seed] = (history, store)
        return built[seed]

    yield get
    for _, store in built.values():
        store.close()
