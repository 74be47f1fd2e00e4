"""People's names (entity PERSON): spaCy NER, titled names ("Mrs Okafor"), names with initials ("J. Smith"),
names marked by pupil context ("Jayden in 8B") and names signing a message ("Thanks, Kerry"); and the
gazetteer of well-known people (PUBLIC_FIGURE) who are never redacted.
"""
from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml
from presidio_analyzer import EntityRecognizer, LocalRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from detectors.language import in_foreign_passage
from detectors.normalise import fold
from detectors.placeholders import PLACEHOLDER_RE
from detectors.recognisers.terms import TermMatcher, lower_same_length
from detectors.word_sense import ORGANISATION_FIRST
from detectors.wordlists import not_people

TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Sir", "Dame", "Lady", "Lord", "Rev", "Revd")
# Words spaCy sometimes folds into a PERSON span but that are not part of the name.
_LEADING_NOISE = {"dear", "hi", "hello", "hey", "to", "from", "thanks", "thank", "cc", "dearest", "regards",
                  "summarise", "summarize", "explain", "describe", "compare", "write", "ask", "tell", "email",
                  "ring", "call", "contact", "invite", "remind", "congratulate", "annwyl", *map(str.lower, TITLES)}
# A capitalised name word, also ALL CAPS, with apostrophes and hyphens: O'Brien, Smith-Jones, MCDONALD.
# Letters beyond ASCII (Ruairí, Llŷr, Zoë, Łukasz): Latin-1 and Latin Extended-A (whose range mixes both cases).
_UP, _LO = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u017e", "a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u017f"
_NAME_WORD = rf"[{_UP}](?:[{_LO}]+|[{_UP}]+)?(?:['-][{_UP}][{_UP}{_LO}]+)*(?:[{_UP}][{_LO}]+)?"
_TITLE = r"(?:" + "|".join(TITLES + tuple(t.upper() for t in TITLES)) + r")"
# Capitalised school words that sit where a name would ("Maths in Year 9", "Set 3 (Y8)").
SCHOOL_WORDS = frozenset("""
maths math english science history geography french spanish german latin art music drama computing biology
chemistry physics re pe pshe rse citizenship reading writing phonics spelling dt ict technology economics
business psychology sociology media dance sport set group class form room block term week lesson lessons
year years reception nursery sixth month report notes candidate certificate grade learning coding
eng lit lang sci geog hist fr sp ger comp bio chem phys mus psych soc econ bus rs tech food textiles
welsh cymraeg cym hum mfl spa fre ma sgil ppa
""".split())  # with the short forms timetables use ("7R Eng", "12 Lit", "Cym", "Hum")
# Shouted school abbreviations, such as a spreadsheet's header row "NAME  ULN  DOB  SEN": never a name.
SCHOOL_ACRONYMS = frozenset("""
uln upn uci dob sen send senco sendco eal fsm pp ehcp cla lac cin cp gcse sats nhs ni dsl ta hlta ks1 ks2 ks3 ks4
ks5 mis sims tbc n/a ppa inset cpd slt smt nqt ect
""".split())


def _not_stop(word: str) -> bool:
    return word.lower().strip("'-") not in STOP_WORDS


class TitledNameRecognizer(LocalRecognizer):
    """A title followed by a name: "Mrs Okafor", "Mr J. Smith", "Dr Patel", "MISS O'BRIEN". The span is the
    name only, so the title stays readable ("Dear Mrs [PERSON_1]") and "Okafor" alone meets the same placeholder."""

    PATTERN = re.compile(
        rf"(?<![\w-]){_TITLE}\.?\s+(?P<name>(?:[A-Z]\.\s?){{0,3}}(?P<w1>{_NAME_WORD})(?:[ -](?P<w2>{_NAME_WORD}))?)(?![\w-])"
    )
    SCORE = 0.85

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="TitledNameRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for m in self.PATTERN.finditer(text):
            if len(m.group("w1")) < 2 or not _not_stop(m.group("w1")):
                continue
            end = m.end("name")
            if m.group("w2") and not _not_stop(m.group("w2")):
                end = m.end("w1")
            results.append(RecognizerResult("PERSON", m.start("name"), end, self.SCORE))
        return results


