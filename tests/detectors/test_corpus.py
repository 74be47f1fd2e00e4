"""The labelled corpus in bench/corpus is self-consistent: labels point at their text, identifiers carry valid
check digits (by the reference's rules and worked examples), the roster is a SIMS-style export the importer
accepts, and prompts.jsonl is exactly what the hand-written sources build."""
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
def records():
    with open(CORPUS / "prompts.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def roster_rows():
    with open(CORPUS / "roster.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# -- check digits, against the worked examples in /work/shared/reference/uk-identifiers.md --------------------

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

def test_corpus_size_categories_and_actions(records):
    assert len(records) >= 400
    assert len({r["id"] for r in records}) == len(records)
    by_action = Counter(r["expected"] for r in records)
    assert by_action["allow"] >= 100 and by_action["redact"] >= 150 and by_action["block"] >= 100
    categories = {r["category"] for r in records}
    assert {"report_comment", "parent_email", "sen_plan", "behaviour_log", "safeguarding", "class_list",
            "exam_entry", "famous_people", "teaching_request", "name_words", "evasion", "special_no_id",
            "special_with_id"} <= categories


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
            if s["entity"] in ids.VALIDATORS:
                assert ids.VALIDATORS[s["entity"]](s["text"].upper().replace(" ", "")), (r["id"], s["entity"])
                seen[s["entity"]] += 1
    assert seen["UK_UPN"] >= 20 and seen["UK_ULN"] >= 5 and seen["UK_UCI"] >= 5


def test_evasion_category_really_holds_evasions(records):
    texts = [r["text"] for r in records if r["category"] == "evasion"]
    assert any("\u200b" in t for t in texts)  # zero-width space
    assert any("\u00ad" in t for t in texts)  # soft hyphen
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in t) for t in texts)  # Cyrillic look-alikes
    assert any(any("\uff01" <= ch <= "\uff5e" for ch in t) for t in texts)  # fullwidth


def test_prompts_jsonl_is_what_the_sources_build(records):
    built = _module("build_corpus").build()
    assert built == records, "bench/corpus/prompts.jsonl is stale: run python bench/corpus/build_corpus.py"


# -- the roster ------------------------------------------------------------------------------------------------

def test_roster_is_a_sims_style_export_with_awkward_names(roster_rows, ids):
    assert 150 <= len(roster_rows) <= 300
    assert {"Legal Surname", "Legal Forename", "Preferred Forename", "UPN", "DOB", "Year", "Reg Group"} <= set(
        roster_rows[0])
    names = {(r["Legal Forename"], r["Legal Surname"]) for r in roster_rows}
    assert ("Zoë", "O'Brien") in names
    assert any(" " in r["Legal Surname"] for r in roster_rows)  # de la Cruz, ap Rhys, Van der Merwe
    assert any("-" in r["Legal Surname"] for r in roster_rows) and any("-" in r["Legal Forename"] for r in roster_rows)
    forenames = {r["Preferred Forename"] for r in roster_rows}
    assert {"Summer", "Will", "May", "Grace", "Mark", "Rose", "Hope"} <= forenames
    assert any(r["Preferred Surname"] == "Page" for r in roster_rows)
    assert all(ids.is_valid_upn(r["UPN"]) for r in roster_rows)
    assert all(ids.is_valid_uln(r["ULN"]) for r in roster_rows if r["ULN"])
    assert len({r["UPN"] for r in roster_rows}) == len(roster_rows)


def test_roster_imports_without_skipping_a_row(tmp_path, roster_rows):
    from detectors.mis_import import import_mis_csv
    from detectors.roster import RosterKey

    report = import_mis_csv(CORPUS / "roster.csv", tmp_path / "roster.pgr", RosterKey.generate())
    assert report.pupils == len(roster_rows)
    assert report.skipped_rows == 0
