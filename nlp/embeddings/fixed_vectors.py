"""Vectors of fixed texts — the taxonomy's skill names, occupation profiles and competency
statements — computed once per embedder and kept on disk between runs.

    vectors = FixedTextVectors(embedder, cache_dir)
    vecs = vectors.encode_cached(texts, "passage")   # (len(texts), dim); read back on the next run

One ``.npy`` file per (embedder fingerprint, kind, list of texts) under ``cache_dir``. Per-posting
sentences are not kept here: the embedder's own caches (memory LRU, ``sentences.sqlite3``) hold them.
A cache folder that cannot be written only costs time.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nlp.embeddings.embedder import Embedder, Kind

log = logging.getLogger(__name__)


class FixedTextVectors:
    def __init__(self, embedder: Embedder, cache_dir: Path | None = None) -> None:
        self.embedder = embedder
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def _path(self, texts: list[str], kind: Kind) -> Path | None:
        if self.cache_dir is None:
            return None
        key = getattr(self.embedder, "fingerprint", None) or getattr(self.embedder, "name", "")
        h = hashlib.sha1(f"{key}\x1f{kind}\x1f".encode())
        for t in texts:
            h.update(t.encode("utf-8") + b"\x1e")
        return self.cache_dir / f"{h.hexdigest()[:20]}.npy"

    def encode_cached(self, texts: list[str], kind: Kind) -> np.ndarray:
        """The vectors of ``texts`` (one row each), from the disk cache when it holds them."""
        if not texts:
            return np.zeros((0, getattr(self.embedder, "dim", 1)), np.float32)
        path = self._path(texts, kind)
        if path is not None and path.exists():
            try:
                vecs = np.load(path)
                if vecs.shape[0] == len(texts):
                    return vecs
            except (OSError, ValueError):
                pass
        vecs = self.embedder.encode(texts, kind=kind)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, vecs)
            except OSError as exc:  # a read-only data dir only costs time
                log.debug("cannot cache taxonomy vectors in %s: %s", path, exc)
        return vecs
