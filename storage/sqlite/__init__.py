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
from .files import StoreCorruptError, check_sqlite_file, corrupt_error, is_corruption, quick_check_problem
from .store import SQLiteStore

__all__ = [
    "SQLiteStore", "StoreCorruptError", "StoreError", "check_sqlite_file", "corrupt_error", "is_corruption",
    "quick_check_problem",
]
