"""PUPIL: names on the school's roster, found by hashing the prompt's words with the roster key.

The prompt's words are folded (case, accents, apostrophes) and hashed; a sorted-array lookup tells which are
parts of pupils' names. Runs of such words are then tried as full names (2-4 words, either order, "Smith,
Oliver"), and what is left as forename or surname alone. A lone name that is also an ordinary English word
("Will", "Grace", "Hall", "Page") counts only with name context: a title, a possessive, a following "said" /
"is" / "in Year 8" or surname initial, spaCy tagging it as a PERSON, a list of other names around it, or the
same word already shown to be a name elsewhere in the text (after "Grace Okafor", also "Grace: great effort").
Parents' text-speak possessives count before a family word ("olivers mum", "summers nan", "summer halls dad").
A roster forename glued to a capitalised word that is not on the roster ("Mary Wollstonecraft") is someone
else's name and is left to the PERSON recogniser; an unknown forename before a pupil's surname ("Kasia Nowak", a
parent) is reported here as a PERSON over both words, so the family name cannot leak beside it.

The text arrives already `normalise.clean`ed (zero-width characters gone, look-alike letters mapped), so
offsets are those of the cleaned text; the engine maps them back.

(Over 350 lines on purpose: full names, lone names and the context that decides whether a word-name is
the pupil are one decision over one tokenisation of the prompt.)
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.lang.en.stop_words import STOP_WORDS

from detectors.language import ENGLISH, welsh_radicals
from detectors.normalise import fold
from detectors.recognisers.persons import SCHOOL_WORDS, famous_surnames
from detectors.roster import FORENAME, FULL_NAME, NAME_PART, SURNAME, Roster
from detectors.word_sense import (
    CALENDAR, character_in_a_literature_task, character_to_write, date_here, english_ordinary, in_a_place_name,
    language_at, named_as_a_place, names_a_building, names_a_group, ordinary_in_language, person_word_before,
    said_to_be_a_thing, sense_word, talked_of_as_a_word, welsh_word_names,
)
from detectors.wordlists import common_words, not_people, places, word_names

__all__ = ["RosterNameRecognizer", "common_words"]

# A word: letters (with any combining accents), joined by inner apostrophes or hyphens: O'Brien, Smith-Jones.
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+(?:['-](?:[^\W\d_]|[\u0300-\u036f])+)*")
_TITLES = frozenset("mr mrs ms miss mx dr master sir dame lady lord prof professor mister madam mme mlle".split())
# A string that code calls a name: 'name == "Joy"', '"forename": "Hope"', "first_name='May'", 'Pupil("Summer")'.
_NAMED_IN_CODE = re.compile(r"(?i:name|forename|surname|first|last|given|pupil|student)[\w.\]\['\"]*[ \t]*"
                            r"(?:==|=|:|,|\()[ \t]*[\"']$")
# A variable named after a pupil and what is kept about them: "Holly_score", "ruby_marks"
_PUPIL_ATTRIBUTE = re.compile(r"_(?i:scores?|marks?|grades?|results?|age|dob|email|reports?|attendance|targets?|"
                              r"levels?|behaviour|points|total|average|avg)\b")
_SAINTS = frozenset("st saint ste sant santes".split())
# Words that, right after a lone name, show it is being used as a person's name.
_AFTER = frozenset("""
said says asked asks told tells thinks thought wants wanted needs needed is was has had does did isnt wasnt
hasnt doesnt didnt cant wont can could should would will may might must struggles struggled struggling
finds found gets got scored scores wrote writes reads finished finishes missed missing refused refuses
joined left arrived arrives attends attended behaved behaves seems seemed feels felt likes liked loves loved
hates hated enjoys enjoyed keeps kept goes went comes came hopes hoped tries tried lives lived sits sat talks
talked works worked plays played shouts shouted cries cried runs ran walks walked answered answers forgot
forgets lost loses won wins brought brings took takes made makes gave gives became becomes started starts
stopped stops continues continued managed manages completed completes achieved achieves received receives
showed shows used uses prefers preferred joined moves moved spoke speaks hit hits kicked pushed swore threw
lied lies laughed laughs disrupted disrupts ignored ignores argued argues fell falls broke breaks household
""".split())  # words are compared folded, so "hasn't" is "hasnt"
_MODALS = frozenset("will can could should would may might must shall".split())
# Words that, right before a capitalised lone name, show it is a person.
_BEFORE = frozenset("""
for with to about from and tell ask asked help helping pupil student child son daughter named called
dear hi hello thanks by sister brother cousin friend aka done congratulations congrats
""".split())
# Of those, the ones that say a person even before a place or a month ("tell Kent", not "a trip to Lincoln").
_PERSON_BEFORE = _BEFORE - frozenset("for with to about from and by".split())
# Before a month, these say a person ("a message home about June"): a date would be "in June", "by June".
_ABOUT_SOMEONE = frozenset("about with tell".split())
# Welsh words after a name that say it is a person's ("Haf wedi gofyn", "Eira ydy'r capten", "Seren sydd").
_AFTER_CY = frozenset("wedi ydy yw sydd oedd".split())
_DETERMINERS = frozenset("the a an this that these those our your my his her their its each every some any no".split())
# Apostrophe-less possessives, as parents type on phones ("olivers mum is picking him up"). Only people have a
# mum or a stepdad, so a family word after "<name>s" shows a person's name even when the name is also an ordinary
# word ("summers mum", "hopes nan"); belongings ("olivers coat") show it only for names that are not ordinary words,
# because "<word>s book" is mostly a plural or a verb ("marks book", "roses bag").
_FAMILY = frozenset("""
mum mums mom moms mam mams mummy mommy mother dad dads daddy father nan nans nana nanna nanny gran grans granny
grandma grandmother grandad granddad grandpa grandfather grandparents parents parent carer carers guardian
stepmum stepmom stepdad stepmother stepfather step foster brother bro sister sis sibling siblings twin auntie
aunty aunt uncle cousin family childminder friend friends mate mates bestie boyfriend girlfriend teacher
""".split())
_BELONGINGS = frozenset("""
homework behaviour book books bag coat jumper shoes trainers kit lunch lunchbox phone bottle party birthday
house address number class work report
""".split())
_KIN = _FAMILY | _BELONGINGS
# After a surname, the members of its family: "the Pearson twins", "both Walker children"
_BIOLOGICAL_FAMILY = re.compile(r"[ \t]*(?:\([A-Z][a-z]+ae\)|of[ \t]+(?:plants|flowers|animals|birds|insects|fish))")
_MEMBERS = frozenset("family families household children kids twins boys girls brothers sisters siblings".split())
# Before "hopes", "marks", "roses" these make the word a verb or a plural, not a name: "she hopes dad comes",
# "the roses mum grew". ("its" stays out: in text-speak "hi its summers mum" means "it's".)
_NOT_BEFORE_BARE = frozenset("""
he she it who which that one someone somebody everyone everybody anyone anybody nobody noone each
the a an this these those our your my his her their some any no every all many few
""".split())
_CONTEXT = (_TITLES | _AFTER | _MODALS | _BEFORE | _DETERMINERS | _KIN | _MEMBERS
            | {"and", "or", "known", "also", "as"})
_YEAR_GROUP = re.compile(r"\s*(?:\(|,)?\s*(?:in\s+)?(?:year|yr|y)\s?\d{1,2}\b|\s+in\s+\d{1,2}[a-z]{1,3}\b", re.I)
# Welsh words after which a name takes a soft, nasal or aspirate mutation ("i Ddafydd", "gan Fethan", "fy Nhomos").
_MUTATOR = re.compile(r"(?<![\w'’])(?:i|at|gan|am|â|ag|dros|drwy|trwy|wrth|heb|hyd|dan|ar|fy|ei|efo|gyda|"
                      r"neu|dwy|dau)[ \t]+([A-ZÂÊÎÔÛŴŶ][\w'’-]+)")
_MAX_REFS = 5  # a lone "Oliver" may be many pupils: report refs only when it points to a few
_AFTER_A_NUMBER = re.compile(r"\d[ \t]*$")
_SENTENCE_OPENING = re.compile(r"(?:^|[.!?]\s+)([^\W\d_])", re.MULTILINE)


def _ordinary(folded: str, common: frozenset[str]) -> bool:
    """An ordinary word, its plural, or its British spelling ("miles", "favour", "organise")."""
    return (folded in common or (folded.endswith("s") and folded[:-1] in common)
            or folded.replace("our", "or") in common or folded.replace("ise", "ize") in common)


@lru_cache(maxsize=8)  # asked once per lower-case name-word of the same text
def _capitalises(text: str) -> bool:
    """Does the writer capitalise sentence openings (and so names)? Not someone typing all in lower case."""
    openings = [m.group(1) for m in _SENTENCE_OPENING.finditer(text)]
    return bool(openings) and sum(c.isupper() for c in openings) * 2 > len(openings)


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
    """The words that matter, with positions; `keys` maps each such distinct raw word to its folded form.

    Other words are left out: every rule that looks at a neighbour also checks the text between the two, so a
    left-out word simply breaks adjacency, as it would if it were there."""
    words = []
    append = words.append
    for m in _WORD.finditer(text):
        raw = m.group()
        folded = keys.get(raw)
        if folded is None:
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
        self.common = word_names()
        super().__init__(supported_entities=[self.ENTITY, "PERSON"], name="RosterNameRecognizer",
                         supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        # Cheap first pass: most words of most prompts are no pupil's name, so hash each distinct word once
        # and build positions only if something matched.
        keys = {raw: _key(_strip_possessive(raw)) for raw in set(_WORD.findall(text))}
        # "olivers mum": a possessive typed without its apostrophe
        stems = {raw: _key(raw[:-1]) for raw in keys if len(raw) > 2 and raw[-1] in "sS" and "'" not in raw}
        # "the Marshes", "the Joneses": a family's plural after a sibilant
        es_stems = {raw: _key(raw[:-2]) for raw in stems if _SIBILANT_PLURAL.search(raw)}
        # Welsh names mutate after "i", "at", "gan" ... ("i Ddafydd", "gan Fethan"): looked up by their radicals too
        after_mutator = {m.group(1) for m in _MUTATOR.finditer(text)}
        radicals = {raw: [_key(r) for r in welsh_radicals(raw)] for raw in after_mutator}
        unique = list((set(keys.values()) | set(stems.values()) | set(es_stems.values())
                       | {r for forms in radicals.values() for r in forms}) - {""})
        if not unique:
            return []
        flags, idx = self.roster.lookup_folded(unique)
        if not flags.any():
            return []
        word_flags = {f: (int(fl), int(i)) for f, fl, i in zip(unique, flags.tolist(), idx.tolist()) if fl}
        for raw, forms in radicals.items():
            if keys.get(raw) not in word_flags and (hit := next((f for f in forms if f in word_flags), None)):
                keys[raw] = hit  # "Ddafydd" is Dafydd
        families = {raw for raw, stem in es_stems.items() if word_flags.get(stem, (0,))[0] & SURNAME}
        stems.update({raw: es_stems[raw] for raw in families if not word_flags.get(stems[raw], (0,))[0] & SURNAME})
        bare_possessives = {raw: stem for raw, stem in stems.items()
                            if word_flags.get(stem, (0,))[0] & (FORENAME | SURNAME) and keys[raw] not in word_flags}
        # Positions are needed for name words, the words the context rules read, and capitalised words (which
        # may be someone else's name next to a pupil's).
        words = _tokens(text, {raw: f for raw, f in keys.items()
                               if f and (f in word_flags or f in _CONTEXT or raw[:1].isupper() or person_word_before(f)
                                         or raw in bare_possessives)})
        # A hyphenated word ("Smith-Jones" -> "smith jones") is hashed whole, so it carries SURNAME, not NAME_PART.
        part = {f for f, (fl, _) in word_flags.items() if fl & (NAME_PART | FORENAME | SURNAME)}

        # "summer clarkes mum": a full name whose last word carries an apostrophe-less possessive
        before_kin = {k: bare_possessives[w.raw] for k, w in enumerate(words[:-1])
                      if w.raw in bare_possessives and words[k + 1].folded in _KIN and words[k + 1].start == w.end + 1}
        results, covered = self._full_names(text, words, part, nlp_artifacts, before_kin)
        possessives = self._bare_possessives(text, words, word_flags, bare_possessives, covered)
        starts = {r.start for r in possessives}  # "poppys mum" makes "poppy was upset" Poppy too
        named = {bare_possessives[w.raw] for w in words if w.start in starts}
        results += self._lone_names(text, words, word_flags, part, covered, nlp_artifacts, before_kin, named)
        results += possessives
        results += self._relatives(text, words, word_flags, part, covered)
        return results

    def _bare_possessives(self, text: str, words: list[_Word], word_flags: dict[str, tuple[int, int]],
                          stems: dict[str, str], covered: set[int]) -> list[RecognizerResult]:
        """ "olivers mum", "Okafors dad", "summers nan": a name with a possessive "s" and no apostrophe, right
        before a family word (or, for names that are not ordinary words, a belonging: "olivers coat")."""
        results = []
        for k, w in enumerate(words):
            stem = stems.get(w.raw)
            if not stem or k in covered:
                continue
            if word_flags[stem][0] & SURNAME and w.raw[:1].isupper() and (
                    _FAMILY_OF.search(text, max(0, w.start - 12), w.start) or _FAMILY_AFTER.match(text, w.end)):
                # "the Hendersons", "the Smiths'", "Minutes: Smiths (parents)": a pupil's family, by their surname
                results.append(self._result(w.start, w.end, 0.85, "surname", self._refs(word_flags[stem][1])))
                continue
            if k + 1 >= len(words) or words[k + 1].start != w.end + 1:
                continue
            following = words[k + 1].folded
            if stem in self.common:
                # "summers mum" is Summer's mum, but "she hopes dad comes" / "the roses mum grew" are not names
                before = _PREVIOUS_WORD.search(text, max(0, w.start - 40), w.start)
                if following not in _FAMILY or (before and before.group(1).lower() in _NOT_BEFORE_BARE):
                    continue
                if before and before.group(1)[:1].isupper() and not _sentence_start(text, before.start(1)):
                    continue  # "Lily hopes mum will come": a name as the subject of the verb "hopes"
            elif following not in _KIN:
                continue
            fl, ix = word_flags[stem]
            results.append(self._result(w.start, w.end - 1, 0.75, "forename" if fl & FORENAME else "surname",
                                        self._refs(ix)))
        return results

    def _refs(self, ix: int) -> list[str]:
        return self.roster.refs_at(ix) if self.roster.members_at(ix) <= _MAX_REFS else []

    def _full_names(self, text: str, words: list[_Word], part: set[str], nlp_artifacts: NlpArtifacts | None,
                    before_kin: dict[int, str]) -> tuple[list[RecognizerResult], set[int]]:
        """Full names (and multi-word surnames) within runs of name-part words; returns the indices covered.
        `before_kin`: word index -> stem of "<name>s" right before a family word, which may end a full name."""
        results: list[RecognizerResult] = []
        covered: set[int] = set()
        grams: dict[str, list[tuple[int, int]]] = {}
        n = len(words)
        for i in range(n):
            if words[i].folded not in part:
                continue
            for j in range(i + 1, min(i + 4, n)):
                stem_end = words[j].folded not in part
                last = before_kin.get(j) if stem_end else words[j].folded
                if last is None:
                    break
                gap = text[words[j - 1].end:words[j].start]
                if words[j - 1].possessive or not _joins(gap, first=(j == i + 1)):
                    break
                grams.setdefault(" ".join([w.folded for w in words[i:j]] + [last]), []).append((i, j))
                if stem_end:
                    break  # "clarkes" ends the name
        if not grams:
            return results, covered
        forms = list(grams)
        gram_flags, gram_idx = self.roster.lookup_folded(forms)
        hits = sorted(
            ((i, j, int(fl), int(ix)) for form, fl, ix in zip(forms, gram_flags.tolist(), gram_idx.tolist())
             if fl & (FULL_NAME | SURNAME) for i, j in grams[form]),
            key=lambda h: (-(h[1] - h[0]), h[0]),  # longest first
        )
        for i, j, fl, ix in hits:
            span = range(i, j + 1)
            if covered.intersection(span):
                continue
            if not fl & FULL_NAME:  # a multi-word surname alone ("van der Berg")
                if not self._lone_name_counts(text, words, i, j, part, nlp_artifacts):
                    continue
            elif (i > 0 and words[i - 1].folded in _DETERMINERS
                  and all(words[k].folded in self.common and not words[k].raw[:1].isupper() for k in span)):
                continue  # "the summer hall" is a hall; "summer hall" in a class list is a pupil
            covered.update(span)
            kind = "full_name" if fl & FULL_NAME else "surname"
            end = words[j].end - (words[j].folded not in part and j in before_kin)  # "clarke|s mum"
            score, refs = 0.95 if fl & FULL_NAME else 0.85, self.roster.refs_at(ix)
            cells = [k for k in range(i, j) if _CELL_BREAK.search(text, words[k].end, words[k + 1].start)]
            for lo, hi in itertools.pairwise([i - 1, *cells, j]):  # "Oliver,Smith" in a CSV row: one per cell
                results.append(self._result(words[lo + 1].start, end if hi == j else words[hi].end, score, kind,
                                            refs))
        return results, covered

    def _lone_names(self, text: str, words: list[_Word], word_flags: dict[str, tuple[int, int]], part: set[str],
                    covered: set[int], nlp_artifacts: NlpArtifacts | None, before_kin: dict[int, str],
                    possessed: set[str]) -> list[RecognizerResult]:
        """Forename or surname alone. A name-word shown to be a name once in this text ("Mark Rose ...",
        "Mark's") also counts capitalised mid-sentence or before a verb ("Mark should now focus"), and
        name-words in a list with clear names count too ("Ruby, Olivia and Isla")."""
        results: list[RecognizerResult] = []
        named = {before_kin[k] if k in before_kin and words[k].folded not in part else words[k].folded
                 for k in covered} | possessed
        in_full = set(named)  # words of pupils' full names found in this text
        accepted = set(covered)
        doubtful: list[tuple[int, int, int]] = []
        for k, w in enumerate(words):
            if k in covered:
                continue
            fl, ix = word_flags.get(w.folded, (0, 0))
            if not fl & (FORENAME | SURNAME):
                continue
            if self._lone_name_counts(text, words, k, k, part, nlp_artifacts):
                named.add(w.folded)
                accepted.add(k)
                results.append(self._lone_result(w, fl, ix))
            else:
                doubtful.append((k, fl, ix))
        identifiers = {_identifier(text, words[a]) for a in accepted} - {None}  # "Ruby_score" counted once
        changed = True
        while changed and doubtful:  # a list "Ruby, Grace and Oliver" is accepted from its clear end inwards
            changed = False
            for item in list(doubtful):
                k, fl, ix = item
                w = words[k]
                lower_writer = w.raw.islower() and w.folded in named and not _capitalises(text)  # "poppys mum ..."
                if (not w.raw[:1].isupper() and not lower_writer) or w.raw.isupper() \
                        or self._other_persons_name(text, words, k, k, part) \
                        or self._a_listed_word(text, words, k, part) \
                        or (w.folded in _DAY_OR_MONTH_SHORT and date_here(text, w.start, w.end)):  # a rota's "Thu"
                    doubtful.remove(item)
                    continue
                verb_after = (k + 1 < len(words) and words[k + 1].folded in _AFTER | _MODALS
                              and words[k + 1].start - w.end <= 2)
                known = w.folded in named and (verb_after or (
                    not self._place_or_date(text, w)  # "Lincoln Hayes went to Lincoln": the city
                    and (not _sentence_start(text, w.start)
                         or (w.folded in in_full and _name_then_pause(text, w.end)))))
                ident = _identifier(text, w)
                if known or ident in identifiers or _listed_with(text, words, k, accepted) \
                        or _line_list_with(text, words, k, accepted) or _cell_with(text, words, k, accepted) \
                        or _quoted_names(text, words, k, part):
                    results.append(self._lone_result(w, fl, ix))
                    accepted.add(k)
                    if ident is not None:
                        identifiers.add(ident)
                    named.add(w.folded)
                    doubtful.remove(item)
                    changed = True
        return results

    def _lone_result(self, w: _Word, fl: int, ix: int) -> RecognizerResult:
        score = 0.85 if w.raw[:1].isupper() else 0.7
        return self._result(w.start, w.end, score, "forename" if fl & FORENAME else "surname", self._refs(ix))

    def _lone_name_counts(self, text: str, words: list[_Word], i: int, j: int, part: set[str],
                          nlp_artifacts: NlpArtifacts | None) -> bool:
        """Is words[i..j] (a forename or surname on its own) being used as this pupil's name here?"""
        first, last = words[i], words[j]
        if self._other_persons_name(text, words, i, j, part):
            return False  # "Mary Wollstonecraft", "Florence Nightingale": someone else's full name
        gap = text[words[i - 1].end:first.start] if i > 0 else ""
        prev = words[i - 1].folded if i > 0 and _joins(gap, first=True) else ""
        if i > 0 and words[i - 1].folded in _TITLES and gap.strip(" .") == "" and gap:
            return True  # "Mrs Smith", "Mr. van der Berg"
        if i > 0 and words[i - 1].folded in _SAINTS and gap.strip(" .") == "" and gap:
            return False  # "St Mary's RC Primary", "Ysgol Santes Dwynwen": a saint's name
        folded = " ".join(w.folded for w in words[i:j + 1])
        if _NAMED_IN_CODE.search(text, max(0, first.start - 40), first.start) \
                and text[last.end:last.end + 1] == text[first.start - 1:first.start]:
            return True  # 'if student.name == "Joy":', '{"forename": "Hope"}': a name by what the code calls it
        if i == j and _PUPIL_ATTRIBUTE.match(text, last.end):
            return True  # "Holly_score = 14": code keeps a pupil's marks under their name
        if i == j and self._a_listed_word(text, words, i, part):
            return False  # "Summer, Autumn, Winter and Spring", "Haf, hydref, gaeaf": a list of the words
        if i == j and (first.folded in self.common or first.folded in welsh_word_names()) \
                and names_a_group(text, first.start, last.end):
            return False  # "Holly and Ivy class", "Willow house", "Dosbarth Seren": a class, house or team
        if i == j and (character_to_write(text, first.start)
                       or character_in_a_literature_task(text, first.start, last.end)):
            return False  # "a story about a fox called Ruby", "five quotations about Sheila"
        if i == j and english_ordinary(first.folded, self.common) and (
                talked_of_as_a_word(text, first.start, last.end) or said_to_be_a_thing(text, last.end)):
            return False  # "Said is overused", "Miles per hour": the word
        if (first.folded in self.common or sense_word(folded, not_people()) or folded in places()) \
                and in_a_place_name(text, first.start, last.end):
            return False  # "Sutton Park", "Hope Street", "the River Shannon"
        if folded in places() and named_as_a_place(text, first.start, last.end):
            return False  # "a day trip to Sutton", "compare Georgia and Leeds"
        if first.raw.islower() and i == j and _ordinary(first.folded, self.common) and (
                _AFTER_A_NUMBER.search(text, max(0, first.start - 12), first.start) or _capitalises(text)):
            # "3.4 miles", "2 rose bushes": a lower-case word after a number is what it counts; and someone who
            # capitalises names writes "a real favour", "five miles" for the words
            return False
        # a place, product, month or a word of the passage's own language: a name only in a person's context
        sense = self._sense_word(text, first, folded)
        if sense and i == j and not last.possessive and not _initial_follows(text, words, j) \
                and date_here(text, first.start, last.end):
            return False  # "Thu 6-8", "Jan to June": a date
        if folded not in self.common and len(folded) > 2 and not sense:
            return True  # Oliver, Okafor: not ordinary words, so a name wherever they appear
        if not sense and i == j and first.raw[:1].isupper() and not first.raw.isupper() and len(folded) > 2 \
                and language_at(text, first.start) not in (ENGLISH, "cy", "xx"):
            return True  # "Sayın veli, Can bu dönem...": an English word means nothing in a Turkish letter
        if not sense and i == j and first.raw[:1].isupper() and not first.raw.isupper() and len(folded) > 2 \
                and language_at(text, first.start) == "cy" and not _sentence_start(text, first.start) \
                and not sense_word(folded, not_people()) and not date_here(text, first.start, last.end) \
                and not _in_proper_compound(text, words, i, j, part, self.common):
            return True  # "Gofynnwch i Grace ddod â'r ffurflen": mid-sentence, an English word in Welsh is a name
        capitalised = first.raw[:1].isupper()
        if not capitalised or (first.raw.isupper() and len(first.raw) > 1 and _shouting(words, i)):
            return False
        if last.possessive:
            # "Kent's mum" is a person's; "Chester's Roman walls" a place's; "May's reading record" May's
            return not sense or folded in CALENDAR or (j + 1 < len(words) and words[j + 1].folded in _KIN
                                 and words[j + 1].start - last.end <= 3)
        if _is_person(nlp_artifacts, first.start, last.end) and not _sentence_start(text, first.start) \
                and not sense:  # NER takes "a lesson on Kent" for a person too
            return True  # spaCy guesses PERSON for most capitalised sentence openers ("Mark the essays")
        if _initial_follows(text, words, j):
            return True  # "Autumn R. - 8.11": a forename and a surname initial, as in class lists
        if sense and person_word_before(prev) and not _sentence_start(text, first.start) \
                and language_at(text, first.start) != ENGLISH:
            return True  # "Mae Haf yn...", "gan Eira": a Welsh verb or preposition before a person
        nxt = words[j + 1].folded if j + 1 < len(words) and words[j + 1].start - last.end <= 2 else ""
        if nxt in _MEMBERS and words[j + 1].raw.islower() and _FAMILY_OF.search(text, max(0, first.start - 12),
                                                                                first.start) and not (
                first.folded in self.common and _BIOLOGICAL_FAMILY.match(text, words[j + 1].end)):
            # "the Pearson twins", "the Preston family": a family ("The Addams Family" is a title, "the Rose family
            # of plants" a botanist's)
            return True
        if _in_proper_compound(text, words, i, j, part, self.common):
            return False  # "May Day", "Rose Garden Road": a capitalised phrase, not a lone name
        if nxt in _AFTER or _YEAR_GROUP.match(text, last.end) or (sense and nxt in _AFTER_CY) \
                or (prev not in _DETERMINERS and self._past_tense_after(text, last.end)):
            # "Will you" / "May I" are questions, not names: a modal after a sentence-initial name is too weak
            return not (nxt in _MODALS and _sentence_start(text, first.start))
        if sense:  # a preposition does not make a place or a month a person ("a trip to Lincoln", "from June")
            before = _PERSON_BEFORE | (_ABOUT_SOMEONE if folded in CALENDAR else frozenset())
            return (prev in before or _known_as(text, words, i)) and not _sentence_start(text, first.start)
        if (prev in _BEFORE or _known_as(text, words, i)) and not _sentence_start(text, first.start):
            return True
        return False

    def _past_tense_after(self, text: str, end: int) -> bool:
        """Is the word after the name a verb in the past tense ("Len adopted a hedgehog", "Angel wore glasses")? A
        name that did something is a person, as the verbs in _AFTER say."""
        m = _NEXT_LOWER_WORD.match(text, end)
        if not m:
            return False
        verb = m.group(1)
        return verb in _IRREGULAR_PAST or (verb.endswith("ed") and len(verb) > 4 and english_ordinary(verb, self.common))

    def _a_listed_word(self, text: str, words: list[_Word], k: int, part: set[str]) -> bool:
        """Is words[k], a name that is also an English or Welsh word, listed with words of its kind: capitalised
        ones nobody is named ("Summer, Autumn, Winter and Spring") or two or more in lower case ("Haf, hydref,
        gaeaf, gwanwyn")?"""
        w = words[k]
        if w.folded not in self.common and w.folded not in welsh_word_names():
            return False
        return (_listed_with_things(text, words, k, part, self.common)
                or _a_word_list(_LOWER_LIST_AFTER.match(text, w.end))
                or _a_word_list(_LOWER_LIST_BEFORE.search(text, max(0, w.start - 60), w.start)))

    def _sense_word(self, text: str, w: _Word, folded: str) -> bool:
        """A roster name that mostly means something else here: a place, product, month or code, an inflected
        or British-spelt English word in lower case ("miles", "favour"), or, in a passage not in English, a word of
        that language (see detectors/word_sense.py)."""
        language = language_at(text, w.start)
        if language in (ENGLISH, "cy") and sense_word(folded, not_people()):  # "em Thu" in Vietnamese is no Thursday
            return True
        if w.raw.islower() and english_ordinary(folded, self.common):
            return True
        return folded not in self.common and ordinary_in_language(folded, w.raw, language)

    def _place_or_date(self, text: str, w: _Word) -> bool:
        return sense_word(w.folded, not_people()) and language_at(text, w.start) == ENGLISH

    def _other_persons_name(self, text: str, words: list[_Word], i: int, j: int, part: set[str]) -> bool:
        """Is words[i..j] glued to a capitalised word that is neither a roster name, an ordinary word, an
        initial nor an acronym — i.e. part of a name of someone not on the roster?"""
        return ((i > 0 and self._stranger(words[i - 1], part)
                 and _joins(text[words[i - 1].end:words[i].start], first=False)
                 and not _opening_verb(text, words[i - 1]))
                or (j + 1 < len(words) and self._stranger(words[j + 1], part)
                    and _joins(text[words[j].end:words[j + 1].start], first=False)))

    def _stranger(self, w: _Word, part: set[str]) -> bool:
        """A capitalised word that could be a name but is no pupil's: someone not on the roster."""
        return (w.raw[:1].isupper() and len(w.folded) > 2 and not w.raw.isupper()
                and w.folded not in part and w.folded not in self.common and w.folded not in _TITLES)

    def _relatives(self, text: str, words: list[_Word], word_flags: dict[str, tuple[int, int]], part: set[str],
                   covered: set[int]) -> list[RecognizerResult]:
        """ "Kasia Nowak" when Nowak is a pupil's surname and Kasia no pupil's forename: a parent or sibling (a
        PERSON), found whole, so the pupil's surname does not leak beside a redacted forename; and "Precious
        Adeyinka", a pupil's forename with a surname no pupil has: a new starter, a sibling, a parent."""
        results = []
        for k in range(1, len(words)):
            w, before = words[k], words[k - 1]
            if k in covered or k - 1 in covered or text[before.end:w.start] != " " \
                    or not (w.raw[:1].isupper() and before.raw[:1].isupper()):
                continue
            parent = word_flags.get(w.folded, (0,))[0] & SURNAME and self._stranger(before, part)
            newcomer = (word_flags.get(before.folded, (0,))[0] & FORENAME and self._stranger(w, part)
                        and not sense_word(w.folded, not_people()) and w.folded not in places()
                        and w.folded not in famous_surnames()  # "Oliver Cromwell" is the famous one
                        and w.folded not in SCHOOL_WORDS and not date_here(text, before.start, before.end)  # "Thu Eng"
                        and not in_a_place_name(text, w.start, w.end))  # "River Taff" is the river
            if not (parent or newcomer) or names_a_building(text, before.start, w.end):
                continue  # (not "Royal Albert Hall")
            results.append(RecognizerResult("PERSON", before.start, w.end, 0.8, recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                "roster_match": "relative"}))
        return results

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


