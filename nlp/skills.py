"""Find the taxonomy's skills named in a posting, as the exact strings written.

:class:`SkillFinder` holds one Aho-Corasick automaton over every name and alias of the taxonomy
(normalised: NFKC, case-folded, whitespace removed) and reads a description sentence by sentence
(:mod:`nlp.sections`):

* matches are chosen leftmost-longest, so "JavaScript" is never also "Java" and "C++" never "C";
* a Latin term must stand on token boundaries in the original text ("R" not inside "RPC",
  "Java" not inside "Javadoc"); trailing version numbers are kept in the mention ("Python3");
* one-letter language names (C, R) count only in a language context (``C语言``, ``C/C++``,
  ``R、Python``); common English words (go, rest, spring...) count in an English sentence only
  when capitalised as the technology is; aliases a taxonomy entry marks ``context_required``
  need one of their context words in the sentence;
* nothing is read from boilerplate (company blurb, benefits, contact); a term inside an
  education clause ("统计学相关专业") is a major, not a skill; a term followed by 行业 is an
  industry; soft skills, communication languages and generic words are never skills
  (``nlp/data/skill_rules.yaml``);
* an unknown Latin token one typo away from a known name ("Jekins") is read as that skill.

Each hit keeps its surface string (``mentions``), its sentence, and whether the sentence asks
for it as a plus (``preferred``).
"""

from __future__ import annotations

import bisect
import logging
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import ahocorasick
import yaml

from nlp.new_terms import load_rules as load_term_rules
from nlp.sections import Sentence, clause_spans, load_cues
from skillsignal.core.text import normalize_term

if TYPE_CHECKING:
    from skill_taxonomy import Taxonomy

log = logging.getLogger(__name__)

