"""The search backend made for a cluster, on a real (in-memory) OpenSearch-compatible server:
time-based indices behind the alias (routing by posting date, a posting moving across a period
boundary, the marks and seen dates that must survive it), bulk writes retried with backoff when
the server answers 429 (a local proxy injects them), and the shard sizing rule."""

from __future__ import annotations

from datetime import date

import pytest

from skillsignal.core.config import Settings
from skillsignal.core.models import Posting
from storage.search import (
    BulkOptions,
    ElasticsearchIndex,
    OpenSearchIndex,
    SearchStoreError,
    ShardPlan,
    cluster_options,
    reindex,
    shard_plan,
)
from storage.search.clients import TRANSPORT_RETRY_ON_STATUS
from tests.storage.conformance.servers import drop_search_indices, elasticsearch_client_for_osmem, unique_alias
from tests.storage.rejecting_proxy import RejectingProxy

GB = 1024**3


def _posting(pid: str, day: date, title: str = "数据分析师") -> Posting:
    return Posting(
        id=pid,
        source="boss",
        title=title,
        description=f"负责数据分析，熟悉Python。{pid}",
        posted_at=day,
        crawled_at=f"{day.isoformat()}T08:00:00+00:00",
    )


@pytest.fixture
def monthly(osmem_search_url):
    idx = OpenSearchIndex.connect(osmem_search_url, unique_alias("t-month"), period="month")
    yield idx
    drop_search_indices(idx)


def _where(index, pid: str) -> list[str]:
    """The concrete indices holding ``pid``."""
    res = index.client.search(index=index.alias, body={"query": {"ids": {"values": [pid]}}, "size": 10})
    return sorted(h["_index"] for h in res["hits"]["hits"])


# -- the sizing rule -------------------------------------------------------------------------------
def test_sizing_rule_shards_by_volume_and_replicas_by_nodes():
    # 5M postings a year x 8 kB = 37.3 GiB a year: two ~19 GiB primaries in a yearly index,
    # one 3.1 GiB primary in a monthly one
    year = shard_plan(period="year", nodes=3, postings_per_year=5_000_000, bytes_per_posting=8_000)
    assert (year.shards, year.replicas) == (2, 1)
    assert 10 * GB <= year.expected_bytes / year.shards <= 30 * GB
    month = shard_plan(period="month", nodes=3, postings_per_year=5_000_000, bytes_per_posting=8_000)
    assert (month.shards, month.replicas) == (1, 1)
    # one node: a replica could never be allocated (the index would stay yellow)
    assert shard_plan(period="year", nodes=1).replicas == 0
    assert shard_plan(period="year", nodes=5).replicas == 1
    # national volume in one index over three years: ceil(50M x 3 x 8 kB / 30 GiB) = 38
    assert shard_plan(period="none", postings_per_year=50_000_000, years_kept=3).shards == 38
    # set outright, the rule steps aside
    assert shard_plan(period="year", shards=4, replicas=2) == ShardPlan(shards=4, replicas=2)
    with pytest.raises(ValueError):
        shard_plan(period="year", nodes=0)


def test_settings_reach_the_template_and_the_created_index(osmem_search_url):
    settings = Settings(
        backend="opensearch",
        search_url=osmem_search_url,
        search_index=unique_alias("t-plan"),
        search_nodes=3,
        search_postings_per_year=20_000_000,  # 149 GiB a year -> 5 primaries of 30 GiB
        search_bulk_max_retries=2,
    )
    opts = cluster_options(settings)
    assert opts["plan"] == shard_plan(period="year", nodes=3, postings_per_year=20_000_000)
    assert (opts["plan"].shards, opts["plan"].replicas) == (5, 1)
    assert opts["bulk"].max_retries == 2
    from storage import open_store

    store = open_store(settings)
    try:
        template = store.client.indices.get_index_template(name=f"{store.alias}-template")
        got = template["index_templates"][0]["index_template"]["template"]["settings"]["index"]
        assert (str(got["number_of_shards"]), str(got["number_of_replicas"])) == ("5", "1")
        (name,) = store.current_indices()
        idx_settings = store.client.indices.get_settings(index=name)[name]["settings"]["index"]
        assert (str(idx_settings["number_of_shards"]), str(idx_settings["number_of_replicas"])) == ("5", "1")
    finally:
        drop_search_indices(store)


