"""People named with what they are to the school or to a child (entity PERSON), whom NER misses in short prompts
and never sees in Welsh: a name with a role or relation beside it ("Yetunde Bakare (learning mentor)", "Colm
(PE)", "Rhian Meirion, y Pennaeth", "Nasra (stepmum)", "Halima (Yusuf's mum)", "Grandad (Glenys ap Iorwerth)",
"Cyn-ddisgybl, Rhydian Cadwaladr"), a name doing what only people do ("Nerys says", "Shazia rang"), and the
subject of a Welsh sentence that is a forename and a surname ("Mae Anwen Thrower yn dechrau ...").

The roles and relations are in data/people_roles.yaml. Each recogniser finds one kind of cue; all give only the
name words, so the role stays readable ("[PERSON_1] (learning mentor)").

(Over 350 lines on purpose: seven small recognisers share one plumbing (`_CueRecognizer`) and one test of what
can be a name word (`name_words`), which the list rule the engine applies after them reads too.)
"""
from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml
from presidio_analyzer import LocalRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from detectors.language import welsh_mutations
from detectors.recognisers.persons import _UP, SCHOOL_ACRONYMS, SCHOOL_WORDS, TITLES
from detectors.recognisers.terms import lower_same_length

# A name word in any script (Ruairí, Llŷr, Zoë, O'Brien, Smith-Jones); capitals are checked in code.
_W = r"[^\W\d_][\w'\u2019-]*"
# Lower-case words inside a surname: "ap Iorwerth", "Ní Bhriain", "van der Berg", "bin Laden".
PARTICLES = ("ap", "ab", "ferch", "verch", "de", "da", "di", "del", "della", "van", "von", "der", "den", "le",
             "la", "du", "ní", "nic", "ni", "mac", "bin", "bint", "al", "el", "dos", "das")
_NAME = rf"(?P<name>{_W}(?:[ ]{_W}){{0,3}})"
_TITLE_WORDS = frozenset(t.lower() for t in TITLES)
_NAME_BEFORE = re.compile(rf"{_NAME}[ \t]*$")
_NAME_AT = re.compile(_NAME)
# Words between a name and its role: "Yetunde Bakare, our learning mentor", "Rhian Meirion, y Pennaeth".
_DET = r"(?:(?:our|the|my|your|their|his|her|a|an|y|yr|ein|eich|new|acting|interim|former)[ \t]+){0,2}"


@cache
def roles() -> dict[str, tuple[str, ...]]:
    """people_roles.yaml merged over languages, Welsh entries with their mutated forms: kind -> phrases."""
    data = yaml.safe_load(resources.files("detectors").joinpath("data/people_roles.yaml").read_text("utf-8"))
    merged: dict[str, list[str]] = {}
    for language, kinds in data.items():
        for kind, phrases in kinds.items():
            for phrase in phrases:
                forms = welsh_mutations(str(phrase)) if language == "cy" else [str(phrase)]
                merged.setdefault(kind, []).extend(f.lower() for f in forms)
    return {kind: tuple(dict.fromkeys(v)) for kind, v in merged.items()}


@cache
def role_words() -> frozenset[str]:
    """Every word of a staff role, relation or subject: a NER "name" made only of these is a job ("Deputy Head",
    "Pennaeth Saesneg"), and no name starts with one."""
    return frozenset(w for kind in ("staff", "relations", "former", "subjects") for p in roles()[kind]
                     for w in p.split())


def _alternation(phrases) -> str:
    parts = sorted(set(phrases), key=len, reverse=True)
    return "(?:" + "|".join(re.escape(p).replace(r"\ ", r"[ \t]+") for p in parts) + ")"