# Between the words of one name, a tab or a comma without a space is a table's column break: the name is still
# found whole, but each cell gets its own placeholder so the columns survive.
_CELL_BREAK = re.compile(r"\t|,(?! )")


def _joins(gap: str, *, first: bool) -> bool:
    """Can two words separated by `gap` belong to one name? Spaces, an underscore as in file names and logins
    ("Y9_Hall_Noah.pdf", "noah_hall"), or "Smith, Oliver" (comma after word 1)."""
    stripped = gap.strip(" \t")
    return (stripped == "" and gap != "") or gap == "_" or (first and stripped == "," and gap.startswith(","))


_SIBILANT_PLURAL = re.compile(r"(?:s|sh|ch|x|z)es$", re.I)
_FAMILY_OF = re.compile(r"\b(?:the|The|THE|both|all the)[ \t]+$")  # before a family named in the plural
_FAMILY_AFTER = re.compile(r"[ \t]*[(,\u2013-][ \t]*(?:the[ \t]+)?(?:parents|family|carers|grandparents)\b")
_PREVIOUS_WORD = re.compile(r"([^\W\d_]+)[ \t]+$")  # the word right before a position, on the same line


# also a code list, a dict's keys or nested lists: "Zoë", "Grace"; {"Summer": 7, "Hafsa": 5}; [["Niamh"], ["Thu"]]
_LIST_GAP = re.compile(r"\s*[\"'“”‘’]?[\])}]*\s*(?::\s*-?[\w.]+\s*)?[,&/]?\s*[\[({]*\s*[\"'“”‘’]?\s*")


