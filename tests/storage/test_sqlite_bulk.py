"""A bulk load (``storage/sqlite/bulk.py``) ends where the same writes without it end.

On real SQLite files: random writes through every write path inside ``bulk_load()`` leave the
same indexes, the same roll-up tables (equal to a rebuild from the rows) and the same answers as
the same writes into a store without it; while it runs, another connection to the file answers from
the rows, rightly; a second bulk load of the file is refused; an error inside still rebuilds. The
interrupted load (a process killed inside it) is in ``tests/pipeline/test_bulk_ingest.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillsignal.core.state_files import StoreError
from storage import PostingFilter
from storage.sqlite import SQLiteStore
from storage.sqlite.bulk import bulk_load_pending
from storage.sqlite.schema import DEFERRABLE_INDEXES
from tests.storage.test_sqlite_rollups import (
    PROPERTY_SETTINGS,
    _indexes,
    _sample_postings,
    answers,
    filter_st,
    load,
    make,
    rollup_rows,
    row_stats,
    writes_st,
)


@settings(max_examples=12, **PROPERTY_SETTINGS)
@given(writes=writes_st, filters=st.lists(filter_st, min_size=1, max_size=3))
def test_bulk_load_ends_as_the_same_writes_without_it(writes: dict, filters: list[PostingFilter | None]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plain, bulk = SQLiteStore(Path(tmp) / "plain.sqlite3"), SQLiteStore(Path(tmp) / "bulk.sqlite3")
        try:
            load(plain, writes)
            steps: list[str] = []
            with bulk.bulk_load(progress=steps.append):
                load(bulk, writes)
                # meanwhile: the date-keyed indexes are gone, the roll-ups stale, and another
                # connection to the file answers from the rows, rightly
                during = SQLiteStore(bulk.path)
                conn = during._connect()
                assert bulk_load_pending(conn) and not _indexes(conn) & set(DEFERRABLE_INDEXES)
                assert during.stats() | {"path": None} == row_stats(conn) | {"bulk_load_running": True}
                for flt in [None, *filters]:
                    assert answers(during, flt) == answers(plain, flt), flt
                during.close()
            assert steps[-1].startswith("bulk load: finished") and len(steps) > len(DEFERRABLE_INDEXES)
            a, b = plain._connect(), bulk._connect()
            assert _indexes(a) == _indexes(b) and not bulk_load_pending(b)
            assert rollup_rows(a) == rollup_rows(b)
            assert bulk.stats() | {"path": None} == plain.stats() | {"path": None}
            for flt in [None, *filters]:
                for rollups in (True, False):
                    plain.use_rollups = bulk.use_rollups = rollups
                    assert answers(bulk, flt) == answers(plain, flt), (flt, rollups)
            # writes after the load keep the roll-ups exact again
            load(bulk, writes)
            load(plain, writes)
            assert rollup_rows(a) == rollup_rows(b)
        finally:
            plain.close()
            bulk.close()


def test_a_second_bulk_load_of_the_file_is_refused(tmp_path: Path) -> None:
    first, second = SQLiteStore(tmp_path / "s.sqlite3"), SQLiteStore(tmp_path / "s.sqlite3")
    with first.bulk_load():
        first.index_postings([make(i, d) for i, d in enumerate(_sample_postings())])
        with pytest.raises(StoreError, match="another process is bulk-loading"):
            with second.bulk_load():
                pass
        # the refused one changed nothing: the first load is still running
        assert bulk_load_pending(second._connect())
    assert not bulk_load_pending(second._connect())
    with second.bulk_load():  # free again
        pass
    assert second.count_postings() == 4


def test_an_error_inside_still_rebuilds(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    with pytest.raises(RuntimeError, match="source went away"):
        with store.bulk_load():
            store.index_postings([make(i, d) for i, d in enumerate(_sample_postings())])
            raise RuntimeError("source went away")
    conn = store._connect()
    assert set(DEFERRABLE_INDEXES) <= _indexes(conn) and not bulk_load_pending(conn)
    assert store.count_postings() == 4 and conn.execute("SELECT SUM(n) FROM ru_all_m").fetchone()[0] == 4
