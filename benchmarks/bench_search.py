"""Benchmark of the search backend on osmem-server (in-memory OpenSearch), beside the SQLite store.

Loads N generated postings (``bench_query.Generator``: taxonomy occupations, skills, 31 provinces,
two years, ~5 % near-duplicates) into ``OpenSearchIndex`` (bulk, no refresh per batch, one refresh at
the end) and into a fresh SQLite file, checks that both answer the same, then prints bulk docs/s and
p50/p95 latency of the queries the API asks, for both. osmem materialises every matching document
per search, so figures are for test-sized indices only, not for a real Elasticsearch cluster.

    python benchmarks/bench_search.py --n 20000
    python benchmarks/bench_search.py --url http://127.0.0.1:9200 --backend elasticsearch  # a real server

``--db FILE`` times SQLite full-text search alone on an existing store (e.g. the 1,000,000
postings ``bench_query.py --db FILE`` leaves): a common word, a rare one and the common word with
filters, each through ``search_postings`` (bounded count, FTS-driven) and through the unbounded
query it replaced (exact count and BM25 order over a join of every match with ``postings``),
checks that both give the same page, and prints p50/p95 and the ratio:

    python benchmarks/bench_query.py --n 1000000 --db /tmp/b/1m.sqlite3     # once, minutes
    python benchmarks/bench_search.py --db /tmp/b/1m.sqlite3
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_query import Generator, timed

from storage import PostingFilter, SQLiteStore, fts
from storage.search import ElasticsearchIndex, OpenSearchIndex
from storage.sqlite.sql import where_clause


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--url", default=None, help="a running server (default: start osmem-server)")
    parser.add_argument("--backend", choices=["opensearch", "elasticsearch"], default="opensearch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, default=None, help="time SQLite text search on this existing store")
    parser.add_argument("--common", default="数据", help="the common word (--db)")
    parser.add_argument("--rare", default=None, help="the rare word (--db; default: one in ~0.1 %% of postings)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.db is not None:
        if not args.db.exists():
            parser.error(f"{args.db} is absent; make it with bench_query.py --db")
        return time_text_search(SQLiteStore(args.db), args)

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


def unbounded_page(store: SQLiteStore, query: str, flt: PostingFilter | None, size: int) -> tuple[int, list[str]]:
    """The text search before bounded counting: (exact total, ids of the first page), both over a join
    of every match with ``postings``, highlights computed for every match the sort holds."""
    match = fts.match_expression(query)
    where, params = where_clause(flt)
    conn = store._connect()
    src = f"posting_fts f JOIN postings p ON p.rid = f.rowid WHERE posting_fts MATCH ? AND {where}"
    total = conn.execute(f"SELECT COUNT(*) FROM {src}", [match, *params]).fetchone()[0]
    rows = conn.execute(
        f"SELECT p.id, highlight(posting_fts, 0, '<em>', '</em>'), snippet(posting_fts, 1, '<em>', '</em>', '…', 48) "
        f"FROM {src} ORDER BY bm25(posting_fts), p.rid LIMIT ?",
        [match, *params, size + 1],
    ).fetchall()
    return total, [r[0] for r in rows[:size]]


def rare_word(store: SQLiteStore) -> str:
    """A word in about 0.1 % of the postings (fts5vocab's document counts)."""
    conn = store._connect()
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_vocab USING fts5vocab(main, posting_fts, row)")
    n = store.count_postings()
    row = conn.execute(
        "SELECT term FROM temp.bench_vocab WHERE length(term) >= 2 AND term GLOB '*[^0-9a-z]*' "
        "ORDER BY abs(doc - ?), term LIMIT 1",
        (max(1, n // 1000),),
    ).fetchone()
    return str(row[0])


def time_text_search(store: SQLiteStore, args: argparse.Namespace) -> int:
    """p50/p95 of text searches at the store's size: bounded (search_postings) against unbounded."""
    n = store.count_postings()
    last = store.date_range()[1]
    year = PostingFilter(start=last - timedelta(days=364), end=last)
    top_occ = store.ranking("occupations", limit=1).buckets[0].key
    occ_year = year.model_copy(update={"occupations": [top_occ]})
    rare = args.rare or rare_word(store)
    cases = [
        (f"common '{args.common}'", args.common, None),
        (f"rare '{rare}'", rare, None),
        (f"'{args.common}' + occupation, 1 year", args.common, occ_year),
        (f"'{args.common}' + 1 year", args.common, year),
        (f"'{args.common}' + province 上海", args.common, PostingFilter(provinces=["上海"])),
    ]
    print(f"store           {args.db}: {n:,} postings; top occupation {top_occ}; year {year.start} .. {year.end}")
    print(
        f"{'search (20 per page)':40s} {'matches':>9s} {'total':>12s} {'before p50':>11s} {'p95':>8s} "
        f"{'after p50':>10s} {'p95':>8s} {'p95 ratio':>10s}  same page"
    )
    ok = True
    for name, word, flt in cases:
        page = store.search_postings(word, flt, size=20)
        exact, ids = unbounded_page(store, word, flt, 20)
        same = [h.id for h in page.items] == ids and (
            page.total == exact if page.total_relation == "eq" else page.total < exact
        )
        ok = ok and same
        b50, b95 = timed(lambda word=word, flt=flt: unbounded_page(store, word, flt, 20), args.repeat)
        a50, a95 = timed(lambda word=word, flt=flt: store.search_postings(word, flt, size=20), args.repeat)
        total = f"{'≥' if page.total_relation == 'gte' else ''}{page.total:,}"
        print(
            f"{name:40s} {exact:9,d} {total:>12s} {b50:11.1f} {b95:8.1f} {a50:10.1f} {a95:8.1f} "
            f"{b95 / a95:9.1f}x  {same}"
        )
    print(f"load average    {' '.join(f'{x:.2f}' for x in os.getloadavg())} (cores: {os.cpu_count()})")
    store.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