def _list_neighbour(text: str, words: list[_Word], k: int, step: int) -> int | None:
    """The index of the word listed next to words[k] in direction `step` ("Ruby, Olivia and Isla"), if any: only
    across a comma, "&", "/", "and" or "or" (a bare space joins a name, as in "Oliver Smith", or "Can Jordan")."""
    other = k + step
    if 0 <= other < len(words) and words[other].folded in ("and", "or") and words[other].raw.islower():
        other += step  # "Ruby and Olivia"
    if not 0 <= other < len(words):
        return None
    lo, hi = sorted((k, other))
    gaps = text[words[lo].end:words[hi].start]
    plain = gaps.replace(" and ", " ").replace(" or ", " ")
    if plain == gaps and not re.search(r"[,&/]", gaps):
        return None
    return other if _LIST_GAP.fullmatch(plain) else None


_NEXT_LOWER_WORD = re.compile(r"[ \t]+([a-z]+)\b")
_IRREGULAR_PAST = frozenset("""wore built drew sang swam saw spent chose caught taught bought brought began drank ate
flew grew knew rode shook spoke stole stood threw understood woke wrote sent sold led""".split())  # (not "read")
# Calendar abbreviations that a rota or calendar lists as keys ("Thu - Mr Will"), though a pupil may be Thu or Jan
_DAY_OR_MONTH_SHORT = frozenset("mon tue tues wed weds thu thur thurs fri sat sun jan feb mar apr jun jul aug sep sept "
                                "oct nov dec".split())
