"""Elasticsearch / OpenSearch backend of :class:`storage.base.PostingIndex`.

* :mod:`.queries` – the one query builder (filters, composite facets, date histograms, search);
* :mod:`.documents` – posting -> document, hit -> ``PostingHit``;
* :mod:`.mapping` + ``index_template.json`` – settings and mappings, index generations;
* :mod:`.layout` – time-based concrete indices (one per posting year or month) and the shard sizing rule;
* :mod:`.index` – :class:`SearchIndex`: index management, writes, postings; :mod:`.aggregations` – the
  counting hooks of :class:`storage.shared.SharedIndex` as requests; :mod:`.clients` – the two thin adapters;
* :func:`reindex` – build a new concrete index and swap the alias atomically.
"""

from __future__ import annotations

from typing import Any

from skillsignal.core.config import Settings

from ..base import median_of_histogram
from .aggregations import SearchStoreError
from .clients import ElasticsearchIndex, OpenSearchIndex, split_credentials, split_hosts
from .index import BulkOptions, SearchIndex
from .layout import Layout, ShardPlan, shard_plan
from .reindex import reindex


def cluster_options(settings: Settings) -> dict[str, Any]:
    """The layout, shard plan and bulk behaviour the settings give (keyword arguments of the stores)."""
    period = settings.search_index_period
    return {
        "period": period,
        "plan": shard_plan(
            period=period,
            nodes=settings.search_nodes,
            postings_per_year=settings.search_postings_per_year,
            bytes_per_posting=settings.search_bytes_per_posting,
            target_shard_gb=settings.search_target_shard_gb,
            shards=settings.search_shards,
            replicas=settings.search_replicas,
        ),
        "bulk": BulkOptions(
            chunk_size=settings.search_bulk_chunk,
            max_chunk_bytes=settings.search_bulk_max_bytes,
            max_retries=settings.search_bulk_max_retries,
            initial_backoff=settings.search_bulk_initial_backoff,
            max_backoff=settings.search_bulk_max_backoff,
        ),
    }


def open_search_index(settings: Settings, **kwargs: Any) -> SearchIndex:
    """The search-server store the settings name (``backend`` elasticsearch or opensearch)."""
    kwargs = {**cluster_options(settings), **kwargs}
    if settings.backend == "elasticsearch":
        return ElasticsearchIndex.connect(settings.search_url, settings.search_index, **kwargs)
    if settings.backend == "opensearch":
        return OpenSearchIndex.connect(settings.search_url, settings.search_index, **kwargs)
    raise SearchStoreError(f"backend {settings.backend!r} is not a search server; use elasticsearch or opensearch")


__all__ = [
    "BulkOptions",
    "Layout",
    "ShardPlan",
    "ElasticsearchIndex",
    "OpenSearchIndex",
    "SearchIndex",
    "SearchStoreError",
    "cluster_options",
    "median_of_histogram",
    "open_search_index",
    "reindex",
    "shard_plan",
    "split_credentials",
    "split_hosts",
]
