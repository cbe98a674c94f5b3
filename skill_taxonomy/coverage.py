"""How much of a gold file's hard skills the taxonomy can name.

A gold file is JSONL with a ``skills`` list of surface strings per posting (see the eval guideline).
A string counts as resolved when its normalised form is the name or an alias of a skill; a string
written as a slash list (``C/C++``, ``TensorFlow/PyTorch``) also counts when every part resolves.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .loader import Taxonomy, default_taxonomy


@dataclass
class Coverage:
    resolved: int
    total: int
    missing: list[tuple[str, int]]  # (surface string, times it occurs), most frequent first

    @property
    def ratio(self) -> float:
        return self.resolved / self.total if self.total else 1.0


def resolves(taxonomy: Taxonomy, surface: str) -> bool:
    """Whether ``surface`` names a skill, directly or as a ``/``-separated list of skills."""
    if taxonomy.resolve(surface):
        return True
    parts = [p for p in surface.split("/") if p.strip()]
    return len(parts) > 1 and all(taxonomy.resolve(p) for p in parts)


def read_gold_skills(gold_path: Path) -> list[str]:
    skills: list[str] = []
    with Path(gold_path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                skills.extend(json.loads(line).get("skills") or [])
    return skills


def coverage_report(gold_path: Path, taxonomy: Taxonomy | None = None) -> Coverage:
    taxonomy = taxonomy or default_taxonomy()
    surfaces = read_gold_skills(gold_path)
    missing = Counter(s for s in surfaces if not resolves(taxonomy, s))
    return Coverage(
        resolved=len(surfaces) - sum(missing.values()),
        total=len(surfaces),
        missing=missing.most_common(),
    )


def coverage(gold_path: Path, taxonomy: Taxonomy | None = None) -> tuple[int, int, list[str]]:
    """``(resolved, total, missing)`` over every gold skill mention (a posting's list counts each once)."""
    report = coverage_report(gold_path, taxonomy)
    return report.resolved, report.total, [s for s, _ in report.missing]
