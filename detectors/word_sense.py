"""Is a roster name that is also a word the pupil here, or the word? The sense rules the name recogniser reads.

A roster forename or surname that is also a place, a product, a month or weekday, or an ordinary word of the
passage's language ("Kent", "Sparx", "June", "Thu"; in Welsh "Haf", "Eira", "Seren") is the pupil only where the
context says a person: a title, a verb a person does, a relative or a person word before it, a year group, a
surname initial. A preposition is not enough for these words ("a trip to Lincoln", "a brochure for Kent", "from
June"), nor is a possessive, unless a person's thing follows ("Kent's mum", not "Chester's Roman walls").

Three kinds of sense word:
- words that mostly mean something else (data/word_names.txt: places, products, exam boards, code), and every
  month and weekday with its abbreviation;
- a month or weekday used as a date: next to a number ("Thu 6-8", "14 Jan"), or beside another one ("Jan to
  June", "Sun/Sat", "Thu is INSET; Fri we're back"): never a name;
- in a passage not in English (detectors/language.py), that language's ordinary words that are also names
  (data/word_names_cy.txt: Welsh first) and any word written in lower case: English's list of ordinary words
  cannot tell a Welsh word from a name.
"""
from __future__ import annotations

import re
from functools import cache
from importlib import resources

from detectors.language import ENGLISH, passages, welsh_mutations

__all__ = ["CALENDAR", "date_here", "english_ordinary", "language_at", "ordinary_in_language", "person_word_before",
           "sense_word"]

CALENDAR = frozenset("""
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed weds thu thur thurs fri sat sun
""".split())
# Between two calendar words of one date phrase: "Jan to June", "Sun/Sat", "Mon, Tue", "Thu is INSET; Fri".
_DATE_NEIGHBOUR = re.compile(r"[ \t]*(?:[/,&–—-]|to|and|or|till|until)?[ \t]*(?:the[ \t]+)?(?:\d|[A-Za-z]+)")
_DIGIT_BESIDE = re.compile(r"(?:\d{1,4}(?:st|nd|rd|th)?[ \t]*(?:of[ \t]+)?|\d[ \t]*[-–][ \t]*)$")
_WORDS = re.compile(r"[A-Za-z]+")


def date_here(text: str, start: int, end: int) -> bool:
    """Is the calendar word text[start:end] a date: a number beside it, or another calendar word in its line
    ("Thu 6-8", "14 Jan", "May 4", "Jan to June", "Sun/Sat", "Thu is INSET; Fri we're back")?"""
    if text[start:end].lower() not in CALENDAR:
        return False
    if _DIGIT_BESIDE.search(text, max(0, start - 12), start):
        return True
    after = _DATE_NEIGHBOUR.match(text, end)
    if after and after.group(0)[-1:].isdigit():
        return True
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    others = [m for m in _WORDS.finditer(text, line_start, line_end)
              if m.start() != start and m.group(0).lower() in CALENDAR and m.group(0)[:1].isupper()]
    return bool(others)