# -- time-based indices ----------------------------------------------------------------------------
def test_writes_go_to_the_index_of_the_posting_month_and_reads_span_them_all(monthly):
    gen = monthly.layout.prefix
    ps = [_posting("a", date(2025, 12, 31)), _posting("b", date(2026, 1, 1)), _posting("c", date(2026, 1, 20))]
    monthly.index_postings(ps)
    assert _where(monthly, "a") == [f"{gen}-2025-12"]
    assert _where(monthly, "b") == _where(monthly, "c") == [f"{gen}-2026-01"]
    assert {f"{gen}-2025-12", f"{gen}-2026-01"} <= set(monthly.current_indices())
    assert monthly.totals().total_postings == 3
    assert [(p.period, p.total_postings) for p in monthly.timeseries(interval="month") if p.total_postings] == [
        (date(2025, 12, 1), 1),
        (date(2026, 1, 1), 2),
    ]
    # a second process on the same alias follows the layout it finds, whatever it was told
    other = OpenSearchIndex(monthly.client, monthly.alias, period="none")
    assert other.layout == monthly.layout
    other.index_postings([_posting("d", date(2026, 2, 2))])
    assert _where(monthly, "d") == [f"{gen}-2026-02"]


def test_a_posting_moving_across_a_period_boundary_leaves_its_old_index(monthly):
    gen = monthly.layout.prefix
    first = _posting("m1", date(2026, 1, 31))
    monthly.index_postings([first, _posting("m0", date(2026, 1, 5))])
    monthly.set_duplicates({"m1": "m0"})
    assert monthly.mark_seen({"m1": date(2026, 2, 10)}) == {"m1": "boss"}

    moved = _posting("m1", date(2026, 2, 1), title="高级数据分析师")  # the board corrected the date
    monthly.index_postings([moved])
    assert _where(monthly, "m1") == [f"{gen}-2026-02"]  # one copy, in February's index
    t = monthly.totals()
    assert (t.total_postings, t.duplicate_postings) == (2, 1)  # the mark moved with it
    got = monthly.get_posting("m1")
    assert got.title == "高级数据分析师" and got.posted_at == date(2026, 2, 1)
    assert (got.first_seen, got.last_seen) == (date(2026, 1, 31), date(2026, 2, 10))  # seen dates kept

    # the writes that address stored postings by id find it in its new index
    monthly.set_duplicates({"m1": None})
    assert monthly.totals().duplicate_postings == 0
    assert monthly.mark_seen({"m1": date(2026, 2, 20)}) == {"m1": "boss"}
    assert monthly.close_unseen("boss", date(2026, 3, 1)) == 2
    assert monthly.get_posting("m1").closed_on == date(2026, 2, 20)

    # and back again, then a re-index keeps one copy per posting
    monthly.index_postings([first])
    assert _where(monthly, "m1") == [f"{gen}-2026-01"]
    assert monthly.totals().total_postings == 2
    new = reindex(monthly)
    assert monthly.current_indices() == [f"{new}-2026-01"]
    assert _where(monthly, "m1") == [f"{new}-2026-01"] and monthly.totals().total_postings == 2


def test_a_half_done_move_is_repaired_by_the_next_write(monthly):
    """Two copies (the delete of a move was lost): the next upsert deletes the stray one."""
    gen = monthly.layout.prefix
    p = _posting("h1", date(2026, 3, 3))
    monthly.index_postings([p])
    monthly.create_index(f"{gen}-2026-04")
    stray = {"_op_type": "index", "_index": f"{gen}-2026-04", "_id": "h1", "_source": None}
    stray["_source"] = next(monthly.write_actions([p], dups={}))["_source"]
    monthly._bulk([stray], "wait_for")
    assert len(_where(monthly, "h1")) == 2
    monthly.index_postings([p])
    assert _where(monthly, "h1") == [f"{gen}-2026-03"]


