"""Extraction time on very long descriptions: every step must grow linearly with the text.

    .venv/bin/python benchmarks/bench_long_text.py [--embeddings] [--sizes 50000,100000]

Prints, for text shapes that once made a step quadratic (a long run of real postings, one
80,000-character sentence, one clause without commas, English with one-letter languages, one
glued Latin token, numbered list items, a run of Chinese without punctuation):

1. the time of ``Extractor.extract`` on a 1,000,000-character description of each shape with
   the settings' cut (target: at most 1 s each), first, while the caches are cold;
2. per step (cleaning, tokenizing, sections, skills, new terms, level, occupation,
   competencies) the time per character at two sizes, with the extraction cut
   (``Settings.max_extract_chars``) lifted, and the ratio time(2n) / time(n): about 2 when the
   step is linear, about 4 when it is quadratic.

The "postings" shape reads ../shared/data/postings-dev.jsonl when present, else repeats a
built-in posting. Figures depend on the machine's load: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.cleaning import clean_text
from skillsignal.core.config import get_settings
from skillsignal.core.models import Posting

DEV = ROOT.parent / "shared" / "data" / "postings-dev.jsonl"
SAMPLE = (
    "岗位职责：1、负责数据仓库建设与ETL开发，基于Hadoop、Spark、Flink处理海量数据；"
    "2、参与推荐系统的特征工程与模型训练，使用Python和SQL；3、维护Kafka、Redis、MySQL集群。\n"
    "任职要求：1、本科及以上学历，计算机、统计学相关专业；2、3年以上大数据开发经验，熟悉Java/Scala、"
    "C/C++、R语言者优先；3、熟悉Linux、Docker、Kubernetes，有良好的沟通能力。\n"
    "公司福利：五险一金，带薪年假，节日福利。"
)


def _postings_text(n: int) -> str:
    parts, total = [], 0
    if DEV.exists():
        with DEV.open(encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line).get("description") or ""
                parts.append(d)
                total += len(d) + 1
                if total >= n:
                    break
    while total < n:
        parts.append(SAMPLE)
        total += len(SAMPLE) + 1
    return "\n".join(parts)[:n]


def _repeat(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


SHAPES = {
    "postings": _postings_text,
    "one sentence": lambda n: re.sub(r"[。；;！!？?\n\r]+", "，", _postings_text(2 * n))[:n],
    "one clause": lambda n: re.sub(r"[。；;！!？?\n\r，,：:\s]+", "、", _postings_text(2 * n))[:n],
    "english, C/R": lambda n: _repeat("Python Java C R Go SQL Linux Spark or R and C with git ", n),
    "glued token": lambda n: _repeat("PythonJavaLinux", n),
    "list items": lambda n: _repeat("1、熟悉Python 2、熟悉Java 3、熟悉Linux 4、五年以上经验 ", n),
    "chinese run": lambda n: re.sub(r"[^\u4e00-\u9fff]+", "", _postings_text(3 * n))[:n],
}


def step_times(extractor, text: str) -> dict[str, float]:
    """Seconds per step for one posting with ``text`` as its description (no cut)."""
    from nlp.spacy_pipeline import PostingContext

    times: dict[str, float] = {}
    posting = Posting(id="long", source="bench", title="大数据开发工程师", description=text)
    t0 = time.perf_counter()
    clean = clean_text(text)
    times["clean"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    doc = extractor.nlp.make_doc(clean)
    times["tokenize"] = time.perf_counter() - t0
    doc._.skillsignal = PostingContext(posting=posting, title=posting.title, text=clean)
    for name, proc in extractor.nlp.pipeline:
        t0 = time.perf_counter()
        doc = next(iter(proc.pipe([doc]))) if hasattr(proc, "pipe") else proc(doc)
        times[name.removeprefix("skillsignal_")] = time.perf_counter() - t0
    if doc._.skillsignal.error:
        print(f"    step failed: {doc._.skillsignal.error}")
    return times


def _fastest(runs) -> dict[str, float]:
    out: dict[str, float] = {}
    for run in runs:
        for step, seconds in run.items():
            out[step] = min(out.get(step, seconds), seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embeddings", action="store_true", help="Run with the embedding model.")
    parser.add_argument("--sizes", default="50000,100000", help="Two sizes (characters) for the scaling table.")
    parser.add_argument("--megabyte", type=int, default=1_000_000, help="Length of the long descriptions.")
    args = parser.parse_args()
    small, large = (int(x) for x in args.sizes.split(","))

    from nlp.extractor import Extractor

    settings = get_settings()
    t0 = time.perf_counter()
    capped = Extractor.from_settings(settings, use_embeddings=args.embeddings)
    print(
        f"extractor loaded in {time.perf_counter() - t0:.1f} s; embeddings {'on' if capped.uses_embeddings else 'off'}; "
        f"max_extract_chars {capped.max_chars}; load average {os.getloadavg()[0]:.2f}"
    )
    uncapped = Extractor(capped.taxonomy, capped.embedder, cache_dir=capped.cache_dir, max_chars=10**9)

    print(
        f"\n1. Extractor.extract on a {args.megabyte:,}-character description (cut at {capped.max_chars:,}; "
        "target ≤ 1 s each; "
        "first, while the embedder's caches are cold)"
    )
    capped.extract(Posting(id="warm", source="bench", title="数据工程师", description=SAMPLE))  # lazy rules
    worst = 0.0
    for shape, make in SHAPES.items():
        posting = Posting(id="mb", source="bench", title="大数据开发工程师", description=make(args.megabyte))
        t0 = time.perf_counter()
        extraction = capped.extract(posting)
        dt = time.perf_counter() - t0
        worst = max(worst, dt)
        print(
            f"  {shape:13s} {dt:.2f} s  ({len(extraction.skills)} skills, {extraction.occupation.code}, "
            f"{extraction.level})"
        )
    print(f"  slowest 1 MB description: {worst:.2f} s; load average {os.getloadavg()[0]:.2f}")

    print(
        f"\n2. per step, no cut: µs per character at {small:,} / {large:,} characters, and the time ratio "
        f"(≈{large / small:.0f} linear, ≈{(large / small) ** 2:.0f} quadratic)"
    )
    step_times(uncapped, SHAPES["postings"](5_000))  # warm: lazy rules and caches
    for shape, make in SHAPES.items():
        # the faster of two runs of each size: the figures are noisy on a shared machine
        a = _fastest(step_times(uncapped, make(small)) for _ in range(2))
        b = _fastest(step_times(uncapped, make(large)) for _ in range(2))
        cells = []
        for step in a:
            ratio = b[step] / a[step] if a[step] > 0.002 else float("nan")
            cells.append(f"{step} {a[step] / small * 1e6:.1f}/{b[step] / large * 1e6:.1f} ×{ratio:.1f}")
        total_a, total_b = sum(a.values()), sum(b.values())
        print(f"  {shape:13s} total {total_a:.2f} s / {total_b:.2f} s ×{total_b / total_a:.1f} | " + ", ".join(cells))


if __name__ == "__main__":
    main()
