"""Whole-word multi-term matching with Aho-Corasick: one pass over the text whatever the number of terms."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from functools import cache

import ahocorasick

STEM = "*"  # a term ending in "*" matches any word that starts with it ("autyzm*": autyzm, autyzmu, autyzmem)


def lower_same_length(text: str) -> str:
    """Lower-case text without moving offsets (a few characters lower-case to two, e.g. 'İ')."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def fold_same_length(text: str) -> str:
    """Lower-case text with accents dropped ("sănătate" -> "sanatate", "Hindŵ" -> "hindw", "tự kỷ" -> "tu ky"),
    one character for one, so offsets stay those of the original: staff type other languages with or without
    their accents."""
    return lower_same_length(text).translate(_accent_table())


def strip_accents(text: str) -> str:
    """Text with accents dropped and case kept, one character for one ("Zoë Wiśniewska" -> "Zoe Wisniewska")."""
    return text.translate(_accent_table())


@cache
def _accent_table() -> dict[int, str]:
    """Each accented Latin letter (Latin-1 to Latin Extended Additional, which holds Vietnamese) to its base."""
    table = {ord(c): b for c, b in zip("łŁđĐøØħıſ", "lLdDoOhis")}
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii() and base.isalpha():
            table[code] = base
    return table


class TermMatcher:
    """Finds whole-word occurrences of many phrases; each phrase carries a payload (e.g. its subtype). A phrase
    ending in STEM also matches longer words, and the match runs to the end of the word.

    With `case_sensitive=False` the phrases are lower-cased and `find` expects lower-cased text
    (`lower_same_length`), so offsets are those of the original text; with `folded=True` the phrases lose their
    accents too and `find` expects `fold_same_length` text.
    """

    def __init__(self, terms: Iterable[tuple[str, object]], *, case_sensitive: bool = False,
                 folded: bool = False) -> None:
        self.case_sensitive = case_sensitive
        self._automaton = ahocorasick.Automaton()
        for term, payload in terms:
            key = " ".join(term.split())
            key = key if case_sensitive else fold_same_length(key) if folded else key.lower()
            stem = key.endswith(STEM)
            key = key.rstrip(STEM)
            if key:
                self._automaton.add_word(key, (len(key), key, payload, stem))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> Iterator[tuple[int, int, str, object]]:
        """(start, end, matched phrase, payload) for each whole-word occurrence, longest first per start."""
        if self._empty:
            return
        n = len(text)
        for end_index, (length, key, payload, stem) in self._automaton.iter(text):
            start, end = end_index - length + 1, end_index + 1
            if start > 0 and _is_word(text[start - 1]) and _is_word(key[0]):
                continue
            if stem:
                while end < n and _is_word(text[end]):
                    end += 1
            elif end < n and _is_word(text[end]) and _is_word(key[-1]):
                continue
            yield start, end, key, payload


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"
