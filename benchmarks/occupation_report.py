"""Occupation accuracy per file and precision per predicted core occupation over several files.

    PYTHONPATH=. python benchmarks/occupation_report.py \
        ../shared/eval/labeled-dev.gold.jsonl:PRED1.jsonl ../shared/eval/labeled-dev-2.gold.jsonl:PRED2.jsonl

Each argument pairs a gold file with the ``skillsignal extract`` output for the same postings.
Codes are compared as ``../shared/eval/score.py`` does: a code outside the 11 core occupations
counts as ``other``. Prints accuracy per file, then, over all files, for every core occupation
predicted at least ``--min-predicted`` times: predicted, correct, precision, and the gold labels
of the wrong ones. Nothing of the gold is kept: the files are read where they lie.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter, defaultdict
from pathlib import Path

from skill_taxonomy import default_taxonomy

log = logging.getLogger("occupation_report")

#: the standard-backed digital occupations of the taxonomy
CORE = frozenset(o.code for o in default_taxonomy().core_occupations)


def _code(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("code")
    value = str(value or "other")
    return value if value in CORE else "other"


def _rows(path: Path) -> dict[str, dict]:
    rows = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                rows[str(obj.get("id"))] = obj
    return rows


def report(pairs: list[tuple[Path, Path]], min_predicted: int = 3) -> dict:
    per_file = {}
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    wrong: dict[str, Counter[str]] = defaultdict(Counter)
    for gold_path, pred_path in pairs:
        gold, pred = _rows(gold_path), _rows(pred_path)
        ok = 0
        for pid, g in gold.items():
            gc, pc = _code(g.get("occupation")), _code(pred.get(pid, {}).get("occupation"))
            ok += gc == pc
            if pc in CORE:
                predicted[pc] += 1
                if gc == pc:
                    correct[pc] += 1
                else:
                    wrong[pc][gc] += 1
        per_file[gold_path.name] = round(ok / len(gold), 4) if gold else 0.0
    precision = {
        code: {
            "predicted": n,
            "correct": correct[code],
            "precision": round(correct[code] / n, 4),
            "wrong_gold": dict(wrong[code]),
        }
        for code, n in sorted(predicted.items())
        if n >= min_predicted
    }
    return {"accuracy": per_file, "precision": precision}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", help="GOLD.jsonl:PREDICTED.jsonl")
    parser.add_argument("--min-predicted", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args()
    pairs = []
    for pair in args.pairs:
        gold, _, pred = pair.partition(":")
        pairs.append((Path(gold), Path(pred)))
    result = report(pairs, args.min_predicted)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    for name, acc in result["accuracy"].items():
        print(f"occupation accuracy {name}: {acc:.3f}")
    print(f"precision per core occupation predicted >= {args.min_predicted} times (all files):")
    for code, row in result["precision"].items():
        print(
            f"  {code}: {row['correct']}/{row['predicted']} = {row['precision']:.3f}  wrong: {row['wrong_gold'] or '-'}"
        )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
