"""Whole-word multi-term matching with Aho-Corasick: one pass over the text whatever the number of terms."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import ahocorasick


def lower_same_length(text: str) -> str:
    """Lower-case text without moving offsets (a few characters lower-case to two, e.g. 'İ')."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class TermMatcher:
    """Finds whole-word occurrences of many phrases; each phrase carries a payload (e.g. its subtype).

    With `case_sensitive=False` the phrases are lower-cased and `find` expects lower-cased text
    (`lower_same_length`), so offsets are those of the original text.
    """

    def __init__(self, terms: Iterable[tuple[str, object]], *, case_sensitive: bool = False) -> None:
        self.case_sensitive = case_sensitive
        self._automaton = ahocorasick.Automaton()
        for term, payload in terms:
            key = " ".join(term.split())
            key = key if case_sensitive else key.lower()
            if key:
                self._automaton.add_word(key, (len(key), key, payload))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> Iterator[tuple[int, int, str, object]]:
        """(start, end, matched phrase, payload) for each whole-word occurrence, longest first per start."""
        if self._empty:
            return
        n = len(text)
        for end_index, (length, key, payload) in self._automaton.iter(text):
            start, end = end_index - length + 1, end_index + 1
            if start > 0 and _is_word(text[start - 1]) and _is_word(key[0]):
                continue
            if end < n and _is_word(text[end]) and _is_word(key[-1]):
                continue
            yield start, end, key, payload


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"
