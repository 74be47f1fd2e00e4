"""UK_ADDRESS: home addresses, in a sentence or as the lines of a letter head or e-mail signature.

An address is a street with a house number ("12 Acacia Avenue", "12a Heol y Felin", "Flat 3, 12 ..."), a street
after a flat or a house name ("Rose Cottage, Mill Lane", "Apartment 12, Granville Square"), or a street without
either that runs on to a postcode ("Mill Lane, Llandeilo SA19 6AB"). Streets end in an English street word (Road,
Close, Mews...) or start with a Welsh one (Heol, Ffordd, Stryd, Lôn, Rhodfa'r...). The places that follow (after
a comma, on the next lines, or the rest of the street's line) are taken with it, and a flat or a house name right
before it too, but not the post town: the place right before the postcode, or the last of two or more places
("2 Jubilee Gardens, Harehills, Leeds"). A post town names a town of thousands, not a home, and a request often
needs it (which bus, which authority); the postcode after it is its own finding (UK_POSTCODE). A street word
without a number, house name or postcode is not an address ("Road safety week", "the High Street in WW2");
neither is a number that counts something else ("Chapter 3 The Drive"). A street written in lower case
("12 acacia avenue") counts only after an address word ("lives at", "address") or when it runs on to a postcode.
"""
from __future__ import annotations

import bisect
import re

from presidio_analyzer import LocalRecognizer, RecognizerResult

from detectors.recognisers.contact import PresidioUkPostcodeRecognizer, is_postcode
from detectors.wordlists import word_names

__all__ = ["UkAddressRecognizer"]

_ENGLISH_STREETS = (
    "Road Rd Street St Avenue Ave Close Cl Crescent Cres Drive Dr Lane Ln Way Court Ct Gardens Gdns Terrace Terr "
    "Place Pl Grove Gr Mews Row Walk Hill Park Square Sq Rise View Parade Green Vale Meadow Meadows Fields Heights "
    "Chase Wharf Boulevard Hollow Croft Gate Wynd Brow Bank End Approach Circus Dene Garth Glade Grange Leys "
    "Orchard Passage Path Ride Side Yard Villas Cottages Buildings Estate Site Embankment Quay Promenade Esplanade "
    "Broadway Precinct Arcade"
).split()
_WELSH_STREETS = (
    "Heol Hewl Ffordd Stryd Lôn Lon Rhodfa Cilgant Clos Maes Bryn Tŷ Ty Teras Llwyn Parc Cae Pant Coed Plas Rhes "
    "Cwrt Gerddi Dôl Dol Penrhyn Bro Ael Allt Llys Cwm Glyn Gwaun Tir Tyddyn"
).split()
_HOUSES = ("Cottage House Farm Farmhouse Lodge Barn Bungalow Villa Manor Hall Rectory Vicarage Mill Fferm Bwthyn "
           "Forge Stables Granary Smithy Chapel Schoolhouse Oast Byre").split()

_UP = "A-ZÀ-ÖØ-ÞŴŶ"
_CAP = rf"[{_UP}][^\W\d_]*(?:['’][^\W\d_]+)*(?:-[^\W\d_]+)*"  # Acacia, Stratford-upon-Avon, Tŷ
_LINK = r"(?:y|yr|'r|ar|upon|on|le|la|de|du|super|under|in|by|the|cum|next|of|and)"
_NAME = rf"{_CAP}(?:[ ]+(?:{_LINK}[ ]+){{0,2}}{_CAP}){{0,3}}"  # one to four capitalised words, linked
_NUMBER = r"\d{1,4}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
_STREET = (rf"(?:(?:The|Y|Yr)[ ]+)?(?:{_CAP}[ ]+){{1,3}}(?:{'|'.join(_ENGLISH_STREETS)})\.?(?![\w'’-])"
           rf"|(?:{'|'.join(_WELSH_STREETS)})(?:['’]r)?(?:[ ]+(?:{_LINK}[ ]+)?{_CAP}){{1,3}}")  # Rhodfa'r Môr
