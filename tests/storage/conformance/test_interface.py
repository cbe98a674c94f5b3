"""Every backend is a complete :class:`storage.base.PostingIndex`: it has each method of the Protocol
with a compatible signature, and answers the methods the ingest pipeline, dedup and the CLI call
(not only the API's queries) alike on the same postings."""

from __future__ import annotations

import ast
import inspect
from collections import Counter
from pathlib import Path

import pytest

from storage.base import PostingIndex, posted_date

#: the methods callers outside storage/ use (pipeline, dedup, CLI, health); the Protocol must declare them
CALLED_OUTSIDE_STORAGE = {
    "index_postings",
    "save_extractions",
    "set_duplicates",
    "refresh",
    "close",
    "get_posting",
    "iter_postings",
    "fingerprints",
    "date_range",
    "stats",
    "check_integrity",
    "count_postings",
    "count_by",
    "totals",
    "timeseries",
    "ranking",
    "ranking_timeseries",
    "search_postings",
    "skill_cooccurrence",
    "export_series",
}
ROOT = Path(__file__).resolve().parents[3]


def protocol_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(PostingIndex).items()
        if callable(member) and not name.startswith("_")
    }


def test_the_protocol_declares_what_callers_use():
    assert CALLED_OUTSIDE_STORAGE <= set(protocol_methods())
    assert "backend_name" in PostingIndex.__annotations__ and isinstance(vars(PostingIndex)["path"], property)


def test_backend_implements_every_protocol_method(backend):
    assert isinstance(backend, PostingIndex)
    for name, want in protocol_methods().items():
        got = inspect.signature(getattr(type(backend), name))
        params = list(got.parameters.values())
        for i, p in enumerate(want.parameters.values()):
            assert i < len(params), f"{type(backend).__name__}.{name} lacks parameter {p.name}"
            q = params[i]
            assert (q.name, q.kind, q.default) == (p.name, p.kind, p.default), (
                f"{type(backend).__name__}.{name}: parameter {q} where the Protocol has {p}"
            )
        extra = params[len(want.parameters) :]
        assert all(q.default is not inspect.Parameter.empty for q in extra), (
            f"{type(backend).__name__}.{name} requires parameters the Protocol does not pass: {extra}"
        )
    assert isinstance(backend.backend_name, str)
    assert backend.path is None or Path(backend.path).exists()


def test_the_reads_callers_outside_the_api_use(backend, dataset):
    postings, dups = dataset
    unique = [p for p in postings if p.id not in dups]
    assert backend.count_postings() == len(postings)
    assert backend.count_postings(unique_only=True) == len(unique)
    days = [posted_date(p) for p in postings]
    assert backend.date_range() == (min(days), max(days))

    levels = Counter(p.extraction.level for p in postings if p.extraction)
    assert backend.count_by("levels") == sorted(levels.items(), key=lambda kv: (-kv[1], kv[0]))
    assert len(backend.count_by("levels", limit=2)) == 2

    ids = [p.id for p in postings[::37]]
    want = {p.id: (p.fingerprint, p.extraction.taxonomy_version if p.extraction else None) for p in postings[::37]}
    assert backend.fingerprints([*ids, "no-such-id"]) == want

    assert [p.id for p in backend.iter_postings(batch_size=7)] == sorted(p.id for p in postings)
    unextracted = sorted(p.id for p in postings if p.extraction is None)
    assert unextracted and [p.id for p in backend.iter_postings(only_unextracted=True)] == unextracted

    stats = backend.stats()
    assert (stats["postings"], stats["duplicates"]) == (len(postings), len(dups))
    assert stats["extracted"] == len(postings) - len(unextracted)
    assert backend.check_integrity() is None


def test_save_extractions_attaches_results_and_keeps_marks(backend, dataset):
    postings, dups = dataset
    marked = next(p for p in postings if p.id in dups and p.extraction)
    plain = next(p for p in postings if p.id not in dups and p.extraction is None)
    try:
        assert backend.save_extractions([(marked, None, "extractor failed"), (plain, marked.extraction, None)]) == 2
        backend.refresh()
        got = backend.get_posting(marked.id)
        assert got is not None and got.extraction is None and got.extraction_error == "extractor failed"
        assert backend.get_posting(plain.id).extraction == marked.extraction
        assert marked.id in {p.id for p in backend.iter_postings(only_unextracted=True)}
        assert backend.fingerprints([plain.id]) == {plain.id: (plain.fingerprint, "t")}
        assert backend.count_postings(unique_only=True) == len(postings) - len(dups)  # the mark survived
    finally:
        backend.index_postings([marked, plain])
        backend.refresh()
    crawl = marked.crawled_at.date()  # the store fills the seen dates: first and last seen on its crawl date
    assert backend.get_posting(marked.id) == marked.model_copy(update={"first_seen": crawl, "last_seen": crawl})


def test_save_extractions_never_overwrites_a_newer_version(backend, dataset):
    """An extraction made from content the store has since replaced is not saved over it (what an
    extraction worker relies on); one made from the stored content is."""
    postings, _ = dataset
    old = next(p for p in postings if p.extraction is None)
    newer = old.model_copy(update={"description": old.description + " 另：岗位已调整。", "fingerprint": ""})
    newer.fingerprint = newer.compute_fingerprint()
    extraction = next(p for p in postings if p.extraction).extraction
    assert newer.fingerprint != old.fingerprint
    try:
        backend.index_postings([newer])
        backend.refresh()
        assert backend.save_extractions([(old, extraction, None)], expected={old.id: old.fingerprint}) == 0
        backend.refresh()
        assert backend.get_posting(old.id).description == newer.description
        assert backend.get_posting(old.id).extraction is None
        saved = backend.save_extractions([(newer, extraction, None)], expected={newer.id: newer.fingerprint})
        backend.refresh()
        assert saved == 1 and backend.get_posting(old.id).extraction == extraction
    finally:
        backend.index_postings([old])
        backend.refresh()
    assert backend.fingerprints([old.id]) == {old.id: (old.fingerprint, None)}


def _annotations_naming(path: Path, names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        annotation = getattr(node, "annotation", None) or getattr(node, "returns", None)
        if annotation is not None and names & {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            if any(name in annotation.value for name in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_callers_are_typed_against_the_protocol_not_a_backend():
    concrete = {"SQLiteStore", "SearchIndex", "OpenSearchIndex", "ElasticsearchIndex"}
    files = [f for d in ("api", "skillsignal", "crawlers") for f in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 20
    offenders = [hit for f in files for hit in _annotations_naming(f, concrete)]
    assert not offenders, f"annotate with storage.PostingIndex, not a backend class: {offenders}"


@pytest.mark.parametrize("name", ["storage.sqlite", "storage"])
def test_the_public_import_path_of_the_sqlite_store_stays(name):
    module = __import__(name, fromlist=["SQLiteStore"])
    assert module.SQLiteStore.__module__ == "storage.sqlite.store"
