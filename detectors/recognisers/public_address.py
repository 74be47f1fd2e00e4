"""Public addresses: where an organisation is, not where a person lives.

A home address is among the most dangerous things a school holds; the address of a school, museum, venue or
business is printed on its website and letterhead and identifies no one. What separates them in a prompt is what
the address belongs to: an address right after an organisation's or venue's name ("Techniquest, Stuart Street,
Cardiff Bay CF10 5BW", "Ysgol Gyfun Cwm Rhymni, Heol Gelli-haf ...") or introduced as a venue ("Venue: ..."),
an address given as the standard example ("1 Example Street, Anytown", SW1A 1AA), a street everyone knows from
fiction ("4 Privet Drive"), or one in a made-up story. An address after a person's name, or a home, refuge or
hostel's, is never public.
"""
from __future__ import annotations

import re

__all__ = ["public_address"]

# Words that make the name before an address an organisation's or a venue's (English and Welsh).
_ORGANISATION_WORDS = (
    "school|ysgol|academy|college|university|prifysgol|primary|infants|juniors|cynradd|uwchradd|gyfun|"
    "museum|amgueddfa|gallery|oriel|hall|neuadd|centre|center|"
    "canolfan|theatre|theater|theatr|cinema|zoo|library|llyfrgell|church|chapel|capel|eglwys|cathedral|mosque|"
    "temple|synagogue|gurdwara|stadium|arena|leisure|council|cyngor|station|gorsaf|hospital|ysbyty|surgery|ltd|plc|"
    "limited|hotel|gwesty|cafe|café|restaurant|trust|foundation|club|clwb|office|swyddfa|headquarters|abbey|shop|"
    "store|market|marchnad|venue|techniquest|national|board|dental|dentist|clinic|pharmacy|practice|transport|"
    "railway|airport|police|scouts?|guides|brownies|cubs|hut|industrial|company|agency|charity|department|"
    "castle|castell|palace|aquarium|wetlands|observatory|planetarium|guildhall|world|"
    "aqa|ocr|wjec|eduqas|edexcel|ccea|sqa")  # (not Pearson: a surname as often)
_ORGANISATION = re.compile(rf"\b(?i:{_ORGANISATION_WORDS})\b")
# ... unless the place is where someone lives or shelters.
_DWELLING = re.compile(r"\b(?i:home|house|refuge|hostel|shelter|flat|cartref|tŷ|lloches|foster|carers?)\b")
_VENUE_LABEL = re.compile(r"(?i:\b(?:venue(?: address)?|lleoliad|meet(?:ing)? (?:at|point)|address of (?:the|our) "
                          r"(?:school|venue|museum|centre))\s*[:\-–]?\s*"
                          # "Our exam venue this year is"
                          r"|\bvenue\b[^.\n]{0,20}\b(?:is|will be)[ \t]+(?:at[ \t]+)?)$")
# The organisation named in brackets after its address: "96 Queen's Road, Newport NP20 2AE (Riverside Theatre)"
_NAME_AFTER = re.compile(r"[^\n().!?]{0,40}?\(([A-Z][^()\n@]{1,59})\)")
# Streets every reader knows from books and television: "4 Privet Drive", "221B Baker Street", "742 Evergreen Terrace"
_FICTIONAL_STREET = re.compile(r"(?i:\b(?:privet drive|221b baker street|grimmauld place|west wallaby street|"
                               r"evergreen terrace|windsor gardens|cherry tree lane|wisteria lane|ramsay street|"
                               r"coronation street|albert square|sesame street|spooner street|paper street)\b)")
