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
from bisect import bisect_right
from functools import cache, lru_cache
from importlib import resources

from spacy.lang.en.stop_words import STOP_WORDS

from detectors.language import ENGLISH, passages, welsh_mutations

__all__ = ["CALENDAR", "ORGANISATION_FIRST", "character_in_a_literature_task", "character_to_write", "date_here",
           "english_ordinary", "in_a_place_name", "in_literature_question", "language_at", "named_as_a_place",
           "names_a_building", "names_a_group", "ordinary_in_language", "person_word_before", "said_to_be_a_thing",
           "sense_word", "set_text_cast_here", "set_text_works", "talked_of_as_a_word", "welsh_word_names"]

CALENDAR = frozenset("""
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed weds thu thur thurs fri sat sun
""".split())
# Between two calendar words of one date phrase: "Jan to June", "Sun/Sat", "Mon, Tue", "Thu is INSET; Fri".
_DATE_NEIGHBOUR = re.compile(r"[ ]*(?:[/,&–—-]|to|and|or|till|until)?[ ]*(?:the[ ]+)?(?:\d|[A-Za-z]+)")
_DIGIT_BESIDE = re.compile(r"(?:\d{1,4}(?:st|nd|rd|th)?[ ]*(?:of[ ]+)?|\d[ ]*[-–][ ]*)$")
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
    # another calendar word in the same sentence ("Thu is INSET; Fri we're back"), not the same one again
    lo = max((m.end() for m in _SENTENCE_BREAK.finditer(text, 0, start)), default=0)
    hi = m.start() if (m := _SENTENCE_BREAK.search(text, end)) else len(text)
    word = text[start:end].lower()
    return any(m.group(0).lower() in CALENDAR and m.group(0).lower() != word and m.group(0)[:1].isupper()
               for m in _WORDS.finditer(text, lo, hi))


_SENTENCE_BREAK = re.compile(r"[.!?](?:\s|$)|\n")


