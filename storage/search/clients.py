"""The two thin client adapters: :class:`OpenSearchIndex` (opensearch-py) and
:class:`ElasticsearchIndex` (the official ``elasticsearch`` client). They differ only in how the
client is built, which bulk helper runs and which exceptions mean "not found"/"server trouble";
every request body comes from :mod:`storage.search.queries`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import elastic_transport
import elasticsearch
import elasticsearch.helpers
import opensearchpy
import opensearchpy.helpers

from .index import SearchIndex


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``http://user:pass@host:9200`` -> (``http://host:9200``, (user, pass))."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc)), (unquote(parts.username), unquote(parts.password or ""))


class OpenSearchIndex(SearchIndex):
    """Postings in OpenSearch (or any server that speaks its REST API, such as osmem-server)."""

    backend_name = "opensearch"

    def __init__(self, client: Any, alias: str = "skillsignal-postings", **kwargs: Any):
        self._helpers = opensearchpy.helpers
        self._not_found = (opensearchpy.NotFoundError,)
        self._transport_errors = (opensearchpy.TransportError, opensearchpy.ImproperlyConfigured)
        super().__init__(client, alias, **kwargs)

    @classmethod
    def connect(
        cls, url: str, alias: str = "skillsignal-postings", *, timeout: float = 30.0, **kwargs: Any
    ) -> OpenSearchIndex:
        host, auth = split_credentials(url)
        client = opensearchpy.OpenSearch(hosts=[host], http_auth=auth, timeout=timeout, http_compress=True)
        return cls(client, alias, **kwargs)

    def _bulk(self, actions: Iterable[dict[str, Any]], refresh: bool | str | None) -> tuple[int, list[dict[str, Any]]]:
        extra: dict[str, Any] = {"refresh": refresh} if refresh else {}
        ok, errors = self._helpers.bulk(self.client, actions, chunk_size=self.bulk_chunk, raise_on_error=False, **extra)
        return ok, list(errors)


class ElasticsearchIndex(SearchIndex):
    """Postings in Elasticsearch 8/9 through the official client (``elasticsearch.helpers.streaming_bulk``)."""

    backend_name = "elasticsearch"

    def __init__(self, client: Any, alias: str = "skillsignal-postings", **kwargs: Any):
        self._helpers = elasticsearch.helpers
        self._not_found = (elasticsearch.NotFoundError,)
        self._transport_errors = (elasticsearch.ApiError, elastic_transport.TransportError)
        super().__init__(client, alias, **kwargs)

    @classmethod
    def connect(
        cls,
        url: str,
        alias: str = "skillsignal-postings",
        *,
        timeout: float = 30.0,
        client_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ElasticsearchIndex:
        host, auth = split_credentials(url)
        options: dict[str, Any] = {"request_timeout": timeout, **(client_options or {})}
        if auth:
            options["basic_auth"] = auth
        return cls(elasticsearch.Elasticsearch(host, **options), alias, **kwargs)

    def _bulk(self, actions: Iterable[dict[str, Any]], refresh: bool | str | None) -> tuple[int, list[dict[str, Any]]]:
        extra: dict[str, Any] = {"refresh": refresh} if refresh else {}
        ok, errors = 0, []
        for success, item in self._helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=self.bulk_chunk,
            raise_on_error=False,
            raise_on_exception=True,
            **extra,
        ):
            if success:
                ok += 1
            else:
                errors.append(item)
        return ok, errors