class InitialledNameRecognizer(LocalRecognizer):
    """Names written with initials, which NER tends to miss: "J. Smith", "O.J. Smith", "Oliver J. Smith"."""

    PATTERN = re.compile(
        rf"(?<![\w.])(?:[A-Z]\.\s?){{1,3}}(?P<w>{_NAME_WORD})(?![\w-])"
        rf"|(?<![\w.])[A-Z][a-z]+\s(?:[A-Z]\.\s?){{1,2}}(?P<v>{_NAME_WORD})(?![\w-])"
    )
    SCORE = 0.7

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="InitialledNameRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for m in self.PATTERN.finditer(text):
            word = m.group("w") or m.group("v")
            if len(word) >= 2 and _not_stop(word):
                results.append(RecognizerResult("PERSON", m.start(), m.end(), self.SCORE))
        return results


class PupilContextNameRecognizer(LocalRecognizer):
    """A capitalised name that its context marks as a pupil, which NER often misses in short prompts:
    "Jayden in 8B", "Jayden (Y9)", "Jayden, Year 10,", "my pupil Jayden", "a student called Jayden Ross"."""

    _NAME = rf"(?P<name>{_NAME_WORD}(?: {_NAME_WORD})?)"
    AFTER = re.compile(
        rf"(?<![\w-]){_NAME}(?:'s)?\s?[(,]?\s?(?:(?i:in|from|into|joining|joins|moving to|starting in)\s)?"
        r"\b(?:(?i:year|yr|y)\s?\d{1,2}\b|(?:[1-9]|1[0-3])[A-Z]{1,3}\d?\b)"
    )
    # (family words before a name are roles.RoleBeforeNameRecognizer's, from data/people_roles.yaml)
    BEFORE = re.compile(
        r"\b(?i:pupil|student|learner|child|boy|girl|called|named|name|colleague|teacher|headteacher|head|deputy|"
        r"governor|tutor|coach|SENCO|SENDCo|TA|DSL)"
        rf"(?:'s)?\s?[:,]?\s+(?:{_TITLE}\.?\s+)?{_NAME}(?![\w-])"
    )
    SCORE = 0.75

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="PupilContextNameRecognizer")

    def load(self) -> None:
        from detectors.recognisers.roster_names import common_words

        self._common = common_words()

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for pattern in (self.AFTER, self.BEFORE):
            for m in pattern.finditer(text):
                words = m.group("name").split(" ")
                if len(words) > 1 and (not _not_stop(words[1]) or words[1].lower() in SCHOOL_WORDS):
                    words.pop()
                first = words[0].lower()
                if first not in self._common and first not in SCHOOL_WORDS and first not in SCHOOL_ACRONYMS \
                        and _not_stop(first) and fold(first) not in ORGANISATION_FIRST:  # "Headteacher, Ysgol y Graig"
                    start = m.start("name")
                    results.append(RecognizerResult("PERSON", start, start + len(" ".join(words)), self.SCORE))
        return results


class SignOffNameRecognizer(LocalRecognizer):
    """The name that signs a message, which NER often misses because nothing around it is a sentence:
    "Thanks, Kerry", "Kind regards,\nAbena Mensah", and a lone name closing a quoted message ('... in Year 8? Abena"')."""

    _CUE = r"(?i:thanks|thank you|many thanks|thanks again|regards|kind regards|best regards|warm regards|best wishes|" \
           r"best|cheers|love|sincerely|yours sincerely|yours faithfully|yours|from)"
    AFTER_CUE = re.compile(rf"(?<![\w-]){_CUE}[ \t]*[,.!-]?[ \t]*\n?[ \t]*(?P<name>{_NAME_WORD}(?: {_NAME_WORD})?)"
                           r"[ \t]*(?=[\n\"\u201d]|'(?!s\b)|$)")  # a closing quote, not "from St Joseph's"
    CLOSING = re.compile(rf"[.?!][ \t]+(?P<name>{_NAME_WORD}(?: {_NAME_WORD})?)[ \t]*(?=[\"\u201d]|\n|$)")
    SCORE = 0.7

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="SignOffNameRecognizer")

    def load(self) -> None:
        from detectors.recognisers.roster_names import common_words

        self._common = common_words()

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for pattern, ordinary in ((self.AFTER_CUE, self.NOT_SIGNERS), (self.CLOSING, self._common)):
            for m in pattern.finditer(text):
                words = m.group("name").split(" ")
                if any(w.lower() in ordinary or w.lower() in SCHOOL_WORDS or not _not_stop(w) for w in words) or (
                        pattern is self.CLOSING and in_foreign_passage(text, m.start())):  # English words only
                    continue  # "Thanks, Everyone"; a closing "... Great": not a name
                results.append(RecognizerResult("PERSON", m.start("name"), m.end("name"), self.SCORE))
        return results

    # After "Thanks," a capitalised word is a name (Kerry, Grace) unless it is one of these.
    NOT_SIGNERS = frozenset("""everyone everybody all team again you mum dad both guys folks staff parents family
    office admin school sir miss madam teacher""".split())


