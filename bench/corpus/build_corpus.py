"""Builds bench/corpus/prompts.jsonl from the hand-written prompts in bench/corpus/source/*.txt.

Source format (one file per category, the file name is the category):

    # a comment
    @ redact                      <- expected action: allow | redact | block; the prompt text follows
    Can you tidy up this report for [[Oliver Smith]]? ...

Markup inside a prompt marks what must not survive and is replaced by the plain text:

    [[Oliver Smith]]            a roster pupil's name (entity PUPIL); checked against roster.csv
    [[PERSON:Okafor]]           someone who is not on the roster (parent, staff, new pupil)
    [[DOB:14/03/2013]]          literal value of an entity: PUPIL PERSON UPN ULN UCI NHS NINO DOB POSTCODE PHONE EMAIL
    [[UPN]] [[ULN]] [[UCI]] [[NHS]] [[NINO]] [[UPNT]]   a fresh valid identifier (UPNT: temporary UPN)
    [[UPN@Oliver Smith]]        the pupil's identifier from roster.csv (UPN, ULN, DOB)
    [[UPN|lower]]               modifiers: lower, spaced (NHS in 3-3-4 groups)
    [[=Matilda]]                plain text that looks like a roster name but is not one here (the novel)
    \\u200b                      any \\uXXXX escape becomes that character (zero-width, look-alike letters)

Every further occurrence of a labelled value (same text, whole word) is labelled automatically, unless the value
is a name that is also an ordinary word (UNLABELLED_WORDS): label each of those by hand.

The class_list and holdout_class_list categories are built here from roster rows (see class_lists). Categories
named holdout_* form the "holdout" split (see README.md).

Run `python bench/corpus/build_corpus.py`; it refuses to write labels that are inconsistent (a PUPIL span that is
not a roster name, a PERSON span that is, an identifier with a bad check digit, an allow prompt with spans).
"""
from __future__ import annotations

import csv
import json
import random
import re
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from identifiers import VALIDATORS, IdentifierFactory  # noqa: E402

HERE = Path(__file__).parent
ENTITIES = {
    "PUPIL": "PUPIL", "PERSON": "PERSON", "UPN": "UK_UPN", "UPNT": "UK_UPN", "ULN": "UK_ULN", "UCI": "UK_UCI",
    "NHS": "UK_NHS", "NINO": "UK_NINO", "DOB": "DATE_OF_BIRTH", "POSTCODE": "UK_POSTCODE",
    "PHONE": "PHONE_NUMBER", "EMAIL": "EMAIL_ADDRESS",
}
ACTIONS = {"allow", "redact", "block"}
MARK = re.compile(r"\[\[(.+?)\]\]")
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

    def is_pupil_name(self, span: str) -> bool:
        tokens = set(fold(span).split())
        return bool(tokens) and any(tokens <= pupil for pupil in self.pupil_token_sets)

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
        if ":" in body and body.split(":", 1)[0] in ENTITIES:
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
        spans.append({"entity": ENTITIES[kind], "start": length, "end": length + len(value), "text": value})
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(marked[pos:])
    text = "".join(out)
    # Every other occurrence of a labelled value is labelled too, so a repeat cannot slip through unmarked --
    # except a name that is also a word ("Will you ... for Will?"): label each of those where it is a name.
    for span in list(spans):
        if span["text"] in UNLABELLED_WORDS:
            continue
        for m in re.finditer(rf"(?<!\w){re.escape(span['text'])}(?!\w)", text):
            if not any(s["start"] < m.end() and m.start() < s["end"] for s in spans):
                spans.append({**span, "start": m.start(), "end": m.end()})
    return text, sorted(spans, key=lambda s: s["start"]), ok


