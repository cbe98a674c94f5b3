#!/usr/bin/env python
"""Extraction on Celery workers (``skillsignal worker``), measured with every part real: Debian's
``redis-server``, ``skillsignal serve`` and ``skillsignal worker`` processes, a SQLite file, the
default extractor (embedding model on).

1. Real time: postings arrive at a steady ``--rate`` (20/s) as single-posting ``POST /v1/postings``;
   2 worker processes extract them; printed: time from the POST to the posting counted (its
   extraction visible in the store), p50 / p95 / max, and the POST's own latency.
2. Backlog: ``--backlog`` postings stored and queued with no worker running, then drained by one
   worker process, and (a fresh store) by two; printed: the raw ingest rate, each drain rate and
   their ratio; each drain prints its rate over every tenth, so a slowdown as the queue empties shows.
3. Reads beside writes: 30 concurrent readers (totals, occupation counts, top skills, monthly
   series) against the API over the demo history (38,775 postings): idle, then beside a
   back-to-back ingest (``POST /v1/postings``, batches of 50) with the workers extracting, then
   (``--in-process``, the default) beside the same ingest with extraction inside the API process
   (no Redis: how it ran before). Printed: p50 / p95 of each and the ratio to idle.

    python benchmarks/bench_workers.py                         # all three, backlog 2,000
    python benchmarks/bench_workers.py --parts backlog --backlog 100000 [--workers 1,2]

Postings: the shared dev postings (``../shared/data/postings-dev.jsonl``, read at run time, never
copied) when present, else the demo board's 199, cycled with ids of their own. The sentence-vector
disk cache is off, so a repeated sentence is not free. The embedding model: ``--model`` (a
converted model folder), else ``<repo>/data/models/multilingual-e5-small`` when present, else the
default conversion into the run's temporary folder. Load average is printed before and after each
part: other work on the machine slows every figure; compare figures of the same run.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_POSTINGS = ROOT.parent / "shared" / "data" / "postings-dev.jsonl"

import httpx  # noqa: E402
import redis  # noqa: E402

from skillsignal.core.config import Settings  # noqa: E402
from skillsignal.core.models import Posting  # noqa: E402
from storage import SQLiteStore  # noqa: E402

log = logging.getLogger("bench_workers")
READ_PATHS = ["/v1/totals", "/v1/counts/occupations", "/v1/rankings/skills?limit=20", "/v1/timeseries?interval=month"]


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def source_postings() -> list[Posting]:
    if SHARED_POSTINGS.exists():
        from crawlers.importers import import_file

        postings = [p for p in import_file(SHARED_POSTINGS) if isinstance(p, Posting)]
        log.info("postings: %d shared dev postings (%s)", len(postings), SHARED_POSTINGS)
        return postings
    from skillsignal.demo.generator import generate_postings

    demo = generate_postings()
    log.info("postings: the demo board's %d (no %s)", len(demo), SHARED_POSTINGS)
    return [
        Posting(id=d.id, source="demo", title=d.title, company=d.company, description=d.description, posted_at=d.posted)
        for d in demo
    ]


def postings_for(run: str, source: list[Posting], n: int) -> list[Posting]:
    """``n`` postings cycled from ``source`` under ids of ``run`` (a repeated one differs by its id)."""
    return [p.model_copy(update={"id": f"{run}-{i:06d}"}) for i, p in enumerate(islice(cycle(source), n))]


class Rig:
    """Redis, the API and workers, each a process of its own group, on one data folder."""

    def __init__(self, root: Path, model: str | None):
        self.root = root
        self.model = model
        self.procs: list[subprocess.Popen[bytes]] = []
        port = free_port()
        self.redis_dir = root / "redis"
        self.redis_dir.mkdir(parents=True)
        exe = shutil.which("redis-server")
        if exe is None:
            raise SystemExit("redis-server is not installed (Debian: apt-get install redis-server)")
        self.redis = subprocess.Popen(
            [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
            cwd=self.redis_dir,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.client = client

    def env(self, data_dir: Path, with_redis: bool = True) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SKILLSIGNAL_DATA_DIR": str(data_dir),
            "SKILLSIGNAL_EMBEDDING_DISK_CACHE": "false",
            "SKILLSIGNAL_LOG_LEVEL": "WARNING",
        }
        env.pop("SKILLSIGNAL_REDIS_URL", None)
        if with_redis:
            env["SKILLSIGNAL_REDIS_URL"] = self.redis_url
        if self.model:
            env["SKILLSIGNAL_EMBEDDING_MODEL"] = self.model
        return env

    def settings(self, data_dir: Path, **update: object) -> Settings:
        env = self.env(data_dir)
        values = {k.removeprefix("SKILLSIGNAL_").lower(): v for k, v in env.items() if k.startswith("SKILLSIGNAL_")}
        settings = Settings(**values, **update)
        settings.ensure_dirs()
        return settings

    def spawn(self, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        out = (self.root / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "skillsignal.cli", *args], env=env, stdout=out, stderr=out, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def worker(self, data_dir: Path, concurrency: int) -> subprocess.Popen[bytes]:
        return self.spawn(["worker", "--concurrency", str(concurrency)], self.env(data_dir), f"worker-c{concurrency}")

    def api(self, data_dir: Path, with_redis: bool = True) -> str:
        port = free_port()
        self.spawn(["serve", "--port", str(port)], self.env(data_dir, with_redis), "api")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/health", timeout=5).status_code in (200, 503):
                    return url
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start: see {self.root / 'api.log'}")
            time.sleep(0.2)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()
        self.client.flushall()

    def close(self) -> None:
        self.stop_all()
        os.killpg(self.redis.pid, signal.SIGTERM)
        self.redis.wait(timeout=10)


def wait_extracted(store: SQLiteStore, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while int(store.stats()["extracted"]) < n:
        if time.monotonic() > deadline:
            logs = "".join(
                f"--- {p}\n{p.read_text(errors='replace')[-4000:]}" for p in store.path.parents[1].glob("*.log")
            )
            raise RuntimeError(f"{n} extractions did not land in {timeout} s\n{logs}")
        time.sleep(0.2)


def post(client: httpx.Client, url: str, key: str, postings: list[Posting]) -> httpx.Response:
    answer = client.post(
        url + "/v1/postings", json=[p.model_dump(mode="json") for p in postings], headers={"X-API-Key": key}
    )
    answer.raise_for_status()
    return answer


# -- 1. real time ----------------------------------------------------------------------------------
def realtime(rig: Rig, source: list[Posting], rate: float, seconds: float) -> None:
    data = rig.root / "realtime"
    settings = rig.settings(data)
    url = rig.api(data)
    rig.worker(data, 2)
    store = SQLiteStore(settings.db_path)
    warm = postings_for("warm", source[::-1], 20)
    with httpx.Client(timeout=60) as client:
        post(client, url, settings.api_key, warm)
        wait_extracted(store, len(warm), 300)  # workers started and warm
        log.info("realtime: workers ready; %s", load())
        arrivals = postings_for("rt", source, int(rate * seconds))
        sent: dict[str, float] = {}
        landed: dict[str, float] = {}
        post_latency: list[float] = []
        done = threading.Event()

        def monitor() -> None:
            reader = SQLiteStore(settings.db_path)
            while not done.is_set() or len(landed) < len(sent):
                waiting = [pid for pid in list(sent) if pid not in landed]
                now = time.perf_counter()
                for pid, (_, version) in reader.fingerprints(waiting).items():
                    if version is not None:
                        landed[pid] = now
                if done.is_set() and time.perf_counter() - last_sent[0] > 120:
                    break
                time.sleep(0.02)
            reader.close()

        last_sent = [time.perf_counter()]
        watcher = threading.Thread(target=monitor)
        watcher.start()
        start = time.perf_counter()
        for i, posting in enumerate(arrivals):
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            t = time.perf_counter()
            sent[posting.id] = t
            answer = post(client, url, settings.api_key, [posting])
            post_latency.append(time.perf_counter() - t)
            assert answer.status_code == 202, answer.text
            last_sent[0] = time.perf_counter()
        behind = time.perf_counter() - (start + (len(arrivals) - 1) / rate)
        done.set()
        watcher.join()
    lat = [landed[pid] - sent[pid] for pid in sent if pid in landed]
    store.close()
    rig.stop_all()
    print(f"\n1. real time: {len(arrivals)} postings at {rate:g}/s for {seconds:g} s, 2 worker processes")
    print(f"   counted within: p50 {statistics.median(lat):.2f} s, p95 {pct(lat, 0.95):.2f} s, max {max(lat):.2f} s")
    print(f"   ({len(lat)} of {len(arrivals)} counted; the sender ended {behind:.2f} s behind schedule)")
    print(
        f"   POST /v1/postings itself: p50 {statistics.median(post_latency) * 1000:.0f} ms, "
        f"p95 {pct(post_latency, 0.95) * 1000:.0f} ms"
    )
    print(f"   target p95 < 2 s: {'met' if pct(lat, 0.95) < 2 else 'NOT met'}; {load()}")


# -- 2. backlog ------------------------------------------------------------------------------------
def drain(store: SQLiteStore, n: int, timeout: float) -> None:
    """Wait until ``n`` postings are extracted, printing the rate over every tenth of the drain."""
    deadline = time.monotonic() + timeout
    step = max(1, n // 10)
    t_last, c_last = time.perf_counter(), int(store.stats()["extracted"])
    mark = (c_last // step + 1) * step
    while c_last < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{n} extractions did not land in {timeout} s")
        time.sleep(1.0)
        done = int(store.stats()["extracted"])
        if done >= min(mark, n):
            now = time.perf_counter()
            print(
                f"      {done:>9,} extracted: {(done - c_last) / (now - t_last):6.1f}/s over the last {done - c_last:,}"
            )
            t_last, c_last = now, done
            mark = (done // step + 1) * step


def backlog(rig: Rig, source: list[Posting], n: int, workers: list[int]) -> None:
    from skillsignal.pipeline import IngestPipeline
    from skillsignal.workers import CeleryQueue, queue_status

    rates: dict[int, float] = {}
    print(f"\n2. backlog of {n:,} postings drained by {' and by '.join(map(str, workers))} worker process(es)")
    for concurrency in workers:
        data = rig.root / f"backlog-{concurrency}"
        settings = rig.settings(data, worker_batch_size=20)
        queue = CeleryQueue(settings)
        pipeline = IngestPipeline(settings, queue=queue, batch_size=1000)
        t = time.perf_counter()
        stats = pipeline.process(postings_for(f"bl{concurrency}", source, n))
        ingest_s = time.perf_counter() - t
        status = queue_status(settings)
        print(
            f"   ingest (stored raw, near-duplicates marked, queued): {stats.queued:,} in {ingest_s:.1f} s = "
            f"{stats.queued / ingest_s:,.0f}/s; queue {status.depth} tasks, {status.pending_postings:,} postings"
        )
        store = pipeline.store
        rig.worker(data, concurrency)
        t_start = time.perf_counter()
        wait_extracted(store, 1, 300)
        t0, c0 = time.perf_counter(), int(store.stats()["extracted"])
        drain(store, n, 3 * 3600)
        t1 = time.perf_counter()
        rates[concurrency] = (n - c0) / (t1 - t0)
        print(
            f"   {concurrency} worker process{'es' if concurrency > 1 else ''}: {rates[concurrency]:.1f} postings/s "
            f"({n - c0:,} in {t1 - t0:.1f} s after the first landed; start-up {t0 - t_start:.1f} s); {load()}"
        )
        pipeline.close()
        rig.stop_all()
    if 1 in rates and 2 in rates:
        print(f"   2 vs 1: {rates[2] / rates[1]:.2f}x (2 cores)")


# -- 3. reads beside writes ------------------------------------------------------------------------
def read_phase(
    rig: Rig, source: list[Posting], data: Path, history: object, with_redis: bool, writing: bool, seconds: float
) -> tuple[list[float], int]:
    """Read latencies of 30 readers for ``seconds`` (beside a back-to-back ingest when ``writing``)
    and how many postings that ingest stored."""
    from skillsignal.demo.history import load_history

    settings = rig.settings(data)
    store = SQLiteStore(settings.db_path)
    load_history(store, history)  # type: ignore[arg-type]
    url = rig.api(data, with_redis)
    if with_redis:
        rig.worker(data, 2)
    stop = threading.Event()
    latencies: list[float] = []
    lock = threading.Lock()
    written = [0]

    def reader(k: int) -> None:
        with httpx.Client(timeout=120) as client:
            paths: Iterator[str] = cycle(READ_PATHS[k % len(READ_PATHS) :] + READ_PATHS[: k % len(READ_PATHS)])
            while not stop.is_set():
                t = time.perf_counter()
                client.get(url + next(paths)).raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - t)

    def writer() -> None:
        batches = postings_for(f"w-{data.name}", source, 50 * 1000)
        with httpx.Client(timeout=300) as client:
            for j in range(0, len(batches), 50):
                if stop.is_set():
                    return
                post(client, url, settings.api_key, batches[j : j + 50])
                written[0] += 50

    before = int(store.stats()["extracted"])
    with httpx.Client(timeout=300) as client:  # warm: the first write loads the extractor (workers or API)
        post(client, url, settings.api_key, postings_for(f"warm-{data.name}", source[::-1], 5))
        wait_extracted(store, before + 5, 600)
        for path in READ_PATHS:
            client.get(url + path).raise_for_status()
    store.close()
    threads = [threading.Thread(target=reader, args=(k,)) for k in range(30)]
    if writing:
        threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    rig.stop_all()
    return latencies, written[0]


def reads(rig: Rig, source: list[Posting], seconds: float, in_process: bool) -> None:
    from skillsignal.demo.history import DEMO_SPEC, generate

    print(f"\n3. 30 concurrent readers ({', '.join(READ_PATHS)}), {seconds:g} s each, over the demo history")
    results: dict[str, list[float]] = {}
    phases = [("idle (2 idle worker processes)", True, False), ("beside ingest, workers extracting", True, True)]
    if in_process:
        phases.append(("beside ingest, extraction in the API process (no Redis)", False, True))
    history = generate(DEMO_SPEC)
    for i, (name, with_redis, writing) in enumerate(phases):
        latencies, written = read_phase(rig, source, rig.root / f"reads-{i}", history, with_redis, writing, seconds)
        results[name] = latencies
        print(
            f"   {name}: {len(latencies)} reads, p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {pct(latencies, 0.95) * 1000:.0f} ms"
            + (f"; {written} postings ingested" if writing else "")
            + f"; {load()}"
        )
    idle_name = phases[0][0]
    idle = pct(results[idle_name], 0.95)
    for name, values in results.items():
        if name != idle_name:
            ratio = pct(values, 0.95) / idle
            print(f"   p95 {name} / idle: {ratio:.2f}x" + (" (target <= 2x)" if "workers" in name else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="realtime,backlog,reads", help="Comma list of realtime, backlog, reads.")
    parser.add_argument("--rate", type=float, default=20.0, help="Arrivals per second (part 1).")
    parser.add_argument("--seconds", type=float, default=30.0, help="Length of the arrival run (part 1).")
    parser.add_argument("--backlog", type=int, default=2000, help="Backlog size (part 2).")
    parser.add_argument(
        "--workers", default="1,2", help="Comma list of worker-process counts that drain the backlog (part 2)."
    )
    parser.add_argument("--read-seconds", type=float, default=15.0, help="Length of each read phase (part 3).")
    parser.add_argument("--no-in-process", dest="in_process", action="store_false", help="Skip part 3's old path.")
    parser.add_argument("--model", default=None, help="A converted embedding model folder.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    model = args.model
    local = ROOT / "data" / "models" / "multilingual-e5-small"
    if model is None and local.exists():
        model = str(local)
    parts = set(args.parts.split(","))
    source = source_postings()
    print(f"bench_workers: {os.cpu_count()} cores, {load()}, model {model or 'default (converted here)'}")
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        rig = Rig(Path(tmp), model)
        try:
            if "realtime" in parts:
                realtime(rig, source, args.rate, args.seconds)
            if "backlog" in parts:
                backlog(rig, source, args.backlog, [int(w) for w in args.workers.split(",")])
            if "reads" in parts:
                reads(rig, source, args.read_seconds, args.in_process)
        finally:
            rig.close()


if __name__ == "__main__":
    main()