_CODE_LITERALS = frozenset({"None", "null", "True", "False", "true", "false", "nil"})


def _quoted_names(text: str, words: list[_Word], k: int, part: set[str]) -> bool:
    """Is words[k] one of two or more strings in a list of code whose every item is a roster name ("Will", "May",
    "Summer")? A list of words has words nobody is named ("Red", "Green", "Blue")."""
    def quoted(w: _Word) -> bool:
        return text[w.start - 1:w.start] in ("'", '"') and text[w.end:w.end + 1] == text[w.start - 1]

    items = [k]
    for step in (-1, 1):
        other = _list_neighbour(text, words, k, step)
        while other is not None:
            items.append(other)
            other = _list_neighbour(text, words, other, step)
    items = [i for i in items if words[i].raw not in _CODE_LITERALS]  # ["Len", None]: an empty seat
    return len(items) > 1 and all(quoted(words[i]) and words[i].folded in part for i in items)


# Two or more lower-case words in a comma list beside a name: the list is of words ("Haf, hydref, gaeaf"), when
# none of them is a function word ("sit down, and Will": no list)
_LOWER_LIST_AFTER = re.compile(r"[ \t]*,[ \t]*(?P<a>[^\W\d_A-Z]{3,})[ \t]*,[ \t]*(?:and[ \t]+|a[ \t]+)?"
                               r"(?P<b>[^\W\d_A-Z]{3,})\b")
