"""The special-category rule on the whole request (a name in one sentence, the need in the next), correspondents
who only greet or sign, and the words and false names that used to block ordinary requests."""
import pytest


@pytest.mark.parametrize("text", [
    "Kacper Nowicki starts with us on Monday. Her plan mentions SEMH needs and a history of self-harm.",
    "We have a new starter, Amira Haddad, joining after half term. She has an EHCP for autism.",
    "Please draft a welcome letter for Jayden Price.\nHe is on a child protection plan, so keep it short.",
    "Summarise the transfer notes for Amira Haddad, arriving on a managed move. Diagnosis: ADHD, medication at lunch.",
    "Mae disgybl newydd, Siân Jones, yn ymuno â ni ddydd Llun. Mae ganddi CDU ac mae'n cael prydau ysgol am ddim.",
])
def test_a_named_child_and_a_need_in_different_sentences_blocks(engine, text):
    d = engine.scan([text])
    assert d.action == "block" and d.reasons == ["special_category_with_identifier"]


def test_the_name_and_the_need_in_different_texts_of_one_request_block(engine):
    # a chat sends its earlier messages along: the name in one, the need in the next
    d = engine.scan(["Can you help me write to Kacper Nowicki's parents?", "He has been self-harming."])
    assert d.action == "block"


@pytest.mark.parametrize("text", [
    "Any tips for supporting pupils with dyslexia in KS3 English? Thanks, Kerry",
    "Can you suggest reasonable adjustments for a pupil with autism in my Year 9 class?\n\nKind regards,\nKerry Doyle",
    "Hi Mrs Shah,\nCould you send me the school's guidance on supporting pupils with epilepsy on trips?",
    "Annwyl Siân,\nA oes gennych chi adnoddau ar gefnogi disgyblion ag ADY yn y dosbarth?\nCofion,\nGethin",
])
def test_a_staff_name_that_only_greets_or_signs_a_general_question_is_redacted_not_blocked(engine, text):
    d = engine.scan([text])
    assert d.action == "redact" and d.reasons == ["identifier_redacted"]
    assert d.entity_counts.get("PERSON", 0) >= 1


@pytest.mark.parametrize("text", [
    "My son has ADHD and autism, can you help me write to his teacher?\nThanks,\nHalima Yusuf",
    "Dear Mrs Khan,\nThank you for letting us know about your daughter's asthma; we have updated her care plan.",
    "Annwyl Mr Evans,\nDiolch am ddweud wrthym am ddiabetes eich mab.",
])
def test_a_correspondent_whose_child_it_is_blocks(engine, text):
    assert engine.scan([text]).action == "block"


def test_a_colleague_named_in_passing_and_a_general_question_is_not_blocked(engine):
    text = "Mrs Okafor asked me to plan a staff CPD session. What are the main signs of dyslexia to look out for?"
    d = engine.scan([text])
    assert d.action == "redact" and d.texts == [text.replace("Okafor", "[PERSON_1]")]


def test_a_newcomer_with_a_pupils_forename_and_a_surname_no_pupil_has_is_named_and_blocks(tmp_path):
    from tests.support.detectors import engine_for_roster

    engine = engine_for_roster("Forename,Surname,Year\nPrecious,Okafor,8\n", tmp_path)
    text = "New pupil joining 8M on Monday: Precious Adeyinka. Her file mentions she's a young carer and CP concerns."
    assert engine.scan([text]).action == "block"
    d = engine.scan(["New pupil joining 8M on Monday: Precious Adeyinka. Plan her induction."])
    assert d.texts == ["New pupil joining 8M on Monday: [PERSON_1]. Plan her induction."]


def test_a_member_of_staff_named_with_their_job_is_not_whom_the_terms_are_about(roster_engine):
    # Priya is also a pupil's forename on the test roster: with "(our SENCo)" beside it, she is staff
    d = roster_engine.scan(["Ask Priya (our SENCo) whether the exam access arrangements are in."])
    assert d.action == "redact"
    assert d.texts == ["Ask [PERSON_1] (our SENCo) whether the exam access arrangements are in."]
    assert roster_engine.scan(["Ask Priya (our SENCo) about Oliver Smith's EHCP."]).action == "block"
    assert roster_engine.scan(["Priya has dyslexia; her mum asked for the SENCo."]).action == "block"


# -- words that are only sometimes sensitive ------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Write a thank-you note to Mrs Okafor, whose father passed away last year, for running the book fair.",
    "Write a short tribute to Mr John Davies, our caretaker, who passed away last week.",
    "Ask Jayden Price's parents to confirm he has withdrawn from the Year 8 trip.",
    "Jayden Price's PE kit went missing on Tuesday, please draft a note home.",
    "Draft a reply to Mrs Ahmed: Zara has been withdrawn from RE lessons at the family's request.",
    "Jayden Price is anxious about his first netball match; write an encouraging note.",
    'Jayden Price says he is "allergic to homework" - write a funny reply for the newsletter.',
    "Ella Morris chose 'depression in the 1930s' as her history topic.",
    "Jayden Price played a refugee in the school play and was superb.",
    "Ella Morris wants to know if the school counsellor role is a good career.",
    "Jayden Price lost his dad's watch on the field and was worried.",
    "Ella Morris wrote a moving poem about her grandad who died in the war.",
    "Ella Morris wants to be a social worker when she grows up.",
    "Jayden Price fostered two kittens over the summer and wrote about it.",
    "Ella Morris is doing a presentation on diabetes for science week.",
    "Jayden Price asked what ADHD means after the assembly.",
    "Jayden Price wrote a speech about knife crime for the debating club.",
    "Ella Morris has been chosen as a young carer ambassador for the charity's campaign.",
])
def test_ordinary_senses_are_redacted_not_blocked(engine, text):
    d = engine.scan([text])
    assert d.action == "redact", d.entity_counts
    assert not any(k.startswith("SPECIAL_CATEGORY") for k in d.entity_counts)


@pytest.mark.parametrize("text", [
    "Jayden Price went missing from home on Saturday night.",
    "Jayden Price has become very withdrawn and quiet in lessons.",
    "Ella Morris's mum passed away at Easter; draft a note to staff.",
    "Ella Morris has been grieving since her dad passed away.",
    "Amira Haddad ran away from her foster placement at the weekend.",
    "Jayden Price lost his dad in March and is seeing the school counsellor.",
    "Ella Morris came to the UK as a refugee last year.",
    "Jayden Price was adopted when he was two.",
    "Ella Morris has diabetes and needs her snacks before PE.",
])
def test_the_sensitive_senses_still_block(engine, text):
    assert engine.scan([text]).action == "block"


@pytest.mark.parametrize("text", [
    "How should staff log a concern on MyConcern? Write a one-page guide.",
    "Summarise Ofsted's guidance on SEMH for governors.",
    "Compare Kooth and Childline as support for pupils with anxiety.",
    "Write guidance on using Arbor to record SEN support.",
    "Outline ADHD strategies for a busy Year 7 classroom.",
    "Rhowch ganllawiau ar ddefnyddio MyConcern i gofnodi pryder diogelu.",
])
def test_generic_guidance_naming_a_system_or_acronym_passes_unchanged(engine, text):
    d = engine.scan([text])
    assert d.action == "allow" and d.texts == [text]