# An organisation named by its kind right before the address: "leaves from the school, 14 Heol Isaf", "our
# office is at 2 High Street", "the museum's address: ...".
_KIND_BEFORE = re.compile(rf"\b(?i:the|our|their|this|that|a)[ \t]+(?:[\w'-]+[ \t]+)?"
                          rf"\b(?i:{_ORGANISATION_WORDS})\b(?:['\u2019]s)?"
                          r"(?i:[ \t]*[,:]|[ \t]+is[ \t]+at|[ \t]+is|[ \t]+at|[ \t]+(?:address|postcode)(?:[ \t]+is)?[ \t]*:?)?[ \t]*"
                          r"(?:$|\d+[A-Za-z]?[ \t]+[^,\n]*,[^\n]*$)")  # (for a postcode: the house number after it)
_EXAMPLE = re.compile(r"(?i:\bexample\b|\banytown\b|\bsample\b|\bSW1A [12]AA\b|\bAN1 1AA\b)")
_FICTION = re.compile(r"(?i:\b(?:fictional|fictitious|made-up|made up|imaginary|invented|crime scene|detective "
                      r"story|ffuglen)\b)")
# A capitalised name right before the address, then its comma: "the National Museum, " / "Techniquest, ".
_NAME_BEFORE = re.compile(r"(?:[A-Z\u00c0-\u017f][\w'\u2019&.-]*[ \t]+(?:(?:of|the|and|y|yr|a|de|for)[ \t]+)?){0,6}"
                          r"[A-Z\u00c0-\u017f][\w'\u2019&.-]*,?[ \t]*$")
_HOUSE = re.compile(r"\d+[A-Za-z]?[ \t]")  # a part of an address that starts with its house number: its street
_HOUSE_BEFORE = re.compile(r"\d+[A-Za-z]?[ \t]+$")
_CLAUSE_START = re.compile(r"[.!?;\n](?=[^.!?;\n]*$)")
_SENTENCE_END = re.compile(r"[.!?\n](?:\s|$)")


def public_address(text: str, start: int, end: int) -> bool:
    """Is the address (or postcode) text[start:end] an organisation's, an example or a story's?"""
    clause = _CLAUSE_START.search(text, max(0, start - 120), start)
    lo = clause.end() if clause else max(0, start - 120)
    for _ in range(3):  # an address block, line by line: the organisation's name heads it a line or three up
        if lo == 0 or text[lo - 1] != "\n":
            break
        line_start = text.rfind("\n", 0, lo - 1) + 1
        stop = max(text.rfind(c, line_start, lo - 1) for c in ".!?")
        if stop >= 0:  # the line above ends a sentence first: "... the trip. Meet at: Techniquest"
            lo = stop + 1
            break
        lo = line_start
    before = text[lo:start].rstrip("\n")
    span = text[start:end]
    if _DWELLING.search(before) or _DWELLING.search(span):
        return False
    if _EXAMPLE.search(span) or _FICTIONAL_STREET.search(text, max(lo, start - 40), end):  # "221B Baker Street"
        return True
    if (after := _NAME_AFTER.match(text, end)) and _ORGANISATION.search(after.group(1)):
        return True
    # the organisation's name is the one the address follows, or, for a postcode after the rest of the address, one
    # of the parts before it (not a street: "31a Stryd y Capel", "4 Church Lane" are homes as often)
    parts = [p.strip() for p in re.split(r"[,:;\n]", before)]
    first = span.split(",")[0]
    if _organisation_named(before) or (_ORGANISATION.search(first) and not _HOUSE.match(first)) \
            or _VENUE_LABEL.search(before) or any(_KIND_BEFORE.search(p) for p in [before, *parts] if p) \
            or any(_organisation_named(p) for p in parts if p):
        return True
    sentence_end = _SENTENCE_END.search(text, end)
    sentence = text[lo:sentence_end.start() if sentence_end else len(text)]
    return bool(_FICTION.search(sentence))


def _organisation_named(text: str) -> bool:
    """Does `text` end with an organisation's or venue's name ("... trip to the National Museum")? Not a street
    after its house number ("at 4 Church Lane")."""
    name = _NAME_BEFORE.search(text)
    return bool(name and _ORGANISATION.search(name.group(0)) and not _HOUSE_BEFORE.search(text, 0, name.start()))
