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

then one reconciled forecast (occupation × region under the filter, MinTrace) for scale. ``--compare``
adds, under each filter, the cold figures with :data:`signals.backtest.FULL_SEARCH` (the search
before the forms were reused) measured right after.

``--models-only`` leaves the store out and times the model side alone — backtest of every candidate
and the final fit, :func:`signals.forecast.forecast_values` with empty caches — on simulated monthly
series of 24, 36 and 60 months (local level, AR(1), random walk, additive and multiplicative season
on a trend, IMA(1,1), a drift whose monthly changes swing back: ``--series`` of each kind), for the default search
(:data:`signals.backtest.SEARCH`) and the one before it (:data:`signals.backtest.FULL_SEARCH`),
each series through both in the same minute (order alternating), then prints CPU and wall p50/p95,
their ratio, and what the speed costs in accuracy: MAE of the 6-month forecast against the simulated
future, scaled by the mean absolute month-to-month change (MASE-like), the paired difference
new − before with its standard error, and the 80 % / 95 % interval coverage. Then the first forecast
in a fresh process (statsforecast's import, then the first and second call: its ETS and ARIMA are
compiled C++, no JIT to warm)::

    python benchmarks/bench_forecast.py --models-only --series 10
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_query  # noqa: E402  # the sibling benchmark's generator and store build

from signals.backtest import FULL_SEARCH, SEARCH, Search  # noqa: E402
from signals.forecast import clear_cache, forecast, forecast_values, monthly_series  # noqa: E402
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


# -- the model side alone ----------------------------------------------------------------------------

MODEL_HORIZON = 6
LENGTHS = (24, 36, 60)


def simulated(rng: np.random.Generator, n: int) -> Iterator[tuple[str, np.ndarray]]:
    """One series of each kind, ``n`` months (history and the future it is scored on)."""
    t = np.arange(n)
    yield "level", 200 + np.cumsum(rng.normal(0, 4, n)) + rng.normal(0, 6, n)
    e = rng.normal(0, 8, n)
    ar = np.empty(n)
    ar[0] = 300 + e[0]
    for i in range(1, n):
        ar[i] = 300 + 0.6 * (ar[i - 1] - 300) + e[i]
    yield "ar1", ar
    yield "walk", 300 + np.cumsum(rng.normal(0, 10, n))
    yield "season", 300 + 60 * np.cos(2 * np.pi * (t + rng.integers(12)) / 12) + 1.5 * t + rng.normal(0, 10, n)
    yield "mseason", (200 + 3 * t) * (1 + 0.3 * np.cos(2 * np.pi * (t - 2) / 12)) + rng.normal(0, 8, n)
    e = rng.normal(0, 10, n)
    yield "ima11", 300 + np.cumsum(e + 0.5 * np.r_[0, e[:-1]])
    e, u = rng.normal(0, 250, n), np.zeros(n)
    for i in range(1, n):
        u[i] = -0.6 * u[i - 1] + e[i]
    yield "drift", 4000 + np.cumsum(120 + u)


def run_model(y: np.ndarray, n: int, search: Search) -> tuple[float, float, float, list[bool], list[bool]]:
    """(wall ms, CPU ms, scaled MAE, 80 % hits, 95 % hits) of one cold forecast of ``y[:n]``."""
    clear_cache()
    t, c = time.perf_counter(), time.process_time()
    result = forecast_values(list(y[:n]), date(2020, 1, 1), MODEL_HORIZON, search=search)
    wall, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
    truth = y[n : n + MODEL_HORIZON]
    mean = np.array([p.mean for p in result.forecast])
    scaled = float(np.mean(np.abs(mean - truth)) / np.mean(np.abs(np.diff(y[:n]))))
    hits80 = [p.lo80 <= g <= p.hi80 for p, g in zip(result.forecast, truth, strict=True)]
    hits95 = [p.lo95 <= g <= p.hi95 for p, g in zip(result.forecast, truth, strict=True)]
    return wall, cpu, scaled, hits80, hits95


