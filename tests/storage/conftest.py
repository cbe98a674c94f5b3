"""Fixtures of the storage tests: the osmem-server search server (session-scoped, see
``conformance/servers.py``), shared by the conformance suite and the search-index tests."""

from tests.storage.conformance.servers import osmem_search_url

__all__ = ["osmem_search_url"]
