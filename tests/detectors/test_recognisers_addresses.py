"""Home addresses (UK_ADDRESS) and postcodes as staff type them: in sentences, letter heads, signatures, Welsh."""
import pytest

from detectors.recognisers.addresses import UkAddressRecognizer
from detectors.recognisers.contact import UkPostcodeRecognizer


def spans(recogniser, text):
    return [text[r.start:r.end] for r in recogniser.analyze(text, recogniser.supported_entities) if r.score > 0]


@pytest.mark.parametrize("text, expected", [
    ("She lives at 12 Acacia Avenue, Cardiff and has ADHD.", "12 Acacia Avenue, Cardiff"),
    ("New address: Flat 3, 12 Tower Street, Swansea SA1 1AA (from Monday)", "Flat 3, 12 Tower Street"),
    ("Rose Cottage, Mill Lane, Llandeilo SA19 6AB", "Rose Cottage, Mill Lane"),
    ("Tŷ Gwyn, Ffordd Las, Bangor LL57 2AB", "Tŷ Gwyn, Ffordd Las"),
    ("They moved to 3b Maes Glas, Rhyl.", "3b Maes Glas, Rhyl"),
    ("Mae hi'n byw yn 7 Heol y Felin, Pontypridd.", "7 Heol y Felin, Pontypridd"),
    ("Address: 45 Oak Road, Leeds LS6 2AB. Tel 0113 496 0000", "45 Oak Road"),
    ("Mum said 8 Victoria Road is where they are staying", "8 Victoria Road"),
    ("5 The Grove, Stratford-upon-Avon", "5 The Grove, Stratford-upon-Avon"),
    ("new address is 5 heol y felin, pontypridd cf37 1aa thanks", "5 heol y felin"),
    ("27 Cilgant y Lloer, Merthyr Tydfil", "27 Cilgant y Lloer, Merthyr Tydfil"),
])
def test_addresses_in_sentences(text, expected):
    assert spans(UkAddressRecognizer(), text) == [expected]


def test_letter_head_and_signature_lines_are_one_address():
    text = "Kind regards,\nMrs J Evans\n14 Heol y Nant\nWhitchurch\nCardiff\nCF14 1AB\n\nTel 029 2000 0000"
    assert spans(UkAddressRecognizer(), text) == ["14 Heol y Nant\nWhitchurch"]
    head = "Flat 2\nBryn Awel\n9 Station Road\nLlanelli\nSA15 2AA\n\nDear Sir or Madam,"
    assert spans(UkAddressRecognizer(), head) == ["Flat 2\nBryn Awel\n9 Station Road"]


@pytest.mark.parametrize("text", [
    "Road safety week is coming up: ideas for a Year 7 assembly?",
    "Describe the High Street in WW2 for a history lesson.",
    "Read Chapter 3 The Drive again before Friday.",
    "In 2 weeks the way we mark changes.",
    "Year 7 Park Lane trip letter",
    "Write a paragraph about 10 Downing Street.",
    "Scored 12 out of 20, then 14 in the retest",
    "we walked 3 miles down the lane",  # lower case needs an address cue
])
def test_not_addresses(text):
    assert spans(UkAddressRecognizer(), text) == []


def test_postcodes_typed_lower_case_or_without_the_space():
    r = UkPostcodeRecognizer()
    assert spans(r, "cf101aa, CF10 1AA, cf10 1aa, CF101AA and sw1a 1aa") == [
        "cf101aa", "CF10 1AA", "cf10 1aa", "CF101AA", "sw1a 1aa"]


@pytest.mark.parametrize("text", ["Grade Ab1 2cd", "Y10 assessment", "classes y10ab and ks4ab", "Cf10 1aa"])
def test_postcode_shapes_that_are_not_postcodes(text):
    assert spans(UkPostcodeRecognizer(), text) == []


def test_an_address_is_redacted_and_counts_as_an_identifier_for_special_category(engine):
    d = engine.scan(["Please draft a letter to the family at 14 Heol y Nant, Whitchurch about the trip."])
    assert d.action == "redact" and d.texts == [
        "Please draft a letter to the family at [ADDRESS_1] about the trip."]
    assert engine.scan(["The family at 14 Heol y Nant, Whitchurch have asked about his ADHD."]).action == "block"
    clean = "Plan a Road safety week assembly and a lesson on the High Street in WW2."
    assert engine.scan([clean]).action == "allow"