def name_words(text: str, start: int, end: int, *, from_right: bool, common: frozenset[str]) -> tuple[int, int] | None:
    """The name inside text[start:end]: the longest run of capitalised words (particles allowed inside) that
    ends at `end` (from_right) or starts at `start`, whose first word is no ordinary or school word. None if none."""
    words = [(m.start(), m.end(), m.group()) for m in re.finditer(_W, text[start:end])]
    words = [(s + start, e + start, w) for s, e, w in words]
    seq = list(reversed(words)) if from_right else words
    kept: list[tuple[int, int, str]] = []
    for s, e, w in seq:
        if w[0].isupper() and not (w.isupper() and len(w) > 1 and not w.isalpha()):
            kept.append((s, e, w))
        elif w.lower() in PARTICLES and kept:
            kept.append((s, e, w))
        else:
            break
    if not kept:
        return None
    kept.sort()
    while kept and kept[0][2].lower() in PARTICLES:
        kept.pop(0)
    while kept and not could_be_name(kept[0][2], common):
        kept.pop(0)  # "Present: Priyanka", "Staff Rhian": a capitalised ordinary word before the name
    while kept and kept[-1][2].lower() in PARTICLES:
        kept.pop()
    return (kept[0][0], kept[-1][1]) if kept else None


def could_be_name(word: str, common: frozenset[str]) -> bool:
    low = word.lower().strip("'\u2019")
    if re.search(r"['\u2019](?:ll|re|ve|d|m|s|t)$", low):
        low = re.split(r"['\u2019]", low)[0]  # "I'll", "We're": a pronoun, not a name
        if low in STOP_WORDS or len(low) < 2:
            return False
    return (word[0].isupper() and len(word) > 1 and not word.isupper() and low not in common
            and low not in STOP_WORDS and low not in SCHOOL_WORDS and low not in SCHOOL_ACRONYMS
            and low not in _TITLE_WORDS and low not in role_words())


@cache
def _after_relation() -> frozenset[str]:
    """Words that are no name even beside a relation. Next to one a capitalised word is a name even when it is also
    a word ("her nan Pat", "his dad Mark", "Mason's cousin"); only places, products and days stay what they are
    ("mum Monday"), and the months that are not also forenames ("nan June" is a name)."""
    from detectors.word_sense import CALENDAR
    from detectors.wordlists import not_people

    return not_people() | (CALENDAR - {"april", "may", "june", "august"})


def _names_after(text: str, lower: str, cue: re.Pattern[str], common: frozenset[str]):
    """(span, match) of each name right after a cue matched on the lower-cased text (same length: a
    case-insensitive alternation is slow on long prompts)."""
    for m in cue.finditer(lower):
        name = _NAME_AT.match(text, m.end())
        span = name and name_words(text, name.start("name"), name.end("name"), from_right=False, common=common)
        if span:
            yield span, m


_PRODUCT_SHAPE = re.compile(r"\d|[a-z][A-Z]")  # "ChatGPT", "iPad", "Y9": no one's name
_TOOL_SHAPE = re.compile(r"\d|[a-z][A-Z]{2}")  # "ChatGPT", "Y9", but "McKay" may be someone


class _CueRecognizer(LocalRecognizer):
    """Shared plumbing: compiled patterns with a `name` group, the name words picked out of it."""

    SCORE = 0.75
    FROM_RIGHT = True

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name=type(self).__name__)

    def load(self) -> None:
        from detectors.wordlists import word_names

        self._common = word_names()
        self._patterns = self.patterns()

    def patterns(self) -> list[re.Pattern[str]]:
        raise NotImplementedError

    def accept(self, text: str, m: re.Match[str]) -> bool:
        return True

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for pattern in self._patterns:
            for m in pattern.finditer(text):
                if not self.accept(text, m):
                    continue
                span = name_words(text, m.start("name"), m.end("name"), from_right=self.FROM_RIGHT,
                                  common=self._common)
                if span:
                    results.append(RecognizerResult("PERSON", span[0], span[1], self.SCORE))
        return results