# Capitalised words that are roster names but are ordinary words often enough to skip in the forgotten-label check
# (elsewhere, mark such a word [[=Word]]).
UNLABELLED_WORDS = {"I", "May", "Will", "Summer", "Grace", "Hope", "Joy", "Faith", "Autumn", "Mark", "Rose",
                    "Sky", "River", "Page", "Hall", "Green", "White", "Young", "Long", "King", "Wood", "Fox",
                    "Stone", "Cook", "Baker", "Bell", "Price", "Hunter", "Mason", "Knight", "Ward", "Ellis"}


def check(record: dict, roster: Roster, ok: list[tuple[int, int]]) -> list[str]:
    problems = []
    text = record["text"]
    for span in record["spans"]:
        value = span["text"]
        if text[span["start"]:span["end"]] != value:
            problems.append(f"span {value!r} not at its offsets")
        entity = span["entity"]
        if entity == "PUPIL" and not roster.is_pupil_name(value):
            problems.append(f"PUPIL span {value!r} is not a roster name")
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
        folded = f" {fold(text)} "
        for name in roster.full_names():
            if f" {name} " in folded:
                problems.append(f"allow prompt contains roster pupil {name!r}")
    return problems


def parse_source(path: Path) -> list[tuple[str, str]]:
    prompts: list[tuple[str, str]] = []
    action, lines = None, []
    for line in path.read_text(encoding="utf-8").splitlines() + ["@ end"]:
        if line.startswith("#"):
            continue
        if line.startswith("@ "):
            if action is not None:
                text = "\n".join(lines).strip("\n")
                if text.strip():
                    prompts.append((action, text))
            action, lines = line[2:].strip(), []
            if action not in ACTIONS | {"end"}:
                raise ValueError(f"{path.name}: unknown action {action!r}")
        elif action is not None:
            lines.append(line.rstrip())
    return prompts


def class_lists(roster: Roster, seed: int = 99, holdout: bool = False) -> list[tuple[str, str]]:
    """Pasted class lists, markbooks and registers, built from roster rows (category "class_list").

    Layouts vary the way real pastes do: SIMS columns, "Surname, Forename", tab and comma separated, with
    marks or DOBs; the ones with a SEN, medical or FSM column are special-category: block.
    """
    rng = random.Random(seed)
    by_year: dict[str, list[dict]] = {}
    for row in roster.rows:
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
            prompts.append((action, intro + "\n".join(line(r) for r in rows)))
    return prompts


def build() -> list[dict]:
    roster = Roster(HERE / "roster.csv")
    ids = IdentifierFactory(seed=4242)
    ids.seen |= {r["UPN"] for r in roster.rows} | {r["ULN"] for r in roster.rows}
    records, errors = [], []
    sources = [(path.stem, parse_source(path)) for path in sorted((HERE / "source").glob("*.txt"))]
    sources.append(("class_list", class_lists(roster)))
    sources.append(("holdout_class_list", class_lists(roster, seed=2027, holdout=True)))
    for category, prompts in sorted(sources):
        for n, (action, marked) in enumerate(prompts, start=1):
            pid = f"{category}-{n:03d}"
            try:
                text, spans, ok = render(marked, roster, ids)
            except ValueError as exc:
                errors.append(f"{pid}: {exc}")
                continue
            record = {"id": pid, "category": category, "split": "holdout" if category.startswith("holdout_") else "dev",
                      "expected": action, "clean": action == "allow", "text": text, "spans": spans}
            errors += [f"{pid}: {p}" for p in check(record, roster, ok)]
            records.append(record)
    if errors:
        raise SystemExit("corpus labels are inconsistent:\n  " + "\n  ".join(errors))
    return records


def main() -> None:
    records = build()
    with open(HERE / "prompts.jsonl", "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    by_cat: dict[str, int] = {}
    for r in records:
        by_cat[r["category"]] = by_cat.get(r["category"], 0) + 1
    print(f"wrote {len(records)} prompts: " + ", ".join(f"{k} {v}" for k, v in sorted(by_cat.items())))


if __name__ == "__main__":
    main()
