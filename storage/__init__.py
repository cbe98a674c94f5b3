"""Indexes postings and their extracted facts and answers counts over them.

``SQLiteStore`` is the embedded default (no server). Every backend takes the same
:class:`PostingFilter`.
"""

from __future__ import annotations

from skillsignal.config import Settings, get_settings

from .filters import PostingFilter
from .sqlite import FACET_COLUMNS, SQLiteStore, StoreError


def open_store(settings: Settings | None = None) -> SQLiteStore:
    """The store the settings name (the SQLite file under the data directory by default)."""
    settings = settings or get_settings()
    settings.ensure_dirs()
    return SQLiteStore(settings.db_path)


__all__ = ["FACET_COLUMNS", "PostingFilter", "SQLiteStore", "StoreError", "open_store"]
