"""Builds bench/corpus/prompts.jsonl from the hand-written prompts in bench/corpus/source/*.txt.

Source format (one file per tier, the file name is the tier; see tiers.py):

    # a comment
    @ redact                      <- expected action: allow | redact | block; the prompt text follows
    Can you tidy up this report for [[Oliver Smith]]? ...
    @ block cy                    <- an optional language code (default en; "mixed" for more than one)
    Mae [[Haf Llywelyn]] ...

source/*.txt are the dev split (and the first corpus's holdout_* tiers); source/holdout/*.txt are hold-out prompts
of the same tiers, written before the engine was tuned on this corpus. generate.py adds combinatorial prompts.

Markup inside a prompt marks what must not survive and is replaced by the plain text:

    [[Oliver Smith]]            a roster pupil's name (entity PUPIL); checked against roster.csv
    [[PERSON:Okafor]]           someone who is not on the roster (parent, staff, new pupil)
    [[DOB:14/03/2013]]          literal value of an entity: PUPIL PERSON UPN ULN UCI NHS NINO DOB POSTCODE PHONE EMAIL
    [[UPN]] [[ULN]] [[UCI]] [[NHS]] [[NINO]] [[UPNT]]   a fresh valid identifier (UPNT: temporary UPN)
    [[UPN@Oliver Smith]]        the pupil's identifier from roster.csv (UPN, ULN, DOB)
    [[UPN|lower]]               modifiers: lower, spaced (NHS in 3-3-4 groups)
    [[=Matilda]]                plain text that looks like a roster name but is not one here (the novel)
    [[ADDRESS:14 Heol y Coed, Rhiwbina]]  a home address: house number or name + street (+ locality); the post
                                town and the postcode are not part of it (a postcode is its own POSTCODE span)
    [[SPACED:Oliver Smith]]     a roster name hidden on purpose (entity PUPIL, span "encoding" says how):
                                SPACED DOTTED HYPHENED LEET REVERSED; [[BASE64:any text naming pupils]]
    [[USER:Oliver Smith=osmith27]]  a username, mailbox or file-name part built from a roster pupil's name
    [[UPN12@Oliver Smith]]      the pupil's UPN without its check letter; [[INITIALS@Oliver Smith]] "O.S."
    \\u200b                      any \\uXXXX escape becomes that character (zero-width, look-alike letters)

Every further occurrence of a labelled value (same text, whole word) is labelled automatically, unless the value
is a name that is also an ordinary word (UNLABELLED_WORDS): label each of those by hand.

The class_list and holdout_class_list tiers are built here from roster rows (see class_lists). Tiers named holdout_*
and everything under source/holdout/ form the "holdout" split (see README.md). A Welsh (cy) prompt may name a
pupil in a mutated form ("i Ddafydd"): the check accepts a name whose radical form is on the roster.

Run `python bench/corpus/build_corpus.py`; it refuses to write labels that are inconsistent (a PUPIL span that is
not a roster name, a PERSON span that is, an identifier with a bad check digit, an allow prompt with spans, a new
prompt nearly identical to another).
"""
from __future__ import annotations

import base64
import csv
import json
import random
import re
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from identifiers import VALIDATORS, IdentifierFactory, upn_check_letter  # noqa: E402
from generate import generated, shingles, similarity  # noqa: E402
from make_roster import ORIGINAL_PUPILS  # noqa: E402
from tiers import LANGUAGES, ORIGINAL_TIERS, TIERS  # noqa: E402

HERE = Path(__file__).parent
ENTITIES = {
    "PUPIL": "PUPIL", "PERSON": "PERSON", "UPN": "UK_UPN", "UPNT": "UK_UPN", "ULN": "UK_ULN", "UCI": "UK_UCI",
    "NHS": "UK_NHS", "NINO": "UK_NINO", "DOB": "DATE_OF_BIRTH", "POSTCODE": "UK_POSTCODE",
    "PHONE": "PHONE_NUMBER", "EMAIL": "EMAIL_ADDRESS", "ADDRESS": "UK_ADDRESS",
}
LEET = str.maketrans("aeiostAEIOST", "431057431057")
UNLEET = str.maketrans("431057", "aeiost")
# How a hidden name is written, and how the label check reads it back.
ENCODINGS = {
    "SPACED": (lambda v: "  ".join(" ".join(w) for w in v.split()), lambda t: " ".join(w.replace(" ", "") for w in t.split("  "))),
    "DOTTED": (lambda v: " ".join(".".join(w) for w in v.split()), lambda t: t.replace(".", "")),
    "HYPHENED": (lambda v: " ".join("-".join(w) for w in v.split()).upper(), lambda t: t.replace("-", "")),
    "LEET": (lambda v: v.translate(LEET), lambda t: t.translate(UNLEET)),
    "REVERSED": (lambda v: v[::-1], lambda t: t[::-1]),
    "BASE64": (lambda v: base64.b64encode(v.encode()).decode(), lambda t: base64.b64decode(t).decode()),
}
STREET_WORDS = re.compile(
    r"(?i)\b(road|rd|street|st|lane|close|avenue|drive|way|crescent|gardens|place|terrace|court|rise|grove|mews|walk|"
    r"row|hill|square|parade|green|park|view|fields|heol|ffordd|stryd|lôn|lon|rhodfa|cilgant|clos|teras|maes|llwyn|"
    r"cottage|farm|house|lodge|tŷ|ty|bwthyn|fflat|flat)\b")
