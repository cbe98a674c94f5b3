"""Generated postings for the conformance suite and a plain-Python reference of every answer.

The reference follows the semantics written in ``storage/base.py``; each backend must agree with it
(and so with every other backend) exactly.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, timedelta

from skillsignal.core.models import CompetencyMatch, Extraction, OccupationMatch, Posting, SkillMatch
from storage.base import experience_band, intensity, median, period_start, periods, posted_date, salary_mid
from storage.filters import PostingFilter

OCCUPATIONS = [("2-02-38-01", "ml"), ("2-02-38-03", "bigdata"), ("2-02-38-09", None), ("other", None)]
SKILLS = ["python", "pytorch", "spark", "hive", "sql", "docker", "kubernetes", "java"]
PLACES = [
    ("江苏", "南京", "east"),
    ("江苏", "苏州", "east"),
    ("浙江", "杭州", "east"),
    ("湖北", "武汉", "central"),
    ("四川", "成都", "west"),
    ("辽宁", "沈阳", "northeast"),
]
#: competency statement ids per occupation (a posting names 0-3 of its occupation's)
COMPETENCIES = {
    "2-02-38-01": ["ai.j.1.1", "ai.j.1.5", "ai.m.1.1", "ai.s.3.5"],
    "2-02-38-03": ["bd.j.4.5", "bd.m.5.2", "bd.j.5.1"],
    "2-02-38-09": ["ic.j.1.1", "ic.m.1.1"],
}
WORDS = ["机器学习", "数据分析", "大数据平台", "深度学习", "分布式系统", "云计算", "模型训练"]
START = date(2026, 1, 1)


def generate(n: int = 400, seed: int = 7) -> tuple[list[Posting], dict[str, str]]:
    """``n`` postings over 120 days from :data:`START`, and near-duplicate marks (id -> dup_of)."""
    rnd = random.Random(seed)
    comp_rnd = random.Random(seed + 1)  # its own stream: the other fields stay as they were
    postings: list[Posting] = []
    for i in range(n):
        occ, direction = rnd.choice(OCCUPATIONS)
        province, city, region = rnd.choice(PLACES)
        skills = rnd.sample(SKILLS, rnd.randint(0, 4))
        lo = rnd.choice([None, 8000, 10000, 15000, 20000, 25000])
        hi = None if lo is None or rnd.random() < 0.1 else lo + rnd.choice([0, 5000, 10000])
        years = rnd.choice([None, 0, 1, 2, 3, 5, 8, 10])
        crawl_only = rnd.random() < 0.1
        day = START + timedelta(days=rnd.randrange(120))
        word = rnd.choice(WORDS)
        p = Posting(
            id=f"c{i:04d}",
            source=rnd.choice(["boss", "51job"]),
            title=f"{word}工程师",
            company=rnd.choice(["甲科技", "乙数据", "丙智能", None]),
            description=f"负责{word}相关工作，熟悉{'、'.join(skills) or '办公软件'}。",
            posted_at=None if crawl_only else day,
            crawled_at=f"{day.isoformat()}T08:00:00+00:00",
            industry=rnd.choice(["互联网", "金融", None]),
        )
        p.location.province, p.location.city, p.location.region = province, city, region
        p.salary.min, p.salary.max = lo, hi
        p.experience.years_min = years
        p.education.level = rnd.choice(["本科", "硕士", "大专", None])
        if rnd.random() < 0.9:
            p.extraction = Extraction(
                occupation=OccupationMatch(code=occ, name=occ, direction=direction),
                level=rnd.choice(["初级", "中级", "高级"]),
                skills=[SkillMatch(id=s, name=s) for s in skills],
                competencies=[
                    CompetencyMatch(id=c, text=c)
                    for c in comp_rnd.sample(
                        COMPETENCIES.get(occ, []), comp_rnd.randint(0, len(COMPETENCIES.get(occ, [])))
                    )
                ],
                taxonomy_version="t",
                extractor_version="e",
            )
        postings.append(p)
    dups = {p.id: postings[i - 1].id for i, p in enumerate(postings) if i and rnd.random() < 0.15}
    return postings, dups


# -- reference ---------------------------------------------------------------------------------
def _field(p: Posting, facet: str) -> list[str | None]:
    ext = p.extraction
    return {
        "occupations": [ext.occupation.code if ext else None],
        "directions": [ext.occupation.direction if ext else None],
        "levels": [ext.level if ext else None],
        "skills": list(dict.fromkeys(s.id for s in ext.skills)) if ext else [],
        "provinces": [p.location.province],
        "cities": [p.location.city],
        "regions": [p.location.region],
        "companies": [p.company],
        "industries": [p.industry],
        "education": [p.education.level],
        "experience": [experience_band(p.experience.years_min)],
        "sources": [p.source],
        "competencies": list(dict.fromkeys(c.id for c in ext.competencies)) if ext else [],
    }[facet]


def matches(p: Posting, flt: PostingFilter) -> bool:
    d = posted_date(p)
    if flt.start and d < flt.start or flt.end and d > flt.end:
        return False
    for facet in (
        "occupations",
        "directions",
        "levels",
        "skills",
        "provinces",
        "cities",
        "regions",
        "companies",
        "industries",
        "education",
        "sources",
    ):
        wanted = getattr(flt, facet)
        if wanted and not set(wanted) & set(_field(p, facet)):
            return False
    yrs, lo, hi = p.experience.years_min, p.salary.min, p.salary.max
    if flt.experience_min is not None and (yrs is None or yrs < flt.experience_min):
        return False
    if flt.experience_max is not None and (yrs is None or yrs > flt.experience_max):
        return False
    if flt.salary_min is not None and (hi is None or hi < flt.salary_min):
        return False
    if flt.salary_max is not None and (lo is None or lo > flt.salary_max):
        return False
    return True


def _counts(ps: list[Posting], dups: dict[str, str]) -> dict[str, object]:
    n = len(ps)
    d = sum(1 for p in ps if p.id in dups)
    sal = [s for p in ps if p.id not in dups and (s := salary_mid(p)) is not None]
    return {
        "unique_postings": n - d,
        "duplicate_postings": d,
        "total_postings": n,
        "posting_intensity": intensity(n, n - d),
        "median_salary": median(sal),
    }


def totals(postings, dups, flt: PostingFilter) -> dict[str, object]:
    return _counts([p for p in postings if matches(p, flt)], dups)


def timeseries(postings, dups, flt: PostingFilter, interval: str) -> list[tuple[date, int, int, int]]:
    first = flt.start or min(posted_date(p) for p in postings)
    last = flt.end or max(posted_date(p) for p in postings)
    by: dict[date, list[Posting]] = defaultdict(list)
    for p in postings:
        if matches(p, flt):
            by[period_start(posted_date(p), interval)].append(p)
    out = []
    for start in periods(first, last, interval):
        c = _counts(by[start], dups)
        out.append((start, c["unique_postings"], c["duplicate_postings"], c["total_postings"]))
    return out


def ranking(postings, dups, facet: str, flt: PostingFilter, metric: str, limit: int) -> list[tuple[str, object]]:
    groups: dict[str, list[Posting]] = defaultdict(list)
    for p in postings:
        if matches(p, flt):
            for key in _field(p, facet):
                if key is not None:
                    groups[key].append(p)
    scored = [(k, _counts(v, dups)[metric]) for k, v in groups.items()]
    if metric == "median_salary":
        scored.sort(key=lambda kv: (kv[1] is None, -(kv[1] or 0), kv[0]))
    else:
        scored.sort(key=lambda kv: (-kv[1], kv[0]))
    return scored[:limit]


def cooccurrence(postings, dups, flt: PostingFilter) -> Counter:
    pairs: Counter = Counter()
    for p in postings:
        if p.id not in dups and matches(p, flt):
            skills = sorted(set(_field(p, "skills")))
            for i, a in enumerate(skills):
                for b in skills[i + 1 :]:
                    pairs[(a, b)] += 1
    return pairs


# -- posting lives and signal cells -------------------------------------------------------------
#: a date after every generated one: the mark_seen / close_unseen day of the life dataset
LIFE_END = date(2026, 9, 1)


def generate_lives(seed: int = 11) -> tuple[list[Posting], dict[str, str], list[Posting], dict[str, date], tuple]:
    """:func:`generate`'s postings with random seen dates (first up to 10 days before the crawl, last
    up to 90 after, a third closed), plus what the store is then told: an older replay of 40 of
    them (last seen on their first day, open), ``mark_seen`` of 25 ids on :data:`LIFE_END` (12 of them
    closed before) and ``close_unseen('boss', LIFE_END)``."""
    postings, dups = generate(n=400, seed=seed)
    rnd = random.Random(seed)
    for p in postings:
        crawl = p.crawled_at.date()
        p.first_seen = crawl - timedelta(days=rnd.randint(0, 10))
        p.last_seen = crawl + timedelta(days=rnd.randint(0, 90))
        p.closed_on = p.last_seen if rnd.random() < 0.33 else None
    replay = [p.model_copy(update={"last_seen": p.first_seen, "closed_on": None}) for p in rnd.sample(postings, 40)]
    closed = [p.id for p in postings if p.closed_on]
    opened = [p.id for p in postings if not p.closed_on]
    seen = dict.fromkeys(rnd.sample(closed, 12) + rnd.sample(opened, 13), LIFE_END)
    return postings, dups, replay, seen, ("boss", LIFE_END)


def final_lives(
    postings: list[Posting], seen: dict[str, date], close: tuple
) -> dict[str, tuple[date, date, date | None]]:
    """id -> (first_seen, last_seen, closed_on) after the writes of the life dataset, worked out by hand:
    the replay changes nothing, a marked posting is last seen on its day and open, the closing crawl
    closes every other open posting of its source on its last_seen."""
    source, _ = close
    out = {}
    for p in postings:
        assert p.first_seen and p.last_seen
        if p.id in seen:
            out[p.id] = (p.first_seen, seen[p.id], None)
        elif p.closed_on is None and p.source == source:
            out[p.id] = (p.first_seen, p.last_seen, p.last_seen)
        else:
            out[p.id] = (p.first_seen, p.last_seen, p.closed_on)
    return out


SIGNAL_KEYS = {
    "occupation": lambda p: p.extraction.occupation.code if p.extraction else None,
    "direction": lambda p: p.extraction.occupation.direction if p.extraction else None,
    "level": lambda p: p.extraction.level if p.extraction else None,
    "province": lambda p: p.location.province,
    "region": lambda p: p.location.region,
}


def signal_cells(postings, dups, lives, flt: PostingFilter, dims: tuple[str, ...], interval: str) -> list[tuple]:
    """The cells as plain tuples, in the documented order, computed posting by posting."""
    cells: dict[tuple, dict] = {}
    for p in postings:
        if not matches(p, flt):
            continue
        key = tuple(SIGNAL_KEYS[d](p) for d in dims)
        c = cells.setdefault(
            (key, period_start(posted_date(p), interval)),
            {"total": 0, "unique": 0, "sal": Counter(), "e3": 0, "e5": 0, "b": 0, "m": 0, "s": 0, "dur": Counter()},
        )
        c["total"] += 1
        if p.id in dups:
            continue
        c["unique"] += 1
        if (s := salary_mid(p)) is not None:
            c["sal"][s] += 1
        years = p.experience.years_min
        c["e3"] += years is not None and years >= 3
        c["e5"] += years is not None and years >= 5
        c["b"] += p.education.level in ("本科", "硕士", "博士")
        c["m"] += p.education.level in ("硕士", "博士")
        c["s"] += bool(p.extraction and p.extraction.level == "高级")
        first, last, closed = lives[p.id]
        c["dur"][((last - first).days, closed is not None)] += 1
    order = sorted(cells, key=lambda kp: ([(v is not None, v or "") for v in kp[0]], kp[1]))
    return [
        (
            key,
            period,
            c["total"],
            c["unique"],
            sorted(c["sal"].items()),
            c["e3"],
            c["e5"],
            c["b"],
            c["m"],
            c["s"],
            sorted((d, closed, n) for (d, closed), n in c["dur"].items()),
        )
        for (key, period), c in ((kp, cells[kp]) for kp in order)
    ]
