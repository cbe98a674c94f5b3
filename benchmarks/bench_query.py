"""Query and ingest benchmark of the SQLite store.

Generates N realistic postings (occupations, directions, levels and skills drawn from the bundled
taxonomy's links, 24 months, 31 provinces, salaries, experience, education, ~5 % near-duplicates)
straight into a fresh SQLite file, then prints the ingest rate (extraction excluded: postings
arrive with their extraction, as ``save_extractions`` stores them) overall and per 100,000, the
database size, and p50/p95
latency of every dashboard query (totals, monthly and daily series, skills ranking, the facet
counts) over a one-year window, unfiltered, with one occupation and with province × level, and
of the forecast's monthly count (all postings, one occupation, province × level, whole range).
Each query runs twice: answered from the roll-ups (the store's default, ``storage/sqlite/rollups.py``)
and with the row scan forced (``use_rollups = False``); the ratio rows / roll-up is printed.
Postings are generated in a second process while the first ingests, so the rate is the store's;
the overall rate includes the near-duplicate marks and the last checkpoint (closing the store copies
what the WAL still holds into the file), the per-100,000 rates are those of ``index_postings`` alone.

    python benchmarks/bench_query.py --n 100000

``--order arrival`` (default) generates postings in posting-date order with a few days of
jitter, the way a daily crawl delivers them; ``--order shuffled`` draws every date at random, the
way a bulk import of an unsorted historical dump arrives. Shuffled is the slower case: every
batch then writes into leaves all over each date-keyed index and roll-up, so SQLite rewrites far
more pages per commit as the file grows. ``--bulk`` ingests inside the store's bulk load (what
``skillsignal ingest --bulk`` does for such a dump: ``storage/sqlite/bulk.py``), whose end — every
date-keyed index and roll-up built from the rows — is counted in the overall rate.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skill_taxonomy import default_taxonomy
from skillsignal.core.models import LEVELS, Extraction, OccupationMatch, Posting, SkillMatch
from storage import PostingFilter, SQLiteStore

log = logging.getLogger("bench_query")

PROVINCES = [
    ("北京", "北京", "east"),
    ("天津", "天津", "east"),
    ("河北", "石家庄", "east"),
    ("上海", "上海", "east"),
    ("江苏", "南京", "east"),
    ("浙江", "杭州", "east"),
    ("福建", "福州", "east"),
    ("山东", "济南", "east"),
    ("广东", "深圳", "east"),
    ("海南", "海口", "east"),
    ("山西", "太原", "central"),
    ("安徽", "合肥", "central"),
    ("江西", "南昌", "central"),
    ("河南", "郑州", "central"),
    ("湖北", "武汉", "central"),
    ("湖南", "长沙", "central"),
    ("内蒙古", "呼和浩特", "west"),
    ("广西", "南宁", "west"),
    ("重庆", "重庆", "west"),
    ("四川", "成都", "west"),
    ("贵州", "贵阳", "west"),
    ("云南", "昆明", "west"),
    ("西藏", "拉萨", "west"),
    ("陕西", "西安", "west"),
    ("甘肃", "兰州", "west"),
    ("青海", "西宁", "west"),
    ("宁夏", "银川", "west"),
    ("新疆", "乌鲁木齐", "west"),
    ("辽宁", "沈阳", "northeast"),
    ("吉林", "长春", "northeast"),
    ("黑龙江", "哈尔滨", "northeast"),
]
#: rough weight of each province in digital job postings (big coastal hubs dominate)
PROVINCE_WEIGHTS = [
    9,
    2,
    1,
    9,
    7,
    8,
    3,
    3,
    12,
    0.5,
    0.5,
    2,
    1,
    2,
    3,
    2,
    0.3,
    0.7,
    2,
    4,
    0.7,
    0.7,
    0.1,
    2,
    0.4,
    0.1,
    0.1,
    0.3,
    1,
    0.5,
    0.5,
]
EDUCATION = ["不限", "大专", "本科", "硕士", "博士"]
INDUSTRIES = ["互联网", "计算机软件", "金融", "制造业", "教育", "医疗健康", "电子商务", "通信"]
DUTIES = [
    "负责{s}相关系统的设计与开发",
    "参与{s}平台建设与性能优化",
    "熟练使用{s}，具备良好的编码习惯",
    "有{s}项目经验者优先",
    "能够基于{s}独立完成模块开发与测试",
    "跟进{s}技术方向，推动业务落地",
]


class Generator:
    """Draws postings from the taxonomy's occupations, directions and skill links."""

    def __init__(self, seed: int, months: int = 24, end: date = date(2026, 10, 31), arrival_of: int | None = None):
        """``arrival_of``: the number of postings when they are drawn in posting-date order."""
        self.rnd = random.Random(seed)
        self.arrival_of = arrival_of
        tax = default_taxonomy()
        self.occupations = [
            (o.code, o.name_zh, [d.id for d in o.directions] or [None]) for o in tax.occupations.values()
        ]
        self.occupations.append(("other", "软件开发", [None]))
        self.occ_weights = [5.0 if o[0] != "other" else 3.0 for o in self.occupations]
        by_occ: dict[str, list[tuple[str, str, float]]] = {o[0]: [] for o in self.occupations}
        everything = [(s.id, s.name_zh, 0.2) for s in tax.skills.values()]
        for s in tax.skills.values():
            for link in s.occupations:
                if link.occupation in by_occ:
                    by_occ[link.occupation].append((s.id, s.name_zh, link.weight))
        self.skills = {code: (linked or everything) for code, linked in by_occ.items()}
        self.everything = everything
        self.end = end
        self.first = end - timedelta(days=months * 30.4)
        self.days = (end - self.first).days + 1
        self.companies = [
            f"{self.rnd.choice(['华', '云', '数', '智', '星', '海'])}"
            f"{self.rnd.choice(['科', '信', '创', '联', '达', '辰'])}{i}科技有限公司"
            for i in range(5000)
        ]

    def posting(self, i: int) -> Posting:
        r = self.rnd
        code, occ_name, directions = r.choices(self.occupations, self.occ_weights)[0]
        direction = r.choice(directions)
        level = r.choices(LEVELS, [4, 4, 2])[0]
        pool = self.skills[code]
        k = min(len(pool), r.randint(2, 8))
        chosen = {s[0]: s for s in r.choices(pool, [w for _, _, w in pool], k=k)}
        if r.random() < 0.3:
            extra = r.choice(self.everything)
            chosen.setdefault(extra[0], extra)
        # later months have more postings (demand grows ~40 % over the period)
        share = i / self.arrival_of if self.arrival_of else r.random()
        offset = int(self.days * (share**0.85)) - (r.randint(0, 3) if self.arrival_of else 0)
        day = self.first + timedelta(days=min(self.days - 1, max(0, offset)))
        province, city, region = r.choices(PROVINCES, PROVINCE_WEIGHTS)[0]
        base = {"初级": 9000, "中级": 16000, "高级": 28000}[level] * r.uniform(0.7, 1.4)
        lo = round(base / 1000) * 1000
        years = {"初级": r.choice([None, 0, 1]), "中级": r.choice([2, 3, 3, 5]), "高级": r.choice([5, 5, 8, 10])}[level]
        names = [s[1] for s in chosen.values()]
        duties = "；".join(r.choice(DUTIES).format(s=n) for n in names[:4])
        p = Posting(
            id=f"bench-{i}",
            source=r.choice(["boss", "51job", "zhaopin", "liepin"]),
            title=f"{level}{occ_name}",
            company=r.choice(self.companies),
            description=f"岗位职责：{duties}。任职要求：{r.choice(EDUCATION)}及以上学历，熟悉{'、'.join(names)}。",
            posted_at=day,
            crawled_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
            industry=r.choice(INDUSTRIES),
        )
        p.location.province, p.location.city, p.location.region = province, city, region
        if r.random() < 0.9:
            p.salary.min, p.salary.max = lo, lo + r.choice([2000, 5000, 8000, 10000])
        p.experience.years_min = years
        p.education.level = r.choice(EDUCATION)
        p.extraction = Extraction(
            occupation=OccupationMatch(code=code, name=occ_name, direction=direction),
            level=level,
            skills=[SkillMatch(id=sid, name=name) for sid, name, _ in chosen.values()],
            taxonomy_version="bench",
            extractor_version="bench",
        )
        return p


