"""UK_ADDRESS: home addresses, in a sentence or as the lines of a letter head or e-mail signature.

An address is a street with a house number ("12 Acacia Avenue", "12a Heol y Felin", "Flat 3, 12 ..."), or a
street without one that runs on to a postcode ("Rose Cottage, Mill Lane, Llandeilo SA19 6AB"). Streets end in an
English street word (Road, Close, Mews...) or start with a Welsh one (Heol, Ffordd, Stryd, Lôn, Cilgant...). The
town, county and postcode lines that follow (after a comma or on the next lines) are taken with it, and a flat or
a house name right before it too. A street word without a number or postcode is not an address ("Road safety
week", "the High Street in WW2"); neither is a number that counts something else ("Chapter 3 The Drive").
A street written in lower case ("12 acacia avenue") counts only after an address word ("lives at", "address").
"""
from __future__ import annotations

import bisect
import re

from presidio_analyzer import LocalRecognizer, RecognizerResult

from detectors.recognisers.contact import PresidioUkPostcodeRecognizer, is_postcode

__all__ = ["UkAddressRecognizer"]

_ENGLISH_STREETS = (
    "Road Rd Street St Avenue Ave Close Cl Crescent Cres Drive Dr Lane Ln Way Court Ct Gardens Gdns Terrace Terr "
    "Place Pl Grove Gr Mews Row Walk Hill Park Square Sq Rise View Parade Green Vale Meadow Meadows Fields Heights "
    "Chase Wharf Boulevard Hollow Croft Gate Wynd Brow Bank End Approach Circus Dene Garth Glade Grange Leys "
    "Orchard Passage Path Ride Side Yard Villas Cottages Buildings Estate"
).split()
_WELSH_STREETS = (
    "Heol Hewl Ffordd Stryd Lôn Lon Rhodfa Cilgant Clos Maes Bryn Tŷ Ty Teras Llwyn Parc Cae Pant Coed Plas Rhes "
    "Cwrt Gerddi Dôl Dol Penrhyn Bro Ael Allt Llys Cwm Glyn Gwaun Tir Tyddyn"
).split()
_HOUSES = "Cottage House Farm Farmhouse Lodge Barn Bungalow Villa Manor Hall Rectory Vicarage Mill Fferm Bwthyn".split()

_UP = "A-ZÀ-ÖØ-ÞŴŶ"
_CAP = rf"[{_UP}][^\W\d_]*(?:['’][^\W\d_]+)*(?:-[^\W\d_]+)*"  # Acacia, Stratford-upon-Avon, Tŷ
_LINK = r"(?:y|yr|'r|ar|upon|on|le|la|de|du|super|under|in|by|the|cum|next|of|and)"
_NAME = rf"{_CAP}(?:[ \t]+(?:{_LINK}[ \t]+){{0,2}}{_CAP}){{0,3}}"  # one to four capitalised words, linked
_NUMBER = r"\d{1,4}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
_STREET = (rf"(?:(?:The|Y|Yr)[ \t]+)?(?:{_CAP}[ \t]+){{1,3}}(?:{'|'.join(_ENGLISH_STREETS)})\.?(?![\w'’-])"
           rf"|(?:{'|'.join(_WELSH_STREETS)})(?:[ \t]+(?:{_LINK}[ \t]+)?{_CAP}){{1,3}}")
_UNIT = r"(?:Flat|Fflat|Apartment|Apt|Unit|Room|Rhif|Suite)\.?[ \t]*\d{1,4}[A-Za-z]?"
_WELSH_HOUSES = "Tŷ Ty Bryn Maes Plas Bwthyn Hafod Hafan Pen Glan Nant Llys Bod Cartref Gwêl Awel".split()
_HOUSE = (rf"(?:Tŷ|Ty|Y|The)?[ \t]*(?:{_CAP}[ \t]+){{0,2}}(?:{'|'.join(_HOUSES)})"
          rf"|(?:{'|'.join(_WELSH_HOUSES)})(?:[ \t]+(?:{_LINK}[ \t]+)?{_CAP}){{1,2}}")
_SEP = r"(?:,[ \t]*(?:\r?\n[ \t]*)?|[ \t]*\r?\n[ \t]*)"
# a flat or house name ending a line or a comma-separated part before the street
_UNIT_OR_HOUSE = re.compile(rf"(?<![\w'’-])(?:{_UNIT}|{_HOUSE})$")