_UNIT_WORD = r"(?:Flat|Fflat|Apartment|Apt|Unit|Room|Rhif|Suite|Plot|Pitch|Berth)"  # Plot, Pitch: sites, parks
_UNIT = rf"{_UNIT_WORD}\.?[ ]*\d{{1,4}}[A-Za-z]?"
_WELSH_HOUSES = "Tŷ Ty Bryn Maes Plas Bwthyn Hafod Hafan Pen Glan Nant Llys Bod Cartref Gwêl Awel".split()
_HOUSE = (rf"(?:Tŷ|Ty|Y|The)?[ ]*(?:{_CAP}[ ]+){{0,2}}(?:{'|'.join(_HOUSES)})"
          rf"|The[ ]+Old[ ]+{_CAP}"  # The Old Forge, The Old Post Office
          rf"|(?:{'|'.join(_WELSH_HOUSES)})(?:['’]r)?(?:[ ]+(?:{_LINK}[ ]+)?{_CAP}){{1,2}}")
_SEP = r"(?:,[ \t]*(?:\r?\n[ \t]*)?|[ \t]*\r?\n[ \t]*)"
# a flat or house name ending a line or a comma-separated part before the street
_UNIT_OR_HOUSE = re.compile(rf"(?<![\w'’-])(?:{_UNIT}|{_HOUSE})$")
# a flat or house name, then the street on the same line after a comma or on the next line: an address even with
# no house number or postcode ("Rose Cottage, Mill Lane", "Apartment 12, Granville Square")
_HOMES = [h for h in _HOUSES if h not in ("Hall", "Manor", "Mill", "Chapel")]  # not "Town Hall, High Street"
_HOME = (rf"(?:Tŷ|Ty|Y|The)?[ ]*(?:{_CAP}[ ]+){{0,2}}(?:{'|'.join(_HOMES)})|The[ ]+Old[ ]+{_CAP}"
         rf"|(?:{'|'.join(_WELSH_HOUSES)})(?:['’]r)?(?:[ ]+(?:{_LINK}[ ]+)?{_CAP}){{1,2}}")
_HOUSE_THEN_STREET = re.compile(rf"(?<![\w'’-])(?:{_UNIT}|{_HOME}){_SEP}(?P<street>{_STREET})")
_HOUSE_HINT = re.compile(rf"\b(?:{_UNIT_WORD}|{'|'.join(_HOUSES + _WELSH_HOUSES)}|Old)\b")  # cheap first pass
_UNIT_BEFORE = re.compile(rf"(?<![\w'’-]){_UNIT_WORD}\.?[ ]*$")  # "Apartment 12, ...": 12 numbers the flat
# the rest of the street's line, up to a comma or the line's end: "Sycamore Court Toxteth", "Meadow Way Travellers' Site"
_TAIL = re.compile(rf"[ ]+{_CAP}['’]?(?:[ ]+{_CAP}['’]?){{0,3}}(?=[ ]*(?:,|\r?\n|$))")

_NUMBER_START = re.compile(rf"(?<![\w.:/£$-]){_NUMBER},?[ ]+(?=[^\W\d_])")  # cheap first pass
_NUMBERED = re.compile(rf"(?P<number>{_NUMBER}),?[ ]+(?P<street>{_STREET})")
_NUMBERED_ANY_CASE = re.compile(_NUMBERED.pattern, re.IGNORECASE)
_STREET_AT = re.compile(_STREET)
_STREET_WORDS = frozenset(_ENGLISH_STREETS + _WELSH_STREETS)
_WORD = re.compile(r"[^\W\d_]+")
_LOOK_BACK = 200  # how far before a postcode its street may start
_POSTCODE = re.compile("|".join(p.regex for p in PresidioUkPostcodeRecognizer.PATTERNS), re.IGNORECASE)
_POSTCODE_SHAPE = re.compile(r"(?<![^\W_])[A-Za-z]{1,3}\d[A-Za-z\d]?[ \t]?\d[A-Za-z]{2}(?![^\W_])")  # fast first pass
_LOCALITY = re.compile(rf"{_NAME}(?![\w'’-])")
# a town typed in lower case: one or two words, then a comma, full stop, line end or postcode
_LOCALITY_ANY_CASE = re.compile(r"[^\W\d_]+(?:[ ]+[^\W\d_]+)?(?=[ ]*(?:[,.;:)\n]|$)|[ ]+[a-z]{1,2}\d)",
                                re.IGNORECASE)
