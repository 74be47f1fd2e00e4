"""Clean prompts reach the AI tool byte for byte (issue 9, classes 6 and 7): roster names that are places,
products, months or Welsh words are the word unless a person's context says otherwise; a public address is not a
home address; NER's PERSON on a product, a street or one ordinary word is no one; a safeguarding system's name
and a child "missing" from the lunch queue for ten minutes are not special category. Each rule is also held the
other way: where the context says a person, the pupil is still redacted."""
import pytest

from tests.support.detectors import engine_for_roster

CSV = """Forename,Surname,Year
Lincoln,Hayes,8
Jordan,Kent,9
April,Doherty,10
June,Abernathy,7
Yiming,Sun,8
Jan,Nowicki,9
Miles,Bishop,10
Favour,Eze,8
Haf,Llywelyn,8
Eira,Bowen,6
Seren,Vaughan,11
Gwyn,Parry,9
Bryn,Prosser,7
Celyn,Rees,5
Lydia,Bennet,12
Alfie,Wood,8
Sadia,Islam,9
Summer,Lloyd,3
Autumn,Reece,3
Can,Yilmaz,10
Said,Osman,6
"""


@pytest.fixture(scope="module")
def clean_engine(tmp_path_factory):
    return engine_for_roster(CSV, tmp_path_factory.mktemp("clean-text"))


