"""Sending requests, and the counting hooks of :class:`storage.shared.SharedIndex` as search requests:
exact counts from paged ``composite`` aggregations, medians from exact salary histograms, series
from ``date_histogram``, signal cells from composites with filter sub-aggregations, and one page of
jieba-phrase search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from skillsignal.core.state_files import StoreError

from ..base import CellKey, PeriodCounts, SignalParts, median_of_histogram, signal_order
from ..filters import PostingFilter
from ..results import HitCount, Interval, PostingHit
from ..shared import KeyedPeriodCounts, SeriesCounts, SharedIndex, top_by_metric
from . import queries as q
from .documents import HIT_SOURCE, query_phrases, to_hit


class SearchStoreError(StoreError):
    """The search server cannot be used as asked (unreachable, refused a request, wrong index)."""


def _body(resp: Any) -> Any:
    """The decoded body of a client response (elasticsearch-py wraps it, opensearch-py does not)."""
    return getattr(resp, "body", resp)


class SearchAggregations(SharedIndex):
    """Requests to the server behind ``alias``; :class:`storage.search.index.SearchIndex` adds the
    index management and the writes."""

    backend_name = "search"
    path: Path | None = None  # on a server, not in a file
    client: Any
    alias: str
    page_size: int
    _not_found: tuple[type[BaseException], ...] = ()
    _transport_errors: tuple[type[BaseException], ...] = ()

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
        result: dict[str, Any] = self._call(self.client.search, index=index or self.alias, body=body)
        return result

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

    def _salary_histograms(
        self, flt: PostingFilter | None, facet: str | None = None
    ) -> dict[str | None, list[tuple[float, int]]]:
        hists: dict[str | None, list[tuple[float, int]]] = defaultdict(list)
        for b in self.composite(q.salary_query(flt), q.salary_sources(facet)):
            hists[b["key"].get("k")].append((float(b["key"]["s"]), int(b["doc_count"])))
        return hists

    # -- the hooks ------------------------------------------------------------------------------------
    def _counts(self, flt: PostingFilter | None) -> tuple[int, int]:
        res = self._search(q.count_body(flt))
        return int(res["hits"]["total"]["value"]), int(res["aggregations"]["dup"]["doc_count"])

    def _median_salary(self, flt: PostingFilter | None) -> float | None:
        return median_of_histogram(self._salary_histograms(flt).get(None, []))

    def _period_counts(self, flt: PostingFilter | None, interval: Interval) -> PeriodCounts:
        res = self._search(q.timeseries_body(flt, interval))
        return {
            date.fromisoformat(b["key_as_string"][:10]): (int(b["doc_count"]), int(b["dup"]["doc_count"]))
            for b in res["aggregations"]["per"]["buckets"]
        }

    def _facet_counts(
        self, facet: str, flt: PostingFilter | None, metric: str | None = None, limit: int | None = None
    ) -> dict[str, tuple[int, int]]:
        counts = {
            b["key"]["k"]: (int(b["doc_count"]), int(b["dup"]["doc_count"]))
            for b in self.composite(q.filter_query(flt), q.ranking_sources(facet), q.DUP_AGG)
        }
        return counts if metric is None else top_by_metric(counts, metric, len(counts) if limit is None else limit)

    def _facet_medians(self, facet: str, flt: PostingFilter | None) -> dict[str, float | None]:
        return {k: median_of_histogram(h) for k, h in self._salary_histograms(flt, facet).items() if k}

    def _keyed_period_counts(
        self, facet: str, flt: PostingFilter | None, interval: Interval, keys: Sequence[str]
    ) -> KeyedPeriodCounts:
        wanted = set(keys)
        counts: KeyedPeriodCounts = {}
        query = q.filter_query(flt, {"terms": {q.facet_field(facet): list(keys)}})
        for b in self.composite(query, q.keyed_series_sources(facet, interval), q.DUP_AGG):
            k = b["key"]["k"]
            if k in wanted:  # a posting matched by one skill also yields buckets for its other skills
                per = date.fromisoformat(str(b["key"]["p"])[:10])
                counts[(k, per)] = (int(b["doc_count"]), int(b["dup"]["doc_count"]))
        return counts

    @staticmethod
    def _match(query: str | None) -> list[str]:
        return query_phrases(query) if query else []

    def _search_page(
        self,
        match: list[str],
        query: str | None,
        flt: PostingFilter | None,
        state: dict[str, Any],
        size: int,
        total_cap: int | None,
    ) -> tuple[HitCount, list[PostingHit], dict[str, object] | None]:
        """Best match first (offset paging); without a text query, newest first (``search_after``).
        The server counts every match (``track_total_hits``), so the total is exact; ``total_cap``
        is not needed."""
        if match:
            offset = int(state.get("o", 0))
            body = q.search_body(match, query, flt, size + 1, offset=offset, source=HIT_SOURCE)
        else:
            body = q.search_body([], None, flt, size + 1, search_after=state.get("a"), source=HIT_SOURCE)
        res = self._search(body)
        hits = res["hits"]["hits"]
        more = len(hits) > size
        hits = hits[:size]
        next_state: dict[str, object] = {"o": offset + size} if match else {"a": hits[-1]["sort"]} if hits else {}
        items = [to_hit(h, searched=bool(match)) for h in hits]
        total = res["hits"]["total"]
        return HitCount(int(total["value"]), total.get("relation", "eq") == "eq"), items, next_state if more else None

    def _cooccurrence_counts(
        self, flt: PostingFilter | None, limit: int, min_count: int
    ) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
        unique = q.filter_query(flt, q.UNIQUE)
        singles = {b["key"]["k"]: int(b["doc_count"]) for b in self.composite(unique, q.ranking_sources("skills"))}
        pairs = [
            (b["key"]["a"], b["key"]["b"], int(b["doc_count"]))
            for b in self.composite(unique, q.cooccurrence_sources())
            if b["key"]["a"] < b["key"]["b"] and b["doc_count"] >= min_count
        ]
        pairs.sort(key=lambda t: (-t[2], t[0], t[1]))
        return singles, pairs[:limit]

    def _export_counts(self, flt: PostingFilter | None, interval: Interval, dims: Sequence[str]) -> SeriesCounts:
        by_series: SeriesCounts = defaultdict(dict)
        for b in self.composite(q.filter_query(flt), q.export_sources(list(dims), interval), q.DUP_AGG):
            key = b["key"]
            values = tuple(key.get(f"d{i}") for i in range(len(dims)))
            period = date.fromisoformat(str(key["p"])[:10])
            by_series[values][period] = (int(b["doc_count"]), int(b["dup"]["doc_count"]))
        return by_series

    def _grouped_facet_counts(
        self, facet: str, flt: PostingFilter | None, by: Sequence[str]
    ) -> dict[tuple[tuple[str | None, ...], str], tuple[int, int]]:
        counts = {}
        for b in self.composite(q.filter_query(flt), q.grouped_facet_sources(facet, by), q.DUP_AGG):
            key = b["key"]
            group = tuple(key.get(f"d{i}") for i in range(len(by)))
            counts[(group, str(key["k"]))] = (int(b["doc_count"]), int(b["dup"]["doc_count"]))
        return counts

    def _signal_parts(self, flt: PostingFilter | None, interval: Interval, dims: Sequence[str]) -> SignalParts:
        """Three paged composite aggregations: counts with the requirement mix as filter
        sub-aggregations, exact salary histograms, and (days open, closed) histograms."""

        def cell(key: dict[str, Any]) -> CellKey:
            return tuple(key.get(f"d{i}") for i in range(len(dims))), date.fromisoformat(str(key["p"])[:10])

        counts = {}
        for b in self.composite(q.filter_query(flt), q.signal_sources(dims, interval), q.SIGNAL_AGGS):
            u = b["u"]
            e3, e5, bachelor, master, senior = (int(u[name]["doc_count"]) for name in ("e3", "e5", "b", "m", "s"))
            counts[cell(b["key"])] = (int(b["doc_count"]), int(u["doc_count"]), e3, e5, bachelor, master, senior)
        salaries: dict[CellKey, list[tuple[float, int]]] = defaultdict(list)
        salary = ("s", q.terms_source("salary_mid"))
        for b in self.composite(q.salary_query(flt), q.signal_sources(dims, interval, salary)):
            salaries[cell(b["key"])].append((float(b["key"]["s"]), int(b["doc_count"])))
        durations: dict[CellKey, list[tuple[int, bool, int]]] = defaultdict(list)
        open_for = (("t", q.terms_source("days_open")), ("c", q.terms_source("closed")))
        for b in self.composite(q.filter_query(flt, q.UNIQUE), q.signal_sources(dims, interval, *open_for)):
            closed = b["key"]["c"] in (True, 1, "true")  # a boolean key: true, or 1 as some servers give it
            durations[cell(b["key"])].append((int(b["key"]["t"]), closed, int(b["doc_count"])))
        # composite pages come in key order already; the contract does not rest on it
        for salary_hist in salaries.values():
            salary_hist.sort()
        for duration_hist in durations.values():
            duration_hist.sort()
        ordered = {cell: counts[cell] for cell in sorted(counts, key=signal_order)}
        return SignalParts(ordered, salaries, durations)