class NerPersonRecognizer(LocalRecognizer):
    """PERSON spans from spaCy's NER, trimmed of greetings, titles and possessives, without the noise NER is
    known for (numbers, lower-case words, our own placeholders)."""

    SCORE = 0.85

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="NerPersonRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        if nlp_artifacts is None:
            return []
        results = []
        for ent in nlp_artifacts.entities:
            if ent.label_ != "PERSON":
                continue
            tokens = list(ent)
            breaks = [i for i, t in enumerate(tokens) if "\n" in t.text]
            if breaks:  # a name ends at its line: "Rachel Hargreaves\nHead of English" in a signature
                tokens = tokens[:breaks[0]] or tokens[breaks[-1] + 1:]
            while tokens and (tokens[0].lower_.rstrip(".") in _LEADING_NOISE or not tokens[0].text[:1].isalpha()):
                tokens.pop(0)
            mixed_case = any(not t.text.isupper() for t in tokens)
            while tokens and (tokens[-1].lower_ in ("'s", "'", "s") or not tokens[-1].text[-1:].isalpha()
                              or (mixed_case and tokens[-1].text.isupper() and len(tokens[-1]) > 1)):
                tokens.pop()  # possessives, punctuation, and an acronym NER ran on into ("Smith, Oliver - UPN")
            if not tokens:
                continue
            start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
            span = text[start:end]
            if any(c.isdigit() for c in span) or not any(c.isupper() for c in span) or PLACEHOLDER_RE.search(span):
                continue
            if not any(t.text[:1].isupper() and not t.text.isupper() and _not_stop(t.text)
                       and t.lower_ not in SCHOOL_WORDS for t in tokens):
                continue  # "Maths is a real strength", "ask the SENCO": a subject or an acronym, not a person
                # (shouted names reach NER title-cased, see engine._ner_view)
            if len(tokens) == 1 and tokens[0].lower_ in not_people():
                continue  # "a lesson on Kent", "a Sparx quiz": a place or a product on its own
            from detectors.recognisers.roles import role_words

            if all(t.lower_ in role_words() for t in tokens):
                continue  # "Deputy Head", "Pennaeth Cynorthwyol", "Pennaeth Saesneg": a job, not a person
            results.append(RecognizerResult("PERSON", start, end, self.SCORE))
        return results


@cache
def _famous_data() -> dict[str, list[str]]:
    """famous_people.yaml, plus the characters of the English Literature set texts (data/set_texts.yaml): titles
    and distinctive names stand alone, ordinary forenames count only in company."""
    data = dict(_load_yaml("famous_people.yaml"))
    texts = _load_yaml("set_texts.yaml")
    # a title is also named without its article ("Merchant of Venice (OCR): Jessica's elopement")
    data["set_texts"] = [n for title, names in texts.items()
                         for n in (title, re.sub(r"^(?:The|A|An) ", "", title), *names["names"])]
    # A writer's surname alone ("how Stevenson presents Utterson") is the writer beside another famous name
    surnames = [n.split()[-1] for n in data.get("writers_and_artists", ()) if " " in n]
    data["with_company"] = [*data.get("with_company", ()), *(n for names in texts.values() for n in names["forenames"]),
                            *surnames]
    return data


@cache  # read once: the famous names and their company lists both come from famous_people.yaml
def _load_yaml(name: str) -> dict:
    return yaml.safe_load(resources.files("detectors").joinpath("data", name).read_text("utf-8"))


@cache
def famous_names() -> tuple[str, ...]:
    """Names that are the famous person on their own."""
    return tuple(dict.fromkeys(n for group, names in _famous_data().items() if group != "with_company" for n in names))


