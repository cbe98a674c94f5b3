"""The Elasticsearch/OpenSearch store: everything but the client calls, shared by both adapters.

Postings live in a versioned concrete index (``<alias>-v<version>-<timestamp>``) behind a
read/write alias; :func:`storage.search.reindex` builds a new one and swaps the alias atomically.
Documents are keyed by posting id, so re-indexing never double-counts, and a write is visible to
the next read (``refresh="wait_for"`` by default; ``refresh_on_write=False`` for bulk loads, then
:meth:`SearchIndex.refresh`).

All counts are exact (:mod:`.aggregations`), so the answers equal the SQLite store's
(``tests/storage/conformance``); the queries themselves come from :class:`storage.shared.SharedIndex`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from skillsignal.core.models import Posting

from ..base import SeenDates, latest_by_id, merge_seen
from . import mapping
from . import queries as q
from .aggregations import SearchAggregations, SearchStoreError
from .documents import POSTING_SOURCE, SEEN_FIELDS, posting_of, seen_fields, stored_seen, to_document

log = logging.getLogger(__name__)

_DUP_FIELDS = ("is_dup", "dup_of")


class SearchIndex(SearchAggregations):
    """:class:`storage.base.PostingIndex` over an Elasticsearch-compatible server.

    Subclasses adapt one client library: they provide :attr:`backend_name`, :meth:`_bulk`,
    :attr:`_not_found` (the library's 404 exception) and :attr:`_transport_errors`.
    """

    def __init__(
        self,
        client: Any,
        alias: str = "skillsignal-postings",
        *,
        refresh_on_write: bool = True,
        create: bool = True,
        page_size: int = 2000,
        bulk_chunk: int = 500,
    ):
        self.client = client
        self.alias = alias
        self.refresh_on_write = refresh_on_write
        self.page_size = page_size
        self.bulk_chunk = bulk_chunk
        if create:
            self.ensure_index()

    # -- adapter hooks -----------------------------------------------------------------------
    def _bulk(self, actions: Iterable[dict[str, Any]], refresh: bool | str | None) -> tuple[int, list[dict[str, Any]]]:
        """Send actions through the library's bulk helper; returns (succeeded, errors)."""
        raise NotImplementedError

    # -- index management --------------------------------------------------------------------
    def ensure_index(self) -> str:
        """Create the template, a concrete index and the alias unless the alias exists; returns the
        concrete index the alias writes to."""
        current = self.current_indices()
        if current:
            return current[-1]
        if self._call(self.client.indices.exists, index=self.alias):
            raise SearchStoreError(
                f"{self.alias!r} is a concrete index, not an alias; run storage.search.reindex() on another "
                "alias name or delete that index"
            )
        self.put_template()
        # A fixed first name, so that two processes starting together (API and crawler) create one
        # index, not two behind the alias; re-indexing creates timestamped ones.
        name = mapping.initial_name(self.alias)
        try:
            self._call(self.client.indices.create, index=name, body=mapping.index_body())
        except SearchStoreError as exc:
            if "resource_already_exists" not in str(exc.__cause__ or exc):
                raise
        self._call(
            self.client.indices.update_aliases,
            body={"actions": [{"add": {"index": name, "alias": self.alias, "is_write_index": True}}]},
        )
        log.info("created search index %s behind alias %s", name, self.alias)
        return name

    def put_template(self) -> None:
        self._call(
            self.client.indices.put_index_template,
            name=f"{self.alias}-template",
            body=mapping.template_body(self.alias),
        )

    def create_concrete_index(self) -> str:
        name = mapping.concrete_name(self.alias)
        self._call(self.client.indices.create, index=name, body=mapping.index_body())
        return name

    def current_indices(self) -> list[str]:
        """Concrete indices behind the alias (sorted by name, so by creation time)."""
        try:
            got = self._call(self.client.indices.get_alias, name=self.alias)
        except self._not_found:
            return []
        return sorted(got)

    def swap_alias(self, new_index: str) -> list[str]:
        """Point the alias at ``new_index`` only, in one atomic request; returns the old indices."""
        old = [i for i in self.current_indices() if i != new_index]
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
        actions.append({"add": {"index": new_index, "alias": self.alias, "is_write_index": True}})
        self._call(self.client.indices.update_aliases, body={"actions": actions})
        return old

    def delete_index(self, name: str) -> None:
        self._call(self.client.indices.delete, index=name)

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close:
            close()

    # -- writes ------------------------------------------------------------------------------
    def _refresh_arg(self) -> str | None:
        return "wait_for" if self.refresh_on_write else None

    def _check(self, errors: list[dict[str, Any]], ignore_missing: bool = False) -> None:
        bad = [e for e in errors if not (ignore_missing and next(iter(e.values())).get("status") == 404)]
        if bad:
            first = json.dumps(bad[0], ensure_ascii=False)[:500]
            raise SearchStoreError(f"{len(bad)} bulk actions failed; first: {first}")

    def write_actions(
        self,
        postings: Sequence[Posting],
        index: str | None = None,
        dups: dict[str, str | None] | None = None,
        seen: Mapping[str, SeenDates] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Bulk actions for postings. Existing documents are partially updated without touching their
        near-duplicate marks; new ones are inserted (upsert) unmarked, or with ``dups`` marks. ``seen``:
        the seen dates to store per id (default: those each posting brings)."""
        now = datetime.now(UTC)
        for p in postings:
            dup_of = (dups or {}).get(p.id)
            doc = to_document(p, seen=(seen or {}).get(p.id), is_dup=dup_of is not None, dup_of=dup_of, now=now)
            if dups is not None:
                yield {"_op_type": "index", "_index": index or self.alias, "_id": p.id, "_source": doc}
            else:
                partial = {k: v for k, v in doc.items() if k not in _DUP_FIELDS}
                yield {"_op_type": "update", "_index": index or self.alias, "_id": p.id, "doc": partial, "upsert": doc}

    def index_postings(self, postings: Sequence[Posting]) -> int:
        if not postings:
            return 0
        latest = latest_by_id(postings)
        stored = self._stored_seen(list(latest))
        merged = {pid: merge_seen(stored[pid][0] if pid in stored else None, s) for pid, (_, s) in latest.items()}
        actions = self.write_actions([p for p, _ in latest.values()], seen=merged)
        ok, errors = self._bulk(actions, self._refresh_arg())
        self._check(errors)
        return len(latest)

    def _stored_seen(self, ids: Sequence[str]) -> dict[str, tuple[SeenDates, str]]:
        """id -> (stored seen dates, source) for those of ``ids`` in the index."""
        out: dict[str, tuple[SeenDates, str]] = {}
        for i in range(0, len(ids), 500):
            body = q.ids_body(ids[i : i + 500], ["id", "source", "crawled_at", *SEEN_FIELDS])
            for h in self._search(body)["hits"]["hits"]:
                src = h["_source"]
                out[src["id"]] = (stored_seen(src), src["source"])
        return out

    def mark_seen(self, seen: Mapping[str, date]) -> dict[str, str]:
        """See :meth:`storage.base.PostingIndex.mark_seen`: partial updates of the seen fields only."""
        stored = self._stored_seen(list(seen))
        actions = []
        for pid, (before, _) in stored.items():
            after = merge_seen(before, SeenDates(seen[pid], seen[pid]))
            if after != before:
                actions.append({"_op_type": "update", "_index": self.alias, "_id": pid, "doc": seen_fields(after)})
        if actions:
            _, errors = self._bulk(actions, self._refresh_arg())
            self._check(errors)
        return {pid: source for pid, (_, source) in stored.items()}

    def close_unseen(self, source: str, crawl_started: date) -> int:
        """See :meth:`storage.base.PostingIndex.close_unseen`: the open postings are listed, then closed
        on their last_seen (no server-side script, so every server answers alike)."""
        query = q.open_unseen_query(source, crawl_started)
        actions = []
        for src in self.iter_sources(["last_seen"], 1000, query=query):
            closed = date.fromisoformat(src["last_seen"])
            fields = {"closed_on": closed.isoformat(), "closed": True}
            actions.append({"_op_type": "update", "_index": self.alias, "_id": src["id"], "doc": fields})
        if actions:
            _, errors = self._bulk(actions, self._refresh_arg())
            self._check(errors)
        return len(actions)

    def set_duplicates(self, dup_of: Mapping[str, str | None]) -> None:
        actions = (
            {"_op_type": "update", "_index": self.alias, "_id": pid, "doc": {"dup_of": v, "is_dup": v is not None}}
            for pid, v in dup_of.items()
        )
        _, errors = self._bulk(actions, self._refresh_arg())
        self._check(errors, ignore_missing=True)  # marks for unknown ids are no-ops, as in SQLite

    def refresh(self) -> None:
        self._call(self.client.indices.refresh, index=self.alias)

    # -- reads: postings ---------------------------------------------------------------------
    def get_posting(self, posting_id: str) -> Posting | None:
        hits = self._search(q.ids_body([posting_id], POSTING_SOURCE))["hits"]["hits"]
        return posting_of(hits[0]["_source"]) if hits else None

    def iter_postings(
        self, batch_size: int = 500, only_unextracted: bool = False, index: str | None = None
    ) -> Iterator[Posting]:
        for src in self.iter_sources(POSTING_SOURCE, batch_size, only_unextracted, index):
            yield posting_of(src)

    def iter_sources(
        self,
        fields: Sequence[str],
        batch_size: int = 500,
        only_unextracted: bool = False,
        index: str | None = None,
        query: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The ``_source`` fields of every document (``query``'s), in id order."""
        after: str | None = None
        fields = list(dict.fromkeys(["id", *fields]))
        while True:
            body = q.scan_body(batch_size, after, only_unextracted, fields, query)
            hits = self._search(body, index)["hits"]["hits"]
            for h in hits:
                yield h["_source"]
            if len(hits) < batch_size:
                return
            after = hits[-1]["_source"]["id"]

    def fingerprints(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        out: dict[str, tuple[str, str | None]] = {}
        for i in range(0, len(ids), 500):
            body = q.ids_body(ids[i : i + 500], ["id", "fingerprint", "taxonomy_version"])
            for h in self._search(body)["hits"]["hits"]:
                s = h["_source"]
                out[s["id"]] = (s["fingerprint"], s.get("taxonomy_version"))
        return out

    def date_range(self) -> tuple[date, date] | None:
        aggs = self._search(q.date_range_body())["aggregations"]
        first, last = aggs["first"].get("value_as_string"), aggs["last"].get("value_as_string")
        if aggs["first"].get("value") is None or not first or not last:
            return None
        return date.fromisoformat(first[:10]), date.fromisoformat(last[:10])

    def stats(self) -> dict[str, object]:
        res = self._search(q.stats_body())
        aggs = res["aggregations"]
        return {
            "backend": self.backend_name,
            "alias": self.alias,
            "indices": self.current_indices(),
            "mapping_version": mapping.load_template().version,
            "postings": res["hits"]["total"]["value"],
            "extracted": aggs["extracted"]["doc_count"],
            "extraction_errors": aggs["errors"]["doc_count"],
            "duplicates": aggs["dup"]["doc_count"],
            "skill_mentions": aggs["skills"]["doc_count"],
        }

    def check_integrity(self, max_errors: int = 3) -> str | None:
        """None: the server reports its own health (``_cluster/health``), SkillSignal does not check it."""
        return None
