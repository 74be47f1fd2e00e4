"""The hashed roster: keys, the file format, lookups, and the guarantee that no plaintext is stored."""
import os
import stat

import numpy as np
from hypothesis import given, settings, strategies as st
import pytest

from detectors.mis_import import import_mis_csv
from detectors.roster import (
    FULL_NAME, Roster, RosterBuilder, RosterError, RosterKey, RosterKeyError, hash_query, name_forms,
)
from detectors.normalise import fold

DATA = os.path.join(os.path.dirname(__file__), "data")
KEY = RosterKey(b"k" * 32)


@pytest.fixture(scope="module")
def sims_roster(tmp_path_factory):
    out = tmp_path_factory.mktemp("roster") / "sims.roster"
    import_mis_csv(os.path.join(DATA, "sims_utf8_bom.csv"), out, KEY)
    return out, Roster.load(out, KEY)


# -- key -------------------------------------------------------------------------------------------------
def test_key_file_is_created_0600_and_reused(tmp_path):
    path = tmp_path / "roster.key"
    key = RosterKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert RosterKey.load_or_create(path).fingerprint == key.fingerprint


def test_world_readable_key_file_is_refused(tmp_path):
    path = tmp_path / "roster.key"
    RosterKey.load_or_create(path)
    path.chmod(0o644)
    with pytest.raises(RosterKeyError, match="chmod 600"):
        RosterKey.load_or_create(path)


def test_key_from_env_hex_and_base64():
    hex_key = RosterKey.from_env({"PUPILGUARD_ROSTER_KEY": "ab" * 32})
    b64_key = RosterKey.from_env({"PUPILGUARD_ROSTER_KEY": "q" * 43 + "="})
    assert hex_key.fingerprint != b64_key.fingerprint
    assert RosterKey.from_env({}) is None
    with pytest.raises(RosterKeyError, match="PUPILGUARD_ROSTER_KEY"):
        RosterKey.from_env({"PUPILGUARD_ROSTER_KEY": "not a key!"})


def test_one_key_precedence_flag_env_file_default(tmp_path):
    """Proxy, doctor, scan and admin all pick the key the same way: flag > env > file > default."""
    def key(hexdigit: str) -> RosterKey:
        return RosterKey(bytes.fromhex(hexdigit * 64))

    for name, digit in (("flag.key", "a"), ("file.key", "b"), ("default.key", "c")):
        (tmp_path / name).write_text(digit * 64 + "\n")
        (tmp_path / name).chmod(0o600)
    flag, file, default = (tmp_path / n for n in ("flag.key", "file.key", "default.key"))
    env = {"PUPILGUARD_ROSTER_KEY": "d" * 64, "PUPILGUARD_ROSTER_KEY_FILE": str(file)}
    fingerprint = lambda k: k.fingerprint  # noqa: E731
    assert fingerprint(RosterKey.resolve(flag, default=default, environ=env)) == fingerprint(key("a"))
    assert fingerprint(RosterKey.resolve(None, default=default, environ=env)) == fingerprint(key("d"))
    del env["PUPILGUARD_ROSTER_KEY"]
    assert fingerprint(RosterKey.resolve(None, default=default, environ=env)) == fingerprint(key("b"))
    assert fingerprint(RosterKey.resolve(None, default=default, environ={})) == fingerprint(key("c"))
    with pytest.raises(RosterKeyError, match="no roster key"):
        RosterKey.resolve(None, environ={})


def test_short_key_rejected_and_repr_hides_secret():
    with pytest.raises(RosterKeyError):
        RosterKey(b"short")
    assert "kkkk" not in repr(KEY)


def test_hash_is_hmac_of_folded_form():
    assert KEY.hash("Zoë O'Brien") == KEY.hash("ZOE OBRIEN")
    assert KEY.hash("Zoë O'Brien") != RosterKey(b"j" * 32).hash("Zoë O'Brien")


# -- name forms ------------------------------------------------------------------------------------------
def test_name_forms_cover_orders_middle_names_and_compound_surnames():
    forms = name_forms(["Oliver", "Olly"], ["Smith-Jones"], "James")
    for full in ("oliver smith jones", "smith jones oliver", "olly smithjones", "oliver james smith jones",
                 "smith jones oliver james", "oliver smith", "olly jones"):
        assert forms[full] & FULL_NAME, full
    assert forms["smith"] and forms["jones"] and forms["olly"]
    assert "james" in forms and not forms["james"] & ~8  # a middle name alone is only a name part
    particles = name_forms(["Anna"], ["van der Berg"])
    assert particles["berg"] & 4 and particles["anna berg"] & FULL_NAME


# -- loading and lookups ---------------------------------------------------------------------------------
def test_lookups(sims_roster):
    _, roster = sims_roster
    ref = roster.match_full_name("Zoe", "O’BRIEN")
    assert ref and ref[0].startswith("P-")
    assert roster.match_full_name("OBrien,", "Zoë") == ref
    assert roster.match_full_name("Oliver", "James", "Smith-Jones") == roster.match_full_name("Olly", "Smith")
    assert roster.is_forename("anna") and roster.is_forename("Anneliese") and roster.is_surname("Berg")
    assert not roster.is_forename("Smith-Jones") and not roster.is_surname("Bartholomew")
    assert roster.match_full_name("Zoe", "Smith-Jones") == []  # two pupils' names are not one pupil
    assert roster.lookup_identifier("UPN", "x801200000001") == ref[0]
    assert roster.lookup_identifier("UPN", "L801200000002") != ref[0]
    assert roster.lookup_identifier("ULN", "9276308686") is None
    assert roster.pupil_ref_for_name("Nakamura-Oduya") == roster.pupil_ref_for_name("kobe nakamura oduya")