class RoleAfterNameRecognizer(_CueRecognizer):
    """A name with its role or relation after it: "Yetunde Bakare (learning mentor)", "Marcus Oyelaran (HoY11)",
    "Colm (PE)", "Nasra (stepmum)", "Kwabena (Llŷr's mum)", "Yetunde Bakare, our learning mentor",
    "Rhian Meirion, y Pennaeth", "Tegwen Pennant, cyn-ddisgybl"; and whose relation someone is: "Mason's cousin"."""

    def patterns(self):
        r = roles()
        role = _alternation([*r["staff"], *r["relations"], *r["former"]])
        in_paren = _alternation([*r["staff"], *r["relations"], *r["former"], *r["subjects"], *r["absences"]])
        owner = rf"{_W}(?:'s|\u2019s|')"
        # Anchored on the bracket or comma, then the name read backwards: trying a name at every word was slow.
        relation = _alternation(r["relations"])
        return [
            re.compile(rf"\((?:{owner}[ \t]+)?{_DET}(?i:{in_paren})(?:[ \t]?\d{{1,2}})?(?![\w-])[^()\n]{{0,40}}\)"),
            re.compile(rf",[ \t]+(?:{owner}[ \t]+)?{_DET}(?i:{role})(?![\w-])"),
            # "Mason's cousin", "Kasia's mum", "Tunde's class": only a person has a relation or a class
            re.compile(rf"(?:'s|\u2019s)[ \t]+(?i:{relation}|class|form|form group|tutor group|classroom|register|"
                       r"duty|marking|lessons?)(?![\w-])"),
        ]

    def load(self) -> None:
        super().load()
        self._whose = _after_relation()

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for pattern, common in zip(self._patterns, (self._common, self._common, self._whose)):
            for m in pattern.finditer(text):
                before = _NAME_BEFORE.search(text, max(0, m.start() - 80), m.start())
                span = before and name_words(text, before.start("name"), before.end("name"), from_right=True,
                                             common=common)
                if span:
                    results.append(RecognizerResult("PERSON", span[0], span[1], self.SCORE))
        return results


class RoleBeforeNameRecognizer(_CueRecognizer):
    """A name after its relation or its former pupil's word: "Grandad (Glenys ap Iorwerth)", "Ex-pupil Fatou
    Ceesay", "Cyn-ddisgybl, Rhydian Cadwaladr", "two pupils, Lerato and Thabo" (the first; the list's others
    join it in the engine)."""

    FROM_RIGHT = False

    def load(self) -> None:
        super().load()
        self._after_relation = _after_relation()

    def patterns(self):
        r = roles()
        relation = _alternation(r["relations"])
        group = _alternation([*r["former"], "pupils", "students", "children", "boys", "girls",
                              "new starter", "new starters", "new pupil", "new student",
                              # who stands in for whom: "covered by Fairweather", "covering for Siobhan"
                              "covered by", "cover by", "covering for", "cover for", "taught by", "taken by"])
        # Matched on the lower-cased text (same length): a case-insensitive alternation is slow on long prompts.
        # Welsh puts whose relation it is first, then the name in apposition: "mam Ffion, Nia, ...".
        return [re.compile(rf"(?<![\w-])(?P<relation>{relation})[ \t]*(?:\(|[:,]?[ \t]+)"
                           rf"(?:{_W}[ \t]*,[ \t]+(?=[^\W\d_][\w'\u2019-]*[ \t]*,))?"),
                re.compile(rf"(?<![\w-]){group}[ \t]*(?:\(|[:,]?[ \t]+)")]

    def analyze(self, text, entities, nlp_artifacts=None):
        lower = lower_same_length(text)
        return [RecognizerResult("PERSON", start, end, self.SCORE)
                for pattern, common in zip(self._patterns, (self._after_relation, self._common))
                for (start, end), _ in _names_after(text, lower, pattern, common)]


