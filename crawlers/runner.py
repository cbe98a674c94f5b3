"""Run a crawl from Python: ``run_crawl(urls, settings) -> CrawlStats``.

Each crawl runs in a child process (``python -m crawlers.crawl_process``) because Twisted's
reactor cannot be restarted; so ``run_crawl`` can be called any number of times in one
process, pytest included. The child's log lines are re-emitted here under their own logger
names and levels as they arrive; its stats come back as a JSON file.

State lives under ``settings.crawl_dir``: ``<job>/`` (Scrapy JOBDIR), ``seen.sqlite3`` (the
seen-store: conditional requests and resume) and ``logs/<job>.log``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from skillsignal.core.config import Settings

from .jsonld import host_of, url_key

log = logging.getLogger(__name__)

LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)\t([^\t]+)\t(.*)$")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class CrawlError(RuntimeError):
    """The crawl process died without reporting stats."""


class CrawlStats(BaseModel):
    """What one crawl run did. ``unchanged`` = 304 answers + pages whose content was the same."""

    job: str = ""
    generation: int = 0
    resumed: bool = False
    finish_reason: str = ""
    requests: int = 0
    pages_fetched: int = 0
    list_pages: int = 0
    detail_pages: int = 0
    sitemaps: int = 0
    postings_found: int = 0
    stored: int = 0
    unchanged: int = 0
    not_modified: int = 0
    conditional_requests: int = 0
    skipped_done: int = 0
    extracted: int = 0
    extraction_errors: int = 0
    invalid: int = 0
    errors: int = Field(0, description="ERROR log lines of the run (gave-up retries, failed batches, ...).")
    download_errors: int = 0
    http_errors: int = 0
    malformed_jsonld: int = 0
    no_jobposting: int = 0
    retries: int = 0
    retry_wait_seconds: float = 0.0
    blocked_domains: list[str] = Field(default_factory=list)
    blocked_reasons: dict[str, str] = Field(default_factory=dict)
    budget_spent: bool = False
    http_status: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0
    pages_per_second: float = 0.0
    returncode: int = 0
    log_file: str | None = None
    distributed: bool = Field(False, description="One process of a crawl shared through Redis.")
    recovered: int = Field(0, description="Requests of dead processes this one put back into the shared queue.")
    requeued: int = Field(0, description="Requests this process took but handed back to the shared queue.")

    @classmethod
    def from_result(cls, result: dict[str, Any], returncode: int = 0) -> CrawlStats:
        s: dict[str, Any] = result.get("scrapy", {})

        def n(key: str) -> int:
            return int(s.get(key) or 0)

        not_modified = n("skillsignal/not_modified")
        seconds = float(result.get("seconds") or 0.0)
        pages = n("downloader/response_count")
        return cls(
            job=result.get("job", ""),
            generation=int(result.get("generation") or 0),
            resumed=bool(result.get("resumed")),
            finish_reason=str(s.get("finish_reason") or ""),
            requests=n("downloader/request_count"),
            pages_fetched=pages,
            list_pages=n("skillsignal/list_pages"),
            detail_pages=n("skillsignal/detail_pages"),
            sitemaps=n("skillsignal/sitemaps"),
            postings_found=n("item_scraped_count") + n("item_dropped_count"),
            stored=n("skillsignal/stored"),
            unchanged=n("skillsignal/unchanged") + not_modified,
            not_modified=not_modified,
            conditional_requests=n("skillsignal/conditional_requests"),
            skipped_done=n("skillsignal/skipped_done"),
            extracted=n("skillsignal/extracted"),
            extraction_errors=n("skillsignal/extraction_errors"),
            invalid=n("skillsignal/invalid"),
            errors=n("log_count/ERROR"),
            download_errors=n("downloader/exception_count"),
            http_errors=n("httperror/response_ignored_count"),
            malformed_jsonld=n("skillsignal/malformed_jsonld"),
            no_jobposting=n("skillsignal/no_jobposting"),
            retries=n("retry/count"),
            retry_wait_seconds=round((s.get("skillsignal/retry_wait_ms") or 0) / 1000, 2),
            blocked_domains=sorted(result.get("blocked", {})),
            blocked_reasons=dict(result.get("blocked", {})),
            budget_spent=bool(s.get("skillsignal/budget_spent")),
            http_status={
                k.rsplit("/", 1)[-1]: int(v) for k, v in s.items() if k.startswith("downloader/response_status_count/")
            },
            seconds=round(seconds, 3),
            pages_per_second=round(pages / seconds, 1) if seconds else 0.0,
            returncode=returncode,
            log_file=result.get("log_file"),
            distributed=bool(result.get("distributed")),
            recovered=n("skillsignal/redis/recovered"),
            requeued=n("skillsignal/redis/requeued"),
        )


def job_name(urls: list[str]) -> str:
    """A stable name for a set of start URLs: hosts (no ports) + a hash of their paths."""
    hosts = sorted({host_of(u) for u in urls})
    digest = hashlib.sha1("\n".join(sorted(host_of(u) + url_key(u) for u in urls)).encode()).hexdigest()[:10]
    base = re.sub(r"[^A-Za-z0-9.-]+", "_", "+".join(hosts))[:60]
    return f"{base}-{digest}"


class CrawlHandle:
    """A running crawl child process; :meth:`wait` returns its :class:`CrawlStats`."""

    def __init__(self, process: subprocess.Popen[str], stats_path: Path, workdir: tempfile.TemporaryDirectory[str]):
        self.process = process
        self.stats_path = stats_path
        self._workdir = workdir
        self._reader = threading.Thread(target=self._pump, name="crawl-log", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _pump(self) -> None:
        assert self.process.stderr is not None
        last = logging.INFO
        for raw in self.process.stderr:
            line = raw.rstrip("\n")
            if not line:
                continue
            m = LINE.match(line)
            if m:
                last = logging.getLevelNamesMapping()[m.group(1)]
                logging.getLogger(m.group(2)).log(last, m.group(3).replace("\\n", "\n"))
            else:  # tracebacks and stray output from the child
                logging.getLogger("crawlers.crawl_process").log(max(last, logging.WARNING), line)

    def wait(self, timeout: float | None = None, check: bool = True) -> CrawlStats:
        try:
            rc = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.error("crawl did not finish in %.0fs; stopping it (the next run resumes)", timeout)
            self.process.terminate()
            try:
                rc = self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                rc = self.process.wait()
        self._reader.join(timeout=10)
        try:
            if self.stats_path.exists():
                result = json.loads(self.stats_path.read_text(encoding="utf-8"))
                if result.get("error"):
                    raise CrawlError(result["error"])
                return CrawlStats.from_result(result, returncode=rc)
            if check:
                raise CrawlError(f"crawl process exited with code {rc} without stats; see the log lines above")
            return CrawlStats(finish_reason="died", returncode=rc)
        finally:
            self._workdir.cleanup()


def start_crawl(
    urls: list[str],
    settings: Settings,
    polite: bool = True,
    max_requests: int | None = None,
    *,
    extract: bool | None = None,
    job: str | None = None,
    detail_pattern: str | None = None,
    scrapy_overrides: dict[str, Any] | None = None,
    redis_url: str | None = None,
) -> CrawlHandle:
    """Start a crawl child process and return at once (see :func:`run_crawl`)."""
    if not urls:
        raise ValueError("run_crawl needs at least one start URL")
    settings.ensure_dirs()
    job = job or job_name(urls)
    redis_url = redis_url or settings.crawl_redis_url
    # the processes of a distributed crawl may share a data dir: one log file each
    log_name = f"{job}-{socket.gethostname()}-{os.getpid()}-{time.time_ns()}" if redis_url else job
    workdir = tempfile.TemporaryDirectory(prefix="skillsignal-crawl-")
    stats_path = Path(workdir.name) / "stats.json"
    config = {
        "urls": list(urls),
        "settings": settings.model_dump(mode="json"),
        "polite": polite,
        "max_requests": max_requests,
        "extract": True if extract is None else extract,
        "job": job,
        "stats_path": str(stats_path),
        "log_file": str(settings.crawl_dir / "logs" / f"{log_name}.log"),
        "detail_pattern": detail_pattern,
        "overrides": scrapy_overrides or {},
        "redis_url": redis_url,
    }
    config_path = Path(workdir.name) / "config.json"
    config_path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env["PYTHONUNBUFFERED"] = "1"
    log.info(
        "starting crawl %s of %s (polite=%s, budget=%s%s)",
        job,
        ", ".join(urls[:3]),
        polite,
        max_requests if max_requests is not None else settings.request_budget,
        ", distributed on Redis" if redis_url else "",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "crawlers.crawl_process", str(config_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
        cwd=str(PROJECT_ROOT),
    )
    return CrawlHandle(process, stats_path, workdir)


def run_crawl(
    urls: list[str],
    settings: Settings,
    polite: bool = True,
    max_requests: int | None = None,
    *,
    extract: bool | None = None,
    job: str | None = None,
    detail_pattern: str | None = None,
    scrapy_overrides: dict[str, Any] | None = None,
    timeout: float | None = None,
    redis_url: str | None = None,
) -> CrawlStats:
    """Crawl ``urls`` (list pages or sitemaps of JobPosting sites) into the store and return
    what happened. ``polite=False`` is for your own sites only (no delays, throttle or robots).
    ``max_requests`` overrides ``settings.request_budget``; ``extract`` defaults to whether
    :mod:`nlp.extractor` is installed. ``redis_url`` (default ``settings.crawl_redis_url``) makes
    this one process of a crawl shared through Redis (:mod:`crawlers.distributed`). Raises
    :class:`CrawlError` if the crawl process dies."""
    started = time.perf_counter()
    handle = start_crawl(
        urls,
        settings,
        polite,
        max_requests,
        extract=extract,
        job=job,
        detail_pattern=detail_pattern,
        scrapy_overrides=scrapy_overrides,
        redis_url=redis_url,
    )
    stats = handle.wait(timeout=timeout)
    log.info(
        "crawl %s %s in %.1fs: %d pages, %d postings found, %d stored, %d unchanged, %d errors%s",
        stats.job,
        stats.finish_reason,
        time.perf_counter() - started,
        stats.pages_fetched,
        stats.postings_found,
        stats.stored,
        stats.unchanged,
        stats.errors,
        f", blocked by {', '.join(stats.blocked_domains)}" if stats.blocked_domains else "",
    )
    return stats