def produce(args: argparse.Namespace, out: multiprocessing.Queue) -> None:
    """Generate the postings in batches (and the near-duplicate marks of each) into ``out``."""
    gen = Generator(args.seed, months=args.months, arrival_of=args.n if args.order == "arrival" else None)
    for start in range(0, args.n, args.batch):
        batch = [gen.posting(i) for i in range(start, min(args.n, start + args.batch))]
        dups = {p.id: batch[0].id for p in batch[1:] if gen.rnd.random() < args.dup_rate}
        out.put((batch, dups))
    out.put(None)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm the cache once
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), percentile(samples, 0.95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="postings to generate (default 1,000,000)")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: a temporary one, deleted)")
    parser.add_argument("--batch", type=int, default=5000, help="postings per index call")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    parser.add_argument(
        "--row-repeat", type=int, default=5, help="timed runs per query with the row scan forced (0: skip)"
    )
    parser.add_argument("--dup-rate", type=float, default=0.05, help="share marked near-duplicate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", type=int, default=24, help="months of postings, ending 2026-10-31")
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="time the queries on an existing --db (from an earlier run) without ingesting",
    )
    parser.add_argument(
        "--order",
        choices=("arrival", "shuffled"),
        default="arrival",
        help="posting dates in arrival order (a daily crawl) or shuffled (a bulk import)",
    )
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="ingest inside the store's bulk load (`skillsignal ingest --bulk`: indexes and roll-ups built at the end)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_query_")
        args.db = Path(tmp.name) / "bench.sqlite3"
    if args.queries_only:
        if not args.db.exists():
            parser.error(f"--queries-only needs an existing --db; {args.db} is absent")
        return time_queries(SQLiteStore(args.db), args)
    if args.db.exists():
        parser.error(f"{args.db} exists; give a new path or add --queries-only")
    index_s, marked = ingest(args)
    store = SQLiteStore(args.db)
    conn = store._connect()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    print(f"postings        {args.n:,} ({marked:,} marked duplicate)")
    print(
        f"ingest          {args.n / index_s:,.0f} postings/s, {args.order} order{', bulk load' if args.bulk else ''} "
        f"(index {index_s:.1f} s; "
        "generation in another process, not counted; extraction excluded)"
    )
    code = time_queries(store, args)
    if tmp is not None:
        tmp.cleanup()
    return code