@cache
def welsh_word_names() -> frozenset[str]:
    text = resources.files("detectors").joinpath("data", "word_names_cy.txt").read_text(encoding="utf-8")
    words = [w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#")]
    from detectors.normalise import fold

    return frozenset(fold(form) for w in words for form in welsh_mutations(w))


_LANGUAGE_WORDS = {"cy": welsh_word_names}


def language_at(text: str, pos: int) -> str:
    """The language of the passage holding offset `pos` ("en" where none does)."""
    found = passages(text)
    k = bisect_right([p.start for p in found], pos) - 1  # passages are in text order
    return found[k].language if k >= 0 and pos < found[k].end else ENGLISH


def ordinary_in_language(folded: str, raw: str, language: str) -> bool:
    """Is this word an ordinary word of a passage in `language` (not English)? Any word in lower case is (the
    English list of ordinary words cannot judge a Welsh or Polish word), and so are the language's own words that
    are also names (data/word_names_cy.txt)."""
    if language == ENGLISH:
        return False
    if raw[:1].islower() and language in _LANGUAGE_WORDS:  # only where the passage's language is known
        return True  # well: a line of code or a table is often judged "not English" too
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


# A class, house or team named after a word, which primary schools do ("Holly and Ivy class", "Oak and Willow
# houses", "Dosbarth Seren", "Tŷ Dewi"): the name opens a run of listed names that the group word ends.
_GROUP_AFTER = re.compile(r"(?:[ \t]*(?:,|&|\band\b|\ba\b)[ \t]*[A-Z][\w'\u2019-]*)*[ \t]+"
                          r"(?:class|classes|house|houses|team|teams|group|groups|base)\b(?!['\u2019])")
_GROUP_BEFORE = re.compile(r"\b(?i:dosbarth|nosbarth|ddosbarth|thosbarth|tŷ|ty|dŷ|nhŷ|grŵp|tîm|dîm)[ \t]+$")


def names_a_group(text: str, start: int, end: int) -> bool:
    """Is the word text[start:end] the name of a class, house or team?"""
    return bool(_GROUP_AFTER.match(text, end) or _GROUP_BEFORE.search(text, max(0, start - 14), start))


# A name that is also a word or a place, inside a place's name: "Sutton Park", "Hope Street", "Grace Academy",
# "the River Shannon", "Loch Lomond", "Afon Taf", "Ysgol Pen y Bryn". (Not Hall, Hill, Green, Wood: surnames as
# often.)
_PLACE_NOUN_AFTER = re.compile(r"[ \t]+(?:Park|Road|Street|Lane|Avenue|Close|Drive|Square|Crescent|Terrace|Gardens|"
                               r"Centre|Center|Academy|School|Primary|College|University|Bridge|Station|Harbour|"
                               r"Castle|Museum|Library|Church|Chapel|Cathedral|Stadium|Arena|Zoo|Farm|Forest|Beach|"
                               r"Island|Valley|Hospital|Surgery|High School|High|Heol|Stryd|Ffordd)\b")
_FEATURE_BEFORE = re.compile(r"\b(?:River|Lake|Loch|Lough|Mount|Mt\.?|Afon|Llyn|Cape|Port|Isle of|Vale of|Bay of|"
                             r"Sea of|Ben|Glen|Ynys|Mynydd|Bae|Cwm)[ \t]+$"
                             r"|\b[A-Z][\w'\u2019]*[ -]yr?[ -]$")  # "Pen y Bryn", "Tan-y-Bwlch": no one is "the Bryn"


# Said only of a place: "Sofia is the capital of Bulgaria", "Preston is a city in Lancashire".
_PLACE_PREDICATE = re.compile(r"[ \t]+(?:is|was|has been)[ \t]+(?:the[ \t]+(?:capital|largest city|county town)|"
                              r"an?[ \t]+(?:[a-z]+[ \t]+)?(?:city|town|village|country|county|region|state|island|"
                              r"port|capital)\b|located|situated)")


# Before a town's name, words that can only lead to a place: "a day trip to Sutton", "fieldwork in Poole", "the
# coach leaves for Buckley", "compare Sofia and Leeds". ("to", "for", "from" alone lead to people as often.)
_PLACE_ONLY_BEFORE = re.compile(r"\b(?i:in|near|around|outside|towards|via|visit|visiting|(?:trip|journey|coach|bus|"
                                r"train|drive|travel|holiday|day out|walk|go|going|went|move|moved|moving|leaves?|"
                                r"fieldwork|postcard|map)[ \t]+(?:\w+[ \t]+)?(?:to|in|at|around|near|for|from|of)"
                                r"|distance[ \t]+(?:to|from|between)|(?:history|geography|"
                                r"climate|population|mayor|map|streets|weather)[ \t]+of"
                                r"|fact[ \t]+file[ \t]+(?:about|on))"
                                r"[ \t]+$")
# "How far is Barnes from Cardiff?" (but "How far is Jordan behind?" asks about a pupil)
_HOW_FAR_BEFORE = re.compile(r"\b(?i:how)[ \t]+far[ \t]+is[ \t]+$")
_FROM_A_PLACE = re.compile(r"[ \t]+(?:from|to)[ \t]+[A-Z]")
# After a town's name, words said only of a place: "Sutton and the surrounding villages", "to Poole and back"
_PLACE_ONLY_AFTER = re.compile(r"[ \t]+(?:and[ \t]+(?:the[ \t]+)?surrounding[ \t]+(?:villages|towns|area|countryside)|"
                               r"and[ \t]+back\b)")


def named_as_a_place(text: str, start: int, end: int, *, any_preposition: bool = False) -> bool:
    """Is the town's name text[start:end] used as the place here: said to be a place ("Sofia is the capital", "Poole
    has a population"), or, with no person's word beside it, after a word that leads only to a place ("a day trip
    to Sutton", "the history of Holloway", "how far is Barnes from Cardiff") or before one ("Logan and the surrounding
    villages"); with `any_preposition`, also "to", "from", "of": a name no pupil has), before a place's word or a
    postcode, or listed with another place?"""
    if _PLACE_PREDICATE.match(text, end) or _HAS_A_POPULATION.match(text, end):
        return True
    if _PERSON_NEXT.match(text, end):
        return False
    before = _PLACE_ONLY_BEFORE.search(text, max(0, start - 40), start) or (
        any_preposition and _PLACE_BEFORE.search(text, max(0, start - 12), start))
    if _HOW_FAR_BEFORE.search(text, max(0, start - 12), start) and _FROM_A_PLACE.match(text, end):
        return True
    return bool(before or _PLACE_NEXT.match(text, end) or _PLACE_ONLY_AFTER.match(text, end)
                or _POSTCODE_AFTER.match(text, end) or _listed_with_a_place(text, start, end))


_HAS_A_POPULATION = re.compile(r"[ \t]+has[ \t]+a[ \t]+population")


def in_a_place_name(text: str, start: int, end: int) -> bool:
    """Is the word text[start:end] part of a place's name ("Sutton Park", "the River Shannon")?"""
    return bool(_PLACE_NOUN_AFTER.match(text, end) or _FEATURE_BEFORE.search(text, max(0, start - 12), start))


# A character the prompt asks to be written: "a story about a fox called Ruby", "stori am ferch o'r enw Seren".
_CALLED_BEFORE = re.compile(r"(?i:\b(?:about|featuring|starring)[ \t]+(?:a|an)[ \t]+(?:[a-z]+[ \t]+){0,2}"
                            r"(?:called|named)"
                            r"|\bam[ \t]+(?:\w+[ \t]+){1,2}o['’]r[ \t]+enw)[ \t]+$")
_WRITING = re.compile(r"(?i:\b(?:story|stories|poem|tale|fable|play script|playscript|stori|storïau|cerdd|chwedl)\b)")
_REAL_CHILD = re.compile(r"(?i:\b(?:in my|in our|in your)[ \t]+(?:class|form|group|set|tutor)|\bpupil|\bstudent|"
                         r"\bdisgybl|\bfy nosbarth)")


def character_to_write(text: str, start: int) -> bool:
    """Is the name at `start` a character a story or poem is asked about ("a fox called Ruby"), in a prompt that
    speaks of no real pupil?"""
    return bool(_CALLED_BEFORE.search(text, max(0, start - 40), start) and _WRITING.search(text)
                and not _REAL_CHILD.search(text))


# A character by how literature lessons speak of one: quotations about them, a diary entry in their voice, what the
# writer does with them, how they change by a work's end ("the play" and "Act 2" alone may be the school play).
_LITERARY_BEFORE = re.compile(
    r"(?i:\b(?:quotations?|quotes?)[ \t]+(?:about|on|for|showing|describing|that show)"
    r"|\b(?:diary entry|monologue|soliloquy|letter|speech)[ \t]+(?:as|in the voice of)"
    r"|\bthe[ \t]+(?:writer|author|poet|playwright|novelist|dramatist|narrator)[ \t]+(?:present|portray|describe|"
    r"depict|use|show|develop|introduce|characteri[sz]e)s?"
    r"|\bin[ \t]+(?:the[ \t]+(?:novel|novella|poem|play|extract)|act[ \t]+\d|chapter[ \t]+\d+|stave[ \t]+\d),?[ \t]+"
    r"(?:is|was|does|did|why does|why is|how does|how is))[ \t]+$")
_LITERARY_AFTER = re.compile(r"[ \t]+(?:change|changes|develop|develops|grow|grows)[ \t]+(?:by|across|throughout|over)"
                             r"[ \t]+(?:the[ \t]+end[ \t]+of[ \t]+)?(?:the[ \t]+)?(?i:novel|novella|play|poem|story|"
                             r"act[ \t]+\d|chapter[ \t]+\d+|stave[ \t]+\d)\b")


def character_in_a_literature_task(text: str, start: int, end: int) -> bool:
    """Is the name text[start:end] a character, by how the task speaks of it ("five quotations about Sheila", "a
    diary entry as Mickey", "how does the writer present Mair", "why does Estella change by the end of the
    novel")?"""
    return bool(_LITERARY_BEFORE.search(text, max(0, start - 50), start) or _LITERARY_AFTER.match(text, end))


# A word talked about as a word: "Said is overused", "synonyms for Nice", "the word Can", "'Grace' means".
_AS_A_WORD_AFTER = re.compile(r"[\"'\u201d\u2019]?[ \t]+(?:is|was)[ \t]+(?:(?:over|under|mis)used|used too much|a (?:verb|noun|"
                              r"adjective|adverb|word|homophone|synonym|connective)\b)|[\"'\u201d\u2019]?[ \t]+means\b")
_AS_A_WORD_BEFORE = re.compile(r"(?i:\bthe word|\bsynonyms? (?:for|of)|\balternatives? (?:to|for)|\binstead of|\bspell)"
                               r"[ \t]+[\"'\u201c\u2018]?$")


def talked_of_as_a_word(text: str, start: int, end: int) -> bool:
    """Is text[start:end] a word the prompt talks about as a word ("Said is overused", "alternatives to Said")?"""
    return bool(_AS_A_WORD_AFTER.match(text, end) or _AS_A_WORD_BEFORE.search(text, max(0, start - 30), start))


# What follows a word that makes it a thing: "Frank is a drugs advice service", "Miles per hour", "Miles to km"
_THING_AFTER = re.compile(r"[ \t]+(?:is|was)[ \t]+an?[ \t]+(?:[\w-]+[ \t]+){0,3}(?:service|charity|company|app|website|"
                          r"platform|programme|program|tool|organisation|organization|scheme|helpline|brand|product|"
                          r"unit)\b|[ \t]+per\b|[ \t]+to[ \t]+(?:kilomet|km\b|met(?:re|er)s)")


def said_to_be_a_thing(text: str, end: int) -> bool:
    """Does what follows the word ending at `end` make it a thing, not a person ("Frank is a drugs advice service",
    "Miles per hour")?"""
    return bool(_THING_AFTER.match(text, end))


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
    words |= {fold(w) for w in "mae roedd oedd bydd fydd mi gan â ag efo gyda ynglŷn llongyfarchiadau cafodd gwnaeth "
              "wnaeth daeth aeth dywedodd enillodd collodd symudodd dechreuodd ymunodd gadawodd methodd anghofiodd "
              "dylai gallai".split()}
    return frozenset(words)


def person_word_before(folded_before: str) -> bool:
    return folded_before in _person_words_before()


# The last word of a place's name: NER reads "Mill Lane", "Nightingale Lane", "St David's Hall" as people.
# (Not Hall, Hill, Park, Church: surnames as often.) Only after ordinary words: "Jenny Lane" may be a person.
_PLACE_ENDS = frozenset("""
lane road street avenue close drive way square place court crescent terrace gardens grove row walk mews bay
cathedral abbey chapel museum zoo harbour quay beach centre center library station academy school college
university primary theatre stadium
""".split())
# An institution's name ends with its kind, whatever words come first: "Bishop Hedley High School".
_INSTITUTION_ENDS = frozenset("school academy college university primary infants juniors high hospital surgery "
                              "cathedral museum library stadium".split())
ORGANISATION_FIRST = frozenset("""ysgol canolfan amgueddfa neuadd coleg prifysgol eglwys capel heol ffordd stryd
lon teras rhodfa cilgant""".split())  # Welsh names of places and streets put the kind first
_SAINT_OR_ROYAL = frozenset("st st. saint santa queen king prince princess royal".split())
# Before a building's name: "Royal Albert Hall", "City Hall" (NER may leave the first word out of its span)
_BUILDING_BEFORE = re.compile(r"\b(?:Royal|City|Town|County|Village|Civic|Memorial)[ \t]+$")


def names_a_building(text: str, start: int, end: int) -> bool:
    """Is text[start:end] the end of a building's name ("Royal Albert Hall", "Royal Alexandra Hospital"), though it
    reads as a forename and a surname?"""
    words = text[start:end].lower().split()
    # ("Hall" only after such a word: "Will Hall" is a pupil)
    return bool(words) and (words[-1] in _INSTITUTION_ENDS or words[-1] == "hall") \
        and bool(_BUILDING_BEFORE.search(text, max(0, start - 10), start))
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_PERSON_NEXT = re.compile(r"(?:['\u2019]s\b|[ \t]+(?:is|was|has|had|said|says|will|can|did|does|told|asked|got|"
                          r"needs|wants|went|came|left|joined|scored|struggles|struggled|isn't|wasn't|doesn't|"
                          r"didn't|[A-Z]\.?(?![\w])))")
_PERSON_PREV = re.compile(r"(?:[A-Za-z],?[ \t]*\([ \t]*[\"'\u201c\u2018]?|\b(?:mr|mrs|ms|miss|mx|dr|dear|hi|hello|thanks|ask|tell|with|for|to|from|by|"
                          r"pupil|student|child|son|daughter|sister|brother|cousin|friend|named|called|aka|"
                          r"and|mum|dad)\.?[ \t]+)$", re.IGNORECASE)


def ner_thing_not_person(text: str, start: int, end: int, common: frozenset[str], not_people: frozenset[str]) -> bool:
    """Is NER's PERSON text[start:end] a thing: a product, exam board or school subject in it ("Hegarty Maths",
    "Pearson Edexcel"), a place's name ("Mill Lane", "St David"), or one ordinary English word with nothing
    around it that says a person ("Sun, Moon and stars", "Welsh" in a timetable, "'Follower'", "Jordan:")?"""
    from detectors.normalise import fold
    from detectors.recognisers.persons import SCHOOL_WORDS

    if in_literature_question(text, start, end) or character_in_a_literature_task(text, start, end):
        return True
    raw = _TOKEN.findall(text[start:end])
    words = [fold(w) for w in raw]
    if not words or any(len(w) == 1 and w.isupper() for w in raw) or re.search(r"[A-Z]\w*-[A-Z]", text[start:end]):
        return not words  # "Al B": a name and a surname initial; "Kerry-Ann": a double forename
    if any((w in not_people and w not in STOP_WORDS) or w in SCHOOL_WORDS for w in words):
        return True  # (not "and", "in", "with": Python keywords, but inside "Dave and Lily" a join)
    if len(words) > 1 and (words[0] in _SAINT_OR_ROYAL or words[0] in ORGANISATION_FIRST
                           or words[-1] in _INSTITUTION_ENDS or (
            words[-1] in _PLACE_ENDS and all(english_ordinary(w, common) for w in words[:-1]))):
        return True
    if _a_place_here(text, start, end, words) or (len(words) == 1 and _mutated_place(raw[0])):
        return True
    if len(words) == 1 and (talked_of_as_a_word(text, start, end) or said_to_be_a_thing(text, end)):
        return True  # "Said is overused"
    if raw[0] in ("y", "yr") or in_a_place_name(text, start, end) or names_a_building(text, start, end):
        return True  # "Pen y Bryn", "Sutton Park": a place's name (a Welsh article starts no one's name)
    if len(words) == 1 and _ATTRIBUTIVE_BEFORE.search(text, max(0, start - 5), start) \
            and (m := _LOWER_WORD_AFTER.match(text, end)) and english_ordinary(m.group(1), common) \
            and m.group(1) not in _PERSON_NOUNS:
        return True  # "the Tudor rose", "a Victorian workhouse": a name used as an adjective is no one here
    if all(english_ordinary(w, common) or w in CALENDAR for w in words):  # "Purple Mash", "Moon", "Monday"
        if len(words) == 1 and (_last_of_listed_words(text, start, common) or names_a_group(text, start, end)):
            return True  # "Rose, Daisy and Lily", "Knight, Bishop and Rook": a list of things; "Rose class"
        if (lesson := _LESSON_BEFORE.search(text, max(0, start - 20), start)) and (
                lesson.group(1)[1:2].isupper() or english_ordinary(lesson.group(1).lower(), common)
                or lesson.group(1).lower() in SCHOOL_WORDS):
            return True  # "DT (Canteen)", "Coding (Sports Hall)": where a lesson is
        return not (_PERSON_NEXT.match(text, end) or _PERSON_PREV.search(text, max(0, start - 12), start)
                    or _listed_with_a_name(text, start, end, common, not_people))
    return False


# A lesson before a bracket, as timetables give its room: "DT (Canteen)", "Hist (Sports Hall)"
_LESSON_BEFORE = re.compile(r"\b([A-Z]{2,4}|[A-Z][a-z]+)[ \t]*\([ \t]*$")
_ATTRIBUTIVE_BEFORE = re.compile(r"\b(?:the|The|a|A|an|An)[ \t]+$")
_LOWER_WORD_AFTER = re.compile(r"[ \t]+([a-z]{3,})\b")
_PERSON_NOUNS = frozenset("boy boys girl girls kid kids lad lads child children family families twins brothers "
                          "sisters household parents".split())  # "the Jones boy" is a person
_TWO_LISTED_BEFORE = re.compile(r"([A-Z][a-z]+),[ \t]*([A-Z][a-z]+),?[ \t]+(?:and|or|&)[ \t]+$")


def _last_of_listed_words(text: str, start: int, common: frozenset[str]) -> bool:
    """Is the word at `start` the last of three or more capitalised ordinary words in a list ("Knight, Bishop and
    Rook")? Two ("Tom and Lily") are as often two people."""
    from detectors.normalise import fold

    m = _TWO_LISTED_BEFORE.search(text, max(0, start - 40), start)
    return bool(m) and all(english_ordinary(fold(w), common) for w in m.groups())


# A question about how a writer presents characters: "In Small Island, how does Levy present Hortense and
# Gilbert?" The writer and the characters named in the rest of that sentence are no one in the school. Only with a
# capital after the verb: "How does Tyler present in lessons?" is about a child.
# The same in Welsh ("Sut mae Kate Roberts yn portreadu Begw?"), and asked of a character in a named work ("How is
# Eddie Carbone's downfall presented in A View from the Bridge?", "Sut mae Siwan yn cael ei phortreadu yn y ddrama?").
_NAME_WORDS = r"[A-Z][\w'\u2019-]+(?:[ \t]+[A-Z][\w'\u2019-]+){0,2}"
_LITERATURE_QUESTION = re.compile(
    rf"\b(?i:how)[ \t]+(?:does|do|did|has|have|is)[ \t]+(?P<writer>{_NAME_WORDS})[ \t]+"
    r"(?:present|portray|depict|characteri[sz]e|describe|use|explore|develop|show|introduce)s?[ \t]+(?:the[ \t]+)?"
    r"(?=[A-Z])[^.?!\n]*"
    rf"|\b(?i:how)[ \t]+(?:is|are|was|were)[ \t]+(?P<character>{_NAME_WORDS})[^.?!\n]{{0,40}}?[ \t]"
    r"(?:presented|portrayed|depicted|characteri[sz]ed|described|shown)[ \t]+(?:in|by|through)[ \t]+[A-Z][^.?!\n]*"
    rf"|\b(?i:sut)[ \t]+(?:mae|y mae|wnaeth|mai)[ \t]+(?P<awdur>{_NAME_WORDS})[ \t]+yn[ \t]+"
    r"(?:portreadu|cyflwyno|darlunio|disgrifio|defnyddio|datblygu|cael ei[ \t]+(?:b|ph|f)?[a-z]+)\b[^.?!\n]*")


def in_literature_question(text: str, start: int, end: int) -> bool:
    return any(lo <= start and end <= hi for lo, hi in _literature_questions(text))


@lru_cache(maxsize=4)  # asked once per NER name of the same prompt
def _literature_questions(text: str) -> tuple[tuple[int, int], ...]:
    lowered = text.lower()
    if "how" not in lowered and "sut" not in lowered:
        return ()
    return tuple((m.start(m.lastgroup), m.end()) for m in _LITERATURE_QUESTION.finditer(text))  # one group each


def _mutated_place(word: str) -> bool:
    """Is `word` a Welsh town's name as mutated after "i", "o", "am"... ("i Gaerdydd", "o Fangor", "am Lanelli")?"""
    from detectors.language import welsh_radicals
    from detectors.wordlists import places

    return any(radical in places() for radical in welsh_radicals(word))


# Before a town's name: "fieldwork in Merthyr Tydfil", "a trip to Radyr", "the road from Hailsham".
_PLACE_BEFORE = re.compile(r"\b(?:in|to|at|from|near|around|outside|visit|visiting|via|towards|of|ym|yng|yn|i|o)[ \t]+$",
                           re.IGNORECASE)


_POSTCODE_AFTER = re.compile(r",?[ \t]*[A-Za-z]{1,2}\d[A-Za-z\d]?[ \t]*\d[A-Za-z]{2}\b")  # "Radyr, CF15 8AH"


def _a_place_here(text: str, start: int, end: int, words: list[str]) -> bool:
    """Is text[start:end] a known place (data/places.txt: towns of the UK and Ireland, the world's big cities),
    named as a place: two words or more ("Merthyr Tydfil"), or one after a word that leads to a place ("in
    Hailsham"), before a postcode ("Radyr, CF15 8AH") or a place's word ("the Aberfan disaster", "Harlech
    castle"), or listed with another place ("Conwy, Beaumaris and Harlech", "Lagos, Mumbai")? Never with a word
    beside it that says a person ("Chester is off sick")."""
    from detectors.wordlists import places

    if " ".join(words) not in places():
        return False
    if named_as_a_place(text, start, end, any_preposition=True):
        return True
    return len(words) > 1 and not _PERSON_NEXT.match(text, end) \
        and not _PERSON_PREV.search(text, max(0, start - 12), start)  # "Merthyr Tydfil"


_PLACE_NEXT = re.compile(r"[ \t]+(?i:castles?|disaster|bay|beach|harbour|pier|bridge|airport|station|valley|"
                         r"estuary|river|coast|city centre|town centre|high street|market)\b")
_ITEM_BEFORE = re.compile(r"((?:[A-Z][\w'\u2019-]*[ \t]+){0,2}[A-Z][\w'\u2019-]*)[ \t]*(?:,|&|\band\b|\bor\b)[ \t]*$")
_ITEM_AFTER = re.compile(r"[ \t]*(?:,|&|and\b|or\b)[ \t]*([A-Z][\w'\u2019-]*(?:[ \t]+[A-Z][\w'\u2019-]*){0,2})")


def _listed_with_a_place(text: str, start: int, end: int) -> bool:
    from detectors.normalise import fold
    from detectors.wordlists import places

    known = places()
    found = []
    if m := _ITEM_BEFORE.search(text, max(0, start - 60), start):
        item = m.group(1).split()
        found += [" ".join(item[i:]) for i in range(len(item))]  # "Visit Conwy": "Conwy"
    if m := _ITEM_AFTER.match(text, end):
        item = m.group(1).split()
        found += [" ".join(item[:i + 1]) for i in range(len(item))]  # "São Paulo as": "São Paulo"
    return any(fold(f) in known for f in found)


_LISTED = re.compile(r"[\"'\u201c\u2018]?[ \t]*(?:,|&|\band\b)[ \t]*[\"'\u201c\u2018]?")


def _listed_with_a_name(text: str, start: int, end: int, common: frozenset[str], not_people: frozenset[str]) -> bool:
    """ "Zoë", "Grace", "Mohammed": an ordinary word listed beside a word that can only be a name is a name."""
    from detectors.normalise import fold
    from detectors.recognisers.persons import SCHOOL_WORDS

    def name_only(m: re.Match) -> bool:
        w = m.group(0)
        f = fold(w)
        return (w[:1].isupper() and not w.isupper() and len(w) > 1 and not english_ordinary(f, common)
                and f not in SCHOOL_WORDS and f not in CALENDAR and f not in not_people)

    before = list(_TOKEN.finditer(text, max(0, start - 30), start))
    after = _TOKEN.search(text, end, min(len(text), end + 30))
    return bool((before and _LISTED.fullmatch(text, before[-1].end(), start) and name_only(before[-1]))
                or (after and _LISTED.fullmatch(text, end, after.start()) and name_only(after)))


@cache
def _set_text_characters() -> dict[str, tuple[str, ...]]:
    """Folded character name -> the folded titles of the set texts it is in (data/set_texts.yaml), each title
    also without its article ("Merchant of Venice")."""
    import yaml

    from detectors.normalise import fold

    data = yaml.safe_load(resources.files("detectors").joinpath("data", "set_texts.yaml").read_text("utf-8"))
    out: dict[str, list[str]] = {}
    for title, names in data.items():
        titles = [fold(title), fold(re.sub(r"^(?:The|A|An) ", "", title))]
        for name in (*names.get("names", ()), *names.get("forenames", ())):
            out.setdefault(fold(name), []).extend(titles)
    return {name: tuple(dict.fromkeys(titles)) for name, titles in out.items()}


def set_text_works(folded: str) -> frozenset[str]:
    """The set texts (folded titles) a folded character name, forename or title belongs to; none for any other
    name."""
    return frozenset(_set_text_characters().get(folded, ())) | (
        frozenset({folded}) if folded in _set_text_casts() else frozenset())


def set_text_character_here(text: str, name: str) -> bool:
    """Is the full name `name` a character of a set text whose title the text names ("Pride and Prejudice: was Lydia Bennet a
    victim?")? Then it is the character, even where a pupil has the same full name."""
    from detectors.normalise import fold

    titles = _set_text_characters().get(fold(name))
    if not titles or " " not in name.strip():  # a lone forename may be a pupil writing about the text ("Eric")
        return False
    folded = fold(text)
    return any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", folded) for t in titles)


@cache
def _set_text_casts() -> dict[str, frozenset[str]]:
    """Folded title -> the folded names of its characters (data/set_texts.yaml)."""
    casts: dict[str, set[str]] = {}
    for name, titles in _set_text_characters().items():
        for title in titles:
            casts.setdefault(title, set()).add(name)
    return {title: frozenset(names) for title, names in casts.items()}


_LITERARY = re.compile(r"(?i:\b(?:act|scene|chapter|stave|novel|play|poem|character|characters|theme|themes|quotation|"
                       r"quotations|quote|quotes|extract|presented|presents|portrayed|evidence|author|writer|"
                       r"playwright|set text)\b)")
_CAPITALISED_WORD = re.compile(r"\b[A-Z][\w'\u2019-]+")


def set_text_cast_here(text: str, name: str) -> bool:
    """Is the lone forename `name` a set text's character here: another character of the same text is named, and
    the prompt talks about literature ("Is Juliet more mature than Romeo? Give evidence from the balcony scene")?
    Two pupils called Jack and Ralph fighting at break are pupils: nothing there is about a text."""
    from detectors.normalise import fold

    own = fold(name)
    titles = _set_text_characters().get(own)
    if not titles or not _LITERARY.search(text):
        return False
    others = {fold(w) for w in _CAPITALISED_WORD.findall(text)} - {own}
    return any(others & _set_text_casts().get(title, frozenset()) for title in titles)
