"""Mine candidate skill terms from a JSONL file of postings, for a person to curate.

Not used at run time. Prints (or writes as TSV) three lists with counts of postings that use them:

* ``latin``: runs of Latin letters, digits and ``.+#/-`` (``Spring Boot``, ``C++``, ``Node.js``);
* ``cjk``: jieba words and word bigrams that occur within a window after a requirement cue
  (熟悉 / 掌握 / 精通 / 了解 / 熟练 / 具备 ...);
* ``unknown``: the most frequent of both that the current taxonomy does not resolve.

Usage::

    python -m skill_taxonomy.tools.mine_terms ../shared/data/postings-dev.jsonl --top 300
    python -m skill_taxonomy.tools.mine_terms POSTINGS --unknown-only --top 500 -o /tmp/terms.tsv

The output is a worklist: each term must be judged by hand against the guideline's definition of a
hard skill before it enters ``data/skills`` (never dump it in wholesale).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import pairwise
from pathlib import Path

import jieba

from skill_taxonomy import load_taxonomy

log = logging.getLogger(__name__)

LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9.+#/\-]*(?:[ ][A-Z][A-Za-z0-9.+#\-]*){0,2}")
CUES = ("熟悉", "掌握", "精通", "了解", "熟练", "具备", "具有", "擅长", "使用", "基于", "有")
CUE_RE = re.compile("|".join(CUES))
WINDOW = 40  # characters after a cue
STOP_CJK = {
    "的",
    "和",
    "及",
    "或",
    "等",
    "与",
    "以上",
    "相关",
    "经验",
    "能力",
    "工作",
    "优先",
    "进行",
    "一定",
    "良好",
    "使用",
    "熟悉",
    "掌握",
    "精通",
    "了解",
    "熟练",
    "具备",
    "开发",
    "以及",
    "常用",
    "主流",
    "技术",
}


def iter_texts(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            yield f"{rec.get('title', '')}\n{rec.get('description', '')}"


def latin_terms(text: str) -> set[str]:
    terms = set()
    for m in LATIN_RUN.finditer(text):
        term = m.group(0).strip(".-/ ")
        if len(term) >= 1:
            terms.add(term)
        # a slash list "TensorFlow/PyTorch" counts each part too
        if "/" in term:
            terms.update(p for p in term.split("/") if p)
    return terms


def cjk_terms(text: str) -> set[str]:
    terms: set[str] = set()
    for m in CUE_RE.finditer(text):
        window = text[m.end() : m.end() + WINDOW]
        window = re.split(r"[；;。\n]", window, maxsplit=1)[0]
        words = [
            w for w in jieba.lcut(window) if re.search(r"[\u4e00-\u9fff]", w) and w not in STOP_CJK and len(w) >= 2
        ]
        terms.update(words)
        terms.update(a + b for a, b in pairwise(words) if len(a + b) <= 8)
    return terms


def count_terms(texts: Iterable[str]) -> tuple[Counter, Counter, int]:
    latin: Counter = Counter()
    cjk: Counter = Counter()
    n = 0
    for text in texts:
        n += 1
        latin.update({t.casefold(): None for t in latin_terms(text)}.keys())
        cjk.update(cjk_terms(text))
    return latin, cjk, n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("postings", type=Path)
    parser.add_argument("--top", type=int, default=200)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--unknown-only", action="store_true", help="Only terms the taxonomy misses.")
    parser.add_argument("-o", "--output", type=Path, help="Write TSV (kind, term, count) here.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("jieba").setLevel(logging.WARNING)

    latin, cjk, n = count_terms(iter_texts(args.postings))
    log.info("%d postings, %d Latin terms, %d CJK terms", n, len(latin), len(cjk))

    known = None
    if args.unknown_only:
        known = load_taxonomy(validate=False)

    rows: list[tuple[str, str, int]] = []
    for kind, counter in (("latin", latin), ("cjk", cjk)):
        taken = 0
        for term, count in counter.most_common():
            if count < args.min_count or taken >= args.top:
                break
            if known is not None and known.resolve(term):
                continue
            rows.append((kind, term, count))
            taken += 1
    out = "\n".join(f"{k}\t{t}\t{c}" for k, t, c in rows) + "\n"
    if args.output:
        args.output.write_text(out, encoding="utf-8")
        log.info("wrote %d rows to %s", len(rows), args.output)
    else:
        sys.stdout.write(out)


if __name__ == "__main__":
    main()
