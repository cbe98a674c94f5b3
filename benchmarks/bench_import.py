"""Importer throughput, SQLite ingest without extraction, and near-duplicate detection.

    .venv/bin/python benchmarks/bench_import.py [FILE]   (default ../shared/data/postings-dev.jsonl)

Prints: parse-only postings/s; postings/s into a fresh SQLite store through IngestPipeline
(normalise + index, extract=False, dedup off); the second import of the same file (everything
unchanged); dedup over the whole store from scratch (signatures + LSH + marks) and incrementally
re-run; clusters and duplicate postings.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawlers.importers import import_file
from skillsignal.core.config import Settings
from skillsignal.core.models import Posting
from skillsignal.dedup import Deduper
from skillsignal.pipeline import IngestPipeline
from storage import SQLiteStore


def ingest(path: Path, settings: Settings, store_path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    pipe = IngestPipeline(settings, store=SQLiteStore(store_path), extract=False, dedup=False)
    stats = pipe.process(p for p in import_file(path, None) if isinstance(p, Posting))
    pipe.close()
    return time.perf_counter() - started, stats.received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", nargs="?", default=str(ROOT.parent / "shared" / "data" / "postings-dev.jsonl"))
    args = parser.parse_args()
    path = Path(args.file)
    if not path.exists():
        sys.exit(f"{path} is absent")
    logging.basicConfig(level=logging.WARNING)
    size_mb = path.stat().st_size / 1e6

    started = time.perf_counter()
    n = bad = 0
    for item in import_file(path, None, progress_every=0):
        if isinstance(item, Posting):
            n += 1
        else:
            bad += 1
    parse_s = time.perf_counter() - started
    print(f"file: {path.name}, {size_mb:.1f} MB, {n} postings, {bad} rejected")
    print(f"parse only:            {parse_s:6.2f} s  {n / parse_s:8.0f} postings/s  {size_mb / parse_s:5.1f} MB/s")

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        settings.ensure_dirs()
        store_path = Path(tmp) / "bench.sqlite3"
        first_s, stored = ingest(path, settings, store_path)
        print(
            f"into SQLite, 1st:      {first_s:6.2f} s  {stored / first_s:8.0f} postings/s  via IngestPipeline(extract=False)"
        )
        second_s, _ = ingest(path, settings, store_path)
        store = SQLiteStore(store_path)
        print(
            f"into SQLite, 2nd:      {second_s:6.2f} s  {stored / second_s:8.0f} postings/s  "
            f"(store holds {store.count_postings()})"
        )

        deduper = Deduper(store, store_path)
        t = time.perf_counter()
        postings = list(store.iter_postings())
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        stats = deduper.update(postings)
        dedup_s = time.perf_counter() - t
        clusters = deduper.clusters()
        dups = sum(len(m) for m in clusters.values())
        print(
            f"dedup from scratch:    {dedup_s:6.2f} s  {len(postings) / dedup_s:8.0f} postings/s  "
            f"({stats.signed} MinHash signatures; reading the store {read_s:.2f} s)"
        )
        deduper.close()
        t = time.perf_counter()
        again = Deduper(store, store_path)
        rerun = again.update(postings)
        print(f"dedup re-run (reload): {time.perf_counter() - t:6.2f} s  marks written {rerun.marks_written}")
        exact = sum(
            1
            for c, members in clusters.items()
            if all(again._entries[m].fingerprint == again._entries[c].fingerprint for m in members)
        )
        print(
            f"near-duplicate clusters: {len(clusters)} ({exact} of them exact copies only), "
            f"duplicate postings: {dups}, unique postings: {store.count_postings(unique_only=True)}"
        )
        largest = max((len(m) + 1 for m in clusters.values()), default=0)
        print(f"largest cluster: {largest} postings")
        again.close()
        store.close()


if __name__ == "__main__":
    main()
