"""The embedded default store (:class:`SQLiteStore`), one module per concern:

* ``schema`` – the tables by version; ``migrations`` – bringing a file to the current version;
* ``files`` – telling a damaged file from a locked one, and what to do about it;
* ``connection`` – a connection per thread, write transactions; ``writes`` – upserts and marks;
* ``sql`` – filters, facets and periods as SQL; ``reads`` – postings and full-text search;
  ``analytics`` – the counts every query is answered from;
* ``store`` – :class:`SQLiteStore`, composing them.
"""

from __future__ import annotations

from ..base import StoreError
from .files import (
    SQLITE_HEADER,
    StoreCorruptError,
    check_sqlite_file,
    corrupt_error,
    is_corruption,
    quick_check_problem,
    store_remedy,
)
from .sql import FACET_COLUMNS, where_clause
from .store import SQLiteStore

__all__ = [
    "FACET_COLUMNS", "SQLITE_HEADER", "SQLiteStore", "StoreCorruptError", "StoreError", "check_sqlite_file",
    "corrupt_error", "is_corruption", "quick_check_problem", "store_remedy", "where_clause",
]
