"""Reading the competency gold set: the sentence file, the gold files, the shared postings.

The project keeps only ids, offsets and labels; texts are joined from ``../shared`` here.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
#: ``../shared`` beside the checkout (texts are never copied into the project).
SHARED = Path(__file__).resolve().parents[3] / "shared"
DEFAULT_POSTINGS = SHARED / "data" / "postings-dev.jsonl"
DEFAULT_SENTENCES = HERE / "competency_sentences.jsonl"
#: the gold: the two full passes merged, every disagreement adjudicated (nlp/eval/adjudicate.py)
DEFAULT_GOLD = HERE / "competency_gold.jsonl"
PASS1 = HERE / "competency_gold_pass1.jsonl"
PASS3 = HERE / "competency_gold_pass3.jsonl"  # the full second pass (pass 2 is the earlier 1-in-5 sample)
ADJUDICATION = HERE / "competency_adjudication.txt"
OCCUPATION_REVIEW = HERE / "occupation_review.yaml"


def _rows(path: Path) -> list[dict]:
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            row = json.loads(line)
            if "header" in row:
                continue
            out.append(row)
    return out


def load_sentences(path: Path = DEFAULT_SENTENCES) -> list[dict]:
    """Rows of ``competency_sentences.jsonl`` (header skipped), in file order."""
    return _rows(path)


def load_gold(path: Path = DEFAULT_GOLD) -> list[dict]:
    """Rows of a gold file: ``{posting_id, sid, start, end, labels, excluded?}``."""
    return _rows(path)


def write_gold(path: Path, rows: list[dict]) -> None:
    """Gold rows to ``path``, one JSON line each, in the order given (what :func:`load_gold` reads)."""
    with Path(path).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def load_postings(path: Path = DEFAULT_POSTINGS, ids: set[str] | None = None) -> dict[str, dict]:
    """The raw JSONL records of ``path`` by id (only ``ids`` when given)."""
    out: dict[str, dict] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            pid = rec.get("id")
            if ids is None or pid in ids:
                out[pid] = rec
    return out
