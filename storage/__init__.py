"""Indexes postings and their extracted facts and answers counts over them.

``SQLiteStore`` is the embedded default (no server). Every backend implements
:class:`storage.base.PostingIndex` and takes the same :class:`PostingFilter`.
"""

from __future__ import annotations

from skillsignal.config import Settings, get_settings

from .base import CursorError, PostingIndex
from .filters import PostingFilter
from .sqlite import FACET_COLUMNS, SQLiteStore, StoreError


def open_store(settings: Settings | None = None) -> SQLiteStore:
    """The store the settings name (the SQLite file under the data directory by default)."""
    settings = settings or get_settings()
    settings.ensure_dirs()
    return SQLiteStore(settings.db_path)


__all__ = ["FACET_COLUMNS", "CursorError", "PostingFilter", "PostingIndex", "SQLiteStore", "StoreError", "open_store"]
