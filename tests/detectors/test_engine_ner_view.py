"""What NER reads: same offsets as the text, shouting title-cased, nothing but context around possible names."""
from hypothesis import example, given, settings, strategies as st

from detectors.nlp import ner_view as _ner_view


def test_view_keeps_length_and_offsets():
    text = "Plan a lesson on fractions.\nAsk Kerry Doyle about it.\n" + "More plain words here. " * 20
    view = _ner_view(text)
    assert len(view) == len(text)
    i = text.index("Kerry Doyle")
    assert view[i:i + 11] == "Kerry Doyle"
    assert view.count("\n") == text.count("\n")


def test_text_without_possible_names_is_blank():
    assert _ner_view("please write a plan for Year 8 maths on Monday. Check the SEN register.").isspace()


def test_explained_words_need_no_ner():
    text = "Oliver did well. " + "x " * 100 + "Jayden did too."
    view = _ner_view(text, explained={"Oliver"})
    assert "Oliver" not in view and "Jayden did too." in view


def test_ner_reads_names_without_their_accents_at_the_same_offsets():
    # English NER took "Ruairí Breathnach" for a building and missed a new starter with anxiety
    text = "New Year 7 in January: Ruairí Breathnach, Zoë Wiśniewska."
    view = _ner_view(text)
    assert len(view) == len(text) and "Ruairi Breathnach, Zoe Wisniewska" in view


def test_an_accented_new_starter_is_found_by_ner(engine):
    text = ("New Year 7 in January: Ruairí Breathnach. Mum says he was bullied at his last school. He's been "
            "seeing a counsellor for anxiety.")
    assert engine.scan([text]).action == "block"


def test_shouting_is_title_cased_for_ner():
    assert _ner_view("NOTE FROM MRS ADEYEMI ABOUT KACPER") == "Note From Mrs Adeyemi About Kacper"


def test_capitalised_common_word_before_a_capitalised_word_stays():
    assert "Kerry Doyle" in _ner_view("From: Kerry Doyle", explained={"Doyle"})
    assert _ner_view("Check: Report these marks.").isspace()


def test_ordinary_word_used_as_a_name_at_a_sentence_start_keeps_ner():
    assert not _ner_view("Grace was late again.").isspace()
    assert not _ner_view("Hope's essay was great.").isspace()


def test_documents_longer_than_a_spacy_doc_are_read_in_pieces(engine):
    from detectors import nlp

    filler = "Plain words about fractions and decimals for the class. " * 40
    text = (filler + "Ask Mrs Adeyemi about Kacper Nowicki. ") * 60   # ~140k characters, over CHUNK
    assert len(text) > nlp.CHUNK
    assert "".join(nlp._pieces(text)) == text
    d = engine.scan([text])
    assert d.action == "redact" and "Nowicki" not in d.texts[0] and "Adeyemi" not in d.texts[0]
    assert d.texts[0].count("[PERSON_2]") == 60


@settings(max_examples=300, deadline=None, derandomize=True)
@example(["Mathematics", "English", "Maths", "BIOLOGY", "\n", "Mathematics", "|", "BIOLOGY", "set", "BIOLOGY", "the",
          "set", ",", ",", "Paper"])  # a window widened back over the previous one once repeated its text
@given(st.lists(st.sampled_from(["Ibrahim", "Warsame", "Maths", "Paper", "2", "|", "and", "the", "English",
                                 "Oliver", "Smith", ",", "\n", "BIOLOGY", "set", "Mathematics", "Kowalczykowska"]),
                max_size=60))
def test_ner_view_keeps_every_character_in_place_or_blanks_it(words):
    """NER's offsets are the text's offsets: a window widened to whole words never repeats its neighbour's text."""
    text = " ".join(words)
    view = _ner_view(text)
    assert len(view) == len(text)
    assert all(v == c or v == " " or v == c.lower() or v == c.upper() for c, v in zip(text, view))
