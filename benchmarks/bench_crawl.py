"""Crawl throughput on loopback with politeness off: pages/s, extraction off and on.

Sites: the demo board (skillsignal.demo.board) and a generated JobPosting site of
``--pages`` postings (tests/crawlers/sites.py), so there are >= 1,000 pages even when the demo
board is smaller. Each run starts from an empty data dir; a second run of the same site shows
the conditional re-crawl (304s).

    .venv/bin/python benchmarks/bench_crawl.py [--pages 1200] [--no-extract-run]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawlers.runner import CrawlStats, run_crawl
from skillsignal.core.config import Settings


def crawl_once(name: str, site_factory: Callable[[], AbstractContextManager], extract: bool, recrawl: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", use_embeddings=False, log_level="WARNING")
        with site_factory() as site:
            t0, c0 = time.perf_counter(), child_cpu()
            stats = run_crawl([site.list_url], settings, polite=False, extract=extract)
            wall, cpu = time.perf_counter() - t0, child_cpu() - c0
            report(name, "extract on " if extract else "extract off", stats, wall, cpu)
            if recrawl:
                t0, c0 = time.perf_counter(), child_cpu()
                again = run_crawl([site.list_url], settings, polite=False, extract=extract)
                report(name, "re-crawl   ", again, time.perf_counter() - t0, child_cpu() - c0)


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def report(site: str, mode: str, s: CrawlStats, wall: float, cpu: float) -> None:
    print(
        f"{site:<22} {mode} pages {s.pages_fetched:>5}  postings {s.postings_found:>5}  stored {s.stored:>5}  "
        f"unchanged {s.unchanged:>5}  extracted {s.extracted:>5}  crawl {s.seconds:6.1f}s  "
        f"{s.pages_per_second:7.1f} pages/s  (wall incl. process start {wall:5.1f}s: "
        f"{s.pages_fetched / wall:6.1f} pages/s; crawler CPU {cpu:5.1f}s: "
        f"{s.pages_fetched / cpu if cpu else 0:6.1f} pages per CPU-s)",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1200, help="postings on the generated site")
    ap.add_argument("--no-extract-run", action="store_true", help="skip the extraction-on runs")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (figures are for this load)")
    extract_ok = not args.no_extract_run

    from skillsignal.demo.board import DemoBoard
    from tests.crawlers.sites import JobSite

    n = len(DemoBoard(port=0).postings)
    sites: list[tuple[str, Callable[[], AbstractContextManager]]] = [(f"demo board ({n})", lambda: DemoBoard(port=0))]
    sites.append((f"generated ({args.pages})", lambda: JobSite(n=args.pages, page_size=20)))
    for name, factory in sites:
        crawl_once(name, factory, extract=False, recrawl=True)
        if extract_ok:
            crawl_once(name, factory, extract=True, recrawl=False)
    if not extract_ok:
        print("extraction-on runs skipped (--no-extract-run)")


if __name__ == "__main__":
    main()