@cache
def _word_names_cy() -> frozenset[str]:
    text = resources.files("detectors").joinpath("data", "word_names_cy.txt").read_text(encoding="utf-8")
    words = [w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#")]
    from detectors.normalise import fold

    return frozenset(fold(form) for w in words for form in welsh_mutations(w))


_LANGUAGE_WORDS = {"cy": _word_names_cy}


def language_at(text: str, pos: int) -> str:
    """The language of the passage holding offset `pos` ("en" where none does)."""
    for p in passages(text):
        if p.start <= pos < p.end:
            return p.language
    return ENGLISH


def ordinary_in_language(folded: str, raw: str, language: str) -> bool:
    """Is this word an ordinary word of a passage in `language` (not English)? Any word in lower case is (the
    English list of ordinary words cannot judge a Welsh or Polish word), and so are the language's own words that
    are also names (data/word_names_cy.txt)."""
    if language == ENGLISH:
        return False
    if raw[:1].islower():
        return True
    words = _LANGUAGE_WORDS.get(language)
    return words is not None and folded in words()


# English inflections and British spellings the list of ordinary words (base forms, US spelling) leaves out:
# "miles", "favour", "centres".
_ENDINGS = (("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("our", "or"),
            ("ours", "ors"), ("re", "er"), ("res", "ers"), ("ise", "ize"), ("ised", "ized"), ("ising", "izing"))


def english_ordinary(word: str, common: frozenset[str]) -> bool:
    """An ordinary English word, inflected or in British spelling ("miles", "favour")."""
    return word in common or any(word.endswith(end) and len(word) > len(end) + 1
                                 and word[:-len(end)] + add in common for end, add in _ENDINGS)


def sense_word(folded: str, not_people: frozenset[str]) -> bool:
    """A word that mostly means something else (place, product, month, code): a name only in a person's context."""
    return folded in not_people or folded in CALENDAR


@cache
def _person_words_before() -> frozenset[str]:
    """Words of the other languages that, right before a name, say a person: greetings, relatives and pupil words
    (data/language_cues.yaml), and the Welsh verbs and prepositions a subject or person follows ("Mae Haf yn",
    "gan Eira", "ynglŷn â Seren")."""
    from detectors.normalise import fold
    from detectors.recognisers.name_cues import language_cues

    words = {fold(w) for code, cues in language_cues().items() if code != ENGLISH
             for key in ("greetings", "before_name") for phrase in cues.get(key, ()) for w in phrase.split()[-1:]}
    words |= {fold(w) for w in "mae roedd oedd bydd fydd mi gan â ag efo gyda ynglŷn llongyfarchiadau".split()}
    return frozenset(words)


def person_word_before(folded_before: str) -> bool:
    return folded_before in _person_words_before()


# The last word of a place's name: NER reads "Mill Lane", "Nightingale Lane", "St David's Hall" as people.
_PLACE_ENDS = frozenset("""
lane road street avenue close drive way hall park square place court crescent terrace gardens grove hill row walk
mews bay bridge cathedral abbey castle church chapel museum zoo harbour quay beach centre center library station
academy school college university primary high theatre stadium
""".split())
_SAINT_OR_ROYAL = frozenset("st st. saint santa queen king prince princess".split())
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_PERSON_NEXT = re.compile(r"(?:['\u2019]s\b|[ \t]+(?:is|was|has|had|said|says|will|can|did|does|and|told|asked|got|"
                          r"needs|wants|went|came|left|joined|scored|struggles|struggled|isn't|wasn't|doesn't|"
                          r"didn't|[A-Z]\.?(?![\w])))")
_PERSON_PREV = re.compile(r"(?:\b(?:mr|mrs|ms|miss|mx|dr|dear|hi|hello|thanks|ask|tell|with|for|to|from|by|"
                          r"pupil|student|child|son|daughter|sister|brother|cousin|friend|named|called|aka|"
                          r"and|mum|dad)\.?[ \t]+)$", re.IGNORECASE)


def ner_thing_not_person(text: str, start: int, end: int, common: frozenset[str], not_people: frozenset[str]) -> bool:
    """Is NER's PERSON text[start:end] a thing: a product, exam board or school subject in it ("Hegarty Maths",
    "Pearson Edexcel"), a place's name ("Mill Lane", "St David"), or one ordinary English word with nothing
    around it that says a person ("Sun, Moon and stars", "Welsh" in a timetable, "'Follower'", "Jordan:")?"""
    from detectors.normalise import fold
    from detectors.recognisers.persons import SCHOOL_WORDS

    words = [fold(w) for w in _TOKEN.findall(text[start:end])]
    if not words:
        return False
    if any(w in not_people or w in SCHOOL_WORDS for w in words):
        return True
    if len(words) > 1 and (words[-1] in _PLACE_ENDS or words[0] in _SAINT_OR_ROYAL):
        return True
    if len(words) == 1 and english_ordinary(words[0], common):
        return not (_PERSON_NEXT.match(text, end) or _PERSON_PREV.search(text, max(0, start - 12), start))
    return False
