"""`pupilguard doctor` checks a proxy node as the proxy runs it, finds what is wrong and says what to do."""
import json
import os
import socket
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from mitmproxy import certs

from detectors.cli import main
from detectors.mis_import import import_mis_csv
from detectors.roster import RosterKey

# Only the OpenAI API is approved, and the node routes it to a loopback address: no test leaves this machine.
ALLOWLIST = """\
version: 1
profiles:
  staff: {subnets: [10.0.0.0/16]}
default_profile: staff
default_status: blocked
tools:
  openai-api: {staff: approved}
  chatgpt: {staff: blocked}
"""
ROSTER_CSV = "Legal Surname,Legal Forename,UPN,DOB\nSmith,Oliver,H801200001001,01/09/2012\n"


@pytest.fixture
def listening():
    """A loopback port that accepts connections (the proxy's port, or a routed AI service)."""
    sockets = []

    def open_port() -> int:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sockets.append(sock)
        return sock.getsockname()[1]

    yield open_port
    for sock in sockets:
        sock.close()


def _ca(data, *, days: int | None = None, key_mode=0o600):
    """The proxy's CA as `pupilguard proxy` leaves it; with `days`, one that expires that many days from now."""
    (data / "ca").mkdir(parents=True)
    if days is None:
        store = certs.CertStore.from_store(data / "ca", "mitmproxy", 2048)
        (data / "pupilguard-ca.pem").write_bytes(store.default_ca.to_pem())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pupilguard CA (old)")])
        now = datetime.now(timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=3650))
                .not_valid_after(now + timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        pem = cert.public_bytes(serialization.Encoding.PEM)
        (data / "pupilguard-ca.pem").write_bytes(pem)
        (data / "ca" / "mitmproxy-ca.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()) + pem)
    for key_file in (data / "ca").glob("*ca.pem"):
        key_file.chmod(key_mode)


def _node(tmp_path, listening, *, ai_port=None, ca_days=None, key_mode=0o600):
    """A proxy node's files and the proxy's command line, as a systemd unit would run it."""
    data = tmp_path / "a path long enough that a table would have shortened it" / "proxy"
    _ca(data, days=ca_days, key_mode=key_mode)
    (tmp_path / "allowlist.yaml").write_text(ALLOWLIST)
    (tmp_path / "roster.csv").write_text(ROSTER_CSV)
    key_file = tmp_path / "roster.key"
    import_mis_csv(tmp_path / "roster.csv", tmp_path / "roster.pgr", RosterKey.load_or_create(key_file))
    ai_port = ai_port or listening()
    return data, ["proxy", "--listen", f"127.0.0.1:{listening()}", "--data-dir", str(data),
                  "--allowlist", str(tmp_path / "allowlist.yaml"), "--roster", str(tmp_path / "roster.pgr"),
                  "--key-file", str(key_file), "--route", f"api.openai.com=127.0.0.1:{ai_port}"]


def _doctor(capsys, proxy_command, *extra) -> tuple[int, dict]:
    code = main(["doctor", "--json", *extra, "--", *proxy_command])
    report = json.loads(capsys.readouterr().out)
    return code, {check["name"]: check for check in report["checks"]}


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY", raising=False)
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY_FILE", raising=False)


def test_healthy_node_passes_and_paths_are_printed_whole(tmp_path, capsys, listening):
    data, command = _node(tmp_path, listening)
    assert main(["doctor", "--", *command]) == 0
    out = capsys.readouterr().out
    assert "✗" not in out, out
    assert f"{data / 'pupilguard-ca.pem'} (" in out  # the file IT distributes, never shortened
    assert "1 pupils" in out and "1 hosts of 1 approved tools reachable" in out
    assert "loads" in out  # the language model


def test_unit_and_its_env_file_are_what_doctor_checks(tmp_path, capsys, listening):
    """Doctor reads the installed unit with its EnvironmentFile, expanded as systemd does."""
    data, command = _node(tmp_path, listening)
    env_file = tmp_path / "proxy.env"
    listen = command[command.index("--listen") + 1]
    env_file.write_text(f"PUPILGUARD_LISTEN={listen}\nPUPILGUARD_PROXY_OPTIONS=--route {command[-1]}\n")
    unit = tmp_path / "pupilguard-proxy.service"
    unit.write_text(f"""[Service]
EnvironmentFile={env_file}
ExecStart=/opt/pupilguard/venv/bin/pupilguard proxy \\
    --listen ${{PUPILGUARD_LISTEN}} --data-dir "{data}" --allowlist {tmp_path / 'allowlist.yaml'} \\
    --key-file {tmp_path / 'roster.key'} \\
    $PUPILGUARD_PROXY_OPTIONS
""")
    code, checks = _doctor(capsys, [], "--unit", str(unit), "--skip-model")
    assert code == 0, checks
    assert checks["Proxy"]["found"] == f"listening on {listen}"
    assert checks["AI services"]["status"] == "ok"  # the route came from the env file
    assert checks["Roster"]["status"] == "warn"     # this unit gives no roster, and doctor says so


def test_unreachable_ai_host_is_named(tmp_path, capsys, listening):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        _, command = _node(tmp_path, listening, ai_port=closed.getsockname()[1])
        code, checks = _doctor(capsys, command, "--skip-model")
    finally:
        closed.close()
    assert code == 1
    ai = checks["AI services"]
    assert ai["status"] == "fail"
    assert "OpenAI API" in ai["found"] and "api.openai.com" in ai["found"] and "firewall" in ai["fix"]


@pytest.mark.parametrize("days, status, words", [(20, "warn", "expires in"), (-1, "fail", "expired")])
def test_expiring_and_expired_ca_are_reported(tmp_path, capsys, listening, days, status, words):
    _, command = _node(tmp_path, listening, ca_days=days)
    code, checks = _doctor(capsys, command, "--skip-model")
    ca = checks["CA certificate"]
    assert ca["status"] == status and words in ca["found"] and "distribute" in ca["fix"]
    assert code == (1 if status == "fail" else 0)


def test_world_readable_ca_key_fails_with_the_fix(tmp_path, capsys, listening):
    _, command = _node(tmp_path, listening, key_mode=0o644)
    code, checks = _doctor(capsys, command, "--skip-model")
    assert code == 1
    assert "readable by others" in checks["CA private key"]["found"]
    assert "chmod 600" in checks["CA private key"]["fix"]


def test_wrong_roster_key_and_bad_allowlist_are_reported(tmp_path, capsys, listening):
    _, command = _node(tmp_path, listening)
    (tmp_path / "roster.key").write_text(os.urandom(32).hex() + "\n")  # not the key the roster was made with
    (tmp_path / "allowlist.yaml").write_text("version: 1\ntools: [oops\n")
    code, checks = _doctor(capsys, command, "--skip-model")
    assert code == 1
    assert "does not load" in checks["Roster"]["found"]
    assert checks["Allowlist"]["status"] == "fail"


def test_stopped_proxy_and_unreachable_admin_service_are_reported(tmp_path, capsys, listening):
    _, command = _node(tmp_path, listening)
    command[command.index("--listen") + 1] = "127.0.0.1:9"   # discard port: nothing listens
    code, checks = _doctor(capsys, command + ["--admin-url", "http://127.0.0.1:9"], "--skip-model")
    assert code == 1
    assert checks["Proxy"]["status"] == "fail" and "systemctl start pupilguard-proxy" in checks["Proxy"]["fix"]
    assert "unreachable" in checks["Admin service"]["found"]


def test_free_disk_is_reported(tmp_path, capsys, listening):
    data, command = _node(tmp_path, listening)
    _, checks = _doctor(capsys, command, "--skip-model")
    assert checks["Disk"]["found"].endswith(f"GiB free for {data}")
