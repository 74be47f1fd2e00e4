"""Ingest does not take a proxy's word for it: every excerpt is scanned again on arrival.

A proxy only ever sends excerpts with placeholders ([PUPIL_1], [UPN_1]…). One that still holds an identifier — a
buggy, old or compromised proxy, or anyone holding a proxy token — must not put it in the DPO's log: the excerpt is
stored as placeholders only, the event gains the reason `excerpt_withheld`, and the DPO gets an alert.

The re-check uses detectors' cheap recognisers, without spaCy (ingest must keep ≥ 2,000 events/s; see
bench/admin_bench.py): UPN, ULN and UCI with their check characters, NHS and NI numbers, e-mail addresses, UK phone
numbers and postcodes, dates of birth, titled and initialled names ("Mrs Okafor", "J. Smith"), names marked by
pupil context ("Jayden in 8B") next to special-category terms, and names on the school's hashed roster — with the
policy's score threshold and allow terms, and well-known people left alone as the engine does. An unrostered name
with no such cue ("Jayden has ADHD") needs NER and is not caught here; the proxy's engine is the first line.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import NhsRecognizer, UkNinoRecognizer

from detectors.normalise import clean, fold
from detectors.entities import placeholder_prefix
from detectors.placeholders import PLACEHOLDER_RE
from detectors.policy import Policy, Rules, load_policy
from detectors.recognisers.contact import OfflineEmailRecognizer, UkPhoneRecognizer, UkPostcodeRecognizer
from detectors.recognisers.dates import DateOfBirthRecognizer
from detectors.recognisers.persons import (
    TITLES, InitialledNameRecognizer, PublicFigureRecognizer, PupilContextNameRecognizer, TitledNameRecognizer,
    famous_folded, named_for_their_work,
)
from detectors.recognisers.roster_names import RosterNameRecognizer
from detectors.recognisers.special_category import SpecialCategoryRecognizer
from detectors.recognisers.uk_ids import UciRecognizer, UlnRecognizer, UpnRecognizer
from detectors.roster import Roster

WITHHELD_REASON = "excerpt_withheld"
WITHHELD_NOTE = "Excerpt withheld: it still held "
NAMES = ("PUPIL", "PERSON")


@dataclass
class Verdict:
    identifiers: Counter[str] = field(default_factory=Counter)  # entity type -> how many in the excerpt
    special: set[str] = field(default_factory=set)               # special-category subtypes alongside them
    pupil_refs: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.identifiers

    def placeholder_excerpt(self) -> str:
        """What is stored instead: a fixed note and one placeholder per identifier found, nothing of the text."""
        placeholders = [f"[{placeholder_prefix(entity)}_{n}]" for entity, count in sorted(self.identifiers.items())
                        for n in range(1, count + 1)]
        return WITHHELD_NOTE + " ".join(placeholders)


@cache
def _special() -> SpecialCategoryRecognizer:
    return SpecialCategoryRecognizer()


_WORD = re.compile(r"[a-z]+")
_DIGIT = re.compile(r"\d")
_INITIAL = re.compile(r"[A-Z]\.")
_DIGIT_RUN = re.compile(r"\d(?:[ .()+-]?\d){5}")  # UPN, ULN, UCI, NHS and NI numbers, phone numbers: 6+ digits
_POSTCODE = re.compile(r"[A-Za-z]\d")
_DATE = re.compile(r"(?:19|20)\d\d|\d[/.-]\d")
_YEAR_OR_CLASS = re.compile(r"(?i:year|yr|y)\s?\d|\d[A-Z]")  # "Jayden (Y9)", "Jayden in 8B"


class _Shape:
    """What an excerpt has, each found in one cheap pass when first asked: a recogniser runs only on text that could
    hold its match (most excerpts are words and placeholders, and skip them all)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.digits = _DIGIT.search(text) is not None

    def has(self, pattern: re.Pattern[str]) -> bool:
        return self.digits and pattern.search(self.text) is not None

    @cached_property
    def words(self) -> frozenset[str]:  # lower-case
        return frozenset(_WORD.findall(self.text.lower()))

    @cached_property
    def special(self) -> frozenset[str]:  # special-category subtypes
        return frozenset((r.recognition_metadata or {}).get("subtype", "") for r in _special().analyze(self.text, []))


