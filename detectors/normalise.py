"""Text normalisation that defeats simple evasions while keeping an exact map back to the original.

`clean` is what every recogniser sees: invisible characters removed, look-alike letters (Cyrillic, Greek,
fullwidth, mathematical alphanumerics…) mapped to the Latin letter they imitate, apostrophe and hyphen variants
made ASCII, digits in any form (superscript, fullwidth, mathematical, other scripts) made ASCII digits. Case and
accents are kept, so spaCy and the pattern recognisers still see natural text — except inside a word that holds a
digit: that is a code, not a name, so combining marks and accents there are dropped ("T\u03018\u03010\u0301…", an
acute stacked on every character of a UPN, reads "T80…"). `Cleaned.to_original` turns a span found in the cleaned
text back into a span of the text the user sent (covering any characters removed inside it).

`fold` is the key form used for hashing roster names: it also casefolds, strips accents, drops apostrophes,
treats every other separator as a space and collapses whitespace, so "Zoë O'Brien", "zoe obrien" and
"ZOË O’BRIEN" meet the same key.

The look-alike table comes from Unicode's confusables data (TR39) as packaged by `confusable-homoglyphs`,
restricted to single characters that imitate an ASCII letter or digit: TR39's own skeletons would also rewrite
honest Latin text ("m" -> "rn"), which would move offsets and mangle names.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Cleaned", "clean", "fold"]

# Typographic apostrophes and quotes people type (or keyboards substitute) inside names: O’Brien, D´Arcy.
_APOSTROPHES = "\u2018\u2019\u201a\u201b\u2032\u2035\u02bb\u02bc\u02bd\u02b9\u02c8\u00b4\uff07\ua78c\u05f3"
# Hyphens and dashes: Smith‑Jones typed with a non-breaking hyphen or an en dash is still Smith-Jones.
_HYPHENS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d\u00ad\u02d7\u2e3a\u2e3b"
# Invisible characters that are not Unicode format (Cf) characters but still render as nothing.
_INVISIBLE_EXTRA = "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u3164\uffa0\u2800"
# Cyrillic/Greek capital I look like Latin "I" in running text; TR39 maps them to "l", which is wrong for names.
_OVERRIDES = {"\u0406": "I", "\u0399": "I", "\u04c0": "I", "\u04cf": "l"}
# Letters that do not decompose under NFD but that people write unaccented: Søren -> soren, Łukasz -> lukasz.
_FOLD_LETTERS = str.maketrans({
    "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h", "ŧ": "t",
    "ŀ": "l", "ƒ": "f", "ĸ": "k", "ŋ": "n",
})
_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Cleaned:
    """Cleaned text plus, for each of its characters, the index of the original character it came from."""

    text: str
    original: str
    _origin: tuple[int, ...] | None = None  # None: identical offsets (nothing was removed or expanded)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the cleaned span [start, end) to the span of the original text that produced it."""
        if self._origin is None:
            return start, end
        n = len(self.text)
        if not 0 <= start <= end <= n:
            raise ValueError(f"span ({start}, {end}) outside cleaned text of length {n}")
        if start == end:
            pos = self._origin[start] if start < n else len(self.original)
            return pos, pos
        return self._origin[start], self._origin[end - 1] + 1


