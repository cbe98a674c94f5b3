"""Latency of one forecast (``signals.forecast.forecast``: the monthly series query, the model selection
by rolling-origin backtest and the final fit) over a SQLite store of generated postings.

The store is :mod:`bench_query`'s (its generator: the taxonomy's occupations and skills, 31 provinces,
demand growing over the period); ``--db`` names the file, built on first use and reused after, since a
1,000,000-posting build takes several minutes::

    python benchmarks/bench_forecast.py --db /tmp/bench30m.sqlite3 --n 1000000 --months 30

Prints p50/p95 per filter of:

* ``query``: the series alone (``PostingIndex.timeseries`` and the partial-month check);
* ``cold``: a forecast with empty caches (query + backtest of every candidate + final fit): the
  first request for a filter after the store changed — the figure the 300 ms p95 target is about;
* ``cached``: the same request again, the store unchanged (the series cache is keyed by the store
  file's data version, the forecast cache by the series' values: neither can answer stale);

then one reconciled forecast (occupation × region under the filter, MinTrace) for scale.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_query  # noqa: E402  # the sibling benchmark's generator and store build

from signals.forecast import clear_cache, forecast, monthly_series  # noqa: E402
from signals.reconcile import reconciled_forecast  # noqa: E402
from storage import PostingFilter, SQLiteStore  # noqa: E402

log = logging.getLogger("bench_forecast")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(
    fn: Callable[[], object], repeat: int, before: Callable[[], None] | None = None
) -> tuple[float, float, float]:
    """(p50 wall, p95 wall, p50 CPU of this process) in ms; CPU time is the steadier figure on a
    shared machine."""
    samples, cpus = [], []
    for _ in range(repeat):
        if before is not None:
            before()
        t, c = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    return statistics.median(samples), percentile(samples, 0.95), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="SQLite file: reused when present, else built")
    parser.add_argument("--n", type=int, default=1_000_000, help="postings when building (default 1,000,000)")
    parser.add_argument("--months", type=int, default=30, help="months of postings when building (default 30)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per filter and mode")
    parser.add_argument("--horizon", type=int, default=6)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    if not args.db.exists():
        print(f"building {args.db} ({args.n:,} postings, {args.months} months) ...", file=sys.stderr, flush=True)
        bench_query.main(["--n", str(args.n), "--db", str(args.db), "--months", str(args.months), "--repeat", "1"])
    store = SQLiteStore(args.db)
    n = store.count_postings()
    first, last = store.date_range() or (None, None)
    occ = store.ranking("occupations", limit=1).buckets[0].key
    skill = store.ranking("skills", limit=1).buckets[0].key
    filters = {
        "all postings": PostingFilter(),
        f"occupation {occ}": PostingFilter(occupations=[occ]),
        f"occupation {occ}, region west": PostingFilter(occupations=[occ], regions=["west"]),
        f"skill {skill}": PostingFilter(skills=[skill]),
        "province 四川, 中级": PostingFilter(provinces=["四川"], levels=["中级"]),
    }
    print(f"store           {n:,} postings, {first} .. {last}")
    print(f"horizon         {args.horizon} months; {args.repeat} runs per row")
    print(f"load average    {os.getloadavg()[0]:.2f} (wall p50/p95 ms, then CPU p50 ms of this process)")
    print(
        f"{'filter':34s} {'months':>6s} {'model':>13s} {'query p50/p95 cpu':>21s} {'cold p50/p95 cpu':>21s} "
        f"{'cached p50/p95':>15s}"
    )
    worst = 0.0
    for name, flt in filters.items():
        periods, _, _ = monthly_series(store, flt)
        result = forecast(store, flt, args.horizon)
        q50, q95, qc = timed(lambda flt=flt: monthly_series(store, flt), args.repeat)
        c50, c95, cc = timed(lambda flt=flt: forecast(store, flt, args.horizon), args.repeat, before=clear_cache)
        h50, h95, _ = timed(lambda flt=flt: forecast(store, flt, args.horizon), args.repeat)
        worst = max(worst, c95)
        print(
            f"{name:34s} {len(periods):6d} {result.model:>13s} {q50:6.1f}/{q95:<6.1f} {qc:6.1f} "
            f"{c50:6.1f}/{c95:<6.1f} {cc:6.1f} {h50:7.1f}/{h95:<7.1f}"
        )
    print(f"worst cold p95  {worst:.1f} ms (target ≤ 300 ms); load average {os.getloadavg()[0]:.2f}")
    t = time.perf_counter()
    rec = reconciled_forecast(store, PostingFilter(occupations=[occ]), args.horizon)
    print(
        f"reconciled      occupation {occ}: {len(rec.nodes)} nodes (total, occupation, regions) in "
        f"{(time.perf_counter() - t) * 1000:.0f} ms (one run)"
    )
    t = time.perf_counter()
    rec = reconciled_forecast(store, PostingFilter(), args.horizon)
    print(
        f"reconciled      all postings: {len(rec.nodes)} nodes in {(time.perf_counter() - t) * 1000:.0f} ms (one run)"
    )
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
