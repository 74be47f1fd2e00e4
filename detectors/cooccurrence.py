"""The special-category rule: does a request holding special-category terms identify someone they could be about?

It works on the whole request, not the sentence (the default policy): "Kacper starts with us on Monday. Her plan mentions
SEMH" names a child in one sentence and gives his needs in the next.
- Any identifier other than a PERSON (a rostered pupil, UPN, date of birth, address, e-mail...) identifies someone.
- A PERSON (a name not on the roster and not famous) counts when the term is in the same sentence, when the request
  talks about a pupil anywhere ("in 8B", "Year 9", "new starter", "managed move", "her brother"), or when the
  term's sentence speaks of someone ("she", "his", Welsh "ganddi") - pronouns refer back to the name.
- A name given a job in the school beside it ("Siobhan (our SENCo)") is staff, not whom the terms are about.
- A name that only greets or signs the message ("Dear Mrs Khan," / "Thanks,\nKerry") is the correspondent: it
  identifies a child only when the message makes the child theirs ("my son", "your daughter", "fy merch"). So a
  teacher signing a general question ("Any tips for a pupil with autism in my Year 9 class? Thanks, Kerry") is
  not blocked, and a parent signing about their own child is.
Topic mentions ("ADHD awareness week") never reach this rule: they are not findings (recognisers/special_category.py).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Protocol

from detectors.language import ENGLISH, passages
from detectors.recognisers.name_cues import any_of, language_cues
from detectors.recognisers.persons import SignOffNameRecognizer, TITLES
from detectors.recognisers.roles import staff_beside

CLASS_CODE = re.compile(r"\b(?:[1-9]|1[0-3])[A-Z]{1,3}\d?\b")  # 8B, 10XY2 (case-sensitive)
_YEAR_GROUP = re.compile(r"\b(?:year\s?\d{1,2}|yr\s?\d{1,2}|y\d{1,2}|ks[1-5]|key stage)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?\n]")
_AFTER_GREETED_NAME = re.compile(r"[ \t]*(?:[,!:\n]|$)")


class Span(Protocol):
    entity: str
    start: int
    end: int
    index: int


def identifies_someone(texts: Sequence[str], identifiers: Sequence[Span], specials: Sequence[Span],
                       counted_entities: Sequence[str]) -> bool:
    """Do these identifiers (those of `counted_entities`) identify someone the special-category terms may be
    about? `texts` are the request's texts; every span has the index of its text and offsets into it."""
    counted = [f for f in identifiers if f.entity in counted_entities]
    if any(f.entity != "PERSON" for f in counted):
        return True
    persons = [p for p in counted if p.entity == "PERSON"]
    if not persons:
        return False
    subjects = [p for p in persons if not _correspondent(texts[p.index], p)
                and not staff_beside(texts[p.index], p.start, p.end)]  # "Ask Siobhan (SENCo) about ..."
    if len(subjects) < len(persons) and any(_family().search(t) for t in texts):
        return True  # "my son" under a parent's name, "your daughter" after "Dear Mrs Khan"
    if not subjects:
        return False
    if any(_about_a_pupil(t) for t in texts):
        return True
    for s in specials:
        text = texts[s.index]
        if any(p.index == s.index and _same_sentence(text, p, s) for p in subjects):
            return True
        if _speaks_of_someone(text, s):
            return True
    return False


def _correspondent(text: str, person: Span) -> bool:
    """Is this name only the greeting's or the sign-off's ("Dear Mrs Khan," / "Kind regards,\nKerry Doyle")?"""
    line_start = text.rfind("\n", 0, person.start) + 1
    if _greeting_before().fullmatch(text, line_start, person.start) and _AFTER_GREETED_NAME.match(text, person.end):
        return True
    window = max(0, line_start - 80)
    return any(m.start("name") <= person.start and person.end <= m.end("name")
               for pattern in _sign_offs() for m in pattern.finditer(text, window, min(len(text), person.end + 80)))


def _about_a_pupil(text: str) -> bool:
    """"in 8B", "Year 9", "new starter", "her brother": English words anywhere, other languages' in their passages."""
    if CLASS_CODE.search(text) or _YEAR_GROUP.search(text) or _pupil_words(ENGLISH).search(text):
        return True
    return any(_pupil_words(p.language).search(text, p.start, p.end) for p in passages(text)
               if p.language != ENGLISH and p.language in language_cues())


