"""Distributed crawling on a real Redis (``redis-server`` started by ``tests/redis_server.py``):
several real crawl processes share one scrapy-redis queue and duplicate filter against the local
fault-injecting site. One process is SIGKILLed while it holds requests; every posting still ends
up in the store once, and no page is requested more often than its retries and the killed
process's unfinished requests explain."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import stored_ids
from sites import JobSite

from crawlers.runner import CrawlStats, job_name, start_crawl

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: posting number -> fault (tests/crawlers/sites.py); the extra requests each one earns by retries
FAULTS = {7: "500x2", 19: "429", 33: "sloppy", 41: "malformed", 58: "gbk"}
RETRIES = {7: 2, 19: 1}
SLOW = {"CONCURRENT_REQUESTS": 3, "SKILLSIGNAL_BATCH_SIZE": 5, "SKILLSIGNAL_FLUSH_SECONDS": 0.5}


def _prefix(site: JobSite) -> str:
    return f"skillsignal:crawl:jobposting:{job_name([site.list_url])}"


def _wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_three_processes_share_one_crawl_and_survive_a_sigkill(crawl_settings, redis_url):
    import redis

    settings = crawl_settings.model_copy(update={"crawl_idle_close": 2.0, "crawl_worker_ttl": 3.0})
    r = redis.Redis.from_url(redis_url)
    gate = threading.Event()
    started = time.monotonic()
    with JobSite(n=120, page_size=20, faults=FAULTS, detail_delay=0.15) as site:
        site.state.gate = gate  # nothing is served before all three processes have joined
        prefix = _prefix(site)
        handles = [
            start_crawl(
                [site.list_url], settings, polite=False, extract=False, scrapy_overrides=SLOW, redis_url=redis_url
            )
            for _ in range(3)
        ]
        try:
            _wait_for(lambda: r.scard(f"{prefix}:workers") == 3, 60, "three workers")
            gate.set()
            by_pid = {h.pid: h for h in handles}

            def victim() -> tuple[str, int] | None:
                if sum(1 for p in site.hits if p.startswith("/jobs/")) < 30:
                    return None
                for w in r.smembers(f"{prefix}:workers"):
                    worker = w.decode()
                    pid = int(worker.split(":")[1])
                    if pid in by_pid and r.zcard(f"{prefix}:lease:{worker}") > 0:
                        return worker, pid
                return None

            deadline = time.monotonic() + 60
            while (chosen := victim()) is None:
                assert time.monotonic() < deadline, "no worker held a request after 30 pages"
                time.sleep(0.02)
            worker, pid = chosen
            os.kill(pid, signal.SIGKILL)
            by_pid[pid].process.wait(timeout=10)
            # what the dead process held: it may be fetched again, by another process
            leased = [pickle.loads(d)["url"] for d in r.zrange(f"{prefix}:lease:{worker}", 0, -1)]
            served_at_kill = sum(1 for p in site.hits if p.startswith("/jobs/"))
            results = {h.pid: h.wait(timeout=90, check=False) for h in handles}
        finally:
            for h in handles:
                if h.process.poll() is None:
                    h.process.kill()
        hits = Counter(site.hits)
        good = site.good_ids()
    elapsed = time.monotonic() - started

    assert leased, "the killed process held no request"
    assert served_at_kill < 120, "the kill came after the crawl"
    killed = results.pop(pid)
    assert killed.finish_reason == "died" and killed.returncode == -signal.SIGKILL
    survivors: list[CrawlStats] = list(results.values())
    assert all(s.finish_reason == "finished" and s.returncode == 0 and s.distributed for s in survivors)
    # the survivors put back exactly what the dead process held
    assert sum(s.recovered for s in survivors) == len(leased)

    # every good posting stored, once; none lost
    ids = stored_ids(settings)
    assert len(ids) == len(set(ids))
    assert set(ids) == good and len(good) == 119  # 41 is malformed: logged, not stored

    # requests: once each, plus retries, plus (at most once) what the dead process held
    leased_paths = Counter(u.split(str(site.state.port), 1)[1] for u in leased)
    for path, n in hits.items():
        if path == "/robots.txt":
            continue
        number = int(path.rsplit("/", 1)[1]) if path.startswith("/jobs/") else None
        allowed = 1 + RETRIES.get(number or 0, 0) + leased_paths[path]
        assert n <= allowed, f"{path} requested {n} times (allowed {allowed})"
    assert all(hits[f"/jobs/{i}"] >= 1 for i in range(1, 121))
    assert hits["/jobs/7"] >= 3 and hits["/jobs/19"] >= 2  # the faults were met and retried

    # the finished crawl leaves nothing behind in Redis: the next run starts afresh
    assert r.keys(f"{prefix}*") == []
    assert elapsed < 90


def _cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    code = "from skillsignal.cli import app; app()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_skillsignal_crawl_redis_out_of_budget_hands_its_requests_on(crawl_settings, redis_url):
    """``skillsignal crawl --redis``: a process whose request budget runs out puts the requests it
    took back into the queue and leaves the crawl in Redis; the next process resumes it, and each
    page is requested once in all. The finished crawl leaves nothing in Redis."""
    import redis

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "SKILLSIGNAL_DATA_DIR": str(crawl_settings.data_dir),
        "SKILLSIGNAL_USE_EMBEDDINGS": "false",
        "SKILLSIGNAL_CRAWL_IDLE_CLOSE": "1",
    }
    args = ["crawl", "--redis", redis_url, "--no-polite", "--no-extract"]
    r = redis.Redis.from_url(redis_url)
    with JobSite(n=30, page_size=10, detail_delay=0.05) as site:
        prefix = _prefix(site)
        runs = []
        for extra in (["--max-requests", "3"], []):
            proc = _cli([*args, *extra, site.list_url], env)
            out, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, err[-3000:]
            runs.append(CrawlStats.model_validate(json.loads(out)))
            if extra:  # the cut run left its queue and duplicate filter for the next process
                assert r.zcard(f"{prefix}:requests") > 0 and r.scard(f"{prefix}:dupefilter") > 0
        served = {p: n for p, n in site.hits.items() if p != "/robots.txt"}
    cut, rest = runs
    assert cut.distributed and cut.finish_reason == "budget_spent" and cut.requests == 3
    assert cut.requeued >= 1
    assert rest.distributed and rest.finish_reason == "finished"
    assert set(served.values()) == {1}, "a page was requested twice"
    assert cut.requests + rest.requests == sum(served.values()) == 30 + 3 + 1  # details, list pages, /private
    assert sorted(stored_ids(crawl_settings)) == sorted(site.good_ids())
    assert r.keys(f"{prefix}*") == []


def test_redis_settings_switch_the_scheduler_and_never_close_unseen(crawl_settings):
    from crawlers.settings import build_settings

    job = job_name(["http://127.0.0.1:1/jobs?page=1"])
    alone = build_settings(crawl_settings, job_dir=crawl_settings.crawl_dir / job, job=job)
    shared = build_settings(
        crawl_settings, job_dir=crawl_settings.crawl_dir / job, redis_url="redis://127.0.0.1:6379/3", job=job
    )
    assert "JOBDIR" in alone and "JOBDIR" not in shared
    assert shared["SCHEDULER"] == "crawlers.distributed.LeaseScheduler"
    assert shared["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert shared["SCHEDULER_PERSIST"] is True and shared["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert shared["SCHEDULER_QUEUE_KEY"] == f"skillsignal:crawl:%(spider)s:{job}:requests"
    assert shared["SCHEDULER_DUPEFILTER_KEY"] == f"skillsignal:crawl:%(spider)s:{job}:dupefilter"
    # one process sees part of the crawl: it closes nothing, and Redis (not the seen-store) resumes
    assert shared["SKILLSIGNAL_CLOSE_UNSEEN"] is False and shared["SKILLSIGNAL_RESUMED"] is False
    assert alone.get("SKILLSIGNAL_CLOSE_UNSEEN", True) is not False
    with pytest.raises(ValueError, match="job name"):
        build_settings(crawl_settings, redis_url="redis://127.0.0.1:6379/3")
