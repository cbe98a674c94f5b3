"""Write labels into a pass file from a compact notation (the annotator's typing aid).

    PYTHONPATH=. python -m nlp.eval.annotate --gold MY_PASS.jsonl < labels.txt

(The gold itself, ``competency_gold.jsonl``, is not written here: ``adjudicate merge`` builds it
from two passes and the adjudicator's decisions.)

One line per posting: ``POSTING_ID  SID:ID,ID  SID:x ...``. ``SID:x`` marks the sentence
excluded (not a duty or requirement); ``SID:ID,ID`` gives its labels, most specific first;
sentences of the posting not named get ``[]``. Lines starting with ``#`` are ignored. A
posting already in the gold file is replaced as a whole. Every id must be a statement of the
posting's occupation (from ``competency_sentences.jsonl``); an unknown id is an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nlp.eval.data import DEFAULT_SENTENCES, load_gold, load_sentences, write_gold
from skill_taxonomy import default_taxonomy

MAX_LABELS = 3


def statement_ids(code: str) -> set[str]:
    """The statement ids of occupation ``code``; none for ``other`` (a look-alike posting: every
    sentence [] or excluded)."""
    occ = default_taxonomy().occupations.get(code)
    return {c.id for comps in occ.levels.values() for c in comps} if occ else set()


def parse_line(raw: str, by_post: dict[str, list[dict]]) -> tuple[str, dict[int, tuple[list[str], bool]]] | None:
    """One line of the notation: ``(posting id, {sid: (labels, excluded)})`` for the sentences it
    names, or None for a blank or comment line. Raises ValueError on an unknown posting, sentence
    or statement id, a sentence named twice, or more than ``MAX_LABELS`` labels."""
    line = raw.split("#", 1)[0].strip()
    if not line:
        return None
    pid, *items = line.split()
    if pid not in by_post:
        raise ValueError(f"unknown posting {pid}")
    rows = by_post[pid]
    known = statement_ids(rows[0]["occupation"])
    given: dict[int, tuple[list[str], bool]] = {}
    for item in items:
        sid_s, _, value = item.partition(":")
        sid = int(sid_s)
        if not 0 <= sid < len(rows):
            raise ValueError(f"{pid}: no sentence {sid}")
        if sid in given:
            raise ValueError(f"{pid}: sentence {sid} given twice")
        if value == "x":
            given[sid] = ([], True)
            continue
        ids = [v for v in value.split(",") if v]
        bad = [i for i in ids if i not in known]
        if bad:
            raise ValueError(f"{pid} [{sid}]: not statements of {rows[0]['occupation']}: {bad}")
        if len(ids) > MAX_LABELS or len(set(ids)) != len(ids):
            raise ValueError(f"{pid} [{sid}]: 0..{MAX_LABELS} distinct labels")
        given[sid] = (ids, False)
    return pid, given


def sentences_by_posting(sentences: list[dict]) -> dict[str, list[dict]]:
    by_post: dict[str, list[dict]] = {}
    for r in sentences:
        by_post.setdefault(r["posting_id"], []).append(r)
    return by_post


def parse(lines, sentences: list[dict]) -> dict[str, list[dict]]:
    """Gold rows per posting named in ``lines``; sentences a line does not name get ``[]``."""
    by_post = sentences_by_posting(sentences)
    out: dict[str, list[dict]] = {}
    for raw in lines:
        parsed = parse_line(raw, by_post)
        if parsed is None:
            continue
        pid, given = parsed
        out[pid] = [
            {
                "posting_id": pid,
                "sid": r["sid"],
                "start": r["start"],
                "end": r["end"],
                "labels": given.get(r["sid"], ([], False))[0],
                "excluded": given.get(r["sid"], ([], False))[1],
            }
            for r in by_post[pid]
        ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--gold", type=Path, required=True, help="the pass file to write (postings named are replaced whole)"
    )
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES)
    args = parser.parse_args(argv)
    sentences = load_sentences(args.sentences)
    new = parse(sys.stdin, sentences)
    old = load_gold(args.gold) if args.gold.exists() else []
    kept: dict[str, list[dict]] = {}
    for row in old:
        if row["posting_id"] not in new:
            kept.setdefault(row["posting_id"], []).append(row)
    kept.update(new)
    order = list(dict.fromkeys(r["posting_id"] for r in sentences))
    write_gold(args.gold, [row for pid in order for row in kept.get(pid, [])])
    n = sum(len(v) for v in kept.values())
    sys.stderr.write(f"{len(kept)} postings, {n} sentences in {args.gold}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
