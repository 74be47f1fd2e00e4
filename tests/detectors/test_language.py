"""Prompts in Welsh and the languages staff translate letters into: language per passage, no English NER on them,
special-category terms in each language (Welsh mutations, inflected stems, missing accents), names by cue words."""
import pytest
import yaml

from detectors.language import ENGLISH, foreign_spans, passages, welsh_mutations
from detectors.nlp import ner_view
from detectors.recognisers.roster_names import common_words
from detectors.recognisers.special_category import SpecialCategoryRecognizer
from detectors.recognisers.terms import STEM, fold_same_length

ROSTER = """Forename,LegalForename,MiddleName,Surname,LegalSurname,UPN,ULN,DateOfBirth,Year
Cerys,Cerys,,Llewellyn,Llewellyn,,,01/02/2013,8
Dewi,Dewi,,Pritchard,Pritchard,,,14/03/2012,9
Aleksandra,Aleksandra,,Nowak-Kowalska,Nowak-Kowalska,,,11/11/2012,9
Andrei,Andrei,,Popescu,Popescu,,,05/06/2013,8
Zainab,Zainab,,Iqbal,Iqbal,,,07/07/2012,9
"""


@pytest.fixture(scope="module")
def welsh_school(tmp_path_factory):
    from detectors.engine import Engine
    from detectors.mis_import import import_mis_csv
    from detectors.roster import Roster, RosterKey

    key = RosterKey.generate()
    out = tmp_path_factory.mktemp("welsh-roster") / "pupils.roster"
    import_mis_csv(ROSTER.encode("utf-8"), out, key)
    return Engine(roster=Roster.load(out, key))


# -- which language each passage is in -----------------------------------------------------------------------
def languages(text):
    return [(text[p.start:p.end], p.language) for p in passages(text)]


def test_each_passage_of_a_bilingual_letter_has_its_language():
    text = ("Dear parents,\nThe Year 6 trip to Cardiff Bay is on Friday and the coach leaves at 8.30.\n"
            "Annwyl rieni,\nMae taith Blwyddyn 6 i Fae Caerdydd ddydd Gwener ac mae'r bws yn gadael am 8.30.\n"
            "Diolch / Thank you")
    found = languages(text)
    assert found[1][1] == ENGLISH
    assert found[2] == ("Annwyl rieni,", "cy") and found[3][1] == "cy"
    assert found[0][1] == ENGLISH  # a greeting too short to judge takes its neighbour's language


@pytest.mark.parametrize("text, language", [
    ("Szanowni Państwo, informujemy, że wycieczka szkolna do muzeum odbędzie się w piątek.", "pl"),
    ("Stimați părinți, excursia școlară va avea loc vineri, vă rugăm să trimiteți acordul semnat.", "ro"),
    ("Caros pais, a visita de estudo ao museu será na sexta-feira de manhã.", "pt"),
    ("Ysgrifennwch gynllun gwers ar ffotosynthesis ar gyfer Blwyddyn 8, os gwelwch yn dda.", "cy"),
    ("Cyfieithwch i'r Gymraeg:", "cy"),  # too short to identify; Welsh function words settle it
])
def test_letters_in_other_languages_are_not_english(text, language):
    assert {p.language for p in passages(text)} == {language}


@pytest.mark.parametrize("text", [
    "Put these pupils into pairs:\nKacper Nowicki\nróisín ní dhomhnaill\nMax Parsons\nWiktoria Zielińska",
    "Outline ADHD strategies for a busy Year 7 classroom.",
    "five engaging starters for a morning maths lesson on simultaneous equations",
    "Nowak, Aleksandra | 9R | SEN K | autyzm",
])
def test_english_prompts_full_of_foreign_names_stay_english(text):
    # NER must still read them: a list of Polish names is an English prompt about Polish pupils
    assert foreign_spans(text) == []


def test_ner_reads_nothing_of_a_welsh_passage():
    text = "Mae Cerys wedi gwneud yn dda iawn yn y wers Gymraeg heddiw.\nPlease thank Mrs Okafor for the cakes."
    view = ner_view(text, skip=foreign_spans(text))
    assert len(view) == len(text)
    assert view[:text.index("\n")].strip() == ""
    assert "Mrs Okafor" in view


def test_welsh_mutations_come_from_the_radical_form():
    assert welsh_mutations("cynllun datblygu unigol") == [
        "cynllun datblygu unigol", "gynllun datblygu unigol", "nghynllun datblygu unigol", "chynllun datblygu unigol"]
    assert welsh_mutations("gofal maeth") == ["gofal maeth", "ofal maeth", "ngofal maeth"]
    assert welsh_mutations("iselder") == ["iselder", "hiselder"]
    assert welsh_mutations("llinellau cyffuriau") == ["llinellau cyffuriau", "linellau cyffuriau"]
    assert welsh_mutations("ADY") == ["ADY"]


