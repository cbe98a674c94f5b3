"""The extractor against the shared hand-labelled postings: the project's quality targets.

Scored by the shared ``score.py`` exactly as the held-out set is, on each file on its own:
``labeled-dev.jsonl`` (34 postings) and ``labeled-dev-2.jsonl`` (41, chosen around the rarer core
occupations and their look-alikes). Each file: occupation accuracy >= 0.90, skill F1 >= 0.88,
skill precision >= 0.85, level accuracy >= 0.95 (and skill recall >= 0.85 on labeled-dev); over
both: precision >= 0.85 for every core occupation predicted at least 3 times
(``benchmarks/occupation_report.py``). Skips where ../shared is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FILES = ("labeled-dev", "labeled-dev-2")
TARGETS = {"skill_precision": 0.85, "skill_f1": 0.88, "occupation_accuracy": 0.90, "level_accuracy": 0.95}
#: labeled-dev only: the recall target the project has held since that file came
DEV_TARGETS = {"skill_recall": 0.85}
CORE_PRECISION, CORE_MIN_PREDICTED = 0.85, 3


def _run(shared_dir, tmp_path, settings, use_embeddings: bool) -> tuple[dict[str, dict], dict]:
    from nlp.batch import extract_jsonl

    eval_dir = shared_dir / "eval"
    for name in ("score.py", *(f"{f}{ext}" for f in FILES for ext in (".jsonl", ".gold.jsonl"))):
        if not (eval_dir / name).exists():
            pytest.skip(f"{eval_dir / name} is absent")
    scores, pairs = {}, []
    for name in FILES:
        out = tmp_path / f"{name}.pred.jsonl"
        stats = extract_jsonl(eval_dir / f"{name}.jsonl", out, settings=settings, use_embeddings=use_embeddings)
        assert stats["errors"] == 0
        gold = eval_dir / f"{name}.gold.jsonl"
        proc = subprocess.run(
            [sys.executable, str(eval_dir / "score.py"), str(gold), str(out), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        scores[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        pairs.append((gold, out))
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from benchmarks.occupation_report import report

    return scores, report(pairs, min_predicted=CORE_MIN_PREDICTED)


def _check(scores: dict[str, dict], occupations: dict) -> None:
    failing = {}
    for name, result in scores.items():
        assert result["missing_predictions"] == 0
        targets = {**TARGETS, **(DEV_TARGETS if name == "labeled-dev" else {})}
        failing.update({f"{name}:{k}": result[k] for k, v in targets.items() if result[k] < v})
    failing.update(
        {
            f"precision:{code}": row
            for code, row in occupations["precision"].items()
            if row["precision"] < CORE_PRECISION
        }
    )
    assert not failing, f"below target: {failing} (all: {scores})"


def test_dev_scores_without_embeddings(shared_dir, tmp_path, settings):
    _check(*_run(shared_dir, tmp_path, settings, use_embeddings=False))


@pytest.mark.model
def test_dev_scores_with_embeddings(shared_dir, tmp_path, settings, model_in_data_dir):
    _check(*_run(shared_dir, tmp_path, settings, use_embeddings=True))
