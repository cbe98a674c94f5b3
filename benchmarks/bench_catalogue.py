"""Catalogue benchmark: the full 紧缺人才目录 (every occupation × level × province) on a large SQLite store.

Generates N postings with ``bench_query``'s generator (the taxonomy's occupations, directions,
levels and skills, 24 months, 31 provinces, salaries, ~5 % near-duplicates) and gives each a life
across crawls (open an exponential time of mean 25 days, closed unless still open at the last
crawl), or opens an existing store (``--db``, kept). Then times ``build_catalogue`` for the last
full quarter: the whole country, one region, and every occupation × level × province, with and
without the skill/competency rankings, and prints p50/max over ``--repeat`` runs, the store's share
(``signal_cells``) and the load average.

    python benchmarks/bench_catalogue.py --n 1000000 --db /tmp/catalogue-1m.sqlite3
    python benchmarks/bench_catalogue.py --db /tmp/catalogue-1m.sqlite3      # reuse it
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_query import Generator
from signals.catalogue import build_catalogue
from signals.periods import period_of
from skill_taxonomy import default_taxonomy
from storage import PostingFilter, SQLiteStore

END = date(2026, 10, 31)  # the generator's last posting day


def ingest(db: Path, n: int, seed: int, batch: int = 5000, dup_rate: float = 0.05) -> None:
    store = SQLiteStore(db)
    gen = Generator(seed, arrival_of=n)
    life = random.Random(seed + 1)
    dups: dict[str, str] = {}
    started = time.perf_counter()
    for start in range(0, n, batch):
        postings = [gen.posting(i) for i in range(start, min(n, start + batch))]
        for p in postings:
            first = p.posted_at or END
            days = int(life.expovariate(1 / 25))
            closes = first + timedelta(days=days)
            p.first_seen, p.last_seen = first, min(closes, END)
            p.closed_on = closes if closes <= END else None
        store.index_postings(postings)
        for p in postings[1:]:
            if gen.rnd.random() < dup_rate:
                dups[p.id] = postings[0].id
        done = start + len(postings)
        if done % 100_000 < batch:
            print(f"  indexed {done:,} in {time.perf_counter() - started:,.0f} s", file=sys.stderr, flush=True)
    store.set_duplicates(dups)
    store.close()


def timed(fn, repeat: int) -> tuple[float, float, object]:
    result = fn()  # warm the page cache once
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), max(samples), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="postings to generate when --db is absent")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file: reused when it exists, else generated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--period", default=None, help="default: the last full quarter in the store")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_catalogue_")
        args.db = Path(tmp.name) / "catalogue.sqlite3"
    if not args.db.exists():
        t = time.perf_counter()
        ingest(args.db, args.n, args.seed)
        print(f"generated       {args.n:,} postings in {time.perf_counter() - t:,.0f} s")
    store = SQLiteStore(args.db)
    taxonomy = default_taxonomy()
    last = (store.date_range() or (END, END))[1]
    period = args.period or period_of(period_of(last, "quarter").start - timedelta(days=1), "quarter").label
    n = store.count_postings()
    print(f"store           {n:,} postings; period {period}; load average {os.getloadavg()[0]:.2f}")

    p = period_of(date.fromisoformat(f"{period[:4]}-{3 * int(period[-1]) - 2:02d}-01"), "quarter")
    window = PostingFilter(start=p.history_months(12)[0], end=p.end)
    dims = ("occupation", "level", "region", "province")
    cases = [
        ("signal_cells occupation×level×region×province", lambda: store.signal_cells(window, dims)),
        ("catalogue, national (occupation × level)", lambda: build_catalogue(store, taxonomy, period)),
        ("catalogue, region east", lambda: build_catalogue(store, taxonomy, period, region="east")),
        (
            "catalogue, every province, no skills",
            lambda: build_catalogue(store, taxonomy, period, breakdown="province", with_skills=False),
        ),
        (
            "catalogue, every province, top-5 skills/competencies",
            lambda: build_catalogue(store, taxonomy, period, breakdown="province"),
        ),
    ]
    for name, fn in cases:
        p50, worst, result = timed(fn, args.repeat)
        size = len(result) if isinstance(result, list) else len(getattr(result, "entries", []))
        flagged = sum(e.rating.label in ("critical", "elevated") for e in getattr(result, "entries", []))
        extra = f", {flagged} tightening" if hasattr(result, "entries") else " cells"
        print(f"{name:<55} p50 {p50:6.2f} s  max {worst:6.2f} s  ({size:,}{extra})")
    print(f"load average    {os.getloadavg()[0]:.2f} (2 cores shared)")
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
