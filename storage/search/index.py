"""The Elasticsearch/OpenSearch store: everything but the client calls, shared by both adapters.

Postings live in a versioned concrete index (``<alias>-v<version>-<timestamp>``) behind a
read/write alias; :func:`storage.search.reindex` builds a new one and swaps the alias atomically.
Documents are keyed by posting id, so re-indexing never double-counts, and a write is visible to
the next read (``refresh="wait_for"`` by default; ``refresh_on_write=False`` for bulk loads, then
:meth:`SearchIndex.refresh`).

All counts are exact: facets are paged composite aggregations and medians come from exact salary
histograms, so the answers equal the SQLite store's (``tests/storage/conformance``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections import defaultdict
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

from skillsignal.core.models import Extraction, Posting

from ..base import (
    CursorError,
    check_series_size,
    intensity,
    keyed_series,
    period_count,
    periods,
    totals_from_counts,
    zero_filled,
)
from ..filters import PostingFilter
from ..results import (
    DEFAULT_EXPORT_DIMENSIONS,
    EXPORT_DIMENSIONS,
    FACETS,
    METRICS,
    Bucket,
    CooccurrencePair,
    Interval,
    Page,
    Point,
    Ranking,
    RankingSeries,
    SeriesRow,
    Totals,
)
from ..sqlite import StoreError
from . import mapping
from . import queries as q
from .documents import HIT_SOURCE, query_phrases, to_document, to_hit

log = logging.getLogger(__name__)

_DUP_FIELDS = ("is_dup", "dup_of")


class SearchStoreError(StoreError):
    """The search server cannot be used as asked (unreachable, refused a request, wrong index)."""


def median_of_histogram(hist: Iterable[tuple[float, int]]) -> float | None:
    """The median (mean of the two middle values for an even count) of (value, count) pairs."""
    items = sorted(hist)
    n = sum(c for _, c in items)
    if n == 0:
        return None
    lo_rank, hi_rank = (n - 1) // 2, n // 2
    lo = hi = None
    seen = 0
    for value, count in items:
        if lo is None and seen + count > lo_rank:
            lo = value
        if seen + count > hi_rank:
            hi = value
            break
        seen += count
    return (float(lo) + float(hi)) / 2  # type: ignore[arg-type]


def _cursor_token(payload: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _cursor_payload(token: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(payload, dict):
            raise ValueError
        return payload
    except (ValueError, TypeError) as exc:
        raise CursorError("cursor is not one this API issued; start again without it") from exc


def _body(resp: Any) -> Any:
    """The decoded body of a client response (elasticsearch-py wraps it, opensearch-py does not)."""
    return getattr(resp, "body", resp)


class SearchIndex:
    """:class:`storage.base.PostingIndex` over an Elasticsearch-compatible server.

    Subclasses adapt one client library: they provide :attr:`backend_name`, :meth:`_bulk`,
    :attr:`_not_found` (the library's 404 exception) and :attr:`_transport_errors`.
    """

    backend_name = "search"
    _not_found: tuple[type[BaseException], ...] = ()
    _transport_errors: tuple[type[BaseException], ...] = ()

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
    def _bulk(self, actions: Iterable[dict[str, Any]], refresh: bool | str | None) -> tuple[int, list[dict]]:
        """Send actions through the library's bulk helper; returns (succeeded, errors)."""
        raise NotImplementedError

    def _call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return _body(fn(**kwargs))
        except self._not_found:
            raise
        except self._transport_errors as exc:
            raise SearchStoreError(
                f"{self.backend_name} request failed ({type(exc).__name__}: {exc}); check that the server at "
                "SKILLSIGNAL_SEARCH_URL is up and reachable"
            ) from exc

    def _search(self, body: dict[str, Any], index: str | None = None) -> dict[str, Any]:
        return self._call(self.client.search, index=index or self.alias, body=body)

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
        self._call(self.client.indices.put_index_template, name=f"{self.alias}-template",
                   body=mapping.template_body(self.alias))

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

    def _check(self, errors: list[dict], ignore_missing: bool = False) -> None:
        bad = [e for e in errors if not (ignore_missing and next(iter(e.values())).get("status") == 404)]
        if bad:
            raise SearchStoreError(f"{len(bad)} bulk actions failed; first: {json.dumps(bad[0], ensure_ascii=False)[:500]}")

    def write_actions(self, postings: Sequence[Posting], index: str | None = None,
                      dups: dict[str, str | None] | None = None) -> Iterator[dict[str, Any]]:
        """Bulk actions for postings. Existing documents are partially updated without touching their
        near-duplicate marks; new ones are inserted (upsert) unmarked, or with ``dups`` marks."""
        now = datetime.now(timezone.utc)
        for p in postings:
            dup_of = (dups or {}).get(p.id)
            doc = to_document(p, is_dup=dup_of is not None, dup_of=dup_of, now=now)
            if dups is not None:
                yield {"_op_type": "index", "_index": index or self.alias, "_id": p.id, "_source": doc}
            else:
                partial = {k: v for k, v in doc.items() if k not in _DUP_FIELDS}
                yield {"_op_type": "update", "_index": index or self.alias, "_id": p.id, "doc": partial,
                       "upsert": doc}

    def index_postings(self, postings: Sequence[Posting]) -> int:
        if not postings:
            return 0
        by_id = {p.id: p for p in postings}
        ok, errors = self._bulk(self.write_actions(list(by_id.values())), self._refresh_arg())
        self._check(errors)
        return len(by_id)

    upsert_postings = index_postings

    def save_extractions(self, results: Sequence[tuple[Posting, Extraction | None, str | None]]) -> int:
        updated = [p.model_copy(update={"extraction": ext, "extraction_error": err}) for p, ext, err in results]
        return self.index_postings(updated)

    def set_duplicates(self, dup_of: dict[str, str | None]) -> None:
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
        hits = self._search(q.ids_body([posting_id], ["doc"]))["hits"]["hits"]
        return Posting.model_validate(hits[0]["_source"]["doc"]) if hits else None

    def iter_postings(self, batch_size: int = 500, only_unextracted: bool = False,
                      index: str | None = None) -> Iterator[Posting]:
        for src in self.iter_sources(["doc"], batch_size, only_unextracted, index):
            yield Posting.model_validate(src["doc"])

    def iter_sources(self, fields: Sequence[str], batch_size: int = 500, only_unextracted: bool = False,
                     index: str | None = None) -> Iterator[dict[str, Any]]:
        """The ``_source`` fields of every document, in id order."""
        after: str | None = None
        fields = list(dict.fromkeys(["id", *fields]))
        while True:
            hits = self._search(q.scan_body(batch_size, after, only_unextracted, fields), index)["hits"]["hits"]
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

    def count_postings(self, flt: PostingFilter | None = None, unique_only: bool = False) -> int:
        n, d = self._counts(flt)
        return n - d if unique_only else n

    def count_by(self, facet: str, flt: PostingFilter | None = None, limit: int = 50) -> list[tuple[str, int]]:
        return [(b.key, b.total_postings) for b in self.ranking(facet, flt, "total_postings", limit).buckets]

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

    # -- aggregation helpers -------------------------------------------------------------------
    def _counts(self, flt: PostingFilter | None, *extra: dict[str, Any]) -> tuple[int, int]:
        res = self._search(q.count_body(flt, *extra))
        return int(res["hits"]["total"]["value"]), int(res["aggregations"]["dup"]["doc_count"])

    def composite(
        self,
        query: dict[str, Any],
        sources: Sequence[tuple[str, dict[str, Any]]],
        aggs: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every bucket of a composite aggregation, paging with ``after_key``."""
        after = None
        while True:
            res = self._search(q.composite_body(query, sources, self.page_size, after, aggs))
            agg = res["aggregations"]["c"]
            buckets = agg.get("buckets", [])
            yield from buckets
            after = agg.get("after_key")
            if len(buckets) < self.page_size or not after:
                return

    def _salary_histograms(self, flt: PostingFilter | None, facet: str | None = None
                           ) -> dict[str | None, list[tuple[float, int]]]:
        hists: dict[str | None, list[tuple[float, int]]] = defaultdict(list)
        for b in self.composite(q.salary_query(flt), q.salary_sources(facet)):
            hists[b["key"].get("k")].append((float(b["key"]["s"]), int(b["doc_count"])))
        return hists

    # -- reads: PostingIndex -------------------------------------------------------------------
    def totals(self, flt: PostingFilter | None = None) -> Totals:
        n, d = self._counts(flt)
        med = median_of_histogram(self._salary_histograms(flt).get(None, [])) if n > d else None
        return totals_from_counts(n, d, med)

    def _window(self, flt: PostingFilter | None) -> tuple[date, date] | None:
        if flt is not None and flt.start and flt.end:
            return flt.start, flt.end
        stored = self.date_range()
        if stored is None:
            return None
        first = flt.start if flt is not None and flt.start else stored[0]
        last = flt.end if flt is not None and flt.end else stored[1]
        return (first, last) if first <= last else None

    def timeseries(self, flt: PostingFilter | None = None, interval: Interval = "month") -> list[Point]:
        self._check_interval(interval)
        window = self._window(flt)
        if window is None:
            return []
        res = self._search(q.timeseries_body(flt, interval))
        counts = {
            date.fromisoformat(b["key_as_string"][:10]): (int(b["doc_count"]), int(b["dup"]["doc_count"]))
            for b in res["aggregations"]["per"]["buckets"]
        }
        return zero_filled(counts, window, interval)

    @staticmethod
    def _check_facet(facet: str) -> None:
        if facet not in FACETS:
            raise StoreError(f"unknown facet {facet!r}; one of: {', '.join(FACETS)}")

    @staticmethod
    def _check_interval(interval: str) -> None:
        if interval not in ("day", "week", "month"):
            raise StoreError(f"unknown interval {interval!r}; one of day, week, month")

    def _facet_counts(self, facet: str, flt: PostingFilter | None, *extra: dict[str, Any]
                      ) -> dict[str, tuple[int, int]]:
        return {
            b["key"]["k"]: (int(b["doc_count"]), int(b["dup"]["doc_count"]))
            for b in self.composite(q.filter_query(flt, *extra), q.ranking_sources(facet), q.DUP_AGG)
        }

    def ranking(
        self,
        facet: str,
        flt: PostingFilter | None = None,
        metric: str = "unique_postings",
        limit: int = 10,
    ) -> Ranking:
        if metric not in METRICS:
            raise StoreError(f"unknown metric {metric!r}; one of: {', '.join(METRICS)}")
        self._check_facet(facet)
        counts = self._facet_counts(facet, flt)
        medians: dict[str, float | None] = {}
        # the deterministic order key: the metric's value descending, then the facet value ascending
        # (code-point order, which is the byte order SQLite compares text in)
        if metric == "median_salary":
            medians = {k: median_of_histogram(h) for k, h in self._salary_histograms(flt, facet).items() if k}
            keys = sorted(counts, key=lambda k: (medians.get(k) is None, -(medians.get(k) or 0), k))
        else:
            def value(k: str) -> float:
                n, d = counts[k]
                return {
                    "unique_postings": n - d,
                    "duplicate_postings": d,
                    "total_postings": n,
                    "posting_intensity": n / (n - d) if n > d else 0.0,
                }[metric]

            keys = sorted(counts, key=lambda k: (-value(k), k))
        buckets = []
        for k in keys[:limit]:
            n, d = counts[k]
            b = Bucket(key=k, unique_postings=n - d, duplicate_postings=d, total_postings=n,
                       posting_intensity=intensity(n, n - d), median_salary=medians.get(k))
            v = getattr(b, metric)
            b.value = float(v) if v is not None else None
            buckets.append(b)
        return Ranking(facet=facet, metric=metric, totals=totals_from_counts(*self._counts(flt)), buckets=buckets)

    def ranking_timeseries(
        self,
        facet: str,
        flt: PostingFilter | None = None,
        interval: Interval = "month",
        keys: Sequence[str] | None = None,
        limit: int = 5,
    ) -> RankingSeries:
        self._check_facet(facet)
        self._check_interval(interval)
        if not keys:
            keys = [b.key for b in self.ranking(facet, flt, limit=limit).buckets]
        keys = list(dict.fromkeys(keys))
        window = self._window(flt)
        if not keys or window is None:
            return RankingSeries(facet=facet, interval=interval, series=[])
        wanted = set(keys)
        counts: dict[tuple[str, date], tuple[int, int]] = {}
        query = q.filter_query(flt, {"terms": {q.facet_field(facet): keys}})
        for b in self.composite(query, q.keyed_series_sources(facet, interval), q.DUP_AGG):
            k = b["key"]["k"]
            if k in wanted:  # a posting matched by one skill also yields buckets for its other skills
                per = date.fromisoformat(str(b["key"]["p"])[:10])
                counts[(k, per)] = (int(b["doc_count"]), int(b["dup"]["doc_count"]))
        return keyed_series(facet, interval, keys, window, counts)

    # -- search ------------------------------------------------------------------------------------
    def search_postings(
        self,
        query: str | None,
        flt: PostingFilter | None = None,
        cursor: str | None = None,
        size: int = 20,
    ) -> Page:
        if size < 1:
            raise StoreError("size must be at least 1")
        phrases = query_phrases(query) if query and query.strip() else []
        scope = hashlib.sha1(
            json.dumps([phrases, flt.model_dump(mode="json") if flt else None], sort_keys=True).encode()
        ).hexdigest()[:12]
        state = _cursor_payload(cursor) if cursor else {"s": scope}
        if state.get("s") != scope:
            raise CursorError("cursor belongs to another query or filter; start again without it")
        if phrases:
            offset = int(state.get("o", 0))
            body = q.search_body(phrases, query, flt, size + 1, offset=offset, source=HIT_SOURCE)
        else:
            after = state.get("a")
            body = q.search_body([], None, flt, size + 1, search_after=after, source=HIT_SOURCE)
        res = self._search(body)
        hits = res["hits"]["hits"]
        more = len(hits) > size
        hits = hits[:size]
        if phrases:
            next_state: dict[str, object] = {"s": scope, "o": int(state.get("o", 0)) + size}
        else:
            next_state = {"s": scope, "a": hits[-1]["sort"]} if hits else {}
        return Page(
            total=int(res["hits"]["total"]["value"]),
            items=[to_hit(h, searched=bool(phrases)) for h in hits],
            next_cursor=_cursor_token(next_state) if more else None,
        )

    # -- skills ------------------------------------------------------------------------------------
    def skill_cooccurrence(
        self, flt: PostingFilter | None = None, limit: int = 100, min_count: int = 1
    ) -> list[CooccurrencePair]:
        unique = q.filter_query(flt, q.UNIQUE)
        singles = {b["key"]["k"]: int(b["doc_count"]) for b in self.composite(unique, q.ranking_sources("skills"))}
        pairs = [
            (b["key"]["a"], b["key"]["b"], int(b["doc_count"]))
            for b in self.composite(unique, q.cooccurrence_sources())
            if b["key"]["a"] < b["key"]["b"] and b["doc_count"] >= min_count
        ]
        pairs.sort(key=lambda t: (-t[2], t[0], t[1]))
        n_all = self.totals(flt).unique_postings if pairs else 0
        out = []
        for a, b, n in pairs[:limit]:
            ca, cb = singles[a], singles[b]
            out.append(CooccurrencePair(skill_a=a, skill_b=b, count=n, count_a=ca, count_b=cb,
                                        lift=round(n * n_all / (ca * cb), 6) if ca and cb else 0.0))
        return out

    # -- export ------------------------------------------------------------------------------------
    def export_series(
        self,
        flt: PostingFilter | None = None,
        interval: Interval = "month",
        dimensions: Iterable[str] = DEFAULT_EXPORT_DIMENSIONS,
        max_rows: int | None = None,
    ) -> Iterator[SeriesRow]:
        dims = list(dict.fromkeys(dimensions))
        unknown = [d for d in dims if d not in EXPORT_DIMENSIONS]
        if unknown:
            raise StoreError(f"unknown export dimension {unknown[0]!r}; one of: {', '.join(EXPORT_DIMENSIONS)}")
        self._check_interval(interval)
        window = self._window(flt)
        if window is None:
            return iter(())
        by_series: dict[tuple, dict[date, tuple[int, int]]] = defaultdict(dict)
        for b in self.composite(q.filter_query(flt), q.export_sources(dims, interval), q.DUP_AGG):
            key = b["key"]
            values = tuple(key.get(f"d{i}") for i in range(len(dims)))
            by_series[values][date.fromisoformat(str(key["p"])[:10])] = (int(b["doc_count"]), int(b["dup"]["doc_count"]))
        check_series_size(interval, period_count(*window, interval), len(by_series), max_rows)
        all_periods = periods(*window, interval)

        def generate() -> Iterator[SeriesRow]:
            for values in sorted(by_series, key=lambda v: tuple((x is None, x or "") for x in v)):
                counts = by_series[values]
                named = dict(zip(dims, values))
                for start in all_periods:
                    n, d = counts.get(start, (0, 0))
                    yield SeriesRow(period=start, count=n, unique_count=n - d, **named)

        return generate()
