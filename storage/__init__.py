"""Indexes postings and their extracted facts and answers counts over them.

``SQLiteStore`` is the embedded default (no server); ``storage.search`` holds the
Elasticsearch/OpenSearch backend (``SKILLSIGNAL_BACKEND=elasticsearch|opensearch``). Every backend
implements :class:`storage.base.PostingIndex` and takes the same :class:`PostingFilter`.
"""

from __future__ import annotations

from skillsignal.core.config import Settings, get_settings
from skillsignal.core.state_files import StoreCorruptError, StoreError, corrupt_error, is_corruption

from .base import CursorError, PostingIndex, SeriesLimitError
from .filters import PostingFilter
from .sqlite import SQLiteStore


def open_store(settings: Settings | None = None) -> PostingIndex:
    """The store ``settings.backend`` names: the SQLite file under the data directory (default), or
    the index alias ``settings.search_index`` on the Elasticsearch/OpenSearch server at
    ``settings.search_url``."""
    settings = settings or get_settings()
    settings.ensure_dirs()
    if settings.backend in ("elasticsearch", "opensearch"):
        # lazy: the search clients (elasticsearch + opensearch-py, 0.65 s) load only when a server is used
        from .search import open_search_index

        return open_search_index(settings)
    return SQLiteStore(settings.db_path)


__all__ = [
    "CursorError",
    "PostingFilter",
    "PostingIndex",
    "SQLiteStore",
    "SeriesLimitError",
    "StoreCorruptError",
    "StoreError",
    "corrupt_error",
    "is_corruption",
    "open_store",
]