class PersonVerbRecognizer(_CueRecognizer):
    """A name doing what people do: "Nerys says it's Hayley", "Shazia rang", "Aled reminded all of ...". Not after
    a determiner ("the Trust says")."""

    FROM_RIGHT = True
    VERBS = ("rang", "phoned", "called in", "texted", "emailed", "messaged", "said", "says", "agreed", "reminded",
             "mentioned", "explained", "reckons", "thinks", "wants to know", "asked me", "asked us", "told me",
             "told us", "popped in", "dropped off", "picked up", "is off sick", "off sick", "is absent today",
             "will cover", "is covering", "has worked as", "worked as", "will collect", "is collecting",
             # what children do (no product or place does): "Tyler-Jay keeps kicking", "Brooklyn and Nevaeh fell out"
             "keeps", "kept", "fell out", "fell over", "hit", "kicked", "punched", "pushed", "bit", "shouted",
             "swore", "cried", "refused", "forgot", "has forgotten", "ran off", "walked out", "threw", "bullied",
             "is upset", "was upset", "got hurt", "was sent out", "has settled", "settled in",
             # an action in minutes: "Tunde to book the coach"
             "to email", "to book", "to send", "to contact", "to chase", "to follow up", "to arrange", "to draft",
             "to circulate", "to update", "to speak to", "to ring", "to phone", "to liaise", "to organise",
             "to order", "to check", "to share", "to confirm", "to look into", "to write to", "to invite")

    def patterns(self):
        word = rf"[{_UP}][\w'\u2019-]*"  # capitalised only, so the verb is never taken into the name
        return [re.compile(rf"(?<![\w'-])(?P<name>{word}(?:[ ]{word}){{0,2}})[ \t]+"
                           rf"(?:{'|'.join(map(re.escape, self.VERBS))})(?![\w-])")]

    def accept(self, text, m):
        before = text[max(0, m.start() - 12):m.start()].split()
        return not (before and before[-1].lower() in ("the", "a", "an", "this", "that", "our", "your"))

    def analyze(self, text, entities, nlp_artifacts=None):
        from detectors.normalise import fold
        from detectors.wordlists import not_people, places

        # a country or town does things in the news too ("Wales refused to play on"); a tool is asked to
        # ("ChatGPT to email")
        return [r for r in super().analyze(text, entities, nlp_artifacts)
                if (name := fold(text[r.start:r.end])) not in places() and name not in not_people()
                and not _TOOL_SHAPE.search(text[r.start:r.end])]


class WelshSubjectNameRecognizer(_CueRecognizer):
    """The subject of a Welsh sentence, where the verb comes first: "Mae Anwen Thrower yn dechrau ...", "Bydd
    Nomvula Dube yn ymuno â ...". Only two or three capitalised words that are no Welsh or English ordinary word
    ("Mae Caerdydd yn ddinas" is one word: a place)."""

    FROM_RIGHT = False
    VERBS = ("Mae", "Bydd", "Roedd", "Bu", "Fydd", "Daeth", "Aeth", "Symudodd", "Dechreuodd", "Ymunodd", "Enillodd")

    def load(self) -> None:
        super().load()
        from detectors.recognisers.name_cues import language_cues

        self._not_names = frozenset(w.lower() for w in language_cues()["cy"].get("not_names", ()))

    def patterns(self):
        return [re.compile(rf"(?<![\w-])(?:{'|'.join(self.VERBS)})[ \t]+(?P<name>{_W}[ ]{_W}(?:[ ]{_W})?)"
                           r"(?=,|[ \t]+(?:yn|wedi|gyda|ac?|o)\b)")]

    # First words of Welsh place and institution names ("Bae Caerdydd", "Pen y Fan", "Ysgol Glan Taf").
    PLACE_WORDS = frozenset("""bae pen aber llan coed castell porth ysgol canolfan parc afon mynydd eglwys capel neuadd
    coleg prifysgol clwb cyngor llywodraeth amgueddfa llyfrgell theatr gorsaf maes stryd heol ffordd lôn tŷ ty plas
    caer cwm nant bryn glan pont tref dinas ynys traeth llyn cymdeithas urdd eisteddfod senedd""".split())

    def accept(self, text, m):
        from detectors.word_sense import in_literature_question

        words = m.group("name").split()
        if in_literature_question(text, m.start("name"), m.end("name")):
            return False  # "Sut mae Kate Roberts yn portreadu ...": the writer
        return len(words) >= 2 and all(w[0].isupper() and w.lower() not in self._not_names
                                       and w.lower() not in self.PLACE_WORDS for w in words)


class GreetingNameRecognizer(_CueRecognizer):
    """The person a message is written to, on its greeting line: "Dear Ieuan,", "Hi Gwenllian!", "Morning Tobias"
    (NER misses names it has not seen; other languages' greetings are name_cues.CueNameRecognizer's). Only when the
    greeting line ends after the name, so "Hi all," and "Dear Parents," (ordinary words) stay."""

    FROM_RIGHT = False

    def patterns(self):
        greeting = r"(?i:dear|hi|hello|hiya|hey|good morning|good afternoon|morning|afternoon|evening)"
        return [re.compile(rf"(?:^|(?<=[\"\u201c'\u2018\n]))[ \t]*{greeting}[ \t]+"
                           rf"(?P<name>{_W}(?:[ ]{_W}){{0,2}})[ \t]*(?=[,!\n]|$)", re.MULTILINE)]

    def accept(self, text, m):
        first = m.group("name").split()[0].lower()
        return not (first.endswith("s") and first[:-1] in self._common)  # "Dear Parents,", "Hi Colleagues!"


