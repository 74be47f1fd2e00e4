"""UPN, ULN and UCI: check characters against the specifications' worked examples, and near-misses."""
import pytest

from detectors.recognisers.uk_ids import (
    UciRecognizer, UlnRecognizer, UpnRecognizer, uci_is_valid, uln_is_valid, upn_check_letter, upn_is_valid,
)

UPN_EXAMPLES = ["H801200001001", "G80120000101A", "T938123424001", "J80120000102B"]
ULN_EXAMPLES = ["9276308686", "4521873617", "7300152499"]
UCI_EXAMPLE = "681990012058G"


@pytest.mark.parametrize("upn", UPN_EXAMPLES)
def test_upn_worked_examples_are_valid(upn):
    assert upn_is_valid(upn)
    assert upn_is_valid(upn.lower())  # typed in lower case it is still a UPN


@pytest.mark.parametrize("upn,expected", [("H801200001001", "H"), ("G80120000101A", "G"),
                                          ("T938123424001", "T"), ("J80120000102B", "J")])
def test_upn_check_letter_matches_the_reference(upn, expected):
    assert upn_check_letter(upn) == expected


@pytest.mark.parametrize("upn", [
    "A801200001001",   # wrong check letter
    "H801200001002",   # one digit changed
    "H810200001001",   # two digits swapped
    "H80120000100",    # too short
    "H8012000010011",  # too long
    "G80120000101I",   # temporary UPN may not end in I (never used)
    "G80120000101O",
    "G80120000101S",
    "I801200001001",   # I, O, S are never check letters
])
def test_upn_near_misses_are_invalid(upn):
    assert not upn_is_valid(upn)


def test_upn_check_table_includes_y_and_z():
    """Known broken implementations lack Y and Z: find bodies whose remainder is 21 and 22 and check them."""
    seen = {}
    for serial in range(200):
        body = f"801200{serial:06d}"
        letter = upn_check_letter("A" + body)
        seen.setdefault(letter, body)
    assert {"Y", "Z"} <= set(seen)
    assert upn_is_valid("Y" + seen["Y"]) and upn_is_valid("Z" + seen["Z"])


@pytest.mark.parametrize("uln", ULN_EXAMPLES)
def test_uln_examples_are_valid(uln):
    assert uln_is_valid(uln)


@pytest.mark.parametrize("uln", ["9276308687", "0276308686", "927630868", "92763086866", "9276308a86",
                                 "2976308686"])
def test_uln_near_misses_are_invalid(uln):
    assert not uln_is_valid(uln)


def test_uln_never_passes_as_nhs_number():
    nhs_valid = "9434765919"
    assert not uln_is_valid(nhs_valid)


def test_uci_wjec_example():
    assert uci_is_valid(UCI_EXAMPLE)
    assert uci_is_valid(UCI_EXAMPLE.lower())


@pytest.mark.parametrize("uci", ["681990012058H", "681990012059G", "618990012058G", "68199001205G"])
def test_uci_near_misses_are_invalid(uci):
    assert not uci_is_valid(uci)


def _found(recognizer, text, entity):
    return [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [entity], None)]


def test_upn_recognizer_finds_valid_and_drops_invalid():
    text = "UPN H801200001001, temp g80120000101a, typo H801200001002, phone 07700900123"
    found = _found(UpnRecognizer(), text, "UK_UPN")
    assert [t for t, _ in found] == ["H801200001001", "g80120000101a"]
    assert all(score == 1.0 for _, score in found)


def test_uln_recognizer_drops_bad_check_digit_and_keeps_moderate_score():
    text = "ULN 9276308686 and order 9276308687 and 4521873617"
    found = _found(UlnRecognizer(), text, "UK_ULN")
    assert [t for t, _ in found] == ["9276308686", "4521873617"]
    assert all(0 < score < 1.0 for _, score in found)  # one in eleven random numbers pass: context decides


def test_uci_recognizer():
    found = _found(UciRecognizer(), "candidate 681990012058G and 681990012058H", "UK_UCI")
    assert [t for t, _ in found] == ["681990012058G"]


def test_context_words_raise_uln_score(presidio_nlp_engine):
    """Through Presidio's analyzer, the context word 'ULN' lifts a checksum-valid number's score."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(UlnRecognizer())
    engine = AnalyzerEngine(registry=registry, nlp_engine=presidio_nlp_engine, supported_languages=["en"])
    with_context = engine.analyze("Her ULN is 9276308686.", language="en", entities=["UK_ULN"])
    without = engine.analyze("Ticket 9276308686 was closed.", language="en", entities=["UK_ULN"])
    assert with_context[0].score > without[0].score