_NUMBER_START = re.compile(rf"(?<![\w.:/£$-]){_NUMBER},?[ \t]+(?=[^\W\d_])")  # cheap first pass
_NUMBERED = re.compile(rf"(?P<number>{_NUMBER}),?[ \t]+(?P<street>{_STREET})")
_NUMBERED_ANY_CASE = re.compile(_NUMBERED.pattern, re.IGNORECASE)
_STREET_AT = re.compile(_STREET)
_STREET_WORDS = frozenset(_ENGLISH_STREETS + _WELSH_STREETS)
_WORD = re.compile(r"[^\W\d_]+")
_LOOK_BACK = 200  # how far before a postcode its street may start
_POSTCODE = re.compile("|".join(p.regex for p in PresidioUkPostcodeRecognizer.PATTERNS), re.IGNORECASE)
_POSTCODE_SHAPE = re.compile(r"(?<![^\W_])[A-Za-z]{1,3}\d[A-Za-z\d]?[ \t]?\d[A-Za-z]{2}(?![^\W_])")  # fast first pass
_LOCALITY = re.compile(rf"{_NAME}(?![\w'’-])")
# a town typed in lower case: one or two words, then a comma, full stop, line end or postcode
_LOCALITY_ANY_CASE = re.compile(r"[^\W\d_]+(?:[ \t]+[^\W\d_]+)?(?=[ \t]*(?:[,.;:)\n]|$)|[ \t]+[a-z]{1,2}\d)",
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
        if _DIGIT.search(text) is None:  # every address here has a house number or a postcode
            return []
        found: list[tuple[int, int, float]] = []
        for candidate in _NUMBER_START.finditer(text):
            pos = candidate.start()
            m, cued = _NUMBERED.match(text, pos), False
            if m is None:  # "12 acacia avenue" needs "lives at" / "address" before it; "12 Acacia Avenue" does not
                m = _NUMBERED_ANY_CASE.match(text, pos)
                cued = m is not None and _ADDRESS_CUE.search(text, max(0, pos - 30), pos) is not None
                if not cued:
                    continue
            if " ".join(m.group().lower().split()) in _FAMOUS:
                continue
            start = _with_prefix(text, pos)
            if start == pos and _COUNTING.search(text, max(0, pos - 30), pos):
                continue
            end, postcode = _extend(text, m.end(), lower_case=cued)
            found.append((start, end, self.SCORE_WITH_POSTCODE if postcode else self.SCORE))
        starts = [s for s, _, _ in found]  # in order, as found
        words: list[re.Match] | None = None
        for code in _POSTCODE_SHAPE.finditer(text):  # a street without a number is an address only with its postcode
            before = bisect.bisect_right(starts, code.start()) - 1
            if (before >= 0 and code.start() < found[before][1]) \
                    or not (_POSTCODE.fullmatch(code.group()) and is_postcode(code.group())):
                continue
            window = max(0, code.start() - _LOOK_BACK)
            if words is None:
                words = list(_WORD.finditer(text))
                word_starts = [w.start() for w in words]
            first = bisect.bisect_left(word_starts, window)
            last = bisect.bisect_left(word_starts, code.start())
            street = _street_before(text, words, first, last, code.end())
            if street is not None:
                found.append((_with_prefix(text, street), code.end(), self.SCORE_WITH_POSTCODE))
        return [RecognizerResult(self.ENTITY, s, e, score) for s, e, score in _outermost(found)]


def _street_before(text: str, words: list[re.Match], first: int, last: int, postcode_end: int) -> int | None:
    """The start of a street among words[first:last] whose town lines run on to the postcode ending at
    `postcode_end`, or None."""
    for k in range(first, last):
        if words[k].group() not in _STREET_WORDS:
            continue
        for j in range(max(first, k - 4), k + 1):  # English streets end in the street word, Welsh ones start
            m = _STREET_AT.match(text, words[j].start())
            if m and m.end() >= words[k].end() and (j == 0 or not text[words[j].start() - 1] in "'’-"):
                end, postcode = _extend(text, m.end())
                if postcode and end == postcode_end:
                    return m.start()
    return None


def _with_prefix(text: str, start: int) -> int:
    """Where the address starting at `start` really starts: a flat or house name may come first."""
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


def _extend(text: str, end: int, lower_case: bool = False) -> tuple[int, bool]:
    """Take the town / county / postcode parts after a street: after a comma, on the next lines, or a postcode
    after a space (`lower_case`: also a town typed in lower case). Returns the new end and whether a postcode was
    among them."""
    postcode = False
    for _ in range(_MAX_LOCALITIES + 1):
        sep = re.compile(_SEP + r"|[ \t]+").match(text, end)
        if sep is None:
            break
        pos = sep.end()
        code = _POSTCODE.match(text, pos)
        if code and is_postcode(code.group()) and not text[code.end():code.end() + 1].isalnum():
            return code.end(), True
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
    return end, postcode


def _outermost(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []
    for s, e, score in sorted(spans, key=lambda x: (x[0], -x[1])):
        if out and s < out[-1][1]:
            ps, pe, pscore = out[-1]
            out[-1] = (ps, max(pe, e), max(pscore, score))
        else:
            out.append((s, e, score))
    return out