class AddresseeRecognizer(_CueRecognizer):
    """Someone a message goes to, a meeting is with or thanks go to: "Reply to Priyanka:", "email Gethin", "meeting
    with Olamide", "thanks to Nerys". Not a product or a place ("ask ChatGPT", "email Arbor support", "thanks to
    Tesco", "congratulations to Wales")."""

    FROM_RIGHT = False
    CUES = ("reply to", "write to", "email", "e-mail", "message", "ring", "phone", "text", "remind", "thank",
            "invite", "forward to", "forward it to", "cc", "meet with", "meeting with", "speak to", "speak with",
            "talk to", "chat with", "catch up with", "check with", "ask", "spoke to", "spoken to", "speaking to",
            "note to", "card to",
            # whom thanks or praise go to: "thanks to Nerys and Wojciech", "well done to Kemi"
            "thanks to", "thank you to", "many thanks to", "shout-out to", "shout out to", "well done to",
            "congratulations to", "congrats to", "well done", "congratulations", "congrats", "happy birthday",
            "good luck", "welcome back", "welcome to", "farewell to", "goodbye to", "message from")

    def patterns(self):
        return [re.compile(rf"(?<![\w-]){_alternation(self.CUES)}[ \t]+(?=\S)")]

    def analyze(self, text, entities, nlp_artifacts=None):
        from detectors.normalise import fold
        from detectors.wordlists import not_people, places

        return [RecognizerResult("PERSON", start, end, self.SCORE)
                for (start, end), m in _names_after(text, lower_same_length(text), self._patterns[0], self._common)
                if start == m.end() and not _PRODUCT_SHAPE.search(text[start:end])
                and fold(text[start:end]) not in places() and fold(text[start:end]) not in not_people()]


