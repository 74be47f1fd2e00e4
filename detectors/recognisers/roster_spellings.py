"""PUPIL names written so that word-by-word matching misses them, found by hashing the forms they stand for.

Disguised on purpose (an evasion: `recognition_metadata["evasion"]`, and the engine blocks the prompt):
- letter-spaced, dotted or hyphen-spelled: "O l i v e r", "O.l.i.v.e.r", "O-l-i-v-e-r  S-m-i-t-h";
- leetspeak: "0l1v3r", "$m1th" (digits and symbols among the letters);
- reversed: "revilO" (capital at the end), or any word when the text says it is written backwards.

Glued into one token, as systems and people write them (not evasions; redacted like any pupil name):
- usernames and e-mail local parts: "annanowakowska", "oliver.smith", "jsmith27", "smitho", "NoahHall",
  "walker.h"; a login whose names are also words ("hwalker") or which is short ("kain") where the text says account;
- file names: "Smith_Oliver_Y11 report.docx", "10nowakt-mock.xlsx".

Each candidate is folded and looked up in the roster in one batch, like RosterNameRecognizer does for words.
"""
from __future__ import annotations

import itertools
import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from detectors.normalise import fold
from detectors.recognisers.persons import _LO, _UP
from detectors.roster import FORENAME, FULL_NAME, SURNAME, Roster
from detectors.word_sense import language_at
from detectors.wordlists import word_names

__all__ = ["RosterSpellingRecognizer"]

_NAME = FORENAME | SURNAME | FULL_NAME
# Four or more single letters/digits, each followed by the same kind of short separator: "O l i v e r".
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W_][ \t.\-_*·,/|]{1,3}){3,}[^\W_](?![^\W_])")
_SEPARATOR = re.compile(r"[ \t.\-_*·,/|]{1,3}")
# A token with letters and leetspeak digits or symbols mixed in: "0l1v3r", "$m1th", "ol!ver".
_LEET_TOKEN = re.compile(r"(?<![\w@$!|])(?=[\w@$!|]*[A-Za-z])(?=[\w@$!|]*[0-9@$!|])[A-Za-z0-9@$!|]{4,20}(?![\w@$!|])")
_LEET = {"0": "o", "1": "il", "!": "il", "|": "il", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t",
         "8": "b", "9": "g", "6": "g", "2": "z"}
# Letters joined by . _ - or ending in digits: "oliver.smith", "Smith_Oliver_Y11", "jsmith27".
_JOINED = re.compile(r"(?<![\w.@-])(?:[yY]?\d{1,4})?[^\W\d_]{2,}(?:[._-][^\W\d_]{2,}|[._-][A-Za-z]?\d{1,4}|\d{1,4})+"
                     r"(?![\w@-])")  # (a year first: "10nowakt-mock.xlsx")
# A file name or login of parts joined by . _ or -, whatever its parts ("Y11-OKONKWO-G-mock.pdf").
_FILE_TOKEN = re.compile(r"(?<![\w.@-])[^\W_]+(?:[._-][^\W_]+)+(?![\w@-])")
_LOWER_WORD = re.compile(r"[^\W\d_]{5,}")  # candidates only: their positions are found with strict edges
# A three- or four-letter login named as an account by the words beside it ("the account kain", "password for leoh",
# "thun can't log in", "ysun@...") or a home folder ("/home/jng/"): only then is so short a word a login
_SHORT_LOGIN = re.compile(
    r"(?i:\b(?:accounts?|logins?|user ?(?:names?|ids?)|users?|password for|unlock|cyfrif)(?: (?:is|was|called|named))?)"
    r"[:\s\"']{1,3}(?:[yY]?\d{1,4})?(?P<named>[a-z]{3,4})\d{0,4}(?=@|[^\w@.-]|\.(?!\w)|$)"
    r"|(?<![\w.@-])(?:[yY]?\d{1,4})?(?P<doing>[a-z]{3,4})\d{0,4}"
    r"(?=@|'s (?:account|login|password)|\s+(?i:can'?t |cannot |could ?n[o']t )?(?i:log(?:ged)? ?(?:in|on)))"
    r"|[/\\](?P<folder>[a-z]{3,4})(?=[/\\])")