_LOWER_LIST_BEFORE = re.compile(r"\b(?P<a>[^\W\d_A-Z]{3,})[ \t]*,[ \t]*(?P<b>[^\W\d_A-Z]{3,})[ \t]*,?[ \t]*"
                                r"(?:and[ \t]+|a[ \t]+)?$")


def _a_word_list(m: re.Match | None) -> bool:
    return m is not None and m.group("a") not in STOP_WORDS and m.group("b") not in STOP_WORDS


def _listed_with_things(text: str, words: list[_Word], k: int, part: set[str], common: frozenset[str]) -> bool:
    """Is words[k] in a list with a capitalised ordinary word, not opening a sentence, that is nobody's name here
    ("Summer, Autumn, Winter and Spring", "Rose, Tulip and Daisy")? Then the list is of things, and a name that is
    also a word is the word."""
    for step in (-1, 1):
        other = _list_neighbour(text, words, k, step)
        while other is not None:
            o = words[other]
            if o.raw[:1].isupper() and not o.raw.isupper() and o.folded in common and o.folded not in part \
                    and not _sentence_start(text, o.start) and o.raw not in _CODE_LITERALS:  # "Later, Mark should..."
                return True
            other = _list_neighbour(text, words, other, step)
    return False


def _listed_with(text: str, words: list[_Word], k: int, accepted: set[int]) -> bool:
    """Is words[k] in a list with an accepted name: "Ruby, Olivia and Isla", "Grace & Oliver Smith"?"""
    return any(_list_neighbour(text, words, k, step) in accepted for step in (-1, 1))


