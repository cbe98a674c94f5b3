"""Which text encoding a file is in: UTF-8 (with or without BOM), else GB18030.

GB18030 is a superset of GBK and GB2312, so one fallback reads all three. The check decodes
the whole file incrementally in 1 MiB chunks (constant memory, a few ms per MB) before any
record is read, so a file is never half read in one encoding and half in another.
"""

from __future__ import annotations

import codecs
from pathlib import Path

CHUNK = 1 << 20


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (UTF-8 with BOM), ``utf-8`` or ``gb18030``."""
    with path.open("rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"
