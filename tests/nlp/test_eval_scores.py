"""The extractor against the shared hand-labelled postings: the project's quality targets.

Skill precision and recall >= 0.85, occupation accuracy >= 0.90, level accuracy >= 0.95, scored
by the shared ``score.py`` exactly as the held-out set is. Skips where ../shared is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

TARGETS = {"skill_precision": 0.85, "skill_recall": 0.85, "occupation_accuracy": 0.90, "level_accuracy": 0.95}


def _score(shared_dir, tmp_path, settings, use_embeddings: bool) -> dict:
    from nlp.batch import extract_jsonl

    eval_dir = shared_dir / "eval"
    for name in ("labeled-dev.jsonl", "labeled-dev.gold.jsonl", "score.py"):
        if not (eval_dir / name).exists():
            pytest.skip(f"{eval_dir / name} is absent")
    out = tmp_path / "pred.jsonl"
    stats = extract_jsonl(eval_dir / "labeled-dev.jsonl", out, settings=settings, use_embeddings=use_embeddings)
    assert stats["errors"] == 0
    proc = subprocess.run(
        [sys.executable, str(eval_dir / "score.py"), str(eval_dir / "labeled-dev.gold.jsonl"), str(out), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _check(result: dict) -> None:
    assert result["missing_predictions"] == 0
    failing = {k: result[k] for k, v in TARGETS.items() if result[k] < v}
    assert not failing, f"below target: {failing} (all: {result})"


def test_dev_scores_without_embeddings(shared_dir, tmp_path, settings):
    _check(_score(shared_dir, tmp_path, settings, use_embeddings=False))


@pytest.mark.model
def test_dev_scores_with_embeddings(shared_dir, tmp_path, settings):
    _check(_score(shared_dir, tmp_path, settings, use_embeddings=True))
