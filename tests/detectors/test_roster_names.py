"""PUPIL recogniser: roster names found in any order, case, spelling or disguise; ordinary words left alone."""
import pytest

from detectors.mis_import import import_mis_csv
from detectors.normalise import clean
from detectors.recognisers.roster_names import RosterNameRecognizer, common_words
from detectors.roster import Roster, RosterKey

KEY = RosterKey(b"n" * 32)
PUPILS = """Legal Surname,Legal Forename,Middle Names,Preferred Forename,UPN
Smith,Oliver,James,Olly,X801200000001
Turner,Will,,,L801200000002
Okafor,Grace,,,A801200000003
Hall,Summer,,,
Patel,May,,,
Day,Jack,,,
Rose,Mark,,,
Page,Lily,,,
O'Brien,Zoë,,,
van der Berg,Anna,,,
Smith-Jones,Amelia,,,
"""


@pytest.fixture(scope="module")
def roster(tmp_path_factory):
    out = tmp_path_factory.mktemp("names") / "r.roster"
    import_mis_csv(PUPILS.encode(), out, KEY)
    return Roster.load(out, KEY)


@pytest.fixture(scope="module")
def recogniser(roster):
    return RosterNameRecognizer(roster)


def found(recogniser, text, nlp_artifacts=None):
    """(original substring, kind) for each PUPIL result, mapped back through clean() as the engine does."""
    cleaned = clean(text)
    out = []
    for r in sorted(recogniser.analyze(cleaned.text, ["PUPIL"], nlp_artifacts), key=lambda r: r.start):
        s, e = cleaned.to_original(r.start, r.end)
        out.append((text[s:e], r.recognition_metadata["roster_match"]))
    return out


@pytest.mark.parametrize("text,name", [
    ("Oliver Smith needs help with fractions", "Oliver Smith"),
    ("Smith, Oliver was late again", "Smith, Oliver"),
    ("SMITH Oliver (9C)", "SMITH Oliver"),
    ("oliver smith", "oliver smith"),
    ("Olly Smith", "Olly Smith"),
    ("Oliver James Smith", "Oliver James Smith"),
    ("Zoe OBrien", "Zoe OBrien"),
    ("ZOË O’BRIEN", "ZOË O’BRIEN"),
    ("zoë o'brien", "zoë o'brien"),
    ("Anna van der Berg", "Anna van der Berg"),
    ("Amelia Smith-Jones", "Amelia Smith-Jones"),
    ("Amelia Smith Jones", "Amelia Smith Jones"),
    ("Will Turner and his group", "Will Turner"),
    ("Summer Hall", "Summer Hall"),
])
def test_full_names(recogniser, roster, text, name):
    results = found(recogniser, text)
    assert results == [(name, "full_name")]


def test_full_name_reports_the_pupil_ref(recogniser, roster):
    [result] = recogniser.analyze("Report for Oliver Smith", ["PUPIL"], None)
    assert result.recognition_metadata["pupil_refs"] == roster.match_full_name("Oliver", "Smith")
    assert result.score >= 0.9


@pytest.mark.parametrize("text,name", [
    ("Oliver's essay was great", "Oliver"),
    ("oliver needs help", "oliver"),
    ("Mrs Smith rang about the trip", "Smith"),
    ("mr okafor called", "okafor"),
    ("I spoke to Mrs Page", "Page"),
    ("I spoke to Mrs. Page today", "Page"),
    ("Dr.Okafor", "Okafor"),
    ("Mr van der Berg", "van der Berg"),
    ("Will is struggling in Year 8", "Will"),
    ("Grace said she was tired", "Grace"),
    ("Grace's homework", "Grace"),
    ("Please ask Grace about it", "Grace"),
    ("Notes on May (Y8) for parents evening", "May"),
    ("Fairweather wrote nothing", None),  # not on this roster
    ("Jones wrote nothing", "Jones"),  # part of Amelia Smith-Jones's surname
])
def test_forename_or_surname_alone_used_as_a_name(recogniser, text, name):
    results = found(recogniser, text)
    if name is None:
        assert results == []
    else:
        assert [n for n, _ in results] == [name]


@pytest.mark.parametrize("text", [
    "Plan the summer term for Year 8",
    "Will you help me write a letter?",
    "Meet in the school hall at noon",
    "May Day celebrations in the village",
    "Grace period for late homework",
    "Mark the essays by Friday",
    "Rose garden design project",
    "Start a new Page for each answer",
    "Day one of the trip",
    "The pupils may leave early",
    "PLEASE MARK THE ESSAYS",
    "Bartholomew Fairweather is a made-up name",
])
def test_ordinary_words_that_are_names_are_left_alone(recogniser, text):
    assert found(recogniser, text) == []


