"""The labelled corpus in bench/corpus is self-consistent: labels point at their text, identifiers carry valid
check digits (by the reference's rules and worked examples), hidden names decode to roster pupils, the builder
refuses inconsistent labels, the tiers, languages and hold-out are what README.md promises, the roster is a
SIMS-style export the importer accepts, and prompts.jsonl is exactly what the sources build."""
from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"


def _module(name: str):
    if str(CORPUS) not in sys.path:
        sys.path.insert(0, str(CORPUS))  # build_corpus imports identifiers as a sibling
    spec = importlib.util.spec_from_file_location(name, CORPUS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ids():
    return _module("identifiers")


@pytest.fixture(scope="module")
def builder():
    return _module("build_corpus")


@pytest.fixture(scope="module")
def tiers():
    return _module("tiers")


@pytest.fixture(scope="module")
def records():
    with open(CORPUS / "prompts.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def roster_rows():
    with open(CORPUS / "roster.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# -- check digits, against worked examples from the published specifications --------------------

@pytest.mark.parametrize("upn", ["H801200001001", "G80120000101A", "T938123424001", "J80120000102B"])
def test_upn_check_letter_matches_reference_examples(ids, upn):
    assert ids.is_valid_upn(upn)
    assert ids.upn_check_letter(upn[1:]) == upn[0]


@pytest.mark.parametrize("bad", ["A801200001001", "H801200001002", "I801200001001", "H80120000100", "H80120000101I"])
def test_upn_rejects_wrong_check_letter_length_or_letters(ids, bad):
    assert not ids.is_valid_upn(bad)


@pytest.mark.parametrize("uln", ["9276308686", "4521873617", "7300152499"])
def test_uln_examples_valid_and_one_digit_change_invalid(ids, uln):
    assert ids.is_valid_uln(uln)
    assert not ids.is_valid_uln(uln[:-1] + str((int(uln[-1]) + 1) % 10))


def test_uci_and_nhs_reference_examples(ids):
    assert ids.is_valid_uci("681990012058G")
    assert not ids.is_valid_uci("681990012058H")
    assert ids.is_valid_nhs("9434765919")
    assert not ids.is_valid_nhs("9434765918")


def test_uln_and_nhs_checksums_never_both_pass_on_generated_numbers(ids):
    factory = ids.IdentifierFactory(seed=1)
    for _ in range(300):
        assert not ids.is_valid_nhs(factory.uln())
        assert not ids.is_valid_uln(factory.nhs())


def test_generated_identifiers_are_valid_and_unique(ids):
    factory = ids.IdentifierFactory(seed=3)
    for entity, valid in ids.VALIDATORS.items():
        values = [factory.make(entity) for _ in range(200)]
        assert all(valid(v) for v in values), entity
        assert len(set(values)) == len(values)
    assert all(ids.is_valid_upn(factory.upn(temporary=True)) for _ in range(50))


# -- the labelled prompts --------------------------------------------------------------------------------------

def test_corpus_size_tiers_and_actions(records, tiers):
    assert len(records) >= 1500
    assert len({r["id"] for r in records}) == len(records)
    by_action = Counter(r["expected"] for r in records)
    assert by_action["allow"] >= 400 and by_action["redact"] >= 600 and by_action["block"] >= 400
    used = {r["tier"] for r in records}
    assert used == set(tiers.TIERS) and len(used) >= 40
    assert tiers.ORIGINAL_TIERS < used
    # every failure class of issue 9 has tiers, and each of them has allow, redact or block prompts of its own
    classes = {tiers.TIERS[t][0] for t in used} - {"issue 2"}
    assert {c.split()[0] for c in classes} == {str(n) for n in range(1, 10)}


def test_holdout_is_large_and_spread_across_tiers_and_languages(records, tiers):
    new = [r for r in records if r["tier"] not in tiers.ORIGINAL_TIERS]
    holdout = [r for r in new if r["split"] == "holdout"]
    assert len(holdout) >= 300
    assert {r["tier"] for r in holdout} == {r["tier"] for r in new}  # every issue-9 tier has hold-out prompts
    assert {r["expected"] for r in holdout} == {"allow", "redact", "block"}
    languages = Counter(r["language"] for r in holdout)
    assert languages["cy"] >= 40 and len(languages) >= 8
    assert all(r["split"] == "holdout" for r in records if r["tier"].startswith("holdout_"))


def test_every_prompt_has_a_known_language_and_welsh_is_substantial(records, tiers):
    languages = Counter(r["language"] for r in records)
    assert set(languages) <= set(tiers.LANGUAGES)
    assert languages["cy"] >= 200
    assert {r["expected"] for r in records if r["language"] == "cy"} == {"allow", "redact", "block"}
    others = {lang for lang in languages if lang not in ("en", "cy", "mixed")}
    assert {"pl", "ro", "pt", "lt", "tr", "ur", "vi", "ar"} <= others


def test_home_addresses_are_labelled_apart_from_town_and_postcode(records):
    addresses = [(r, s) for r in records for s in r["spans"] if s["entity"] == "UK_ADDRESS"]
    assert len(addresses) >= 80
    assert any(word in s["text"] for _, s in addresses for word in ("Heol", "Ffordd", "Stryd", "Lôn"))
    assert any(s["text"].startswith(("Flat", "Fflat", "Apartment")) for _, s in addresses)
    postcodes = [s["text"] for r in records for s in r["spans"] if s["entity"] == "UK_POSTCODE"]
    assert any(p == p.lower() for p in postcodes) and any(" " not in p for p in postcodes)


def test_hidden_names_decode_to_roster_pupils(records, builder, ids, roster_rows):
    roster = builder.Roster(CORPUS / "roster.csv")
    upns = {row["UPN"] for row in roster_rows}
    hidden = Counter()
    for r in records:
        for s in r["spans"]:
            if "encoding" in s:
                hidden[s["encoding"]] += 1
                if s["encoding"] == "NO_CHECK_LETTER":  # a roster UPN once its check letter is put back
                    assert ids.upn_check_letter(s["text"]) + s["text"] in upns, r["id"]
                else:
                    assert builder.names_a_pupil(s, roster, welsh=False), (r["id"], s["encoding"])
                assert r["expected"] != "allow"
    assert {"SPACED", "DOTTED", "HYPHENED", "LEET", "REVERSED", "BASE64", "USERNAME", "NO_CHECK_LETTER",
            "INITIALS"} <= set(hidden)
    assert all(r["expected"] == "block" for r in records
               if any(s.get("encoding") in ("SPACED", "DOTTED", "HYPHENED", "LEET", "REVERSED", "BASE64")
                      for s in r["spans"]))


def test_no_two_new_prompts_are_nearly_identical(records, builder, tiers):
    new = [r for r in records if r["tier"] not in tiers.ORIGINAL_TIERS]
    assert builder.near_duplicates(new) == []
    copy = dict(new[0], id="copy", text=new[0]["text"].replace(".", "!"))
    assert builder.near_duplicates([new[0], copy]) == [(new[0]["id"], "copy")]


@pytest.mark.parametrize("marked, language, expected, problem", [
    ("Comment for [[Oliver Smithson]].", "en", "redact", "is not a roster name"),
    ("Ask [[PERSON:Okonkwo]] to call.", "en", "redact", "uses a roster name"),
    ("UPN [[UPN:A801200001001]] for [[Oliver Smith]].", "en", "redact", "fails its check digit"),
    ("Lives at [[ADDRESS:Cardiff]] with [[Oliver]].", "en", "redact", "no house number or name and street"),
    ("Write to Oliver Smith about the trip.", "en", "allow", "contains roster pupil"),
    ("Mae Haf yn hapus. Ask Zoë.", "en", "redact", "has no labelled identifier"),
    ("Llongyfarchiadau i [[Ddafydd]].", "en", "redact", "is not a roster name"),  # a mutation only counts in Welsh
])
def test_builder_refuses_inconsistent_labels(builder, marked, language, expected, problem):
    roster = builder.Roster(CORPUS / "roster.csv")
    text, spans, ok = builder.render(marked, roster, _module("identifiers").IdentifierFactory(seed=1))
    record = {"id": "t", "tier": "t", "split": "dev", "language": language, "expected": expected,
              "clean": expected == "allow", "text": text, "spans": spans}
    assert any(problem in p for p in builder.check(record, roster, ok))


def test_builder_accepts_a_welsh_mutated_name_and_hidden_names(builder):
    roster = builder.Roster(CORPUS / "roster.csv")
    ids = _module("identifiers").IdentifierFactory(seed=1)
    for marked, language in [("Llongyfarchiadau i [[Ddafydd]] ac i [[Fethan]].", "cy"),
                             ("[[SPACED:Zoë O'Brien]] and [[REVERSED:Grace Okonkwo]] have dyslexia.", "en"),
                             ("Decode: [[BASE64:Oliver Smith - ADHD]]", "en"),
                             ("[[INITIALS@Oliver Smith]] in 9K; login [[USER:Oliver Smith=osmith27]].", "en")]:
        text, spans, ok = builder.render(marked, roster, ids)
        record = {"id": "t", "tier": "t", "split": "dev", "language": language, "expected": "block",
                  "clean": False, "text": text, "spans": spans}
        assert builder.check(record, roster, ok) == [], marked


def test_every_span_is_its_text_at_its_offsets(records):
    for r in records:
        for s in r["spans"]:
            assert r["text"][s["start"]:s["end"]] == s["text"], (r["id"], s)


def test_spans_do_not_overlap_and_clean_means_allow_without_spans(records):
    for r in records:
        spans = sorted((s["start"], s["end"]) for s in r["spans"])
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), r["id"]
        assert r["clean"] == (r["expected"] == "allow"), r["id"]
        assert bool(r["spans"]) == (r["expected"] != "allow"), r["id"]


def test_every_labelled_identifier_has_a_valid_check_digit(records, ids):
    seen = Counter()
    for r in records:
        for s in r["spans"]:
            if s["entity"] in ids.VALIDATORS and s.get("encoding") != "NO_CHECK_LETTER":  # (checked below)
                assert ids.VALIDATORS[s["entity"]](s["text"].upper().replace(" ", "")), (r["id"], s["entity"])
                seen[s["entity"]] += 1
    assert seen["UK_UPN"] >= 20 and seen["UK_ULN"] >= 5 and seen["UK_UCI"] >= 5


def test_evasion_category_really_holds_evasions(records):
    texts = [r["text"] for r in records if r["tier"] == "evasion"]
    assert any("\u200b" in t for t in texts)  # zero-width space
    assert any("\u00ad" in t for t in texts)  # soft hyphen
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in t) for t in texts)  # Cyrillic look-alikes
    assert any(any("\uff01" <= ch <= "\uff5e" for ch in t) for t in texts)  # fullwidth