@cache
def famous_in_company() -> tuple[str, ...]:
    """Common forenames that are a famous character only when another famous name is in the same text."""
    return tuple(_famous_data().get("with_company", ()))


@cache
def famous_folded() -> frozenset[str]:
    return frozenset(fold(n) for n in famous_names())


@cache
def famous_surnames() -> frozenset[str]:
    """Folded last words of the famous names ("bronte", "kennedy"), and the one-word names."""
    return frozenset(fold(n.split()[-1]) for n in famous_names())


class PublicFigureRecognizer(LocalRecognizer):
    """Well-known public, historical and fictional people (data/famous_people.yaml). Its PUBLIC_FIGURE spans are
    not findings: the engine uses them to leave those names alone."""

    ENTITY = "PUBLIC_FIGURE"

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="PublicFigureRecognizer")

    def load(self) -> None:
        from detectors.word_sense import set_text_works

        festivals = frozenset(_famous_data().get("festivals", ()))
        anywhere = frozenset(_load_yaml("famous_people.yaml").get("with_company", ()))  # "Henry" beside "the Tudors"
        self._matcher = TermMatcher([(n, "festival" if n in festivals else "alone") for n in famous_names()]
                                    + [(n, "in company" if n in anywhere or not set_text_works(fold(n)) else
                                        "in its text") for n in famous_in_company()])

    def analyze(self, text, entities, nlp_artifacts=None):
        hits = list(self._matcher.find(lower_same_length(text)))
        if not any(kind == "alone" for *_, kind in hits):
            # "Duncan" alone is a boy called Duncan; with "Macbeth" nearby he is the king (a festival keeps no such
            # company: "Jude is fasting for Ramadan" is a pupil)
            hits = [h for h in hits if h[-1] == "festival"]
        else:  # a set text's character keeps company only with its own text: Sheila beside Macbeth is a pupil
            from detectors.word_sense import set_text_works

            works = [set_text_works(fold(text[s:e])) for s, e, *_ in hits]
            hits = [h for k, h in enumerate(hits) if h[-1] != "in its text"
                    or any(works[k] & other for j, other in enumerate(works) if j != k)]
        return EntityRecognizer.remove_duplicates([RecognizerResult(self.ENTITY, s, e, 1.0) for s, e, _, _ in hits])


# A person named as the author or subject of well-known work: "poems by Langston Hughes", "Hooke's law",
# "Frida Kahlo (1907-1954)". Such a PERSON is a public figure even when the gazetteer does not know the name.
_WORK_BEFORE = re.compile(
    r"\b(?:poems?|poetry|novels?|books?|plays?|paintings?|artworks?|sculptures?|songs?|sonnets?|symphon(?:y|ies)|"
    r"operas?|speech(?:es)?|theor(?:y|ies)|works|life|biography|autobiography|quotes?|quotations|philosophy|"
    r"reign|legacy|achievements|discoveries|inventions?|paintings)\s+(?:by|of)\s+$", re.IGNORECASE)
_WORK_AFTER = re.compile(
    r"'s?\s+(?:theory|theories|laws?|principles?|equations?|theorem|taxonomy|hierarchy|triangle|paradox|constant|"
    r"razor|discovery|discoveries|legacy|biography|achievements|reign|"
    r"death|assassination|government|speech(?:es)?|paintings|sonnets|novels|plays|poems|symphon(?:y|ies)|"
    r"experiments?|inventions?|philosophy|ideas|poetry|works|famous)\b"
    r"|\s*\((?:c\.\s*|b\.\s*)?\d{3,4}\s*[-\u2013]\s*\d{0,4}\)",
    re.IGNORECASE)
_PUPIL_AFTER = re.compile(r"\s*[(,]?\s*(?:in\s+)?(?:(?i:year|yr|y)\s?\d{1,2}\b|(?:[1-9]|1[0-3])[A-Z]{1,3}\d?\b)")


def named_for_their_work(text: str, start: int, end: int) -> bool:
    """Is the name text[start:end] given as the author or subject of well-known work (and not as a pupil)?"""
    if _PUPIL_AFTER.match(text, end):
        return False
    return bool(_WORK_BEFORE.search(text[max(0, start - 40):start]) or _WORK_AFTER.match(text, end))