# A number after these counts something else: "Chapter 3 The Drive", "Year 7 Park Lane trip", "bus 12 London Road".
_COUNTING = re.compile(
    r"(?:chapter|unit|page|pages|p|question|q|year|yr|y|lesson|week|part|act|scene|level|stage|step|section|period|"
    r"set|group|task|book|grade|paper|module|topic|room|no|number|figure|fig|table|line|verse|volume|vol|episode|"
    r"series|bus|route|platform|gate|tier|class|chapters|score|scored|top|about|over|under|than|approximately|"
    r"around|nearly|almost|some|only|just)[ \t.]*$", re.IGNORECASE)
_ADDRESS_CUE = re.compile(r"\b(?:address(?: is)?|cyfeiriad|(?:lives?|living|lived|moved|moving|staying|stays?|home|"
                          r"house|flat|byw)(?: (?:at|to|in|on|yn))?)\W*$", re.IGNORECASE)
_FAMOUS = frozenset({"10 downing street", "11 downing street", "221b baker street"})
_MAX_LOCALITIES = 4
_DIGIT = re.compile(r"\d")


class UkAddressRecognizer(LocalRecognizer):
    """Home addresses (UK_ADDRESS): house number or name, street, town lines and postcode as one span."""

    ENTITY = "UK_ADDRESS"
    SCORE = 0.8
    SCORE_WITH_POSTCODE = 0.9
    CONTEXT = ["address", "lives", "live", "home", "moved", "cyfeiriad"]

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="UkAddressRecognizer", context=self.CONTEXT)

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        digits = _DIGIT.search(text) is not None  # an address without a house number or postcode has a house name
        if not digits and _HOUSE_HINT.search(text) is None:
            return []
        found: list[tuple[int, int, float]] = []
        postcodes: set[int] = set()  # where the postcodes after the addresses found start
        for candidate in _NUMBER_START.finditer(text) if digits else ():
            pos = candidate.start()
            m, lower_case = _NUMBERED.match(text, pos), False
            if m is None:  # "12 acacia avenue" needs "lives at" / "address" before it, or its postcode after it
                m = _NUMBERED_ANY_CASE.match(text, pos)
                if m is None:
                    continue
                lower_case = True
            if " ".join(m.group().lower().split()) in _FAMOUS:
                continue
            start = _with_prefix(text, pos)
            if start == pos and _COUNTING.search(text, max(0, pos - 30), pos):
                continue
            end, postcode = _extend(text, m.end(), lower_case=lower_case)
            if lower_case and not postcode and _ADDRESS_CUE.search(text, max(0, pos - 30), pos) is None:
                continue
            postcodes.add(postcode)
            found.append((start, end, self.SCORE_WITH_POSTCODE if postcode else self.SCORE))
        if _HOUSE_HINT.search(text):
            for m in _HOUSE_THEN_STREET.finditer(text):
                end, postcode = _extend(text, m.end("street"))
                postcodes.add(postcode)
                found.append((_with_prefix(text, m.start()), end,
                              self.SCORE_WITH_POSTCODE if postcode else self.SCORE))
            found.sort()
        starts = [s for s, _, _ in found]  # in order
        words: list[re.Match] | None = None
        for code in _POSTCODE_SHAPE.finditer(text) if digits else ():  # a street alone needs its postcode
            before = bisect.bisect_right(starts, code.start()) - 1
            if code.start() in postcodes or (before >= 0 and code.start() < found[before][1]) \
                    or not (_POSTCODE.fullmatch(code.group()) and is_postcode(code.group())):
                continue
            window = max(0, code.start() - _LOOK_BACK)
            if words is None:
                words = list(_WORD.finditer(text))
                word_starts = [w.start() for w in words]
            first = bisect.bisect_left(word_starts, window)
            last = bisect.bisect_left(word_starts, code.start())
            street = _street_before(text, words, first, last, code.start())
            if street is not None:
                found.append((_with_prefix(text, street[0]), street[1], self.SCORE_WITH_POSTCODE))
        return [RecognizerResult(self.ENTITY, s, e, score) for s, e, score in _outermost(found)]