# Words that say the token beside them is an account: "the password for hwalker", "walkerh is locked out"
_LOGIN_CUE = re.compile(r"\b(?:log(?:ged|s)?[ -]?(?:in|on)|logins?|user ?(?:names?|ids?)|users?|accounts?|passwords?"
                        r"|sign(?:ed)?[ -]in|locked|mailbox|e-?mail(?: address)?|cyfrinair|cyfrif|mewngofnodi"
                        r"|enw defnyddiwr)\b", re.I)
_WORD = re.compile(r"(?<![\w.@-])[^\W\d_]{4,}(?![\w@-])")
_REVERSED_LOOK = re.compile(r"(?<![\w.@-])[a-z]{3,}[A-Z](?![\w@-])")  # "revilO": the capital at the end
# An initial or two glued to a capitalised surname, as shared-drive folders and logins are named: "MAlHassan".
_CAMEL_LOGIN = re.compile(rf"(?<![\w.@-])[{_UP}]{{1,2}}(?P<name>(?:[{_UP}][{_LO}]+){{1,3}})\d{{0,4}}(?![\w@-])")
_CAMEL_PART = re.compile(rf"[{_UP}][{_LO}]+")
_CAMEL_WORD = re.compile(rf"[{_UP}]{{1,2}}[{_LO}]+")  # a name's own capitals kept: "OBrien", "McKay"
# Forename and surname glued, each keeping its capital, as accounts and folders are named: "NoahHall", "ZoëOBrien27",
# "Jayden-LeeCampbell"
_CAMEL_FULL_NAME = re.compile(rf"(?<![\w.@-])[{_UP}]{{1,2}}[{_LO}]+(?:-?[{_UP}]{{1,2}}[{_LO}]+){{1,3}}\d{{0,4}}"
                              r"(?![\w@-])")
# "SmithA", "PatelP09", "OBrienZ": a surname (its own capitals kept: O'Brien, McKay), then the forename's
# initial in capitals (the usual school login order)
_SURNAME_LOGIN = re.compile(
    rf"(?<![\w.@-])(?P<name>[{_UP}][{_LO}]{{0,2}}[{_UP}]?[{_LO}]{{2,}})(?:[{_UP}]{{1,2}}|[{_UP}][{_LO}]{{1,2}})\d{{0,4}}"
    rf"(?![\w@-])")  # ... or its first two or three letters, as SIMS makes logins: "HughesAm"
_FILE_OR_LOGIN = re.compile(r"[_.\d]")  # a file name, path or login, not a hyphenated word
# A digit or underscore makes a login of a glued token even when its surname is a word ("jhall27", "hall_w");
# a dot alone does not ("marks.values" is code)
_LOGIN_MARK = re.compile(r"[_\d]")
_FILE_EXTENSION = re.compile(r"\.(?:docx?|xlsx?|pptx?|pdf|csv|txt|rtf|odt|ods|jpe?g|png|heic|mp[34]|mov|zip)$", re.I)
_TRAILING_NUMBER = re.compile(r"[._-]?\d+$")
_LEADING_YEAR = re.compile(r"^(?:[yY]?\d{1,4})(?=[^\W\d_])")  # "10nowakt", "y9ahughes", "2013osmith"
_PART = re.compile(r"[^._-]+")
_REVERSED_CUE = re.compile(r"\b(?:backwards?|reversed?|in reverse|mirror(?:ed)?|tuag yn ôl|o chwith)\b", re.I)
_MAX_SPLITS = 24  # a glued token is tried as forename+surname at this many split points at most