class FamilyNameRecognizer(_CueRecognizer):
    """A family by its surname, with the word that says so: "the Kowalski family", "the Pritchard-Adeyemi
    children", "both Fitzgerald boys", "teulu Achterberg"; or in the plural where only a family can be meant: written
    to or met ("a letter to the Hallorans", "meeting with the Okafors"), or doing what parents do ("the Fitzgeralds
    have complained"). A bare plural elsewhere is left to the roster and NER: "the Stuarts" and "the Greens" are as
    often a dynasty or a party, "the Romans" a people."""

    FROM_RIGHT = False
    MEMBERS = ("family", "families", "household", "children", "kids", "twins", "boys", "girls", "brothers",
               "sisters", "siblings", "parents")
    # what a family does that a people, a dynasty or a band does not
    DOINGS = ("have complained", "complained", "have asked", "have emailed", "emailed", "rang", "phoned",
              "have been in touch", "have requested", "requested", "want a meeting", "would like a meeting",
              "are moving", "have moved", "are going through", "are separating", "have separated", "came in",
              "popped in", "are worried", "have raised", "raised a concern", "have agreed", "are on holiday")
    WRITTEN_TO = (*AddresseeRecognizer.CUES, "letter to", "writing to", "meet", "call", "contact", "card to",
                  "note to", "cards for", "card for", "gift for", "present for", "send", "tell", "ask", "inform",
                  "update", "visit", "reassure", "apologise to", "sorry to")
    PEOPLES = ("romans", "greeks", "hebrews", "normans", "saxons", "celts", "britons", "picts", "scots", "welsh",
               "irish", "english", "french", "tudors", "stuarts", "victorians", "georgians", "edwardians")

    def patterns(self):
        word = rf"[{_UP}][\w'\u2019]*(?:-[{_UP}][\w'\u2019]*)?"
        family = _alternation(welsh_mutations("teulu"))
        plural_name = rf"(?P<name>{word}s)(?![\w'\u2019-])"
        # the family word says it: "the Kowalski family", "teulu Achterberg"
        named = [re.compile(rf"(?<![\w-])(?i:the|both|all the|both the)[ \t]+(?P<name>{word})[ \t]+"
                            rf"(?i:{'|'.join(self.MEMBERS)})(?![\w-])"),
                 re.compile(rf"(?<![\w-])(?i:{family})[ \t]+(?P<name>{word})")]
        # a plural, or the family's things, where only a family can be meant
        plural = [re.compile(rf"(?<![\w-])(?i:{_alternation(self.WRITTEN_TO)})[ \t]+(?i:the)[ \t]+{plural_name}"),
                  re.compile(rf"(?<![\w-])(?i:the)[ \t]+{plural_name}[ \t]+(?i:{_alternation(self.DOINGS)})(?![\w-])"),
                  # minutes and notes: "Oyelarans (parents)", "Fitzgeralds - family"
                  re.compile(rf"(?<![\w-]){plural_name}[ \t]*(?:\(|[-\u2013,][ \t]*)(?i:parents|family|carers)\b"),
                  # "the Hallorans' eldest", "the Halloran's new address"
                  re.compile(rf"(?<![\w-])(?i:the)[ \t]+(?P<name>{word}s)['\u2019](?![\w])"),
                  re.compile(rf"(?<![\w-])(?i:the)[ \t]+(?P<name>{word})['\u2019]s[ \t]+(?:new[ \t]+)?(?i:address|"
                             r"house|home|car|phone number|number|kids|children|twins|eldest|youngest|son|daughter|"
                             r"mum|dad|parents)\b")]
        # the family word after the name alone, in a heading or a note: "Re: Oyelaran siblings" (in lower case:
        # "The Addams Family" is a title)
        alone = [re.compile(rf"(?<![\w-])(?P<name>{word})[ \t]+(?:{'|'.join(self.MEMBERS)})(?![\w-])")]
        self._plural, self._alone = frozenset(plural), frozenset(alone)
        return named + plural + alone

    def accept(self, text, m):
        from detectors.normalise import fold
        from detectors.recognisers.persons import famous_surnames
        from detectors.wordlists import places

        name = fold(m.group("name"))
        if m.re in self._alone:  # no "the" before it: only a name nobody shares with a word or a place
            return not (name in self._common or name in places() or name in famous_surnames()
                        or name in role_words() or name in SCHOOL_WORDS)
        if m.re in self._plural:  # never a people, a word or a place
            return not (name in self.PEOPLES or name.endswith("ians") or name[:-1] in self._common
                        or name in self._common or name[:-1] in places())  # "the Corinthians", "the Vikings"
        return name not in famous_surnames()  # "the Brontë sisters", "the Kennedy brothers"


@cache
def _staff_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    r = roles()
    after = _alternation([*r["staff"], *r["subjects"]])
    before = _alternation(r["staff"])
    titles = "|".join(TITLES)
    return (re.compile(rf"[ \t]*(?:\([ \t]*|,[ \t]+){_DET}(?i:{after})(?:[ \t]?\d{{1,2}})?(?![\w-])"),
            re.compile(rf"(?<![\w-]){_DET}(?i:{before})[ \t]*[:,]?[ \t]+(?:(?:{titles})\.?[ \t]+)?$"))


def staff_beside(text: str, start: int, end: int) -> bool:
    """Is the name text[start:end] given a job in the school beside it: "Siobhan (our SENCo)", "Colm (PE)", "Aled,
    our site manager", "our SENCo, Priya"? Then it is a member of staff, even where a pupil has the forename."""
    after, before = _staff_patterns()
    return bool(after.match(text, end) or before.search(text, max(0, start - 60), start))


# The engine registers these (and lets them settle words before NER, like the other cue recognisers).
ROLE_RECOGNISERS = (RoleAfterNameRecognizer, RoleBeforeNameRecognizer, PersonVerbRecognizer, WelshSubjectNameRecognizer,
                    GreetingNameRecognizer, AddresseeRecognizer, FamilyNameRecognizer)


# Only "and"-like joins: after a comma comes a greeting's name as often as a list's ("Hiya, Wayne", "Merhaba, Yusuf").
_LIST_JOIN = re.compile(r"(?:,?[ \t]+(?:and|&|a|ac|or)[ \t]+)")