@pytest.mark.parametrize("text,name", [
    ("Oli\u200bver Sm\u200dith is absent", "Oli\u200bver Sm\u200dith"),
    ("Оliver Ѕmith is absent", "Оliver Ѕmith"),            # Cyrillic O and S
    ("𝐎𝐥𝐢𝐯𝐞𝐫 𝐒𝐦𝐢𝐭𝐡 is absent", "𝐎𝐥𝐢𝐯𝐞𝐫 𝐒𝐦𝐢𝐭𝐡"),          # mathematical bold
    ("Ｏｌｉｖｅｒ Ｓｍｉｔｈ is absent", "Ｏｌｉｖｅｒ Ｓｍｉｔｈ"),  # fullwidth
    ("Zoe\u0308 O\u2019Brien is absent", "Zoe\u0308 O\u2019Brien"),  # combining diaeresis
    ("OLIVER\u00a0SMITH is absent", "OLIVER\u00a0SMITH"),  # no-break space
])
def test_evasions_are_caught_and_map_back_to_the_original(recogniser, text, name):
    assert found(recogniser, text) == [(name, "full_name")]


def test_only_answers_for_pupil(recogniser):
    assert recogniser.analyze("Oliver Smith", ["PERSON"], None) == []


def test_lone_name_shared_by_many_pupils_reports_no_single_ref(tmp_path):
    rows = "Surname,Forename\n" + "".join(f"{s},Oliver\n" for s in
                                           ("Abbott", "Baxter", "Carver", "Dunmore", "Ellery", "Fenwick"))
    import_mis_csv(rows.encode(), tmp_path / "r", KEY)
    rec = RosterNameRecognizer(Roster.load(tmp_path / "r", KEY))
    [lone] = rec.analyze("Oliver said hello", ["PUPIL"], None)
    assert lone.recognition_metadata["pupil_refs"] == []
    [full] = rec.analyze("Oliver Baxter said hello", ["PUPIL"], None)
    assert len(full.recognition_metadata["pupil_refs"]) == 1


def test_common_words_list_is_shipped_and_sane():
    words = common_words()
    assert {"will", "grace", "hall", "summer", "may", "mark", "rose", "page"} <= words
    assert not {"oliver", "okafor", "zoe", "aisha", "amelia", "harry", "khan"} & words


def test_long_prompt_every_occurrence_found(recogniser):
    text = ("The class worked hard on the summer term project. " * 200) + "Oliver Smith finished first. " * 3
    results = recogniser.analyze(text, ["PUPIL"], None)
    assert len(results) == 3 and all(text[r.start:r.end] == "Oliver Smith" for r in results)


@pytest.fixture(scope="module")
def analyzer(recogniser, presidio_nlp_engine):
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(recogniser)
    return AnalyzerEngine(registry=registry, nlp_engine=presidio_nlp_engine, supported_languages=["en"])


def test_inside_presidio_analyzer_with_spacy_context(analyzer):
    text = "Yesterday Grace Okafor and Mark Rose came to see me. Mark the essays later."
    results = sorted(analyzer.analyze(text, language="en", entities=["PUPIL"]), key=lambda r: r.start)
    assert [text[r.start:r.end] for r in results] == ["Grace Okafor", "Mark Rose"]
    assert all(r.recognition_metadata["pupil_refs"] for r in results)


def test_spacy_person_entity_confirms_an_ambiguous_lone_name(analyzer, recogniser):
    text = "I think Grace deserves a merit this week."
    nlp = analyzer.nlp_engine.process_text(text, "en")
    persons = [e.text for e in nlp.entities if e.label_ == "PERSON"]
    without = recogniser.analyze(text, ["PUPIL"], None)
    with_nlp = recogniser.analyze(text, ["PUPIL"], nlp)
    assert without == []  # no title, possessive or verb after it: a common word alone is not enough
    if "Grace" in persons:
        assert [text[r.start:r.end] for r in with_nlp] == ["Grace"]
    else:
        pytest.skip("this spaCy model does not tag Grace as PERSON here")


@pytest.mark.parametrize("text,names", [
    ("will turner y4 wouldnt come in", ["will turner"]),         # one pupil's full name counts in any case
    ("Summer keeps coming into class with sweets", ["Summer"]),
    ("Amelia C. - 7.1\nOlly S. - 6.8", ["Amelia", "Olly"]),      # forename + initial in a list
    ("Reading ages:\nSummer R. - 8.11\nGrace E. - 6.9", ["Summer", "Grace"]),
    ("Scores:\n- Oliver 12\n- Summer 9\n- Grace 14\n\nMark the essays.", ["Oliver", "Summer", "Grace"]),
    ("Mark (known as Mark) joined. Later, Mark should now focus", ["Mark", "Mark"]),
    ("Mark Rose was late. Mark should now focus on fractions.", ["Mark Rose", "Mark"]),
    ("Grace Okafor joined in May. Please thank Grace for her help.", ["Grace Okafor", "Grace"]),
])
def test_name_words_used_as_names(recogniser, text, names):
    assert [n for n, _ in found(recogniser, text)] == names


