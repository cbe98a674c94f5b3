"""Only the texts whose vector can change the extraction are embedded (nlp.embeddings.selection):
on real dev postings the selection gives the same occupations, skills and competencies as
embedding every close call and every unknown term, with far fewer texts through the model; and
worker processes give the same lines as one process with the model on. Reads ../shared at run
time and skips where it is absent."""

from __future__ import annotations

import json
import math
from itertools import islice

import pytest

from nlp.parallel import worker_count

N_POSTINGS = 240


def _postings(shared_dir, limit: int):
    from skillsignal.core.records import record_to_posting

    out = []
    for path in (shared_dir / "data" / "postings-dev.jsonl", shared_dir / "eval" / "labeled-dev-2.jsonl"):
        if not path.exists():
            pytest.skip(f"{path} is absent")
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                out.append(record_to_posting(json.loads(line)))
                if len(out) >= limit:
                    break
        limit += 41
    return out


def _facts(result) -> dict:
    occ = result.occupation
    return {
        "occupation": (occ.code, occ.direction, occ.other_hint),
        "skills": sorted((s.id, s.mentions) for s in result.skills),
        "competencies": [c.id for c in result.competencies],
    }


@pytest.mark.model
def test_selection_gives_what_embedding_everything_gives(shared_dir, settings, model_in_data_dir, monkeypatch):
    from nlp.extractor import Extractor
    from nlp.occupation import OccupationScorer

    postings = _postings(shared_dir, N_POSTINGS)
    extractor = Extractor.from_settings(settings, use_embeddings=True)
    emb = extractor.embedder
    emb.use_disk_cache(None)  # every vector computed here

    def run() -> tuple[list[dict], int]:
        emb.clear_cache()
        before = emb.encoded_texts
        results = []
        for i in range(0, len(postings), 64):
            results += [_facts(r) for r in extractor.extract_many(postings[i : i + 64])]
        return results, emb.encoded_texts - before

    selected, n_selected = run()
    # without the selection: every posting's duties and every unknown Latin term embedded
    monkeypatch.setattr(OccupationScorer, "embedding_swing", lambda self, decision: math.inf)
    terms = extractor.nlp.get_pipe("skillsignal_skill_embeddings").latin_forms
    monkeypatch.setattr(terms, "can_agree", lambda term: True)
    everything, n_everything = run()

    assert n_selected < 0.6 * n_everything, (n_selected, n_everything)
    differing = [(p.id, a, b) for p, a, b in zip(postings, selected, everything, strict=True) if a != b]
    assert not differing, differing[:3]
    # the sample exercises both selections: some postings embedded, some terms mapped
    assert n_selected > 0


def test_auto_workers_follow_cores_and_input_size(settings, monkeypatch):
    from nlp import parallel

    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    auto = settings.model_copy(update={"extract_workers": 0, "extract_parallel_min_postings": 500})
    assert worker_count(auto, 499) == 1
    assert worker_count(auto, None) == 1
    assert worker_count(auto, 500) == 2
    monkeypatch.setattr(parallel, "usable_cores", lambda: 1)
    assert worker_count(auto, 10_000) == 1
    monkeypatch.setattr(parallel, "usable_cores", lambda: 64)
    assert worker_count(auto, 10_000) == parallel.MAX_AUTO_WORKERS
    assert worker_count(auto.model_copy(update={"extract_workers": 3}), 10) == 3


@pytest.mark.model
def test_worker_processes_with_the_model_give_one_process_lines(shared_dir, settings, model_in_data_dir, tmp_path):
    from nlp.batch import extract_jsonl

    src = shared_dir / "data" / "postings-dev.jsonl"
    if not src.exists():
        pytest.skip(f"{src} is absent")
    sample = tmp_path / "in.jsonl"
    with src.open(encoding="utf-8") as fh, sample.open("w", encoding="utf-8") as out:
        for line in islice(fh, 120):
            out.write(line)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    s1 = extract_jsonl(sample, one, settings.model_copy(update={"extract_workers": 1}), use_embeddings=True)
    s2 = extract_jsonl(sample, two, settings.model_copy(update={"extract_workers": 2}), use_embeddings=True)
    assert (s1["workers"], s2["workers"]) == (1, 2)
    assert s1["embeddings"] and s2["embeddings"]
    lines = one.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 120 and sum(bool(json.loads(ln).get("competencies")) for ln in lines) > 0
    assert two.read_text(encoding="utf-8").splitlines() == lines


def test_ingest_pipeline_on_workers_extracts_what_one_process_does(settings):
    from nlp.parallel import ParallelExtractor
    from skillsignal.core.models import Posting
    from skillsignal.pipeline import IngestPipeline

    plain = settings.model_copy(update={"use_embeddings": False})
    titles = ["大数据开发工程师", "深度学习算法工程师", "云计算运维工程师", "行政前台"]
    postings = [
        Posting(
            id=f"p{i}",
            source="test",
            title=titles[i % 4],
            description=f"负责{titles[i % 4]}相关工作，熟悉Python、Spark、Kubernetes与PyTorch（{i}）。",
        )
        for i in range(70)
    ]

    def run(workers: int) -> list[dict]:
        pipe = IngestPipeline(plain, workers=workers)
        try:
            if workers > 1:
                assert isinstance(pipe.extractor, ParallelExtractor) and pipe.extractor.workers == workers
            return [
                ext.model_dump(mode="json", exclude={"extracted_at"}) for _, ext, _ in pipe.extract_postings(postings)
            ]
        finally:
            pipe.close()

    one = run(1)
    assert len(one) == 70 and all(one)
    assert run(2) == one


def test_latin_form_index_answers_what_lexical_agreement_answers_over_every_form():
    """The index counts shared bigrams from its posting lists; over the taxonomy's Latin forms and
    terms built to be near misses, it must agree with the component's own test over every form."""
    import random

    from nlp.embeddings.selection import LatinFormIndex
    from nlp.spacy_pipeline.components import lexical_agreement
    from skill_taxonomy import default_taxonomy
    from skillsignal.core.text import alnum_bigrams

    forms = sorted({f for s in default_taxonomy().skills.values() for f in s.surface_forms() if f.isascii()})
    index = LatinFormIndex(forms, alnum_bigrams, 0.5, 0.7)
    rng = random.Random(7)
    terms = ["LVM", "LLVM", "Kubernetes", "Kubernets", "pytorch2", "XYZQW", "React.js", "a", ""]
    for form in rng.sample(forms, 300):  # each form cut, extended and with a letter swapped
        cut = max(1, len(form) - rng.randint(0, 3))
        terms += [form[:cut], form + rng.choice("sxz2"), form[::-1], form.replace(form[0], "Q", 1)]
    for term in terms:
        assert index.can_agree(term) == lexical_agreement(term, forms, 0.5, 0.7), term