@cache
def _tables() -> tuple[dict[int, str], dict[int, str | None], frozenset[str]]:
    """(one-to-one translation, full translation incl. deletions/expansions, the length-changing chars)."""
    one_to_one: dict[int, str] = {}
    changes_length: dict[int, str | None] = {}

    confusables = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8")
    )

    def ascii_target(ch: str, depth: int = 0) -> str | None:
        for glyph in confusables.get(ch, ()):
            target = glyph["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                return target
        if depth == 0:  # one hop: Greek kappa -> Latin kra -> ... only if it ends on ASCII
            for glyph in confusables.get(ch, ()):
                target = glyph["c"]
                if len(target) == 1 and not target.isascii() and (hop := ascii_target(target, 1)):
                    return hop
        return None

    for ch in confusables:
        if len(ch) != 1 or ch.isascii() or not ch.isalnum():
            continue
        base = unicodedata.normalize("NFD", ch)
        if len(base) > 1 and base[0].isascii():  # an accented Latin letter: keep it, fold() strips accents
            continue
        nfkc = unicodedata.normalize("NFKC", ch)
        if nfkc.isascii() and nfkc.isalnum():
            target = nfkc  # fullwidth, mathematical and enclosed letters; long s -> s
        elif ch in _OVERRIDES:
            target = _OVERRIDES[ch]
        else:
            target = ascii_target(ch)
        if target is None:
            continue
        if len(target) == 1:
            one_to_one[ord(ch)] = target
        else:
            changes_length[ord(ch)] = target

    # Compatibility forms not listed as confusables (ligatures such as "ﬁ", squared letters) that NFKC
    # turns into plain ASCII letters.
    for block in ((0xFB00, 0xFB07), (0xFF01, 0xFF5F), (0x1D400, 0x1D800), (0x2460, 0x2500), (0x1F130, 0x1F18A)):
        for cp in range(*block):
            ch = chr(cp)
            nfkc = unicodedata.normalize("NFKC", ch)
            if nfkc.isascii() and nfkc.isalnum() and cp not in one_to_one:
                (one_to_one if len(nfkc) == 1 else changes_length)[cp] = nfkc

    # Digits in compatibility or other-script forms (superscript ¹, fullwidth １, mathematical 𝟏, Arabic-Indic
    # ١, Devanagari १…) are the digit they stand for, so "T⁸⁰¹…" cannot slip an identifier past the patterns.
    for cp in range(0x80, sys.maxunicode + 1):
        ch = chr(cp)
        if unicodedata.category(ch) not in ("Nd", "No"):
            continue
        value = unicodedata.decimal(ch, None)
        digit = str(value) if value is not None else unicodedata.normalize("NFKC", ch)
        if len(digit) == 1 and digit.isascii() and digit.isdigit():
            changes_length.pop(cp, None)
            one_to_one[cp] = digit

    for ch in _APOSTROPHES:
        one_to_one[ord(ch)] = "'"
    for ch in _HYPHENS:
        one_to_one[ord(ch)] = "-"
    one_to_one.pop(0x00AD, None)  # soft hyphen is invisible: removed below, not turned into "-"
    for cp in range(0x80, 0x3000):  # exotic spaces (NBSP, thin, ideographic…) -> plain space
        if unicodedata.category(chr(cp)) == "Zs":
            one_to_one[cp] = " "
    one_to_one[0x3000] = " "

    invisible = {cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"}
    invisible |= {ord(c) for c in _INVISIBLE_EXTRA}
    invisible |= set(range(0xFE00, 0xFE10)) | set(range(0xE0100, 0xE01F0))  # variation selectors
    for cp in invisible:
        one_to_one.pop(cp, None)
        changes_length[cp] = None

    full: dict[int, str | None] = {**one_to_one, **changes_length}
    return one_to_one, full, frozenset(map(chr, changes_length))


def clean(text: str) -> Cleaned:
    """Remove invisible characters and map look-alikes to ASCII, keeping case, accents and an offset map."""
    if text.isascii():
        return Cleaned(text, text)
    one_to_one, full, length_changing = _tables()
    if length_changing.isdisjoint(text):
        return _unmark_codes(Cleaned(_native_words(text, text.translate(one_to_one)), text))
    # Copy the runs between length-changing characters whole (C speed), so a long prompt with one zero-width
    # character costs little more than one without. NUL marks those characters, so a text holding NUL itself
    # takes the character-by-character path.
    if "\x00" in text:
        return _clean_by_character(text, full)
    marked = text.translate(_length_changing_marker())
    out: list[str] = []
    origin: list[int] = []
    run_start = 0
    pos = marked.find("\x00")
    while pos != -1:
        if pos > run_start:
            out.append(text[run_start:pos].translate(one_to_one))
            origin.extend(range(run_start, pos))
        mapped = full[ord(text[pos])]
        if mapped:
            out.append(mapped)
            origin.extend([pos] * len(mapped))
        run_start = pos + 1
        pos = marked.find("\x00", run_start)
    if run_start < len(text):
        out.append(text[run_start:].translate(one_to_one))
        origin.extend(range(run_start, len(text)))
    return _unmark_codes(Cleaned("".join(out), text, tuple(origin)))


@cache
def _length_changing_marker() -> dict[int, str]:
    return dict.fromkeys(map(ord, _tables()[2]), "\x00")


def _clean_by_character(text: str, full: dict[int, str | None]) -> Cleaned:
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        mapped = full.get(ord(ch), ch)
        if mapped is None:
            continue
        out.append(mapped)
        origin.extend([i] * len(mapped))
    return _unmark_codes(Cleaned("".join(out), text, tuple(origin)))


@cache
def _code_patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[int, str]]:
    """(any combining mark or accented Latin letter, a word of ASCII/accented letters and digits with their
    marks, precomposed accented Latin letter -> its ASCII base)."""
    marks = [cp for cp in range(0x300, sys.maxunicode + 1) if unicodedata.combining(chr(cp))]
    accented: dict[int, str] = {}
    for cp in range(0xC0, 0x10000):
        nfd = unicodedata.normalize("NFD", chr(cp))
        if len(nfd) > 1 and nfd[0].isascii() and nfd[0].isalpha() and all(map(unicodedata.combining, nfd[1:])):
            accented[cp] = nfd[0]
    mark_class, accented_class = _char_class(marks), _char_class(sorted(accented))
    trigger = re.compile(f"[{mark_class}{accented_class}]")
    word = re.compile(f"(?:[0-9A-Za-z{accented_class}][{mark_class}]*)+")
    return trigger, word, accented


def _char_class(cps: list[int]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\U{cps[i]:08x}" + (f"-\\U{cps[j]:08x}" if j > i else ""))
        i = j + 1
    return "".join(parts)


_GREEK_OR_CYRILLIC = re.compile(r"[\u0370-\u03ff\u0400-\u052f]")  # cheap test before the word pattern
_NON_LATIN_WORD = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f]*[\u0370-\u03ff\u0400-\u052f][^\W\d_]*")


def _native_words(original: str, mapped: str) -> str:
    """Words written in Cyrillic or Greek that hold a letter with no Latin look-alike ("дислексія": д, л) are
    Ukrainian, Russian or Greek, not a disguise: they keep their letters, so their own terms and names can be
    found. A word made only of look-alikes ("Тоm", "ОLIVЕR") is still mapped: that is the evasion."""
    if len(original) != len(mapped) or _GREEK_OR_CYRILLIC.search(original) is None:
        return mapped
    parts, last = [], 0
    for m in _NON_LATIN_WORD.finditer(original):
        if not any("\u0370" <= c <= "\u052f" for c in mapped[m.start():m.end()]):
            continue  # every Cyrillic or Greek letter imitates a Latin one ("Zоë" with a Cyrillic о)
        parts += [mapped[last:m.start()], m.group()]
        last = m.end()
    return "".join(parts) + mapped[last:] if parts else mapped


def _unmark_codes(cleaned: Cleaned) -> Cleaned:
    """Drop combining marks and accents inside words that contain an ASCII digit.

    A word holding a digit is a code or identifier, never a name, so an accent there can only be an evasion
    ("T\u03018\u03010\u0301…" stacks an acute on every character of a UPN). Names keep their accents, decomposed
    or not ("Zoe\u0308" stays as written). Only marks with a non-zero combining class are dropped: exactly those
    fold() strips as well, so folding a cleaned span and its original still agree."""
    text = cleaned.text
    if text.isascii():
        return cleaned
    trigger, word, accented = _code_patterns()
    if trigger.search(text) is None:
        return cleaned
    out: list[str] = []
    keep: list[int] = []  # indices of cleaned.text kept, in order
    last = 0
    for m in word.finditer(text):
        w = m.group()
        if not any(c in "0123456789" for c in w) or trigger.search(w) is None:
            continue
        out.append(text[last:m.start()])
        keep.extend(range(last, m.start()))
        for i, ch in enumerate(w, m.start()):
            if unicodedata.combining(ch):
                continue
            out.append(accented.get(ord(ch), ch))
            keep.append(i)
        last = m.end()
    if not out:
        return cleaned
    out.append(text[last:])
    keep.extend(range(last, len(text)))
    origin = cleaned._origin
    mapped = tuple(keep) if origin is None else tuple(origin[i] for i in keep)
    return Cleaned("".join(out), cleaned.original, mapped)


def fold(text: str) -> str:
    """Key form of a name: cleaned, casefolded, unaccented, apostrophes dropped, separators -> single spaces."""
    if text.isascii():  # the common case, and the hot path of roster imports
        s = text.lower()
        if s.isalpha():
            return s
    else:
        s = text
        for _ in range(3):  # casefolding and decomposing can create new look-alikes (U+0345 -> Greek iota)
            before = s
            s = clean(s).text.casefold()
            s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
            s = s.translate(_FOLD_LETTERS)
            if s.isascii():
                s = s.lower()  # decomposing may leave capitals: U+3390 SQUARE HZ -> "Hz"
                break
            if s == before:
                break
    s = s.replace("'", "").replace("`", "")  # D'Arcy, D`Arcy and Darcy are one key
    return " ".join(_SEPARATORS.split(s)).strip()
