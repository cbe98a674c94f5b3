"""The two thin client adapters: :class:`OpenSearchIndex` (opensearch-py) and
:class:`ElasticsearchIndex` (the official ``elasticsearch`` client). They differ only in how the
client is built, whose bulk helper runs and which exceptions mean "not found"/"server trouble";
every request body comes from :mod:`storage.search.queries`."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import elastic_transport
import elasticsearch
import elasticsearch.helpers
import opensearchpy
import opensearchpy.helpers

from .index import SearchIndex

#: statuses the official client's transport retries at once on another node (not 429: see connect)
TRANSPORT_RETRY_ON_STATUS = (502, 503, 504)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``http://user:pass@host:9200`` -> (``http://host:9200``, (user, pass))."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc)), (unquote(parts.username), unquote(parts.password or ""))


def split_hosts(url: str) -> tuple[list[str], tuple[str, str] | None]:
    """``http://u:p@es1:9200,http://es2:9200`` -> ([``http://es1:9200``, ``http://es2:9200``], (u, p)):
    the nodes of a cluster the client spreads requests over (and fails over between); the
    credentials are the first URL that carries any."""
    hosts, auth = [], None
    for part in url.split(","):
        if part.strip():
            host, creds = split_credentials(part.strip())
            hosts.append(host)
            auth = auth or creds
    return hosts, auth


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
        hosts, auth = split_hosts(url)
        client = opensearchpy.OpenSearch(hosts=hosts, http_auth=auth, timeout=timeout, http_compress=True)
        return cls(client, alias, **kwargs)


class ElasticsearchIndex(SearchIndex):
    """Postings in Elasticsearch 8/9 through the official client."""

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
        hosts, auth = split_hosts(url)
        # 429 is left to the bulk helper, which backs off exponentially (BulkOptions); the transport
        # itself would resend at once, adding load to a cluster that asked for less
        options: dict[str, Any] = {
            "request_timeout": timeout,
            "retry_on_status": TRANSPORT_RETRY_ON_STATUS,
            **(client_options or {}),
        }
        if auth:
            options["basic_auth"] = auth
        return cls(elasticsearch.Elasticsearch(hosts, **options), alias, **kwargs)
