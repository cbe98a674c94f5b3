"""Search servers for the conformance suite and the search-backend tests.

* ``osmem_search_url`` (session): an in-memory OpenSearch-compatible server (``osmem-server``,
  installed with the test extra) on a free 127.0.0.1 port; skips when the package is absent.
* :class:`ProductShimNode`: lets the official ``elasticsearch`` 8/9 client talk to osmem in tests.
  That client sends ``application/vnd.elasticsearch+json; compatible-with=N`` media types (osmem
  answers 406) and refuses responses without ``X-Elastic-Product: Elasticsearch``; this transport
  node rewrites the media types to plain JSON and adds the header. Test-only: never use it against
  a real server.
* ``ELASTICSEARCH_URL`` / ``OPENSEARCH_URL``: a real server to run the suite against as well.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest

_COMPAT = re.compile(r"application/vnd\.elasticsearch\+([a-z-]+)(;\s*compatible-with=\d+)?")


def unique_alias(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def drop_search_indices(index: object) -> None:
    """Delete every concrete index behind a search store's alias (the test servers are shared);
    nothing for a store that is not a search index."""
    if hasattr(index, "current_indices"):
        for name in index.current_indices():
            index.delete_index(name)


@pytest.fixture(scope="session")
def osmem_search_url():
    try:
        from osmem_server import OsmemError, OsmemServer
    except ImportError:
        pytest.skip("osmem-server is not installed (pip install -e '.[test]'); search backends are not tested")
    try:
        server = OsmemServer.start(freeze=False, japanese=False)
    except OsmemError as exc:
        pytest.skip(f"osmem-server did not start: {exc}")
    yield server.url
    server.close()


def _shim_node_class():
    from elastic_transport import Urllib3HttpNode

    class ProductShimNode(Urllib3HttpNode):
        def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # type: ignore[override]  # untyped test shim of a typed client method
            if headers is not None:
                headers = headers.copy()
                for name in ("accept", "content-type"):
                    if name in headers:
                        headers[name] = _COMPAT.sub(r"application/\1", headers[name])
            resp = super().perform_request(method, target, body=body, headers=headers, request_timeout=request_timeout)
            resp.meta.headers["x-elastic-product"] = "Elasticsearch"
            return resp

    return ProductShimNode


def elasticsearch_client_for_osmem(url: str, **options):
    """The official client, configured with :class:`ProductShimNode` to reach osmem."""
    from elasticsearch import Elasticsearch

    return Elasticsearch(url, node_class=_shim_node_class(), request_timeout=60, **options)


def real_server_url(name: str) -> str:
    url = os.environ.get(name)
    if not url:
        pytest.skip(f"{name} is not set: set it to a running server's URL to run this backend's conformance")
    return url
