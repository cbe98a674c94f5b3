"""One crawl in its own process: ``python -m crawlers.crawl_process CONFIG.json``.

Twisted's reactor cannot be restarted, so :func:`crawlers.runner.run_crawl` starts this
module as a child for every crawl. It logs to stderr one line per record
(``LEVEL<TAB>logger<TAB>message``, which the parent re-emits) and to a log file, and writes
the run's Scrapy stats as JSON to the path the config names.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from scrapy.crawler import CrawlerProcess

from skillsignal.core.config import Settings
from skillsignal.core.state_files import StoreError

from .distributed import opening_lock
from .middlewares import blocked_domains
from .seen import SeenStore
from .settings import build_settings
from .spiders.jobposting import JobPostingSpider

log = logging.getLogger("crawlers.crawl")


class CrawlConfig(BaseModel):
    urls: list[str]
    settings: dict[str, Any]
    polite: bool = True
    max_requests: int | None = None
    extract: bool = False
    job: str
    stats_path: str
    log_file: str
    detail_pattern: str | None = None
    overrides: dict[str, Any] = {}
    #: a distributed crawl's Redis (crawlers.distributed); None: this process crawls alone
    redis_url: str | None = None


class LineFormatter(logging.Formatter):
    """One physical line per record, so the parent can re-emit each with its level."""

    def format(self, record: logging.LogRecord) -> str:
        msg = super().format(record)
        return f"{record.levelname}\t{record.name}\t" + msg.replace("\n", "\\n")


def setup_logging(level: str, log_file: Path) -> None:
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level.upper())
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(LineFormatter("%(message)s"))
    log_file.parent.mkdir(parents=True, exist_ok=True)
    fh = logging.FileHandler(log_file, encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    err.setLevel(level.upper())
    fh.setLevel(level.upper())
    err.addFilter(_quiet)
    root.addHandler(err)
    root.addHandler(fh)
    logging.captureWarnings(True)


QUIET = (
    "scrapy.middleware",
    "scrapy.addons",
    "scrapy.utils.log",
    "scrapy.crawler",
    "scrapy.statscollectors",
    "scrapy.core.scraper",
)


def _quiet(record: logging.LogRecord) -> bool:
    """Start-up banners and the stats dump go to the log file only, not to the parent."""
    return record.levelno >= logging.WARNING or not record.name.startswith(QUIET)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def reset_scheduler_state(job_dir: Path) -> None:
    """Drop the disk queue and dupefilter files a previous run left: a killed process leaves
    them inconsistent, and the list walk plus the seen-store re-derive what is left to do."""
    for name in ("requests.queue", "requests.seen"):
        path = job_dir / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()


def crawl(cfg: CrawlConfig) -> dict[str, Any]:
    settings = Settings(**cfg.settings)
    settings.ensure_dirs()
    distributed = cfg.redis_url is not None
    job_dir = settings.crawl_dir / cfg.job
    if not distributed:  # a distributed crawl keeps its queue and duplicate filter in Redis
        job_dir.mkdir(parents=True, exist_ok=True)
        reset_scheduler_state(job_dir)
    seen_path = settings.crawl_dir / "seen.sqlite3"
    with opening_lock(settings.crawl_dir):
        seen = SeenStore(seen_path)
        generation, resumed = seen.begin(cfg.job)
    if distributed:
        resumed = False  # Redis says what is left to do; the seen-store only makes requests conditional
    log.info(
        "crawl %s: %d start URL(s), generation %d%s, polite=%s, extract=%s%s",
        cfg.job,
        len(cfg.urls),
        generation,
        " (resuming)" if resumed else "",
        cfg.polite,
        cfg.extract,
        ", distributed on Redis" if distributed else "",
    )
    scrapy_settings = build_settings(
        settings,
        polite=cfg.polite,
        request_budget=cfg.max_requests,
        job_dir=job_dir,
        seen_path=seen_path,
        generation=generation,
        resumed=resumed,
        extract=cfg.extract,
        overrides=cfg.overrides,
        redis_url=cfg.redis_url,
        job=cfg.job,
    )
    process = CrawlerProcess(scrapy_settings)
    for name in ("scrapy", "twisted", "py.warnings"):  # Scrapy's dictConfig sets DEBUG on its loggers
        logging.getLogger(name).setLevel(logging.getLogger().level)
    crawler = process.create_crawler(JobPostingSpider)
    process.crawl(crawler, start_urls=cfg.urls, detail_pattern=cfg.detail_pattern)
    started = time.perf_counter()
    process.start()
    stats = {k: _jsonable(v) for k, v in (crawler.stats.get_stats() or {}).items()}
    blocked = blocked_domains(crawler).reasons
    reason = stats.get("finish_reason")
    if reason == "finished" and not blocked:
        seen.finish(cfg.job)
    else:
        log.info(
            "crawl %s ended with %s%s; the next run resumes generation %d",
            cfg.job,
            reason,
            f" (blocked: {', '.join(sorted(blocked))})" if blocked else "",
            generation,
        )
    seen.close()
    return {
        "scrapy": stats,
        "blocked": blocked,
        "job": cfg.job,
        "generation": generation,
        "resumed": resumed,
        "seconds": time.perf_counter() - started,
        "log_file": cfg.log_file,
        "distributed": distributed,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m crawlers.crawl_process CONFIG.json", file=sys.stderr)
        return 2
    cfg = CrawlConfig.model_validate_json(Path(argv[0]).read_text(encoding="utf-8"))
    setup_logging(str(cfg.settings.get("log_level") or "INFO"), Path(cfg.log_file))
    try:
        result = crawl(cfg)
    except StoreError as exc:  # damaged crawl state or store: the parent says so in one line
        result, code = {"error": str(exc), "job": cfg.job}, 3
    else:
        code = 0
    tmp = Path(cfg.stats_path + ".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(cfg.stats_path)
    return code


if __name__ == "__main__":
    sys.exit(main())