class RosterSpellingRecognizer(EntityRecognizer):
    """Roster names letter-spaced, in leetspeak, reversed, or glued into usernames and file names (PUPIL)."""

    ENTITY = "PUPIL"
    SCORE = 0.85

    def __init__(self, roster: Roster, supported_language: str = "en") -> None:
        self.roster = roster
        self.common = word_names()
        super().__init__(supported_entities=[self.ENTITY], name="RosterSpellingRecognizer",
                         supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        # (start, end, folded forms to try, evasion?, lone ordinary-word names count?)
        candidates: list[tuple[int, int, list[str], bool, bool]] = []
        for m in _SPACED.finditer(text):
            candidates.extend(_spaced(m))
        for m in _LEET_TOKEN.finditer(text):
            if not m.group().isdigit() and not re.fullmatch(r"[A-Za-z]+\d+", m.group()):  # "jsmith27" is glued
                forms = _unleet(m.group())
                if forms:
                    candidates.append((m.start(), m.end(), forms, True, True))
        backwards = [m for m in _REVERSED_LOOK.finditer(text) if len(m.group()) >= 4]  # "revilO", "maiL"
        if _REVERSED_CUE.search(text):  # "written backwards": any word that is no ordinary one ("mail" stays mail)
            backwards += [m for m in _WORD.finditer(text) if m.group().lower() not in self.common]
        for m in backwards:
            candidates.append((m.start(), m.end(), [fold(m.group()[::-1])], True, True))
        for m in _JOINED.finditer(text):  # "oliver.smith", "jsmith27", "Smith_Oliver_Y11"
            for (lo, hi), forms in self._glued_forms(m.group()).items():  # "jhall27": "hall" is a surname there
                candidates.append((m.start() + lo, m.start() + hi, forms, False, bool(_LOGIN_MARK.search(m.group()))))
        for m in _FILE_TOKEN.finditer(text):  # "Y11-OKONKWO-G-mock.pdf", "h.walker22", "walker.h": a name, an initial
            if _LOGIN_MARK.search(m.group()) or _FILE_EXTENSION.search(m.group()):
                parts = list(_PART.finditer(m.group()))
                pairs = [pair for a, b in itertools.pairwise(parts) for pair in ((a, b), (b, a))]
            elif m.group().islower() and len(parts := list(_PART.finditer(m.group()))) == 2 \
                    and text[m.end():m.end() + 1] != "(":
                pairs = [(parts[0], parts[1])]  # without a digit or underscore only "walker.h": "s.max()" is code
            else:
                continue
            for name, initial in pairs:
                letters = name.group().rstrip("0123456789")  # "h.walker22"
                if len(initial.group()) == 1 and initial.group().isalpha() and len(letters) >= 2 and letters.isalpha():
                    candidates.append((m.start() + min(name.start(), initial.start()),
                                       m.start() + max(name.end(), initial.end()), [fold(letters)], False, True))
        # One lower-case word that is no ordinary word may be a username ("annanowakowska"): its forms are tried
        # once per distinct word, and its positions found only if the roster knows one.
        # (a login in capitals too, as MIS exports print them: "HUGHESA")
        lowered = {w.lower() for w in _LOWER_WORD.findall(text) if w.islower() or w.isupper()}
        # where the text speaks of accounts, a short login too ("the account kain is locked")
        lowered |= {m.group(m.lastgroup) for m in _SHORT_LOGIN.finditer(text)}
        usernames = {w: self._glued_forms(w, short=True) for w in lowered - self.common
                     if not _inflected(w, self.common)}
        usernames = {w: forms[(0, len(w))] for w, forms in usernames.items() if forms}
        for m in _CAMEL_FULL_NAME.finditer(text):  # only as a whole name: "PowerPoint" is no pupil
            words = _CAMEL_WORD.findall(m.group())
            forms = [fold(" ".join(words)), fold(f"{words[0]} {''.join(words[1:])}")]  # "DanielVanDerMerwe"
            forms += [fold(f"{a} {b}") for a, b in itertools.pairwise(words)]
            candidates.append((m.start(), m.end(), forms, False, False))
        for m in _CAMEL_LOGIN.finditer(text):  # "MAlHassan", "JSmith": initials, then the surname's capitals
            candidates.append((m.start(), m.end(), _camel_login_forms(m), False, True))
        for m in _SURNAME_LOGIN.finditer(text):
            candidates.append((m.start(), m.end(), [fold(m.group("name"))], False, True))
        if not candidates and not usernames:
            return []
        unique = sorted({f for _, _, forms, _, _ in candidates for f in forms}
                        | {f for forms in usernames.values() for f in forms})
        flags, idx = self.roster.lookup_folded(unique)
        hits = {f: (int(fl), int(ix)) for f, fl, ix in zip(unique, flags.tolist(), idx.tolist()) if fl & _NAME}
        for word, forms in usernames.items():
            if any(f in hits for f in forms):
                # In a Welsh passage a lower-case word is a Welsh word: only a forename glued
                # to a surname is a username there ("gwynt" is the Welsh wind, not "gwyn" + "t");
                # elsewhere a year digit may lead ("6kaurs")
                whole = [f for f in forms if " " in f]
                # digits glued on ("2013osmith") or a path around it ("/y9/osmith/") say a login even when the
                # surname is also a word
                candidates += [(m.start(), m.end(), whole if language_at(text, m.start()) == "cy" else forms, False,
                                len(m.group()) > len(word) or text[m.start() - 1:m.start()] in ("/", "\\")
                                or _login_cued(text, m.start(), m.end()))
                               for m in re.finditer(rf"(?<![\w.@-])(?:y\d{{1,2}}|\d{{1,4}})?{re.escape(word)}\d{{0,4}}"
                                                    r"(?![\w-])", text, re.IGNORECASE)]  # "2013osmith", "y9osmith"
        results = []
        for start, end, forms, evasion, lenient in candidates:
            hit = next((hits[f] for f in forms if f in hits and self._counts(f, hits[f][0], lenient)), None)
            if hit is not None:
                results.append(self._result(start, end, evasion, self.roster.refs_at(hit[1])))
        return results

    def _counts(self, form: str, flags: int, lenient: bool) -> bool:
        """A full name always counts; a lone forename or surname only when it is not an ordinary word, or when
        the shape says a name (nobody letter-spaces "will"; "jhall27" is a username)."""
        return bool(flags & FULL_NAME) or lenient or form.replace(" ", "") not in self.common

    def _glued_forms(self, token: str, short: bool = False) -> dict[tuple[int, int], list[str]]:
        """Forms a username or file name may stand for, by the span of the token they cover: neighbouring parts
        ("Smith_Oliver" of "Smith_Oliver_Y11"), or one lower-case run split into forename + surname
        ("anna nowakowska"), or an initial + surname ("jsmith27" -> "smith"). Only a login the text points to
        (`short`) may be shorter than five letters: "plan" is no "pla" + "n"."""
        if token.isalpha() and (len(token) < (3 if short else 5) or token in self.common or not token.islower()):
            return {}  # an ordinary word, or a capitalised one (prose, left to RosterNameRecognizer)
        body = _TRAILING_NUMBER.sub("", token)
        parts = [(p.start(), p.end()) for p in _PART.finditer(body)]
        if len(parts) > 1:  # "oliver.smith", "Smith_Oliver": pairs of neighbouring parts
            forms = {(a, d): [fold(f"{token[a:b]} {token[c:d]}")] for (a, b), (c, d) in itertools.pairwise(parts)}
            if _FILE_OR_LOGIN.search(token):  # each part as a login of its own: "dpritchard_y9.docx", "DylanPritchard_Y9"
                for a, b in parts:  # (not in a hyphenated word: "segunda-feira" holds no "eira")
                    for (lo, hi), found in self._part_forms(token[a:b]).items():
                        forms.setdefault((a + lo, a + hi), []).extend(found)
            if "-" in body and body.replace("-", "").isalpha() and body.islower():  # "jayden-leecampbell14"
                forms.setdefault((0, len(token)), []).extend(self._glued_forms(body.replace("-", ""))
                                                             .get((0, len(body) - body.count("-")), []))
            return forms
        lead = _LEADING_YEAR.match(body)
        body = body[lead.end():] if lead else body
        word = body.lower()
        shortest = 3 if short else 4 if token != body else 5  # digits say a login: "miac17" is Mia C.
        if not body.isalpha() or len(word) < shortest or (word in self.common and body == token) \
                or not body.islower():
            return {}  # a capitalised word is prose, left to RosterNameRecognizer
        forms = [f"{word[:i]} {word[i:]}" for i in range(2, min(len(word) - 1, _MAX_SPLITS))] if len(word) >= 5 else []
        if token != body or word not in self.common:  # "jsmith27", "10jsmith": an initial, then a surname
            forms += [word[1:], word[:-1]]
        return {(0, len(token)): forms if word.isascii() else [fold(f) for f in forms]}

    def _part_forms(self, part: str) -> dict[tuple[int, int], list[str]]:
        """Forms one part of a file name or path may stand for, read as a token of its own would be: a lower-case
        login ("dpritchard"), capitals joining names ("DylanPritchard", "JSmith") or a surname + initial
        ("OBrienZ")."""
        if part.islower() or (part.isupper() and len(part) >= 5):  # "osmith", "OSMITH"; not "marks" in code
            return {} if _inflected(part.lower(), self.common) else self._glued_forms(part.lower())
        if m := _CAMEL_LOGIN.fullmatch(part):
            return {(0, len(part)): _camel_login_forms(m)}
        if m := _SURNAME_LOGIN.fullmatch(part):
            return {(0, len(part)): [fold(m.group("name"))]}
        if len(words := _CAMEL_WORD.findall(part)) > 1 and "".join(words) == part:  # "DylanPritchard", "ZoëOBrien"
            ends = list(itertools.accumulate(len(w) for w in words))
            forms = {(0, len(part)): [fold(" ".join(words))]}
            for k in range(len(words) - 1):  # "AmeliaHughesReport": two neighbouring words of it
                forms.setdefault((ends[k] - len(words[k]), ends[k + 1]), []).append(fold(f"{words[k]} {words[k + 1]}"))
            return forms
        return {}

    def _result(self, start: int, end: int, evasion: bool, refs: list[str]) -> RecognizerResult:
        kind = "disguised name" if evasion else "name in a username or file name"
        return RecognizerResult(self.ENTITY, start, end, self.SCORE, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            "pupil_refs": refs if len(refs) <= 5 else [], "roster_match": kind, "evasion": evasion})