# -- special-category terms in other languages ------------------------------------------------------------------
@pytest.fixture(scope="module")
def special():
    return SpecialCategoryRecognizer()


def terms(special, text):
    return [(text[r.start:r.end], r.recognition_metadata["subtype"]) for r in special.analyze(text, [])]


@pytest.mark.parametrize("text, term, subtype", [
    ("Mae gan Cerys ADY ac mae angen CDU arni.", "ADY", "SEN"),
    ("adolygiad o'i chynllun datblygu unigol", "chynllun datblygu unigol", "SEN"),        # aspirate mutation
    ("fy nghynllun datblygu unigol", "nghynllun datblygu unigol", "SEN"),                  # nasal mutation
    ("Mae ganddi ddyslecsia.", "ddyslecsia", "SEN"),                                        # soft mutation
    ("oherwydd ei hiselder", "hiselder", "MENTAL_HEALTH"),                                  # h- before a vowel
    ("Mae e wedi bod yn hunan-niweidio.", "hunan-niweidio", "MENTAL_HEALTH"),
    ("Mae hi'n blentyn sy'n derbyn gofal.", "blentyn sy'n derbyn gofal", "LOOKED_AFTER"),
    ("Mae'n cael prydau ysgol am ddim.", "prydau ysgol am ddim", "FSM"),
    ("cyfarfod cynllun amddiffyn plant", "cynllun amddiffyn plant", "SAFEGUARDING"),
    ("Mae hi'n Fwslim ac yn ymprydio.", "Fwslim", "RELIGION"),
    ("Ola ma autyzm.", "autyzm", "SEN"),
    ("diagnoza autyzmu", "autyzmu", "SEN"),                                                 # inflected stem
    ("problemy ze zdrowiem psychicznym", "zdrowiem psychicznym", "MENTAL_HEALTH"),
    ("probleme de sanatate mintala", "sanatate mintala", "MENTAL_HEALTH"),                 # typed without accents
    ("Beti ki dimaghi sehat theek nahi hai", "dimaghi sehat", "MENTAL_HEALTH"),             # Urdu in Latin script
    ("con tôi bị tự kỷ", "tự kỷ", "SEN"),
    ("Wiilkayga wuxuu qabaa suuxdin", "suuxdin", "HEALTH"),
    ("Oğlumun otizmi var", "otizmi", "SEN"),
    ("Ella tiene dislexia", "dislexia", "SEN"),
    ("Elle vit dans une famille d'accueil", "famille d'accueil", "LOOKED_AFTER"),
    ("Jo sūnus serga epilepsija", "epilepsija", "HEALTH"),
    ("طفلي مصاب بالسكري ويعاني من الصرع", "الصرع", "HEALTH"),
])
def test_terms_in_other_languages(special, text, term, subtype):
    assert (term, subtype) in terms(special, text)


@pytest.mark.parametrize("text", [
    "Rhowch syniadau ar gyfer Wythnos Ymwybyddiaeth Awtistiaeth.",   # topic: Welsh puts the topic word first
    "Beth yw gofynion y Cod ADY i ysgolion?",                         # the ALN Code itself
    "Hyfforddiant ADY i staff ddydd Llun.",
    "We had dinner and wrote a fugue in Polish class.",               # no English word is a foreign term's stem
    "She is an early adopter of new technology; furthermore, politics.",
])
def test_topics_and_english_words_are_not_terms(special, text):
    assert terms(special, text) == []


# Foreign words that are also English words with the same meaning ("diabetes", Romanian "autism*" -> "autistic").
SAME_IN_ENGLISH = ("diabet", "asthma", "halal", "chapel", "cancer", "anorexi", "religi", "bisexual", "homosexual",
                   "depression", "adopti", "police", "autis", "epilep", "psychiatr", "suicid")


def test_no_foreign_term_or_topic_word_is_an_ordinary_english_word():
    """A term or topic word of another language that is also an English word would change English prompts."""
    from importlib import resources

    common = common_words()
    clashes = []
    for entry in resources.files("detectors").joinpath("data/special_category").iterdir():
        if entry.name == "en.yaml" or not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text("utf-8"))
        variants = welsh_mutations if data.get("mutations") == "welsh" else (lambda p: [p])
        phrases = [*data.get("generic_before", ()), *data.get("generic_after", ())]
        phrases += [t for spec in data.values() if isinstance(spec, dict)
                    for key in ("terms", "need_context", "roles") for t in spec.get(key, ())]
        for phrase in (v for p in phrases for v in variants(str(p))):
            key = fold_same_length(phrase)
            assert STEM not in key[:-1], f"{entry.name}: a stem only at the end: {phrase!r}"
            stem = key[:-1] if key.endswith(STEM) else None
            hits = [w for w in common if w.startswith(stem)] if stem else [key] if key in common else []
            clashes += [(entry.name, phrase, w) for w in hits if not w.startswith(SAME_IN_ENGLISH)]
    assert clashes == []


