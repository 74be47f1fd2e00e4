"""Span rules that come from a prompt's layout: lines, table cells, letter heads.

A placeholder replaces exactly the identifier. A pasted table or a letter head keeps its shape: a name found across
a line break or a cell border (tab, "|") is two values, each redacted in its own cell; and the post town standing
between an address and its postcode is a place, not a person, whatever NER guessed.
"""
from __future__ import annotations

import re
from functools import cache

from presidio_analyzer import RecognizerResult

from spacy.lang.en.stop_words import STOP_WORDS

from detectors.nlp import maybe_name
from detectors.wordlists import common_words

__all__ = ["name_table_rows", "not_names_in_tables", "split_at_borders", "trim_person_edges", "whole_logins",
           "without_post_towns"]

_BORDER = re.compile(r"[ \t]*(?:\r?\n|\t|\||=)[ \t]*")  # "=" as in a key: "Cym = Cymraeg"
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_NAMES = ("PUPIL", "PERSON")


def split_at_borders(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Names that run across a line break or a table cell border, cut into their cells. A rostered pupil's
    pieces all stay (each is part of the pupil's name: "Smith<tab>Oliver"); a PERSON piece stays only where it
    holds a capitalised word that could be a name ("Sinéad Dumitrescu" | "Tŷ Gwyn" is a name and a house)."""
    out: list[RecognizerResult] = []
    for r in results:
        if r.entity_type not in _NAMES or _BORDER.search(text, r.start, r.end) is None:
            out.append(r)
            continue
        pos = r.start
        for border in [*_BORDER.finditer(text, r.start, r.end), None]:
            end = border.start() if border is not None else r.end
            words = list(_WORD.finditer(text, pos, end))
            if words and (r.entity_type == "PUPIL" or any(_could_be_a_name(w.group()) for w in words)):
                out.append(RecognizerResult(r.entity_type, words[0].start(), words[-1].end(), r.score,
                                            analysis_explanation=r.analysis_explanation,
                                            recognition_metadata=dict(r.recognition_metadata or {})))
            if border is not None:
                pos = border.end()
    return out


def _could_be_a_name(word: str) -> bool:
    return word[:1].isupper() and maybe_name(word, set()) and not _ordinary(word)


def _ordinary(word: str) -> bool:
    """An ordinary word, or the plural of one ("Parents")."""
    common, lower = common_words(), word.lower().rstrip("'’")
    return lower in common or (lower.endswith("s") and lower[:-1] in common)


def trim_person_edges(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """NER's PERSON spans cut where they list two people ("Dave and Lily"), trimmed of the lower-case stop words at
    their ends ("the Head of" -> "Head"), titles at their ends ("Caro Sr."), and of a postcode they ran into
    ("Nottingham NG2"); dropped when no word that could be a name is left. A particle of a name ("de la Cruz", "ap
    Rhys") is no stop word and stays."""
    postcodes = [r for r in results if r.entity_type == "UK_POSTCODE"]
    out: list[RecognizerResult] = []
    for r in results:
        if r.entity_type != "PERSON":
            out.append(r)
            continue
        end = min([r.end, *(p.start for p in postcodes if r.start < p.start < r.end)])
        cuts = [r.start, *(i for m in _LIST_JOIN.finditer(text, r.start, end) for i in m.span()), end]
        listed = len(cuts) > 2  # each side of "and" was a name to NER
        for lo, hi in zip(cuts[::2], cuts[1::2]):
            words = list(_WORD.finditer(text, lo, hi))
            while words and ((words[0].group().islower() and words[0].group() in STOP_WORDS)
                             or (len(words) > 1 and words[0].group().lower() in _TITLES)):
                words.pop(0)  # "the Head", "Ms Desai": the title is no part of the value (TitledNameRecognizer's too)
            while words and ((words[-1].group().islower() and words[-1].group() in STOP_WORDS)
                             or words[-1].group().lower() in _titles()
                             or (len(words) > 1 and words[-1].group().lower() in _INSTRUCTIONS
                                 and _NEW_SENTENCE.fullmatch(text, words[-2].end(), words[-1].start()))):
                words.pop()  # "Caro Sr.": a title ends no name; "Gemma R. Make it a table": a new sentence
            if words and all(w.group().lower() in _greetings() for w in words):
                continue  # the greeting NER took for a forename ("Caro Sr." -> "Caro")
            if words and (words[0].start(), words[-1].end()) == (r.start, r.end):
                out.append(r)  # untouched: NER's call stands
                continue
            with_initial = len(words) > 1 and len(words[-1].group()) == 1 and words[-1].group().isupper() \
                and words[0].group()[:1].isupper()  # "Gemma R.": a forename and a surname's initial
            named = with_initial or any(_could_be_a_name(w.group()) or (listed and w.group()[:1].isupper())
                                        for w in words)
            if not words or not named:
                continue
            out.append(RecognizerResult(r.entity_type, words[0].start(), words[-1].end(), r.score,
                                        analysis_explanation=r.analysis_explanation,
                                        recognition_metadata=dict(r.recognition_metadata or {})))
    return out


_LIST_JOIN = re.compile(r"[ \t]+(?:and|&)[ \t]+")
_NEW_SENTENCE = re.compile(r"[.!?][ \t]+")
# Words that open the request after a pasted name ("... Gemma R. Make it a table"), never a surname after an initial
_INSTRUCTIONS = frozenset("""make write put turn format sort create can could please thanks use add list draft give
change keep send check also then rewrite summarise summarize translate""".split())


_TITLES = frozenset("mr mrs ms miss mx dr prof sir dame".split())


@cache
def _titles() -> frozenset[str]:
    """Titles in every cue language ("Sr", "Pani", "Domnul"), as lower case."""
    from detectors.recognisers.name_cues import language_cues

    return _TITLES | {t.lower().rstrip(".") for cues in language_cues().values() for t in cues.get("titles", ())
                      if len(t.rstrip(".")) > 1}  # not French "M.": "Theo M" ends with an initial


@cache
def _greetings() -> frozenset[str]:
    """One-word greetings in every cue language ("Caro", "Annwyl", "Dear")."""
    from detectors.recognisers.name_cues import language_cues

    return frozenset(g.lower() for cues in language_cues().values() for g in cues.get("greetings", ()) if " " not in g)

# Column headings of MIS exports, mark books and mail-merge files (SIMS, Arbor, Wonde, Xporter), besides ordinary
# words: a row made of these is a table's heading row, whatever NER makes of "ParentSurname" or "Adno".
_HEADING_WORDS = frozenset("""
adno admission upn uln uci dob reg regn tutor forename forenames surname surnames firstname lastname legal preferred
middle att attn attendance yr gender sen fsm eal pp lac cla ks ks2 ks3 ks4 ks5 id no num qty amt ref sims arbor
markbook mis cohort pts tel mob addr behaviour colour centre programme organisation favourite
adm admn enrol enrolment nc pref stu sid cand hse
""".split())
_NAME_COLUMNS = frozenset("name names forename forenames surname surnames firstname lastname pupil student child candidate"
                          .split())
# Columns whose cells hold a category, not a person ("House: Dewi", "Subject: Welsh 2nd Lang"): NER's PERSON in one
# of these cells is the category's name.
_CATEGORY_COLUMNS = frozenset("""
house houses subject subjects paper papers session sessions class set group reg form year yr lang language course
option options block team club activity grade target current score points room period lesson day time date amount
status gender tier level award board exam component unit
""".split())
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_CELL_BORDER = {"\t": re.compile(r"\t"), "|": re.compile(r"\|"), ",": re.compile(r",")}


def _row_border(line: str) -> str | None:
    if "\t" in line:
        return "\t"
    if line.count("|") >= 2:
        return "|"
    if line.count(",") >= 2:
        return ","
    return None


def _tables(text: str) -> list[list[tuple[int, int, str]]]:
    """Blocks of two or more consecutive lines split into the same number of cells by the same border (tab,
    "|" or ","): each a list of (line start, line end, border), the heading row first."""
    tables: list[list[tuple[int, int, str]]] = []
    block: list[tuple[int, int, str]] = []
    cells = -1
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        border = _row_border(line)
        count = line.strip().strip("|").count(border) if border else -1
        if border and block and block[-1][2] == border and count == cells:
            block.append((pos, end, border))
        else:
            if len(block) >= 2:
                tables.append(block)
            block, cells = ([(pos, end, border)], count) if border else ([], -1)
        pos = end + 1
    if len(block) >= 2:
        tables.append(block)
    return tables


def _heading_cell(cell: str) -> bool:
    words = [w.lower() for w in _CAMEL.findall(cell)]
    return all(w.isdigit() or w in _HEADING_WORDS or _ordinary(w) or w in STOP_WORDS for w in words)


def _cells(line: str, border: str) -> list[str]:
    cells = line.split(border)
    if border == "|" and line.lstrip().startswith("|"):
        cells = cells[1:]  # a markdown row's leading "|"
    return cells


# A cell that says "not this": under a special-category heading ("SEN", "FSM", "EAL") the column tells nothing.
_NEGATIVE_CELLS = frozenset(["", "n", "no", "none", "nil", "-", "–", "—", "0", "false", "n/a", "na", "not known"])


def negative_headings(text: str) -> list[tuple[int, int]]:
    """The heading cells of table columns in which every row says no ("SEN" over N, N, N; "FSM" over "No"): a
    special-category word there tells nothing about anyone."""
    spans: list[tuple[int, int]] = []
    for table in _tables(text):
        start, end, border = table[0]
        line = text[start:end]
        rows = [_cells(text[s:e], border) for s, e, _ in table[1:]]
        offset = start + (line.index("|") + 1 if border == "|" and line.lstrip().startswith("|") else 0)
        for k, heading in enumerate(_cells(line, border)):
            if heading.strip() and all(k < len(r) and r[k].strip().lower() in _NEGATIVE_CELLS for r in rows):
                spans.append((offset, offset + len(heading)))
            offset += len(heading) + 1
    return spans


def name_table_rows(text: str) -> list[tuple[int, int]]:
    """The data rows of tables whose heading row has a name column ("Adno,Surname,Forename,Reg"): a roster name in
    one of these rows is the pupil, even one that shares a well-known person's name."""
    rows: list[tuple[int, int]] = []
    if not any(b in text for b in "\t|,"):
        return rows
    for table in _tables(text):
        start, end, border = table[0]
        headings = [h for h in _cells(text[start:end], border) if h.strip()]
        if headings and all(_heading_cell(h) for h in headings) and any(
                w.lower() in _NAME_COLUMNS for h in headings for w in _CAMEL.findall(h)):
            rows.extend((s, e) for s, e, _ in table[1:])
    return rows


def not_names_in_tables(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop the PERSONs NER finds in a table's heading row ("ParentSurname", "Adno", "Parents' evening slot") and in
    the cells of a category column ("House" | "Dewi", "Subject" | "Welsh 2nd Lang"). A heading row is the first row
    of a table when every cell is column-heading words."""
    persons = [r for r in results if r.entity_type == "PERSON"]
    if not persons or not any(b in text for b in "\t|,"):
        return results
    dropped: set[int] = set()
    for table in _tables(text):
        start, end, border = table[0]
        headings = [h for h in _cells(text[start:end], border) if h.strip()]
        if not headings or not all(_heading_cell(h) for h in headings):
            continue
        categories = {k for k, h in enumerate(_cells(text[start:end], border))
                      if (words := _CAMEL.findall(h)) and words[-1].lower() in _CATEGORY_COLUMNS}
        for r in persons:
            if start <= r.start and r.end <= end:
                dropped.add(id(r))  # a heading
                continue
            for row_start, row_end, _ in table[1:]:
                if row_start <= r.start and r.end <= row_end:
                    if len(_cells(text[row_start:r.start], border)) - 1 in categories:
                        dropped.add(id(r))
                    break
    return [r for r in results if id(r) not in dropped] if dropped else results


_POSTCODE_AFTER = re.compile(r"[ \t]*,?[ \t]*(?:\r?\n[ \t]*)?")
_ADDRESS_BEFORE = re.compile(r"[ \t]*,?[ \t]*(?:\r?\n[ \t]*)?")


def without_post_towns(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop a PERSON that stands between an address and its postcode ("12 Heol y Nant, Swansea SA1 1AA"): the
    post town, which the address recogniser leaves out on purpose (see recognisers/addresses.py)."""
    addresses = [r for r in results if r.entity_type == "UK_ADDRESS"]
    postcodes = [r for r in results if r.entity_type == "UK_POSTCODE"]
    if not addresses or not postcodes:
        return results
    ends = {r.end for r in addresses}
    starts = {r.start for r in postcodes}

    def post_town(r: RecognizerResult) -> bool:
        if r.entity_type != "PERSON":
            return False
        after = _POSTCODE_AFTER.match(text, r.end)
        if after.end() not in starts:
            return False
        return any(_ADDRESS_BEFORE.fullmatch(text, e, r.start) for e in ends if e <= r.start)

    return [r for r in results if not post_town(r)]


_LOGIN_CHAR = re.compile(r"[a-z0-9._-]")
_GLUE = re.compile(r"[._-]|\d")


# A school's or education service's mail domain: "@pupils.example.sch.uk", "@hwbcymru.net", "@stu.ysgol.cymru".
_SCHOOL_DOMAIN = re.compile(r"@[\w.-]*(?:sch\.uk|school|ysgol|academy|\.ac\.uk|\.edu\b|hwb|pupils?\.|students?\.|"
                            r"stu\.|learners?\.)", re.IGNORECASE)


def whole_logins(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """A pupil's name inside a lower-case login ("chukwu_mum", "rodrigo_sou") takes the whole login: every part
    of it belongs to the one account. A capitalised file name keeps its other parts ("Smith_Oliver_Y11 report":
    only the names go). The mailbox of a pupil's school e-mail address is the pupil's name; the school's domain
    after it is no one's identifier and stays ("[PUPIL_1]@pupils.example.sch.uk"); any other address goes whole."""
    out: list[RecognizerResult] = []
    mailboxes: set[int] = set()
    for r in results:
        if r.entity_type == "PUPIL":
            start, end = r.start, r.end
            while start > 0 and _LOGIN_CHAR.match(text, start - 1):
                start -= 1
            while end < len(text) and _LOGIN_CHAR.match(text, end):
                end += 1
            while start < r.start and text[start] in "._-":
                start += 1
            while end > r.end and text[end - 1] in "._-":
                end -= 1
            login = text[start:end]
            if (start, end) != (r.start, r.end) and login == login.lower() and _GLUE.search(login) \
                    and text[r.start:r.end] == text[r.start:r.end].lower():
                r = RecognizerResult(r.entity_type, start, end, r.score, analysis_explanation=r.analysis_explanation,
                                     recognition_metadata=dict(r.recognition_metadata or {}))
            if text[r.end:r.end + 1] == "@" and (r.start == 0 or not _LOGIN_CHAR.match(text, r.start - 1)) \
                    and _SCHOOL_DOMAIN.match(text, r.end):
                mailboxes.add(r.start)  # (a parent's "d.thompson82@gmail.com" goes whole)
        out.append(r)
    if mailboxes:
        out = [r for r in out if not (r.entity_type == "EMAIL_ADDRESS" and r.start in mailboxes)]
    return out