_CELL_BEFORE = re.compile(r"(?:^|[,|\t:;])[ \t]*$")
_CELL_AFTER = re.compile(r"(?:[ \t]+[A-Z]\.?)?[ \t]*(?:$|[,|\t;])")


def _fills_cell(text: str, w: _Word) -> bool:
    line_start = text.rfind("\n", 0, w.start) + 1
    return (_CELL_BEFORE.search(text, line_start, w.start) is not None
            and _CELL_AFTER.match(text, w.end) is not None)


def _cell_with(text: str, words: list[_Word], k: int, accepted: set[int]) -> bool:
    """Does words[k] fill a cell of a row of names ("Rhes 2: Del, Len, Pip", "Al B | Jo P"), on whose line or the
    line next to it another cell is an accepted name? A seating plan or register row holds names, whatever else
    the words mean."""
    w = words[k]
    if not _fills_cell(text, w):
        return False
    lo = text.rfind("\n", 0, text.rfind("\n", 0, w.start))  # the line before
    hi = text.find("\n", text.find("\n", w.end) + 1)  # the line after
    lo, hi = lo + 1, (len(text) if hi < 0 else hi)
    if "\n\n" in text[lo:hi] or not re.search(r"[,|\t]", text[text.rfind("\n", 0, w.start) + 1:w.start + 60]):
        return False
    return any(lo <= words[a].start < hi and _fills_cell(text, words[a]) for a in accepted)


