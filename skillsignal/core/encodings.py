"""Which text encoding a file is in, and its lines decoded one by one (the importers and `extract` read files alike).

A file is UTF-8 (with or without BOM) or GB18030 (a superset of GBK and GB2312, so one
fallback reads all three). The whole file is checked first, in 1 MiB chunks (constant memory,
a few ms per MB): when it all reads as UTF-8 that is the answer. Otherwise the lines vote: the
file is GB18030 when more lines read only as GB18030 than read as (non-ASCII) UTF-8. A file is
never read half in one encoding and half in another.

The lines are then decoded one at a time (:func:`decoded_lines`), so one line of bytes that is
not text in the file's encoding costs that line only: it comes back with the reason, and the
readers reject the record that holds it (``file:line: reason``) and keep the rest.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20
LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030/GBK"}
# Text-mode files end lines at \n, \r\n and a lone \r; the bytes are split at \n (which no
# multi-byte character of UTF-8 or GB18030 contains), then at a lone \r.
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _all_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _reads_as(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (UTF-8 with BOM), ``utf-8`` or ``gb18030``."""
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
    if _all_utf8(path):
        return "utf-8"
    utf8 = gb_only = 0
    with path.open("rb") as fh:
        for raw in fh:
            if raw.isascii():
                continue
            if _reads_as(raw, "utf-8"):
                utf8 += 1
            elif _reads_as(raw, "gb18030"):
                gb_only += 1
    return "gb18030" if gb_only > utf8 else "utf-8"


def _reason(exc: UnicodeDecodeError, encoding: str) -> str:
    byte = exc.object[exc.start]
    return (
        f"not {LABELS.get(encoding, encoding)} text like the rest of the file "
        f"(byte 0x{byte:02x} at byte {exc.start + 1} of the line cannot be decoded)"
    )


def decoded_lines(path: Path, encoding: str) -> Iterator[tuple[int, str, str | None]]:
    """``(line number, text, None)`` for each line of ``path`` (line ending kept), or
    ``(line number, text with U+FFFD for the bad bytes, reason)`` for a line that is not
    text in ``encoding``."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    lineno = 0
    with path.open("rb") as fh:
        for raw in fh:
            if lineno == 0 and encoding == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as exc:  # one bad line, whatever bytes it holds
                lineno += 1
                yield lineno, raw.decode(codec, errors="replace"), _reason(exc, encoding)
                continue
            for piece in _LONE_CR.split(text) if "\r" in text else (text,):
                if piece:
                    lineno += 1
                    yield lineno, piece, None