def ingest(args: argparse.Namespace) -> tuple[float, int]:
    """Store ``args.n`` generated postings (and their near-duplicate marks) into a new file; the
    seconds the store took (the end of a bulk load and the final checkpoint included) and how many were
    marked near-duplicate."""
    store = SQLiteStore(args.db)
    queue: multiprocessing.Queue = multiprocessing.Queue(maxsize=4)
    producer = multiprocessing.Process(target=produce, args=(args, queue), daemon=True)
    producer.start()
    index_s = 0.0
    step_s, step_n, done = 0.0, 0, 0
    dups: dict[str, str] = {}
    t = time.perf_counter()
    loading = store.bulk_load(progress=lambda step: log.warning("%s", step)) if args.bulk else nullcontext()
    with loading:
        index_s += time.perf_counter() - t
        while (item := queue.get()) is not None:
            batch, batch_dups = item
            t = time.perf_counter()
            store.index_postings(batch)
            took = time.perf_counter() - t
            index_s += took
            step_s += took
            step_n += len(batch)
            dups.update(batch_dups)
            done += len(batch)
            if done % 100_000 < args.batch or done == args.n:
                log.warning(
                    "indexed %s: %s/s overall, %s/s over the last %s",
                    f"{done:,}",
                    f"{done / index_s:,.0f}",
                    f"{step_n / step_s:,.0f}",
                    f"{step_n:,}",
                )
                step_s, step_n = 0.0, 0
        producer.join()
        t = time.perf_counter()
        store.set_duplicates(dups)
    # a bulk load built its indexes and roll-ups on leaving the block; closing copies what the WAL
    # still holds into the file (the store checkpoints every ~1 GB)
    store.close()
    return index_s + time.perf_counter() - t, len(dups)