FRESH = """
import time
t = time.perf_counter()
import numpy as np
from datetime import date
from signals.forecast import forecast_values, clear_cache
import statsforecast.models
t1 = time.perf_counter()
y = list(300 + np.cumsum(np.random.default_rng(1).normal(0, 10, 36)))
for k in range(3):
    clear_cache()
    c, w = time.process_time(), time.perf_counter()
    forecast_values(y, date(2020, 1, 1), 6)
    print(f"{(time.perf_counter() - w) * 1000:.0f}/{(time.process_time() - c) * 1000:.0f}", end=" ")
print(f"import {(t1 - t) * 1000:.0f}")
"""


def models_only(series: int) -> int:
    print(f"model side alone: {series} series of each of 7 kinds per length, horizon {MODEL_HORIZON}, cold caches")
    print(f"load average    {os.getloadavg()[0]:.2f} (1 min) at the start")
    print(
        f"{'months':>6s} {'search':>7s} {'CPU p50/p95 ms':>15s} {'wall p50/p95 ms':>16s} {'scaled MAE':>10s} "
        f"{'cover80':>7s} {'cover95':>7s}"
    )
    rng = np.random.default_rng(20261130)
    for n in LENGTHS:
        runs: dict[str, list[tuple[float, float, float, list[bool], list[bool]]]] = {"before": [], "now": []}
        k = 0
        for _ in range(series):
            for _kind, y in simulated(rng, n + MODEL_HORIZON):
                order = [("before", FULL_SEARCH), ("now", SEARCH)]
                for label, search in order if k % 2 == 0 else order[::-1]:
                    runs[label].append(run_model(y, n, search))
                k += 1
        for label in ("before", "now"):
            wall = [r[0] for r in runs[label]]
            cpu = [r[1] for r in runs[label]]
            print(
                f"{n:6d} {label:>7s} {statistics.median(cpu):7.1f}/{percentile(cpu, 0.95):<7.1f} "
                f"{statistics.median(wall):7.1f}/{percentile(wall, 0.95):<8.1f} "
                f"{statistics.mean(r[2] for r in runs[label]):10.3f} "
                f"{np.mean([h for r in runs[label] for h in r[3]]):7.3f} "
                f"{np.mean([h for r in runs[label] for h in r[4]]):7.3f}"
            )
        cpu_b, cpu_n = [r[1] for r in runs["before"]], [r[1] for r in runs["now"]]
        diff = np.array([a[2] - b[2] for a, b in zip(runs["now"], runs["before"], strict=True)])
        se = float(diff.std(ddof=1) / math.sqrt(diff.size))
        print(
            f"{n:6d} ratio   CPU p50 {statistics.median(cpu_b) / statistics.median(cpu_n):.1f}×, p95 "
            f"{percentile(cpu_b, 0.95) / percentile(cpu_n, 0.95):.1f}× faster; scaled MAE now − before "
            f"{diff.mean():+.3f} ± {se:.3f} (1 SE, {diff.size} series)"
        )
    print(f"load average    {os.getloadavg()[0]:.2f} (1 min) at the end")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, env=env, check=True)
    first, second, third, _, imported = out.stdout.split()
    print(
        f"fresh process   import of signals.forecast + statsforecast {imported} ms; forecasts 1, 2, 3 "
        f"(wall/CPU ms): {first}, {second}, {third}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="SQLite file: reused when present, else built")
    parser.add_argument("--models-only", action="store_true", help="time the model side on simulated series")
    parser.add_argument("--series", type=int, default=10, help="--models-only: series of each kind per length")
    parser.add_argument("--n", type=int, default=1_000_000, help="postings when building (default 1,000,000)")
    parser.add_argument("--months", type=int, default=30, help="months of postings when building (default 30)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per filter and mode")
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument(
        "--compare", action="store_true", help="also time cold forecasts with FULL_SEARCH (the search before)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.models_only:
        return models_only(args.series)
    if args.db is None:
        parser.error("--db is required (or --models-only)")

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
        if args.compare:
            before = forecast(store, flt, args.horizon, search=FULL_SEARCH)
            b50, b95, bc = timed(
                lambda flt=flt: forecast(store, flt, args.horizon, search=FULL_SEARCH), args.repeat, before=clear_cache
            )
            print(
                f"{'  the same, FULL_SEARCH (before)':34s} {'':6s} {before.model:>13s} {'':21s} {b50:6.1f}/{b95:<6.1f} {bc:6.1f}"
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
