#!/usr/bin/env python
"""Leave-one-file-out check of the occupation weights in ``nlp/data/occupation_rules.yaml``.

Extracts each labelled file once without embeddings, keeping what the occupation step sees
(title, skill evidence, duty sentences); then, for every setting of a small grid over the
tunable weights, re-decides every posting and scores occupation accuracy as ``score.py`` does.
For each file it picks the setting best on that file alone (ties: the one nearest the shipped
values) and prints how that setting scores on the other file, and the range the other file
gives over all the settings tied on the first, next to the shipped setting.

    PYTHONPATH=. python benchmarks/occupation_loo.py        # ../shared/eval/labeled-dev*.jsonl

The labelled files are read where they lie and never copied; where they are absent the script
says so and exits 0.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.occupation_report import CORE, _code

log = logging.getLogger("occupation_loo")

GRID = {
    "unanchored_factor": [0.1, 0.2, 0.35, 0.5, 1.0],
    "title_fit_ratio": [0.4, 0.6, 0.8, 1.0],
    "core_fit_ratio": [0.6, 0.8, 1.0],
    "anchor_share": [0.0, 0.34, 0.5],
    "weights.direction_title": [0.0, 0.5, 1.0],
}


class _Recorder:
    """Stands in for the extractor's scorer and keeps each decide() call's arguments."""

    def __init__(self, scorer) -> None:
        self._scorer = scorer
        self.calls: dict[str, tuple] = {}

    def __getattr__(self, name):
        return getattr(self._scorer, name)

    def decide(self, title, skills, similarities=None, duties=None):
        skills = list(skills)
        self.calls[title] = (title, skills, duties)
        return self._scorer.decide(title, skills, similarities, duties=duties)


def capture(path: Path, settings) -> list[tuple[str, tuple]]:
    """(posting id, decide() arguments) per posting of ``path``."""
    from nlp.batch import _normalise
    from nlp.extractor import Extractor, _clean
    from skillsignal.core.records import record_to_posting

    extractor = Extractor.from_settings(settings, use_embeddings=False)
    step = extractor.nlp.get_pipe("skillsignal_occupation")
    recorder = _Recorder(step.occupation_scorer)
    step.occupation_scorer = recorder
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    postings = [_normalise(record_to_posting(r)) for r in records]
    extractor.extract_many(postings)
    return [(str(r.get("id")), recorder.calls[_clean(p.title)]) for r, p in zip(records, postings, strict=False)]


def _set(rules: dict, key: str, value: float) -> None:
    node = rules
    *path, last = key.split(".")
    for part in path:
        node = node[part]
    node[last] = value


def _get(rules: dict, key: str) -> float:
    node = rules
    for part in key.split("."):
        node = node[part]
    return float(node)


def score(taxonomy, rules: dict, cases, gold: dict[str, str]) -> tuple[float, dict[str, tuple[int, int]]]:
    from nlp.occupation import OccupationScorer

    scorer = OccupationScorer(taxonomy, rules)
    ok, per_core = 0, {}
    for pid, (title, skills, duties) in cases:
        pc = _code(scorer.decide(title, skills, duties=duties).match.code)
        ok += pc == gold[pid]
        if pc in CORE:
            n, c = per_core.get(pc, (0, 0))
            per_core[pc] = (n + 1, c + (pc == gold[pid]))
    return ok / len(cases), per_core


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--files", nargs="+", default=["labeled-dev", "labeled-dev-2"])
    args = parser.parse_args()
    missing = [f for f in args.files if not (args.eval_dir / f"{f}.gold.jsonl").exists()]
    if missing:
        print(f"labelled files absent in {args.eval_dir}: {', '.join(missing)}")
        return
    from nlp.occupation import load_rules
    from skill_taxonomy import default_taxonomy
    from skillsignal.core.config import Settings

    settings = Settings()
    taxonomy = default_taxonomy(settings.taxonomy_overlay)
    shipped = load_rules()
    data = {}
    for name in args.files:
        gold = {}
        for line in (args.eval_dir / f"{name}.gold.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                gold[str(obj["id"])] = _code(obj.get("occupation"))
        data[name] = (capture(args.eval_dir / f"{name}.jsonl", settings), gold)

    keys = list(GRID)
    settings_grid = list(itertools.product(*(GRID[k] for k in keys)))
    results = {}
    for values in settings_grid:
        rules = copy.deepcopy(shipped)
        for k, v in zip(keys, values, strict=False):
            _set(rules, k, v)
        results[values] = {name: score(taxonomy, rules, cases, gold) for name, (cases, gold) in data.items()}
    here = tuple(_get(shipped, k) for k in keys)

    def distance(values):
        return sum(abs(a - b) for a, b in zip(values, here, strict=False))

    print(f"grid: {len(settings_grid)} settings of {', '.join(keys)}")
    print(
        "shipped "
        + ", ".join(f"{k}={v}" for k, v in zip(keys, here, strict=False))
        + ": "
        + ", ".join(f"{n} {results[here][n][0]:.3f}" for n in data)
        if here in results
        else "shipped setting not in grid"
    )
    for name in data:
        best = max(settings_grid, key=lambda v: (results[v][name][0], -distance(v)))
        others = ", ".join(f"{o} {results[best][o][0]:.3f}" for o in data if o != name)
        setting = ", ".join(f"{k}={v}" for k, v in zip(keys, best, strict=False))
        print(f"tuned on {name} ({results[best][name][0]:.3f}): {setting} -> held out: {others}")
        tied = [v for v in settings_grid if results[v][name][0] == results[best][name][0]]
        for o in data:
            if o != name:
                held = [results[v][o][0] for v in tied]
                print(f"    {len(tied)} settings tie on {name}; on {o} they score {min(held):.3f} to {max(held):.3f}")
        for o in data:
            if o == name:
                continue
            low = {c: f"{k}/{n}" for c, (n, k) in results[best][o][1].items() if n >= 3 and k / n < 0.85}
            if low:
                print(f"    core occupations under 0.85 precision on {o}: {low}")

    def meets(values) -> bool:
        per_core: dict[str, tuple[int, int]] = {}
        for name in data:
            for c, (n, k) in results[values][name][1].items():
                a, b = per_core.get(c, (0, 0))
                per_core[c] = (a + n, b + k)
        return all(results[values][n][0] >= 0.90 for n in data) and all(
            k / n >= 0.85 for n, k in per_core.values() if n >= 3
        )

    passing = [v for v in settings_grid if meets(v)]
    print(
        f"settings meeting the occupation targets on every file (accuracy >= 0.90 each, core precision"
        f" >= 0.85 over all): {len(passing)} of {len(settings_grid)}"
    )
    if passing:
        near = min(passing, key=distance)
        print(
            "    nearest the shipped one: "
            + ", ".join(f"{k}={v}" for k, v in zip(keys, near, strict=False))
            + ": "
            + ", ".join(f"{n} {results[near][n][0]:.3f}" for n in data)
        )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