def test_find_pupils_by_name_or_upn(sims_roster):
    _, roster = sims_roster
    zoe = roster.match_full_name("Zoe", "O'Brien")
    assert roster.find_pupils("zoë o'brien") == zoe
    assert roster.find_pupils(" X801200000001 ") == zoe
    assert roster.find_pupils("Nobody Atall") == []
    assert len(hash_query(KEY, "X801200000001")) == 2  # as a name and as a UPN


def test_pupil_ref_is_stable_and_keyed(tmp_path):
    a = RosterBuilder(KEY).add_pupil(legal_forename="Ada", legal_surname="Lovelace", upns=["H801200001001"])[0]
    b = RosterBuilder(KEY).add_pupil(legal_forename="Augusta", legal_surname="King", upns=["h801200001001"])[0]
    other = RosterBuilder(RosterKey(b"z" * 32)).add_pupil(
        legal_forename="Ada", legal_surname="Lovelace", upns=["H801200001001"])[0]
    assert a == b != other


def test_wrong_key_fails_clearly(sims_roster):
    path, _ = sims_roster
    with pytest.raises(RosterKeyError, match="another key"):
        Roster.load(path, RosterKey(b"w" * 32))


def test_load_from_bytes_and_corrupt_files(sims_roster, tmp_path):
    path, roster = sims_roster
    assert len(Roster.load(path.read_bytes(), KEY)) == len(roster) == 4
    bad = tmp_path / "bad.roster"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RosterError):
        Roster.load(bad, KEY)
    with pytest.raises(RosterError, match="not found"):
        Roster.load(tmp_path / "missing.roster", KEY)


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    builder = RosterBuilder(KEY)
    builder.add_pupil(legal_forename="Ada", legal_surname="Lovelace")
    builder.write(tmp_path / "r.roster")
    assert [p.name for p in tmp_path.iterdir()] == ["r.roster"]


# -- the privacy guarantee --------------------------------------------------------------------------------
PLAINTEXT = ["Zoë", "Zoe", "O'Brien", "OBrien", "obrien", "Smith-Jones", "Oliver", "Olly", "James",
             "van der Berg", "Berg", "Anneliese", "Anna", "Nakamura", "Oduya", "Kwabena", "Tobias", "Kobe",
             "X801200000001", "L801200000002", "A801200000003", "801200000001", "03/04/2012", "2012-04-03",
             "Siobhán", "MacAllister", "Mohammed", "Al-Rashid", "Chloé", "D'Souza", "Renée", "Lefèvre", "Dubois",
             "9276308686", "4521873617", "G80120000101A", "Aleksandra", "Kowalczyk", "Featherstonehaugh",
             "Okonkwo", "Súilleabháin", "Niamh", "Thorncliffe"]


@pytest.mark.parametrize("fixture", ["sims_utf8_bom.csv", "arbor.csv", "bromcom.csv", "wonde.csv",
                                     "xporter_cp1252.csv", "malformed.csv"])
def test_roster_file_holds_no_plaintext_name_or_identifier(fixture, tmp_path):
    out = tmp_path / "r.roster"
    import_mis_csv(os.path.join(DATA, fixture), out, KEY)
    blob = out.read_bytes()
    import zipfile
    with zipfile.ZipFile(out) as z:  # also inside the (uncompressed) members, to be sure
        blob += b"".join(z.read(n) for n in z.namelist())
    for value in PLAINTEXT:
        for variant in {value, value.upper(), value.lower(), fold(value)}:
            for encoding in ("utf-8", "cp1252", "utf-16-le", "utf-16-be", "utf-32-le"):
                try:
                    needle = variant.encode(encoding)
                except UnicodeEncodeError:
                    continue
                assert needle not in blob, (fixture, encoding)


def test_roster_arrays_are_compact_types(sims_roster):
    path, _ = sims_roster
    with np.load(path) as npz:
        assert npz["keys"].dtype == np.uint64 and np.all(np.diff(npz["keys"].astype(np.float64)) >= 0)
        assert npz["refs"].dtype.kind == "S"
        assert set(npz.files) == {"header", "keys", "flags", "offsets", "members", "refs"}


def test_unwritable_paths_give_clear_errors(tmp_path):
    with pytest.raises(RosterKeyError, match="cannot create key file"):
        RosterKey.load_or_create(tmp_path / "no" / "such" / "dir" / "roster.key")
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    bad.chmod(0o600)
    with pytest.raises(RosterKeyError, match="bad.key"):
        RosterKey.load_or_create(bad)
    builder = RosterBuilder(KEY)
    builder.add_pupil(legal_forename="Ada", legal_surname="Lovelace")
    with pytest.raises(RosterError, match="cannot write roster"):
        builder.write(tmp_path / "no" / "such" / "r.roster")


_name = st.from_regex(r"[A-Z][a-zéëöçñ]{1,8}(['-][A-Z][a-z]{1,6})?", fullmatch=True)


@given(_name, _name)
@settings(max_examples=60, deadline=None)
def test_any_name_round_trips_in_any_spelling(forename, surname):
    import io

    builder = RosterBuilder(KEY)
    ref, _ = builder.add_pupil(legal_forename=forename, legal_surname=surname)
    buffer = io.BytesIO()
    builder.write(buffer)
    roster = Roster.load(buffer.getvalue(), KEY)
    assert roster.match_full_name(forename, surname) == [ref]
    assert roster.match_full_name(surname.upper() + ",", forename.lower()) == [ref]
    assert roster.match_full_name(fold(forename), fold(surname)) == [ref]
    assert roster.is_forename(forename) and roster.is_surname(surname)