def dashboard_queries(store: SQLiteStore, name: str, flt: PostingFilter) -> list[tuple[str, Callable[[], object]]]:
    """The dashboard's queries under one filter."""
    out: list[tuple[str, Callable[[], object]]] = [
        (f"totals ({name})", lambda: store.totals(flt)),
        (f"timeseries month ({name})", lambda: store.timeseries(flt, "month")),
        (f"timeseries day ({name})", lambda: store.timeseries(flt, "day")),
        (f"skills ranking top 20 ({name})", lambda: store.ranking("skills", flt, limit=20)),
    ]
    for facet in ("occupations", "provinces", "levels", "sources"):
        out.append((f"count_by {facet} ({name})", lambda facet=facet: store.count_by(facet, flt, limit=50)))
    return out


def time_queries(store: SQLiteStore, args: argparse.Namespace) -> int:
    """Database size and p50/p95 of the queries, roll-ups against the forced row scan."""
    size = args.db.stat().st_size + sum(p.stat().st_size for p in args.db.parent.glob(args.db.name + "-*"))
    n = store.count_postings()
    top_occ = store.ranking("occupations", limit=1).buckets[0].key
    last = store.date_range()[1]
    year = PostingFilter(start=last - timedelta(days=364), end=last)
    occ_year = year.model_copy(update={"occupations": [top_occ]})
    geo_year = year.model_copy(update={"provinces": ["广东"], "levels": ["中级"]})
    rollup_bytes = sum(
        row[0]
        for row in store._connect().execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'ru\\_%' ESCAPE '\\'")
    )

    print(f"stored          {n:,} postings, skill links {store.stats()['skill_mentions']:,}")
    print(
        f"database size   {size / 1e6:,.1f} MB ({size / max(n, 1):,.0f} bytes/posting, of which roll-ups "
        f"{(rollup_bytes or 0) / max(n, 1):,.0f})"
    )
    print(
        f"filter          occupation {top_occ} ({store.totals(occ_year).total_postings:,} postings), "
        f"{year.start} .. {year.end}; province × level 广东 中级"
    )
    queries = [
        *dashboard_queries(store, "1 year", year),
        *dashboard_queries(store, "occupation, 1 year", occ_year),
        *dashboard_queries(store, "province × level, 1 year", geo_year),
        ("forecast monthly count (all)", lambda: store.timeseries(PostingFilter(), "month")),
        (
            "forecast monthly count (occupation)",
            lambda: store.timeseries(PostingFilter(occupations=[top_occ]), "month"),
        ),
        (
            "forecast monthly count (province × level)",
            lambda: store.timeseries(PostingFilter(provinces=["广东"], levels=["中级"]), "month"),
        ),
        ("search '数据' (occupation, 1 year)", lambda: store.search_postings("数据", occ_year, size=20)),
    ]
    print(f"{'query':52s} {'p50 ms':>8s} {'p95 ms':>8s} {'rows p50':>9s} {'rows p95':>9s} {'ratio':>6s}")
    worst = 0.0
    for name, fn in queries:
        store.use_rollups = True
        p50, p95 = timed(fn, args.repeat)
        worst = max(worst, p95) if not name.startswith("search") else worst
        if args.row_repeat:
            store.use_rollups = False
            r50, r95 = timed(fn, args.row_repeat)
            print(f"{name:52s} {p50:8.1f} {p95:8.1f} {r50:9.1f} {r95:9.1f} {r50 / max(p50, 1e-3):6.1f}")
        else:
            print(f"{name:52s} {p50:8.1f} {p95:8.1f}")
    store.use_rollups = True
    print(f"slowest dashboard p95 (roll-ups) {worst:.1f} ms")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
