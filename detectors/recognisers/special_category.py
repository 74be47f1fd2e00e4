"""Special-category and safeguarding terms (SEN, health, mental health, ethnicity, religion, safeguarding,
looked-after, FSM, sexuality, criminal), from data/special_category/<language>.yaml: English, Welsh, and the
languages staff translate letters into.

All languages' terms are matched everywhere (a Welsh term in an English prompt still counts), without regard to
accents ("sanatate mintala" is "sănătate mintală"). Terms ending in "*" are stems for inflected languages
("autyzm*": autyzmu, autyzmem). Welsh terms also match their mutated forms ("cynllun" -> gynllun, nghynllun,
chynllun; "iselder" -> hiselder), made by rule from the radical form written in the file.

A term is a finding on its own; whether it blocks is the policy's business (only together with an identifier,
by default). Topic mentions are told apart from statements about a person:
- a term directly followed by a `generic_after` word ("ADHD awareness week", "autism training") or directly after
  a `generic_before` word ("any allergies", "a speech about knife crime") is a topic, and an animal after it
  (`animals_after`: "fostered two kittens") is no child's care;
- ambiguous words (`need_context`: "Muslim", "CP", "trans") count only with a personal context word nearby
  ("is Muslim", "CP plan", "identifies as trans");
- `exceptions` ("Great Depression", "DBS disclosure") are never findings;
- `roles` (SENCO, DSL, social worker) carry `recognition_metadata["role"]`: the engine drops them when they only
  say who someone is ("our new SENCO, Priya Shah");
- words that are only sometimes sensitive have a sense rule: `person_before` terms count only after a person
  ("Jayden went missing", not "his PE kit went missing"), `after_relative` terms only after a child's relative
  ("her dad passed away", not "Mrs Okafor, whose father passed away"), and a term followed by "from" and one of
  the subtype's `not_from` words is administration ("withdrawn from the Year 8 trip"), and followed by "about" and
  one of them an everyday worry ("anxious about her first netball match").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from presidio_analyzer import LocalRecognizer, RecognizerResult

from detectors.language import welsh_mutations
from detectors.recognisers.terms import TermMatcher, fold_same_length

ENTITY = "SPECIAL_CATEGORY"
_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
_LIST_GAP = re.compile(r"\s*(?:,|/|\band\b|\bor\b|\s)*\s*")
CONTEXT_BEFORE, CONTEXT_AFTER = 2, 3  # words around an ambiguous term that can make it about a person


@dataclass(frozen=True)
class _Term:
    subtype: str
    needs_context: bool
    role: bool = False
    sense: str | None = None  # "person_before" | "after_relative": the word before must be a person / a relative


_PHRASE_LISTS = ("generic_after", "animals_after", "generic_before", "exceptions", "terms", "need_context", "context",
                 "roles", "person_before", "after_relative", "not_from", "relatives", "person_words")
_SENSES = ("person_before", "after_relative")
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'\u2019-]*)[^\w]*$")
_NEGATED_BEFORE = re.compile(r"\b(?:not|no|never)[ \t]+(?:on[ \t]+|in[ \t]+|for[ \t]+)?$")
_NEGATED_AFTER = re.compile(r"[ \t]*\?[ \t]*no\b")
_ANIMAL_AFTER = re.compile(r"[ \t]+(?:(?:a|an|the|two|three|some|our|her|his|\d+)[ \t]+)?([^\W\d_]+)")
_FROM_CLAUSE = re.compile(r"[ \t]+(?:from|about)[ \t]+((?:[\w'\u2019-]+[ \t]+){0,3}[\w'\u2019-]+)")


@cache
def _lexicon() -> dict:
    """All languages' files merged into one lexicon: lists of the same key and subtype are joined, each phrase
    with its mutated forms where the file asks for them."""
    merged: dict = {}
    folder = resources.files("detectors").joinpath("data/special_category")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text("utf-8"))
        variants = welsh_mutations if data.get("mutations") == "welsh" else (lambda phrase: [phrase])
        for key, value in data.items():
            if isinstance(value, dict):
                into = merged.setdefault(key, {})
                for list_key, phrases in value.items():
                    into.setdefault(list_key, []).extend(_expand(list_key, phrases, variants))
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(_expand(key, value, variants))
    return merged


def _expand(key: str, phrases: list[str], variants) -> list[str]:
    if key not in _PHRASE_LISTS:  # codes are written as they are
        return list(phrases)
    return [v for phrase in phrases for v in variants(str(phrase))]


class SpecialCategoryRecognizer(LocalRecognizer):
    """One entity, SPECIAL_CATEGORY; the subtype is in `recognition_metadata["subtype"]`. A school's own extra
    terms come from the policy (`deny_terms`), matched by the engine per tool and profile."""

    SCORE = 0.8

    def __init__(self) -> None:
        super().__init__(supported_entities=[ENTITY], name="SpecialCategoryRecognizer")

    def load(self) -> None:
        lex = _lexicon()
        self.generic_after = frozenset(fold_same_length(w) for w in lex["generic_after"])
        self._animals_after = frozenset(fold_same_length(w) for w in lex.get("animals_after", ()))
        self._generic_before = {None: _ending_with(lex.get("generic_before", ()))}
        folded, exact = [], []
        self.context: dict[str, frozenset[str]] = {}
        self._not_from: dict[str, frozenset[str]] = {}
        self._person_words = frozenset(fold_same_length(w) for w in lex.get("person_words", ()))
        relatives = sorted((fold_same_length(w) for w in lex.get("relatives", ())), key=len, reverse=True)
        self._relatives = frozenset(relatives)
        self._after_relative = re.compile(r"(?:\b(?:his|her|their)|['\u2019]s)\s+(?:late\s+)?(?:"
                                          + "|".join(map(re.escape, relatives)) + r")(?:['\u2019]s)?\s+"
                                          r"(?:[\w']+\s+){0,2}$")
        for subtype, spec in lex.items():
            if not isinstance(spec, dict):
                continue
            self.context[subtype] = frozenset(fold_same_length(w) for w in spec.get("context", ()))
            self._generic_before[subtype] = _ending_with(spec.get("generic_before", ()))
            folded += [(t, _Term(subtype, False)) for t in spec.get("terms", ())]
            exact += [(t, _Term(subtype, False)) for t in spec.get("codes", ())]
            for t in spec.get("need_context", ()):
                (exact if t.isupper() else folded).append((t, _Term(subtype, True)))
            folded += [(t, _Term(subtype, False, role=True)) for t in spec.get("roles", ())]
            folded += [(t, _Term(subtype, False, sense=sense)) for sense in _SENSES for t in spec.get(sense, ())]
            self._not_from[subtype] = frozenset(fold_same_length(w) for w in spec.get("not_from", ()))
        self._folded = TermMatcher(folded + [(t + "s", term) for t, term in folded if t[-1:].isalpha() and
                                             not t.endswith("s") and not t.isupper()],  # plurals: "seizures"
                                   folded=True)
        self._exact = TermMatcher(exact, case_sensitive=True)
        self._exceptions = TermMatcher(((e, None) for e in lex["exceptions"]), folded=True)
        self._systems = frozenset(fold_same_length(w) for w in lex.get("not_people", ()))

    def analyze(self, text, entities, nlp_artifacts=None):
        lower = fold_same_length(text)
        blocked = [(s, e) for s, e, _, _ in self._exceptions.find(lower)]
        hits = sorted(list(self._folded.find(lower)) + list(self._exact.find(text)), key=lambda h: (h[0], -h[1]))
        results = []
        generic_end = -1  # "any allergies or medical conditions": the second term is general too
        for start, end, _, term in hits:
            if any(s <= start and end <= e for s, e in blocked):
                continue
            if self._generic(lower, start, end, term.subtype) or (
                    generic_end >= 0 and _LIST_GAP.fullmatch(lower, generic_end, start) is not None):
                generic_end = max(generic_end, end)
                blocked.append((start, end))  # and so is anything inside it ("conditions" in "medical conditions")
                continue
            if term.needs_context and not self._has_context(lower, start, end, term.subtype):
                continue
            if lower[end:end + 2] in ("'s", "\u2019s") and lower[start:end].rsplit(" ", 1)[-1] in self._relatives:
                continue  # "lost her dad's watch": the relative's thing, not the relative lost
            if (term.sense and not self._sense_holds(text, lower, start, term.sense)) or \
                    self._administration(lower, end, term.subtype):
                continue
            if lower[start:end] in self._systems and (_NEGATED_BEFORE.search(lower, max(0, start - 12), start)
                                                      or _NEGATED_AFTER.match(lower, end)):
                continue  # "(NOT CPOMS)", "Log for CPOMS? No - just a note": the system named to say no log
            results.append(RecognizerResult(
                ENTITY, start, end, self.SCORE,
                recognition_metadata={"subtype": term.subtype, "role": term.role,
                                      RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
            ))
        return _longest(results)

    def _generic(self, lower: str, start: int, end: int, subtype: str) -> bool:
        nxt = _WORD.match(lower, end + 1) if lower[end:end + 1] in (" ", "-") else None
        if nxt and nxt.group(0) in self.generic_after:
            return True
        if (animal := _ANIMAL_AFTER.match(lower, end)) and animal.group(1) in self._animals_after:
            return True
        window = lower[max(0, start - 30):start]
        return any(p is not None and p.search(window) for p in (self._generic_before[None],
                                                                  self._generic_before.get(subtype)))

    def _sense_holds(self, text: str, lower: str, start: int, sense: str) -> bool:
        if sense == "after_relative":
            return self._after_relative.search(lower, max(0, start - 60), start) is not None
        before = _WORD_BEFORE.search(text, max(0, start - 40), start)  # person_before
        return before is not None and (before.group(1)[0].isupper() or fold_same_length(before.group(1))
                                       in self._person_words)

    def _administration(self, lower: str, end: int, subtype: str) -> bool:
        """"withdrawn from the Year 8 trip": a "from" clause naming an activity, not a person's state."""
        clause = _FROM_CLAUSE.match(lower, end) if self._not_from.get(subtype) else None
        return clause is not None and not self._not_from[subtype].isdisjoint(clause.group(1).split())

    def _has_context(self, lower: str, start: int, end: int, subtype: str) -> bool:
        before = _WORD.findall(lower[max(0, start - 60):start])[-CONTEXT_BEFORE:]
        after = _WORD.findall(lower[end:end + 60])[:CONTEXT_AFTER]
        words = before + after
        context = self.context.get(subtype, frozenset())
        if any(w in context for w in words):
            return True
        pairs = {f"{a} {b}" for a, b in zip(words, words[1:])}  # two-word context such as "at home"
        return not context.isdisjoint(pairs)


def _ending_with(words) -> re.Pattern[str] | None:
    """A pattern for "one of these words, then the end of the text" (the words just before a term)."""
    words = sorted((fold_same_length(w) for w in words), key=len, reverse=True)
    return re.compile(r"(?:^|\W)(?:" + "|".join(map(re.escape, words)) + r")\s+$") if words else None


def _longest(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop a match contained in a longer one ("child protection" inside "child protection plan")."""
    results.sort(key=lambda r: (r.start, -(r.end - r.start)))
    kept: list[RecognizerResult] = []
    for r in results:
        if kept and r.start >= kept[-1].start and r.end <= kept[-1].end:
            continue
        kept.append(r)
    return kept


@cache
def never_people() -> frozenset[str]:
    """Folded words NER may take for a name but that are an organisation, system or special-category term here
    ("Ofsted", "MyConcern", "Kooth"): `not_people` and the one-word `terms` of every language."""
    lex = _lexicon()
    words = {fold_same_length(w) for w in lex.get("not_people", ())}
    words |= {fold_same_length(t) for spec in lex.values() if isinstance(spec, dict) for t in spec.get("terms", ())
              if " " not in t and not t.endswith("*")}
    return frozenset(words)
