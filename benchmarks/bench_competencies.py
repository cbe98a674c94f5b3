"""Competency matching on the competency gold set, every (statement, sentence) pair scored.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_competencies.py [--embeddings] [--gold FILE]

Runs the extractor (as the settings say, or with ``--embeddings`` / without) over the gold postings
(``nlp/eval/competency_gold.jsonl``, texts from ``../shared``) and scores with
``nlp.eval.score_competencies.score``. Each matched statement lists every sentence it was matched
on (``competencies[].sentences``, raw offsets), and each is placed on the gold sentence it overlaps
most - the scorer's own ``--run`` places only the best sentence (``evidence``) of each statement.
Prints, for all postings and for the two halves the rules were tuned on (half A: postings whose
int(sha1(id), 16) is even): sentence P / R / F1, top-1 accuracy, posting-level P / R / F1,
coverage, the share of matches at the posting's own level, and matcher time per posting.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.eval.data import DEFAULT_GOLD, DEFAULT_POSTINGS  # noqa: E402
from nlp.eval.score_competencies import Prediction, attach_texts, gold_sentences, score  # noqa: E402


def half(posting_id: str) -> str:
    return "A" if int(hashlib.sha1(posting_id.encode()).hexdigest(), 16) % 2 == 0 else "B"


def place(span_start: int | None, span_end: int | None, candidates) -> tuple | None:
    """The gold sentence key a raw span overlaps most (None: no overlap, or no span)."""
    if span_start is None or span_end is None:
        return None
    best, size = None, 0
    for g in candidates:
        o = min(span_end, g.key[2]) - max(span_start, g.key[1])
        if o > size:
            best, size = g.key, o
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--embeddings", dest="emb", action="store_true", default=None)
    mode.add_argument("--no-embeddings", dest="emb", action="store_false")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    from nlp.batch import _normalise
    from nlp.extractor import ExtractionError, Extractor
    from skillsignal.config import get_settings
    from skillsignal.records import record_to_posting

    gold = gold_sentences(args.gold)
    records = attach_texts(gold, args.postings)
    by_post = defaultdict(list)
    for g in gold:
        by_post[g.key[0]].append(g)
    extractor = Extractor.from_settings(get_settings(), use_embeddings=args.emb)
    postings = [_normalise(record_to_posting(records[pid])) for pid in by_post]
    started = time.perf_counter()
    results = extractor.extract_many(postings)
    elapsed = time.perf_counter() - started

    preds: list[Prediction] = []
    own = matched = 0
    for posting, result in zip(postings, results):
        if isinstance(result, ExtractionError):
            continue
        for comp in result.competencies:
            matched += 1
            own += comp.level == result.level
            for span in comp.sentences:
                key = place(span.start, span.end, by_post[posting.id])
                preds.append(Prediction(posting.id, comp.id, span.score, key, span.text))

    print(f"competency gold, every (statement, sentence) pair: embeddings {'on' if extractor.uses_embeddings else 'off'}; "
          f"extraction {elapsed / len(postings) * 1000:.1f} ms a posting ({len(postings)} postings); "
          f"matches at the posting's own level {own / matched if matched else 0:.3f}")
    for name in ("all", "A", "B"):
        keep = [g for g in gold if name == "all" or half(g.key[0]) == name]
        ids = {g.key[0] for g in keep}
        fig = score(keep, [p for p in preds if p.posting_id in ids])
        s, p = fig["sentence"], fig["posting"]
        print(f"  {name:<3} postings {fig['postings']:>2}  sentence P {s['precision']:.3f} R {s['recall']:.3f} "
              f"F1 {s['f1']:.3f}  top-1 {fig['top1']['accuracy']:.3f}  posting P {p['precision']:.3f} "
              f"R {p['recall']:.3f}  coverage {fig['coverage']['predicted']:.3f}")


if __name__ == "__main__":
    main()