# -- the engine on Welsh and other languages -------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Mae gan Cerys Llewellyn ym mlwyddyn 8 ADY ac mae angen CDU arni.",
    "Ysgrifennwch grynodeb o gynllun datblygu unigol Dewi Pritchard.",
    "Mae Dewi wedi bod yn hunan-niweidio, beth ddylwn i ei wneud?",
    "Annwyl Mr Pritchard,\nMae Dewi wedi cael trawiad epilepsi heddiw yn y wers Gymraeg.",
    "Mae Cerys yn blentyn sy'n derbyn gofal ac mae ganddi awtistiaeth.",
    "Aleksandra Nowak-Kowalska ma autyzm i potrzebuje wsparcia.",
    "Traduceți pentru mama lui Andrei Popescu: Andrei are probleme de sănătate mintală.",
    "Zainab Iqbal ki ammi ko batayein ke Zainab ko mirgi ke dorey parte hain.",
])
def test_pupil_and_special_category_in_another_language_blocks(welsh_school, text):
    d = welsh_school.scan([text])
    assert d.action == "block" and d.texts is None
    assert d.reasons == ["special_category_with_identifier"]


@pytest.mark.parametrize("text", [
    "Ysgrifennwch gynllun gwers ar ffotosynthesis ar gyfer Blwyddyn 8, os gwelwch yn dda.",
    "Bore da! Dyma'r llythyr i rieni am y daith i Gaerdydd ddydd Gwener. Gwnewch yn siŵr ei fod yn glir.",
    "Annwyl Rieni a Gofalwyr,\nBydd yr ysgol ar gau ddydd Llun oherwydd hyfforddiant staff. Diolch am eich "
    "cefnogaeth.\nYn gywir,\nY Pennaeth",
    "Sut alla i gefnogi disgybl ag awtistiaeth yn y dosbarth?",
    "Rhowch syniadau ar gyfer Wythnos Ymwybyddiaeth Awtistiaeth.",
    "Cyfieithwch i'r Gymraeg: \"Please bring a packed lunch on Friday for the trip to Llandudno.\"",
    "Szanowni Państwo,\nInformujemy, że wycieczka szkolna do muzeum odbędzie się w piątek. Prosimy o "
    "przygotowanie drugiego śniadania.\nZ poważaniem,\nDyrekcja szkoły",
    "Dear parents / Annwyl rieni,\nThe school trip is on Friday. Mae'r daith ysgol ddydd Gwener.\nThank you / Diolch",
])
def test_clean_prompts_in_other_languages_are_unchanged_byte_for_byte(welsh_school, text):
    d = welsh_school.scan([text])
    assert d.action == "allow" and d.texts == [text]


def test_names_in_a_welsh_letter_are_found_by_their_cue_words(welsh_school):
    text = ("Annwyl Siân,\nDiolch am eich neges am Dewi. Bydd e'n ymuno â'r tîm pêl-droed ddydd Mercher, ac mae "
            "mam Gethin wedi cynnig helpu gyda'r gêm.\nCofion cynnes,\nMr Rhodri Evans")
    d = welsh_school.scan([text])
    assert d.action == "redact"
    out = d.texts[0]
    for name in ("Siân", "Dewi", "Gethin", "Rhodri Evans"):
        assert name not in out
    assert out.startswith("Annwyl [PERSON_1],\nDiolch am eich neges am [PUPIL_1]. Bydd e'n ymuno â'r tîm")
    assert out.endswith("Cofion cynnes,\nMr [PERSON_3]")


def test_polish_letter_naming_a_parent_keeps_the_letter_and_removes_the_name(welsh_school):
    text = ("Szanowna Pani Kowalczyk,\nDziękujemy za informację o wyjeździe. Córka Pani, Ola, wraca do szkoły w "
            "poniedziałek.\nZ poważaniem,\nAnna Wiśniewska")
    d = welsh_school.scan([text])
    assert d.action == "redact"
    assert "Kowalczyk" not in d.texts[0] and "Anna Wiśniewska" not in d.texts[0]
    assert "Dziękujemy za informację o wyjeździe." in d.texts[0]
