"""Public addresses: where an organisation is, not where a person lives.

A home address is among the most dangerous things a school holds; the address of a school, museum, venue or
business is printed on its website and letterhead and identifies no one. What separates them in a prompt is what
the address belongs to: an address right after an organisation's or venue's name ("Techniquest, Stuart Street,
Cardiff Bay CF10 5BW", "Ysgol Gyfun Cwm Rhymni, Heol Gelli-haf ...") or introduced as a venue ("Venue: ..."),
an address given as the standard example ("1 Example Street, Anytown", SW1A 1AA), or one in a made-up story. An
address after a person's name, or a home, refuge or hostel's, is never public.
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
    "aqa|ocr|wjec|eduqas|edexcel|ccea|sqa")  # (not Pearson: a surname as often)
_ORGANISATION = re.compile(rf"\b(?i:{_ORGANISATION_WORDS})\b")
# ... unless the place is where someone lives or shelters.
_DWELLING = re.compile(r"\b(?i:home|house|refuge|hostel|shelter|flat|cartref|tŷ|lloches|foster|carers?)\b")
_VENUE_LABEL = re.compile(r"(?i:\b(?:venue|lleoliad|meet(?:ing)? (?:at|point)|address of (?:the|our) "
                          r"(?:school|venue|museum|centre))\s*[:\-–]?\s*)$")
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
_CLAUSE_START = re.compile(r"[.!?;\n](?=[^.!?;\n]*$)")
_SENTENCE_END = re.compile(r"[.!?\n](?:\s|$)")


def public_address(text: str, start: int, end: int) -> bool:
    """Is the address (or postcode) text[start:end] an organisation's, an example or a story's?"""
    clause = _CLAUSE_START.search(text, max(0, start - 120), start)
    lo = clause.end() if clause else max(0, start - 120)
    before = text[lo:start]
    span = text[start:end]
    if _DWELLING.search(before) or _DWELLING.search(span):
        return False
    if _EXAMPLE.search(span):
        return True
    name = _NAME_BEFORE.search(before)  # the organisation's name must be the one the address follows
    # a postcode after the rest of the address: an organisation's name is one of the parts before it
    parts = [p.strip() for p in re.split(r"[,:;]", before)]
    if (name and _ORGANISATION.search(name.group(0))) or _ORGANISATION.search(span.split(",")[0]) or \
            _VENUE_LABEL.search(before) or any(_KIND_BEFORE.search(p) or ((m := _NAME_BEFORE.search(p))
                                                                         and _ORGANISATION.search(m.group(0)))
                                               for p in [before, *parts] if p):
        return True
    sentence_end = _SENTENCE_END.search(text, end)
    sentence = text[lo:sentence_end.start() if sentence_end else len(text)]
    return bool(_FICTION.search(sentence))