def test_reindex_switches_a_single_index_alias_to_yearly_indices(osmem_search_url):
    single = OpenSearchIndex.connect(osmem_search_url, unique_alias("t-legacy"), period="none")
    try:
        (legacy,) = single.current_indices()
        assert legacy == single.layout.prefix  # <alias>-v<version>-0: the name before time-based indices
        single.index_postings([_posting("x", date(2025, 6, 1)), _posting("y", date(2026, 6, 1))])
        single.set_duplicates({"y": "x"})
        yearly = OpenSearchIndex(single.client, single.alias, period="year")
        assert yearly.layout.period == "none"  # an existing alias keeps its layout until reindex
        new = reindex(yearly)
        assert yearly.current_indices() == [f"{new}-2025", f"{new}-2026"]
        assert yearly.totals().duplicate_postings == 1 and yearly.layout.period == "year"
        yearly.index_postings([_posting("z", date(2024, 1, 1))])
        assert _where(yearly, "z") == [f"{new}-2024"]
    finally:
        drop_search_indices(single)


# -- bulk retries and back-pressure ----------------------------------------------------------------
def _client_index(kind: str, url: str, alias: str, **kwargs):
    if kind == "opensearch":
        return OpenSearchIndex.connect(url, alias, **kwargs)
    client = elasticsearch_client_for_osmem(url, retry_on_status=TRANSPORT_RETRY_ON_STATUS)
    return ElasticsearchIndex(client, alias, **kwargs)


@pytest.fixture(params=["opensearch", "elasticsearch"])
def behind_proxy(request, osmem_search_url):
    proxy = RejectingProxy(osmem_search_url)
    bulk = BulkOptions(max_retries=3, initial_backoff=0.2, max_backoff=1.0, chunk_size=50)
    index = _client_index(request.param, proxy.url, unique_alias("t-429"), bulk=bulk)
    yield index, proxy
    drop_search_indices(index)
    proxy.close()


@pytest.mark.parametrize("how", ["reject_requests", "reject_items"])
def test_bulk_rejected_with_429_is_retried_after_backing_off(behind_proxy, how):
    index, proxy = behind_proxy
    ps = [_posting(f"r{i:03d}", date(2026, 1 + i % 3, 1 + i % 28)) for i in range(120)]
    setattr(proxy, how, 2)
    proxy.bulk_times.clear()
    assert index.index_postings(ps) == 120
    assert index.totals().total_postings == 120
    verdicts = [v for _, v in proxy.bulk_times]
    rejected = "429" if how == "reject_requests" else "items-429"
    # 120 actions in chunks of 50: the first chunk is refused twice, then it and the others pass
    assert verdicts == [rejected, rejected, "ok", "ok", "ok"]
    gaps = [b[0] - a[0] for a, b in zip(proxy.bulk_times, proxy.bulk_times[1:], strict=False)]
    assert gaps[0] >= 0.2 * 0.9 and gaps[1] >= 0.4 * 0.9  # initial_backoff, then doubled


def test_bulk_still_rejected_after_the_retries_fails_loudly(behind_proxy):
    index, proxy = behind_proxy
    proxy.reject_items = 10
    with pytest.raises(SearchStoreError, match="429|rejected"):
        index.index_postings([_posting("late", date(2026, 5, 5))])
    assert [v for _, v in proxy.bulk_times] == ["items-429"] * 4  # the first try and 3 retries
    proxy.reject_items = 0
    proxy.reject_requests = 10
    with pytest.raises(SearchStoreError):
        index.index_postings([_posting("late", date(2026, 5, 5))])
    proxy.reject_requests = 0
    assert index.totals().total_postings == 0


def test_bulk_chunks_are_bounded_in_bytes(osmem_search_url):
    proxy = RejectingProxy(osmem_search_url)
    index = OpenSearchIndex.connect(
        proxy.url, unique_alias("t-bytes"), bulk=BulkOptions(chunk_size=500, max_chunk_bytes=64 * 1024)
    )
    try:
        proxy.bulk_times.clear()
        index.index_postings([_posting(f"b{i:03d}", date(2026, 1, 1)) for i in range(100)])
        # each posting's update action is ~2.5 kB (the document twice: partial doc and upsert), so
        # 100 of them cannot go in one 64 kB request although chunk_size allows 500
        assert len(proxy.bulk_times) >= 3
        assert index.totals().total_postings == 100
    finally:
        drop_search_indices(index)
        proxy.close()
