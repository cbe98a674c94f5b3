"""The embedded default store (:class:`SQLiteStore`), one module per concern:

* ``schema`` – the tables by version; ``migrations`` – bringing a file to the current version;
* ``connection`` – a connection per thread, write transactions; ``writes`` – upserts and marks;
* ``sql`` – filters, facets and periods as SQL; ``reads`` – postings and full-text search;
  ``analytics`` – the counts every query is answered from;
* ``store`` – :class:`SQLiteStore`, composing them.
"""

from __future__ import annotations

from .store import SQLiteStore

__all__ = ["SQLiteStore"]
