"""Word lists the name rules read: ordinary English words (data/common_words.txt) and words that are also
pupils' names but mostly mean something else (data/word_names.txt: timetable abbreviations, places, school
products, exam boards, Python keywords).

A roster forename or surname that is one of these is the pupil only where the context says a person (see
recognisers/roster_names.py); otherwise it is the word. Set-text characters are in data/set_texts.yaml (read with
the famous people, recognisers/persons.py).
"""
from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["common_words", "not_people", "places", "word_names"]


@cache
def common_words() -> frozenset[str]:
    """Lower-case common English words (data/common_words.txt): a capitalised one is no unknown person's name."""
    return _words("common_words.txt")


@cache
def word_names() -> frozenset[str]:
    """`common_words` and the words pupils may be named that mostly mean something else (data/word_names.txt):
    a roster name that is one of these needs a person's context."""
    return common_words() | _words("word_names.txt")


@cache
def not_people() -> frozenset[str]:
    """The words of data/word_names.txt: on its own, one of these is a place, a product, a month or code,
    whatever NER guesses ("a lesson on Kent", "a Sparx quiz")."""
    return _words("word_names.txt")


@cache
def places() -> frozenset[str]:
    """Folded names of the UK's and Ireland's towns and villages, the world's big cities and the countries
    (data/places.txt, from GeoNames)."""
    from detectors.normalise import fold

    return frozenset(fold(w) for w in _words("places.txt"))


def _words(name: str) -> frozenset[str]:
    text = resources.files("detectors").joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#"))
