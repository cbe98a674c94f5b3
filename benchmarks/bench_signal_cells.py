"""Demand-signal cells at scale: ``signal_cells`` over N postings in a SQLite store.

Postings come from :mod:`bench_query`'s generator (the taxonomy's occupations, 31 provinces,
salaries, experience, education, ~5 % near-duplicates), each with a life across crawls: first seen
on its posting date, open for an exponential number of days (mean 21), closed unless that reaches
past the last crawl. Prints the store size and p50/p95 of the reads the catalogue makes: every
occupation × level × province × month, the same by region, and one occupation's cells, with the
load average (the figures are noisy on a shared machine).

    python benchmarks/bench_signal_cells.py --n 1000000 --db /tmp/signals.sqlite3
    python benchmarks/bench_signal_cells.py --db /tmp/signals.sqlite3 --queries-only
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_query import Generator, timed  # noqa: E402  # the sibling benchmark's generator

from storage import PostingFilter, SQLiteStore  # noqa: E402

log = logging.getLogger("bench_signal_cells")


def load(store: SQLiteStore, n: int, batch: int, seed: int, dup_rate: float, months: int) -> float:
    """Index ``n`` generated postings with seen dates; returns the seconds spent indexing."""
    gen = Generator(seed, months=months, arrival_of=n)
    life = random.Random(seed + 1)
    index_s = 0.0
    dups: dict[str, str] = {}
    for start in range(0, n, batch):
        postings = [gen.posting(i) for i in range(start, min(n, start + batch))]
        for p in postings:
            p.first_seen = p.crawled_at.date()
            p.last_seen = p.first_seen + timedelta(days=int(life.expovariate(1 / 21)))
            if p.last_seen > gen.end:
                p.last_seen = gen.end
            else:
                p.closed_on = p.last_seen
        t = time.perf_counter()
        store.index_postings(postings)
        index_s += time.perf_counter() - t
        dups.update({p.id: postings[0].id for p in postings[1:] if gen.rnd.random() < dup_rate})
        if (start + batch) % 100_000 < batch:
            print(f"  indexed {min(n, start + batch):,} ({index_s:.0f} s)", file=sys.stderr, flush=True)
    store.set_duplicates(dups)
    return index_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: a temporary one, deleted)")
    parser.add_argument("--months", type=int, default=30, help="months of posting dates (default 30)")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dup-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries-only", action="store_true", help="time the reads on an existing --db")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_signals_")
        args.db = Path(tmp.name) / "signals.sqlite3"
    if args.queries_only and not args.db.exists():
        parser.error(f"--queries-only needs an existing --db; {args.db} is absent")
    if not args.queries_only:
        if args.db.exists():
            parser.error(f"{args.db} exists; give a new path or add --queries-only")
        store = SQLiteStore(args.db)
        index_s = load(store, args.n, args.batch, args.seed, args.dup_rate, args.months)
        store._connect().execute("ANALYZE")
        store.close()
        print(f"ingest          {args.n:,} postings in {index_s:.0f} s ({args.n / index_s:,.0f}/s)")
    store = SQLiteStore(args.db)
    size = sum(p.stat().st_size for p in args.db.parent.glob(args.db.name + "*"))
    n = store.count_postings()
    top_occ = store.ranking("occupations", limit=1).buckets[0].key
    full = ("occupation", "level", "province")
    print(f"stored          {n:,} postings, {size / 1e9:.1f} GB, {len(store.signal_cells(None, full)):,} cells")
    reads = [
        ("occupation × level × province × month", lambda: store.signal_cells(None, full, "month")),
        ("occupation × level × region × month", lambda: store.signal_cells(None, ("occupation", "level", "region"))),
        (
            f"one occupation ({top_occ}) × province × month",
            lambda: store.signal_cells(PostingFilter(occupations=[top_occ]), ("province",), "month"),
        ),
    ]
    print(f"{'signal_cells':48s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for name, fn in reads:
        p50, p95 = timed(fn, args.repeat)
        print(f"{name:48s} {p50:8.0f} {p95:8.0f}")
    print("load average    " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs")
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
