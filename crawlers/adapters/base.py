"""Shared pieces of the board adapters: value helpers, the block check and records -> postings.

An adapter turns one board's public response (list JSON, detail HTML) into flat records
(:mod:`skillsignal.core.records` field names). It never fetches anything; the thin spiders in
:mod:`crawlers.spiders.boards` do, and tests feed it files.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from parsel import Selector

from skillsignal.core.models import Posting
from skillsignal.core.records import RecordError, parse_posted, record_to_posting

Record = dict[str, Any]


class BoardBlocked(RuntimeError):
    """The board answered with a block / verification / rate-limit page instead of data."""


class BoardFormatError(ValueError):
    """The response is not the shape this adapter reads (the board changed its format?)."""


def load_json(payload: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(payload, Mapping):
        return payload
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", errors="replace")
    text = payload.strip()
    if text.startswith("<"):
        raise BoardBlocked("expected JSON, got an HTML page (a verification or block page?)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BoardFormatError(f"response is not JSON ({exc.msg})") from exc
    if not isinstance(data, Mapping):
        raise BoardFormatError(f"expected a JSON object, got {type(data).__name__}")
    return data


def text(value: Any) -> str | None:
    """A display string from a board value: plain, ``{"name": ...}``/``{"display": ...}``, or a list."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        for key in ("name", "display", "value", "text", "label"):
            if value.get(key) not in (None, ""):
                return text(value[key])
        return None
    if isinstance(value, (list, tuple)):
        parts = [t for t in (text(v) for v in value) if t]
        return "、".join(parts) or None
    out = html.unescape(str(value)).strip()
    return out or None


def tag_list(*values: Any) -> list[str]:
    """Tags from lists, ``{"name"}`` objects or delimited strings, in order, without repeats."""
    out: list[str] = []
    for value in values:
        if value is None:
            continue
        items = value if isinstance(value, (list, tuple)) else re.split(r"[,，;；|/、]", str(value))
        for item in items:
            t = text(item)
            if t and t not in out:
                out.append(t)
    return out


def html_text(fragment: str | None) -> str:
    """Visible text of an HTML fragment, line breaks kept at <br>/<p>/<li>."""
    if not fragment:
        return ""
    sel = Selector(text=f"<div>{fragment}</div>")
    for br in sel.css("br"):
        br.root.tail = "\n" + (br.root.tail or "")
    for block in sel.css("p, li, div, dd, dt, tr, h1, h2, h3, h4, h5, h6, section"):
        block.root.tail = "\n" + (block.root.tail or "")
    parts = []
    for node in sel.xpath("//div[1]//text()"):
        parts.append(node.get())
    raw = "".join(parts)
    lines = [re.sub(r"[ \t\u3000\xa0]+", " ", ln).strip() for ln in raw.splitlines()]
    return "\n".join(ln for ln in lines if ln)


def node_text(sel: Selector, css: str) -> str:
    """Text of the first node matching ``css`` (descendants joined, lines kept)."""
    node = sel.css(css)
    return html_text(node[0].get()) if node else ""


def posted_or_none(value: Any) -> str | None:
    """An ISO date from a board's date text, or None where it has no year (``03-05``) or is not a date."""
    raw = text(value)
    if not raw:
        return None
    try:
        d = parse_posted(raw)
    except RecordError:
        return None
    return d.isoformat() if d else None


def split_city(area: str | None) -> tuple[str | None, str | None]:
    """``上海-浦东新区`` / ``上海·浦东新区`` -> (上海, 浦东新区)."""
    if not area:
        return None, None
    parts = [p.strip() for p in re.split(r"[-·・/]", area) if p.strip()]
    if not parts:
        return None, None
    return parts[0], (parts[1] if len(parts) > 1 else None)


def to_postings(records: Iterable[Record]) -> Iterator[Posting | RecordError]:
    """Each record as a :class:`Posting`, or the :class:`RecordError` saying why not."""
    for record in records:
        try:
            yield record_to_posting(record, default_source=record.get("source") or "board")
        except RecordError as exc:
            yield RecordError(f"{record.get('id') or record.get('url') or '?'}: {exc}")
        except ValueError as exc:
            yield RecordError(f"{record.get('id') or record.get('url') or '?'}: {str(exc).splitlines()[0]}")