RULES_PATH = Path(__file__).parent / "data" / "skill_rules.yaml"
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[+#]+|(?:[.\-_/][A-Za-z0-9]+)+)?")
_VERSION_TAIL = re.compile(r"[0-9]+(?:\.[0-9x]+)*")
_DOT_VERSION = re.compile(r"(?:\.[0-9]+)+")
#: Characters of a Latin name listed before a one-letter language ("Python/C", "C++/C").
_NAME_BEFORE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+#.")
_NAME_AFTER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+#")


def _is_alnum_ascii(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True)
class SkillRules:
    never: frozenset[str]
    english_words: dict[str, frozenset[str]]
    single_after: tuple[str, ...]
    single_separators: tuple[str, ...]
    major: re.Pattern[str]
    not_major: re.Pattern[str]
    industry_suffix: tuple[str, ...]
    typo_min_length: int
    typo_short: int
    typo_long: int
    blockers: tuple[str, ...] = ()
    context_suffixes: tuple[str, ...] = ()
    context_prefixes: tuple[str, ...] = ()
    glued_min_token: int = 8
    glued_min_part: int = 4

    @classmethod
    def load(cls, path: Path = RULES_PATH) -> SkillRules:
        return _load_rules(path)

    @property
    def single_after_len(self) -> int:
        """Longest word that marks a one-letter language ("language"): all that is read after it."""
        return max(map(len, self.single_after), default=0)


@lru_cache(maxsize=4)
def _load_rules(path: Path) -> SkillRules:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edu = data["education_context"]
    single = data["single_letter_context"]
    typo = data.get("typo") or {}
    return SkillRules(
        never=frozenset(normalize_term(t) for t in data.get("never_skills") or []),
        english_words={k.casefold(): frozenset(v) for k, v in (data.get("english_words") or {}).items()},
        single_after=tuple(a.casefold() for a in single["after"]),
        single_separators=tuple(single["separators"]),
        major=re.compile(edu["major"], re.IGNORECASE),
        not_major=re.compile(edu["not_major"], re.IGNORECASE),
        industry_suffix=tuple(data.get("industry_suffix") or []),
        typo_min_length=int(typo.get("min_length", 4)),
        typo_short=int(typo.get("max_distance_short", 1)),
        typo_long=int(typo.get("max_distance_long", 2)),
        blockers=tuple(normalize_term(b) for b in data.get("blockers") or []),
        context_suffixes=tuple(s.casefold() for s in data.get("context_suffixes") or []),
        context_prefixes=tuple(s.casefold() for s in data.get("context_prefixes") or []),
        glued_min_token=int((data.get("glued") or {}).get("min_token", 8)),
        glued_min_part=int((data.get("glued") or {}).get("min_part", 4)),
    )


@dataclass
class SkillHit:
    skill_id: str
    surface: str
    start: int
    end: int
    sentence: int
    preferred: bool
    score: float = 1.0
    via: str = "alias"  # alias | typo | embedding


@dataclass
class FoundSkills:
    hits: list[SkillHit] = field(default_factory=list)
    #: character spans of the text already explained (skills, typos), for new-term finding
    covered: list[tuple[int, int]] = field(default_factory=list)


def damerau(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up (limit + 1) once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class SkillFinder:
    """Taxonomy skills in text: one automaton, built once per taxonomy."""

    def __init__(self, taxonomy: Taxonomy, rules: SkillRules | None = None) -> None:
        self.taxonomy = taxonomy
        self.rules = rules or SkillRules.load()
        self.automaton = ahocorasick.Automaton()
        self.key_skills: dict[str, list[str]] = {}
        #: (key, skill id) pairs that count only in technical context
        self.needs_context: set[tuple[str, str]] = set()
        for skill in taxonomy.skills.values():
            needs = getattr(skill, "needs_context", None)
            for form in skill.surface_forms():
                key = normalize_term(form)
                if not key or key in self.rules.never:
                    continue
                ids = self.key_skills.setdefault(key, [])
                if skill.id not in ids:
                    ids.append(skill.id)
                if needs is not None and needs(form):
                    self.needs_context.add((key, skill.id))
        for key in self.key_skills:
            self.automaton.add_word(key, key)
        for key in self.rules.blockers:
            if key not in self.key_skills:
                self.automaton.add_word(key, key)
        if self.key_skills or self.rules.blockers:
            self.automaton.make_automaton()
        #: longest key: a token longer than this cannot name a skill (bounds every look-around)
        self.max_key_len = max(map(len, self.key_skills), default=0)
        # Latin surface forms for typo matching, bucketed by first letter.
        self._nearest_cache: dict[str, str | None] = {}
        self.latin_forms: dict[str, list[str]] = {}
        for key in self.key_skills:
            if key.isascii() and key[:1].isalpha() and len(key) >= self.rules.typo_min_length:
                self.latin_forms.setdefault(key[0], []).append(key)

    @property
    def empty(self) -> bool:
        return not self.key_skills

    # ------------------------------------------------------------------ matching

    def find(self, text: str, sentences: Sequence[Sentence]) -> FoundSkills:
        """Every skill hit in the non-boilerplate ``sentences`` of ``text``."""
        found = FoundSkills()
        if self.empty:
            return found
        for index, sent in enumerate(sentences):
            if sent.boilerplate:
                continue
            self._find_in_sentence(text, sent, index, found)
        return found

    def _find_in_sentence(self, text: str, sent: Sentence, index: int, found: FoundSkills) -> None:
        raw = sent.text
        # normalised sentence without whitespace, with a map back to raw offsets
        chars: list[str] = []
        where: list[int] = []
        for i, ch in enumerate(raw):
            if ch.isspace():
                continue
            low = ch.casefold()
            for c in low:
                chars.append(c)
                where.append(i)
        norm = "".join(chars)
        cands: list[tuple[int, int, str]] = []
        for end, key in self.automaton.iter(norm):
            start = end - len(key) + 1
            cands.append((start, end, key))
        if not cands:
            return
        cands.sort(key=lambda c: (c[0], -(c[1] - c[0])))
        chosen: list[tuple[int, int, str]] = []
        local: list[SkillHit] = []
        pending: list[tuple[SkillHit, int, int]] = []
        taken_until = -1
        has_cjk = bool(CJK.search(raw))
        clauses = _Clauses(raw)
        # Accept the leftmost-longest candidate that passes the checks; a rejected long
        # candidate lets shorter ones at the same place be tried.
        for start, end, key in cands:
            if start <= taken_until:
                continue
            rs, re_ = where[start], where[end] + 1
            surface = self._surface(raw, rs, re_, key)
            if surface is None:
                continue
            if not self._accept(raw, rs, rs + len(surface), key, surface, has_cjk, clauses):
                continue
            chosen.append((start, end, key))
            taken_until = end
            if key not in self.key_skills:  # a blocker phrase: consumes the text, names nothing
                continue
            abs_start = sent.start + rs
            preferred = sent.preferred and self._clause_preferred(raw, rs, clauses, sent)
            skill_id = self._resolve(key)
            hit = SkillHit(skill_id, surface, abs_start, abs_start + len(surface), index, preferred)
            if (key, skill_id) in self.needs_context:
                pending.append((hit, rs, rs + len(surface)))
            else:
                local.append(hit)
        # context-required aliases: kept when the sentence names another skill, or a
        # technique word follows them directly
        others = {h.skill_id for h in local}
        low = raw.casefold() if pending else raw
        for hit, before, after in pending:
            if (
                len(others) > 1
                or (others and hit.skill_id not in others)  # others - {hit}
                or low.startswith(self.rules.context_suffixes, after)
                or low[max(0, before - 20) : before].rstrip().endswith(self.rules.context_prefixes)
            ):
                local.append(hit)
        for hit in local:
            found.hits.append(hit)
            found.covered.append((hit.start, hit.end))

    def _surface(self, raw: str, rs: int, re_: int, key: str) -> str | None:
        """The exact string written, or None when a Latin term is not on a token boundary."""
        if _is_alnum_ascii(key[0]) and rs > 0:
            before = raw[rs - 1]
            if _is_alnum_ascii(before) or (len(key) == 1 and before in ".-_"):
                return None
        if _is_alnum_ascii(key[-1]) and re_ < len(raw):
            after = raw[re_]
            if len(key) == 1 and after in "+#":
                return None
            if _is_alnum_ascii(after):
                tail = _VERSION_TAIL.match(raw, re_)
                if len(key) < 2 or not after.isdigit() or tail is None:
                    return None
                stop = tail.end()
                if stop < len(raw) and raw[stop].isascii() and raw[stop].isalpha():
                    return None
                re_ = stop
            elif after == "." and key[-1].isdigit():  # "python3" + ".6"
                tail = _DOT_VERSION.match(raw, re_)
                if tail and not (tail.end() < len(raw) and raw[tail.end()].isalpha() and raw[tail.end()].isascii()):
                    re_ = tail.end()
        return raw[rs:re_]

    def _accept(self, raw: str, rs: int, re_: int, key: str, surface: str, has_cjk: bool, clauses) -> bool:
        rules = self.rules
        # common English words: in English sentences only as the technology is capitalised
        allowed = rules.english_words.get(key)
        if allowed is not None and not has_cjk:
            base = surface.rstrip("0123456789.")
            if base not in allowed and surface not in allowed:
                return False
        if len(key) == 1 and key.isalpha():
            if not self._language_context(raw, rs, re_, clauses):
                return False
        for suffix in rules.industry_suffix:
            if raw.startswith(suffix, re_):
                return False

        def major(a: int, b: int) -> bool:
            clause = raw[a:b]
            return bool(rules.major.search(clause) and not rules.not_major.search(clause))

        # (each clause is read once per sentence, not once per candidate in it)
        if clauses.answer("major", rs, major):
            return False
        return True

    def _language_context(self, raw: str, rs: int, re_: int, clauses: _Clauses) -> bool:
        """A one-letter language name is a language when 语言/language follows it or it is
        listed next to another known Latin skill name ("C/C++", "R、Python", "Python or R").

        Every look to either side reads a bounded stretch (a name longer than the longest key
        names nothing), so a long sentence is never re-read per candidate."""
        rules = self.rules
        n = len(raw)
        a = re_
        while a < n and raw[a].isspace():  # raw[re_:].lstrip() starts at a
            a += 1
        head = raw[a : a + rules.single_after_len].casefold()
        if any(head.startswith(x) for x in rules.single_after):
            return True
        b = rs
        while b > 0 and raw[b - 1].isspace():  # raw[:rs].rstrip() ends at b
            b -= 1
        for sep in rules.single_separators:
            if raw.endswith(sep, 0, b) and b >= len(sep):
                name = clauses.name_before(b - len(sep), self.max_key_len)
                if name is not None and name.casefold() in self.key_skills:
                    return True
            if raw.startswith(sep, a):
                name = _name_after(raw, a + len(sep), self.max_key_len)
                if name is not None and name.casefold() in self.key_skills and len(name) > 1:
                    return True
        return False

    def _clause_preferred(self, raw: str, rs: int, clauses: _Clauses, sent: Sentence) -> bool:
        """A skill is a plus when its sentence sits in a preferred section, or its own clause
        carries a marker (优先, 加分, "a plus"...)."""
        if sent.kind == "preferred":
            return True
        marker = load_cues().preferred
        return bool(clauses.answer("preferred", rs, lambda a, b: bool(marker.search(raw, a, b))))

    def _resolve(self, key: str) -> str:
        """The skill a surface form names (the first listed where several share it)."""
        return self.key_skills[key][0]

    # ------------------------------------------------------------------ typos

    def find_typos(self, text: str, sentences: Sequence[Sentence], found: FoundSkills) -> None:
        """Unknown Latin tokens in Chinese sentences: several known names glued together
        ("PythonLinuxMySQL"), or one known name with a typo ("Jekins")."""
        if not self.latin_forms:
            return
        english = load_term_rules().latin_stop
        covered = _Covered(found.covered)
        for index, sent in enumerate(sentences):
            if sent.boilerplate:
                continue
            cjk = len(CJK.findall(sent.text))
            # typos are read only in mostly-Chinese sentences, where an unknown Latin word is
            # almost always a technology; English prose is full of near-misses ("best"/"BERT")
            chinese = cjk >= 2 and cjk >= 0.3 * len(sent.text.replace(" ", ""))
            for m in LATIN_TOKEN.finditer(sent.text):
                token = m.group(0)
                start = sent.start + m.start()
                if len(token) < self.rules.typo_min_length or covered.overlaps(start, start + len(token)):
                    continue
                key = token.casefold()
                if key in self.key_skills or key in self.rules.never or key in english or not key.isalpha():
                    continue
                parts = self._split_glued(token) if len(token) >= self.rules.glued_min_token else None
                if parts:
                    pos = start
                    for part in parts:
                        skill_id = self._resolve(part.casefold())
                        found.hits.append(
                            SkillHit(skill_id, part, pos, pos + len(part), index, sent.preferred, 0.9, "glued")
                        )
                        pos += len(part)
                    found.covered.append((start, start + len(token)))
                    continue
                if not (chinese or _cjk_neighbour(sent.text, m.start(), m.end())):
                    continue
                best = self._nearest(key)
                if best is None:
                    continue
                found.hits.append(
                    SkillHit(self._resolve(best), token, start, start + len(token), index, sent.preferred, 0.8, "typo")
                )
                found.covered.append((start, start + len(token)))

    def _split_glued(self, token: str) -> list[str] | None:
        """``token`` as two or more known Latin names (the fewest parts; among equals the one
        found first), or None. The known names inside the token come from the automaton in one
        pass, so a long token costs time in proportion to its length."""
        n = len(token)
        min_part = self.rules.glued_min_part

        def case_cut(i: int) -> bool:  # a case change at position i: "nL" or "PH|Py"
            if i <= 0 or i >= n:
                return True
            a, b = token[i - 1], token[i]
            return (a.islower() and b.isupper()) or (
                a.isupper() and b.isupper() and i + 1 < n and token[i + 1].islower()
            )

        # ends[i]: the ends j of the known names token[i:j] (at least 2 characters)
        ends: dict[int, list[int]] = {}
        for last, key in self.automaton.iter(token.casefold()):
            if key in self.key_skills and len(key) >= 2:
                ends.setdefault(last - len(key) + 1, []).append(last + 1)
        # fewest parts to reach each position, and the start of the last part (shortest path
        # over the positions in order; a later path replaces an earlier one only if shorter)
        count: list[int | None] = [None] * (n + 1)
        back = [0] * (n + 1)
        count[0] = 0
        for i in range(n):
            here = count[i]
            if here is None or i not in ends:
                continue
            for j in sorted(ends[i]):
                if j - i < min_part and not (case_cut(i) and case_cut(j)):
                    continue
                there = count[j]
                if there is None or here + 1 < there:
                    count[j] = here + 1
                    back[j] = i
        parts_needed = count[n]
        if parts_needed is None or parts_needed < 2:
            return None
        parts: list[str] = []
        j = n
        while j > 0:
            parts.append(token[back[j] : j])
            j = back[j]
        return parts[::-1]

    def _nearest(self, key: str) -> str | None:
        """Closest Latin name within the typo distance (cached: unknown tokens repeat)."""
        cache = self._nearest_cache
        if key not in cache:
            if len(cache) > 100_000:
                cache.clear()
            cache[key] = self._nearest_uncached(key)
        return cache[key]

    def _nearest_uncached(self, key: str) -> str | None:
        limit = self.rules.typo_short if len(key) <= 8 else self.rules.typo_long
        best, best_d = None, limit + 1
        for form in self.latin_forms.get(key[0], ()):
            if abs(len(form) - len(key)) > limit or not form.isalpha():
                continue
            d = damerau(key, form, limit)
            if d < best_d:
                best, best_d = form, d
        return best if best_d <= limit else None


_CJK_OR_PUNCT = re.compile(r"[\u3400-\u9fff、，；：。（）]")


def _cjk_neighbour(text: str, start: int, end: int) -> bool:
    """A Latin token glued to Chinese text on either side."""
    return bool(
        (start > 0 and _CJK_OR_PUNCT.match(text[start - 1])) or (end < len(text) and _CJK_OR_PUNCT.match(text[end]))
    )


def _name_after(raw: str, pos: int, limit: int) -> str | None:
    r"""``re.match(r"\s*([A-Za-z][A-Za-z0-9+#]*)", raw[pos:])``'s group, or None when there is
    none or it is longer than ``limit`` (then it names no skill); reads at most ``limit`` + 1
    characters past the blanks."""
    n = len(raw)
    while pos < n and raw[pos].isspace():
        pos += 1
    if pos >= n or not (raw[pos].isascii() and raw[pos].isalpha()):
        return None
    end = pos + 1
    while end < n and raw[end] in _NAME_AFTER:
        end += 1
        if end - pos > limit:
            return None
    return raw[pos:end]


class _Clauses:
    """The comma-level clauses of one sentence (:func:`nlp.sections.clause_spans`), found by
    bisection, with each per-clause answer computed once; and the sentence's runs of Latin
    name characters, for the name listed before a one-letter language."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.spans = clause_spans(raw)
        self.starts = [a for a, _ in self.spans]
        self._answers: dict[tuple[str, int], bool] = {}
        self._runs: list[tuple[int, int, int | None]] | None = None
        self._run_starts: list[int] = []

    def answer(self, name: str, pos: int, fn) -> bool | None:
        """``fn(a, b)`` for the clause [a, b) holding ``pos`` (None when none does)."""
        i = bisect_right(self.starts, pos) - 1
        if i < 0 or pos >= self.spans[i][1]:
            return None
        key = (name, i)
        if key not in self._answers:
            self._answers[key] = fn(*self.spans[i])
        return self._answers[key]

    def name_before(self, end: int, limit: int) -> str | None:
        r"""``re.search(r"([A-Za-z][A-Za-z0-9+#.]*)\s*$", raw[:end])``'s group, or None when
        there is none or it is longer than ``limit``. That group is the run of name characters
        ending where the trailing blanks start, from the run's first letter on."""
        raw = self.raw
        k = end
        while k > 0 and raw[k - 1].isspace():
            k -= 1
        if k == 0 or raw[k - 1] not in _NAME_BEFORE:
            return None
        if self._runs is None:
            self._runs = []
            for m in re.finditer(r"[A-Za-z0-9+#.]+", raw):
                letter = re.search(r"[A-Za-z]", m.group(0))
                self._runs.append((m.start(), m.end(), m.start() + letter.start() if letter else None))
            self._run_starts = [r[0] for r in self._runs]
        i = bisect_right(self._run_starts, k - 1) - 1
        _, _, first_letter = self._runs[i]
        if first_letter is None or first_letter >= k or k - first_letter > limit:
            return None
        return raw[first_letter:k]


class _Covered:
    def __init__(self, spans: Iterable[tuple[int, int]]):
        self.spans = sorted(spans)

    def overlaps(self, a: int, b: int) -> bool:
        i = bisect.bisect_left(self.spans, (b, b))
        for s, e in self.spans[max(0, i - 8) : i]:
            if s < b and a < e:
                return True
        return False