def _initial_follows(text: str, words: list[_Word], j: int) -> bool:
    """A surname initial after the name: "Autumn R." in prose, "Al B" ending a seating-plan or list cell."""
    if j + 1 >= len(words):
        return False
    nxt = words[j + 1]
    return (len(nxt.raw) == 1 and nxt.raw.isupper() and text[words[j].end:nxt.start] == " "
            and (text[nxt.end:nxt.end + 1] == "." or _CELL_END.match(text, nxt.end) is not None
                 or _AND_NEXT_INITIALLED.match(text, nxt.end) is not None))


_AND_NEXT_INITIALLED = re.compile(r"[ \t]+(?:and|&|or)[ \t]+[A-Z][a-z]+[ \t]+[A-Z](?:\.|[ \t]*(?:$|[|,;\t\n)\]])|[ \t]+(?:are|is)\b)")


_CELL_END = re.compile(r"[ \t]*(?:$|[|,;\t\n)\]])")


_BULLET = re.compile(r"[ \t]*(?:[-*•·>]|\d{1,3}[.)])?[ \t]*")


def _starts_line(text: str, words: list[_Word], k: int) -> bool:
    line_start = text.rfind("\n", 0, words[k].start) + 1
    return _BULLET.fullmatch(text, line_start, words[k].start) is not None