@cache
def _recognisers() -> tuple[tuple[Callable[[_Shape], bool], tuple[EntityRecognizer, ...]], ...]:
    titles = frozenset(t.lower() for t in TITLES)
    # the words PupilContextNameRecognizer reads before a name ("pupil", "mum", "SENCO"…)
    cues = frozenset(w.lower() for w in re.search(r"\(\?i:([^)]*)\)", PupilContextNameRecognizer.BEFORE.pattern)
                     .group(1).split("|"))
    return (
        (lambda s: s.has(_DIGIT_RUN), (UpnRecognizer(), UlnRecognizer(), UciRecognizer(), NhsRecognizer(),
                                       UkNinoRecognizer(), UkPhoneRecognizer())),
        (lambda s: s.has(_POSTCODE), (UkPostcodeRecognizer(),)),
        (lambda s: s.has(_DATE), (DateOfBirthRecognizer(),)),
        (lambda s: "@" in s.text, (OfflineEmailRecognizer(),)),
        (lambda s: not titles.isdisjoint(s.words), (TitledNameRecognizer(),)),
        (lambda s: _INITIAL.search(s.text) is not None, (InitialledNameRecognizer(),)),
        # a name only its context marks ("Jayden in 8B"): the slowest check, so only where it matters most — next
        # to special-category information
        (lambda s: (s.has(_YEAR_OR_CLASS) or not cues.isdisjoint(s.words)) and bool(s.special),
         (PupilContextNameRecognizer(),)),
    )


@cache
def _famous() -> PublicFigureRecognizer:
    return PublicFigureRecognizer()


@lru_cache(maxsize=4)
def _roster_recogniser(roster: Roster) -> RosterNameRecognizer:
    return RosterNameRecognizer(roster)


@lru_cache(maxsize=4)
def policy_from(text: str | None) -> Policy:
    return load_policy(text)


def check_excerpt(excerpt: str, rules: Rules, roster: Roster | None) -> Verdict:
    """Identifiers left in an excerpt (types and counts only; offsets and values stay here)."""
    verdict = Verdict()
    if not excerpt.strip():
        return verdict
    # placeholders blanked out (same length): their digits and capitals must not open a gate or make a match
    text = PLACEHOLDER_RE.sub(lambda m: " " * len(m.group()), clean(excerpt).text)
    results: list[RecognizerResult] = []
    shape = _Shape(text)
    for gate, recognisers in _recognisers():
        if gate(shape):
            for recogniser in recognisers:
                results += recogniser.analyze(text, recogniser.supported_entities)
    if roster is not None:
        results += _roster_recogniser(roster).analyze(text, [RosterNameRecognizer.ENTITY])
    if not results:
        return verdict
    famous = [(r.start, r.end) for r in _famous().analyze(text, [PublicFigureRecognizer.ENTITY])
              ] if any(r.entity_type in NAMES for r in results) else []
    taken: list[tuple[int, int]] = []
    for r in sorted(results, key=lambda r: (r.start, -(r.end - r.start))):
        value = text[r.start:r.end].strip()
        if (r.score < rules.score_threshold or not value or fold(value) in rules.allowed_values
                or _overlaps(r, taken)):
            continue
        if r.entity_type in NAMES and (_overlaps(r, famous) or fold(value) in famous_folded()
                                       or named_for_their_work(text, r.start, r.end)):
            continue
        taken.append((r.start, r.end))
        verdict.identifiers[r.entity_type] += 1
        verdict.pupil_refs += (r.recognition_metadata or {}).get("pupil_refs", ())
    if verdict.identifiers:
        verdict.special = set(shape.special & set(rules.special_subtypes))
    return verdict


def _overlaps(r: RecognizerResult, spans: list[tuple[int, int]]) -> bool:
    return any(s < r.end and r.start < e for s, e in spans)