# Welsh initial mutations, undone: a mutated name's radical forms (soft, nasal and aspirate).
UNMUTATE = [("Ngh", "C"), ("Mh", "P"), ("Nh", "T"), ("Ng", "G"), ("Ph", "P"), ("Th", "T"), ("Ch", "C"), ("Dd", "D"),
            ("B", "P"), ("D", "T"), ("G", "C"), ("F", "B"), ("F", "M"), ("L", "Ll"), ("R", "Rh"), ("M", "B"),
            ("N", "D"), ("", "G")]


def radicals(word: str) -> set[str]:
    return {word} | {radical + word[len(mutated):] for mutated, radical in UNMUTATE if word.startswith(mutated)}
ACTIONS = {"allow", "redact", "block"}
MARK = re.compile(r"\[\[(.+?)\]\]", re.DOTALL)  # an address mark may span its lines
ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")

# Look-alike letters used in the evasion prompts, folded back for the label checks only.
HOMOGLYPHS = str.maketrans("АВЕКМНОРСТХаеорсухіјѕІЈЅΑΒΕΗΙΚΜΝΟΡΤΧΥΖοаρ", "ABEKMHOPCTXaeopcyxijsIJSABEHIKMNOPTXYZoap")


def fold(text: str) -> str:
    """Label-checking key: no format characters, look-alikes mapped, no accents, no apostrophes, casefolded."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", text).translate(HOMOGLYPHS)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = re.sub(r"['’‘`]", "", text).replace("-", " ").replace(",", " ")
    return " ".join(text.casefold().split())


PARTICLES = {"de", "la", "le", "da", "van", "der", "ap", "ni", "st", "mac", "an", "tsaoi"}


class Roster:
    def __init__(self, path: Path) -> None:
        with open(path, encoding="utf-8") as fh:
            self.rows = list(csv.DictReader(fh))
        self.name_tokens: set[str] = set()
        self.by_name: dict[str, dict[str, str]] = {}
        self.pupil_token_sets: list[set[str]] = []
        for row in self.rows:
            forms = {row["Legal Forename"], row["Preferred Forename"], row["Legal Surname"], row["Preferred Surname"],
                     row["Middle Name"]} - {""}
            tokens = {t for form in forms for t in fold(form).split()}
            self.pupil_token_sets.append(tokens)
            self.name_tokens |= {fold(f) for f in forms} | (tokens - PARTICLES)
            for fore in {row["Legal Forename"], row["Preferred Forename"]}:
                self.by_name[fold(f"{fore} {row['Legal Surname']}")] = row

    def is_pupil_name(self, span: str, welsh: bool = False) -> bool:
        tokens = set(fold(span).split())
        if tokens and any(tokens <= pupil for pupil in self.pupil_token_sets):
            return True
        first, _, rest = span.partition(" ")
        return welsh and any(self.is_pupil_name(f"{radical} {rest}".strip()) for radical in radicals(first) - {first})

    def row(self, name: str) -> dict[str, str]:
        try:
            return self.by_name[fold(name)]
        except KeyError:
            raise ValueError(f"no roster pupil called {name!r}") from None

    def full_names(self) -> set[str]:
        return set(self.by_name)


def render(marked: str, roster: Roster, ids: IdentifierFactory) -> tuple[str, list[dict], list[tuple[int, int]]]:
    """Strip the markup; return the plain text, the labelled spans (char offsets into the plain text) and the
    ranges marked as deliberately unlabelled."""
    marked = ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), marked)
    out: list[str] = []
    spans: list[dict] = []
    ok: list[tuple[int, int]] = []
    pos = 0
    length = 0
    for m in MARK.finditer(marked):
        out.append(marked[pos:m.start()])
        length += m.start() - pos
        body, _, modifier = m.group(1).partition("|")
        if body.startswith("="):  # a name-like word that is deliberately not an identifier here
            ok.append((length, length + len(body) - 1))
            out.append(body[1:])
            length += len(body) - 1
            pos = m.end()
            continue
        encoding = None
        if ":" in body and body.split(":", 1)[0] in ENCODINGS:
            encoding, _, plain = body.partition(":")
            kind, value = "PUPIL", ENCODINGS[encoding][0](plain)
        elif body.startswith("USER:"):
            name, _, value = body[5:].partition("=")
            roster.row(name)  # must be a roster pupil
            kind, encoding = "PUPIL", "USERNAME"
        elif body.startswith(("UPN12@", "INITIALS@")):
            what, _, name = body.partition("@")
            row = roster.row(name)
            if what == "UPN12":
                kind, value, encoding = "UPN", row["UPN"][1:], "NO_CHECK_LETTER"
            else:
                kind, encoding = "PUPIL", "INITIALS"
                value = f"{row['Preferred Forename'][0]}.{row['Legal Surname'][0]}."
        elif ":" in body and body.split(":", 1)[0] in ENTITIES:
            kind, _, value = body.partition(":")
        elif "@" in body:
            kind, _, name = body.partition("@")
            row = roster.row(name)
            value = {"UPN": row["UPN"], "ULN": row["ULN"], "DOB": row["DOB"]}[kind]
            if not value:
                raise ValueError(f"{name} has no {kind} in the roster")
        elif body in ENTITIES and body not in ("PUPIL", "PERSON"):
            kind = body
            value = ids.upn(temporary=True) if kind == "UPNT" else ids.make(ENTITIES[kind])
        else:
            kind, value = "PUPIL", body
        if modifier == "lower":
            value = value.lower()
        elif modifier == "spaced":
            value = f"{value[:3]} {value[3:6]} {value[6:]}"
        elif modifier:
            raise ValueError(f"unknown modifier {modifier!r}")
        spans.append({"entity": ENTITIES[kind], "start": length, "end": length + len(value), "text": value,
                      **({"encoding": encoding} if encoding else {})})
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(marked[pos:])
    text = "".join(out)
    # Every other occurrence of a labelled value is labelled too, so a repeat cannot slip through unmarked --
    # except a name that is also a word ("Will you ... for Will?"): label each of those where it is a name.
    for span in list(spans):
        if span["text"] in UNLABELLED_WORDS or span.get("encoding") == "INITIALS":
            continue
        for m in re.finditer(rf"(?<!\w){re.escape(span['text'])}(?!\w)", text):
            if not any(s["start"] < m.end() and m.start() < s["end"] for s in spans):
                spans.append({**span, "start": m.start(), "end": m.end()})
    return text, sorted(spans, key=lambda s: s["start"]), ok


# Capitalised words that are roster names but are ordinary words often enough to skip in the forgotten-label check
# (elsewhere, mark such a word [[=Word]]).
UNLABELLED_WORDS = {"I", "May", "Will", "Summer", "Grace", "Hope", "Joy", "Faith", "Autumn", "Mark", "Rose",
                    "Sky", "River", "Page", "Hall", "Green", "White", "Young", "Long", "King", "Wood", "Fox",
                    "Stone", "Cook", "Baker", "Bell", "Price", "Hunter", "Mason", "Knight", "Ward", "Ellis",
                    # the second roster's word-names, places, months, characters, products and code words
                    "Can", "Said", "Do", "Li", "Sun", "Jan", "Thu", "June", "April", "Miles", "Gift", "Blessing",
                    "Comfort", "Justice", "Favour", "Precious", "Angel", "Sunny", "Haf", "Eira", "Seren", "Gwyn",
                    "Bryn", "Celyn", "Mai", "Wyn", "Paris", "Lincoln", "Jordan", "Kent", "Chester", "Preston", "Poole",
                    "Islam", "Pip", "Del", "Len", "Al", "Jo", "Ed", "Mo", "Stan", "Butt", "Bishop", "Birch", "Croft",
                    "Sims", "Pearson", "Hegarty", "Deniz", "Eric", "Sheila", "Ralph", "Eva", "Miranda", "Sebastian",
                    "Viola", "Lydia", "Bennet", "Marley", "Dolly", "Martin", "Jack", "Leah", "Olivia", "Jessica",
                    "Max", "Henry", "Anne", "Mary", "Florence", "Isaac", "Winston", "Romeo", "Juliet", "Osborne",
                    "Lanyon", "Gwen", "Mae", "SIMS"}


def decoded(span: dict) -> str:
    """The name (or text) a hidden span stands for."""
    encoding = span.get("encoding")
    return ENCODINGS[encoding][1](span["text"]) if encoding in ENCODINGS else span["text"]


def names_a_pupil(span: dict, roster: Roster, welsh: bool) -> bool:
    encoding, value = span.get("encoding"), decoded(span)
    if encoding == "BASE64":
        words = re.findall(r"[^\W_]+", fold(value))
        folded = f" {' '.join(words)} "
        return any(f" {name} " in folded for name in roster.full_names())
    if encoding == "USERNAME":
        return any(len(t) >= 3 and t.replace(" ", "") in value.lower() for t in roster.name_tokens)
    if encoding == "INITIALS":
        return any(f"{r['Preferred Forename'][0]}.{r['Legal Surname'][0]}." == value for r in roster.rows)
    return roster.is_pupil_name(value, welsh)


def check(record: dict, roster: Roster, ok: list[tuple[int, int]]) -> list[str]:
    problems = []
    text = record["text"]
    welsh = record["language"] in ("cy", "mixed")
    for span in record["spans"]:
        value = span["text"]
        if text[span["start"]:span["end"]] != value:
            problems.append(f"span {value!r} not at its offsets")
        entity = span["entity"]
        if entity == "PUPIL" and not names_a_pupil(span, roster, welsh):
            problems.append(f"PUPIL span {value!r} is not a roster name")
        if entity == "UK_UPN" and span.get("encoding") == "NO_CHECK_LETTER":
            value = upn_check_letter(value) + value
        if entity == "UK_ADDRESS" and not STREET_WORDS.search(value):
            problems.append(f"UK_ADDRESS span {value!r} has no house number or name and street")
        if entity in ("PUPIL", "PERSON") and re.match(r"(?i)(mr|mrs|ms|miss|dr|rev|pc|master)\b", value):
            problems.append(f"{entity} span {value!r} includes a title: label only the name")
        if entity == "PERSON" and (roster.is_pupil_name(value) or fold(value) in roster.name_tokens):
            problems.append(f"PERSON span {value!r} uses a roster name: label it PUPIL")
        if entity in VALIDATORS and not VALIDATORS[entity](fold(value).upper().replace(" ", "")):
            problems.append(f"{entity} {value!r} fails its check digit")
    if record["expected"] == "allow" and record["spans"]:
        problems.append("an allow prompt has labelled spans")
    if record["expected"] != "allow" and not record["spans"]:
        problems.append(f"a {record['expected']} prompt has no labelled identifier")
    if record["expected"] != "allow":
        # A capitalised roster name outside every span is probably a label I forgot (or an ordinary word: then
        # it goes in UNLABELLED_OK with the reason).
        for m in re.finditer(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", text):
            inside = any(s["start"] <= m.start() < s["end"] for s in record["spans"]) \
                or any(a <= m.start() < b for a, b in ok)
            word = re.sub(r"['’]s$", "", m.group())
            if not inside and word[0].isupper() and fold(word) in roster.name_tokens \
                    and word not in UNLABELLED_WORDS:
                problems.append(f"roster name {word!r} is not labelled")
    if record["expected"] == "allow":
        shown = "".join(" " if any(a <= i < b for a, b in ok) else ch for i, ch in enumerate(text))
        folded = f" {fold(shown)} "
        for name in roster.full_names():
            if f" {name} " in folded:
                problems.append(f"allow prompt contains roster pupil {name!r}")
    return problems


def parse_source(path: Path) -> list[tuple[str, str, str]]:
    """(action, language, marked text) of each prompt in a source file."""
    prompts: list[tuple[str, str, str]] = []
    action, language, lines = None, "en", []
    for line in path.read_text(encoding="utf-8").splitlines() + ["@ end"]:
        if line.startswith("#"):
            continue
        if line.startswith("@ "):
            if action is not None:
                text = "\n".join(lines).strip("\n")
                if text.strip():
                    prompts.append((action, language, text))
            action, _, language = line[2:].strip().partition(" ")
            language, lines = language or "en", []
            if action not in ACTIONS | {"end"}:
                raise ValueError(f"{path.name}: unknown action {action!r}")
            if language not in LANGUAGES:
                raise ValueError(f"{path.name}: unknown language {language!r}")
        elif action is not None:
            lines.append(line.rstrip())
    return prompts


def class_lists(roster: Roster, seed: int = 99, holdout: bool = False) -> list[tuple[str, str, str]]:
    """Pasted class lists, markbooks and registers, built from roster rows (category "class_list").

    Layouts vary the way real pastes do: SIMS columns, "Surname, Forename", tab and comma separated, with
    marks or DOBs; the ones with a SEN, medical or FSM column are special-category: block.
    """
    rng = random.Random(seed)
    by_year: dict[str, list[dict]] = {}
    for row in roster.rows[:ORIGINAL_PUPILS]:
        by_year.setdefault(row["Year"], []).append(row)
    years = [y for y, rows in by_year.items() if len(rows) >= 8]

    def pick(n: int) -> list[dict]:
        rows = by_year[rng.choice(years)]
        return rng.sample(rows, min(n, len(rows)))

    def fore(r: dict) -> str:
        return r["Preferred Forename"]

    prompts: list[tuple[str, str]] = []
    layouts = [
        ("redact", "Put these pupils into mixed-ability groups of three for a science practical:\n",
         lambda r: f"[[{fore(r)} {r['Legal Surname']}]]"),
        ("redact", "Make me a seating plan (boy/girl where possible) for this class:\n",
         lambda r: f"[[{r['Legal Surname']}, {fore(r)}]] ({r['Gender']})"),
        ("redact", "Here's my markbook for the last test out of 40. Who needs intervention (below 20)?\n",
         lambda r: f"[[{fore(r)} {r['Legal Surname']}]]\t{rng.randint(8, 40)}"),
        ("redact", "Turn this SIMS export into a register I can print (surname, forename, reg):\nSurname\tForename\tReg\tUPN\n",
         lambda r: f"[[{r['Legal Surname']}]]\t[[{r['Legal Forename']}]]\t{r['Reg Group']}\t[[UPN@{r['Legal Forename']} {r['Legal Surname']}]]"),
        ("redact", "Trip list - check nobody is missing a date of birth:\n",
         lambda r: f"[[{fore(r)} {r['Legal Surname']}]], [[DOB@{r['Legal Forename']} {r['Legal Surname']}]]"),
        ("redact", "pls alphabetise by surname:\n",
         lambda r: f"[[{fore(r).lower()} {r['Legal Surname'].lower()}]]"),
        ("redact", "Reading ages from the autumn test — can you sort these and tell me the average?\n",
         lambda r: f"[[{fore(r)}]] {r['Legal Surname'][0]}. - {rng.randint(6, 14)}.{rng.randint(0, 11)}"),
        ("redact", "Write a one-line target for each pupil based on their spelling score:\n",
         lambda r: f"- [[{fore(r)} {r['Legal Surname']}]]: {rng.randint(3, 20)}/20"),
        ("block", "Create a class profile table from this (keep all columns):\nName | SEN | Notes\n",
         lambda r: f"[[{fore(r)} {r['Legal Surname']}]] | {rng.choice(['K - SpLD (dyslexia)', 'E - ASD', 'K - SEMH', 'N', 'K - SLCN', 'N', 'K - ADHD'])} | "
                   f"{rng.choice(['sits at front', 'overlay', 'movement breaks', '', 'pre-teach vocab', 'check in at start'])}"),
        ("block", "Summarise the disadvantaged pupils in this list for the pupil premium report:\nName, FSM, PP, LAC\n",
         lambda r: f"[[{fore(r)} {r['Legal Surname']}]], {rng.choice(['Y', 'N', 'N'])}, {rng.choice(['Y', 'N'])}, {rng.choice(['N', 'N', 'N', 'Y'])}"),
        ("block", "Medical list for the residential — format as a table for the trip leader:\n",
         lambda r: f"[[{fore(r)} {r['Legal Surname']}]] - {rng.choice(['asthma (inhaler)', 'nut allergy - epipen', 'type 1 diabetes', 'eczema', 'epilepsy', 'none'])}"),
        ("block", "Ethnicity and EAL data for my class — which groups are underperforming?\n",
         lambda r: f"[[{fore(r)} {r['Legal Surname']}]]\t{rng.choice(['WBRI', 'APKN', 'BAFR', 'WOTH', 'MWBC', 'CHNE', 'BCRB'])}\t{rng.choice(['EAL', '-'])}\t{rng.randint(2, 9)}"),
    ]
    if holdout:  # layouts written after the engine was tuned on the ones above
        layouts = [
            ("redact", "Arbor export — make this into a phone tree for the Year group trip:\nFirst name,Last name,Registration form\n",
             lambda r: f"[[{fore(r)}]],[[{r['Legal Surname']}]],{r['Reg Group']}"),
            ("redact", "Who's missing from the photo list? Here's who we have:\n",
             lambda r: f"[[{r['Legal Surname'].upper()} {fore(r)}]]"),
            ("redact", "Pair these up for peer marking (one line each):\n",
             lambda r: f"* [[{fore(r)}]] ({r['Reg Group']})"),
            ("block", "Seating plan please — keep the notes column:\n",
             lambda r: f"[[{fore(r)} {r['Legal Surname']}]] — {rng.choice(['hearing aid, sit front left', 'PP', 'EHCP (ASD)', 'none', 'LAC', 'glasses', 'epipen in bag'])}"),
        ]
    for round_no in range(2):
        for action, intro, line in layouts:
            rows = pick(rng.randint(5, 12) if round_no == 0 else rng.randint(12, 28))
            prompts.append((action, "en", intro + "\n".join(line(r) for r in rows)))
    return prompts


def near_duplicates(records: list[dict], threshold: float = 0.8) -> list[tuple[str, str]]:
    """Pairs of prompts whose word-trigram sets overlap by Jaccard >= threshold. Candidates are found through
    rare trigrams, so this stays fast on thousands of prompts."""
    sets = [shingles(r["text"]) for r in records]
    postings: dict[int, list[int]] = {}
    for n, grams in enumerate(sets):
        for g in grams:
            postings.setdefault(g, []).append(n)
    pairs = []
    for n, grams in enumerate(sets):
        rare = sorted(grams, key=lambda g: len(postings[g]))[:8]
        candidates = {m for g in rare for m in postings[g] if m > n}
        for m in candidates:
            if similarity(grams, sets[m]) >= threshold:
                pairs.append((records[n]["id"], records[m]["id"]))
    return pairs


def build() -> list[dict]:

    roster = Roster(HERE / "roster.csv")
    ids = IdentifierFactory(seed=4242)
    ids.seen |= {r["UPN"] for r in roster.rows} | {r["ULN"] for r in roster.rows}
    records, errors = [], []
    sources: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for path in sorted((HERE / "source").glob("*.txt")):
        sources[(path.stem, "holdout" if path.stem.startswith("holdout_") else "dev")] = parse_source(path)
    for path in sorted((HERE / "source" / "holdout").glob("*.txt")):
        sources[(path.stem, "holdout")] = parse_source(path)
    sources[("class_list", "dev")] = class_lists(roster)
    sources[("holdout_class_list", "holdout")] = class_lists(roster, seed=2027, holdout=True)
    for (tier, split), prompts in generated(roster).items():
        sources.setdefault((tier, split), []).extend(prompts)
    for (tier, split), prompts in sorted(sources.items()):
        if tier not in TIERS:
            errors.append(f"{tier}: not a tier in tiers.py")
        prefix = tier if split == "dev" or tier.startswith("holdout_") else f"{tier}-holdout"
        for n, (action, language, marked) in enumerate(prompts, start=1):
            pid = f"{prefix}-{n:03d}"
            try:
                text, spans, ok = render(marked, roster, ids)
            except ValueError as exc:
                errors.append(f"{pid}: {exc}")
                continue
            record = {"id": pid, "tier": tier, "split": split, "language": language, "expected": action,
                      "clean": action == "allow", "text": text, "spans": spans}
            errors += [f"{pid}: {p}" for p in check(record, roster, ok)]
            records.append(record)
    new = [r for r in records if r["tier"] not in ORIGINAL_TIERS]
    errors += [f"{a} and {b} are nearly identical" for a, b in near_duplicates(new)]
    if errors:
        raise SystemExit("corpus labels are inconsistent:\n  " + "\n  ".join(errors))
    return records


def main() -> None:
    records = build()
    with open(HERE / "prompts.jsonl", "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    by_tier: dict[str, int] = {}
    for r in records:
        by_tier[r["tier"]] = by_tier.get(r["tier"], 0) + 1
    holdout = sum(r["split"] == "holdout" for r in records)
    print(f"wrote {len(records)} prompts ({holdout} hold-out) in {len(by_tier)} tiers: "
          + ", ".join(f"{k} {v}" for k, v in sorted(by_tier.items())))


if __name__ == "__main__":
    main()
