"""The embedding model on ONNX Runtime (float32), exported once from the local model folder.

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, which pins
``transformers<4.58`` (this project runs transformers 5), so the export is done here with
``torch.onnx.export`` from the converted folder (never from a hub) into
``<folder>/onnx/model.onnx``, written to a temporary file and renamed into place. At run time
only ``onnxruntime``, ``tokenizers`` and numpy are imported.

:class:`OnnxEncoder` never pads: a run holds texts of exactly the same token count (at most
``bucket`` of them, in the order given), so no work is wasted on pad tokens and every row goes
through the same operations as it would alone — on one intra-op thread, ONNX Runtime's CPU
kernels compute a row of a matrix product, a layer norm or a softmax the same way whatever
the other rows are (the hidden sizes, 384 and 1536, are whole vector widths), so a text's
vector is bit-identical however the texts are grouped (``tests/embeddings``: alone vs grouped).
Grouping pays for short texts, where a run's cost is mostly reading the weights (~85 MB): 8
tokens cost 7.6 ms CPU alone, 3.7 ms each 8 at a time; 40 tokens 20 ms either way. The cores are
used by running ``threads`` groups at once (ONNX Runtime releases the GIL), each run on one
intra-op thread: measured on 200 dev sentences, one run on two intra-op threads costs twice
the CPU time of two single-threaded runs (its threads spin while waiting), and every thread
layout gives bit-identical vectors.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

log = logging.getLogger(__name__)

ONNX_SUBDIR = "onnx"
ONNX_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
#: Bumped when the exported graph changes (inputs, outputs, opset).
EXPORT_VERSION = 1
_MARKER = "skillsignal_export.json"


class OnnxExportError(RuntimeError):
    """The model folder cannot be exported to ONNX (or onnxruntime is missing)."""


def onnx_path(folder: Path) -> Path:
    return Path(folder) / ONNX_SUBDIR / ONNX_FILE


def is_exported(folder: Path) -> bool:
    marker = Path(folder) / ONNX_SUBDIR / _MARKER
    if not marker.is_file() or not onnx_path(folder).is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("export_version") == EXPORT_VERSION
    except ValueError:
        return False


def export_onnx(folder: Path) -> Path:
    """Export the transformer of the sentence-transformers folder ``folder`` to ONNX (float32,
    inputs ``input_ids`` / ``attention_mask``, output ``last_hidden_state``). Needs torch,
    transformers and the ``onnx`` package; takes ~20 s once."""
    folder = Path(folder)
    try:
        import torch  # lazy: only the one-time ONNX export needs it (1.4 s, 0.2 GB)
        from transformers import AutoModel  # lazy: only the one-time ONNX export needs it
    except ImportError as exc:  # pragma: no cover - torch ships with the package
        raise OnnxExportError(f"exporting to ONNX needs torch and transformers: {exc}") from exc
    started = time.perf_counter()
    target = onnx_path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager")
    model.eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.tensor([[0, 6, 7, 2], [0, 8, 2, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notices about the attention mask
            torch.onnx.export(
                _Hidden(model),
                (ids, mask),
                tmp,
                dynamo=False,
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "last_hidden_state": {0: "batch", 1: "tokens"},
                },
                opset_version=17,
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, target)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, ImportError) or "onnx is not installed" in str(exc):
            raise OnnxExportError(
                f"exporting {folder} to ONNX needs the 'onnx' package ({exc}); "
                "install the project's dependencies or set SKILLSIGNAL_EMBEDDING_BACKEND=torch"
            ) from exc
        raise OnnxExportError(f"exporting {folder} to ONNX failed: {type(exc).__name__}: {exc}") from exc
    seconds = time.perf_counter() - started
    (target.parent / _MARKER).write_text(
        json.dumps({"export_version": EXPORT_VERSION, "seconds": round(seconds, 1)}), encoding="utf-8"
    )
    log.info("exported %s to ONNX in %.1f s", folder, seconds)
    return target


def quantize_int8(folder: Path) -> Path:
    """Dynamic int8 copy of the exported model (``<folder>/onnx/model-int8.onnx``, ~1 min once).

    Weights per output channel in 7 bits (``reduce_range``): the u8 x s7 products of a pair then
    fit in int16, so the integer matrix products are exact on every x86-64 CPU (AVX2's
    ``vpmaddubsw`` saturates with full 8-bit weights, AVX512-VNNI does not). Activations take one
    scale per run, and a run is one text: the vector still does not depend on other texts.
    """
    target = Path(folder) / ONNX_SUBDIR / INT8_FILE
    if target.is_file():
        return target
    if not is_exported(folder):
        export_onnx(folder)
    from onnxruntime.quantization import QuantType, quantize_dynamic  # lazy: only the non-default int8 precision

    started = time.perf_counter()
    fd, tmp = tempfile.mkstemp(prefix=".quant-", suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        quantize_dynamic(str(onnx_path(folder)), tmp, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    log.info("quantised %s to int8 in %.1f s", folder, time.perf_counter() - started)
    return target


class OnnxEncoder:
    """Duck-types the part of ``SentenceTransformer`` that :class:`Embedder` uses: mean-pooled,
    L2-normalised vectors, texts of one token count per ONNX Runtime run (no padding)."""

    def __init__(self, folder: Path, threads: int, max_seq_length: int, int8: bool = False, bucket: int = 16) -> None:
        folder = Path(folder)
        if not is_exported(folder):
            export_onnx(folder)
        model_file = quantize_int8(folder) if int8 else onnx_path(folder)
        self.folder = folder
        self.max_seq_length = max_seq_length
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.threads = threads
        self.bucket = max(1, int(bucket))
        self.runs = 0  # model runs (groups of texts of one token count)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="onnx-embed") if threads > 1 else None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(model_file), opts, providers=["CPUExecutionProvider"])
        self._dim = int(self.session.get_outputs()[0].shape[-1] or 0) or None

    def get_sentence_embedding_dimension(self) -> int | None:
        return self._dim

    def _group(self, ids: list[list[int]]) -> list[np.ndarray]:
        """Mean-pooled vectors of texts that all have the same token count (one run)."""
        arr = np.asarray(ids, dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": arr, "attention_mask": np.ones_like(arr)})[0]
        return [row.mean(axis=0, dtype=np.float32) for row in hidden]  # row by row, as alone

    def groups(self, ids: list[list[int]]) -> list[list[int]]:
        """Indices of ``ids`` in runs: the same token count, at most ``bucket`` each, in order."""
        by_len: dict[int, list[int]] = {}
        for i, x in enumerate(ids):
            by_len.setdefault(len(x), []).append(i)
        out: list[list[int]] = []
        for idx in by_len.values():
            out.extend(idx[k : k + self.bucket] for k in range(0, len(idx), self.bucket))
        return out

    def encode(self, sentences: list[str], normalize_embeddings: bool = True, **_ignored) -> np.ndarray:
        ids = [enc.ids for enc in self.tokenizer.encode_batch(list(sentences))]
        if not ids:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        groups = self.groups(ids)
        self.runs += len(groups)
        batches = [[ids[i] for i in g] for g in groups]
        if self._pool is not None and len(batches) > 1:
            # longest runs first so that the threads finish together
            order = sorted(range(len(batches)), key=lambda k: -len(batches[k]) * len(batches[k][0]))
            done = dict(zip(order, self._pool.map(self._group, [batches[k] for k in order]), strict=True))
            results = [done[k] for k in range(len(batches))]
        else:
            results = [self._group(b) for b in batches]
        by_index: dict[int, np.ndarray] = {}
        for g, vecs in zip(groups, results, strict=True):
            for i, v in zip(g, vecs, strict=True):
                by_index[i] = v
        rows = [by_index[i] for i in range(len(ids))]
        if normalize_embeddings:  # row by row: the same 1-D reduction whatever the batch
            rows = [r / max(float(np.linalg.norm(r)), 1e-12) for r in rows]
        return np.stack(rows).astype(np.float32, copy=False)