def _street_before(text: str, words: list[re.Match], first: int, last: int, postcode_start: int
                   ) -> tuple[int, int] | None:
    """The (start, end) of an address whose street is among words[first:last] and whose places run on to the
    postcode starting at `postcode_start`, or None."""
    for k in range(first, last):
        if words[k].group() not in _STREET_WORDS:
            continue
        for j in range(max(first, k - 4), k + 1):  # English streets end in the street word, Welsh ones start
            m = _STREET_AT.match(text, words[j].start())
            if m and m.end() >= words[k].end() and (j == 0 or not text[words[j].start() - 1] in "'’-"):
                end, postcode = _extend(text, m.end())
                if postcode == postcode_start:
                    return m.start(), end
    return None


def _with_prefix(text: str, start: int) -> int:
    """Where the address starting at `start` really starts: a flat or house name may come first."""
    unit = _UNIT_BEFORE.search(text, max(0, start - 12), start)
    if unit is not None:  # "Apartment 12, Granville Square": the number is the flat's
        start = unit.start()
    for _ in range(2):  # "Flat 3, Tower House, 12 ..."
        cut = len(text[:start].rstrip(" \t\r")) - 1
        if cut < 0 or text[cut] not in ",\n":
            break
        head = max(text.rfind(",", 0, cut), text.rfind("\n", 0, cut), cut - 60) + 1
        part = _UNIT_OR_HOUSE.search(text[head:cut].rstrip())
        if part is None:
            break
        start = head + part.start()
    return start


def _extend(text: str, end: int, lower_case: bool = False) -> tuple[int, int | None]:
    """Take the places after a street: the rest of its line, then places after a comma or on the next lines, up
    to a postcode (`lower_case`: also places typed in lower case). The post town is left out: the place right
    before the postcode, or the last of two or more places. Returns the address's end and where the postcode
    after it starts (None if there is none)."""
    ends, postcode = [end], None
    tail = _TAIL.match(text, end)
    if tail is not None and not _POSTCODE.fullmatch(tail.group().strip()) \
            and tail.group().split()[0].lower() not in word_names():
        end = tail.end()
        ends.append(end)
    for _ in range(_MAX_LOCALITIES + 1):
        sep = _SEP_OR_SPACE.match(text, end)
        if sep is None:
            break
        pos = sep.end()
        code = _POSTCODE.match(text, pos)
        if code and is_postcode(code.group()) and not text[code.end():code.end() + 1].isalnum():
            postcode = pos
            break
        if sep.group().strip(" \t") == "":  # after a bare space only a postcode belongs to the address
            break
        place = _LOCALITY.match(text, pos) or (_LOCALITY_ANY_CASE.match(text, pos) if lower_case else None)
        if place is None or place.group().endswith(("'s", "’s")):
            break
        if "\n" in sep.group():  # a town on its own line: the whole line, as in a letter head
            rest = text[place.end():text.find("\n", place.end()) if "\n" in text[place.end():] else len(text)]
            if rest.strip(" \t,") and not _POSTCODE.fullmatch(rest.strip(" \t,")):
                break
        end = place.end()
        ends.append(end)
    if len(ends) > 1 and (postcode is not None or len(ends) > 2):
        ends.pop()  # the post town
    return ends[-1], postcode


_SEP_OR_SPACE = re.compile(_SEP + r"|[ ]+")


def _outermost(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []
    for s, e, score in sorted(spans, key=lambda x: (x[0], -x[1])):
        if out and s < out[-1][1]:
            ps, pe, pscore = out[-1]
            out[-1] = (ps, max(pe, e), max(pscore, score))
        else:
            out.append((s, e, score))
    return out
