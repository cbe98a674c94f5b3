"""Extract a JSONL file of flat posting records into a JSONL file of facts (no storage).

    stats = extract_jsonl(Path("in.jsonl"), Path("out.jsonl"), settings, use_embeddings=False)

Every input line gives one output line that keeps the record's ``id``: occupation {code, name,
direction, score, other_hint}, level, skills [{id, name, mentions, score, required}],
competencies, new_terms [{term, count}], the parsed fields (salary, experience, education,
location) and taxonomy_version. A line that cannot be read or extracted gives
``{"id": ..., "error": "..."}`` and the run goes on. The file is read as the importers read it
(:mod:`skillsignal.core.encodings`): UTF-8, or GB18030/GBK when its lines say so, never half and
half; a line of bytes that are not text in that encoding is such an error line, not mojibake.
The CLI is ``skillsignal extract IN -o OUT``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.extractor import ExtractionError
from nlp.fields import normalise_posting
from nlp.parallel import ParallelExtractor, worker_count
from skillsignal.core.encodings import LABELS, decoded_lines, detect_encoding
from skillsignal.core.models import Extraction, Posting
from skillsignal.core.records import record_to_posting

if TYPE_CHECKING:
    from skillsignal.core.config import Settings

log = logging.getLogger(__name__)

CHUNK = 256


def _normalise(posting: Posting) -> Posting:
    try:
        return normalise_posting(posting)
    except Exception as exc:  # parsed fields are a bonus: keep the posting as given
        log.debug("posting %s: normalisation failed: %s", posting.id, exc)
        return posting


def _fields(posting: Posting) -> dict[str, Any]:
    return {
        "salary": posting.salary.model_dump(mode="json"),
        "experience": posting.experience.model_dump(mode="json"),
        "education": posting.education.model_dump(mode="json"),
        "location": posting.location.model_dump(mode="json"),
    }


def count_lines(path: Path) -> int:
    """Lines in ``path`` (a cheap scan; decides how many worker processes a run gets)."""
    n = 0
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def result_line(posting: Posting, extraction: Extraction) -> dict[str, Any]:
    data = extraction.model_dump(mode="json", exclude={"extracted_at"})
    line = {"id": posting.id, "title": posting.title}
    line.update(data)
    line.update(_fields(posting))
    return line


def extract_jsonl(
    input: Path,
    output: Path,
    settings: Settings,
    use_embeddings: bool | None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Extract every line of ``input`` into ``output``; returns counts and timings.
    ``use_embeddings`` None follows ``settings.use_embeddings``; ``progress(n)`` is told of
    each n lines written."""
    started = time.perf_counter()
    workers = worker_count(settings, count_lines(Path(input)))
    extractor = ParallelExtractor.from_settings(settings, workers, use_embeddings=use_embeddings)
    load_s = time.perf_counter() - started
    stats: dict[str, Any] = {
        "lines": 0,
        "extracted": 0,
        "errors": 0,
        "embeddings": extractor.uses_embeddings,
        "workers": extractor.workers,
        "taxonomy_version": extractor.taxonomy_version,
        "load_seconds": round(load_s, 2),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    encoding = detect_encoding(Path(input))
    stats["encoding"] = LABELS.get(encoding, encoding)
    log.info("%s: reading as %s", input, stats["encoding"])
    run_started = time.perf_counter()
    with Path(output).open("w", encoding="utf-8") as dst:
        pending: list[tuple[int, str | None, Posting | None, str | None]] = []

        def flush() -> None:
            postings = [p for _, _, p, _ in pending if p is not None]
            results = iter(extractor.extract_many(postings)) if postings else iter(())
            for _, rid, posting, error in pending:
                if posting is None:
                    line = {"id": rid, "error": error}
                    stats["errors"] += 1
                else:
                    result = next(results)
                    if isinstance(result, ExtractionError):
                        line = {"id": posting.id, "error": str(result)}
                        stats["errors"] += 1
                    else:
                        line = result_line(posting, result)
                        stats["extracted"] += 1
                dst.write(json.dumps(line, ensure_ascii=False) + "\n")
            if progress is not None:
                progress(len(pending))
            pending.clear()
            log.info("extracted %d lines (%d errors)", stats["lines"], stats["errors"])

        for lineno, raw, undecodable in decoded_lines(Path(input), encoding):
            if not raw.strip():
                continue
            stats["lines"] += 1
            rid = None
            try:
                if undecodable is not None:
                    raise ValueError(f"line {lineno}: {undecodable}")
                record = json.loads(raw)
                if not isinstance(record, dict):
                    raise ValueError("line is not a JSON object")
                rid = record.get("id")
                posting = _normalise(record_to_posting(record))
                pending.append((stats["lines"], rid, posting, None))
            except Exception as exc:
                pending.append((stats["lines"], rid, None, f"{type(exc).__name__}: {exc}"))
            if len(pending) >= CHUNK:
                flush()
        if pending:
            flush()
    extractor.close()
    elapsed = time.perf_counter() - run_started
    stats["seconds"] = round(elapsed, 2)
    stats["postings_per_s"] = round(stats["lines"] / elapsed, 1) if elapsed > 0 else None
    return stats
