"""PUPIL: names on the school's roster, found by hashing the prompt's words with the roster key.

The prompt's words are folded (case, accents, apostrophes) and hashed; a sorted-array lookup tells which are
parts of pupils' names. Runs of such words are then tried as full names (2-4 words, either order, "Smith,
Oliver"), and what is left as forename or surname alone. A lone name that is also an ordinary English word
("Will", "Grace", "Hall", "Page") counts only with name context: a title, a possessive, a following "said" /
"is" / "in Year 8", or spaCy tagging it as a PERSON.

The text arrives already `normalise.clean`ed (zero-width characters gone, look-alike letters mapped), so
offsets are those of the cleaned text; the engine maps them back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from detectors.normalise import fold
from detectors.roster import FORENAME, FULL_NAME, NAME_PART, SURNAME, Roster

__all__ = ["RosterNameRecognizer", "common_words"]

# A word: letters (with any combining accents), joined by inner apostrophes or hyphens: O'Brien, Smith-Jones.
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+(?:['-](?:[^\W\d_]|[\u0300-\u036f])+)*")
_TITLES = frozenset("mr mrs ms miss mx dr master sir dame lady lord prof professor mister madam mme mlle".split())
# Words that, right after a lone name, show it is being used as a person's name.
_AFTER = frozenset("""
said says asked asks told tells thinks thought wants wanted needs needed is was has had does did isnt wasnt
hasnt doesnt didnt cant wont can could should would will may might must struggles struggled struggling
finds found gets got scored scores wrote writes wrote reads read finished missed missing refused refuses
joined left arrived attends attended behaved behaves seems seemed feels felt likes loves hates enjoys
""".split())
# Words that, right before a capitalised lone name, show it is a person.
_BEFORE = frozenset("""
for with to about from and tell ask asked help helping pupil student child son daughter named called
dear hi hello thanks by sister brother cousin friend
""".split())
_YEAR_GROUP = re.compile(r"\s*(?:\(|,)?\s*(?:in\s+)?(?:year|yr|y)\s?\d{1,2}\b|\s+in\s+\d{1,2}[a-z]{1,3}\b", re.I)
_MAX_REFS = 5  # a lone "Oliver" may be many pupils: report refs only when it points to a few


@cache
def common_words() -> frozenset[str]:
    """Lower-case common English words shipped in detectors/data/common_words.txt."""
    text = resources.files("detectors").joinpath("data/common_words.txt").read_text(encoding="utf-8")
    return frozenset(w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#"))


@dataclass(slots=True)
class _Word:
    start: int
    end: int
    raw: str
    folded: str
    possessive: bool


def _strip_possessive(raw: str) -> str:
    return raw[:-2] if len(raw) > 2 and raw[-2] == "'" and raw[-1] in "sS" else raw


def _key(raw: str) -> str:
    """Folded form of one word (fast path for plain ASCII words)."""
    return raw.lower() if raw.isascii() and raw.isalpha() else fold(raw)


def _tokens(text: str, keys: dict[str, str]) -> list[_Word]:
    """Every word with its position; `keys` maps each distinct raw word to its folded form."""
    words = []
    append = words.append
    for m in _WORD.finditer(text):
        raw = m.group()
        folded = keys[raw]
        if not folded:
            continue
        start = m.start()
        if len(raw) > 2 and raw[-2] == "'" and raw[-1] in "sS":  # Oliver's
            append(_Word(start, start + len(raw) - 2, raw[:-2], folded, True))
        else:
            end = start + len(raw)
            append(_Word(start, end, raw, folded, text[end:end + 1] == "'" and raw[-1] in "sS"))  # James'
    return words


class RosterNameRecognizer(EntityRecognizer):
    """Roster names (entity PUPIL); pupil references in recognition_metadata["pupil_refs"]."""

    ENTITY = "PUPIL"

    def __init__(self, roster: Roster, supported_language: str = "en") -> None:
        self.roster = roster
        self.common = common_words()
        super().__init__(supported_entities=[self.ENTITY], name="RosterNameRecognizer",
                         supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        roster = self.roster
        # Cheap first pass: most words of most prompts are no pupil's name, so hash each distinct word once
        # and build positions only if something matched.
        keys = {raw: _key(_strip_possessive(raw)) for raw in set(_WORD.findall(text))}
        unique = list(set(keys.values()) - {""})
        if not unique:
            return []
        flags, idx = roster.lookup_folded(unique)
        if not flags.any():
            return []
        words = _tokens(text, keys)
        word_flags = {f: (int(fl), int(i)) for f, fl, i in zip(unique, flags.tolist(), idx.tolist()) if fl}
        if not word_flags:
            return []
        # A hyphenated word ("Smith-Jones" -> "smith jones") is hashed whole, so it carries SURNAME, not NAME_PART.
        part = {f for f, (fl, _) in word_flags.items() if fl & (NAME_PART | FORENAME | SURNAME)}

        results: list[RecognizerResult] = []
        covered: set[int] = set()  # indices of words already inside a match

        # Full names (and multi-word surnames) within runs of name-part words.
        grams: dict[str, list[tuple[int, int]]] = {}
        n = len(words)
        for i in range(n):
            if words[i].folded not in part:
                continue
            for j in range(i + 1, min(i + 4, n)):
                if words[j].folded not in part:
                    break
                gap = text[words[j - 1].end:words[j].start]
                if words[j - 1].possessive or not _joins(gap, first=(j == i + 1)):
                    break
                grams.setdefault(" ".join(w.folded for w in words[i:j + 1]), []).append((i, j))
        if grams:
            keys = list(grams)
            gram_flags, gram_idx = roster.lookup_folded(keys)
            hits = sorted(
                ((i, j, int(fl), int(ix)) for key, fl, ix in zip(keys, gram_flags.tolist(), gram_idx.tolist())
                 if fl & (FULL_NAME | SURNAME) for i, j in grams[key]),
                key=lambda h: (-(h[1] - h[0]), h[0]),  # longest first
            )
            for i, j, fl, ix in hits:
                span = range(i, j + 1)
                if covered.intersection(span):
                    continue
                if not fl & FULL_NAME:  # a multi-word surname alone ("van der Berg")
                    if not self._lone_name_counts(text, words, i, j, part, nlp_artifacts):
                        continue
                elif all(words[k].folded in self.common and not words[k].raw[:1].isupper() for k in span):
                    continue  # "summer hall" in lower case is not "Summer Hall"
                covered.update(span)
                kind = "full_name" if fl & FULL_NAME else "surname"
                results.append(self._result(words[i].start, words[j].end, 0.95 if fl & FULL_NAME else 0.85,
                                            kind, roster.refs_at(ix)))

        # Forename or surname alone.
        for k, w in enumerate(words):
            if k in covered:
                continue
            fl, ix = word_flags.get(w.folded, (0, 0))
            if not fl & (FORENAME | SURNAME):
                continue
            if not self._lone_name_counts(text, words, k, k, part, nlp_artifacts):
                continue
            refs = roster.refs_at(ix) if roster.members_at(ix) <= _MAX_REFS else []
            score = 0.85 if w.raw[:1].isupper() else 0.7
            results.append(self._result(w.start, w.end, score, "forename" if fl & FORENAME else "surname", refs))
        return results

    def _lone_name_counts(self, text: str, words: list[_Word], i: int, j: int, part: set[str],
                          nlp_artifacts: NlpArtifacts | None) -> bool:
        """Is words[i..j] (a forename or surname on its own) being used as a name here?"""
        first, last = words[i], words[j]
        folded = " ".join(w.folded for w in words[i:j + 1])
        prev = words[i - 1].folded if i > 0 and _joins(text[words[i - 1].end:first.start], first=True) else ""
        titled = prev in _TITLES
        if titled:
            return True
        ambiguous = folded in self.common or len(folded) <= 2
        capitalised = first.raw[:1].isupper()
        if not ambiguous:
            return True
        if not capitalised or (first.raw.isupper() and len(first.raw) > 1 and _shouting(words, i)):
            return False
        if last.possessive:
            return True
        if _is_person(nlp_artifacts, first.start, last.end):
            return True
        nxt = words[j + 1].folded if j + 1 < len(words) and words[j + 1].start - last.end <= 2 else ""
        if _in_proper_compound(text, words, i, j, part, self.common):
            return False  # "May Day", "Rose Garden Road": a capitalised phrase, not a lone name
        if nxt in _AFTER or _YEAR_GROUP.match(text, last.end):
            # "Will you" / "May I" are questions, not names: a modal after a sentence-initial name is too weak
            return not (nxt in {"will", "can", "could", "should", "would", "may", "might", "must"}
                        and _sentence_start(text, first.start))
        if prev in _BEFORE and not _sentence_start(text, first.start):
            return True
        return False

    def _result(self, start: int, end: int, score: float, kind: str, refs: list[str]) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY, start=start, end=end, score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.name, original_score=score, textual_explanation=f"roster {kind}"),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                "pupil_refs": refs,
                "roster_match": kind,
            },
        )


def _joins(gap: str, *, first: bool) -> bool:
    """Can two words separated by `gap` belong to one name? Spaces, or "Smith, Oliver" (comma after word 1)."""
    stripped = gap.strip(" \t")
    return (stripped == "" and gap != "") or (first and stripped == "," and gap.startswith(","))


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in ".!?:;\n\"'(*-•>"


def _in_proper_compound(text: str, words: list[_Word], i: int, j: int, part: set[str],
                        common: frozenset[str]) -> bool:
    """Is words[i..j] glued to a capitalised neighbour that is itself a name-like word ("May Day",
    "Grace Academy")? A capitalised common verb ("Ask Grace") does not count."""
    def name_like(w: _Word) -> bool:
        return w.raw[:1].isupper() and (w.folded in part or w.folded not in common)

    before = i > 0 and name_like(words[i - 1]) and _joins(text[words[i - 1].end:words[i].start], first=False)
    after = (j + 1 < len(words) and name_like(words[j + 1])
             and _joins(text[words[j].end:words[j + 1].start], first=False))
    return before or after


def _shouting(words: list[_Word], i: int) -> bool:
    """An all-caps word among all-caps neighbours is shouting/heading text, not a capitalised name."""
    neighbours = [w.raw for w in words[max(0, i - 2):i + 3] if w is not words[i]]
    return bool(neighbours) and all(w.isupper() for w in neighbours)


def _is_person(nlp_artifacts: NlpArtifacts | None, start: int, end: int) -> bool:
    if nlp_artifacts is None or not nlp_artifacts.entities:
        return False
    return any(e.label_ in ("PERSON", "PER") and e.start_char <= start and end <= e.end_char
               for e in nlp_artifacts.entities)