@pytest.mark.parametrize("text", [
    # places (a preposition or a possessive does not make a place a person)
    "Plan a Year 8 history trip to Lincoln: the cathedral, the castle and the Magna Carta vault.",
    "Write a travel brochure for Kent, the Garden of England.",
    "Compare Kent's white cliffs with the Jurassic Coast for GCSE geography.",
    # school products, and the teachers behind some of them
    "Compare Ruth Miskin phonics with Little Wandle, then Mr Barton quizzes with Sumdog and Lexonik.",
    "Summarise Pie Corbett's Talk for Writing and Mary Myatt's advice on curriculum for our INSET.",
    # months and weekdays used as dates
    "Our SIMS to Arbor migration is in April. What data should we clean first?",
    "Do we have to use the new report template from June? Summarise the changes.",
    "Where can I fit a Sun/Sat revision session?\nMon | Maths | PE\nTue | Art | RE",
    "Add the bank holidays (May 4, May 25) and Jan 1 to this planner.",
    "Thu is INSET; Fri we're back. Write a short reminder for staff.",
    "Clubs timetable\nWednesday - Coding (ICT 2)\nThursday - Netball (Courts)",
    "Tidy this timetable:\nThursday - DT (Canteen)\nTuesday - Hist (Canteen)",  # a lesson's room in brackets
    "Make a grid:\nJoy class: Monday PSHE, Wed Netball\nRowan class: Jan Eng, Sun Choir",  # days and subjects
    # ordinary words in lower case, inflected or British-spelt
    "How many miles is a marathon? Write a maths problem set on running.",
    "Do me a favour: list ten idioms about time.",
    "Miles per hour: a speed-distance-time worksheet. Then Miles to kilometres.",
    "Frank is a drugs advice service - summarise it for staff.",
    # Welsh words that are also names, in Welsh
    "Haf 2027: rhestr o weithgareddau ar gyfer wythnos olaf y tymor.",
    "Esboniwch y treigladau ar ôl 'i', 'o' ac 'am': i Gaerdydd, o Fangor, am Lanelli.",  # towns, mutated
    "Amserlen y tymor: arholiadau ym mis June, taith ar 4 May, a chyngerdd ym mis April.",  # English months
    "Eira mawr! Mae'r ysgol ar gau yfory. Ysgrifenna neges destun fer at bob rhiant.",
    "Ysgrifenna gerdd am y Bryn Gwyn ger yr ysgol: pedwar pennill, i Flwyddyn 3.",
    "Sut mae sefydlu system wobrwyo 'Seren yr Wythnos' sy'n deg i bawb yn y dosbarth?",
    "Rho restr o eiriau'r tywydd yn Gymraeg: glaw, haul, gwynt, eira, niwl. Mewn Cymraeg safonol, os gweli di'n dda.",
    "Esbonia sut mae celyn ac eiddew yn cael eu defnyddio mewn traddodiadau Nadolig yng Nghymru.",
    # products, boards and subjects NER takes for people
    "Is Hegarty Maths still available or has it all moved to Sparx Maths?",
    "Pearson Edexcel vs AQA for GCSE History: which has more source analysis?",
    "Turn my timetable into a grid:\nMon, PE, RE, Welsh, Maths\nTue, Art, Welsh, DT, Music",
    # a set text's character whose full name a pupil also has, with the text named
    "Pride and Prejudice: was Lydia Bennet a victim or a fool? Debate statements for Year 12.",
    # Welsh lessons and timetables: Welsh passages however short, and Wales's own history
    "Esboniwch hanes Santes Dwynwen a Dydd Gŵyl Dewi i ddisgyblion y Cyfnod Sylfaen.",
    "Rhowch syniadau am wers Gymraeg am Sali Mali, Jac y Jwc a Tomos Caradog.",
    "Trefnwch amserlen: Llun - Mathemateg; Mawrth - Cymraeg; Mercher - Gwyddoniaeth; Iau - Hanes; Gwener - Celf.",
    # names that are words, listed with words of their kind
    "Write a rhyme for Year 1 about Summer, Autumn, Winter and Spring.",
    "Haf, hydref, gaeaf, gwanwyn — make a Welsh seasons matching game for Year 2.",
    # towns NER takes for people, and a writer named by surname beside the characters
    "Send the invoice to the council offices, Castle Street, Merthyr Tydfil, marked for the finance team.",
    "Write a Year 6 fieldwork plan for a day in Hailsham: the high street, the river and the common.",
    "Write a persuasive leaflet: visit Conwy, Beaumaris and Harlech castles.",
    "Plan a geography lesson on Lagos, Mumbai and São Paulo as megacities.",
    "Write about the Aberfan disaster of 1966 sensitively for Year 9.",
    "Explain how Stevenson presents Jekyll, Hyde and Utterson in chapter 1, for GCSE revision.",
    "In Small Island, how does Levy present Hortense and Gilbert? Give me three quotations for each.",
    "Turn this into a class newsletter: Charlie and the Chocolate Factory week, Matilda reading, BFG drawings.",
    # public addresses
    "The trip leaves from the school, 14 Heol Isaf, Radyr, CF15 8AH, at 8am. Write the reminder text.",
    "Our office is at 2 High Street, Bridgend CF31 1AB - add it to the footer of the newsletter.",
    "Write the return slip for the trip. Venue: Techniquest, Stuart Street, Cardiff Bay CF10 5BW. Cost £9.",
    "Coach leaves 8.30am for the National Museum, Cathays Park, Cardiff CF10 3NP; back by 3.15.",
    "Plan a KS2 lesson on addressing envelopes, using the example \"1 Example Street, Anytown AN1 1AA\".",
    # a venue named in brackets after its address, or heading an address block; a venue's address "is"; fiction
    "Venue address: 55 Victoria Embankment, Bristol BS1 5TT (Cadbury World). 60 pupils, 2 staff.",
    "Directions from the station to Brecon Cathedral\n68 Station Road\nBrecon LD3 7HY\nfor the choir, please.",
    "Our exam venue this year is 24 Heol y Frenhines, Brecon LD3 7HY (Royal Albert Hall). Draft a map note.",
    "Who lives at 4 Privet Drive, Little Whinging? And at 221B Baker Street, London NW1 6XE? Make a quiz.",
    # a word talked about as a word, and the names of school products
    "Can you suggest a starter? Said is overused in my class's stories; give 20 alternatives to Said.",
    "How do Hegarty Maths, Dr Frost and Corbettmaths compare? And our new Lexia and Nessy licences?",
    # British school words and faiths listed in RE are no names (Islam is also a surname)
    "Rota for the summer fayre: Sat 10-12 tombola, 12-2 cakes. Put it in a grid.",
    "Plan an RE lesson on how different religions mourn (Islam, Judaism, Christianity, Sikhism).",
    # an exam board's, a dentist's, a scout hut's address; a school's postcode
    "The exam board's address is AQA, Devas Street, Manchester M15 6EX. Draft a covering letter.",
    "The dentist is Smile Dental, 4 High Street, Bala LL23 7AB. Write directions for the trip.",
    "Our Scout hut is at 12 Park Lane, Hereford HR1 2AB. Write the risk assessment.",
    "The school's postcode is SA1 8PP; write a letter head for Ysgol Bryntawe.",
    # a school named after a saint or ending with its kind, and the standard example name
    "Our address for the letterhead: St Eira's RC Primary, Green Lane, Bolton BL1 2AB.",
    "Return the forms to Exams Office, Bishop Hedley High School, Gwaelodygarth Road, Merthyr Tydfil CF47 9AH.",
    "Example for a lesson on addressing envelopes: Mr J Bloggs, 10 Any Street, Anytown AB1 2CD.",
])
def test_a_clean_prompt_passes_unchanged(clean_engine, text):
    d = clean_engine.scan([text])
    assert d.action == "allow" and d.texts == [text], d.excerpt


