"""UK pupil identifiers: UPN, ULN and exam UCI, each with its check character verified.

Checks follow the published specifications (the DfE UPN guide, the ULN, UCI, NHS and NI number rules), tested against their
worked examples rather than against other code, since wrong implementations circulate.
"""
from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

__all__ = [
    "UciRecognizer", "UlnRecognizer", "UpnRecognizer",
    "complete_upn", "la_number", "uci_check_character", "uci_is_valid", "uln_is_valid", "upn_check_letter", "upn_is_valid",
]

# Value -> letter for the UPN check letter (and a temporary UPN's final letter); I, O and S never used.
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UCI_LETTERS = "ABCDEFGHKLMRTVWXY"


def upn_check_letter(upn: str) -> str | None:
    """The check letter characters 2-13 of a UPN call for, or None if they are malformed."""
    upn = upn.upper()
    if len(upn) != 13 or not upn[1:12].isdigit():
        return None
    last = upn[12]
    if last.isdigit():
        last_value = int(last)
    elif last in _UPN_LETTERS:
        last_value = _UPN_LETTERS.index(last)  # temporary UPN: the letter scores its table value
    else:
        return None
    total = sum(int(c) * w for c, w in zip(upn[1:12], range(2, 13))) + last_value * 13
    return _UPN_LETTERS[total % 23]


def upn_is_valid(upn: str) -> bool:
    """Permanent (Annnnnnnnnnnn) or temporary (AnnnnnnnnnnnA) UPN with a correct check letter."""
    upn = upn.upper()
    return len(upn) == 13 and upn[0] in _UPN_LETTERS and upn_check_letter(upn) == upn[0]


def uln_is_valid(uln: str) -> bool:
    """10 digits, first non-zero, weights 10..1 summing to 10 mod 11."""
    if len(uln) != 10 or not uln.isdigit() or uln[0] == "0":
        return False
    return sum(int(c) * w for c, w in zip(uln, range(10, 0, -1))) % 11 == 10


def uci_check_character(uci: str) -> str | None:
    """Check character for the first 12 characters of a UCI (all digits: centre, awarding body, year, number)."""
    body = uci[:12]
    if len(body) != 12 or not body.isdigit():
        return None
    return _UCI_LETTERS[sum(int(c) * w for c, w in zip(body, range(16, 4, -1))) % 17]


def uci_is_valid(uci: str) -> bool:
    uci = uci.upper()
    return len(uci) == 13 and uci_check_character(uci) == uci[12]


# Identifiers typed (or pasted) to dodge a pattern: "T 8 0 1 …", "T801 200 115 100", "9276.308.686". One separator
# between any two characters, the same one throughout (clean() has already turned NBSP and dash variants into
# " " and "-"); the check character, not the regex, keeps ordinary text out. Each pattern demands at least one
# separator (the lookahead) so an unseparated identifier is found once, by the plain pattern.
_SEP = r"[ .\-]"


def _separated(first: str, rest: str, count: int, last: str = r"\d") -> str:
    return (rf"\b(?={first}\d*{_SEP}){first}(?:{_SEP}?{rest}){{{count - 1}}}{_SEP}?{last}\b")


def _joined(pattern_text: str) -> str | None:
    """The identifier with its separators removed, or None if it mixes separators ("T 801.200-115100")."""
    if len({c for c in pattern_text if c in " .-"}) > 1:
        return None
    return pattern_text.replace(" ", "").replace(".", "").replace("-", "")


