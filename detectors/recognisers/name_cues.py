"""People's names (entity PERSON) in passages that are not in English, where English NER does not run
(detectors/language.py): a name after a greeting ("Annwyl Siân,"), a sign-off ("Cofion,\nSiân Evans"), a title
("Pani Kowalska") or a family or school word ("mam Siân", "disgybl Cerys", "córka Ania"). The cue words per
language are in data/language_cues.yaml; English passages have their own recognisers (recognisers/persons.py).
"""
from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml
from presidio_analyzer import LocalRecognizer, RecognizerResult

from detectors.language import foreign_spans, welsh_mutations
from detectors.recognisers.persons import _UP, TITLES

_NAME = r"(?P<name>[^\W\d_][\w'\u2019-]*(?:[ \t][^\W\d_][\w'\u2019-]*)?)"


@cache
def language_cues() -> dict[str, dict[str, list[str]]]:
    """data/language_cues.yaml, Welsh phrases with their mutated forms."""
    data = yaml.safe_load(resources.files("detectors").joinpath("data/language_cues.yaml").read_text("utf-8"))
    for key, phrases in data.get("cy", {}).items():
        data["cy"][key] = [v for p in phrases for v in welsh_mutations(str(p))]
    return data


def any_of(phrases, *, ignore_case: bool = True) -> str:
    """A regex alternation of the phrases, longest first, spaces matching any run of blanks."""
    parts = sorted({" ".join(str(p).split()) for p in phrases}, key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"[ \t]+") for p in parts)
    return f"(?i:{body})" if ignore_case else f"(?:{body})"


class CueNameRecognizer(LocalRecognizer):
    """Names that a cue word marks, in passages not in English (all cue languages at once: a Welsh sign-off
    under a Polish letter is still a sign-off)."""

    SCORE = 0.75

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="CueNameRecognizer")

    def load(self) -> None:
        foreign = [v for code, v in language_cues().items() if code != "en"]
        pick = lambda key: [p for v in foreign for p in v.get(key, ())]  # noqa: E731
        titles = rf"(?:{any_of([*TITLES, *pick('titles')], ignore_case=False)})\.?[ \t]+"
        self.greeting = re.compile(rf"(?m:^)[ \t]*{any_of(pick('greetings'))}[ \t,]+(?:{titles})?{_NAME}")
        self.sign_off = re.compile(rf"(?<![\w-]){any_of(pick('sign_offs'))}[ \t]*[,.!-]?[ \t]*\n?[ \t]*(?:{titles})?"
                                   rf"{_NAME}[ \t]*(?=[\n\"\u201d']|$)")
        self.titled = re.compile(rf"(?<![\w-]){titles}{_NAME}")
        # Titles no English word or place shares ("Sr.", "Pani", "Domnul"), read in English passages too: a Portuguese
        # greeting quoted in an English request is often too short to be judged Portuguese.
        from detectors.wordlists import places, word_names

        own = [t for t in pick("titles") if t[:1].isupper() and len(t.rstrip(".")) > 1 and t not in TITLES
               and t.lower().rstrip(".") not in word_names() and t.lower() not in places()]
        self._common = word_names()
        self.titled_anywhere = re.compile(rf"(?<![\w-]){any_of(own, ignore_case=False)}\.?[ \t]+(?=[{_UP}]){_NAME}")
        # the name must start with a capital, so "at rieni Cai" leaves "rieni Cai" to the next cue
        self.cued = re.compile(rf"(?<![\w-]){any_of(pick('before_name'))}[ \t]*[:,]?[ \t]+(?=[{_UP}]){_NAME}")
        self._not_names = frozenset(w.lower() for w in pick("not_names"))

    def analyze(self, text, entities, nlp_artifacts=None):
        spans = foreign_spans(text)
        results = []
        cued = (self.greeting, self.sign_off, self.titled, self.cued)
        for start, end, patterns in [*((s, e, cued) for s, e in spans), (0, len(text), (self.titled_anywhere,))]:
            for pattern in patterns:
                for m in pattern.finditer(text, start, end):
                    words = m.group("name").split()
                    kept = []
                    for word in words:
                        if not word[0].isupper() or word.lower() in self._not_names or (
                                word.isupper() and len(word) <= 4) or (
                                pattern is self.titled_anywhere and word.lower() in self._common):
                            break  # "Annwyl Rieni", "Siân yn", "disgybl ADY", "Sr. Principal": a name stops at a word
                        kept.append(word)
                    if pattern is self.sign_off and len(kept) < len(words):
                        continue  # a signing line is a name only if all of it is: not "Conducerea școlii"
                    if kept:
                        name_start = m.start("name")
                        results.append(RecognizerResult("PERSON", name_start, name_start + len(" ".join(kept)),
                                                        self.SCORE))
        return results
