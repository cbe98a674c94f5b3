"""The search backend's aggregations answer as SQLite's row scan, for random postings and filters.

The SQLite roll-ups are checked against the row scan in ``test_sqlite_rollups.py``; the search
backend keeps no hand-made roll-up (its own aggregations answer every count), so its property is
the same one the other way round: after the same random writes through every write path
(re-ingest with moved keys, re-extraction, near-duplicate marks set and cleared, seen marks), every
routed query under random filters answers on OpenSearch-compatible osmem-server (monthly indices
behind the alias, so every answer spans several concrete indices) exactly as SQLite with the row
scan forced. Derandomized, so CI sees the same examples; floats (medians, intensities) compared
to 1e-9 relative.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from storage import PostingFilter
from storage.search import OpenSearchIndex
from storage.sqlite import SQLiteStore

from .conformance.servers import drop_search_indices, unique_alias
from .test_sqlite_rollups import PROPERTY_SETTINGS, answers, filter_st, load, writes_st


def plain(value: Any) -> Any:
    """An answer as nested plain data (pydantic models dumped)."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def same(a: Any, b: Any, path: str = "") -> None:
    """Assert ``a`` equals ``b``, floats to 1e-9 relative; the message names the first difference."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: {len(a)} items != {len(b)}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float | int) or isinstance(b, float) and isinstance(a, int):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@settings(max_examples=15, **PROPERTY_SETTINGS)
@given(writes=writes_st, filters=st.lists(filter_st, min_size=1, max_size=3))
def test_search_aggregations_answer_as_the_sqlite_row_scan(
    osmem_search_url: str, writes: dict, filters: list[PostingFilter | None]
) -> None:
    search = OpenSearchIndex.connect(osmem_search_url, unique_alias("prop"), period="month")
    with tempfile.TemporaryDirectory() as tmp:
        rows = SQLiteStore(Path(tmp) / "rows.sqlite3")
        rows.use_rollups = False
        try:
            for index in (rows, search):
                load(index, writes)
            search.refresh()
            for flt in [None, *filters]:
                want, got = plain(answers(rows, flt)), plain(answers(search, flt))
                same(got, want, f"filter {flt}")
        finally:
            rows.close()
            drop_search_indices(search)
            search.close()