def _line_list_with(text: str, words: list[_Word], k: int, accepted: set[int]) -> bool:
    """Is words[k] the first word of a line in a list whose neighbouring line starts with an accepted name?
    ("Autumn - 8.11" between "Kieran - 13.0" and "Kacper - 8.9")"""
    if not _starts_line(text, words, k):
        return False
    for step in (-1, 1):
        other = k + step
        while 0 <= other < len(words) and not _starts_line(text, words, other):
            other += step
        if 0 <= other < len(words) and other in accepted:
            lo, hi = sorted((words[k].start, words[other].start))
            if text.count("\n", lo, hi) == 1:  # the very next or previous line, not across a blank line
                return True
    return False


_PAUSE_AFTER = re.compile(r"'s\b|[ \t]*(?:[,:;!?)\n]|$|\.(?!\w))|[ \t]+(?:and|or|&|however|also|always|never|still|"
                          r"now|then|often|sometimes|usually|really|just|too|again|(?!family\b)\w+ly|\w+ed)\b", re.I)


def _name_then_pause(text: str, end: int) -> bool:
    """After a pupil's full name earlier in the text, is a capitalised sentence-opening "Grace" / "May" that
    pupil? Yes when punctuation, "and", an adverb or a past-tense verb follows ("Grace, however, ...", "May:
    excellent effort", "Grace always ...", "Mark finished ..."); not before a noun, pronoun or determiner, the way
    the ordinary words are used ("Grace period", "Summer term", "May I", "Mark the essays")."""
    return _PAUSE_AFTER.match(text, end) is not None


def _known_as(text: str, words: list[_Word], i: int) -> bool:
    """ "Marek (known as Mark)", "called Will", "aka Grace"."""
    return i >= 2 and words[i - 2].folded in ("known", "also") and words[i - 1].folded == "as"


def _identifier(text: str, w: _Word) -> str | None:
    """The code identifier a word is part of ("Ruby_score"), if it is glued into one by underscores: where a name
    counted in one, the same identifier elsewhere holds it too ("print(max(Ruby_score, ...))")."""
    start, end = w.start, w.end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[start:end] if "_" in text[start:end] else None


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in ".!?:;\n\"'(*-•>"


def _opening_verb(text: str, w: _Word) -> bool:
    """Is `w` the verb a Welsh sentence opens with ("Cafodd Kacper ei anfon allan", "Mae Summer yn ...")? It makes
    no name with the name after it."""
    return _sentence_start(text, w.start) and (person_word_before(w.folded)
                                               or language_at(text, w.start) not in (ENGLISH, "xx"))


def _in_proper_compound(text: str, words: list[_Word], i: int, j: int, part: set[str],
                        common: frozenset[str]) -> bool:
    """Is words[i..j] glued to a capitalised neighbour that is itself a name-like word ("May Day",
    "Grace Academy")? A capitalised common verb ("Ask Grace") does not count."""
    def name_like(w: _Word) -> bool:
        return w.raw[:1].isupper() and (w.folded in part or w.folded not in common)

    before = i > 0 and name_like(words[i - 1]) and _joins(text[words[i - 1].end:words[i].start], first=False) \
        and not _opening_verb(text, words[i - 1])
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
