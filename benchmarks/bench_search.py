"""Benchmark of the search backend on osmem-server (in-memory OpenSearch), beside the SQLite store.

Loads N generated postings (``bench_query.Generator``: taxonomy occupations, skills, 31 provinces,
two years, ~5 % near-duplicates) into ``OpenSearchIndex`` (bulk, no refresh per batch, one refresh at
the end) and into a fresh SQLite file, checks that both answer the same, then prints bulk docs/s and
p50/p95 latency of the queries the API asks, for both. osmem materialises every matching document
per search, so figures are for test-sized indices only, not for a real Elasticsearch cluster.

    python benchmarks/bench_search.py --n 20000
    python benchmarks/bench_search.py --url http://127.0.0.1:9200 --backend elasticsearch  # a real server
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_query import Generator, timed

from storage import PostingFilter, SQLiteStore
from storage.search import ElasticsearchIndex, OpenSearchIndex


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--url", default=None, help="a running server (default: start osmem-server)")
    parser.add_argument("--backend", choices=["opensearch", "elasticsearch"], default="opensearch")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    server = None
    url = args.url
    if url is None:
        from osmem_server import OsmemServer

        server = OsmemServer.start(japanese=False)
        url = server.url
    cls = ElasticsearchIndex if args.backend == "elasticsearch" else OpenSearchIndex
    index = cls.connect(url, f"bench-{int(time.time())}", refresh_on_write=False, timeout=300)
    tmp = tempfile.TemporaryDirectory(prefix="bench_search_")
    sqlite = SQLiteStore(Path(tmp.name) / "bench.sqlite3")
    gen = Generator(args.seed)

    postings = [gen.posting(i) for i in range(args.n)]
    dups = {p.id: postings[i - 1].id for i, p in enumerate(postings) if i and gen.rnd.random() < 0.05}
    t = time.perf_counter()
    for start in range(0, args.n, args.batch):
        index.index_postings(postings[start : start + args.batch])
    index.set_duplicates(dups)
    index.refresh()
    search_s = time.perf_counter() - t
    t = time.perf_counter()
    for start in range(0, args.n, args.batch):
        sqlite.index_postings(postings[start : start + args.batch])
    sqlite.set_duplicates(dups)
    sqlite_s = time.perf_counter() - t

    last = sqlite.date_range()[1]
    year = PostingFilter(start=last - timedelta(days=364), end=last)
    top_occ = sqlite.ranking("occupations", limit=1).buckets[0].key
    occ_year = year.model_copy(update={"occupations": [top_occ]})
    checks = {
        "totals": lambda s: s.totals(year),
        "skills ranking": lambda s: s.ranking("skills", occ_year, limit=20),
        "median ranking": lambda s: s.ranking("provinces", year, "median_salary", limit=10),
        "series": lambda s: s.timeseries(occ_year, "week"),
        "co-occurrence": lambda s: s.skill_cooccurrence(occ_year, limit=20),
    }
    same = {name: fn(index) == fn(sqlite) for name, fn in checks.items()}

    print(f"server          {url} ({index.backend_name}); postings {args.n:,}, {len(dups):,} duplicates")
    print(f"bulk index      {args.n / search_s:,.0f} docs/s ({search_s:.1f} s incl. jieba segmentation + refresh)")
    print(f"sqlite index    {args.n / sqlite_s:,.0f} postings/s ({sqlite_s:.1f} s)")
    print(f"same answers    {', '.join(f'{k}: {v}' for k, v in same.items())}")
    queries = [
        ("totals (1 year)", lambda s: s.totals(year)),
        ("totals (occupation, 1 year)", lambda s: s.totals(occ_year)),
        ("timeseries month (occupation, 1 year)", lambda s: s.timeseries(occ_year, "month")),
        ("skills ranking top 20 (occupation, 1 year)", lambda s: s.ranking("skills", occ_year, limit=20)),
        ("companies ranking top 20 (1 year)", lambda s: s.ranking("companies", year, limit=20)),
        ("provinces by median salary (1 year)", lambda s: s.ranking("provinces", year, "median_salary", limit=10)),
        ("skill co-occurrence top 50 (occupation)", lambda s: s.skill_cooccurrence(occ_year, limit=50)),
        ("search '数据' (occupation, 1 year)", lambda s: s.search_postings("数据", occ_year, size=20)),
        ("list newest 20 (1 year)", lambda s: s.search_postings(None, year, size=20)),
    ]
    print(f"{'query':45s} {'search p50':>11s} {'p95':>8s} {'sqlite p50':>11s} {'p95':>8s}  (ms)")
    for name, fn in queries:
        s50, s95 = timed(lambda fn=fn: fn(index), args.repeat)
        q50, q95 = timed(lambda fn=fn: fn(sqlite), args.repeat)
        print(f"{name:45s} {s50:11.1f} {s95:8.1f} {q50:11.1f} {q95:8.1f}")
    for name in index.current_indices():
        index.delete_index(name)
    if server is not None:
        server.close()
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
