"""Roster names that are ordinary words, months, places, set-text characters, products or code: the pupil where
the context says a person, otherwise the word (issue 9, class 6)."""
import pytest

from tests.support.detectors import engine_for_roster

WORD_NAMES_CSV = """Forename,Surname,Year
Jan,Kowalski,9
Kent,Adebayo,8
Eric,Jones,10
Sheila,Okoro,11
Seneca,Brown,7
Len,Marsh,9
Chester,Price,8
Oak,Hughes,7
Holly,Young,3
Ivy,Carter,3
Seren,Farah,2
Harvey,Roberts,10
Bryn,Jones,4
River,Watts,6
Sutton,Mensah,9
"""


@pytest.fixture(scope="module")
def word_engine(tmp_path_factory):
    return engine_for_roster(WORD_NAMES_CSV, tmp_path_factory.mktemp("word-names"))


@pytest.mark.parametrize("text", [
    "Timetable for the spring:\nJan 12 - mock exams\nFeb 3 - parents' evening\nMar 10 - trip",
    "Plan a lesson on Kent in the Second World War: evacuees and the hop farms.",
    "How does Eric change in An Inspector Calls? Compare him with Sheila and Mr Birling.",
    "Assign Seneca homework on cell biology, then a Sparx quiz.",
    "Explain this code: print(len(names)) and why len counts items.",
    "Make a worksheet on Chester Zoo and the Roman walls of Chester.",
    "Draw an oak tree and label an Oak leaf.",
    "The River flooded the town in 2020: write a news report.",
    # a class, house or team named after a word, as primary schools name them
    "Holly and Ivy class will perform the nativity on 12 December.",
    "Mae Dosbarth Seren yn mynd i Sain Ffagan ddydd Llun.",
    # literature questions: the writer and the characters, also asked in the passive and in Welsh
    "How is Eddie Carbone's downfall presented in A View from the Bridge?",
    "Sut mae Kate Roberts yn portreadu tlodi yn Te yn y Grug?",
    "Is Sheila more mature than Eric by the end? Give evidence from Act 3.",  # two of one text's characters
    # a character by how the task speaks of it, with no title named
    "Give me five quotations about Sheila from chapter 3 with analysis.",
    "In the novel, is Eric to blame? Plan an essay.",
    "Write a diary entry as Harvey after the storm scene.",
    "Why does Sheila change by the end of the play?",
    # inside a place's name, and a name used as an adjective
    "Our sports day is at Chester Park this year; then a walk along the River Kent.",
    "Directions to Ysgol Gynradd Pen y Bryn, Heol Penlan, Abertawe SA5 7BU, please.",
    "River Taff water quality investigation: write a method for Year 9.",  # no pupil River Taff
    "Explain the Tudor rose and the Wars of the Roses for Year 8.",
    "Chester is a city in Cheshire with Roman walls; write three facts about it.",
    # a town every gazetteer knows that is also a pupil's name, used as the town
    "Plan a Year 5 day trip to Sutton: what should we see? Then compare Sutton and Leeds.",
    "Our coach leaves for Sutton at 8am; Sutton has a population of about 40,000.",
    "How far is Sutton from Cardiff by train? Describe the history of Chester.",
    "Create a map-reading task using Sutton and the surrounding villages; a coach to Chester and back.",
    # a timetable's key
    "Key: Eng = English, Ma = Maths, Hum = Humanities, PE = Physical Education, Cym = Cymraeg.",
    'plants = ["Holly", "Ivy", "Mistletoe"]  # a list of words has words nobody is named',
    'holly_leaves = 3\noak_height = 12\nprint(holly_leaves + oak_height)',  # what is kept is a plant's
    'plants = [["Holly", "Ivy"], ["Mistletoe", None]]',
    # a character a story is asked about
    "Write a Year 2 story about a fox called Holly who lives in a wood.",
    "Ysgrifennwch stori fer am ferch o'r enw Seren sy'n byw ar fferm yn Eryri.",
    # three capitalised words listed are things, not people
    "Knight, Bishop and Rook: explain how each chess piece moves.",
])
def test_the_word_is_left_alone(word_engine, text):
    d = word_engine.scan([text])
    assert d.action == "allow", d.excerpt