class UpnRecognizer(PatternRecognizer):
    """Unique Pupil Number, permanent or temporary. The check letter makes a false match ~1 in 23 x 10^12."""

    PATTERNS = [
        Pattern("UPN (permanent)", r"\b[A-HJ-NP-RT-Z]\d{12}\b", 0.3),
        Pattern("UPN (temporary)", r"\b[A-HJ-NP-RT-Z]\d{11}[A-HJ-NP-RT-Z]\b", 0.3),
        Pattern("UPN (separated)", _separated("[A-HJ-NP-RT-Z]", r"\d", 12, r"[\dA-HJ-NP-RT-Z]"), 0.3),
        # Pasted without its check letter ("801200001001", temporary "80120000101A"): nothing to verify, so it
        # counts only when its first three digits are a local authority's number and a context word is in the same
        # sentence, before or after it ("Is 801200001001 a valid UPN?"); the engine completes it to look it up in
        # the roster (RosterIdentifierRecognizer finds a rostered pupil's with no context at all).
        Pattern("UPN (check letter missing)", r"\b\d{12}\b", 0.2),
        Pattern("UPN (temporary, check letter missing)", r"\b\d{11}[A-HJ-NP-RT-Z]\b", 0.2),
    ]
    CONTEXT = ["upn", "unique pupil number", "pupil number", "pupil", "student", "former upn"]
    # Words that say a check-letter-less number is a pupil's, anywhere in its sentence: the transfer files and
    # systems UPNs travel in, and the Welsh for "number".
    SENTENCE_CONTEXT = re.compile(r"\b(?:upns?|pupil|pupils|student|ctf|common transfer|transfer|mis|sims|arbor|"
                                  r"bromcom|scholarpack|rhif|disgybl|old school|previous school|admissions?)\b",
                                  re.IGNORECASE)
    MISSING_CHECK_SCORE = 0.6

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="UK_UPN",
            name="UpnRecognizer",
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.PATTERNS],
            context=self.CONTEXT,
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        # Presidio matches case-insensitively: "h801200001001" is still a UPN.
        if len(pattern_text) == 12 and pattern_text[:11].isdigit():
            return None if la_number(pattern_text[:3]) else False  # keep the low score; context decides
        upn = _joined(pattern_text)
        return upn is not None and upn_is_valid(upn.upper())

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for r in results:
            if r.end - r.start == 12 and text[r.start].isdigit() and r.score < self.MISSING_CHECK_SCORE:
                lo = max(_SENTENCE_END.finditer(text, max(0, r.start - 120), r.start), key=lambda m: m.end(),
                         default=None)
                hi = _SENTENCE_END.search(text, r.end, r.end + 120)
                window = (lo.end() if lo else max(0, r.start - 120), hi.start() if hi else min(len(text), r.end + 120))
                if self.SENTENCE_CONTEXT.search(text, *window):
                    r.score = self.MISSING_CHECK_SCORE
        return results


_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
# Local authority numbers (DfE): inner and outer London, the metropolitan districts, the Isles of Scilly, Wales,
# the shire counties and unitaries. A UPN's characters 2-4 are one of these.
_LA_NUMBERS = ((201, 213), (301, 320), (330, 394), (420, 420), (660, 682), (800, 941))


def la_number(digits: str) -> bool:
    """Is `digits` (three of them) a local authority number, as a UPN's characters 2-4 must be?"""
    return digits.isdigit() and any(lo <= int(digits) <= hi for lo, hi in _LA_NUMBERS)


def complete_upn(value: str) -> str:
    """A UPN written without its check letter, completed ("801200001001" -> "H801200001001", temporary
    "80120000101A" -> "G80120000101A"); others unchanged."""
    digits = value.strip().upper()
    if len(digits) == 12 and digits[:11].isdigit():
        letter = upn_check_letter("A" + digits)
        if letter is not None:
            return letter + digits
    return value


class UlnRecognizer(PatternRecognizer):
    """Unique Learner Number. One ten-digit number in eleven passes the check by chance, so a valid ULN keeps
    a moderate score that context words ("ULN", "learner number") raise; invalid ones are dropped. Written with
    separators ("9276 308 686") ten digits look like a phone number or a reference as often as a ULN, so that form
    scores below the threshold until a context word lifts it."""

    PATTERNS = [
        Pattern("ULN", r"\b[1-9]\d{9}\b", 0.5),
        Pattern("ULN (separated)", _separated("[1-9]", r"\d", 9), 0.3),
    ]
    CONTEXT = ["uln", "unique learner number", "learner number", "learner", "learning records", "lrs"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="UK_ULN",
            name="UlnRecognizer",
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.PATTERNS],
            context=self.CONTEXT,
            supported_language=supported_language,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        uln = _joined(pattern_text)
        return uln is None or not uln_is_valid(uln)


class UciRecognizer(PatternRecognizer):
    """Exam Unique Candidate Identifier (JCQ): 12 digits and a check character, weights 16..5 mod 17."""

    PATTERNS = [
        Pattern("UCI", r"\b\d{12}[A-HKLMRTV-Y]\b", 0.3),
        Pattern("UCI (separated)", _separated(r"\d", r"\d", 12, "[A-HKLMRTV-Y]"), 0.3),
    ]
    CONTEXT = ["uci", "unique candidate identifier", "candidate", "candidate number", "exam", "entry", "jcq"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="UK_UCI",
            name="UciRecognizer",
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.PATTERNS],
            context=self.CONTEXT,
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool:
        uci = _joined(pattern_text)
        return uci is not None and uci_is_valid(uci.upper())