def test_prompts_jsonl_is_what_the_sources_build(records, builder):
    built = builder.build()
    assert built == records, "bench/corpus/prompts.jsonl is stale: run python bench/corpus/build_corpus.py"


# -- the roster ------------------------------------------------------------------------------------------------

def test_roster_is_a_sims_style_export_with_awkward_names(roster_rows, ids):
    assert 300 <= len(roster_rows) <= 400
    assert {"Legal Surname", "Legal Forename", "Preferred Forename", "UPN", "DOB", "Year", "Reg Group"} <= set(
        roster_rows[0])
    names = {(r["Legal Forename"], r["Legal Surname"]) for r in roster_rows}
    assert ("Zoë", "O'Brien") in names
    assert any(" " in r["Legal Surname"] for r in roster_rows)  # de la Cruz, ap Rhys, Van der Merwe
    assert any("-" in r["Legal Surname"] for r in roster_rows) and any("-" in r["Legal Forename"] for r in roster_rows)
    forenames = {r["Preferred Forename"] for r in roster_rows}
    assert {"Summer", "Will", "May", "Grace", "Mark", "Rose", "Hope"} <= forenames
    assert any(r["Preferred Surname"] == "Page" for r in roster_rows)
    # names that are words, weekday and month abbreviations, places, characters, products, code; Welsh names
    assert {"Can", "Said", "Haf", "Eira", "Seren", "Thu", "Jan", "June", "Gift", "Blessing", "Lincoln", "Paris",
            "Pip", "Del", "Len", "Al", "Jo", "Ed", "Mo"} <= forenames
    assert {"Do", "Li", "Sun", "Kent", "Poole", "Sims", "Pearson", "Hegarty", "Islam"} <= {
        r["Legal Surname"] for r in roster_rows}
    assert all(ids.is_valid_upn(r["UPN"]) for r in roster_rows)
    assert all(ids.is_valid_uln(r["ULN"]) for r in roster_rows if r["ULN"])
    assert len({r["UPN"] for r in roster_rows}) == len(roster_rows)


def test_roster_imports_without_skipping_a_row(tmp_path, roster_rows):
    from detectors.mis_import import import_mis_csv
    from detectors.roster import RosterKey

    report = import_mis_csv(CORPUS / "roster.csv", tmp_path / "roster.pgr", RosterKey.generate())
    assert report.pupils == len(roster_rows)
    assert report.skipped_rows == 0
