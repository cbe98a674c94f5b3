"""Scrapy settings for the SkillSignal crawlers (Scrapy's project layout).

Module-level names are the polite defaults ``scrapy crawl`` reads (see ``scrapy.cfg``);
:func:`build_settings` derives one run's settings from :class:`skillsignal.core.config.Settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .distributed import redis_scrapy_settings

BOT_NAME = "skillsignal"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

ROBOTSTXT_OBEY = True
USER_AGENT = "SkillSignalBot/0.1 (research crawler)"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_INSTALL_ROOT_HANDLER = False  # crawl_process sets up logging
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 10.0

# politeness
CONCURRENT_REQUESTS = 16
CONCURRENT_ITEMS = 16  # items per response processed in parallel (a page holds one or a few)
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # each delay is DOWNLOAD_DELAY x (1 +- 0.5)
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024

# retries (BackoffRetryMiddleware)
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 120.0

# list pages are walked every run; the seen-store (not the dupefilter) remembers detail pages
DUPEFILTER_CLASS = "crawlers.middlewares.RunDupeFilter"
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.BlockDetectionMiddleware": 60,
    "crawlers.middlewares.ConditionalRequestMiddleware": 70,
    "crawlers.middlewares.RequestBudgetMiddleware": 80,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "crawlers.middlewares.ProxyMiddleware": 740,
    "crawlers.metrics.CrawlMetricsMiddleware": 950,  # next to the downloader: sees every attempt
}
EXTENSIONS = {"crawlers.metrics.CrawlMetrics": 500}
ITEM_PIPELINES = {
    "crawlers.pipelines.ValidatePipeline": 300,
    "crawlers.pipelines.IngestItemPipeline": 400,
}
FEED_EXPORT_ENCODING = "utf-8"


def module_settings() -> dict[str, Any]:
    """This module's upper-case names as a dict."""
    return {k: v for k, v in globals().items() if k.isupper()}


def build_settings(
    settings: Any,
    *,
    polite: bool = True,
    request_budget: int | None = None,
    job_dir: Path | None = None,
    seen_path: Path | None = None,
    generation: int = 1,
    resumed: bool = False,
    extract: bool = False,
    overrides: dict[str, Any] | None = None,
    redis_url: str | None = None,
    job: str | None = None,
) -> dict[str, Any]:
    """Scrapy settings for one run; ``settings`` is a :class:`skillsignal.core.config.Settings`.
    ``redis_url`` (with the ``job`` name) makes the run one process of a distributed crawl
    (:mod:`crawlers.distributed`): scheduler and duplicate filter in Redis, no JOBDIR."""
    out = module_settings()
    out.update(
        USER_AGENT=settings.user_agent,
        ROBOTSTXT_OBEY=bool(settings.obey_robots) and polite,
        SKILLSIGNAL_SETTINGS=settings.model_dump(mode="json"),
        SKILLSIGNAL_PROXY=settings.proxy,
        SKILLSIGNAL_REQUEST_BUDGET=request_budget if request_budget is not None else settings.request_budget,
        SKILLSIGNAL_SEEN_PATH=str(seen_path) if seen_path else None,
        SKILLSIGNAL_GENERATION=generation,
        SKILLSIGNAL_RESUMED=resumed,
        SKILLSIGNAL_EXTRACT=extract,
        LOG_LEVEL=settings.log_level,
    )
    if redis_url is not None:
        if not job:
            raise ValueError("a distributed crawl needs its job name (the Redis keys are named after it)")
        out.update(
            redis_scrapy_settings(
                redis_url, job, idle_close=settings.crawl_idle_close, worker_ttl=settings.crawl_worker_ttl
            )
        )
    elif job_dir is not None:
        out["JOBDIR"] = str(job_dir)
    if not polite:  # our own loopback sites: as fast as they answer
        out.update(
            AUTOTHROTTLE_ENABLED=False,
            DOWNLOAD_DELAY=0,
            DOWNLOAD_DELAY_JITTER=0,
            CONCURRENT_REQUESTS=32,
            CONCURRENT_REQUESTS_PER_DOMAIN=32,
            RETRY_BACKOFF_BASE=0.2,
            RETRY_BACKOFF_MAX=5.0,
            DOWNLOAD_TIMEOUT=15,
        )
    out.update(overrides or {})
    return out