@pytest.mark.parametrize("text, redacted", [
    ("Jan said he would finish the essay.", "[PUPIL_1] said he would finish the essay."),
    ("Kent is struggling with fractions.", "[PUPIL_1] is struggling with fractions."),
    ("Write a report for Seneca Brown.", "Write a report for [PUPIL_1]."),
    ("Eric Jones wrote a great essay on Macbeth; Eric should aim higher.",
     "[PUPIL_1] wrote a great essay on Macbeth; [PUPIL_2] should aim higher."),
    ("Len forgot his PE kit again.", "[PUPIL_1] forgot his PE kit again."),
    ("Holly has been brilliant in class this week.", "[PUPIL_1] has been brilliant in class this week."),
    ("Sheila and Eric (both Year 10) need to resit the quiz.",
     "[PUPIL_1] and [PUPIL_2] (both Year 10) need to resit the quiz."),
    ("How far is Sutton behind with his coursework?", "How far is [PUPIL_1] behind with his coursework?"),
    ("Write a report for Sutton; a trip to Chester with Sutton and Holly.",
     "Write a report for [PUPIL_1]; a trip to Chester with [PUPIL_1] and [PUPIL_2]."),
    ("Write a poem for a girl named Holly who is leaving our school.",
     "Write a poem for a girl named [PUPIL_1] who is leaving our school."),
    ("I have a girl called Holly in my class who writes stories about foxes.",
     "I have a girl called [PUPIL_1] in my class who writes stories about foxes."),
    ('if student.name == "Holly":\n    award = "Star"', 'if student.name == "[PUPIL_1]":\n    award = "Star"'),
    ('for name in ["Holly", "Ivy", "Len"]:\n    print(name)',
     'for name in ["[PUPIL_1]", "[PUPIL_2]", "[PUPIL_3]"]:\n    print(name)'),
    # a name that did something is a person, whatever the verb
    ("Write a short note home: Len adopted a hedgehog at the wildlife park.",
     "Write a short note home: [PUPIL_1] adopted a hedgehog at the wildlife park."),
    ("Holly wore glasses for the first time today.", "[PUPIL_1] wore glasses for the first time today."),
    ("Sheila needs five quotations about Macbeth for her essay.",
     "[PUPIL_1] needs five quotations about Macbeth for her essay."),
    ("How is Harvey getting on? He was presented with an award.",
     "How is [PUPIL_1] getting on? He was presented with an award."),
    ("Reports: Y3_Young_Holly.pdf and Y3_Carter_Ivy.pdf", "Reports: Y3_[PUPIL_1].pdf and Y3_[PUPIL_2].pdf"),
    # code: a dict's keys and nested lists of names, a name given to a constructor or under "first"/"last", an
    # identifier named after a pupil wherever it recurs, a pupil praised in a string
    ('scores = {"Holly": 7, "Ivy": 5}\nprint(max(scores, key=scores.get))',
     'scores = {"[PUPIL_1]": 7, "[PUPIL_2]": 5}\nprint(max(scores, key=scores.get))'),
    ('seats = [["Holly", "Ivy"], ["Len", None]]', 'seats = [["[PUPIL_1]", "[PUPIL_2]"], ["[PUPIL_3]", None]]'),
    ('p = Pupil("Holly")\nq = Pupil("Len")', 'p = Pupil("[PUPIL_1]")\nq = Pupil("[PUPIL_2]")'),
    ('{"first": "Len", "last": "Marsh"}', '{"first": "[PUPIL_1]", "last": "[PUPIL_2]"}'),
    ("Holly_score = 14\nprint(max(Holly_score, 10))", "[PUPIL_1]_score = 14\nprint(max([PUPIL_1]_score, 10))"),
    ('print(f"Well done Holly! You scored {score}")', 'print(f"Well done [PUPIL_1]! You scored {score}")'),
])
def test_the_pupil_is_redacted_where_the_context_says_a_person(word_engine, text, redacted):
    d = word_engine.scan([text])
    assert d.action == "redact" and d.texts == [redacted]


def test_set_text_characters_are_data_covering_every_board():
    from detectors.recognisers.persons import famous_in_company, famous_names

    names = set(famous_names())
    for character in ("Inspector Goole", "Eva Smith", "Piggy", "Lennie Small", "Miss Havisham", "Shylock",
                      "Anita Rutter", "Sephy Hadley", "Christopher Boone", "Stanhope", "Ebenezer Scrooge",
                      "Begw", "Sianco", "Kate Roberts", "Caradog Prichard"):  # and WJEC's Welsh literature
        assert character in names or character in famous_in_company(), character
    assert {"Mickey", "Eddie", "Linda", "Ralph", "Jack", "Simon", "Eric", "Sheila"} <= set(famous_in_company())