@pytest.mark.parametrize("text,names", [
    # after the pupil's full name, a sentence-opening forename before a pause is the pupil
    ("Grace Okafor joined the choir.\n\nGrace: lovely singing voice.", ["Grace Okafor", "Grace"]),
    ("Grace Okafor was late. Grace, however, caught up quickly.", ["Grace Okafor", "Grace"]),
    ("Report for May Patel. May finished every task. May and Lily led the group.",
     ["May Patel", "May", "May", "Lily"]),
    # ... but not the ordinary word before a noun, pronoun or determiner
    ("Summer Hall is in 8B. Summer term starts on Monday.", ["Summer Hall"]),
    ("Mark Rose handed in his essay. Mark the essays by Friday.", ["Mark Rose"]),
    ("Will Turner is in my class. Will you write him a comment?", ["Will Turner"]),
    ("May Patel did well. May I have a comment for her? May family fun day is soon.", ["May Patel"]),
    # without the full name, a sentence-opening name-word needs more ("Grace: ..." may be a heading)
    ("Grace: lovely singing voice.", []),
])
def test_forename_repeated_after_the_full_name(recogniser, text, names):
    assert [n for n, _ in found(recogniser, text)] == names


@pytest.mark.parametrize("text", [
    "We met in the summer hall",                 # a determiner: an ordinary phrase, not Summer Hall
    "Oliver Cromwell's New Model Army",          # someone else's full name containing a pupil's forename
    "Compare Grace Darling with Florence Nightingale",
    "Mark the essays. Mark Twain wrote Tom Sawyer.",
])
def test_other_peoples_names_and_phrases_are_not_pupils(recogniser, text):
    assert found(recogniser, text) == []


def test_name_words_in_a_list_of_names(recogniser):
    text = "Well done to the choir (Grace, Oliver and Summer from Year 6) and to May & Amelia Smith-Jones."
    assert [n for n, _ in found(recogniser, text)] == ["Grace", "Oliver", "Summer", "May", "Amelia Smith-Jones"]
    chained = "Stars of the week: Summer, Grace, May and Oliver."
    assert [n for n, _ in found(recogniser, chained)] == ["Summer", "Grace", "May", "Oliver"]


def test_lower_case_abbreviation_is_not_a_pupil(tmp_path):
    import_mis_csv(b"Surname,Forename\nFairbrother,Max\n", tmp_path / "r", KEY)
    rec = RosterNameRecognizer(Roster.load(tmp_path / "r", KEY))
    assert rec.analyze("Summarise the war in max 150 words", ["PUPIL"], None) == []
    assert len(rec.analyze("Max said he would", ["PUPIL"], None)) == 1


@pytest.mark.parametrize("text,names", [
    ("hi its olivers mum, he wont be in today", ["oliver"]),
    ("Okafors dad rang", ["Okafor"]),
    ("the essays mum marked", []),        # ordinary plural, no pupil
    # a family word shows a person even when the name is an ordinary word
    ("graces mum called", ["grace"]),
    ("hi its summers mum, can u tell me if she needs her pe kit", ["summer"]),
    ("is lilys nan picking her up or her stepdad", ["lily"]),
    ("can u ask if mays big sister can collect", []),      # not directly before the family word
    ("can u ask if mays sister can collect", ["may"]),
    ("marks grandad will be at the gate", ["mark"]),
    ("OLIVERS MUM HERE", ["OLIVER"]),
    ("its summer halls mum, can u ring me", ["summer hall"]),   # a full name with the "s" on its surname
    ("hi is oliver smiths dad picking him up", ["oliver smith"]),
    ("book summer halls for the conference", []),
    # belongings show it only for names that are not ordinary words
    ("olivers coat is still in the classroom", ["oliver"]),
    ("okafors homework", ["okafor"]),
    ("marks book", []),                    # marks book / a verb: Mark is an ordinary word
    ("pages book", []),
    # "hopes", "marks", "roses" as a verb or plural are not names
    ("she marks mum's essays too", []),
    ("Lily hopes mum will come", ["Lily"]),          # Lily is a pupil; "hopes" is her verb
    ("Then Amy marks mum's test", []),            # a capitalised subject before the verb "marks"
    ("the summers mum spent in Wales", []),
    # a writer who never capitalises: the name shown by "summers mum" is her name elsewhere in lower case too
    ("summer was upset last night. can someone have a word. thanks, summers mum", ["summer", "summer"]),
    ("we had a lovely summers day", []),
    ("the summers day was hot", []),
])
def test_possessive_without_apostrophe(recogniser, text, names):
    assert [n for n, _ in found(recogniser, text)] == names
