"""Elasticsearch / OpenSearch backend of :class:`storage.base.PostingIndex`.

* :mod:`.queries` – the one query builder (filters, composite facets, date histograms, search);
* :mod:`.documents` – posting -> document, hit -> ``PostingHit``;
* :mod:`.mapping` + ``index_template.json`` – settings and mappings, versioned index names;
* :mod:`.index` – :class:`SearchIndex`: index management, writes, postings; :mod:`.aggregations` – the
  counting hooks of :class:`storage.shared.SharedIndex` as requests; :mod:`.clients` – the two thin adapters;
* :func:`reindex` – build a new concrete index and swap the alias atomically.
"""

from __future__ import annotations

from typing import Any

from skillsignal.core.config import Settings

from ..base import median_of_histogram
from .aggregations import SearchStoreError
from .clients import ElasticsearchIndex, OpenSearchIndex, split_credentials
from .index import SearchIndex
from .reindex import reindex


def open_search_index(settings: Settings, **kwargs: Any) -> SearchIndex:
    """The search-server store the settings name (``backend`` elasticsearch or opensearch)."""
    if settings.backend == "elasticsearch":
        return ElasticsearchIndex.connect(settings.search_url, settings.search_index, **kwargs)
    if settings.backend == "opensearch":
        return OpenSearchIndex.connect(settings.search_url, settings.search_index, **kwargs)
    raise SearchStoreError(f"backend {settings.backend!r} is not a search server; use elasticsearch or opensearch")


__all__ = [
    "ElasticsearchIndex",
    "OpenSearchIndex",
    "SearchIndex",
    "SearchStoreError",
    "median_of_histogram",
    "open_search_index",
    "reindex",
    "split_credentials",
]