# A list of names each with its part in brackets: "Lorna (tombola), Gurpreet (cakes), Danny (raffle)".
_AFTER_ITS_ROLE = re.compile(r"[ \t]*\([^()\n]{1,40}\)[ \t]*(?:[,;]|,?[ \t]+(?:and|&))[ \t]*")
# An entry of a list of key and value ("Tue - Alun", "P2 8Y1 English - Tunde;", "Wed: Mr Doyle"), one per line or
# parted by commas, semicolons or bars
_ENTRY = re.compile(rf"(?:^|(?<=[,;|\n]))[ \t]*[^,;|\n]{{1,40}}?[ \t]+[-\u2013:][ \t]+"
                    rf"(?:(?:{'|'.join(TITLES)})\.?[ \t]+)?(?P<value>{_W}(?:[ \t]{_W})?)[ \t]*(?=[,;|\n.]|$)",
                    re.MULTILINE)
_VALUE_AFTER_KEY = re.compile(rf"[ \t][-\u2013:][ \t]+(?:(?:{'|'.join(TITLES)})\.?[ \t]+)?$")
_WORD_THEN_JOIN = re.compile(rf"(?<![\w'-])(?P<w>{_W})(?:{_LIST_JOIN.pattern})$")


def _other_entry_values(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """If text[start:end] is the value of an entry in a list of keys and values, the values of the other entries
    of that list (its paragraph)."""
    if not _VALUE_AFTER_KEY.search(text, max(0, start - 16), start):
        return []  # (most names are no entry's value: the paragraph is not read for them)
    first = text.rfind("\n\n", 0, start)
    last = text.find("\n\n", end)
    first, last = first + 2 if first >= 0 else 0, last if last >= 0 else len(text)
    entries = [(m.start("value"), m.end("value")) for m in _ENTRY.finditer(text, first, last)]
    if not any(s <= start < e for s, e in entries):
        return []
    return [(s, e) for s, e in entries if not (s <= start < e)]


def listed_with_names(text: str, names: list[tuple[int, int]], taken: bytearray) -> list[tuple[int, int]]:
    """Names listed with a name already found are names too: "thanks to Joanne and Sanjay", "Wayne and Dionne
    Francis", "pupils, Lerato and Thabo", the other values of a rota or cover list ("Mon - Farah, Tue - Alun").
    A listed word joins only if it could be a name (capitalised, no ordinary, school or role word, nothing found or
    famous there: `taken`), so "Oliver and Maths" stays as it is."""
    from detectors.word_sense import ner_thing_not_person
    from detectors.wordlists import not_people, word_names

    common = word_names()
    found: list[tuple[int, int]] = []
    todo = sorted(names)
    while todo:
        start, end = todo.pop()
        for m in (_LIST_JOIN.match(text, end) or _AFTER_ITS_ROLE.match(text, end),):
            if m is None:
                continue
            w = re.match(rf"{_W}(?:[ ]{_W})?", text[m.end():m.end() + 60])
            if w is None:
                continue
            span = name_words(text, m.end(), m.end() + w.end(), from_right=False, common=common)
            if span and span[0] == m.end() and taken.find(1, *span) < 0 and span not in found:
                found.append(span)
                taken[span[0]:span[1]] = b"\x01" * (span[1] - span[0])
                todo.append(span)
        for s0, e0 in _other_entry_values(text, start, end):  # "Mon - Farah, Tue - Alun"
            span = name_words(text, s0, e0, from_right=False, common=common)
            if span and span[0] == s0 and taken.find(1, *span) < 0 and span not in found \
                    and not ner_thing_not_person(text, *span, common, not_people()):  # "Thu - Cardiff Museum"
                found.append(span)
                taken[span[0]:span[1]] = b"\x01" * (span[1] - span[0])
        before = text[max(0, start - 60):start]
        for m in filter(None, (_WORD_THEN_JOIN.search(before),)):
            s0 = start - len(before) + m.start("w")
            span = name_words(text, s0, s0 + len(m.group("w")), from_right=False, common=common)
            if span and taken.find(1, *span) < 0 and span not in found:
                found.append(span)
                taken[span[0]:span[1]] = b"\x01" * (span[1] - span[0])
                todo.append(span)
    return found