def _login_cued(text: str, start: int, end: int) -> bool:
    """Does the text around a token speak of logins or accounts? Then a name in it that is also a word is the
    name ("hwalker" beside "password"), as digits or a path would say."""
    return bool(_LOGIN_CUE.search(text, max(0, start - 40), min(len(text), end + 30)))


def _camel_login_forms(m: re.Match) -> list[str]:
    """What an initial-and-surname login stands for: "JSmith" -> smith, "MAlHassan" -> al hassan / alhassan, and
    "NOConnor" -> oconnor too (one initial, then O'Connor's own capitals)."""
    parts = _CAMEL_PART.findall(m.group("name"))
    forms = [fold(" ".join(parts)), fold("".join(parts))]
    if m.start("name") - m.start() == 2:
        forms.append(fold(m.string[m.start() + 1:m.end("name")]))
    return forms


_SUFFIXES = ("s", "es", "ed", "d", "ing", "ly", "er", "ers", "est", "ies", "ied", "ment", "ments", "ness", "tion",
             "tions", "able", "ful", "ise", "ised", "ize", "ized", "ism", "ist", "ists")


def _inflected(word: str, common: frozenset[str]) -> bool:
    """Is `word` an ordinary word with an ending ("worksheets", "arriving", "strategies")? Then it is no username."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix):
            stem = word[:-len(suffix)]
            if stem in common or stem + "e" in common or (suffix[0] == "i" and stem + "y" in common):
                return True
    return False


def _spaced(m: re.Match) -> list[tuple[int, int, list[str], bool, bool]]:
    """Words of a letter-spaced run: the most common separator joins letters, any other one parts words
    ("O-l-i-v-e-r S-m-i-t-h", "O l i v e r   S m i t h")."""
    run = m.group()
    seps = [s.group() for s in _SEPARATOR.finditer(run)]
    joiner = max(set(seps), key=seps.count)
    letters = _SEPARATOR.split(run)
    words, current = [], letters[0]
    for sep, letter in zip(seps, letters[1:]):
        if sep == joiner:
            current += letter
        else:
            words.append(current)
            current = letter
    words.append(current)
    forms = [" ".join(words)] + words if len(words) > 1 else words
    out = []
    for form in forms:
        variants = _unleet(form) if any(c.isdigit() for c in form) else [fold(form)]
        if len(form.replace(" ", "")) >= 3:
            out.extend(variants)
    return [(m.start(), m.end(), out, True, True)] if out else []


def _unleet(token: str) -> list[str]:
    """Folded readings of a leetspeak token ("0l1v3r" -> "oliver", "olwer"...); at most 8."""
    choices = [_LEET.get(c, c) if not c.isalpha() else c for c in token]
    ambiguous = [i for i, c in enumerate(choices) if len(c) > 1][:3]
    out = []
    for picks in itertools.product(*(choices[i] for i in ambiguous)):
        letters = list(choices)
        for i, p in zip(ambiguous, picks):
            letters[i] = p
        word = "".join(c[0] for c in letters)
        if word.replace(" ", "").isalpha():
            out.append(fold(word))
    return out