def _speaks_of_someone(text: str, special: Span) -> bool:
    """Does the sentence holding the term have a third-person pronoun of its passage's language?"""
    start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, special.start)), default=0)
    end_match = _SENTENCE_END.search(text, special.end)
    end = end_match.start() if end_match else len(text)
    language = next((p.language for p in passages(text) if p.start <= special.start < p.end), ENGLISH)
    return bool(_pronouns(language).search(text, start, end))


def _same_sentence(text: str, a: Span, b: Span) -> bool:
    lo, hi = sorted((a, b), key=lambda f: f.start)
    return not _SENTENCE_END.search(text, lo.end, hi.start) if hi.start >= lo.end else True


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){pattern}(?![\w-])")  # "your daughter's" is "your daughter"


@cache
def _pronouns(language: str) -> re.Pattern[str]:
    return _words(any_of(language_cues().get(language, language_cues()[ENGLISH])["pronouns"]))


@cache
def _pupil_words(language: str) -> re.Pattern[str]:
    return _words(any_of(language_cues()[language].get("pupil_words", ())))


@cache
def _family() -> re.Pattern[str]:
    return _words(any_of([p for cues in language_cues().values()
                          for p in (*cues.get("writer_family", ()), *cues.get("reader_family", ()))]))


@cache
def _greeting_before() -> re.Pattern[str]:
    """A line's start up to a greeted name: "Dear ", "Hi Mrs ", "Annwyl Mr "."""
    greetings = [g for cues in language_cues().values() for g in cues.get("greetings", ())]
    titles = [*TITLES, *(t for cues in language_cues().values() for t in cues.get("titles", ()))]
    return re.compile(rf"[ \t]*{any_of(greetings)}[ \t,]+(?:{any_of(titles, ignore_case=False)}\.?[ \t]+)?"
                      r"(?:[A-Z][\w'-]*[ \t]+)?")


@cache
def _sign_offs() -> tuple[re.Pattern[str], ...]:
    from detectors.recognisers.name_cues import CueNameRecognizer

    foreign = CueNameRecognizer()
    return SignOffNameRecognizer.AFTER_CUE, foreign.sign_off


# Initials written as a pupil's stand-in: "T.R.", "T. R.", "T.R", and two capitals before a class ("TR in 8C",
# "TR (8C)"). Dotted abbreviations that are not people (U.K., P.E., a.m., e.g.) are left out.
_INITIALS = re.compile(
    r"(?<![\w.])(?P<dotted>[A-Z]\.[ ]?[A-Z](?:\.[ ]?[A-Z])?)\.?(?![\w])"
    r"|(?<![\w.])[A-Z]{2}(?= (?:in|from) (?:[1-9]|1[0-3])[A-Z]{1,3}\d?\b| ?\((?:[1-9]|1[0-3])[A-Z]{1,3}\d?\))")
_NOT_INITIALS = frozenset("uk us usa am pm bc ad re pe dt it nb ps eg ie rs ta gp ot qed ce bce".split())
# A registration group counts when its sentence is about one child: "a girl in 8C ... support her".
_ONE_CHILD = re.compile(r"\b(?i:a|one|this|that)\s+(?i:pupil|student|child|boy|girl|learner|young person)\b")
_SENTENCE_BREAK = re.compile(r"[.!?](?=\s+[A-Z][a-z]|\s*$)|\n")  # not the dots of "T.R."


def initials_or_group_beside(texts: Sequence[str], specials: Sequence[Span]) -> bool:
    """The `special_with_initials` rule: initials ("T.R. in 8C has anorexia", "TR (9K) self-harming") in the
    sentence of a special-category term, or a registration group there with words about one child ("a girl in 8C
    has anorexia; how do I support her?"). In a school, initials and a class identify a child to anyone who knows
    the class; a class alone ("8C's SEN register review") does not."""
    for s in specials:
        text = texts[s.index]
        lo = max((m.end() for m in _SENTENCE_BREAK.finditer(text, 0, s.start)), default=0)
        hi = m.start() if (m := _SENTENCE_BREAK.search(text, s.end)) else len(text)
        for m in _INITIALS.finditer(text, lo, hi):
            letters = (m.group("dotted") or m.group()).replace(".", "").replace(" ", "")
            if letters.lower() not in _NOT_INITIALS:
                return True
        if CLASS_CODE.search(text, lo, hi) and (
                _ONE_CHILD.search(text, lo, hi) or _pronouns(ENGLISH).search(text, lo, hi)):
            return True
    return False
