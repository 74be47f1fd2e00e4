"""`pupilguard doctor` finds what is wrong with a proxy node and says what to do, and passes a healthy one."""
import os
import stat

from mitmproxy import certs

from detectors.cli import main
from detectors.mis_import import import_mis_csv
from detectors.roster import RosterKey

ALLOWLIST = """\
version: 1
policy_url: https://school.example/ai-policy
profiles:
  staff: {subnets: [10.0.0.0/16]}
default_profile: staff
default_status: blocked
tools:
  chatgpt: {staff: approved}
"""
ROSTER_CSV = "Legal Surname,Legal Forename,UPN,DOB\nSmith,Oliver,H801200001001,01/09/2012\n"


def _node(tmp_path, *, key_mode=0o600):
    """A proxy data dir laid out as `pupilguard proxy` leaves it, with a real mitmproxy CA."""
    data = tmp_path / "data"
    (data / "ca").mkdir(parents=True)
    store = certs.CertStore.from_store(data / "ca", "mitmproxy", 2048)
    (data / "pupilguard-ca.pem").write_bytes(store.default_ca.to_pem())
    for key in (data / "ca").glob("*ca.pem"):
        key.chmod(key_mode)
    (tmp_path / "allowlist.yaml").write_text(ALLOWLIST)
    (tmp_path / "roster.csv").write_text(ROSTER_CSV)
    key_file = tmp_path / "roster.key"
    import_mis_csv(tmp_path / "roster.csv", tmp_path / "roster.pgr", RosterKey.load_or_create(key_file))
    return ["doctor", "--data-dir", str(data), "--allowlist", str(tmp_path / "allowlist.yaml"),
            "--roster", str(tmp_path / "roster.pgr"), "--key-file", str(key_file)]


def test_healthy_node_passes(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY", raising=False)
    assert main(_node(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "1 pupils loaded" in out and "✗" not in out


def test_world_readable_ca_key_fails_with_the_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY", raising=False)
    assert main(_node(tmp_path, key_mode=0o644)) == 1
    out = capsys.readouterr().out
    assert "readable by others" in out and "chmod 600" in out


def test_wrong_roster_key_and_bad_allowlist_are_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY", raising=False)
    argv = _node(tmp_path)
    (tmp_path / "roster.key").write_text(os.urandom(32).hex() + "\n")  # not the key the roster was made with
    (tmp_path / "allowlist.yaml").write_text("version: 1\ntools: [oops\n")
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "does not load" in out
    assert "Allowlist" in out and out.count("✗") >= 2


def test_unreachable_admin_service_is_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY", raising=False)
    argv = _node(tmp_path) + ["--admin-url", "http://127.0.0.1:9"]  # discard port: nothing listens
    assert main(argv) == 1
    assert "unreachable" in capsys.readouterr().out
