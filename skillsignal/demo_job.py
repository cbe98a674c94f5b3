"""``skillsignal demo``: the whole pipeline, crawl → extract → index → serve, on the demo board, plus a
generated posting history (:mod:`skillsignal.demo.history`) for the catalogue and forecasts."""

from __future__ import annotations

import logging
import os
import time
from datetime import date

import uvicorn

from crawlers.runner import run_crawl
from storage import PostingFilter, PostingIndex, open_store

from .core.config import Settings
from .daemon import start_background_server, stop_background_server
from .demo.board import DemoBoard
from .demo.history import DEMO_SPEC, generate, load_history
from .demo.pages import IDENTIFIER_NAME
from .server import build_app

log = logging.getLogger(__name__)

#: The demo board always listens on this port so that its URLs (and so posting ids) are
#: the same on every run; override with SKILLSIGNAL_DEMO_BOARD_PORT.
DEMO_BOARD_PORT = int(os.environ.get("SKILLSIGNAL_DEMO_BOARD_PORT", "8765"))


def run_demo(settings: Settings, *, detach: bool = True, port: int | None = None, history: bool = True) -> None:
    settings.ensure_dirs()
    port = port or settings.api_port
    stop_background_server(settings)  # a previous demo's server; it is restarted below

    with DemoBoard(port=DEMO_BOARD_PORT) as board:
        log.info("demo board with %d postings at %s", len(board.postings), board.url)
        stats = run_crawl([board.list_url], settings=settings, polite=False)
    log.info("crawl finished: %s", stats.model_dump())

    store = open_store(settings)
    try:
        loaded = load_demo_history(store) if history else None
        crawled = PostingFilter(sources=[IDENTIFIER_NAME])
        occupations = store.count_by("occupations", crawled, limit=100)
        levels = store.count_by("levels", crawled)
        total = store.count_postings(crawled)
    finally:
        store.close()

    print(f"\nSkillSignal demo: {total} postings in {settings.db_path}")
    print("  by occupation: " + ", ".join(f"{k} {n}" for k, n in occupations))
    print("  by level:      " + ", ".join(f"{k} {n}" for k, n in levels))
    if loaded is not None:
        n, first, last = loaded
        print(
            f"  history:       {n} generated postings, {first:%Y-%m} .. {last:%Y-%m}, "
            f"source {DEMO_SPEC.source} (not crawled; see README, Demand signals)"
        )

    if detach:
        url = start_background_server(settings, settings.api_host, port)
        _print_urls(url)
        print("\nThe API keeps running in the background; stop it with: skillsignal stop")
    else:
        _print_urls(f"http://{settings.api_host}:{port}")
        uvicorn.run(build_app(settings), host=settings.api_host, port=port, log_level="warning")


def load_demo_history(store: PostingIndex) -> tuple[int, date, date]:
    """Load the generated posting history (:data:`DEMO_SPEC`) into ``store``: (postings, first month,
    last month). The same ids every time, so a second demo replaces them and counts nothing twice."""
    began = time.perf_counter()
    n = load_history(store, generate(DEMO_SPEC))
    log.info("demo history: %d postings (%s) loaded in %.1f s", n, DEMO_SPEC.source, time.perf_counter() - began)
    return n, DEMO_SPEC.first_month, DEMO_SPEC.last_month


def _print_urls(url: str) -> None:
    print("\nOpen:")
    print(f"  {url}/dashboard           (the dashboard)")
    print(f"  {url}/health")
    print(f"  {url}/v1/counts/occupations")
    print(f"  {url}/v1/counts/levels")
    print(f"  {url}/v1/rankings/skills")
    print(f"  {url}/docs                (OpenAPI)")
