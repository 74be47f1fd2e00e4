"""Span rules that come from a prompt's layout: lines, table cells, letter heads.

A placeholder replaces exactly the identifier. A pasted table or a letter head keeps its shape: a name found across
a line break or a cell border (tab, "|") is two values, each redacted in its own cell; and the post town standing
between an address and its postcode is a place, not a person, whatever NER guessed.
"""
from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from spacy.lang.en.stop_words import STOP_WORDS

from detectors.nlp import maybe_name
from detectors.wordlists import word_names

__all__ = ["split_at_borders", "trim_person_edges", "without_post_towns"]

_BORDER = re.compile(r"[ \t]*(?:\r?\n|\t|\|)[ \t]*")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_NAMES = ("PUPIL", "PERSON")


def split_at_borders(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Names that run across a line break or a table cell border, cut into their cells. A rostered pupil's
    pieces all stay (each is part of the pupil's name: "Smith<tab>Oliver"); a PERSON piece stays only where it
    holds a capitalised word that could be a name ("Sinéad Dumitrescu" | "Tŷ Gwyn" is a name and a house)."""
    out: list[RecognizerResult] = []
    for r in results:
        if r.entity_type not in _NAMES or _BORDER.search(text, r.start, r.end) is None:
            out.append(r)
            continue
        pos = r.start
        for border in [*_BORDER.finditer(text, r.start, r.end), None]:
            end = border.start() if border is not None else r.end
            words = list(_WORD.finditer(text, pos, end))
            if words and (r.entity_type == "PUPIL" or any(_could_be_a_name(w.group()) for w in words)):
                out.append(RecognizerResult(r.entity_type, words[0].start(), words[-1].end(), r.score,
                                            analysis_explanation=r.analysis_explanation,
                                            recognition_metadata=dict(r.recognition_metadata or {})))
            if border is not None:
                pos = border.end()
    return out


def _could_be_a_name(word: str) -> bool:
    return word[:1].isupper() and maybe_name(word, set()) and word.lower() not in word_names()


def trim_person_edges(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """NER's PERSON spans trimmed of the lower-case stop words at their ends ("the Head of" -> "Head"), and of a
    postcode they ran into ("Nottingham NG2"); dropped when no word that could be a name is left. A particle of
    a name ("de la Cruz", "ap Rhys") is no stop word and stays."""
    postcodes = [r for r in results if r.entity_type == "UK_POSTCODE"]
    out: list[RecognizerResult] = []
    for r in results:
        if r.entity_type != "PERSON":
            out.append(r)
            continue
        end = min([r.end, *(p.start for p in postcodes if r.start < p.start < r.end)])
        words = list(_WORD.finditer(text, r.start, end))
        while words and words[0].group().islower() and words[0].group() in STOP_WORDS:
            words.pop(0)
        while words and words[-1].group().islower() and words[-1].group() in STOP_WORDS:
            words.pop()
        if not words or not any(_could_be_a_name(w.group()) for w in words):
            continue
        if (words[0].start(), words[-1].end()) != (r.start, r.end):
            r = RecognizerResult(r.entity_type, words[0].start(), words[-1].end(), r.score,
                                 analysis_explanation=r.analysis_explanation,
                                 recognition_metadata=dict(r.recognition_metadata or {}))
        out.append(r)
    return out


_POSTCODE_AFTER = re.compile(r"[ \t]*,?[ \t]*(?:\r?\n[ \t]*)?")
_ADDRESS_BEFORE = re.compile(r"[ \t]*,?[ \t]*(?:\r?\n[ \t]*)?")


def without_post_towns(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop a PERSON that stands between an address and its postcode ("12 Heol y Nant, Swansea SA1 1AA"): the
    post town, which the address recogniser leaves out on purpose (see recognisers/addresses.py)."""
    addresses = [r for r in results if r.entity_type == "UK_ADDRESS"]
    postcodes = [r for r in results if r.entity_type == "UK_POSTCODE"]
    if not addresses or not postcodes:
        return results
    ends = {r.end for r in addresses}
    starts = {r.start for r in postcodes}

    def post_town(r: RecognizerResult) -> bool:
        if r.entity_type != "PERSON":
            return False
        after = _POSTCODE_AFTER.match(text, r.end)
        if after.end() not in starts:
            return False
        return any(_ADDRESS_BEFORE.fullmatch(text, e, r.start) for e in ends if e <= r.start)

    return [r for r in results if not post_town(r)]
