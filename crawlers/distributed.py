"""Distributed crawling on Redis: N crawl processes, on one machine or many, share one crawl.

scrapy-redis supplies the shared parts: the request queue (a sorted set, ``scrapy_redis.queue``)
and the duplicate filter (a set of request fingerprints, ``scrapy_redis.dupefilter``), both kept
in Redis under keys named after the spider and the job (the start URLs' :func:`crawlers.runner.job_name`),
so every process given the same start URLs joins the same crawl and different sources never mix.

What scrapy-redis leaves open, and what :class:`LeaseScheduler` adds:

* **Requests in flight.** scrapy-redis pops a request out of Redis when a process takes it; a
  process killed before it has stored the postings of that request loses it for good (its
  fingerprint is already in the duplicate filter, so no other process will schedule it again).
  Here a pop *moves* the request, in one Lua script, from the queue into the process's lease set
  (``<prefix>:lease:<worker>``). The lease is acknowledged (removed) only once the request has
  left the engine (downloaded, parsed, its follow-up requests pushed to Redis) **and** the item
  pipeline has flushed what it produced into the store (:func:`durability`). Each process keeps a
  heartbeat key (``<prefix>:alive:<worker>``, ``crawl_worker_ttl`` seconds); any live process
  that finds a registered worker without a heartbeat moves that worker's leases back into the
  queue. So a SIGKILLed process's in-flight requests are fetched once more by another process
  (at most ``CONCURRENT_REQUESTS`` of them, plus those of its last unflushed batch), and none is lost.
  Retries are pushed back into the shared queue like any other request (``dont_filter``) and
  may be downloaded by another process.
* **Seeding.** Every process offers its start URLs; in this mode they go through the shared
  duplicate filter, so exactly one process pushes each (idempotent seeding: start any number of
  identical processes in any order).
* **Stopping.** A scrapy-redis spider idles forever by default. Here the crawl is finished when
  the shared queue is empty and no registered worker holds a lease (no process is busy with a
  request that could still add new ones). A process whose own engine is idle closes (reason
  ``finished``) once it has seen that state for ``crawl_idle_close`` seconds without a break.
  The last process to leave a finished crawl deletes its duplicate filter, so the next run of
  the same job walks the listings again; a crawl whose processes all stopped early (killed, or
  out of request budget) keeps its queue and filter in Redis and the next processes resume it.
* **Budget.** Requests a process drops because its request budget is spent go back into the
  queue (``REQUEUE_META``) for the other processes instead of being lost.

The keys live in one Redis database and the scripts touch keys they derive from the worker set,
so the deployment needs a single Redis server (not Redis Cluster). Queued requests are pickled
(scrapy-redis's serializer): the Redis server must be trusted like the crawl state on disk.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import socket
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

log = logging.getLogger(__name__)

#: a request carrying this meta key is put back into the shared queue when this process drops it
REQUEUE_META = "skillsignal_requeue"

KEY_PREFIX = "skillsignal:crawl:%(spider)s:{job}"

# -- Lua scripts (atomic on the server) --------------------------------------------------------------
#: queue -> lease: pop the best-scored request and keep it, with its score, in the worker's lease set;
#: the worker is (again) registered and alive, so a lease is never out of the others' sight
POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('ZADD', KEYS[2], r[2], r[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], '1', 'PX', ARGV[2])
return r[1]
"""
#: lease -> queue for the members given (ARGV), with their leased scores
REQUEUE = """
local n = 0
for _, data in ipairs(ARGV) do
  local score = redis.call('ZSCORE', KEYS[2], data)
  if score then
    redis.call('ZREM', KEYS[2], data)
    redis.call('ZADD', KEYS[1], score, data)
    n = n + 1
  end
end
return n
"""
#: every registered worker whose heartbeat expired: its leases back into the queue, itself unregistered
RECOVER = """
local moved = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[1] .. ':alive:' .. w) == 0 then
    local lease = ARGV[1] .. ':lease:' .. w
    local items = redis.call('ZRANGE', lease, 0, -1, 'WITHSCORES')
    for i = 1, #items, 2 do
      redis.call('ZADD', KEYS[1], items[i + 1], items[i])
      moved = moved + 1
    end
    redis.call('DEL', lease)
    redis.call('SREM', KEYS[2], w)
  end
end
return moved
"""
#: 1 when the crawl is finished: nothing queued and no registered worker holds a lease
FINISHED = """
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('ZCARD', ARGV[1] .. ':lease:' .. w) > 0 then return 0 end
end
return 1
"""
#: a worker leaves: its leases back into the queue, itself unregistered; the last worker to leave a
#: finished crawl deletes the duplicate filter (KEYS[3]) so that the next run starts afresh
LEAVE = """
local lease = ARGV[1] .. ':lease:' .. ARGV[2]
local items = redis.call('ZRANGE', lease, 0, -1, 'WITHSCORES')
for i = 1, #items, 2 do redis.call('ZADD', KEYS[1], items[i + 1], items[i]) end
redis.call('DEL', lease, ARGV[1] .. ':alive:' .. ARGV[2])
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('SCARD', KEYS[2]) == 0 and redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[3], KEYS[2])
  return 1
end
return 0
"""