@pytest.mark.parametrize("text, redacted", [
    ("Lincoln did a brilliant talk on the Tudors. Write a praise note.",
     "[PUPIL_1] did a brilliant talk on the Tudors. Write a praise note."),
    ("Reply to Jordan's mum: the Chester trip leaves at 8.",
     "Reply to [PUPIL_1]'s mum: the Chester trip leaves at 8."),
    ("Lincoln Hayes went to Lincoln at half term and wrote about the cathedral.",
     "[PUPIL_1] went to Lincoln at half term and wrote about the cathedral."),
    ("April has been late three times this week.", "[PUPIL_1] has been late three times this week."),
    # (Tyler is not on this roster: a child all the same)
    ("How does Tyler present in lessons since the move? She seems withdrawn.",
     "How does [PERSON_1] present in lessons since the move? She seems withdrawn."),
    ("Jordan lives at 14 Heol Isaf, Radyr, CF15 8AH with his nan, not at the school.",
     "[PUPIL_1] lives at [ADDRESS_1], Radyr, [POSTCODE_1] with his nan, not at the school."),
    # in a letter in another language an English word that is a pupil's name is the pupil (Miles, Favour, June)
    ("Sayın veli, Miles bu dönem İngilizce derslerinde çok ilerleme kaydetti. Tebrikler!",
     "Sayın veli, [PUPIL_1] bu dönem İngilizce derslerinde çok ilerleme kaydetti. Tebrikler!"),
    # a name that is a word, before another name with a space only, is no list: "Can" asks
    ("Can Jordan sit with Miles in maths?", "Can [PUPIL_1] sit with [PUPIL_2] in maths?"),
    ("Haf, please sit down, and Eira, stop talking.", "[PUPIL_1], please sit down, and [PUPIL_2], stop talking."),
    ("Summer and Autumn did really well in the spelling test.",
     "[PUPIL_1] and [PUPIL_2] did really well in the spelling test."),
    ("Write a report comment for Miles Bishop: great effort in class.",
     "Write a report comment for [PUPIL_1]: great effort in class."),
    ("Mae Haf wedi gofyn am gael newid ei dewisiadau TGAU. Ysgrifenna lythyr at ei rhieni.",
     "Mae [PUPIL_1] wedi gofyn am gael newid ei dewisiadau TGAU. Ysgrifenna lythyr at ei rhieni."),
    ("Diolch am eich neges ynglŷn â Eira. Mae hi wedi setlo'n dda yn y dosbarth derbyn.",
     "Diolch am eich neges ynglŷn â [PUPIL_1]. Mae hi wedi setlo'n dda yn y dosbarth derbyn."),
    # a rota's days stay days beside the names it lists, though pupils are called Sun and Jan
    ("Duty rota: Mon - Mr Obi, Tue - Ms Grey, Wed - Mrs Lloyd, Sun - Mr Wood. Jan - mocks, Feb - options evening.",
     "Duty rota: Mon - Mr [PERSON_1], Tue - Ms [PERSON_2], Wed - Mrs [PUPIL_1], Sun - Mr [PUPIL_2]. Jan - mocks, "
     "Feb - options evening."),
])
def test_the_pupil_is_still_redacted(clean_engine, text, redacted):
    d = clean_engine.scan([text])
    assert d.action == "redact" and d.texts == [redacted], d.excerpt


@pytest.mark.parametrize("text", [
    "He now lives with his nan at 14 Nightingale Lane, Roath, Cardiff CF24 3PE. Write to her.",
    # a street named after a chapel or a church is a home's street as often
    "Reply to this letter:\n\n31a Stryd y Capel,\nEaston\nBRISTOL\nBS5 6XJ\n\nDear Mrs Fitzpatrick, ...",
    "Send the letter to her dad at 4 Church Lane, Bala LL23 7AB (evenings only).",
])
def test_a_home_address_is_still_redacted(clean_engine, text):
    d = clean_engine.scan([text])
    assert d.action == "redact"
    assert not any(part in d.texts[0] for part in ("Nightingale", "CF24", "BS5 6XJ", "LL23 7AB"))


@pytest.mark.parametrize("text, action", [
    # ordinary school events are redacted, not blocked
    ("Log this in the diary (NOT CPOMS): Alfie Wood lost his PE bag, found it in the bike shed.", "redact"),
    ("Sadia went missing from the lunch queue for ten minutes; turned out he was helping in the library.", "redact"),
    # a child missing or a disclosure still blocks
    ("Sadia went missing from home on Friday night and the police were called.", "block"),
    ("Log on CPOMS: Alfie Wood disclosed that his stepdad hits him.", "block"),
])
def test_only_a_real_safeguarding_event_blocks(clean_engine, text, action):
    d = clean_engine.scan([text])
    assert d.action == action, d.reasons
