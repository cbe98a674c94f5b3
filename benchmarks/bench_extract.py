#!/usr/bin/env python
"""Extraction throughput and memory on real postings, with and without embeddings.

For each mode it runs in its own process (so peak RSS is that mode's own) and prints: extractor
load time (taxonomy, spaCy/jieba, and for embeddings the model plus taxonomy vectors), postings/s
end to end over ``extract_many`` in batches (cleaning, sectioning, skills, new terms, level,
occupation, competencies), embedder texts encoded / cache hits, and peak RSS
(``resource.getrusage``). Then the 10 most frequent new terms of the corpus.

    python benchmarks/bench_extract.py                     # ../shared/data/postings-dev.jsonl
    python benchmarks/bench_extract.py --limit 1000 --modes plain
    python benchmarks/bench_extract.py --postings other.jsonl --threads 2

The postings file is read at run time and never copied; where it is absent the script says so
and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_POSTINGS = ROOT.parent / "shared" / "data" / "postings-dev.jsonl"
BATCH = 256


def worker(postings_path: Path, limit: int, use_embeddings: bool, out: Path) -> None:
    from skillsignal.config import Settings
    from skillsignal.records import record_to_posting

    postings = []
    with postings_path.open(encoding="utf-8") as fh:
        for line in fh:
            if len(postings) >= limit:
                break
            try:
                postings.append(record_to_posting(json.loads(line)))
            except Exception:  # a bad record is skipped, as the importer would
                continue

    started = time.perf_counter()
    from nlp.extractor import Extractor

    extractor = Extractor.from_settings(Settings(), use_embeddings=use_embeddings)
    load_s = time.perf_counter() - started
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    terms: Counter[str] = Counter()
    errors = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(postings), BATCH):
        for result in extractor.extract_many(postings[i: i + BATCH]):
            if isinstance(result, Exception):
                errors += 1
                continue
            for term in result.new_terms:
                terms[term.term] += term.count
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    emb = extractor.embedder.cache_info() if extractor.embedder is not None else {}
    out.write_text(
        json.dumps(
            {
                "mode": "embeddings" if use_embeddings else "no embeddings",
                "postings": len(postings),
                "errors": errors,
                "load_s": round(load_s, 2),
                "extract_s": round(wall, 2),
                "postings_per_s": round(len(postings) / wall, 1) if wall else None,
                "cpu_per_wall": round(cpu / wall, 2) if wall else None,
                "embedder": emb,
                "rss_after_load_mb": round(rss_after_load),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "new_terms": terms.most_common(10),
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    ap.add_argument("--limit", type=int, default=2000, help="postings to extract (default 2000)")
    ap.add_argument("--modes", default="plain,embeddings", help="comma list: plain, embeddings")
    ap.add_argument("--threads", type=int, default=None, help="SKILLSIGNAL_EMBEDDING_THREADS for the model")
    ap.add_argument("--worker", choices=["plain", "embeddings"], help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        worker(args.postings, args.limit, args.worker == "embeddings", args.out)
        return 0
    if not args.postings.exists():
        print(f"{args.postings} is absent: nothing to measure (pass --postings FILE)")
        return 0

    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if args.threads:
        env["SKILLSIGNAL_EMBEDDING_THREADS"] = str(args.threads)
    print(f"postings: {args.postings} (first {args.limit}); {os.cpu_count()} CPUs; load avg {os.getloadavg()[0]:.1f}")
    results = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            cmd = [sys.executable, __file__, "--worker", mode, "--out", str(out),
                   "--postings", str(args.postings), "--limit", str(args.limit)]
            proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0 or not out.exists():
                print(f"{mode}: failed\n{proc.stderr[-2000:]}")
                continue
            r = json.loads(out.read_text(encoding="utf-8"))
        results.append(r)
        print(
            f"{r['mode']:>14}: load {r['load_s']:.1f} s | {r['postings']} postings in {r['extract_s']:.1f} s = "
            f"{r['postings_per_s']} postings/s (cpu/wall {r['cpu_per_wall']}) | peak RSS {r['peak_rss_mb']} MB "
            f"(after load {r['rss_after_load_mb']} MB) | errors {r['errors']}"
        )
        if r["embedder"]:
            print(f"{'':>16}embedder: {r['embedder']}")
    if results:
        print("top-10 new terms:", ", ".join(f"{t}×{c}" for t, c in results[-1]["new_terms"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