def redis_scrapy_settings(redis_url: str, job: str, *, idle_close: float, worker_ttl: float) -> dict[str, Any]:
    """The Scrapy settings that put a crawl's scheduler and duplicate filter into Redis."""
    prefix = KEY_PREFIX.format(job=job)
    return {
        "SCHEDULER": "crawlers.distributed.LeaseScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # a crawl whose processes all stopped early resumes from Redis
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        "SKILLSIGNAL_REDIS_PREFIX": prefix,
        "REDIS_URL": redis_url,
        "SKILLSIGNAL_REDIS_IDLE_CLOSE": idle_close,
        "SKILLSIGNAL_REDIS_WORKER_TTL": worker_ttl,
        # one process sees part of the crawl: it must not close what it did not find itself
        "SKILLSIGNAL_CLOSE_UNSEEN": False,
        # Redis holds the crawl's progress; the seen-store only makes requests conditional
        "SKILLSIGNAL_RESUMED": False,
        "SKILLSIGNAL_DISTRIBUTED": True,
    }


@contextmanager
def opening_lock(crawl_dir: Path) -> Iterator[None]:
    """Held while a crawl process opens (and, the first time, creates) its SQLite files: the
    processes of a distributed crawl on one machine may share a data dir and start together, and
    one must not find another's half-created file."""
    crawl_dir.mkdir(parents=True, exist_ok=True)
    with (crawl_dir / ".open.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- durability: what the item pipeline has stored ------------------------------------------------
class Durability:
    """The item pipeline's flush, shared through the crawler: ``barrier()`` stores everything the
    spider has handed over so far; ``lost`` counts the postings the run has failed to store."""

    def __init__(self) -> None:
        self.barrier: Callable[[], Awaitable[None]] | None = None
        self.lost = 0


_DURABILITY: weakref.WeakKeyDictionary[Crawler, Durability] = weakref.WeakKeyDictionary()


def durability(crawler: Crawler) -> Durability:
    if crawler not in _DURABILITY:
        _DURABILITY[crawler] = Durability()
    return _DURABILITY[crawler]


# -- the queue --------------------------------------------------------------------------------------
class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop moves the request into ``lease_key``."""

    def __init__(
        self, server: Any, spider: Any, key: str, serializer: Any = None, *, prefix: str, worker: str, ttl: float
    ):
        super().__init__(server, spider, key, serializer)
        self.lease_key = f"{prefix}:lease:{worker}"
        self._registration = [f"{prefix}:workers", f"{prefix}:alive:{worker}"]
        self._worker_args = [worker, int(ttl * 1000)]
        self._pop = server.register_script(POP)
        self._requeue = server.register_script(REQUEUE)

    def pop_leased(self) -> tuple[Request, bytes] | None:
        data = self._pop(keys=[self.key, self.lease_key, *self._registration], args=self._worker_args)
        if not data:
            return None
        return self._decode_request(data), data

    def pop(self, timeout: int = 0) -> Request | None:
        got = self.pop_leased()
        return got[0] if got else None

    def ack(self, datas: list[bytes]) -> None:
        if datas:
            self.server.zrem(self.lease_key, *datas)

    def requeue(self, datas: list[bytes]) -> int:
        return int(self._requeue(keys=[self.key, self.lease_key], args=datas)) if datas else 0


# -- the scheduler ----------------------------------------------------------------------------------
class LeaseScheduler(Scheduler):
    """scrapy-redis's scheduler with leases, worker heartbeats and the stopping rule (module doc)."""

    #: seconds between ticks (heartbeat, recovery, acknowledgements, the finished check)
    TICK = 0.5

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseScheduler:
        instance: LeaseScheduler = super().from_crawler(crawler)
        s = crawler.settings
        instance.crawler = crawler
        instance.prefix_template = s.get("SKILLSIGNAL_REDIS_PREFIX")
        instance.idle_close = s.getfloat("SKILLSIGNAL_REDIS_IDLE_CLOSE", 10.0)
        instance.worker_ttl = s.getfloat("SKILLSIGNAL_REDIS_WORKER_TTL", 30.0)
        instance.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        instance.leased = {}
        instance.finished_since = None
        instance.loop = None
        instance.last_error = -math.inf
        crawler.signals.connect(instance.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(instance.spider_idle, signal=signals.spider_idle)
        return instance

    crawler: Crawler
    prefix_template: str
    idle_close: float
    worker_ttl: float
    worker: str
    #: requests this process popped and has not acknowledged, with their serialized form
    leased: dict[Request, bytes]
    finished_since: float | None
    loop: LoopingCall | None
    last_error: float
    queue: LeasedPriorityQueue
    df: Any  # scrapy_redis.dupefilter.RFPDupeFilter, built in open()

    # -- keys ------------------------------------------------------------------------------------
    @property
    def workers_key(self) -> str:
        return f"{self.prefix}:workers"

    def open(self, spider: Any) -> None:
        self.spider = spider
        self.prefix = self.prefix_template % {"spider": spider.name}
        self.queue = LeasedPriorityQueue(
            self.server,
            spider,
            self.queue_key % {"spider": spider.name},
            self.serializer,
            prefix=self.prefix,
            worker=self.worker,
            ttl=self.worker_ttl,
        )
        if not self.df:
            self.df = self._load_dupefilter(spider)
        self._recover = self.server.register_script(RECOVER)
        self._finished = self.server.register_script(FINISHED)
        self._leave = self.server.register_script(LEAVE)

    def spider_opened(self, spider: Any) -> None:
        """Join the crawl once the item pipelines are open (opening them may take the reactor for
        longer than the heartbeat's TTL): register, beat, and tick from now on."""
        self._beat()
        self.server.sadd(self.workers_key, self.worker)
        log.info(
            "distributed crawl: worker %s joined %s (%d requests queued, %d workers registered)",
            self.worker,
            self.prefix,
            len(self.queue),
            self.server.scard(self.workers_key),
        )
        self.loop = LoopingCall(lambda: deferred_from_coro(self._tick()))
        self.loop.start(self.TICK, now=False)

    def _load_dupefilter(self, spider: Any) -> Any:
        return load_object(self.dupefilter_cls).from_spider(spider)

    def _beat(self) -> None:
        self.server.set(f"{self.prefix}:alive:{self.worker}", b"1", px=int(self.worker_ttl * 1000))

    # -- Scrapy's scheduler interface -----------------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        meta = request.meta
        if meta.get("is_start_request") and not ("retry_times" in meta or "redirect_times" in meta):
            # idempotent seeding: a start URL (``dont_filter`` so that one process re-walks its
            # listings every run) is pushed by the first process that offers it, in this run
            if self.df.request_seen(request):
                self._count("seed_skipped", 1)
                return False
        elif not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self._count("enqueued", 1)
        return True

    def next_request(self) -> Request | None:
        got = self.queue.pop_leased()
        if got is None:
            return None
        request, data = got
        self.leased[request] = data
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def close(self, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        # the engine has finished every request it took and the pipelines have stored their items
        lost = self._lost_so_far()
        requeue = [d for r, d in self.leased.items() if lost or r.meta.get(REQUEUE_META)]
        ack = [d for r, d in self.leased.items() if not (lost or r.meta.get(REQUEUE_META))]
        if requeue:
            n = self.queue.requeue(requeue)
            self._count("requeued", n)
            log.info("distributed crawl: %d requests this process did not finish go back to the queue", n)
        self.queue.ack(ack)
        self.leased.clear()
        reset = int(self._leave(keys=[self.queue.key, self.workers_key, self.df.key], args=[self.prefix, self.worker]))
        left = len(self.queue)
        log.info(
            "distributed crawl: worker %s left (%s); %d requests queued%s",
            self.worker,
            reason,
            left,
            "; the crawl is complete, its duplicate filter is cleared for the next run" if reset else "",
        )

    # -- the tick ------------------------------------------------------------------------------------
    async def _tick(self) -> None:
        try:
            self._beat()
            self.server.sadd(self.workers_key, self.worker)  # again, if a stall made the others drop it
            recovered = int(self._recover(keys=[self.queue.key, self.workers_key], args=[self.prefix]))
            if recovered:
                self._count("recovered", recovered)
                log.warning(
                    "distributed crawl: %d requests leased by a worker that stopped beating go back to the queue",
                    recovered,
                )
            await self._acknowledge()
            self._check_finished()
            self._wake()
        except Exception:  # a Redis hiccup must not stop the loop: the next tick tries again
            now = time.monotonic()
            if now - self.last_error >= 30:  # once per 30 s, not at every tick
                self.last_error = now
                log.exception("distributed crawl: heartbeat/acknowledgement tick failed; retrying")

    def _busy(self) -> set[Request]:
        """Requests the engine has not finished: downloading, waiting to be parsed, being parsed
        (items included). The same fields ``scrapy.utils.engine.get_engine_status`` reports."""
        engine = self.crawler.engine
        busy: set[Request] = set()
        if engine is None:
            return busy
        busy.update(engine.downloader.active)
        slot = engine.scraper.slot
        if slot is not None:
            busy.update(slot.active)
            busy.update(request for _result, request, _d in slot.queue)
        return busy

    async def _acknowledge(self) -> None:
        if not self.leased:
            return
        busy = self._busy()
        done = {r: d for r, d in self.leased.items() if r not in busy}
        if not done:
            return
        lost_before = self._lost_so_far()
        barrier = durability(self.crawler).barrier
        if barrier is not None:
            await barrier()
        lost = self._lost_so_far()
        requeue = [d for r, d in done.items() if r.meta.get(REQUEUE_META) or lost > lost_before]
        ack = [d for r, d in done.items() if not (r.meta.get(REQUEUE_META) or lost > lost_before)]
        for r in done:
            self.leased.pop(r, None)
        self.queue.ack(ack)
        self._count("acked", len(ack))
        if requeue:
            self._count("requeued", self.queue.requeue(requeue))

    def _lost_so_far(self) -> int:
        return durability(self.crawler).lost

    def _check_finished(self) -> None:
        idle_here = not self.leased and self.crawler.engine is not None and not self._busy()
        finished = idle_here and bool(self._finished(keys=[self.queue.key, self.workers_key], args=[self.prefix]))
        if not finished:
            self.finished_since = None
        elif self.finished_since is None:
            self.finished_since = time.monotonic()

    def _wake(self) -> None:
        """Let the engine look at the shared queue now rather than at its next 5 s heartbeat: other
        processes push requests, and the finished window may have passed. Scrapy has no public call
        for this; the engine slot's ``nextcall`` is what its own ``crawl()`` schedules."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None and (self.finished_since is not None or len(self.queue)):
            nextcall.schedule()

    def spider_idle(self, spider: Any) -> None:
        """This process has nothing to do: close only when the whole crawl has been finished for
        ``idle_close`` seconds; otherwise wait for requests other processes push."""
        if self.finished_since is not None and time.monotonic() - self.finished_since >= self.idle_close:
            log.info(
                "distributed crawl: nothing queued and no worker busy for %.0fs; this process stops", self.idle_close
            )
            return
        raise DontCloseSpider

    def _count(self, name: str, n: int) -> None:
        if self.stats and n:
            self.stats.inc_value(f"skillsignal/redis/{name}", n)


__all__ = [
    "REQUEUE_META",
    "Durability",
    "LeaseScheduler",
    "LeasedPriorityQueue",
    "durability",
    "opening_lock",
    "redis_scrapy_settings",
]
