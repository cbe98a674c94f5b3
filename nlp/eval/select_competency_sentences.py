"""Pick the postings and sentences of the competency gold set (deterministic).

    PYTHONPATH=. python -m nlp.eval.select_competency_sentences \\
        [--postings ../shared/data/postings-dev.jsonl] [--out nlp/eval/competency_sentences.jsonl]

1. Every dev posting is run through the project's extractor WITHOUT embeddings; its predicted
   occupation and level are used only to FIND candidates (postings predicted as one of the 11
   core occupations), or postings whose title matches a core occupation's ``title_patterns`` in
   the taxonomy (the rarer occupations are seldom predicted). The labelled occupation of a
   posting is decided by the annotator: the
   reviewed decisions live in ``selection_review.yaml`` next to this script (``reject``: the
   posting's main job is not a core occupation, so it is replaced by the next candidate of its
   cell; ``occupation`` / ``level``: corrections of the prediction; ``include``: postings of a
   rare occupation the annotator found by searching titles/descriptions and confirmed by
   reading, with their occupation - they join the candidates of that occupation, at the
   predicted level, and may have up to ``MAX_INCLUDED`` sentences; ``only_included``:
   occupations whose predicted candidates were nearly all wrong on reading, so only the
   included postings are used).
2. Candidates must be plain text (no HTML markup) and have 4..10 candidate sentences. Within a
   cell (occupation x predicted level) they are ordered by ``sha1(SEED + id)``; the script takes
   cells round-robin (occupation by occupation, level by level) until ``TARGET_PER_OCC`` postings
   of each occupation are taken (fewer when an occupation has fewer candidates).
3. Sentences: :func:`nlp.sections.split_sections` over the ``description`` field **exactly as
   stored in the JSONL line** (``json.loads(line)["description"]``, no cleaning, no NFKC);
   ``start``/``end`` are Python ``str`` (code point) offsets into that string. Sentences the
   sectioner tags ``company`` / ``benefits`` / ``contact`` and fragments with fewer than 4
   letters/CJK characters are left out. The annotator may still mark a kept sentence as
   ``excluded`` (not a duty or requirement) in the gold.

4. ``--extend ID=CODE ...`` appends reviewed postings to an existing file instead of selecting
   again (the extractor's predictions move as it improves, so a fresh selection would pick other
   postings; the file, once labelled, is the set). Each posting is cut into sentences as above,
   with the current extractor's prediction recorded, its level corrected by ``level:`` in
   ``selection_review.yaml``; a posting already in the file, one with HTML markup, or one outside
   4..16 sentences is refused.

Output: one JSON line per sentence ``{posting_id, sid, start, end, occupation, level,
predicted_occupation, predicted_level, section}`` - ids, offsets and metadata only, never text.
The first line is a header ``{"header": {...}}`` saying how the file was made.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
from collections import defaultdict
from pathlib import Path

import yaml

from nlp.batch import _normalise
from nlp.extractor import ExtractionError, Extractor
from nlp.sections import split_sections
from skill_taxonomy import default_taxonomy
from skillsignal.core.models import LEVELS
from skillsignal.core.records import record_to_posting

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
DEFAULT_POSTINGS = Path(__file__).resolve().parents[3] / "shared" / "data" / "postings-dev.jsonl"
DEFAULT_OUT = HERE / "competency_sentences.jsonl"
REVIEW_PATH = HERE / "selection_review.yaml"

#: the 11 standard-backed digital occupations, in code order (the selection's order)
CORE_CODES = tuple(sorted(o.code for o in default_taxonomy().core_occupations))
SEED = "compgold-13"
TARGET_PER_OCC = 7
MIN_SENTENCES, MAX_SENTENCES = 4, 10
MAX_INCLUDED = 16  # a candidate the annotator found by reading may be a little longer
SKIP_KINDS = frozenset({"company", "benefits", "contact"})
_HTML = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_CONTENT = re.compile(r"[A-Za-z0-9\u3400-\u9fff]")


def candidate_sentences(description: str) -> list[dict]:
    """The sentences of a raw description kept for labelling: ``{start, end, section}``."""
    out = []
    for s in split_sections(description):
        if s.kind in SKIP_KINDS:
            continue
        if len(_CONTENT.findall(s.text)) < 4:
            continue
        # trim surrounding whitespace so offsets frame the sentence itself
        lead = len(s.text) - len(s.text.lstrip())
        trail = len(s.text) - len(s.text.rstrip())
        out.append({"start": s.start + lead, "end": s.end - trail, "section": s.kind})
    return out


def predict(records: list[dict]) -> dict[str, tuple[str, str]]:
    """posting id -> (predicted occupation code, predicted level), extractor without embeddings."""
    extractor = Extractor(default_taxonomy())
    postings = [_normalise(record_to_posting(r)) for r in records]
    out: dict[str, tuple[str, str]] = {}
    for i in range(0, len(postings), 256):
        chunk = postings[i : i + 256]
        for posting, result in zip(chunk, extractor.extract_many(chunk), strict=True):
            if not isinstance(result, ExtractionError):
                out[posting.id] = (result.occupation.code, result.level)
    return out


def _key(pid: str) -> str:
    return hashlib.sha1(f"{SEED}:{pid}".encode()).hexdigest()


def load_review(path: Path = REVIEW_PATH) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    data = data or {}
    return {
        "reject": set(data.get("reject") or []),
        "occupation": dict(data.get("occupation") or {}),
        "level": dict(data.get("level") or {}),
        "include": dict(data.get("include") or {}),
        "only_included": set(data.get("only_included") or []),
    }


def title_occupation(title: str, taxonomy) -> str | None:
    """The first core occupation (in ``CORE_CODES`` order) whose title patterns match ``title``."""
    for code in CORE_CODES:
        occ = taxonomy.occupations.get(code)
        if occ is not None and any(re.search(p, title or "") for p in occ.title_patterns):
            return code
    return None


def select(records: list[dict], predicted: dict[str, tuple[str, str]], review: dict) -> list[dict]:
    taxonomy = default_taxonomy()
    cells: dict[tuple[str, str], list[tuple[str, dict, list[dict]]]] = defaultdict(list)
    for rec in records:
        pid = rec.get("id")
        if pid not in predicted or pid in review["reject"]:
            continue
        code: str | None
        code, level = predicted[pid]
        included = pid in review["include"]
        if included:
            code = review["include"][pid]
        else:
            if code not in CORE_CODES:
                code = title_occupation(rec.get("title") or "", taxonomy)
            if code is None or code in review["only_included"]:
                continue
        desc = rec.get("description") or ""
        if _HTML.search(desc):
            continue
        try:
            sents = candidate_sentences(desc)
        except Exception as exc:  # the sectioner expects cleaned text; a raw oddity skips the posting
            log.debug("posting %s: cannot split raw description: %s", pid, exc)
            continue
        if not MIN_SENTENCES <= len(sents) <= (MAX_INCLUDED if included else MAX_SENTENCES):
            continue
        cells[(code, level)].append((_key(pid), rec, sents))
    for items in cells.values():
        items.sort(key=lambda t: t[0])
    chosen: list[dict] = []
    for code in CORE_CODES:
        queues = {lv: list(cells.get((code, lv), [])) for lv in LEVELS}
        taken = 0
        while taken < TARGET_PER_OCC and any(queues.values()):
            for lv in LEVELS:
                if taken >= TARGET_PER_OCC or not queues[lv]:
                    continue
                _, rec, sents = queues[lv].pop(0)
                pid = rec["id"]
                chosen.append(
                    {
                        "posting_id": pid,
                        "occupation": review["occupation"].get(pid, code),
                        "level": review["level"].get(pid, lv),
                        "predicted_occupation": predicted[pid][0],
                        "predicted_level": lv,
                        "sentences": sents,
                    }
                )
                taken += 1
    return chosen


def extension(records: dict[str, dict], additions: dict[str, str], existing: set[str], review: dict) -> list[dict]:
    """Postings to append (``additions``: id -> the occupation it is labelled against), in the
    shape :func:`select` returns; ValueError names a posting that cannot be added."""
    bad = [pid for pid in additions if pid in existing or pid not in records]
    if bad:
        raise ValueError(f"already in the file or not in the postings: {bad}")
    codes = [code for code in additions.values() if code not in CORE_CODES]
    if codes:
        raise ValueError(f"not core occupations: {codes} (one of {', '.join(CORE_CODES)})")
    predicted = predict([records[pid] for pid in additions])
    out = []
    for pid, code in additions.items():
        desc = records[pid].get("description") or ""
        sents = [] if _HTML.search(desc) else candidate_sentences(desc)
        if not MIN_SENTENCES <= len(sents) <= MAX_INCLUDED:
            raise ValueError(f"{pid}: {len(sents)} sentences (or HTML markup); {MIN_SENTENCES}..{MAX_INCLUDED} wanted")
        pred_code, pred_level = predicted[pid]
        out.append(
            {
                "posting_id": pid,
                "occupation": code,
                "level": review["level"].get(pid, pred_level),
                "predicted_occupation": pred_code,
                "predicted_level": pred_level,
                "sentences": sents,
            }
        )
    return out


def _rows(post: dict) -> list[dict]:
    return [
        {
            "posting_id": post["posting_id"],
            "sid": i,
            "start": s["start"],
            "end": s["end"],
            "occupation": post["occupation"],
            "level": post["level"],
            "predicted_occupation": post["predicted_occupation"],
            "predicted_level": post["predicted_level"],
            "section": s["section"],
        }
        for i, s in enumerate(post["sentences"])
    ]


def write(chosen: list[dict], out: Path, postings_path: Path) -> int:
    header = {
        "header": {
            "made_by": "nlp/eval/select_competency_sentences.py",
            "postings": "../shared/data/" + postings_path.name,
            "seed": SEED,
            "text": "description field of the JSONL line as stored (no cleaning); offsets are str code points",
            "occupation": "the occupation the posting is labelled against (reviewed; see selection_review.yaml)",
            "level": "predicted level unless corrected in selection_review.yaml",
        }
    }
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(header, ensure_ascii=False) + "\n")
        for post in chosen:
            for row in _rows(post):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--predictions", type=Path, help="cache file for the extractor's predictions (reused when present)"
    )
    parser.add_argument(
        "--extend",
        nargs="+",
        metavar="ID=CODE",
        help="append these reviewed postings (labelled against CODE) to --out instead of selecting",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records = [json.loads(line) for line in args.postings.open(encoding="utf-8") if line.strip()]
    if args.extend:
        if not all("=" in item for item in args.extend):
            parser.error("--extend takes ID=CODE items")
        additions = dict(item.split("=", 1) for item in args.extend)
        existing = {json.loads(line).get("posting_id") for line in args.out.open(encoding="utf-8")}
        try:
            posts = extension({r.get("id"): r for r in records}, additions, existing, load_review())
        except ValueError as exc:
            parser.exit(2, f"select_competency_sentences: {exc}\n")
        with args.out.open("a", encoding="utf-8") as fh:
            for post in posts:
                for row in _rows(post):
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                log.info(
                    "%s %s %s: %d sentences",
                    post["posting_id"],
                    post["occupation"],
                    post["level"],
                    len(post["sentences"]),
                )
        return 0
    if args.predictions and args.predictions.exists():
        predicted = {k: tuple(v) for k, v in json.loads(args.predictions.read_text(encoding="utf-8")).items()}
    else:
        predicted = predict(records)
        if args.predictions:
            args.predictions.write_text(json.dumps(predicted, ensure_ascii=False), encoding="utf-8")
    chosen = select(records, predicted, load_review())
    n = write(chosen, args.out, args.postings)
    by: defaultdict[tuple[str, str], int] = defaultdict(int)
    for post in chosen:
        by[(post["occupation"], post["level"])] += 1
    for (code, lv), k in sorted(by.items()):
        log.info("%s %s: %d postings", code, lv, k)
    log.info("%d postings, %d sentences -> %s", len(chosen), n, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
