"""The Elasticsearch/OpenSearch store: everything but the client calls, shared by both adapters.

Postings live in time-based concrete indices (one per posting year or month, :mod:`.layout`) behind
a read alias; a write goes to the index of the posting's date, and a posting whose date moves to
another period is written there and deleted from the old index in the same bulk request.
:func:`storage.search.reindex` builds a new generation and swaps the alias atomically. Documents
are keyed by posting id, so re-indexing never double-counts, and a write is visible to the next
read (``refresh="wait_for"`` by default; ``refresh_on_write=False`` for bulk loads, then
:meth:`SearchIndex.refresh`). Bulk requests are bounded in actions and bytes and retried with
exponential backoff when the cluster answers 429 (:class:`BulkOptions`).

All counts are exact (:mod:`.aggregations`), so the answers equal the SQLite store's
(``tests/storage/conformance``); the queries themselves come from :class:`storage.shared.SharedIndex`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from skillsignal.core.models import Extraction, Posting

from ..base import SeenDates, latest_by_id, merge_seen, posted_date, with_extractions
from . import mapping
from . import queries as q
from .aggregations import SearchAggregations, SearchStoreError
from .documents import POSTING_SOURCE, SEEN_FIELDS, posting_of, seen_fields, stored_seen, to_document
from .layout import Layout, Period, ShardPlan, parse_layout

log = logging.getLogger(__name__)

_DUP_FIELDS = ("is_dup", "dup_of")


class BulkOptions(BaseModel):
    """How writes are sent: the client's ``streaming_bulk`` helper, one bounded chunk at a time (the
    next chunk waits for the answer to the last: back-pressure), items or whole requests the server
    rejects with 429 retried after ``initial_backoff`` * 2^n seconds (at most ``max_backoff``)."""

    model_config = ConfigDict(frozen=True)

    chunk_size: int = Field(default=500, ge=1)
    max_chunk_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_retries: int = Field(default=6, ge=0)
    initial_backoff: float = Field(default=1.0, gt=0)
    max_backoff: float = Field(default=60.0, gt=0)


@dataclass(frozen=True)
class StoredDoc:
    """What a write needs to know of a posting already indexed: its seen dates, source, near-duplicate
    mark and the concrete indices holding it (two only after a move that failed half-way); its
    content fingerprint, and the (``_seq_no``, ``_primary_term``) of its copy when there is one copy
    (what a conditional write names: :meth:`SearchIndex.save_extractions`)."""

    seen: SeenDates
    source: str
    dup_of: str | None
    indices: tuple[str, ...]
    fingerprint: str | None = None
    version: tuple[int, int] | None = None


class SearchIndex(SearchAggregations):
    """:class:`storage.base.PostingIndex` over an Elasticsearch-compatible server.

    Subclasses adapt one client library: they provide :attr:`backend_name`, :attr:`_helpers`,
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
        period: Period = "year",
        plan: ShardPlan | None = None,
        bulk: BulkOptions | None = None,
    ):
        self.client = client
        self.alias = alias
        self.refresh_on_write = refresh_on_write
        self.page_size = page_size
        self.period: Period = period  # for a new alias and reindex(); a live alias keeps its own layout
        self.plan = plan or ShardPlan(shards=1, replicas=0)
        self.bulk = bulk or BulkOptions()
        self._layout: Layout | None = None
        self._known: set[str] = set()  # concrete indices known to exist behind the alias
        if create:
            self.ensure_index()

    # -- adapter hooks -----------------------------------------------------------------------
    _helpers: Any  # the client library's ``helpers`` module

    def _bulk(self, actions: Iterable[dict[str, Any]], refresh: bool | str | None) -> tuple[int, list[dict[str, Any]]]:
        """Send actions through the library's ``streaming_bulk`` (chunks bounded in actions and
        bytes, 429s retried with backoff: :class:`BulkOptions`); returns (succeeded, errors)."""
        extra: dict[str, Any] = {"refresh": refresh} if refresh else {}
        ok, errors = 0, []
        sent = self._helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=self.bulk.chunk_size,
            max_chunk_bytes=self.bulk.max_chunk_bytes,
            max_retries=self.bulk.max_retries,
            initial_backoff=self.bulk.initial_backoff,
            max_backoff=self.bulk.max_backoff,
            raise_on_error=False,
            raise_on_exception=True,
            **extra,
        )
        try:
            for success, item in sent:
                if success:
                    ok += 1
                else:
                    errors.append(item)
        except self._transport_errors as exc:  # a whole request refused (429 after the retries, 5xx)
            raise SearchStoreError(
                f"{self.backend_name} bulk request failed after {self.bulk.max_retries} retries "
                f"({type(exc).__name__}: {exc}); {ok} actions were written"
            ) from exc
        return ok, errors

    # -- index management --------------------------------------------------------------------
    def ensure_index(self) -> Layout:
        """Create the template, the first concrete index and the alias unless the alias exists;
        returns the layout writes follow."""
        current = self.current_indices()
        if current:
            return self._adopt(current)
        if self._call(self.client.indices.exists, index=self.alias):
            raise SearchStoreError(
                f"{self.alias!r} is a concrete index, not an alias; run storage.search.reindex() on another "
                "alias name or delete that index"
            )
        self.put_template()
        layout = Layout(self.alias, mapping.initial_generation(), self.period)
        self._layout = layout
        name = layout.index_for(datetime.now(UTC).date())  # so that the alias exists before any write
        self.create_index(name)
        log.info("created search index %s behind alias %s (%s indices)", name, self.alias, self.period)
        return layout

    def _adopt(self, current: list[str]) -> Layout:
        layout = parse_layout(self.alias, current)
        if layout is None:
            raise SearchStoreError(
                f"the indices behind {self.alias!r} ({', '.join(current)}) are not named as SkillSignal names "
                "them; run storage.search.reindex() to rebuild them"
            )
        if layout.period != self.period:
            log.info("alias %s holds %s indices; %s applies after reindex()", self.alias, layout.period, self.period)
        self._layout = layout
        self._known = {n for n in current if layout.owns(n)}
        return layout

    @property
    def layout(self) -> Layout:
        """The generation and period writes follow (read from the indices behind the alias)."""
        if self._layout is None:
            self.ensure_index()
        assert self._layout is not None
        return self._layout

    def put_template(self) -> None:
        self._call(
            self.client.indices.put_index_template,
            name=f"{self.alias}-template",
            body=mapping.template_body(self.alias, self.plan),
        )

    def create_index(self, name: str, *, alias: bool = True) -> None:
        """Create concrete index ``name`` with the template's settings and this store's shard plan
        (nothing if it exists: another process may have created it first); ``alias``: add it to the
        alias (idempotent)."""
        try:
            self._call(self.client.indices.create, index=name, body=mapping.index_body(self.plan))
        except SearchStoreError as exc:
            if "resource_already_exists" not in str(exc.__cause__ or exc):
                raise
        if alias:
            self._call(
                self.client.indices.update_aliases, body={"actions": [{"add": {"index": name, "alias": self.alias}}]}
            )
            self._known.add(name)

    def _ensure_indices(self, names: Iterable[str]) -> None:
        for name in sorted(set(names) - self._known):
            self.create_index(name)
            log.info("created search index %s behind alias %s", name, self.alias)

    def current_indices(self) -> list[str]:
        """Concrete indices behind the alias (sorted by name: by generation, then period)."""
        try:
            got = self._call(self.client.indices.get_alias, name=self.alias)
        except self._not_found:
            return []
        return sorted(got)

    def swap_alias(self, new_indices: Sequence[str]) -> list[str]:
        """Point the alias at ``new_indices`` only, in one atomic request; returns the old indices."""
        old = [i for i in self.current_indices() if i not in new_indices]
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
        actions += [{"add": {"index": i, "alias": self.alias}} for i in new_indices]
        self._call(self.client.indices.update_aliases, body={"actions": actions})
        self._layout = None
        self._known = set()
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

    def _check(self, errors: list[dict[str, Any]], ignore: tuple[int, ...] = ()) -> int:
        """Raise on a failed bulk item unless its status is one of ``ignore``; returns how many were."""
        bad = [e for e in errors if next(iter(e.values())).get("status") not in ignore]
        if bad:
            first = json.dumps(bad[0], ensure_ascii=False)[:500]
            raise SearchStoreError(f"{len(bad)} bulk actions failed; first: {first}")
        return len(errors)

    def write_actions(
        self,
        postings: Sequence[Posting],
        layout: Layout | None = None,
        dups: Mapping[str, str | None] | None = None,
        seen: Mapping[str, SeenDates] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Bulk actions for postings, each to the index of its posting date under ``layout`` (default:
        the live one). Existing documents are partially updated without touching their near-duplicate
        marks; new ones are inserted (upsert) unmarked. With ``dups`` the whole document is written
        with those marks. ``seen``: the seen dates to store per id (default: those each posting brings)."""
        layout = layout or self.layout
        now = datetime.now(UTC)
        for p in postings:
            dup_of = (dups or {}).get(p.id)
            doc = to_document(p, seen=(seen or {}).get(p.id), is_dup=dup_of is not None, dup_of=dup_of, now=now)
            target = layout.index_for(posted_date(p))
            if dups is not None:
                yield {"_op_type": "index", "_index": target, "_id": p.id, "_source": doc}
            else:
                partial = {k: v for k, v in doc.items() if k not in _DUP_FIELDS}
                yield {"_op_type": "update", "_index": target, "_id": p.id, "doc": partial, "upsert": doc}

    def index_postings(self, postings: Sequence[Posting]) -> int:
        """Upsert by id. A posting whose date now falls in another period's index is written there
        whole (keeping its near-duplicate mark) and deleted from the index that held it, in one bulk
        request after the new copy; the alias never shows it twice once the request is answered."""
        if not postings:
            return 0
        latest = latest_by_id(postings)
        stored = self._stored(list(latest))
        merged = {pid: merge_seen(stored[pid].seen if pid in stored else None, s) for pid, (_, s) in latest.items()}
        layout = self.layout
        stay: list[Posting] = []
        moved: list[Posting] = []
        for p, _ in latest.values():
            held = stored.get(p.id)
            (moved if held and held.indices != (layout.index_for(posted_date(p)),) else stay).append(p)
        self._ensure_indices(layout.index_for(posted_date(p)) for p, _ in latest.values())
        actions: list[dict[str, Any]] = list(self.write_actions(stay, layout, seen=merged))
        if moved:
            marks = {p.id: stored[p.id].dup_of for p in moved}
            actions += self.write_actions(moved, layout, dups=marks, seen=merged)
            for p in moved:
                target = layout.index_for(posted_date(p))
                actions += [
                    {"_op_type": "delete", "_index": old, "_id": p.id} for old in stored[p.id].indices if old != target
                ]
            log.debug("%d postings moved to another period's index", len(moved))
        _, errors = self._bulk(actions, self._refresh_arg())
        self._check(errors, ignore=(404,))  # a delete of a copy already gone is fine
        return len(latest)

    def _stored(self, ids: Sequence[str]) -> dict[str, StoredDoc]:
        """id -> what is stored of it, for those of ``ids`` in the index."""
        out: dict[str, StoredDoc] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            body = q.ids_body(chunk, ["id", "source", "crawled_at", "dup_of", "fingerprint", *SEEN_FIELDS])
            body["size"] = 2 * len(chunk)  # a half-done move leaves two copies
            body["seq_no_primary_term"] = True
            for h in self._search(body)["hits"]["hits"]:
                src = h["_source"]
                held = out.get(src["id"])
                indices = (*held.indices, h["_index"]) if held else (h["_index"],)
                version = None if held else (int(h["_seq_no"]), int(h["_primary_term"]))
                out[src["id"]] = StoredDoc(
                    stored_seen(src),
                    src["source"],
                    src.get("dup_of"),
                    tuple(sorted(indices)),
                    src.get("fingerprint"),
                    version,
                )
        return out

    def save_extractions(
        self,
        results: Sequence[tuple[Posting, Extraction | None, str | None]],
        expected: Mapping[str, str] | None = None,
    ) -> int:
        """See :meth:`storage.base.PostingIndex.save_extractions`. With ``expected``, the check and the
        write are one step for each posting (optimistic concurrency): its write carries the
        ``if_seq_no`` / ``if_primary_term`` of the copy whose fingerprint was checked, so a posting
        stored again between the check and the write answers 409 and stays as the other writer left it
        (as does one deleted meanwhile: 404). A posting held twice (a move that failed half-way) or
        whose date now belongs to another index takes :meth:`index_postings`'s path, checked just
        before it."""
        updated = with_extractions(results)
        if expected is None or not updated:
            return self.index_postings(updated) if updated else 0
        latest = latest_by_id(updated)
        stored = self._stored(list(latest))
        layout = self.layout
        versions: dict[str, tuple[int, int]] = {}  # id -> the copy checked, for the conditional writes
        other: list[Posting] = []
        for pid, (p, _) in latest.items():
            held = stored.get(pid)
            if held is None or held.fingerprint != expected.get(pid):
                continue  # gone, or stored again with other content: left as it is
            if held.version is not None and held.indices == (layout.index_for(posted_date(p)),):
                versions[pid] = held.version
            else:
                other.append(p)
        merged = {pid: merge_seen(stored[pid].seen, latest[pid][1]) for pid in versions}
        actions = []
        for action in self.write_actions([latest[pid][0] for pid in versions], layout, seen=merged):
            seq_no, term = versions[action["_id"]]
            action.pop("upsert")  # the copy exists (and an upsert may not name a version)
            actions.append({**action, "if_seq_no": seq_no, "if_primary_term": term})
        written, errors = self._bulk(actions, self._refresh_arg()) if actions else (0, [])
        raced = self._check(errors, ignore=(404, 409))  # deleted or stored again after the check
        if raced:
            log.info("%d extractions not saved: their postings changed after the check", raced)
        return written + (self.index_postings(other) if other else 0)

    def _located(self, ids: Iterable[str]) -> Iterator[tuple[str, str]]:
        """(id, concrete index) of each stored copy of ``ids``."""
        for pid, doc in self._stored(list(dict.fromkeys(ids))).items():
            for name in doc.indices:
                yield pid, name

    def mark_seen(self, seen: Mapping[str, date]) -> dict[str, str]:
        """See :meth:`storage.base.PostingIndex.mark_seen`: partial updates of the seen fields only."""
        stored = self._stored(list(seen))
        actions = []
        for pid, held in stored.items():
            after = merge_seen(held.seen, SeenDates(seen[pid], seen[pid]))
            if after != held.seen:
                actions += [
                    {"_op_type": "update", "_index": name, "_id": pid, "doc": seen_fields(after)}
                    for name in held.indices
                ]
        if actions:
            _, errors = self._bulk(actions, self._refresh_arg())
            self._check(errors)
        return {pid: held.source for pid, held in stored.items()}

    def close_unseen(self, source: str, crawl_started: date) -> int:
        """See :meth:`storage.base.PostingIndex.close_unseen`: the open postings are listed, then closed
        on their last_seen (no server-side script, so every server answers alike)."""
        query = q.open_unseen_query(source, crawl_started)
        actions = []
        for hit in self.iter_hits(["last_seen"], 1000, query=query):
            closed = date.fromisoformat(hit["_source"]["last_seen"])
            fields = {"closed_on": closed.isoformat(), "closed": True}
            actions.append({"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": fields})
        if actions:
            _, errors = self._bulk(actions, self._refresh_arg())
            self._check(errors)
        return len({a["_id"] for a in actions})

    def set_duplicates(self, dup_of: Mapping[str, str | None]) -> None:
        actions = (
            {
                "_op_type": "update",
                "_index": name,
                "_id": pid,
                "doc": {"dup_of": dup_of[pid], "is_dup": dup_of[pid] is not None},
            }
            for pid, name in self._located(dup_of)
        )
        _, errors = self._bulk(actions, self._refresh_arg())
        self._check(errors, ignore=(404,))  # marks for unknown ids are no-ops, as in SQLite

    def refresh(self) -> None:
        self._call(self.client.indices.refresh, index=self.alias)

    @contextmanager
    def bulk_load(self, progress: Callable[[str], None] | None = None) -> Iterator[None]:
        """See :meth:`storage.base.PostingIndex.bulk_load`: nothing is put off here. The engines'
        advice for bulk indexing (no refresh per write) does not fit: an upsert finds the stored
        copies of its ids by search, and must see those an earlier batch of the same import wrote
        (or a posting whose date moved it would keep two copies)."""
        yield

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
        for hit in self.iter_hits(fields, batch_size, only_unextracted, index, query):
            yield hit["_source"]

    def iter_hits(
        self,
        fields: Sequence[str],
        batch_size: int = 500,
        only_unextracted: bool = False,
        index: str | None = None,
        query: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every hit (``_index``, ``_id``, ``_source`` with ``fields``) of ``query``, in id order."""
        after: str | None = None
        fields = list(dict.fromkeys(["id", *fields]))
        while True:
            body = q.scan_body(batch_size, after, only_unextracted, fields, query)
            hits = self._search(body, index)["hits"]["hits"]
            yield from hits
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
            "period": self.layout.period,
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
