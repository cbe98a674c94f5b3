"""Benchmark and coverage report for nlp.cleaning and nlp.fields over the dev postings.

    .venv/bin/python benchmarks/bench_fields.py [path/to/postings.jsonl]

Prints: clean_text time on a 1 MB description (simplified text, traditional HTML), normalise
throughput over all postings, and per-field coverage of non-empty values.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.cleaning import clean_text, split_sentences
from nlp.fields import (
    first_required_years,
    normalise_posting,
    parse_education,
    parse_experience,
    parse_salary,
    resolve_location,
)
from skillsignal.core.records import record_to_posting

DEFAULT = ROOT.parent / "shared" / "data" / "postings-dev.jsonl"
NO_YEARS = {"经验不限", "无经验", "应届生", "在校生", "不限"}


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    print(f"postings: {len(rows)} from {path}")

    seed = rows[0]["description"]
    big = (seed * (1_000_000 // len(seed) + 1))[:1_000_000]
    out, dt = timed(clean_text, big)
    print(f"clean_text 1 MB simplified: {dt:.3f} s")
    _, dt = timed(split_sentences, out)
    print(f"split_sentences on it: {dt:.3f} s")
    trad = "<p>熟悉機器學習與數據庫，負責演算法開發。</p>" * 35_000
    _, dt = timed(clean_text, trad)
    print(f"clean_text 1 MB traditional HTML: {dt:.3f} s")

    posts, dt = timed(lambda: [normalise_posting(record_to_posting(r)) for r in rows])
    print(f"normalise_posting: {len(rows) / dt:.0f} postings/s ({dt:.2f} s total)")

    def coverage(field, ok):
        vals = [(r.get("source"), r[field]) for r in rows if r.get(field)]
        good = sum(1 for v in vals if ok(*v))
        distinct = len(set(vals))
        print(f"  {field:<10} {good}/{len(vals)} = {good / len(vals):.2%} of non-empty values ({distinct} distinct)")
        return [v for v in vals if not ok(*v)]

    print("coverage:")
    misses = {
        "salary": coverage(
            "salary",
            lambda s, t: (lambda x: x.min is not None or x.max is not None or x.negotiable)(parse_salary(t, source=s)),
        ),
        "experience": coverage("experience", lambda s, t: parse_experience(t).years_min is not None or t in NO_YEARS),
        "education": coverage("education", lambda s, t: parse_education(t).level is not None),
        "city": coverage("city", lambda s, t: resolve_location(t).province is not None),
    }
    for field, miss in misses.items():
        if miss:
            print(f"  unparsed {field}: {Counter(t for _, t in miss).most_common(5)}")
    years = Counter(first_required_years(p.description) is not None for p in posts)
    print(f"first_required_years found in {years[True]}/{len(posts)} descriptions")
    regions = Counter(p.location.region for p in posts)
    print(f"regions: {dict(regions)}")


if __name__ == "__main__":
    main()
